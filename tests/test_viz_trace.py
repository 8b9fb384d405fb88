"""The step-by-step trace: the tutorial's steps 0-11 with the right numbers, and the trace of any graph."""
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import tinygrad_edu.optim as optim
from tinygrad_edu import Tensor, viz
from tinygrad_edu.data import seed_example

TUTORIAL_NAMES = ("hidden_layer_input", "hiddenlayer_activations", "output", "E", "slope_output_layer",
                  "slope_hidden_layer", "d_output", "Error_at_hidden_layer", "d_hiddenlayer")


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def tutorial_by_hand(wh, bh, wout, bout, lr):
    """The tutorial's formulas, steps 2-11, in plain NumPy."""
    X, y = seed_example()
    hidden_layer_input = X @ wh + bh
    hiddenlayer_activations = sigmoid(hidden_layer_input)
    output_layer_input = hiddenlayer_activations @ wout + bout
    output = sigmoid(output_layer_input)
    E = y - output
    slope_output_layer = output * (1 - output)
    slope_hidden_layer = hiddenlayer_activations * (1 - hiddenlayer_activations)
    d_output = E * slope_output_layer
    Error_at_hidden_layer = d_output @ wout.T
    d_hiddenlayer = Error_at_hidden_layer * slope_hidden_layer
    return {
        "hidden_layer_input": hidden_layer_input, "hiddenlayer_activations": hiddenlayer_activations,
        "output_layer_input": output_layer_input, "output": output, "E": E,
        "slope_output_layer": slope_output_layer, "slope_hidden_layer": slope_hidden_layer,
        "d_output": d_output, "Error_at_hidden_layer": Error_at_hidden_layer, "d_hiddenlayer": d_hiddenlayer,
        "wout": wout + hiddenlayer_activations.T @ d_output * lr,
        "wh": wh + X.T @ d_hiddenlayer * lr,
        "bout": bout + np.sum(d_output, axis=0) * lr,
        "bh": bh + np.sum(d_hiddenlayer, axis=0) * lr,
    }


@pytest.mark.parametrize("seed, lr", [(0, 0.1), (7, 0.5)])
def test_tutorial_trace_numbers_equal_the_tutorial_formulas(seed, lr):
    trace = viz.tutorial_trace(seed=seed, lr=lr)
    initial = dict(trace[1].outputs)
    expected = tutorial_by_hand(initial["wh"], initial["bh"], initial["wout"], initial["bout"], lr)
    for name in TUTORIAL_NAMES + ("output_layer_input",):
        np.testing.assert_allclose(trace.value(name), expected[name], rtol=1e-10, atol=1e-14, err_msg=name)
    updated = dict(trace[10].outputs) | dict(trace[11].outputs)
    for name in ("wout", "wh", "bout", "bh"):
        np.testing.assert_allclose(updated[name], expected[name], rtol=1e-10, atol=1e-14, err_msg=name)


def test_tutorial_trace_initialises_uniformly_from_the_seed():
    trace = viz.tutorial_trace(seed=3)
    rng = np.random.default_rng(3)
    for name, shape in (("wh", (4, 3)), ("bh", (1, 3)), ("wout", (3, 1)), ("bout", (1, 1))):
        np.testing.assert_array_equal(dict(trace[1].outputs)[name], rng.uniform(size=shape))


def test_tutorial_trace_has_steps_0_to_11_in_order_with_phases():
    trace = viz.tutorial_trace()
    assert [step.number for step in trace] == list(range(12))
    assert [step.phase for step in trace] == ["data"] * 2 + ["forward"] * 3 + ["backward"] * 5 + ["update"] * 2


def test_forward_steps_carry_the_gradient_of_their_output():
    trace = viz.tutorial_trace()
    label, grad = trace["hidden_layer_input"].grad
    assert label == "dL/dhidden_layer_input"
    np.testing.assert_allclose(grad, -trace.value("d_hiddenlayer"))


def test_tutorial_trace_prints_like_the_tutorial():
    text = str(viz.tutorial_trace())
    for number in range(12):
        assert f"Step {number} " in text
    for name in TUTORIAL_NAMES + ("wout", "wh", "bout", "bh", "matrix_dot_product(X, wh) + bh"):
        assert name in text
    assert "(3x4)" in text and "(4x3)" in text


def test_tutorial_trace_html_is_a_well_formed_table():
    html = viz.tutorial_trace()._repr_html_()
    root = ET.fromstring(html)  # well-formed (XHTML-style) markup
    rows = root.find("table").find("tbody").findall("tr")
    assert len(rows) == 12
    assert "d_hiddenlayer" in html and "Error_at_hidden_layer" in html


def test_tutorial_trace_rejects_bad_arguments():
    with pytest.raises(ValueError, match="lr"):
        viz.tutorial_trace(lr=0)
    with pytest.raises(ValueError, match="hidden"):
        viz.tutorial_trace(hidden=0)


def test_trace_lists_forward_steps_then_backward_steps_in_reverse():
    w = Tensor([[1.0, -2.0]], requires_grad=True)
    x = Tensor([[3.0], [4.0]])
    loss = (x @ w).sigmoid().sum()
    trace = viz.trace(loss, names=[("w", w), ("x", x)])
    forward = [s for s in trace if s.phase == "forward"]
    backward = [s for s in trace if s.phase == "backward"]
    assert [s.operation.split("(")[0] for s in forward] == ["matmul", "sigmoid", "sum"]
    assert [s.operation for s in backward] == ["backward of sum", "backward of sigmoid", "backward of matmul"]
    assert forward[0].operation == "matmul(x, w)"
    sent = dict(backward[-1].outputs)
    np.testing.assert_allclose(sent["dL/dw"], w.grad.numpy())
    assert forward[-1].outputs[0][0] == "loss"


def test_trace_runs_backward_when_it_has_not_run():
    w = Tensor([2.0], requires_grad=True)
    trace = viz.trace((w * w).sum(), names={"w": w})
    assert w.grad is not None and w.grad.tolist() == [4.0]
    assert any(step.phase == "backward" for step in trace)


def test_trace_with_update_shows_parameters_before_and_after():
    w = Tensor([[1.0, 2.0]], requires_grad=True)
    optimizer = optim.SGD([w], lr=0.5)
    loss = (w * w).sum()
    trace = viz.trace(loss, names=[("w", w)], update=optimizer.step)
    (step,) = [s for s in trace if s.phase == "update"]
    inputs = dict(step.inputs)
    np.testing.assert_allclose(inputs["w (before)"], [[1.0, 2.0]])
    np.testing.assert_allclose(inputs["dL/dw"], [[2.0, 4.0]])
    np.testing.assert_allclose(dict(step.outputs)["w"], [[0.0, 0.0]])


def test_trace_of_a_tensor_without_graph_raises():
    with pytest.raises(ValueError, match="graph"):
        viz.trace(Tensor([1.0]))


def test_trace_lookups_name_what_is_missing():
    trace = viz.tutorial_trace()
    with pytest.raises(KeyError, match="no step named"):
        trace["nope"]
    with pytest.raises(KeyError, match="labelled"):
        trace.value("nope")
