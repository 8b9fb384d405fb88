"""The autograd machinery: graph nodes, backward options, grad(), grad modes, hooks, anomaly detection, custom ops."""
import inspect
import os
import weakref

import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu import (
    Function,
    GradcheckError,
    Tensor,
    detect_anomaly,
    enable_grad,
    gradcheck,
    is_grad_enabled,
    no_grad,
)
from tinygrad_edu.autograd import topological_order


def leaf(values):
    return Tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


# ---------------------------------------------------------------- graph nodes

def test_graph_node_records_op_name_inputs_in_call_order_and_output():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    out = a * b
    assert out._ctx.op_name == "mul"
    assert out._ctx.inputs == (a, b)
    assert np.array_equal(out._ctx.output_data, [3.0, 8.0])


def test_python_number_operand_is_a_constant_tensor_input():
    a = leaf([1.0])
    out = a + 2.0
    constant = out._ctx.inputs[1]
    assert isinstance(constant, Tensor) and not constant.requires_grad and constant.item() == 2.0


class _ThreeInputs(Function):
    def forward(ctx, a, b, c):
        return a * b * c

    def backward(ctx, grad_output):
        return grad_output, grad_output, grad_output


class _FourInputs(Function):
    def forward(ctx, a, b, c, d):
        return a * b * c * d

    def backward(ctx, grad_output):
        return grad_output, grad_output, grad_output, grad_output


_BY_COUNT = {1: Tensor.tanh, 2: Tensor.__mul__, 3: _ThreeInputs.apply, 4: _FourInputs.apply}


@pytest.mark.parametrize("needs", [(True,), (True, False), (False, True), (True, True), (True, False, False),
                                   (False, False, True), (True, True, True), (False, True, False, True)])
def test_needs_input_grad_has_one_bool_per_input_of_a_recorded_node(needs):
    inputs = [Tensor([2.0], requires_grad=flag) for flag in needs]
    op = _BY_COUNT[len(needs)]
    node = op(*inputs)._ctx
    assert node.needs_input_grad == needs and all(type(flag) is bool for flag in node.needs_input_grad)


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_no_node_is_recorded_when_no_input_needs_grad(count):
    inputs = [Tensor([2.0]) for _ in range(count)]
    op = _BY_COUNT[count]
    out = op(*inputs)
    assert out._ctx is None and not out.requires_grad


def test_after_backward_a_node_holds_its_output_gradient_and_the_gradients_it_sent(gradient_records):
    a, b = leaf([1.0, 2.0]), Tensor([5.0, 6.0], dtype=np.float64)
    out = a * b
    out.sum().backward()
    assert out._ctx.grad_output.tolist() == [1.0, 1.0]
    grad_a, grad_b = out._ctx.grads_to_inputs
    assert grad_a.tolist() == [5.0, 6.0] and grad_b is None


def test_topological_order_puts_every_node_after_its_inputs_and_the_root_last():
    x = leaf(1.0)
    y = x * 2
    z = y + y.exp()
    root = z * y
    order = topological_order(root)
    position = {node: i for i, node in enumerate(order)}
    assert order[-1] is root._ctx
    for node in order:
        for tensor in node.inputs:
            if tensor._ctx is not None:
                assert position[tensor._ctx] < position[node]
    assert len(order) == 4  # mul, exp, add, mul: y's node appears once


def test_topological_order_of_a_deep_chain_needs_no_recursion():
    x = leaf(1.0)
    y = x
    for _ in range(20_000):
        y = -y
    assert len(topological_order(y)) == 20_000


# ---------------------------------------------------------------- retain_graph and create_graph

def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    assert x.grad.tolist() == [4.0, 8.0]


def test_create_graph_gives_a_hessian_vector_product_equal_to_the_analytic_one():
    # f(x) = (x . x)^2: grad = 4 (x.x) x, Hessian = 4 (x.x) I + 8 x x^T
    x = leaf([0.5, -1.0, 2.0])
    v = np.array([1.0, 2.0, -0.5])
    f = (x * x).sum() ** 2
    (gradient,) = tinygrad_edu.grad(f, x, create_graph=True)
    np.testing.assert_allclose(gradient.data, 4 * x.data.dot(x.data) * x.data)
    (hvp,) = tinygrad_edu.grad((gradient * v).sum(), x)
    expected = 4 * x.data.dot(x.data) * v + 8 * x.data * x.data.dot(v)
    np.testing.assert_allclose(hvp.data, expected)


