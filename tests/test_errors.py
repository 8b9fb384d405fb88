"""Bad input raises the right exception type, from the user's call, with a message naming the problem.

Every check also asserts that the traceback does not end inside NumPy: the
error is raised (or re-raised) by tinygrad_edu, which names the op and shapes.
"""
import os

import numpy as np
import pytest

from tinygrad_edu import Function, Tensor

NUMPY_DIR = os.path.dirname(os.path.abspath(np.__file__))


def check_raises(exception, call, *substrings):
    """Run ``call``; it must raise ``exception`` whose message holds every substring, not from inside NumPy."""
    with pytest.raises(exception) as info:
        call()
    message = str(info.value)
    for substring in substrings:
        assert substring in message, f"{substring!r} not in {message!r}"
    tb = info.tb
    while tb.tb_next is not None:
        tb = tb.tb_next
    last_file = os.path.abspath(tb.tb_frame.f_code.co_filename)
    assert not last_file.startswith(NUMPY_DIR), f"the traceback ends inside NumPy ({last_file})"
    return info.value


def t(*shape, requires_grad=True):
    return Tensor(np.ones(shape), requires_grad=requires_grad)


# ---------------------------------------------------------------- construction

@pytest.mark.parametrize("data, named", [("abc", "str"), (None, "NoneType"), ({"a": 1}, "dict"), ([1, "a"], "'a'")])
def test_non_numeric_data_raises_type_error_naming_it(data, named):
    check_raises(TypeError, lambda: Tensor(data), named)


def test_ragged_lists_raise_value_error():
    check_raises(ValueError, lambda: Tensor([[1.0, 2.0], [3.0]]), "ragged")


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.bool_])
def test_requires_grad_on_a_non_floating_tensor_raises_type_error_naming_the_dtype(dtype):
    check_raises(TypeError, lambda: Tensor([1, 0], dtype=dtype, requires_grad=True), np.dtype(dtype).name)


def test_requires_grad_on_an_integer_tensor_later_raises_too():
    integers = Tensor(np.array([1, 2]), dtype=np.int64)
    check_raises(TypeError, lambda: integers.requires_grad_(), "int64")


# ---------------------------------------------------------------- shapes

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
    "maximum": lambda a, b: a.maximum(b),
    "minimum": lambda a, b: a.minimum(b),
    "where": lambda a, b: Tensor.where(np.ones(a.shape, dtype=bool), a, b),
}


@pytest.mark.parametrize("op", list(BINARY))
def test_incompatible_shapes_raise_value_error_naming_the_op_and_both_shapes(op):
    check_raises(ValueError, lambda: BINARY[op](t(2, 3), t(4)), op, "(2, 3)", "(4,)")


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_incompatible_numpy_operand_on_the_left_is_named_too(op):
    check_raises(ValueError, lambda: BINARY[op](np.ones((2, 3)), t(4)), op, "(2, 3)", "(4,)")


def test_where_condition_that_does_not_broadcast_names_its_shape():
    check_raises(ValueError, lambda: Tensor.where(np.ones(2, dtype=bool), t(3), t(3)), "where", "(2,)", "(3,)")


@pytest.mark.parametrize("shape_a, shape_b", [((2, 3), (4, 5)), ((3,), (4,)), ((2, 3), (4,)), ((5,), (4, 2))])
def test_matmul_inner_size_mismatch_names_both_shapes(shape_a, shape_b):
    check_raises(ValueError, lambda: t(*shape_a) @ t(*shape_b), "matmul", str(shape_a), str(shape_b))


def test_matmul_batch_axes_that_do_not_broadcast_name_both_shapes():
    check_raises(ValueError, lambda: t(2, 2, 3) @ t(3, 3, 4), "matmul", "(2, 2, 3)", "(3, 3, 4)")


AXIS_OPS = {
    "sum": lambda x, axis: x.sum(axis=axis),
    "mean": lambda x, axis: x.mean(axis=axis),
    "max": lambda x, axis: x.max(axis=axis),
    "min": lambda x, axis: x.min(axis=axis),
    "var": lambda x, axis: x.var(axis=axis),
    "std": lambda x, axis: x.std(axis=axis),
    "logsumexp": lambda x, axis: x.logsumexp(axis=axis),
    "softmax": lambda x, axis: x.softmax(axis=axis),
    "log_softmax": lambda x, axis: x.log_softmax(axis=axis),
    "argmax": lambda x, axis: x.argmax(axis=axis),
    "cat": lambda x, axis: Tensor.cat([x, x], axis=axis),
    "transpose": lambda x, axis: x.transpose(0, axis),
    "flatten": lambda x, axis: x.flatten(axis),
    "unsqueeze": lambda x, axis: x.unsqueeze(axis + 1 if axis > 0 else axis - 1),
    "stack": lambda x, axis: Tensor.stack([x, x], axis=axis + 1 if axis > 0 else axis - 1),
}


