"""A step-by-step trace of one training iteration, the way a teacher writes it on the board.

`trace(loss, names=..., update=optimizer.step)` lists every forward step (the
operation, its input matrices, its output and the gradient of the loss with
respect to that output), every backward step (the gradient arriving at an
operation and the gradients it sends to its inputs) and, with ``update``, the
parameters before and after the optimizer step. `tutorial_trace()` does the
same for the 4-3-1 sigmoid network of the "Neural Networks from Scratch"
tutorial and labels the steps 0-11 with the tutorial's own names
(``hidden_layer_input``, ``d_output``, ``Error_at_hidden_layer``, ...).

A `Trace` prints as text (``print(trace)``) and shows as an HTML table in a notebook.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, Union

import numpy as np

from tinygrad_edu.autograd import GradientSummary, topological_order

__all__ = ["TraceStep", "Trace", "trace", "tutorial_trace"]

_PHASE_COLORS = {"data": "#eef3fb", "forward": "#eef8ea", "backward": "#fdf0e6", "update": "#f3edf9"}


@dataclass
class TraceStep:
    """One line on the board.

    Attributes:
        number: the step's number (the tutorial's numbering in `tutorial_trace`).
        phase: "data", "forward", "backward" or "update".
        name: what the step computes, e.g. ``"hidden_layer_input"``.
        operation: how, as a formula or an op name, e.g. ``"X @ wh + bh"``.
        inputs: ``(label, matrix)`` pairs the step reads.
        outputs: ``(label, matrix)`` pairs the step produces.
        grad: for forward steps after backward: ``(label, dL/d output)``.
        note: one sentence linking the step to what autograd did.
    """

    number: Union[int, str]
    phase: str
    name: str
    operation: str
    inputs: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    grad: Optional[tuple] = None
    note: str = ""


class Trace:
    """The steps of one training iteration; ``print`` it or display it in a notebook.

    Index it by position or by step name (``trace["d_output"]``); `value` finds
    a matrix by its label.
    """

    def __init__(self, steps: list, title: str = "One training iteration", precision: int = 4) -> None:
        self.steps = list(steps)
        self.title = title
        self.precision = precision

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[TraceStep]:
        return iter(self.steps)

    def __getitem__(self, key: Union[int, str]) -> TraceStep:
        if isinstance(key, str):
            for step in self.steps:
                if step.name == key:
                    return step
            raise KeyError(f"no step named {key!r}; steps are: {', '.join(s.name for s in self.steps)}")
        return self.steps[key]

    def value(self, label: str) -> np.ndarray:
        """The matrix labelled ``label`` among the steps' outputs (first match), e.g. ``"d_output"``."""
        for step in self.steps:
            for item_label, matrix in step.outputs:
                if item_label == label:
                    return matrix
        raise KeyError(f"no step outputs a matrix labelled {label!r}")

    # ------------------------------------------------------------ text
    def _matrix_lines(self, label: str, matrix: np.ndarray) -> list:
        if isinstance(matrix, GradientSummary):
            return [f"{label} ({'x'.join(map(str, matrix.shape))})", _summary_text(matrix)]
        matrix = np.asarray(matrix)
        text = np.array2string(matrix, precision=self.precision, floatmode="fixed", suppress_small=True,
                               threshold=48, edgeitems=3, max_line_width=60)
        shape = "x".join(str(s) for s in matrix.shape) or "scalar"
        return [f"{label} ({shape})"] + text.splitlines()

    def _side_by_side(self, blocks: list, width: int) -> list:
        lines: list = []
        row: list = []
        row_width = 0

        def flush() -> None:
            if not row:
                return
            height = max(len(b) for b in row)
            widths = [max(len(line) for line in b) for b in row]
            for i in range(height):
                parts = [(b[i] if i < len(b) else "").ljust(w) for b, w in zip(row, widths)]
                lines.append("    " + "   ".join(parts).rstrip())

        for block in blocks:
            block_width = max(len(line) for line in block)
            if row and row_width + 3 + block_width > width - 4:
                flush()
                row.clear()
                row_width = 0
            row.append(block)
            row_width += block_width + (3 if row_width else 0)
        flush()
        return lines

    def to_text(self, width: int = 110) -> str:
        """The trace as plain text, matrices side by side up to ``width`` columns."""
        lines = [self.title, "=" * len(self.title)]
        for step in self.steps:
            lines.append("")
            lines.append(f"Step {step.number} [{step.phase}] {step.name} = {step.operation}")
            if step.note:
                lines.append(f"    ({step.note})")
            blocks = [self._matrix_lines(label, m) for label, m in step.inputs]
            for index, (label, m) in enumerate(step.outputs):
                block = self._matrix_lines(label, m)
                blocks.append(_marked("->", block) if index == 0 and blocks else block)
            if step.grad is not None:
                blocks.append(_marked("|", self._matrix_lines(step.grad[0], step.grad[1])))
            lines += self._side_by_side(blocks, width)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return f"<Trace {self.title!r}: {len(self.steps)} steps>"

    # ------------------------------------------------------------ HTML
    def _matrix_html(self, label: str, matrix: np.ndarray) -> str:
        if isinstance(matrix, GradientSummary):
            return (f'<div style="display:inline-block;vertical-align:top;margin:2px 8px 2px 0">'
                    f"<div><b>{html.escape(label)}</b></div><small>{html.escape(_summary_text(matrix))}</small></div>")
        matrix = np.asarray(matrix)
        shape = "x".join(str(s) for s in matrix.shape) or "scalar"
        table = np.atleast_2d(matrix) if matrix.ndim <= 2 else matrix.reshape(matrix.shape[0], -1)
        rows = table[:12]
        body = "".join(
            "<tr>" + "".join(
                f'<td style="padding:1px 5px;text-align:right;font-family:monospace">{v:.{self.precision}f}</td>'
                for v in np.asarray(row, dtype=np.float64)[:12]
            ) + "</tr>"
            for row in rows
        )
        more = "<div>...</div>" if table.shape[0] > 12 or table.shape[1] > 12 else ""
        return (f'<div style="display:inline-block;vertical-align:top;margin:2px 8px 2px 0">'
                f"<div><b>{html.escape(label)}</b> <small>({shape})</small></div>"
                f'<table style="border-left:1px solid #888;border-right:1px solid #888">{body}</table>{more}</div>')

    def _repr_html_(self) -> str:
        header = "".join(f"<th style='text-align:left'>{h}</th>" for h in
                         ("step", "phase", "name", "operation", "inputs", "outputs", "gradient dL/d output"))
        rows = []
        for step in self.steps:
            colour = _PHASE_COLORS.get(step.phase, "#ffffff")
            operation = f"<code>{html.escape(step.operation)}</code>"
            if step.note:
                operation += f"<br/><small>{html.escape(step.note)}</small>"
            cells = [
                html.escape(str(step.number)), html.escape(step.phase), f"<b>{html.escape(step.name)}</b>", operation,
                "".join(self._matrix_html(label, m) for label, m in step.inputs),
                "".join(self._matrix_html(label, m) for label, m in step.outputs),
                self._matrix_html(*step.grad) if step.grad is not None else "",
            ]
            rows.append(f"<tr style='background:{colour};vertical-align:top'>"
                        + "".join(f"<td style='text-align:left'>{c}</td>" for c in cells) + "</tr>")
        return (f"<div><h4>{html.escape(self.title)}</h4><table><thead><tr>{header}</tr></thead>"
                f"<tbody>{''.join(rows)}</tbody></table></div>")