def test_backward_with_create_graph_leaves_a_differentiable_grad():
    x = leaf([3.0])
    (x ** 3).sum().backward(create_graph=True)
    first = x.grad
    assert first.requires_grad and first.tolist() == [27.0]
    x.grad = None
    first.sum().backward()
    assert x.grad.tolist() == [18.0]  # d(3x^2)/dx = 6x


# ---------------------------------------------------------------- tinygrad_edu.grad

def test_grad_returns_a_tuple_and_does_not_touch_dot_grad():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    result = tinygrad_edu.grad((a * b).sum(), [a, b])
    assert isinstance(result, tuple) and len(result) == 2
    assert result[0].tolist() == [3.0, 4.0] and result[1].tolist() == [1.0, 2.0]
    assert a.grad is None and b.grad is None


def test_grad_with_grad_outputs_for_a_non_scalar_output():
    x = leaf([1.0, 2.0])
    (dx,) = tinygrad_edu.grad(x * x, x, grad_outputs=Tensor([1.0, 10.0], dtype=np.float64))
    assert dx.tolist() == [2.0, 40.0]


def test_grad_of_an_unused_input_raises_unless_allow_unused():
    x, unused = leaf([1.0]), leaf([2.0])
    with pytest.raises(RuntimeError, match="allow_unused"):
        tinygrad_edu.grad((x * 2).sum(), [x, unused])
    assert tinygrad_edu.grad((x * 2).sum(), [x, unused], allow_unused=True)[1] is None


# ---------------------------------------------------------------- grad modes

def test_no_grad_context_records_nothing():
    x = leaf([1.0])
    with no_grad():
        y = x * 2
        assert not is_grad_enabled()
    assert is_grad_enabled()
    assert not y.requires_grad and y._ctx is None


def test_no_grad_as_a_decorator():
    @no_grad()
    def double(t):
        return t * 2

    y = double(leaf([1.0]))
    assert not y.requires_grad
    assert is_grad_enabled()


def test_enable_grad_inside_no_grad_records_again_and_nesting_restores_each_level():
    x = leaf([1.0])
    with no_grad():
        with enable_grad():
            y = x * 2
            with no_grad():
                z = x * 2
            w = x * 2
        v = x * 2
    assert y.requires_grad and w.requires_grad
    assert not z.requires_grad and not v.requires_grad
    assert is_grad_enabled()


def test_enable_grad_as_a_decorator_inside_no_grad():
    @enable_grad()
    def double(t):
        return t * 2

    with no_grad():
        y = double(leaf([1.0]))
    assert y.requires_grad


def test_grad_mode_is_restored_after_an_exception():
    with pytest.raises(KeyError):
        with no_grad():
            raise KeyError("inside no_grad")
    assert is_grad_enabled()


# ---------------------------------------------------------------- detach, retain_grad, hooks

def test_detach_shares_values_and_cuts_the_graph():
    x = leaf([1.0, 2.0])
    y = x * 3
    cut = y.detach()
    assert cut.data is y.data and not cut.requires_grad and cut.is_leaf
    (x * cut).sum().backward()
    assert x.grad.tolist() == [3.0, 6.0]  # no gradient through the detached factor


def test_intermediate_keeps_grad_only_after_retain_grad():
    x = leaf([1.0, 2.0])
    kept, dropped = x * 2, x * 3
    kept.retain_grad()
    (kept * kept + dropped).sum().backward()
    assert kept.grad.tolist() == [4.0, 8.0]  # 2 * kept
    assert dropped.grad is None


def test_hook_on_a_leaf_is_called_with_its_gradient_and_can_replace_it():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.tolist()))
    x.register_hook(lambda g: g * 10)
    (x * 3).sum().backward()
    assert seen == [[3.0, 3.0]]
    assert x.grad.tolist() == [30.0, 30.0]


def test_hook_on_an_intermediate_replaces_the_gradient_flowing_on():
    x = leaf([1.0, 2.0])
    y = x * 2
    seen = []

    def hook(g):
        seen.append(g.tolist())
        return g * 10

    y.register_hook(hook)
    (y * 3).sum().backward()
    assert seen == [[3.0, 3.0]]
    assert x.grad.tolist() == [60.0, 60.0]


def test_removed_hook_is_not_called():
    x = leaf([1.0])
    calls = []
    handle = x.register_hook(lambda g: calls.append(1))
    handle.remove()
    (x * 2).sum().backward()
    assert calls == [] and x.grad.tolist() == [2.0]


# ---------------------------------------------------------------- detect_anomaly

THIS_FILE = os.path.basename(__file__)


