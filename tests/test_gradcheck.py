"""numerical_grad, gradcheck and gradgradcheck: values, non-scalar outputs, what they catch and what they leave alone."""
import numpy as np
import pytest

from tinygrad_edu import Function, GradcheckError, Tensor, gradcheck, gradgradcheck, numerical_grad


def leaf(values, dtype=np.float64):
    return Tensor(np.asarray(values, dtype=dtype), requires_grad=True)


# ---------------------------------------------------------------- numerical_grad

def test_numerical_grad_of_a_cubic_sum_is_3x_squared():
    x = leaf([0.5, -1.0, 2.0])
    (gradient,) = numerical_grad(lambda t: (t * t * t).sum(), [x])
    assert gradient.dtype == np.float64 and gradient.shape == (3,)
    np.testing.assert_allclose(gradient, 3 * x.data ** 2, rtol=1e-7)


def test_numerical_grad_gives_none_for_inputs_that_do_not_require_grad():
    a, b = leaf([1.0, 2.0]), Tensor(np.array([3.0, 4.0]))
    grad_a, grad_b = numerical_grad(lambda x, y: (x * y).sum(), [a, b])
    np.testing.assert_allclose(grad_a, [3.0, 4.0], rtol=1e-7)
    assert grad_b is None


def test_numerical_grad_weights_a_non_scalar_output_by_grad_output():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    weights = np.array([[1.0, 0.0], [2.0, -1.0]])
    (gradient,) = numerical_grad(lambda t: t * t, [x], grad_output=weights)
    np.testing.assert_allclose(gradient, 2 * x.data * weights, rtol=1e-7, atol=1e-9)


def test_numerical_grad_works_in_float64_for_float32_inputs_and_leaves_them_untouched():
    x = leaf([0.1, 0.7], dtype=np.float32)
    before = x.data.copy()
    (gradient,) = numerical_grad(lambda t: t.exp().sum(), [x])
    assert gradient.dtype == np.float64
    np.testing.assert_allclose(gradient, np.exp(before.astype(np.float64)), rtol=1e-8)
    assert np.array_equal(x.data, before) and x.grad is None


# ---------------------------------------------------------------- gradcheck

def test_gradcheck_passes_for_a_correct_non_scalar_output():
    assert gradcheck(lambda a, b: (a @ b).tanh(), [leaf(np.ones((2, 3)) * 0.3), leaf(np.eye(3)[:, :2])])


class SwappedIdentity(Function):
    """f(x) = x, but backward swaps the two gradient entries: right for an all-ones output gradient only."""

    def forward(ctx, x):
        return x.copy()

    def backward(ctx, grad_output):
        return grad_output.data[::-1].copy()


def test_gradcheck_on_a_non_scalar_output_checks_more_than_the_sum():
    x = leaf([1.0, 2.0])
    # The gradient of the *sum* is right ([1, 1] either way); the Jacobian is not.
    SwappedIdentity.apply(x).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
    with pytest.raises(GradcheckError):
        gradcheck(SwappedIdentity.apply, [leaf([1.0, 2.0])])


def test_gradcheck_does_not_touch_the_callers_tensors():
    x = leaf([0.3, -0.2], dtype=np.float32)
    before = x.data.copy()
    assert gradcheck(lambda t: t.sigmoid(), [x])
    assert x.grad is None and x.dtype == np.float32 and np.array_equal(x.data, before)


def test_gradcheck_checks_float32_code_in_float64_at_tight_tolerance():
    assert gradcheck(lambda t: (t * t).log(), [leaf([0.3, 2.0], dtype=np.float32)], atol=1e-8, rtol=1e-7)


def test_gradcheck_passes_non_tensor_arguments_through():
    assert gradcheck(lambda t, power: t ** power, [leaf([0.5, 1.5]), 3])


def test_gradcheck_without_any_input_requiring_grad_raises_value_error():
    with pytest.raises(ValueError, match="requires_grad"):
        gradcheck(lambda t: t * 2, [Tensor(np.ones(2))])


def test_gradcheck_tolerances_decide_the_verdict():
    class SlightlyOff(Function):
        def forward(ctx, x):
            return x * 2

        def backward(ctx, grad_output):
            return grad_output.data * 2.001

    x = leaf([1.0])
    assert gradcheck(SlightlyOff.apply, [x], atol=0, rtol=1e-3)
    assert not gradcheck(SlightlyOff.apply, [x], atol=0, rtol=1e-4, raise_exception=False)


# ---------------------------------------------------------------- gradgradcheck

def test_gradgradcheck_passes_for_built_in_ops():
    assert gradgradcheck(lambda a, b: (a * b).tanh().sum() * a.exp(), [leaf([0.2, -0.5]), leaf([1.5, 0.3])])


class CubeWithNumpyBackward(Function):
    """x^3 whose backward is plain NumPy: right first derivative, but the backward is not recorded."""

    def forward(ctx, x):
        ctx.x = x  # an array kept as an attribute (saved_tensors would give the input Tensor under create_graph)
        return x ** 3

    def backward(ctx, grad_output):
        return grad_output.data * 3 * ctx.x ** 2


def test_gradgradcheck_rejects_a_backward_written_in_numpy():
    # The first derivative is right, so gradcheck passes ...
    assert gradcheck(CubeWithNumpyBackward.apply, [leaf([0.5, -1.5])])
    # ... but NumPy arrays are constants to the graph: create_graph records nothing, the second
    # derivative comes out as 0 instead of 6x, and gradgradcheck must say so, not pass silently.
    with pytest.raises(GradcheckError, match="Second-derivative check failed"):
        gradgradcheck(CubeWithNumpyBackward.apply, [leaf([0.5, -1.5])])


def test_gradgradcheck_accepts_a_numpy_backward_whose_second_derivative_really_is_zero():
    class Double(Function):
        def forward(ctx, x):
            return 2 * x

        def backward(ctx, grad_output):
            return grad_output.data * 2

    assert gradgradcheck(Double.apply, [leaf([0.5, -1.5])])


class CubeWithDetachedBackward(Function):
    """x^3 with a Tensor backward that detaches x: first derivative right, second wrong."""

    def forward(ctx, x):
        return x ** 3

    def backward(ctx, grad_output):
        (x,) = ctx.inputs
        return grad_output * 3 * x.detach() ** 2


def test_gradgradcheck_catches_a_wrong_second_derivative_that_gradcheck_cannot_see():
    inputs = [leaf([0.5, -1.5])]
    assert gradcheck(CubeWithDetachedBackward.apply, inputs)
    assert gradgradcheck(CubeWithDetachedBackward.apply, inputs, raise_exception=False) is False


def test_gradgradcheck_failure_message_has_the_per_input_table():
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(CubeWithDetachedBackward.apply, [leaf([0.5, -1.5])])
    message = str(info.value)
    assert "input 0" in message and "max abs error" in message and "FAILED" in message
