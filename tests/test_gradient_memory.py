"""What the graph keeps after backward, and that gradients never share memory they should not."""
import numpy as np
import pytest

import tinygrad_edu.autograd as autograd
from tinygrad_edu import Tensor, viz
from tinygrad_edu.autograd import GradientSummary


def test_gradient_records_are_kept_only_while_switched_on():
    # importing viz (above) switched them on; off, backward keeps nothing for drawings
    assert autograd.record_gradients(False) is True
    try:
        x = Tensor(np.ones((3, 4)), requires_grad=True)
        big = Tensor(np.ones((64, 64)), requires_grad=True)
        loss = (x * 2.0).sum() + (big * 3.0).sum()
        loss.backward()
        for node in autograd.topological_order(loss):
            assert node.grad_output is None and node.grads_to_inputs is None
        np.testing.assert_array_equal(x.grad.data, np.full((3, 4), 2.0))
        np.testing.assert_array_equal(big.grad.data, np.full((64, 64), 3.0))
    finally:
        assert autograd.record_gradients(True) is False
    loss = (x * 2.0).sum()
    loss.backward()
    assert loss._ctx.grad_output.tolist() == 1.0 and loss._ctx.grads_to_inputs[0] is not None


def test_importing_viz_switches_the_records_on():
    import subprocess
    import sys
    code = ("import tinygrad_edu.autograd as a; before = a._record_gradients; import tinygrad_edu.viz; "
            "print(before, a._record_gradients)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]


def test_small_gradients_are_remembered_in_full_on_the_nodes():
    x = Tensor(np.ones((3, 4)), requires_grad=True)
    loss = (x * 2.0).sum()
    loss.backward()
    node = loss._ctx.inputs[0]._ctx
    assert isinstance(node.grad_output, Tensor)
    assert isinstance(node.grads_to_inputs[0], Tensor)
    np.testing.assert_array_equal(node.grads_to_inputs[0].data, np.full((3, 4), 2.0))


def test_large_gradients_into_intermediates_are_remembered_as_norm_shape_and_dtype_only():
    x = Tensor(np.ones((64, 64)), requires_grad=True)
    hidden = x * 3.0
    loss = (hidden * 2.0).sum()
    loss.backward()
    summary = loss._ctx.inputs[0]._ctx.grads_to_inputs[0]  # what hidden * 2.0 sent to hidden
    assert isinstance(summary, GradientSummary)
    assert summary.shape == (64, 64) and summary.dtype == np.float64
    assert summary.norm == pytest.approx(2.0 * 64)
    np.testing.assert_array_equal(x.grad.data, np.full((64, 64), 6.0))  # the leaf keeps its full gradient


def test_a_large_gradient_into_a_leaf_is_kept_as_the_leafs_own_grad_array():
    x = Tensor(np.ones((64, 64)), requires_grad=True)
    loss = (x * 3.0).sum()
    loss.backward()
    edge = loss._ctx.inputs[0]._ctx.grads_to_inputs[0]
    assert isinstance(edge, Tensor) and np.shares_memory(edge.data, x.grad.data)


def test_record_limit_can_be_raised_to_keep_large_gradients(monkeypatch):
    monkeypatch.setattr(autograd, "RECORD_LIMIT", 10**9)
    x = Tensor(np.ones((64, 64)), requires_grad=True)
    loss = (x * 3.0).sum()
    loss.backward()
    assert isinstance(loss._ctx.inputs[0]._ctx.grads_to_inputs[0], Tensor)


def test_drawing_and_trace_use_the_summary_of_a_large_gradient():
    x = Tensor(np.ones((64, 64)), requires_grad=True)
    loss = (x * 3.0).sum()
    loss.backward()
    source = viz.draw_graph(loss, params=[("x", x)]).source
    assert "192" in source  # the norm 3 * 64 labels the edge
    assert "only its norm was kept" in str(viz.trace(loss))


def test_two_leaves_fed_the_same_gradient_array_get_separate_grads():
    a = Tensor(np.zeros(3), requires_grad=True)
    b = Tensor(np.zeros(3), requires_grad=True)
    (a + b).backward(gradient=np.ones(3))
    assert not np.shares_memory(a.grad.data, b.grad.data)
    a.grad.data[0] = 5.0
    assert b.grad.data[0] == 1.0


def test_a_leaf_gradient_does_not_alias_the_callers_gradient():
    x = Tensor(np.zeros(3), requires_grad=True)
    given = Tensor(np.ones(3))
    x.backward(gradient=given)
    x.grad.data[:] = 7.0
    np.testing.assert_array_equal(given.data, np.ones(3))


def test_a_leaf_gradient_does_not_alias_a_retained_intermediate_gradient():
    a = Tensor(np.ones(3), requires_grad=True)
    b = Tensor(np.ones(3), requires_grad=True)
    total = a * 2.0 + b
    total.retain_grad()
    (total * 1.0).backward(gradient=np.ones(3))
    assert not np.shares_memory(b.grad.data, total.grad.data)


def test_a_leaf_gradient_is_writable_even_when_backward_made_a_broadcast_view():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    x.sum().backward()  # sum's backward broadcasts a scalar: a read-only view
    x.grad.data[0, 0] = 9.0
    assert x.grad.data.flags.writeable
