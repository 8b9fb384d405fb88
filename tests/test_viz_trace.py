"""The step-by-step trace: the tutorial's steps 0-11 with the right numbers, and the trace of any graph."""
import html
import json

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


def page_data(trace):
    """The JSON the interactive page reads."""
    page = trace.to_html()
    start = page.index('id="trace-data">') + len('id="trace-data">')
    return json.loads(page[start:page.index("</script>", start)].replace("<\\/", "</"))


def test_trace_page_is_self_contained_and_holds_every_step():
    page = viz.tutorial_trace().to_html()
    assert page.startswith("<!DOCTYPE html>") and "<script>" in page and "<style>" in page
    assert "src=" not in page and "href=" not in page and "http" not in page  # nothing fetched
    data = page_data(viz.tutorial_trace())
    assert [s["number"] for s in data["steps"]] == [str(n) for n in range(12)]
    assert "d_hiddenlayer" in page and "Error_at_hidden_layer" in page


def test_trace_shows_inline_in_jupyter_as_the_same_page():
    trace = viz.tutorial_trace()
    shown = trace._repr_html_()
    assert shown.startswith("<iframe srcdoc=")
    assert html.unescape(shown.split('srcdoc="', 1)[1].split('" title=', 1)[0]) == trace.to_html()


def test_trace_save_writes_the_page(tmp_path):
    path = viz.tutorial_trace().save(tmp_path / "t.html")
    assert path.read_text(encoding="utf-8") == viz.tutorial_trace().to_html()
    assert [p.name for p in tmp_path.iterdir()] == ["t.html"]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        viz.tutorial_trace().save(tmp_path / "nope" / "t.html")


def test_every_tutorial_step_says_its_sign_convention_and_signs_agree():
    trace = viz.tutorial_trace()
    for step in trace:
        if step.phase in ("forward", "backward", "update"):
            assert step.convention, step.name
    assert "E = y" in trace["E"].convention
    # The seed's deltas are negative gradients: the matrices shown side by side say so.
    np.testing.assert_allclose(trace.value("E"), -trace["E"].grad[1])
    np.testing.assert_allclose(trace.value("d_output"), -trace["d_output"].grad[1])
    np.testing.assert_allclose(trace.value("Error_at_hidden_layer"), -trace["Error_at_hidden_layer"].grad[1])
    for step_number, names in ((10, ("wout", "wh")), (11, ("bout", "bh"))):
        step = trace[step_number]
        shown = dict(step.inputs) | dict(step.outputs)
        for name in names:
            np.testing.assert_allclose(shown[f"\u0394{name}"], -shown[f"dL/d{name}"], rtol=1e-12)
            np.testing.assert_allclose(shown[name], shown[f"{name} (before)"] - 0.1 * shown[f"dL/d{name}"])


def test_rules_point_at_the_right_matrices():
    data = page_data(viz.tutorial_trace())
    step2 = data["steps"][2]
    labels = [m["label"] for m in step2["mats"]]
    rule = next(m["rule"] for m in step2["mats"] if m["label"] == "hidden_layer_input")
    assert rule["kind"] == "matmul" and (labels[rule["a"]], labels[rule["b"]], labels[rule["c"]]) == ("X", "wh", "bh")
    assert (rule["M"], rule["N"], rule["K"]) == (3, 3, 4)


def test_forward_rules_of_a_graph():
    from tinygrad_edu.viz.trace import _forward_rule, execution_order
    x = Tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    w = Tensor(np.ones((4, 5)), requires_grad=True)
    loss = ((x @ w).sum(axis=1).relu().permute(1, 0).reshape(-1)).sum()
    kinds = []
    for ctx in execution_order(loss):
        rule = _forward_rule(ctx, [f"in{i}" for i in range(len(ctx.inputs))])
        kinds.append((ctx.op_name, rule["kind"], rule.get("axes")))
    assert kinds == [("matmul", "matmul", None), ("sum", "reduce", [1]), ("relu", "elementwise", None),
                     ("permute", "permute", None), ("reshape", "reshape", None), ("sum", "reduce", [0])]


def test_execution_order_follows_the_program():
    a = Tensor([1.0], requires_grad=True)
    first = a * 2.0
    second = a + 3.0
    third = first - second
    names = [ctx.op_name for ctx in viz.trace.__globals__["execution_order"](third.sum())]
    assert names == ["mul", "add", "sub", "sum"]


def test_trace_model_traces_any_model_on_a_batch():
    import tinygrad_edu as tg
    import tinygrad_edu.nn as nn
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    trace = viz.trace_model(model, (np.ones((5, 3), np.float32), np.array([0, 1, 0, 1, 1])))
    forward = [s for s in trace if s.phase == "forward"]
    assert forward[0].name == "0.out" and forward[0].operation == "linear(X, 0.weight, 0.bias)"
    assert forward[1].name == "1.out" and forward[2].name == "2.out"
    assert any(s.phase == "backward" for s in trace)
    assert model[0].weight.grad is not None


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
