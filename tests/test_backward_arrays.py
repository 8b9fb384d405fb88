"""The array form of a backward rule (``Function.backward_arrays``) agrees with its Tensor form.

``backward`` (Tensor ops, differentiable again) is the definition; the walk
runs ``backward_arrays`` instead when ``create_graph`` is off.  Each op that
has both is checked here on random float64 inputs and output gradients:
broadcast pairs, every axis form, 3-D inputs of linear, the three reductions
of cross_entropy, and the ties at zero.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from op_table import OPS_BY_NAME, examples

import tinygrad_edu.nn.functional as F  # noqa: N812 (the PyTorch convention)
from tinygrad_edu import Function, Tensor, autograd, no_grad
from tinygrad_edu.testing.strategies import shapes

# Op table entries that reach each array rule (add/sub/mul with broadcasting and scalars, sum over any axes).
TABLE_OPS = ["add", "add_scalar", "sub", "rsub_scalar", "mul", "mul_scalar", "relu", "sigmoid", "tanh", "sum"]


def _all_function_classes(cls=Function):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_function_classes(sub)


def _array_rule_ops() -> set:
    """op_name of every built-in op that defines backward_arrays."""
    return {cls.op_name for cls in _all_function_classes()
            if cls.backward_arrays is not None and cls.__module__.startswith("tinygrad_edu.")}


def _as_input_gradient(grad, tensor: Tensor):
    """What the walk makes of a rule's result: None, or an array of the input's shape."""
    if grad is None or not tensor.requires_grad:
        return None
    grad = grad if isinstance(grad, Tensor) else Tensor(np.asarray(grad))
    return autograd.unbroadcast(grad, tensor.shape).data.astype(tensor.dtype, copy=False)


def _assert_rules_agree(output: Tensor, rng: np.random.Generator) -> set:
    """For every node behind `output` with an array rule: both rules on one random gradient agree. Returns their op names."""
    checked = set()
    for node in autograd.topological_order(output):
        if node.backward_arrays is None:
            continue
        g = rng.standard_normal(node.output_data.shape).astype(node.output_data.dtype)
        with no_grad():
            by_tensors = node.backward(Tensor(g))
            by_arrays = node.backward_arrays(g)
        by_tensors = by_tensors if isinstance(by_tensors, tuple) else (by_tensors,)
        by_arrays = by_arrays if isinstance(by_arrays, tuple) else (by_arrays,)
        assert len(by_arrays) == len(by_tensors) == len(node.inputs)
        for tensor, expected, got in zip(node.inputs, by_tensors, by_arrays):
            expected, got = _as_input_gradient(expected, tensor), _as_input_gradient(got, tensor)
            assert (expected is None) == (got is None), f"{node.op_name}: one rule gives a gradient, the other None"
            if expected is not None:
                tolerance = 1e-12 if got.dtype == np.float64 else 1e-6
                np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance * 1e-2, err_msg=node.op_name)
        checked.add(node.op_name)
    return checked


@pytest.mark.parametrize("name", TABLE_OPS)
@given(data=st.data())
def test_array_rule_agrees_with_tensor_rule_on_the_op_table(name, data):
    op = OPS_BY_NAME[name]
    arrays, params = data.draw(examples(op), label="inputs, params")
    output = op.fn(*[Tensor(array, requires_grad=True) for array in arrays], **params)
    assert _assert_rules_agree(output, np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))))


@given(batch=shapes(min_dims=0, max_dims=2, max_side=3), sizes=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       bias=st.booleans(), needs=st.tuples(st.booleans(), st.booleans(), st.booleans()).filter(any),
       seed=st.integers(0, 2**32 - 1))
def test_linear_array_rule_agrees_for_any_batch_shape_and_any_inputs_needing_grad(batch, sizes, bias, needs, seed):
    rng = np.random.default_rng(seed)
    features, outputs = sizes
    x = Tensor(rng.standard_normal(batch + (features,)), requires_grad=needs[0])
    weight = Tensor(rng.standard_normal((outputs, features)), requires_grad=needs[1])
    b = Tensor(rng.standard_normal(outputs), requires_grad=needs[2]) if bias else None
    if not (x.requires_grad or weight.requires_grad or (b is not None and b.requires_grad)):
        return  # nothing recorded
    assert _assert_rules_agree(F.linear(x, weight, b), rng) == {"linear"}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@given(batch=st.integers(1, 5), classes=st.integers(1, 5), seed=st.integers(0, 2**32 - 1))
def test_cross_entropy_array_rule_agrees_for_every_reduction(reduction, batch, classes, seed):
    rng = np.random.default_rng(seed)
    logits = Tensor(rng.standard_normal((batch, classes)) * 3, requires_grad=True)
    target = rng.integers(0, classes, batch)
    assert _assert_rules_agree(F.cross_entropy(logits, target, reduction=reduction), rng) == {"cross_entropy"}


def test_array_rules_agree_at_the_ties_and_zeros():
    x = Tensor([[-1.0, 0.0, 2.0], [0.0, 0.0, -3.0]], requires_grad=True)
    rng = np.random.default_rng(0)
    assert _assert_rules_agree(x.relu(), rng) == {"relu"}
    assert _assert_rules_agree((x * 0.0).sum(axis=0), rng) == {"mul", "sum"}
    logits = Tensor(np.zeros((2, 3)), requires_grad=True)  # a three-way tie: softmax 1/3 each
    assert _assert_rules_agree(F.cross_entropy(logits, np.array([0, 2])), rng) == {"cross_entropy"}


@settings(max_examples=1)
@given(data=st.data())
def test_every_array_rule_is_checked_here(data):
    covered = {"linear", "cross_entropy"}
    for name in TABLE_OPS:
        arrays, params = data.draw(examples(OPS_BY_NAME[name]))
        output = OPS_BY_NAME[name].fn(*[Tensor(array, requires_grad=True) for array in arrays], **params)
        covered |= {node.op_name for node in autograd.topological_order(output)}
    assert _array_rule_ops() <= covered, f"array rules with no agreement test: {_array_rule_ops() - covered}"


class _Square(Function):
    """x^2 with both rules, each noting that it ran."""

    calls: list = []

    def forward(ctx, x):
        return x * x

    def backward(ctx, grad_output):
        _Square.calls.append("tensors")
        return grad_output * 2 * ctx.inputs[0]

    def backward_arrays(ctx, grad_output):
        _Square.calls.append("arrays")
        return grad_output * 2 * ctx.inputs[0].data


def test_backward_uses_the_array_rule_and_create_graph_the_tensor_rule():
    _Square.calls.clear()
    x = Tensor([3.0], requires_grad=True)
    _Square.apply(x).sum().backward()
    assert _Square.calls == ["arrays"] and x.grad.tolist() == [6.0]
    _Square.calls.clear()
    (first,) = autograd.grad(_Square.apply(x).sum(), [x], create_graph=True)
    assert _Square.calls == ["tensors"]
    (second,) = autograd.grad(first.sum(), [x])
    assert second.tolist() == [2.0]


def test_a_subclass_that_redefines_backward_does_not_inherit_the_array_rule():
    class HalfGradient(_Square):
        def backward(ctx, grad_output):
            return grad_output * ctx.inputs[0]

    assert HalfGradient.backward_arrays is None
    x = Tensor([3.0], requires_grad=True)
    HalfGradient.apply(x).sum().backward()
    assert x.grad.tolist() == [3.0]
