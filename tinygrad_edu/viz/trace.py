"""A step-by-step trace of one training iteration, the way a teacher writes it on the board.

`trace(loss, names=..., update=optimizer.step)` lists every forward step (the
operation, its input matrices, its output and the gradient of the loss with
respect to that output), every backward step (the gradient arriving at an
operation and the gradients it sends to its inputs) and, with ``update``, the
parameters before and after the optimizer step. `tutorial_trace()` does the
same for the 4-3-1 sigmoid network of the "Neural Networks from Scratch"
tutorial and labels the steps 0-11 with the tutorial's own names
(``hidden_layer_input``, ``d_output``, ``Error_at_hidden_layer``, ...).

`trace_model(model, (X, y))` runs one forward and backward pass of any model on
a batch and traces it.

A `Trace` prints as text (``print(trace)``); ``trace.save("trace.html")`` writes
an interactive page (one self-contained file) that steps through the forward
and backward pass like the tutorial's spreadsheet: point at a computed cell
and it turns yellow, the cells it came from orange, with its formula and
numbers beside it (see `tinygrad_edu.viz.trace_page`). In Jupyter the same
page shows inline.

Signs: a step says which convention it uses. The gradient convention is
dL/dx (what autograd computes; an update subtracts ``lr * gradient``). The
tutorial's convention starts from its error ``E = y - output``, which is
``-dL/d output`` for ``L = 0.5 * sum((y - output)^2)``, so its deltas are
negative gradients and its updates *add* ``lr * delta``.
"""
from __future__ import annotations

import html
import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, Union

import numpy as np

from tinygrad_edu.autograd import GradientSummary
from tinygrad_edu.viz import trace_page

__all__ = ["TraceStep", "Trace", "trace", "trace_model", "tutorial_trace", "execution_order"]