def _marked(marker: str, block: list) -> list:
    """``block`` with ``marker`` in front of its first line (and the rest indented to match)."""
    pad = " " * (len(marker) + 1)
    return [f"{marker} {block[0]}"] + [pad + line for line in block[1:]]


# ---------------------------------------------------------------- trace of any graph

def _summary_text(summary: GradientSummary) -> str:
    return (f"norm {summary.norm:.4g} (large: only its norm was kept; raise "
            "tinygrad_edu.autograd.RECORD_LIMIT before backward to keep it)")


def _as_array(value: Any) -> Any:
    if isinstance(value, GradientSummary):
        return value
    return np.array(value.data if hasattr(value, "data") else value, copy=True)


def trace(
    loss: Any,
    names: Optional[Union[Iterable, Mapping]] = None,
    update: Optional[Callable[[], Any]] = None,
    title: str = "One training iteration",
) -> Trace:
    """Trace one iteration: every forward op, every backward op and (optionally) the update.

    Runs ``loss.backward()`` first unless it has already run on this graph.

    Args:
        loss: the scalar loss Tensor, just computed.
        names: ``(name, tensor)`` pairs (or a name -> tensor mapping) naming
            parameters, inputs and any intermediate results you kept, e.g.
            ``list(model.named_parameters()) + [("X", x), ("hidden", h)]``.
        update: called after backward to change the parameters, e.g.
            ``optimizer.step``; the named tensors that require grad are shown
            before and after it.
        title: heading of the trace.

    Returns:
        A `Trace`: forward steps in order, backward steps in reverse order,
        then the updates.

    >>> from tinygrad_edu import Tensor
    >>> w = Tensor([[2.0]], requires_grad=True)
    >>> x = Tensor([[3.0]])
    >>> t = trace((x @ w).sum(), names=[("w", w), ("x", x)])
    >>> [step.phase for step in t]
    ['forward', 'forward', 'backward', 'backward']
    """
    if not hasattr(loss, "_ctx") or loss._ctx is None:
        raise ValueError("trace needs a loss computed from tensors that require grad (it has no graph)")
    pairs = list(names.items()) if isinstance(names, Mapping) else list(names or [])
    order = topological_order(loss)
    if loss._ctx.grads_to_inputs is None:
        loss.backward()

    label: dict = {}  # id(leaf tensor) or id(ctx) of an intermediate -> name
    for name, tensor in pairs:
        label[id(tensor._ctx) if tensor._ctx is not None else id(tensor)] = str(name)
    label.setdefault(id(loss._ctx), "loss")
    counters = {"param": 0, "input": 0}

    def name_of(tensor: Any) -> str:
        key = id(tensor._ctx) if tensor._ctx is not None else id(tensor)
        if key not in label:
            if tensor._ctx is None and tensor.data.size == 1 and not tensor.requires_grad:
                return f"{float(tensor.data.reshape(-1)[0]):g}"
            kind = "param" if tensor.requires_grad and tensor._ctx is None else "input"
            if tensor._ctx is not None:
                label[key] = f"{tensor._ctx.op_name}_{len(label)}"
            else:
                label[key] = f"{kind}{counters[kind]}"
                counters[kind] += 1
        return label[key]

    steps: list = []
    output_names = {}
    for ctx in order:
        input_names = [name_of(t) for t in ctx.inputs]
        output_names[id(ctx)] = label.get(id(ctx)) or f"{ctx.op_name}_{len(steps)}"
        label.setdefault(id(ctx), output_names[id(ctx)])
        out = output_names[id(ctx)]
        grad = (f"dL/d{out}", _as_array(ctx.grad_output)) if ctx.grad_output is not None else None
        inputs = [(n, _as_array(t.data)) for n, t in zip(input_names, ctx.inputs) if t.data.size > 1 or
                  t.requires_grad or t._ctx is not None]
        steps.append(TraceStep(len(steps) + 1, "forward", out, f"{ctx.op_name}({', '.join(input_names)})",
                               inputs, [(out, _as_array(ctx.output_data))], grad))
    for ctx in reversed(order):
        if ctx.grad_output is None:
            continue
        out = output_names[id(ctx)]
        sent = [(f"dL/d{name_of(t)}", _as_array(g)) for t, g in zip(ctx.inputs, ctx.grads_to_inputs or ()) if
                g is not None]
        steps.append(TraceStep(len(steps) + 1, "backward", f"dL/d({', '.join(name_of(t) for t in ctx.inputs)})",
                               f"backward of {ctx.op_name}", [(f"dL/d{out}", _as_array(ctx.grad_output))], sent,
                               note=f"chain rule through {ctx.op_name}: gradient of its output -> its inputs"))
    if update is not None:
        trainable = [(n, t) for n, t in pairs if t._ctx is None and t.requires_grad]
        before = [_as_array(t.data) for _, t in trainable]
        gradients = [_as_array(t.grad) if t.grad is not None else None for _, t in trainable]
        update()
        for (name, tensor), old, gradient in zip(trainable, before, gradients):
            inputs = [(f"{name} (before)", old)] + ([(f"dL/d{name}", gradient)] if gradient is not None else [])
            steps.append(TraceStep(len(steps) + 1, "update", name, "optimizer step", inputs,
                                   [(name, _as_array(tensor.data))]))
    return Trace(steps, title=title)


