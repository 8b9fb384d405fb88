"""The tutorial's 4-3-1 sigmoid network traced as its own steps 0-11 (`tutorial_trace`).

See the module docstring of `tinygrad_edu.viz.trace` for the two sign
conventions a step can use.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from tinygrad_edu.viz.trace_steps import Trace, TraceStep, _as_array

__all__ = ["tutorial_trace"]


def tutorial_trace(seed: int = 0, lr: float = 0.1, hidden: int = 3) -> Trace:
    """One iteration of the tutorial's 4-3-1 sigmoid network, labelled as its steps 0-11.

    The network of "Understanding and coding Neural Networks From Scratch":
    X (3x4) and y from `tinygrad_edu.data.seed_example()`, weights ``wh`` (4x3),
    ``wout`` (3x1) and biases ``bh`` (1x3), ``bout`` (1x1) drawn uniformly from
    [0, 1) with ``seed``, sigmoid hidden and output layers, loss
    ``0.5 * sum((y - output)^2)`` and plain gradient descent with ``lr``.

    Forward values come from the graph, the backward quantities from the
    gradients autograd computed: the tutorial's ``E = y - output`` is
    ``-dL/d output``, ``d_output`` is ``-dL/d output_layer_input``,
    ``Error_at_hidden_layer`` is ``-dL/d hiddenlayer_activations`` and
    ``d_hiddenlayer`` is ``-dL/d hidden_layer_input``; the updates are
    ``w - lr * w.grad``, which equals the tutorial's ``w + (...) * lr``.

    >>> t = tutorial_trace(seed=0)
    >>> [step.number for step in t]
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    """
    from tinygrad_edu.data import seed_example
    from tinygrad_edu.tensor import Tensor

    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr}")
    if isinstance(hidden, bool) or not isinstance(hidden, int) or hidden < 1:
        raise ValueError(f"hidden must be a positive int, got {hidden!r}")
    x_data, y_data = seed_example()
    rng = np.random.default_rng(seed)
    init = {
        "wh": rng.uniform(size=(x_data.shape[1], hidden)),
        "bh": rng.uniform(size=(1, hidden)),
        "wout": rng.uniform(size=(hidden, 1)),
        "bout": rng.uniform(size=(1, 1)),
    }
    x, y = Tensor(x_data), Tensor(y_data)
    wh, bh, wout, bout = (Tensor(init[k].copy(), requires_grad=True) for k in ("wh", "bh", "wout", "bout"))

    hidden_layer_input = x @ wh + bh
    hiddenlayer_activations = hidden_layer_input.sigmoid()
    output_layer_input = hiddenlayer_activations @ wout + bout
    output = output_layer_input.sigmoid()
    loss = 0.5 * ((y - output) ** 2).sum()
    loss.backward()

    def grad_of(tensor: Any) -> np.ndarray:
        """dL/d tensor, as autograd sent it into the node that produced ``tensor``."""
        return _as_array(tensor._ctx.grad_output)

    h = _as_array(hiddenlayer_activations)
    out = _as_array(output)
    error = -grad_of(output)
    slope_output_layer = out * (1 - out)
    slope_hidden_layer = h * (1 - h)
    d_output = -grad_of(output_layer_input)
    error_at_hidden_layer = -grad_of(hiddenlayer_activations)
    d_hiddenlayer = -grad_of(hidden_layer_input)
    new = {name: _as_array(p) - lr * _as_array(p.grad) for name, p in
           (("wh", wh), ("bh", bh), ("wout", wout), ("bout", bout))}
    for name, p in (("wh", wh), ("bh", bh), ("wout", wout), ("bout", bout)):
        p.data[...] = new[name]

    delta_wout = h.T @ d_output             # the tutorial's update direction: -dL/dwout
    delta_wh = x_data.T @ d_hiddenlayer
    delta_bout = d_output.sum(axis=0, keepdims=True)
    delta_bh = d_hiddenlayer.sum(axis=0, keepdims=True)

    def elementwise(expr: str, *sources: str) -> dict:
        return {"kind": "elementwise", "src": list(sources), "expr": expr}

    def matmul(a: str, b: str, m: int, n: int, k: int, ta: bool = False, tb: bool = False,
               c: Optional[str] = None) -> dict:
        return {"kind": "matmul", "a": a, "b": b, "ta": ta, "tb": tb, "M": m, "N": n, "K": k,
                "nb": 1, "ba": 1, "bb": 1, "c": c}

    def column_sum(source: str) -> dict:
        return {"kind": "reduce", "src": [source], "axes": [0], "keepdim": True, "fn": "sum"}

    rows, features = x_data.shape
    values = "the values of the forward pass; beside them dL/d(result), the gradient (gradient convention)"
    seed_convention = ("seed's convention: E = y \u2212 output = \u2212dL/doutput for L = \u00bd\u03a3(y \u2212 output)\u00b2, "
            "so every delta (E, d_output, Error_at_hidden_layer, d_hiddenlayer) is a NEGATIVE gradient")
    update_convention = ("seed's convention: \u0394 = \u2212dL/dw (shown beside it), so w + lr\u00b7\u0394 is exactly "
              "gradient descent w \u2212 lr\u00b7dL/dw")
    steps = [
        TraceStep(0, "data", "X, y", "read input and output", [],
                  [("X", x_data), ("y", y_data)], note="data.seed_example()"),
        TraceStep(1, "data", "wh, bh, wout, bout", f"uniform random in [0, 1) (seed={seed})", [],
                  [("wh", init["wh"]), ("bh", init["bh"]), ("wout", init["wout"]), ("bout", init["bout"])],
                  note="the parameters: leaf tensors with requires_grad=True"),
        TraceStep(2, "forward", "hidden_layer_input", "matrix_dot_product(X, wh) + bh",
                  [("X", x_data), ("wh", init["wh"]), ("bh", init["bh"])],
                  [("hidden_layer_input", _as_array(hidden_layer_input))],
                  ("dL/dhidden_layer_input", grad_of(hidden_layer_input)), note="autograd ops: matmul, add",
                  rules={"hidden_layer_input": matmul("X", "wh", rows, hidden, features, c="bh")},
                  convention=values),
        TraceStep(3, "forward", "hiddenlayer_activations", "sigmoid(hidden_layer_input)",
                  [("hidden_layer_input", _as_array(hidden_layer_input))],
                  [("hiddenlayer_activations", h)],
                  ("dL/dhiddenlayer_activations", grad_of(hiddenlayer_activations)), note="autograd op: sigmoid",
                  rules={"hiddenlayer_activations": elementwise("1 / (1 + exp(\u2212{0}))", "hidden_layer_input")},
                  convention=values),
        TraceStep(4, "forward", "output", "sigmoid(matrix_dot_product(hiddenlayer_activations, wout) + bout)",
                  [("hiddenlayer_activations", h), ("wout", init["wout"]), ("bout", init["bout"])],
                  [("output_layer_input", _as_array(output_layer_input)), ("output", out)],
                  ("dL/doutput", grad_of(output)), note="autograd ops: matmul, add, sigmoid; "
                  f"then loss = 0.5 * sum((y - output)^2) = {float(loss.item()):.6f}",
                  rules={"output_layer_input": matmul("hiddenlayer_activations", "wout", rows, 1, hidden, c="bout"),
                         "output": elementwise("1 / (1 + exp(\u2212{0}))", "output_layer_input")},
                  convention=values),
        TraceStep(5, "backward", "E", "y - output", [("y", y_data), ("output", out)], [("E", error)],
                  ("dL/doutput", grad_of(output)),
                  note="autograd: E = -dL/doutput (the gradient sigmoid's node received)",
                  rules={"E": elementwise("{0} \u2212 {1}", "y", "output")}, convention=seed_convention),
        TraceStep(6, "backward", "slopes", "derivatives_sigmoid(x) = x * (1 - x)",
                  [("output", out), ("hiddenlayer_activations", h)],
                  [("slope_output_layer", slope_output_layer), ("slope_hidden_layer", slope_hidden_layer)],
                  note="what each sigmoid node's backward multiplies by: d sigmoid(u)/du = s(1 - s)",
                  rules={"slope_output_layer": elementwise("{0} \u00d7 (1 \u2212 {0})", "output"),
                         "slope_hidden_layer": elementwise("{0} \u00d7 (1 \u2212 {0})", "hiddenlayer_activations")},
                  convention="a local derivative: no sign convention involved"),
        TraceStep(7, "backward", "d_output", "E * slope_output_layer",
                  [("E", error), ("slope_output_layer", slope_output_layer)], [("d_output", d_output)],
                  ("dL/doutput_layer_input", grad_of(output_layer_input)),
                  note="autograd: d_output = -dL/doutput_layer_input (out of the output sigmoid's backward)",
                  rules={"d_output": elementwise("{0} \u00d7 {1}", "E", "slope_output_layer")}, convention=seed_convention),
        TraceStep(8, "backward", "Error_at_hidden_layer", "matrix_dot_product(d_output, wout.T)",
                  [("d_output", d_output), ("wout", init["wout"])],
                  [("Error_at_hidden_layer", error_at_hidden_layer)],
                  ("dL/dhiddenlayer_activations", grad_of(hiddenlayer_activations)),
                  note="autograd: -dL/dhiddenlayer_activations (out of matmul's backward)",
                  rules={"Error_at_hidden_layer": matmul("d_output", "wout", rows, hidden, 1, tb=True)},
                  convention=seed_convention),
        TraceStep(9, "backward", "d_hiddenlayer", "Error_at_hidden_layer * slope_hidden_layer",
                  [("Error_at_hidden_layer", error_at_hidden_layer), ("slope_hidden_layer", slope_hidden_layer)],
                  [("d_hiddenlayer", d_hiddenlayer)], ("dL/dhidden_layer_input", grad_of(hidden_layer_input)),
                  note="autograd: -dL/dhidden_layer_input (out of the hidden sigmoid's backward)",
                  rules={"d_hiddenlayer": elementwise("{0} \u00d7 {1}", "Error_at_hidden_layer",
                                                      "slope_hidden_layer")},
                  convention=seed_convention),
        TraceStep(10, "update", "wout, wh",
                  f"wout + matrix_dot_product(hiddenlayer_activations.T, d_output) * {lr:g}; "
                  f"wh + matrix_dot_product(X.T, d_hiddenlayer) * {lr:g}",
                  [("hiddenlayer_activations", h), ("d_output", d_output), ("wout (before)", init["wout"]),
                   ("X", x_data), ("d_hiddenlayer", d_hiddenlayer), ("wh (before)", init["wh"]),
                   ("dL/dwout", _as_array(wout.grad)), ("dL/dwh", _as_array(wh.grad))],
                  [("\u0394wout", delta_wout), ("wout", new["wout"]), ("\u0394wh", delta_wh), ("wh", new["wh"])],
                  note=f"\u0394wout = hiddenlayer_activations.T @ d_output = \u2212dL/dwout; "
                       f"wout + {lr:g}\u00b7\u0394wout = wout \u2212 {lr:g}\u00b7dL/dwout (the same for wh)",
                  rules={"\u0394wout": matmul("hiddenlayer_activations", "d_output", hidden, 1, rows, ta=True),
                         "wout": elementwise(f"{{0}} + {lr:g} \u00d7 {{1}}", "wout (before)", "\u0394wout"),
                         "\u0394wh": matmul("X", "d_hiddenlayer", features, hidden, rows, ta=True),
                         "wh": elementwise(f"{{0}} + {lr:g} \u00d7 {{1}}", "wh (before)", "\u0394wh")},
                  convention=update_convention),
        TraceStep(11, "update", "bout, bh",
                  f"bout + sum(d_output, axis=0) * {lr:g}; bh + sum(d_hiddenlayer, axis=0) * {lr:g}",
                  [("d_output", d_output), ("bout (before)", init["bout"]), ("d_hiddenlayer", d_hiddenlayer),
                   ("bh (before)", init["bh"]), ("dL/dbout", _as_array(bout.grad)), ("dL/dbh", _as_array(bh.grad))],
                  [("\u0394bout", delta_bout), ("bout", new["bout"]), ("\u0394bh", delta_bh), ("bh", new["bh"])],
                  note="a bias's delta is its layer's delta summed over the batch (autograd's unbroadcast); "
                       "\u0394b = \u2212dL/db",
                  rules={"\u0394bout": column_sum("d_output"),
                         "bout": elementwise(f"{{0}} + {lr:g} \u00d7 {{1}}", "bout (before)", "\u0394bout"),
                         "\u0394bh": column_sum("d_hiddenlayer"),
                         "bh": elementwise(f"{{0}} + {lr:g} \u00d7 {{1}}", "bh (before)", "\u0394bh")},
                  convention=update_convention),
    ]
    return Trace(steps, title=f"One training iteration of the tutorial's 4-{hidden}-1 sigmoid network "
                              f"(steps 0-11, lr={lr:g}, seed={seed})")