# The two sign conventions a step can use (see the module docstring).
GRADIENT_CONVENTION = "gradient convention: dL/dx, what autograd computes (an update subtracts lr \u00d7 gradient)"


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
        rules: output label -> how its cells were computed from the step's
            other matrices (see `tinygrad_edu.viz.trace_page`); drives the
            highlighting of the interactive page.
        convention: which sign convention the step's matrices use.
    """

    number: Union[int, str]
    phase: str
    name: str
    operation: str
    inputs: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    grad: Optional[tuple] = None
    note: str = ""
    rules: dict = field(default_factory=dict)
    convention: str = ""


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
    def to_html(self) -> str:
        """The interactive page: one self-contained HTML file (nothing is fetched)."""
        steps = []
        for step in self.steps:
            mats = ([(label, matrix, "in") for label, matrix in step.inputs]
                    + [(label, matrix, "out") for label, matrix in step.outputs]
                    + ([(step.grad[0], step.grad[1], "grad")] if step.grad is not None else []))
            index: dict = {}
            for position, (label, _, _) in enumerate(mats):
                index.setdefault(label, position)
            entries = []
            for position, (label, matrix, role) in enumerate(mats):
                summary = _summary_text(matrix) if isinstance(matrix, GradientSummary) else ""
                rule = step.rules.get(label) if role == "out" and index[label] == position else None
                if rule is not None and not summary:
                    rule = _resolve(rule, index)
                else:
                    rule = None
                entries.append(trace_page.matrix_json(label, matrix, role, rule, summary))
            seed = step.convention.startswith("seed")
            steps.append({"number": str(step.number), "phase": step.phase, "name": step.name,
                          "operation": step.operation, "note": step.note, "convention": step.convention,
                          "convention_kind": "seed" if seed else "gradient", "mats": entries})
        return trace_page.render_page(self.title, steps)

    def save(self, path: Union[str, os.PathLike]) -> Path:
        """Write the interactive page to ``path`` (atomically); returns the path."""
        path = Path(path)
        if not path.parent.is_dir():
            raise FileNotFoundError(f"Trace.save: the folder {str(path.parent)!r} of {str(path)!r} does not exist")
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            temporary.write_text(self.to_html(), encoding="utf-8")
            os.replace(temporary, path)
        finally:
            if temporary.exists():
                temporary.unlink()
        return path

    def _repr_html_(self) -> str:
        # The page in an iframe: its script and style cannot clash with the notebook's.
        return (f'<iframe srcdoc="{html.escape(self.to_html(), quote=True)}" title="{html.escape(self.title)}" '
                'style="width:100%;height:780px;border:1px solid #ddd"></iframe>')


def _resolve(rule: dict, index: dict) -> Optional[dict]:
    """``rule`` with matrix labels replaced by positions in the step (None if a label is missing)."""
    resolved = dict(rule)
    try:
        for key in ("a", "b", "c", "grad"):
            if resolved.get(key) is not None:
                resolved[key] = index[resolved[key]]
        resolved["src"] = [index[label] for label in rule.get("src", ())]
    except KeyError:
        return None
    return resolved


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


def execution_order(root: Any) -> list:
    """The graph nodes behind ``root`` in the order a program computes them.

    A depth-first walk that visits each op's inputs in call order (first
    operand first, as Python evaluates ``a @ w + b``), listing an op after
    everything it reads: for code written as expressions and statements this
    is the order the ops ran. Iterative, so any depth works.
    """
    order: list = []
    if root._ctx is None:
        return order
    done: set = set()
    stack: list = [(root._ctx, iter(root._ctx.inputs))]
    seen = {id(root._ctx)}
    while stack:
        node, pending = stack[-1]
        for tensor in pending:
            parent = tensor._ctx
            if parent is not None and id(parent) not in seen:
                seen.add(id(parent))
                stack.append((parent, iter(parent.inputs)))
                break
        else:
            stack.pop()
            if id(node) not in done:
                done.add(id(node))
                order.append(node)
    return order


# Elementwise ops: the formula of one output cell from the same position of each input.
_ELEMENTWISE = {
    "add": "{0} + {1}", "sub": "{0} \u2212 {1}", "mul": "{0} \u00d7 {1}", "div": "{0} / {1}",
    "pow": "{0} ^ {1}", "neg": "\u2212{0}", "exp": "exp({0})", "log": "log({0})", "sqrt": "\u221a{0}",
    "abs": "|{0}|", "relu": "max(0, {0})", "sigmoid": "1 / (1 + exp(\u2212{0}))", "tanh": "tanh({0})",
    "softplus": "log(1 + exp({0}))", "maximum": "max({0}, {1})", "minimum": "min({0}, {1})",
    "clip": "clip({0})", "where": "where(condition, {0}, {1})", "cast": "{0}", "expand": "{0}",
    "leakyrelu": "leaky_relu({0})", "gelu": "gelu({0})", "silu": "silu({0})", "sin": "sin({0})",
    "cos": "cos({0})", "erf": "erf({0})", "log1p": "log(1 + {0})", "expm1": "exp({0}) \u2212 1",
}
_REDUCTIONS = {"sum": np.sum, "max": np.max, "min": np.min, "mean": np.mean}
_NUMPY_REDUCE_NAMES = {"sum": "sum", "max": "max", "min": "min", "mean": "mean"}


def _broadcasts_to(shape: tuple, target: tuple) -> bool:
    if len(shape) > len(target):
        return False
    return all(s in (1, t) for s, t in zip(reversed(shape), reversed(target)))


def _reduced_axes(data: np.ndarray, out: np.ndarray, op: str) -> Optional[tuple]:
    """(axes, keepdim) of a reduction, found from the shapes and, when they leave a choice, the values."""
    ndim = data.ndim
    fn: Any = _REDUCTIONS[op]
    candidates = []
    for count in range(1, ndim + 1):
        for axes in itertools.combinations(range(ndim), count):
            for keepdim in (False, True):
                shape = tuple(1 if i in axes else s for i, s in enumerate(data.shape)) if keepdim else \
                    tuple(s for i, s in enumerate(data.shape) if i not in axes)
                if shape == out.shape:
                    candidates.append((axes, keepdim))
    if len(candidates) > 1 and data.size:
        with np.errstate(all="ignore"):
            matching = [c for c in candidates if np.allclose(fn(data, axis=c[0], keepdims=c[1]), out,
                                                             rtol=1e-5, atol=1e-6, equal_nan=True)]
        candidates = matching or candidates
    return candidates[0] if candidates else None


def _permutation(data: np.ndarray, out: np.ndarray) -> Optional[tuple]:
    if data.ndim > 6:
        return None
    for perm in itertools.permutations(range(data.ndim)):
        if tuple(data.shape[p] for p in perm) == out.shape and np.array_equal(np.transpose(data, perm), out,
                                                                               equal_nan=True):
            return perm
    return None


def _matmul_sizes(a_shape: tuple, b_shape: tuple, out_size: int) -> Optional[dict]:
    """M, N, K and batch counts of ``a @ b`` (None when batch axes broadcast partially)."""
    m = 1 if len(a_shape) == 1 else a_shape[-2]
    n = 1 if len(b_shape) == 1 else b_shape[-1]
    k = a_shape[-1]
    batches = out_size // max(1, m * n)
    batch_a = int(np.prod(a_shape[:-2], dtype=np.int64)) if len(a_shape) > 2 else 1
    batch_b = int(np.prod(b_shape[:-2], dtype=np.int64)) if len(b_shape) > 2 else 1
    if batch_a not in (1, batches) or batch_b not in (1, batches):
        return None
    return {"M": m, "N": n, "K": k, "nb": batches, "ba": batch_a, "bb": batch_b}


def _forward_rule(ctx: Any, labels: list) -> dict:
    """How each cell of ``ctx``'s output comes from its inputs (labels name the step's input matrices)."""
    op = ctx.op_name
    inputs = [t.data for t in ctx.inputs]
    out = np.asarray(ctx.output_data)
    if op == "matmul" and len(inputs) == 2 and inputs[0].ndim and inputs[1].ndim:
        sizes = _matmul_sizes(inputs[0].shape, inputs[1].shape, out.size)
        if sizes is not None:
            return {"kind": "matmul", "a": labels[0], "b": labels[1], "ta": False, "tb": False, **sizes}
    if op == "linear" and len(inputs) in (2, 3):
        x, weight = inputs[0], inputs[1]
        rule = {"kind": "matmul", "a": labels[0], "b": labels[1], "ta": False, "tb": True,
                "M": x.size // max(1, x.shape[-1]), "N": weight.shape[0], "K": weight.shape[1],
                "nb": 1, "ba": 1, "bb": 1}
        if len(inputs) == 3:
            rule["c"] = labels[2]
        return rule
    if op in _REDUCTIONS and len(inputs) == 1:
        found = _reduced_axes(inputs[0], out, op)
        if found is not None:
            return {"kind": "reduce", "src": labels[:1], "axes": list(found[0]), "keepdim": found[1],
                    "fn": _NUMPY_REDUCE_NAMES[op]}
    if op == "reshape" and len(inputs) == 1:
        return {"kind": "reshape", "src": labels[:1]}
    if op in ("permute", "transpose") and len(inputs) == 1:
        perm = _permutation(inputs[0], out)
        if perm is not None:
            return {"kind": "permute", "src": labels[:1], "perm": list(perm)}
    if op in _ELEMENTWISE and all(_broadcasts_to(x.shape, out.shape) for x in inputs):
        return {"kind": "elementwise", "src": labels, "expr": _ELEMENTWISE[op]}
    return {"kind": "all", "src": labels, "expr": f"{op}({', '.join(labels)})"}


def _backward_rules(ctx: Any, grad_label: str, labels: list, grad_labels: list) -> dict:
    """How each cell of the gradient sent to each input comes from dL/d output and the inputs."""
    op = ctx.op_name
    inputs = [t.data for t in ctx.inputs]
    out_shape = np.asarray(ctx.output_data).shape
    rules: dict = {}
    for position, target in enumerate(grad_labels):
        if target is None:
            continue
        rule: Optional[dict] = None
        if op == "matmul" and len(inputs) == 2 and inputs[0].ndim >= 2 and inputs[1].ndim >= 2:
            sizes = _matmul_sizes(inputs[0].shape, inputs[1].shape, int(np.prod(out_shape)))
            if sizes is not None:
                m, n, k, nb = sizes["M"], sizes["N"], sizes["K"], sizes["nb"]
                if position == 0 and sizes["ba"] == nb:     # dA = G @ B^T
                    rule = {"kind": "matmul", "a": grad_label, "b": labels[1], "ta": False, "tb": True,
                            "M": m, "N": k, "K": n, "nb": nb, "ba": nb, "bb": sizes["bb"]}
                elif position == 1 and sizes["bb"] == nb:   # dB = A^T @ G
                    rule = {"kind": "matmul", "a": labels[0], "b": grad_label, "ta": True, "tb": False,
                            "M": k, "N": n, "K": m, "nb": nb, "ba": sizes["ba"], "bb": nb}
                elif position == 1 and sizes["bb"] == 1 and sizes["ba"] == nb:  # shared B: sum over batches
                    rule = {"kind": "matmul", "a": labels[0], "b": grad_label, "ta": True, "tb": False,
                            "M": k, "N": n, "K": m * nb, "nb": 1, "ba": 1, "bb": 1}
        elif op == "linear":
            x, weight = inputs[0], inputs[1]
            rows, n_out, n_in = x.size // max(1, x.shape[-1]), weight.shape[0], weight.shape[1]
            if position == 0:    # dx = G @ W
                rule = {"kind": "matmul", "a": grad_label, "b": labels[1], "ta": False, "tb": False,
                        "M": rows, "N": n_in, "K": n_out, "nb": 1, "ba": 1, "bb": 1}
            elif position == 1:  # dW = G^T @ x
                rule = {"kind": "matmul", "a": grad_label, "b": labels[0], "ta": True, "tb": False,
                        "M": n_out, "N": n_in, "K": rows, "nb": 1, "ba": 1, "bb": 1}
            else:                # db = G summed over the batch
                rule = {"kind": "reduce", "src": [grad_label], "axes": list(range(len(out_shape) - 1)),
                        "keepdim": False, "fn": "sum"}
        elif op in ("sum", "max", "min") and len(inputs) == 1:
            found = _reduced_axes(inputs[0], np.asarray(ctx.output_data), op)
            if found is not None:
                rule = {"kind": "spread", "src": [grad_label], "axes": list(found[0]), "keepdim": found[1]}
        elif op == "reshape":
            rule = {"kind": "reshape", "src": [grad_label]}
        elif op in ("permute", "transpose"):
            perm = _permutation(inputs[0], np.asarray(ctx.output_data))
            if perm is not None:
                rule = {"kind": "permute", "src": [grad_label], "perm": [int(i) for i in np.argsort(perm)]}
        elif op in _ELEMENTWISE and all(_broadcasts_to(x.shape, out_shape) for x in inputs):
            rule = {"kind": "grad_elementwise", "grad": grad_label, "src": [labels[position]],
                    "outname": grad_label[4:] if grad_label.startswith("dL/d") else "out",
                    "inname": labels[position]}
        if rule is None:
            rule = {"kind": "all", "src": [grad_label, *labels], "expr": f"backward of {op}"}
        rules[target] = rule
    return rules


def _pairs(names: Any) -> list:
    if names is None:
        return []
    return list(names.items()) if isinstance(names, Mapping) else list(names)


def trace(
    loss: Any,
    names: Optional[Union[Iterable, Mapping]] = None,
    update: Optional[Callable[[], Any]] = None,
    title: str = "One training iteration",
    *,
    model: Any = None,
) -> Trace:
    """Trace one iteration: every forward op, every backward op and (optionally) the update.

    Runs ``loss.backward()`` first unless it has already run on this graph.

    Args:
        loss: the scalar loss Tensor, just computed.
        names: ``(name, tensor)`` pairs (or a name -> tensor mapping) naming
            parameters, inputs and any intermediate results you kept, e.g.
            ``list(model.named_parameters()) + [("X", x), ("hidden", h)]``.
            Results of a module's call are named after the module (``layers.0``)
            when the module's parameters are among ``names``.
        update: called after backward to change the parameters, e.g.
            ``optimizer.step``; the named tensors that require grad are shown
            before and after it.
        title: heading of the trace.
        model: the `nn.Module` that computed ``loss``: results its modules
            returned are named after them (``layers.0.out``).

    Returns:
        A `Trace`: forward steps in execution order (`execution_order`),
        backward steps in the reverse order, then the updates.

    >>> from tinygrad_edu import Tensor
    >>> w = Tensor([[2.0]], requires_grad=True)
    >>> x = Tensor([[3.0]])
    >>> t = trace((x @ w).sum(), names=[("w", w), ("x", x)])
    >>> [step.phase for step in t]
    ['forward', 'forward', 'backward', 'backward']
    """
    if not hasattr(loss, "_ctx") or loss._ctx is None:
        raise ValueError("trace needs a loss computed from tensors that require grad (it has no graph)")
    pairs = _pairs(names)
    order = execution_order(loss)
    if loss._ctx.grads_to_inputs is None:
        loss.backward()

    label: dict = {}  # id(leaf tensor) or id(ctx) of an intermediate -> name
    for name, tensor in pairs:
        label[id(tensor._ctx) if tensor._ctx is not None else id(tensor)] = str(name)
    label.setdefault(id(loss._ctx), "loss")
    for key, name in _module_output_names(order, pairs, model).items():
        label.setdefault(key, name)
    counters = {"param": 0, "input": 0}
    step_of = {id(ctx): number for number, ctx in enumerate(order, start=1)}

    def name_of(tensor: Any) -> str:
        key = id(tensor._ctx) if tensor._ctx is not None else id(tensor)
        if key not in label:
            if tensor._ctx is None and tensor.data.size == 1 and not tensor.requires_grad:
                return f"{float(tensor.data.reshape(-1)[0]):g}"
            kind = "param" if tensor.requires_grad and tensor._ctx is None else "input"
            if tensor._ctx is not None:
                label[key] = f"{tensor._ctx.op_name}_{step_of.get(id(tensor._ctx), 0)}"
            else:
                label[key] = f"{kind}{counters[kind]}"
                counters[kind] += 1
        return label[key]

    module_of = _module_of_ops(loss, pairs, model)
    steps: list = []
    output_names = {}
    forward_note = "forward value; beside it dL/d(this result), the gradient backward sent into it"
    for ctx in order:
        input_names = [name_of(t) for t in ctx.inputs]
        output_names[id(ctx)] = label.get(id(ctx)) or f"{ctx.op_name}_{step_of[id(ctx)]}"
        label.setdefault(id(ctx), output_names[id(ctx)])
        out = output_names[id(ctx)]
        grad = (f"dL/d{out}", _as_array(ctx.grad_output)) if ctx.grad_output is not None else None
        inputs = [(n, _as_array(t.data)) for n, t in zip(input_names, ctx.inputs)]
        steps.append(TraceStep(len(steps) + 1, "forward", out, f"{ctx.op_name}({', '.join(input_names)})",
                               inputs, [(out, _as_array(ctx.output_data))], grad, note=module_of.get(id(ctx), ""),
                               rules={out: _forward_rule(ctx, input_names)},
                               convention=GRADIENT_CONVENTION if grad is not None else forward_note))
    for ctx in reversed(order):
        if ctx.grad_output is None:
            continue
        out = output_names[id(ctx)]
        input_names = [name_of(t) for t in ctx.inputs]
        grad_label = f"dL/d{out}"
        sent: list = []
        targets: list = []
        for name, g in zip(input_names, ctx.grads_to_inputs or ()):
            target = f"dL/d{name}" if g is not None and f"dL/d{name}" not in {s[0] for s in sent} else None
            targets.append(target)
            if target is not None:
                sent.append((target, _as_array(g)))
        targets += [None] * (len(input_names) - len(targets))
        shown_inputs = [(grad_label, _as_array(ctx.grad_output))] + [
            (n, _as_array(t.data)) for n, t in zip(input_names, ctx.inputs) if f"dL/d{n}" != grad_label]
        steps.append(TraceStep(len(steps) + 1, "backward", f"dL/d({', '.join(input_names)})",
                               f"backward of {ctx.op_name}", shown_inputs, sent,
                               note=f"chain rule through {ctx.op_name}: gradient of its output -> its inputs"
                                    + (f"; {module_of[id(ctx)]}" if id(ctx) in module_of else ""),
                               rules=_backward_rules(ctx, grad_label, input_names, targets),
                               convention=GRADIENT_CONVENTION))
    if update is not None:
        trainable = [(n, t) for n, t in pairs if t._ctx is None and t.requires_grad]
        before = [_as_array(t.data) for _, t in trainable]
        gradients = [_as_array(t.grad) if t.grad is not None else None for _, t in trainable]
        update()
        for (name, tensor), old, gradient in zip(trainable, before, gradients):
            inputs = [(f"{name} (before)", old)] + ([(f"dL/d{name}", gradient)] if gradient is not None else [])
            srcs = [label for label, _ in inputs]
            rule = {"kind": "elementwise", "src": srcs,
                    "expr": "optimizer step from {0}" + (" and {1}" if len(srcs) > 1 else "")}
            steps.append(TraceStep(len(steps) + 1, "update", name, "optimizer step", inputs,
                                   [(name, _as_array(tensor.data))], rules={name: rule},
                                   convention=GRADIENT_CONVENTION))
    return Trace(steps, title=title)


def _module_of_ops(loss: Any, pairs: list, model: Any) -> dict:
    """id(ctx) -> "in module blocks.0.attn (SelfAttention)", from the module calls `draw_graph` groups by."""
    from tinygrad_edu.viz.graph_collect import _collect, _group_by_module

    named = [(str(name), t) for name, t in pairs if t._ctx is None and t.requires_grad]
    modules = _group_by_module(_collect(loss, named, []), named, model)
    return {op: f"in module {call.name} ({type(call.module).__name__})" for op, call in modules.of_op.items()}


def _module_output_names(order: list, pairs: list, model: Any = None) -> dict:
    """id(ctx) -> "blocks.0.out" for results a module call returned (`nn.module.module_calls`).

    Names come from ``model.named_modules()`` when a model is given, else from
    the dotted names of the module's parameters among ``pairs``.
    """
    from tinygrad_edu.nn.module import module_calls

    module_name = {id(m): name for name, m in model.named_modules()} if hasattr(model, "named_modules") else {}
    owner = {id(t): str(name).rsplit(".", 1)[0] for name, t in pairs if "." in str(name)}
    names: dict = {}
    for tensor in [t for ctx in order for t in ctx.inputs] + [None]:
        if tensor is None or tensor._ctx is None or id(tensor._ctx) in names:
            continue
        for module, _ in module_calls(tensor):
            name = module_name.get(id(module))
            if not name:
                name = next((owner[id(p)] for p in module.parameters() if id(p) in owner), None)
            if name:
                names[id(tensor._ctx)] = f"{name}.out"
                break
    return names


def trace_model(
    model: Callable,
    batch: Any,
    loss_fn: Optional[Callable] = None,
    update: Optional[Callable[[], Any]] = None,
    title: Optional[str] = None,
) -> Trace:
    """Run one forward and backward pass of ``model`` on ``batch`` and trace it.

    Args:
        model: any callable taking the input Tensor (usually an `nn.Module`).
        batch: ``(X, y)`` or just ``X`` (arrays or Tensors).
        loss_fn: ``loss_fn(output, y)``; by default cross-entropy for integer
            targets and mean squared error for floating ones (with no ``y``,
            the sum of the output).
        update: called after backward, e.g. ``optimizer.step``.
        title: heading of the trace.

    Returns:
        A `Trace`: ``trace.save("trace.html")`` writes the interactive page;
        in Jupyter it displays inline.

    >>> import tinygrad_edu.nn as nn
    >>> import numpy as np
    >>> t = trace_model(nn.Linear(2, 1), (np.ones((3, 2), np.float32), np.zeros((3, 1), np.float32)))
    >>> t[0].name, t[0].operation
    ('0.out', 'linear(X, 0.weight, 0.bias)')
    """
    from tinygrad_edu.tensor import Tensor

    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        inputs, targets = batch
    else:
        inputs, targets = batch, None
    x = inputs if isinstance(inputs, Tensor) else Tensor(np.asarray(inputs))
    output = model(x)
    named = list(model.named_parameters()) if hasattr(model, "named_parameters") else []
    if not any("." in name for name, _ in named):  # a bare layer: name its parameters like a one-layer model
        named = [(f"0.{name}", p) for name, p in named]
    pairs = named + [("X", x)]
    if loss_fn is not None:
        loss = loss_fn(output, targets)
    elif targets is None:
        loss = output.sum()
    else:
        import tinygrad_edu.nn.functional as F  # noqa: N812 (PyTorch's name)

        target_data = targets.data if isinstance(targets, Tensor) else np.asarray(targets)
        if np.issubdtype(target_data.dtype, np.integer):
            loss = F.cross_entropy(output, target_data)
        else:
            y = targets if isinstance(targets, Tensor) else Tensor(target_data.astype(output.dtype))
            pairs.append(("y", y))
            loss = F.mse_loss(output, y)
    return trace(loss, names=pairs, update=update, model=model,
                 title=title or f"One training iteration of {type(model).__name__}")


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