# ---------------------------------------------------------------- the tutorial's 4-3-1 network

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

    steps = [
        TraceStep(0, "data", "X, y", "read input and output", [],
                  [("X", x_data), ("y", y_data)], note="data.seed_example()"),
        TraceStep(1, "data", "wh, bh, wout, bout", f"uniform random in [0, 1) (seed={seed})", [],
                  [("wh", init["wh"]), ("bh", init["bh"]), ("wout", init["wout"]), ("bout", init["bout"])],
                  note="the parameters: leaf tensors with requires_grad=True"),
        TraceStep(2, "forward", "hidden_layer_input", "matrix_dot_product(X, wh) + bh",
                  [("X", x_data), ("wh", init["wh"]), ("bh", init["bh"])],
                  [("hidden_layer_input", _as_array(hidden_layer_input))],
                  ("dL/dhidden_layer_input", grad_of(hidden_layer_input)), note="autograd ops: matmul, add"),
        TraceStep(3, "forward", "hiddenlayer_activations", "sigmoid(hidden_layer_input)",
                  [("hidden_layer_input", _as_array(hidden_layer_input))],
                  [("hiddenlayer_activations", h)],
                  ("dL/dhiddenlayer_activations", grad_of(hiddenlayer_activations)), note="autograd op: sigmoid"),
        TraceStep(4, "forward", "output", "sigmoid(matrix_dot_product(hiddenlayer_activations, wout) + bout)",
                  [("hiddenlayer_activations", h), ("wout", init["wout"]), ("bout", init["bout"])],
                  [("output_layer_input", _as_array(output_layer_input)), ("output", out)],
                  ("dL/doutput", grad_of(output)), note="autograd ops: matmul, add, sigmoid; "
                  f"then loss = 0.5 * sum((y - output)^2) = {float(loss.item()):.6f}"),
        TraceStep(5, "backward", "E", "y - output", [("y", y_data), ("output", out)], [("E", error)],
                  note="autograd: E = -dL/doutput (the gradient sigmoid's node received)"),
        TraceStep(6, "backward", "slopes", "derivatives_sigmoid(x) = x * (1 - x)",
                  [("output", out), ("hiddenlayer_activations", h)],
                  [("slope_output_layer", slope_output_layer), ("slope_hidden_layer", slope_hidden_layer)],
                  note="what each sigmoid node's backward multiplies by: d sigmoid(u)/du = s(1 - s)"),
        TraceStep(7, "backward", "d_output", "E * slope_output_layer",
                  [("E", error), ("slope_output_layer", slope_output_layer)], [("d_output", d_output)],
                  note="autograd: d_output = -dL/doutput_layer_input (out of the output sigmoid's backward)"),
        TraceStep(8, "backward", "Error_at_hidden_layer", "matrix_dot_product(d_output, wout.T)",
                  [("d_output", d_output), ("wout", init["wout"])],
                  [("Error_at_hidden_layer", error_at_hidden_layer)],
                  note="autograd: -dL/dhiddenlayer_activations (out of matmul's backward)"),
        TraceStep(9, "backward", "d_hiddenlayer", "Error_at_hidden_layer * slope_hidden_layer",
                  [("Error_at_hidden_layer", error_at_hidden_layer), ("slope_hidden_layer", slope_hidden_layer)],
                  [("d_hiddenlayer", d_hiddenlayer)],
                  note="autograd: -dL/dhidden_layer_input (out of the hidden sigmoid's backward)"),
        TraceStep(10, "update", "wout, wh",
                  f"wout + matrix_dot_product(hiddenlayer_activations.T, d_output) * {lr:g}; "
                  f"wh + matrix_dot_product(X.T, d_hiddenlayer) * {lr:g}",
                  [("wout (before)", init["wout"]), ("dL/dwout", _as_array(wout.grad)),
                   ("wh (before)", init["wh"]), ("dL/dwh", _as_array(wh.grad))],
                  [("wout", new["wout"]), ("wh", new["wh"])],
                  note=f"gradient descent: w - {lr:g} * w.grad, the grads autograd accumulated"),
        TraceStep(11, "update", "bout, bh",
                  f"bout + sum(d_output, axis=0) * {lr:g}; bh + sum(d_hiddenlayer, axis=0) * {lr:g}",
                  [("bout (before)", init["bout"]), ("dL/dbout", _as_array(bout.grad)),
                   ("bh (before)", init["bh"]), ("dL/dbh", _as_array(bh.grad))],
                  [("bout", new["bout"]), ("bh", new["bh"])],
                  note="a bias's gradient is its delta summed over the batch (autograd's unbroadcast)"),
    ]
    return Trace(steps, title=f"One training iteration of the tutorial's 4-{hidden}-1 sigmoid network "
                              f"(steps 0-11, lr={lr:g}, seed={seed})")
