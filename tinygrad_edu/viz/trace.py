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

The pieces: `trace_steps` (`TraceStep`, `Trace`: the text and the page),
`trace_rules` (how each cell of a step was computed, for the page's
highlighting) and `trace_tutorial` (`tutorial_trace`); this module records the
steps of any graph.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Optional, Union

import numpy as np

from tinygrad_edu.viz.trace_rules import _backward_rules, _forward_rule
from tinygrad_edu.viz.trace_steps import Trace, TraceStep, _as_array
from tinygrad_edu.viz.trace_tutorial import tutorial_trace

__all__ = ["TraceStep", "Trace", "trace", "trace_model", "tutorial_trace", "execution_order"]

# The two sign conventions a step can use (see the module docstring).
GRADIENT_CONVENTION = "gradient convention: dL/dx, what autograd computes (an update subtracts lr \u00d7 gradient)"


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