@pytest.mark.parametrize("op", ["log", "sqrt"])
def test_detect_anomaly_names_the_op_and_this_line_for_a_nan_forward(op):
    x = leaf([0.0, 1.0])
    with detect_anomaly():  # raises FloatingPointError, not NumPy's RuntimeWarning (an error in this suite)
        with pytest.raises(FloatingPointError) as info:
            line = inspect.currentframe().f_lineno + 1
            (x - 1).log() if op == "log" else (x - 2).sqrt()
    message = str(info.value)
    assert f"'{op}'" in message and "nan" in message and "forward" in message
    assert f"{THIS_FILE}:{line}" in message


class NanBackward(Function):
    """Identity whose backward (plain NumPy) produces NaN."""

    def forward(ctx, x):
        return x.copy()

    def backward(ctx, grad_output):
        return np.full(grad_output.shape, np.nan)


def test_detect_anomaly_names_a_custom_op_whose_backward_gives_nan_and_its_line():
    x = leaf([1.0, 2.0])
    with detect_anomaly():
        line = inspect.currentframe().f_lineno + 1
        out = NanBackward.apply(x) * 2
        with pytest.raises(FloatingPointError) as info:
            out.sum().backward()
    message = str(info.value)
    assert "'nanbackward'" in message and "nan" in message and "backward" in message
    assert f"{THIS_FILE}:{line}" in message


def test_detect_anomaly_names_the_op_and_its_line_for_a_non_finite_backward():
    x = leaf([0.0, 4.0])
    with detect_anomaly():
        line = inspect.currentframe().f_lineno + 1
        root = x.sqrt()
        with pytest.raises(FloatingPointError) as info:
            root.sum().backward()  # d sqrt/dx = inf at 0
    message = str(info.value)
    assert "sqrt" in message and "backward" in message
    assert f"{THIS_FILE}:{line}" in message


def test_without_detect_anomaly_nan_passes_silently():
    x = leaf([-1.0])
    with np.errstate(invalid="ignore"):
        assert np.isnan(x.sqrt().item())


# ---------------------------------------------------------------- custom Function

class ScaledPower(Function):
    """factor * x^power * y, with kwargs; the backward uses saved arrays."""

    def forward(ctx, x, y, power=2, factor=1.0):
        ctx.save_for_backward(x, y)
        ctx.power, ctx.factor = power, factor
        return factor * x ** power * y

    def backward(ctx, grad_output):
        x, y = ctx.saved_tensors
        grad = grad_output.data
        return grad * ctx.factor * ctx.power * x ** (ctx.power - 1) * y, grad * ctx.factor * x ** ctx.power


def test_custom_function_with_kwargs_gets_the_right_gradients():
    x, y = leaf([1.0, 2.0]), leaf([3.0, -1.0])
    out = ScaledPower.apply(x, y, power=3, factor=0.5)
    np.testing.assert_allclose(out.data, 0.5 * x.data ** 3 * y.data)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.data, 1.5 * x.data ** 2 * y.data)
    np.testing.assert_allclose(y.grad.data, 0.5 * x.data ** 3)


def test_custom_function_passes_gradcheck():
    assert gradcheck(lambda a, b: ScaledPower.apply(a, b, power=2, factor=-2.0), [leaf([0.3, 1.7]), leaf([2.0, 0.5])])


def test_custom_function_saved_tensors_are_freed_after_backward():
    x, y = leaf([1.0]), leaf([2.0])
    out = ScaledPower.apply(x, y)
    node = out._ctx
    out.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        _ = node.saved_tensors


class WrongSquare(Function):
    """x^2 with a backward that forgets the factor 2."""

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output.data * x


def test_gradcheck_catches_a_wrong_backward_with_a_per_input_table():
    with pytest.raises(GradcheckError) as info:
        gradcheck(WrongSquare.apply, [leaf([1.0, -2.0, 3.0])])
    message = str(info.value)
    assert "input 0" in message and "FAILED" in message
    assert "max abs error" in message and "max rel error" in message
    assert "index (2,)" in message  # the worst element (|x| largest) is located


def test_gradcheck_returns_false_instead_of_raising_when_asked():
    assert gradcheck(WrongSquare.apply, [leaf([1.0, -2.0])], raise_exception=False) is False


def test_custom_function_graph_can_be_garbage_collected_by_reference_counting():
    x, y = leaf([1.0]), leaf([2.0])
    out = ScaledPower.apply(x, y)
    ref = weakref.ref(out._ctx)
    out.sum().backward()
    del out
    assert ref() is None
