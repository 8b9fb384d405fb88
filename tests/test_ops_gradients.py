"""Every differentiable op of the table: backward agrees with finite differences, forward with NumPy.

The tests are generated from ``op_table.OPS``: random shapes (broadcast pairs,
every axis form, keepdim), float64 values drawn from each op's domain.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from op_table import GRID, OPS, OPS_BY_NAME, examples

from tinygrad_edu import Tensor, gradcheck


def _call(op, arrays, params):
    tensors = [Tensor(array, requires_grad=True) for array in arrays]
    return tensors, op.fn(*tensors, **params)


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
@given(data=st.data())
def test_gradient_matches_finite_differences(op, data):
    arrays, params = data.draw(examples(op), label="inputs, params")
    tensors = [Tensor(array, requires_grad=True) for array in arrays]
    assert gradcheck(lambda *ts: op.fn(*ts, **params), tensors)


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
@given(data=st.data())
def test_forward_matches_numpy_formula(op, data):
    arrays, params = data.draw(examples(op), label="inputs, params")
    originals = [array.copy() for array in arrays]
    _, out = _call(op, arrays, params)
    expected = np.asarray(op.reference(*originals, **params))
    assert out.shape == expected.shape
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.data, expected, rtol=1e-10, atol=1e-12)
    for array, original in zip(arrays, originals):  # ops never write into their inputs
        np.testing.assert_array_equal(array, original)


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
@given(data=st.data())
def test_gradient_has_each_inputs_shape_and_dtype(op, data):
    arrays, params = data.draw(examples(op), label="inputs, params")
    tensors = [Tensor(array.astype(np.float32), requires_grad=True) for array in arrays]
    out = op.fn(*tensors, **params)
    out.backward(np.ones(out.shape, dtype=np.float32))
    for tensor in tensors:
        assert tensor.grad is not None
        assert tensor.grad.shape == tensor.shape
        assert tensor.grad.dtype == np.float32


# ---------------------------------------------------------------- the table itself

API_OPS = {  # every differentiable op of API.md's Tensor section -> the table entries that exercise it
    "+": ["add", "add_scalar", "radd_scalar"], "-": ["sub", "sub_scalar", "rsub_scalar"],
    "*": ["mul", "mul_scalar", "rmul_scalar"], "/": ["div", "div_scalar", "rdiv_scalar"],
    "**": ["pow", "pow_scalar", "pow_integer_negative_base", "rpow_scalar"], "neg": ["neg"],
    "@": ["matmul", "matmul_method"],
    **{name: [name] for name in [
        "exp", "log", "sqrt", "abs", "relu", "leaky_relu", "sigmoid", "tanh", "softplus", "gelu", "clip",
        "maximum", "minimum", "where", "sum", "mean", "max", "min", "var", "std", "logsumexp", "softmax",
        "log_softmax", "reshape", "flatten", "permute", "transpose", "squeeze", "unsqueeze", "expand", "pad",
        "cat", "stack", "T", "conv2d", "max_pool2d", "avg_pool2d"]},
    "getitem": ["getitem_basic", "getitem_int_array", "getitem_bool_mask"],
}

API_OPS.update({name: [name] for name in [  # API.md "From tutorials to language models" and issue 11 item 2
    "masked_fill", "tril", "triu", "split", "chunk", "cumsum", "prod", "sin", "cos", "log1p", "expm1", "square",
    "reciprocal", "rsqrt", "sign", "floor", "ceil", "round", "erf", "einsum", "tan", "sinh", "cosh", "asin", "acos",
    "atan", "asinh", "acosh", "atanh", "log2", "log10", "exp2", "relu6", "hardswish", "hardsigmoid", "mish", "elu",
    "selu", "logsigmoid", "softsign", "tensordot", "outer", "repeat_interleave", "roll", "flip", "diagonal",
    "diag_embed", "trace", "sort", "topk", "conv1d"]})


def test_table_covers_every_differentiable_op_of_the_api():
    names = {op.name for op in OPS}
    missing = {api: entries for api, entries in API_OPS.items() if not set(entries) <= names}
    assert not missing


@given(data=st.data())
def test_distinct_domain_gives_values_at_least_a_grid_step_apart(data):
    arrays, _ = data.draw(examples(OPS_BY_NAME["maximum"]))
    values = np.sort(np.concatenate([array.ravel() for array in arrays]))
    assert np.all(np.diff(values) >= GRID - 1e-12)


@given(data=st.data())
def test_broadcast_pairs_broadcast_and_kink_domains_avoid_the_kink(data):
    arrays, _ = data.draw(examples(OPS_BY_NAME["div"]))
    np.broadcast_shapes(arrays[0].shape, arrays[1].shape)
    assert np.all(np.abs(arrays[1]) > 0.1)