@pytest.mark.parametrize("op", list(AXIS_OPS))
@pytest.mark.parametrize("axis", [2, -3])
@pytest.mark.parametrize("catch", [IndexError, ValueError])
def test_axis_out_of_range_is_both_an_index_error_and_a_value_error(op, axis, catch):
    check_raises(catch, lambda: AXIS_OPS[op](t(2, 3), axis), op, str(axis if op not in ("unsqueeze", "stack")
                                                                       else (axis + 1 if axis > 0 else axis - 1)))


def test_axis_out_of_range_inside_a_tuple_is_named():
    check_raises(IndexError, lambda: t(2, 3).sum(axis=(0, 5)), "sum", "5")


def test_reshape_to_a_wrong_size_names_both_sizes():
    check_raises(ValueError, lambda: t(2, 3).reshape(4, 2), "reshape", "(2, 3)", "6", "(4, 2)", "8")


def test_reshape_with_an_impossible_minus_one_names_the_shapes():
    check_raises(ValueError, lambda: t(2, 3).reshape(4, -1), "reshape", "(2, 3)", "(4, -1)")


def test_cat_shape_mismatch_names_both_shapes():
    check_raises(ValueError, lambda: Tensor.cat([t(2, 3), t(3, 2)], axis=0), "cat", "(2, 3)", "(3, 2)")


def test_stack_shape_mismatch_names_both_shapes():
    check_raises(ValueError, lambda: Tensor.stack([t(2, 3), t(3, 2)]), "stack", "(2, 3)", "(3, 2)")


def test_expand_to_an_incompatible_shape_names_both():
    check_raises(ValueError, lambda: t(3).expand(2, 4), "expand", "(3,)", "(2, 4)")


def test_conv2d_channel_mismatch_names_channels_and_shapes():
    check_raises(ValueError, lambda: t(1, 2, 4, 4).conv2d(t(3, 1, 2, 2)), "conv2d", "2 channels", "(1, 2, 4, 4)",
                 "(3, 1, 2, 2)")


def test_conv2d_kernel_larger_than_the_image_is_named():
    check_raises(ValueError, lambda: t(1, 1, 2, 2).conv2d(t(1, 1, 3, 3)), "conv2d", "kernel")


# ---------------------------------------------------------------- indexing

def test_index_out_of_range_raises_index_error_naming_the_shape():
    check_raises(IndexError, lambda: t(3)[5], "5", "(3,)")


def test_integer_array_index_out_of_range_raises_index_error():
    check_raises(IndexError, lambda: t(3, 2)[np.array([0, 3])], "3", "(3, 2)")


def test_float_index_raises_index_error():
    check_raises(IndexError, lambda: t(3)[1.5], "1.5")


def test_float_array_index_raises_index_error_naming_the_dtype():
    check_raises(IndexError, lambda: t(3)[np.array([0.5])], "float64")


def test_boolean_mask_of_the_wrong_length_raises_index_error():
    check_raises(IndexError, lambda: t(3)[np.array([True, False])], "(3,)")


# ---------------------------------------------------------------- backward

def test_backward_on_a_non_scalar_without_gradient_raises_runtime_error():
    check_raises(RuntimeError, lambda: (t(3) * 2).backward(), "scalar", "(3,)")


def test_backward_with_a_gradient_of_the_wrong_shape_names_both_shapes():
    check_raises((ValueError, RuntimeError), lambda: (t(3) * 2).backward(np.ones(2)), "(2,)", "(3,)")


def test_backward_on_a_tensor_that_does_not_require_grad_raises_runtime_error():
    check_raises(RuntimeError, lambda: (t(3, requires_grad=False) * 2).sum().backward(), "require")


def test_custom_backward_returning_the_wrong_number_of_gradients_is_named():
    class TwoInputs(Function):
        def forward(ctx, a, b):
            return a + b

        def backward(ctx, grad_output):
            return grad_output

    out = TwoInputs.apply(t(2), t(2)).sum()
    check_raises(RuntimeError, out.backward, "twoinputs", "1 gradients", "2 inputs")


def test_item_of_a_multi_element_tensor_names_the_shape():
    check_raises(ValueError, lambda: t(2, 3).item(), "(2, 3)")
