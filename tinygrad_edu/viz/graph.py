"""Draw the computation graph behind a tensor, with the gradient flowing back through it.

`draw_graph(loss)` returns a `graphviz.Digraph`: one oval per operation, one box
per tensor (name, shape, dtype), coloured by role, and, once `loss.backward()`
has run, every edge coloured and thickened by the size of the gradient that
travelled back along it. Vanishing and exploding gradients get their own colour
and a label, so they can be spotted at a glance. `render_graph` writes the
drawing to a file with the Graphviz `dot` program.

The walk uses `tinygrad_edu.autograd.topological_order` (iterative), and node
names follow the order of discovery, so the same graph always gives the same
DOT source.
"""
from __future__ import annotations

import html
import itertools
import math
import os
import shutil
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Union

import numpy as np

try:
    import graphviz
except ImportError:  # pragma: no cover - graphviz is a declared dependency of viz
    graphviz = None

from tinygrad_edu.autograd import GradientSummary

__all__ = ["draw_graph", "render_graph", "GraphvizNotFoundError", "ROLE_COLORS", "GRAD_COLORS"]

# Fill colours of tensor nodes, by the role the tensor plays in the graph.
ROLE_COLORS = {
    "parameter": "#b7e4a8",     # green: what training changes
    "input": "#b9d7f0",         # blue: data fed in
    "output": "#ffd27f",        # orange: the tensor the graph was drawn from (the loss)
    "intermediate": "#f4f4f4",  # light grey: results of operations
    "constant": "#ffffff",      # white, dashed border: numbers and arrays the code made (not data, no gradient)
    "detached": "#e0e0e0",      # grey, dashed border: a .detach()ed copy (no gradient flows back through it)
}
OP_COLOR = "#fff6c8"
MODULE_COLOR = "#dde8d4"        # a collapsed module
COLLAPSE_ABOVE = 60             # graphs with more ops than this collapse each module by default
CONTAINERS = ("Sequential", "ModuleList", "ModuleDict")  # opened when collapsing: their members are the modules

# Edge colours for the gradient flowing back along an edge.
GRAD_COLORS = {
    "none": "#b0b0b0",        # no gradient travels this edge (or backward has not run)
    "vanishing": "#d62fd6",   # magenta, dashed: gradient too small to move anything
    "exploding": "#e3120b",   # red, bold: gradient far too large (or nan/inf)
}
# Normal gradients run from pale (small) to dark (large) on a log scale.
_GRAD_RAMP = ((0.0, (0xa9, 0xc8, 0xe6)), (0.5, (0x3a, 0x85, 0xc2)), (1.0, (0x08, 0x1d, 0x58)))
_DECADES = 4.0          # the colour ramp spans this many powers of ten below the largest norm
_MIN_PEN, _MAX_PEN = 1.3, 5.0

_INSTALL_HINT = (
    "install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz; "
    "others: https://graphviz.org/download/)"
)


class GraphvizNotFoundError(RuntimeError):
    """The Graphviz `dot` program is missing; the graph's DOT source was written instead.

    Attributes:
        dot_path: where the `.dot` source was written.
    """

    def __init__(self, message: str, dot_path: Path) -> None:
        super().__init__(message)
        self.dot_path = dot_path


# ---------------------------------------------------------------- small helpers

def _shape_text(shape: tuple) -> str:
    return "(" + ", ".join(str(size) for size in shape) + ("," if len(shape) == 1 else "") + ")"


def _format_number(value: float) -> str:
    """Short, fixed formatting so that labels (and the DOT source) never vary between runs."""
    if not math.isfinite(value):
        return str(value)
    if value == 0 or 1e-3 <= abs(value) < 1e4:
        return f"{value:.4g}"
    return f"{value:.2e}"


def _values_text(data: np.ndarray) -> str:
    if data.size == 1:
        return _format_number(float(data.reshape(-1)[0]))
    return np.array2string(np.asarray(data, dtype=np.float64), precision=3, separator=", ",
                           suppress_small=True, max_line_width=40)


def _norm(grad: Any) -> float:
    if isinstance(grad, GradientSummary):  # a large gradient: the node kept only its norm
        return grad.norm
    data = np.asarray(grad.data if hasattr(grad, "data") else grad, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.sqrt(np.sum(data * data)))


def _mix(position: float) -> str:
    """Colour of the normal-gradient ramp at ``position`` in [0, 1]."""
    for (left, low), (right, high) in zip(_GRAD_RAMP, _GRAD_RAMP[1:]):
        if position <= right:
            t = (position - left) / (right - left)
            return "#" + "".join(f"{round(a + (b - a) * t):02x}" for a, b in zip(low, high))
    return "#" + "".join(f"{c:02x}" for c in _GRAD_RAMP[-1][1])


def _named(params: Any) -> list:
    """``params`` as a list of (name, tensor) pairs (accepts pairs or a name -> tensor mapping)."""
    if params is None:
        return []
    items = params.items() if isinstance(params, Mapping) else params
    pairs = []
    for item in items:
        try:
            name, tensor = item
        except (TypeError, ValueError):
            raise TypeError(
                "params must be (name, tensor) pairs, e.g. model.named_parameters(), "
                f"got an item of type {type(item).__name__}"
            ) from None
        if not hasattr(tensor, "_ctx") or not hasattr(tensor, "data"):
            raise TypeError(f"params: {name!r} is a {type(tensor).__name__}, not a Tensor")
        pairs.append((str(name), tensor))
    return pairs


class _GradStyle:
    """Classifies gradient norms and picks edge attributes.

    Kinds: "exploding" (above ``exploding`` or nan/inf), "rounding" (a zero
    that came out of floating-point cancellation, e.g. the gradient of a
    subtracted mean; exact zeros too), "vanishing" (below ``vanishing`` times
    a scale: a parameter's own size, so a layer is judged by its own numbers,
    or for results of ops the largest gradient in the graph) and "normal".
    """

    def __init__(self, norms: list, vanishing: float, exploding: float) -> None:
        finite = [n for n in norms if math.isfinite(n)]
        self.largest = max(finite) if finite else 0.0
        self.vanishing = vanishing
        self.exploding = exploding

    def kind(self, norm: float, scale: float = 0.0, rounding: float = 0.0) -> str:
        """``scale``: norm of the tensor the gradient belongs to; ``rounding``: the op's rounding level."""
        if not math.isfinite(norm) or norm > self.exploding:
            return "exploding"
        if norm <= rounding:
            return "rounding"
        if scale > 0 and norm < self.vanishing * scale:
            return "vanishing"
        if scale == 0 and norm < self.vanishing:  # a tensor of zeros (a fresh bias): judge in absolute terms
            return "vanishing"
        return "normal"

    def attributes(self, norm: float, scale: float = 0.0, rounding: float = 0.0) -> dict:
        kind = self.kind(norm, scale, rounding)
        text = _format_number(norm)
        if kind == "exploding":
            return {"color": GRAD_COLORS["exploding"], "penwidth": "6", "fontcolor": GRAD_COLORS["exploding"],
                    "label": f"EXPLODING {text}"}
        if kind == "rounding":
            return {"color": GRAD_COLORS["none"], "penwidth": "1", "style": "dotted",
                    "label": "0" if norm == 0 else "\u22480"}
        if kind == "vanishing":
            return {"color": GRAD_COLORS["vanishing"], "penwidth": "2", "style": "dashed",
                    "fontcolor": GRAD_COLORS["vanishing"], "label": f"vanishing {text}"}
        position = 1.0
        if self.largest > 0:
            position = min(1.0, max(0.0, 1.0 + math.log10(norm / self.largest) / _DECADES))
        return {"color": _mix(position), "penwidth": f"{_MIN_PEN + (_MAX_PEN - _MIN_PEN) * position:.2f}",
                "label": text}


def _legend_label(show_grad: bool, collapsed: bool) -> str:
    rows = ['<TR><TD COLSPAN="2"><B>legend</B></TD></TR>']
    for role, colour in ROLE_COLORS.items():
        rows.append(f'<TR><TD BGCOLOR="{colour}" WIDTH="18"> </TD><TD ALIGN="LEFT">{role} tensor</TD></TR>')
    rows.append(f'<TR><TD BGCOLOR="{OP_COLOR}"> </TD><TD ALIGN="LEFT">operation (its result below it)</TD></TR>')
    if collapsed:
        rows.append(f'<TR><TD BGCOLOR="{MODULE_COLOR}"> </TD><TD ALIGN="LEFT">a module, collapsed '
                    '(draw_graph(..., expand=[name]) or depth=1 opens it)</TD></TR>')
    if show_grad:
        rows.append('<TR><TD COLSPAN="2" ALIGN="LEFT"><B>edges: gradient norm</B></TD></TR>')
        rows.append(f'<TR><TD BGCOLOR="{_mix(1.0)}"> </TD><TD ALIGN="LEFT">largest (thick)</TD></TR>')
        rows.append(f'<TR><TD BGCOLOR="{_mix(0.5)}"> </TD>'
                    f'<TD ALIGN="LEFT">1e-{_DECADES / 2:g} of largest</TD></TR>')
        rows.append(f'<TR><TD BGCOLOR="{_mix(0.0)}"> </TD>'
                    f'<TD ALIGN="LEFT">1e-{_DECADES:g} of largest (thin)</TD></TR>')
        rows.append(f'<TR><TD BGCOLOR="{GRAD_COLORS["vanishing"]}"> </TD>'
                    '<TD ALIGN="LEFT">vanishing: tiny next to its parameter, or to the largest (dashed)</TD></TR>')
        rows.append(f'<TR><TD BGCOLOR="{GRAD_COLORS["exploding"]}"> </TD>'
                    '<TD ALIGN="LEFT">exploding / nan</TD></TR>')
        rows.append(f'<TR><TD BGCOLOR="{GRAD_COLORS["none"]}"> </TD>'
                    '<TD ALIGN="LEFT">no gradient; dotted: 0 or \u22480 (rounding)</TD></TR>')
    return ('<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">'
            + "".join(rows) + "</TABLE>>")


# ---------------------------------------------------------------- step 1: collect

@dataclass
class _Leaf:
    tensor: Any
    role: str             # a key of ROLE_COLORS
    name: Optional[str]   # the user's name, else None
    note: str = ""        # e.g. "detached from layers.0 (Linear)"


@dataclass
class _Collected:
    root: Any
    order: list                                  # graph nodes in execution order
    leaves: dict = field(default_factory=dict)   # id(leaf tensor) -> _Leaf, in discovery order
    extra_inputs: list = field(default_factory=list)  # named tensors/arrays the graph reads as plain arrays


def _collect(root: Any, named: list, inputs: list) -> _Collected:
    """Walk the graph behind ``root``: its ops in execution order and every leaf with its role and name."""
    from tinygrad_edu.viz.trace import execution_order

    names = {id(t): name for name, t in named + inputs if hasattr(t, "_ctx")}
    given_params = bool(named)
    collected = _Collected(root, execution_order(root))
    leaves = [root] if root._ctx is None else []
    leaves += [t for ctx in collected.order for t in ctx.inputs if t._ctx is None]
    for tensor in leaves:
        if id(tensor) in collected.leaves:
            continue
        name = names.get(id(tensor))
        if tensor is root:
            role = "output"
        elif tensor.requires_grad and (id(tensor) in names or not given_params):
            role = "parameter"
        elif name is None and not tensor.requires_grad and tensor.data.size == 1:
            role = "constant"
        else:
            role = "input"
        collected.leaves[id(tensor)] = _Leaf(tensor, role, name)
    _mark_detached(collected, names)
    in_graph = set(collected.leaves) | {id(t) for ctx in collected.order for t in ctx.inputs}
    collected.extra_inputs = [(name, t) for name, t in inputs if id(t) not in in_graph]
    return collected


def _base(array: np.ndarray) -> int:
    """id() of the array that owns ``array``'s memory (views share it)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return id(array)


def _mark_detached(collected: _Collected, names: dict) -> None:
    """A leaf without grad that shares memory with a result of this graph (or a parameter) was detached."""
    owners: dict = {}  # id(memory owner) -> (what, ctx or None)
    for leaf in collected.leaves.values():
        if leaf.role == "parameter":
            owners.setdefault(_base(leaf.tensor.data), (leaf.name or "a parameter", None))
    for ctx in collected.order:
        output = ctx.output_data
        if isinstance(output, np.ndarray):
            owners.setdefault(_base(output), (f"a {ctx.op_name} result", ctx))
    for leaf in collected.leaves.values():
        if leaf.role != "input" or leaf.tensor.requires_grad:
            continue
        owner = owners.get(_base(leaf.tensor.data))
        if owner is not None and (owner[1] is None or not _reads(owner[1], leaf.tensor)):
            leaf.role, leaf.note = "detached", f"detached from {owner[0]}"


def _reads(ctx: Any, tensor: Any) -> bool:
    """Whether ``tensor`` is among the inputs of ``ctx`` or of the ops before it (a view of it is not detached)."""
    stack, seen = [ctx], set()
    while stack:
        node = stack.pop()
        for item in node.inputs:
            if item is tensor:
                return True
            if item._ctx is not None and id(item._ctx) not in seen:
                seen.add(id(item._ctx))
                stack.append(item._ctx)
    return False


# ---------------------------------------------------------------- step 2: group by module

@dataclass
class _Call:
    """One call of a module that built part of this graph."""

    key: int
    module: Any
    name: str
    ops: set                       # id(ctx) of the ops the call ran
    inputs: list = field(default_factory=list)  # (id(tensor), id(tensor._ctx)) of the tensors the call received
    guessed: bool = False                       # the name is the class name (no model or parameter told it)
    parent: Optional["_Call"] = None
    depth: int = 0
    children: list = field(default_factory=list)


@dataclass
class _Modules:
    calls: list = field(default_factory=list)    # outermost first
    of_op: dict = field(default_factory=dict)    # id(ctx) -> innermost _Call
    of_leaf: dict = field(default_factory=dict)  # id(parameter) -> _Call it is drawn in
    model_call: Optional[_Call] = None           # the one call holding all the others (the model), if any


def _group_by_module(collected: _Collected, named: list, model: Any) -> _Modules:
    """Which module call ran each op, from the calls `nn.Module.__call__` recorded (`nn.module.module_calls`).

    A call owns the ops between its inputs and its output, so an op lands in the
    module that ran it whatever its inputs are (a Linear without bias, the
    mean and variance inside a BatchNorm).
    """
    from tinygrad_edu.nn.module import module_calls

    modules = _Modules()
    in_graph = {id(ctx): ctx for ctx in collected.order}
    module_name = {id(m): name for name, m in model.named_modules() if name} if model is not None else {}
    param_name = {id(t): name for name, t in named}
    tensors = [collected.root] + [t for ctx in collected.order for t in ctx.inputs if t._ctx is not None]
    seen: set = set()
    for tensor in tensors:
        if id(tensor) in seen or id(tensor._ctx) not in in_graph:
            continue
        seen.add(id(tensor))
        for module, module_inputs in module_calls(tensor):
            stops = {ctx_id for _, ctx_id in module_inputs}
            ops = _ops_between(tensor._ctx, stops)
            name = module_name.get(id(module)) or _name_from_parameters(module, param_name)
            modules.calls.append(_Call(len(modules.calls), module, name or type(module).__name__, ops,
                                       list(module_inputs), guessed=name is None))
    # Nesting: a call's parent is the smallest call that holds all its ops (the later one on a tie:
    # module_calls lists the inner call first).
    for call in modules.calls:
        holders = [c for c in modules.calls if c is not call and call.ops <= c.ops
                   and (len(c.ops) > len(call.ops) or c.key > call.key)]
        if holders:
            call.parent = min(holders, key=lambda c: (len(c.ops), c.key))
            call.parent.children.append(call)
    for call in modules.calls:
        depth, parent = 0, call.parent
        while parent is not None:
            depth, parent = depth + 1, parent.parent
        call.depth = depth
    for call in sorted(modules.calls, key=lambda c: c.depth):  # parameter-free modules: their attribute path
        if call.guessed and call.parent is not None and hasattr(call.parent.module, "named_modules"):
            relative = next((n for n, m in call.parent.module.named_modules() if m is call.module and n), None)
            if relative is not None:
                prefix = "" if call.parent.guessed and call.parent.parent is None else call.parent.name + "."
                call.name, call.guessed = prefix + relative, False
    guessed = [call.name for call in modules.calls if call.guessed]
    counts: dict = {}
    for call in modules.calls:  # still unnamed: the class name, numbered when it repeats
        if call.guessed and guessed.count(call.name) > 1:
            counts[call.name] = counts.get(call.name, 0) + 1
            call.name = f"{call.name}#{counts[call.name]}"
    tops = [c for c in modules.calls if c.parent is None]
    if len(tops) == 1 and tops[0].children:
        modules.model_call = tops[0]
    modules.calls.sort(key=lambda c: (c.depth, min((_position(collected, i) for i in c.ops), default=0)))
    for call in sorted(modules.calls, key=lambda c: c.depth):  # inner calls overwrite outer ones
        for op in call.ops:
            modules.of_op[op] = call
    for ctx in collected.order:  # a parameter goes in the innermost call that holds every op reading it
        for tensor in ctx.inputs:
            leaf = collected.leaves.get(id(tensor))
            if leaf is None or leaf.role not in ("parameter", "constant") and leaf.name is not None:
                continue
            call = modules.of_op.get(id(ctx))
            if id(tensor) in modules.of_leaf:
                call = _common(modules.of_leaf[id(tensor)], call)
            modules.of_leaf[id(tensor)] = call
    return modules


def _name_inputs(collected: _Collected, modules: _Modules) -> None:
    """Unnamed data: an array made inside one module (a mask) is one of its constants; the rest are numbered."""
    number = 0
    for key, leaf in collected.leaves.items():
        if leaf.role not in ("input", "detached") or leaf.name is not None:
            continue
        if modules.of_leaf.get(key) is not None and leaf.role == "input":
            leaf.role = "constant"
        else:
            number += 1
            leaf.name = f"input {number}"
    for key in [k for k, leaf in collected.leaves.items() if leaf.role not in ("parameter", "constant")]:
        modules.of_leaf.pop(key, None)


def _position(collected: _Collected, op_id: int) -> int:
    if not hasattr(collected, "_positions"):
        collected._positions = {id(ctx): i for i, ctx in enumerate(collected.order)}  # type: ignore[attr-defined]
    return collected._positions.get(op_id, 0)  # type: ignore[attr-defined]


def _common(first: Optional[_Call], second: Optional[_Call]) -> Optional[_Call]:
    """The innermost call holding both (None: the top level)."""
    ancestors = set()
    node = first
    while node is not None:
        ancestors.add(node.key)
        node = node.parent
    node = second
    while node is not None and node.key not in ancestors:
        node = node.parent
    return node


def _ops_between(output_ctx: Any, stops: set) -> set:
    """id() of the ops from ``output_ctx`` back to (not including) the ops in ``stops``."""
    found = {id(output_ctx)}
    stack = [output_ctx]
    while stack:
        node = stack.pop()
        for tensor in node.inputs:
            parent = tensor._ctx
            if parent is not None and id(parent) not in stops and id(parent) not in found:
                found.add(id(parent))
                stack.append(parent)
    return found


def _name_from_parameters(module: Any, param_name: dict) -> Optional[str]:
    """A module's dotted name, read off one of its parameters' names (``blocks.0.attn.weight`` -> ``blocks.0``)."""
    if not hasattr(module, "named_parameters"):
        return None
    for relative, tensor in module.named_parameters():
        full = param_name.get(id(tensor))
        if full is not None and full.endswith(relative):
            return full[: -len(relative)].rstrip(".") or None
    return None


# ---------------------------------------------------------------- step 3: style

@dataclass
class _Styled:
    style: Optional[_GradStyle]
    norms: dict                        # id(gradient) -> norm
    noise: set                         # (id(ctx), input position): gradients that are rounding noise


def _summed(ctx: Any, tensor: Any) -> bool:
    """Whether the gradient ``ctx`` sends to ``tensor`` is a sum (broadcast input, matmul): it can cancel."""
    return tensor.data.size < np.asarray(ctx.output_data).size or ctx.op_name in ("matmul", "linear")


def _style(collected: _Collected, show_grad: bool, vanishing: float, exploding: float) -> _Styled:
    """Gradient norms of every edge, which are rounding noise, and the classifier that colours them.

    A gradient that is a sum can cancel to about eps times the numbers added
    up (the gradient of a subtracted mean); far below that it is noise, and so
    is everything computed from noise further back.
    """
    order = collected.order
    if not (show_grad and any(ctx.grads_to_inputs is not None for ctx in order)):
        return _Styled(None, {}, set())
    norms: dict = {}
    consumers: dict = {}  # id(ctx) -> edges (id(consumer), position) that read its output
    for ctx in order:
        for position, tensor in enumerate(ctx.inputs):
            if tensor._ctx is not None:
                consumers.setdefault(id(tensor._ctx), []).append((id(ctx), position))
        for grad in ctx.grads_to_inputs or ():
            if grad is not None:
                norms[id(grad)] = _norm(grad)
    noise: set = set()
    for ctx in reversed(order):
        readers = consumers.get(id(ctx), [])
        from_noise = bool(readers) and all(edge in noise for edge in readers)
        grads = ctx.grads_to_inputs or ()
        local = [norms[id(g)] for g in grads if g is not None] + (
            [_norm(ctx.grad_output)] if ctx.grad_output is not None else [])
        dtype = np.asarray(ctx.output_data).dtype
        eps = float(np.finfo(dtype).eps) if np.issubdtype(dtype, np.floating) else 0.0
        level = 64 * eps * max((n for n in local if math.isfinite(n)), default=0.0)
        for position, (tensor, grad) in enumerate(zip(ctx.inputs, grads)):
            if grad is None:
                continue
            if from_noise or (_summed(ctx, tensor) and norms[id(grad)] <= level):
                noise.add((id(ctx), position))
    return _Styled(_GradStyle(list(norms.values()), vanishing, exploding), norms, noise)


# ---------------------------------------------------------------- step 4: choose what is drawn

@dataclass
class _Plan:
    unit_of_op: dict        # id(ctx) -> ("op", id(ctx)) or ("module", call key)
    collapsed: dict         # call key -> _Call drawn as one node
    kept: set               # units drawn
    dropped_ops: int = 0
    dropped_units: int = 0


def _plan(collected: _Collected, modules: _Modules, collapse: Optional[bool], depth: int, expand: set,
          max_nodes: Optional[int], clusters: bool) -> _Plan:
    """Which modules are drawn as one node, and which units fit in ``max_nodes`` (whole modules are cut)."""
    op_count = len(collected.order)
    if collapse is None:
        collapse = clusters and op_count > COLLAPSE_ABOVE and bool(modules.calls)
    levels = [depth] if not collapse else list(range(depth, -1, -1))
    plan = None
    for level in levels:
        plan = _units(collected, modules, collapse and clusters, level, expand)
        if max_nodes is None or _node_count(collected, modules, plan) <= max_nodes:
            return plan
    assert plan is not None
    _cut(collected, modules, plan, max_nodes)
    return plan


def _units(collected: _Collected, modules: _Modules, collapse: bool, depth: int, expand: set) -> _Plan:
    model = modules.model_call
    shift = 1 if model is not None else 0

    def level(call: _Call) -> int:
        """Depth below the model, not counting containers (a Sequential of blocks shows its blocks)."""
        count, parent = 0, call.parent
        while parent is not None:
            count += 0 if _is_container(parent.module) else 1
            parent = parent.parent
        return count - shift

    def opened(call: _Call) -> bool:
        if call is model or not collapse or _is_container(call.module):
            return True
        if level(call) < depth or call.name in expand:
            return True
        return any(name.startswith(call.name + ".") for name in expand)

    collapsed: dict = {}
    unit_of_op: dict = {}
    for ctx in collected.order:
        call = modules.of_op.get(id(ctx))
        chain = []
        while call is not None:
            chain.append(call)
            call = call.parent
        outermost_closed = next((c for c in reversed(chain) if not opened(c)), None)
        if outermost_closed is None:
            unit_of_op[id(ctx)] = ("op", id(ctx))
        else:
            collapsed[outermost_closed.key] = outermost_closed
            unit_of_op[id(ctx)] = ("module", outermost_closed.key)
    return _Plan(unit_of_op, collapsed, set(unit_of_op.values()))


def _is_container(module: Any) -> bool:
    """Sequential, ModuleList, ModuleDict: modules that only run others."""
    return type(module).__name__ in CONTAINERS


def _hidden(leaf_id: int, modules: _Modules, plan: _Plan) -> Optional[tuple]:
    """The collapsed module a parameter disappears into (None if it is drawn)."""
    call = modules.of_leaf.get(leaf_id)
    while call is not None:
        if call.key in plan.collapsed:
            return ("module", call.key)
        call = call.parent
    return None


def _node_count(collected: _Collected, modules: _Modules, plan: _Plan) -> int:
    leaves = sum(1 for key in collected.leaves if _hidden(key, modules, plan) is None)
    return len(plan.kept) + leaves


def _cut(collected: _Collected, modules: _Modules, plan: _Plan, max_nodes: Optional[int]) -> None:
    """Keep the units nearest the root (breadth first) within ``max_nodes``; a module goes whole or not at all."""
    if max_nodes is None or collected.root._ctx is None:
        return
    producers: dict = {}   # unit -> units it reads
    leaves_of: dict = {}   # unit -> leaves it reads that are drawn
    for ctx in collected.order:
        unit = plan.unit_of_op[id(ctx)]
        for tensor in ctx.inputs:
            if tensor._ctx is not None:
                source = plan.unit_of_op.get(id(tensor._ctx))
                if source is not None and source != unit:
                    producers.setdefault(unit, []).append(source)
            elif _hidden(id(tensor), modules, plan) is None:
                leaves_of.setdefault(unit, set()).add(id(tensor))
    start = plan.unit_of_op[id(collected.root._ctx)]
    kept: set = {start}
    drawn_leaves = set(leaves_of.get(start, ()))
    used = 2 + len(drawn_leaves)  # the root's unit, the "N more" node and its leaves
    queue = deque([start])
    while queue:
        unit = queue.popleft()
        for source in producers.get(unit, ()):
            if source in kept:
                continue
            new_leaves = leaves_of.get(source, set()) - drawn_leaves
            if used + 1 + len(new_leaves) <= max_nodes:
                used += 1 + len(new_leaves)
                drawn_leaves |= new_leaves
                kept.add(source)
                queue.append(source)
    plan.dropped_ops = sum(1 for unit in plan.unit_of_op.values() if unit not in kept)
    plan.dropped_units = len(plan.kept - kept)
    plan.kept = kept


# ---------------------------------------------------------------- step 5: emit

def _emit(collected: _Collected, modules: _Modules, styled: _Styled, plan: _Plan, named: list,
          show_data: bool, show_grad: bool, rankdir: str, clusters: bool, legend: bool,
          max_nodes: Optional[int]) -> "graphviz.Digraph":
    """Write the plan as DOT: nodes (nested in their modules' boxes), edges with gradients, the legend."""
    root = collected.root
    dot = graphviz.Digraph(
        name="tinygrad_edu",
        graph_attr={"rankdir": rankdir, "fontname": "Helvetica", "nodesep": "0.25", "ranksep": "0.35",
                    "newrank": "true"},
        node_attr={"fontname": "Helvetica", "fontsize": "11", "margin": "0.08,0.04", "height": "0.3"},
        edge_attr={"fontname": "Helvetica", "fontsize": "9", "arrowsize": "0.6", "color": GRAD_COLORS["none"]},
    )
    counter = itertools.count()
    node_names: dict = {}        # unit or ("leaf", id) -> DOT node name
    members: dict = {}           # call key (or None: top level) -> [(node name, attributes)]
    param_names = {id(t): name for name, t in named}

    def place(call: Optional[_Call], name: str, attrs: dict) -> None:
        members.setdefault(call.key if (call is not None and clusters) else None, []).append((name, attrs))

    def tensor_lines(data: np.ndarray, role: str) -> list:
        if role == "constant" and data.size <= 4:
            return [html.escape(_values_text(data))]
        lines = [f'{_shape_text(data.shape)} <FONT COLOR="#555555">{data.dtype}</FONT>']
        if data.size == 1 or (show_data and data.size <= 16):
            lines.append(html.escape(_values_text(data)).replace("\n", "<BR/>"))
        return lines

    def grad_line(grad: Any) -> list:
        if grad is None or not show_grad:
            return []
        return [f'<FONT POINT-SIZE="9" COLOR="#1f4e99">grad norm {_format_number(_norm(grad))}</FONT>']

    def leaf_node(leaf: _Leaf) -> str:
        name = f"n{next(counter)}"
        tensor, role = leaf.tensor, leaf.role
        label_name = leaf.name if leaf.name is not None else ("output" if role == "output" else None)
        lines = ([f"<B>{html.escape(label_name)}</B>"] if label_name else []) + tensor_lines(tensor.data, role)
        if leaf.note:
            lines.append(f'<FONT POINT-SIZE="9"><I>{html.escape(leaf.note)}</I></FONT>')
        lines += grad_line(tensor.grad)
        attrs = {"label": "<" + "<BR/>".join(lines) + ">", "shape": "box", "style": "filled,rounded",
                 "fillcolor": ROLE_COLORS[role], "margin": "0.12,0.05"}
        if role in ("constant", "detached"):
            attrs["style"] = "filled,rounded,dashed"
        if role == "output":
            attrs["penwidth"] = "2"
        place(modules.of_leaf.get(id(tensor)) if role in ("parameter", "constant") else None, name, attrs)
        return name

    def op_node(ctx: Any) -> str:
        name = f"n{next(counter)}"
        is_root = ctx is root._ctx
        role = "output" if is_root else "intermediate"
        result = tensor_lines(np.asarray(ctx.output_data), role)
        if is_root:
            result.insert(0, f"<B>{html.escape(param_names.get(id(root), 'output'))}</B>")
        label = (f'<<TABLE BORDER="{2 if is_root else 1}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" '
                 f'STYLE="ROUNDED" BGCOLOR="{ROLE_COLORS[role]}">'
                 f'<TR><TD BGCOLOR="{OP_COLOR}"><B>{html.escape(ctx.op_name or type(ctx).__name__)}</B></TD></TR>'
                 f'<TR><TD>{"<BR/>".join(result)}</TD></TR></TABLE>>')
        place(modules.of_op.get(id(ctx)), name, {"label": label, "shape": "plaintext", "margin": "0"})
        return name

    def module_node(call: _Call) -> str:
        name = f"n{next(counter)}"
        op_ids = [k for k, unit in plan.unit_of_op.items() if unit == ("module", call.key)]
        params = [leaf.tensor for key, leaf in collected.leaves.items()
                  if leaf.role == "parameter" and _hidden(key, modules, plan) == ("module", call.key)]
        outputs = [ctx for ctx in collected.order if id(ctx) in call.ops and ctx is _last_op(collected, call)]
        shape = _shape_text(np.asarray(outputs[0].output_data).shape) if outputs else ""
        sizes = sum(int(t.data.size) for t in params)
        lines = [f"<B>{html.escape(call.name)}</B> <I>{html.escape(type(call.module).__name__)}</I>",
                 _count(len(op_ids), "op") + (f", {_count(len(params), 'parameter')} ({sizes:,} values)" if params else ""),
                 f'out {shape} <FONT COLOR="#555555">{html.escape(str(np.asarray(outputs[0].output_data).dtype))}'
                 "</FONT>" if outputs else ""]
        label = "<" + "<BR/>".join(line for line in lines if line) + ">"
        place(call.parent, name, {"label": label, "shape": "box3d", "style": "filled", "fillcolor": MODULE_COLOR,
                                  "margin": "0.15,0.08"})
        return name

    # Nodes: drawn leaves, kept op units, collapsed modules (in execution order).
    if root._ctx is None:
        node_names[("leaf", id(root))] = leaf_node(collected.leaves[id(root)])
    for ctx in collected.order:
        unit = plan.unit_of_op[id(ctx)]
        if unit not in plan.kept:
            continue
        for tensor in ctx.inputs:
            leaf = collected.leaves.get(id(tensor))
            if leaf is not None and ("leaf", id(tensor)) not in node_names and \
                    _hidden(id(tensor), modules, plan) is None:
                node_names[("leaf", id(tensor))] = leaf_node(leaf)
        if unit not in node_names:
            node_names[unit] = op_node(ctx) if unit[0] == "op" else module_node(plan.collapsed[unit[1]])
    more = None
    if plan.dropped_ops:
        more = f"n{next(counter)}"
        whole = "whole modules cut, " if plan.collapsed else ""
        dot.node(more, label=f"... {plan.dropped_ops} more operations\\n({whole}max_nodes={max_nodes})",
                 shape="box", style="dashed,filled", fillcolor="#eeeeee", fontsize="12")
    for name, tensor in collected.extra_inputs:  # integer inputs and targets the ops read as plain arrays
        node = f"n{next(counter)}"
        data = np.asarray(tensor.data if hasattr(tensor, "data") else tensor)
        dot.node(node, label=f"<<B>{html.escape(name)}</B><BR/>{_shape_text(data.shape)} "
                             f'<FONT COLOR="#555555">{data.dtype}</FONT><BR/>'
                             '<FONT POINT-SIZE="9"><I>read as indices or targets (no gradient)</I></FONT>>',
                 shape="box", style="filled,rounded", fillcolor=ROLE_COLORS["input"], margin="0.12,0.05")
        node_names[("extra", name)] = node

    # Edges.
    edges: dict = {}   # (tail, head, key) -> [attributes, gradients]
    for ctx in collected.order:
        unit = plan.unit_of_op[id(ctx)]
        if unit not in plan.kept:
            continue
        head = node_names[unit]
        grads = ctx.grads_to_inputs or (None,) * len(ctx.inputs)
        for position, (tensor, grad) in enumerate(zip(ctx.inputs, grads)):
            if tensor._ctx is None:
                if _hidden(id(tensor), modules, plan) is not None:
                    continue
                tail = node_names[("leaf", id(tensor))]
            else:
                source = plan.unit_of_op.get(id(tensor._ctx))
                if source == unit:
                    continue
                tail = node_names[source] if source in plan.kept else more
            # Between ops every input is its own edge (a + a draws two); into a collapsed module, one per tensor.
            key = (id(tensor),) if unit[0] == "module" else (id(ctx), position)
            edges.setdefault((tail, head, key), [tensor, []])[1].append((ctx, position, grad))
    for (tail, head, _), (tensor, arrivals) in edges.items():
        dot.edge(tail, head, **_edge_attributes(styled, tensor, arrivals))
    for name, tensor in collected.extra_inputs:
        target = _reader_of(collected, modules, plan, tensor, node_names)
        if target is not None:
            dot.edge(node_names[("extra", name)], target, style="dashed", color="#7a7a7a")

    _emit_clusters(dot, modules, members, clusters)
    if legend:
        dot.node("legend", label=_legend_label(styled.style is not None, bool(plan.collapsed)), shape="plaintext",
                 fontsize="10")
    return dot


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _last_op(collected: _Collected, call: _Call) -> Any:
    last = None
    for ctx in collected.order:
        if id(ctx) in call.ops:
            last = ctx
    return last


def _edge_attributes(styled: _Styled, tensor: Any, arrivals: list) -> dict:
    """Colour, width and label of an edge carrying the gradients ``arrivals`` ((ctx, position, grad)) to ``tensor``."""
    if styled.style is None:
        return {}
    real = [(ctx, position, g) for ctx, position, g in arrivals if g is not None]
    if not real:
        return {"color": GRAD_COLORS["none"], "style": "dotted"}
    grads = [g for _, _, g in real]
    if len(grads) == 1:
        norm = styled.norms.get(id(grads[0]), _norm(grads[0]))
    elif all(not isinstance(g, GradientSummary) for g in grads):
        norm = _norm(sum(np.asarray(g.data if hasattr(g, "data") else g, dtype=np.float64) for g in grads))
    else:
        norm = max(_norm(g) for g in grads)
    noise = all((id(ctx), position) in styled.noise for ctx, position, _ in real)
    # A parameter is judged by its own size (would lr * gradient move it at all?); a result of an op by the
    # largest gradient in the graph (the signal fading on its way back).
    scale = _norm(tensor.data) if tensor._ctx is None and tensor.requires_grad else styled.style.largest
    return styled.style.attributes(norm, scale, math.inf if noise else 0.0)


def _reader_of(collected: _Collected, modules: _Modules, plan: _Plan, tensor: Any, node_names: dict) -> Optional[str]:
    """The node an extra input feeds: the module call that received it, else the op that made the root."""
    for call in modules.calls:
        first = next((ctx for ctx in collected.order if id(ctx) in call.ops), None)
        if first is None:
            continue
        if _call_received(call, tensor):
            unit = plan.unit_of_op.get(id(first))
            return node_names.get(unit)
    if collected.root._ctx is not None:
        return node_names.get(plan.unit_of_op.get(id(collected.root._ctx)))
    return None


def _call_received(call: _Call, tensor: Any) -> bool:
    return any(tensor_id == id(tensor) for tensor_id, _ in call.inputs)


def _emit_clusters(dot: Any, modules: _Modules, members: dict, clusters: bool) -> None:
    """Each module call's nodes in a box, boxes nested as the modules are."""
    for name, attrs in members.get(None, []):
        dot.node(name, **attrs)
    if not clusters:
        return
    counter = itertools.count()

    def has_nodes(call: _Call) -> bool:
        return bool(members.get(call.key)) or any(has_nodes(child) for child in call.children)

    def emit(parent_graph: Any, call: _Call) -> None:
        if not members.get(call.key) and len(call.children) == 1 and call.children[0].ops == call.ops:
            emit(parent_graph, call.children[0])  # a wrapper (a model around one Sequential): one box is enough
            return
        with parent_graph.subgraph(name=f"cluster_{next(counter)}") as sub:
            kind = type(call.module).__name__
            label = call.name if call.name.split("#")[0] == kind else f"{call.name} ({kind})"
            sub.attr(label=label, style="rounded,dashed", color="#7a7a7a", fontsize="11", fontcolor="#444444")
            for name, attrs in members.get(call.key, []):
                sub.node(name, **attrs)
            for child in call.children:
                if has_nodes(child):
                    emit(sub, child)

    for call in modules.calls:
        if call.parent is None and has_nodes(call):
            emit(dot, call)


# ---------------------------------------------------------------- draw_graph

def draw_graph(
    root: Any,
    params: Optional[Union[Iterable, Mapping]] = None,
    show_data: bool = False,
    show_grad: bool = True,
    rankdir: str = "LR",
    *,
    inputs: Optional[Union[Iterable, Mapping]] = None,
    model: Any = None,
    collapse: Optional[bool] = None,
    depth: int = 0,
    expand: Iterable[str] = (),
    max_nodes: Optional[int] = 400,
    clusters: bool = True,
    vanishing: float = 1e-6,
    exploding: float = 1e3,
    legend: bool = True,
) -> "graphviz.Digraph":
    """The computation graph behind ``root`` as a `graphviz.Digraph`.

    Ovals are operations (``matmul``, ``sigmoid``, ...); boxes are tensors with
    their name, shape and dtype, filled by role: parameters, inputs (named by
    you, else ``input 1``, ``input 2``...), the output ``root``, intermediate
    results, constants and detached tensors (a leaf sharing memory with a
    result or parameter of this graph: made by ``.detach()``). An edge is drawn
    for every input of every operation, so ``a + a`` has two edges.

    Every op is drawn inside the box of the module call that ran it (recorded
    by ``nn.Module.__call__``), so a bias-free Linear's op and a BatchNorm's
    mean and variance sit in their own module's box. A graph of more than
    60 ops collapses each module into one node (``collapse=False`` draws every
    op; ``depth=1`` opens one more level; ``expand=["blocks.0"]`` opens chosen
    modules). Past ``max_nodes``, modules collapse further and then whole
    modules farthest from the root are cut into one "N more" node.

    After ``root.backward()`` each edge carries the gradient that flowed back
    along it: its norm is the edge label, and colour and width grow with it on
    a log scale. A gradient below ``vanishing`` times its scale is dashed
    magenta: for a parameter its own size (the layer's scale: would a step
    move it?), for a result the largest gradient in the graph; one at the rounding
    level of its op (cancellation, e.g. the gradient of a subtracted mean) is a
    dotted "≈0", not a warning; above ``exploding`` (or nan/inf), thick red.

    Args:
        root: the Tensor to draw the graph of (usually the loss).
        params: ``(name, tensor)`` pairs such as ``model.named_parameters()``, a
            name -> tensor mapping, or the model itself. Named tensors that
            require grad are parameters (others, like the data ``X``, are named
            inputs). Without ``params`` every leaf that requires grad counts as
            a parameter.
        show_data: also print the values of tensors with at most 16 elements.
        show_grad: colour the edges by gradient (when backward has run).
        rankdir: Graphviz layout direction: "LR", "TB", "RL" or "BT".
        inputs: ``(name, tensor or array)`` pairs or a mapping naming the data,
            e.g. ``{"X": x, "y": y}``; integer indices and targets that the ops
            read as plain arrays are drawn too (dashed edge, no gradient).
        model: the `nn.Module` that computed ``root``, for module names
            (taken from the parameters' names otherwise).
        collapse: draw each module as one node; None decides by size.
        depth: module levels opened when collapsing (0: each top-level module
            of the model is one node).
        expand: names of modules to draw opened when collapsing.
        max_nodes: node budget (None draws everything).
        clusters: draw module boxes (False: ops only, nothing collapses).
        vanishing: relative threshold for vanishing gradients.
        exploding: threshold above which a gradient norm counts as exploding.
        legend: add the colour legend.

    Returns:
        The graph. In Jupyter it displays inline; ``.source`` is the DOT text;
        ``render_graph`` writes it to a file.

    >>> from tinygrad_edu import Tensor
    >>> a = Tensor([1.0, 2.0], requires_grad=True)
    >>> loss = (a + a).sum()
    >>> loss.backward()
    >>> dot = draw_graph(loss, params=[("a", a)])
    >>> dot.source.count("->")  # a -> add twice, add -> sum
    3
    """
    if graphviz is None:  # pragma: no cover
        raise ImportError("draw_graph needs the graphviz Python package: pip install graphviz")
    if not hasattr(root, "_ctx") or not hasattr(root, "data"):
        raise TypeError(f"draw_graph expects a Tensor, got {type(root).__name__}")
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"rankdir must be one of 'LR', 'TB', 'RL', 'BT', got {rankdir!r}")
    if max_nodes is not None and (isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1):
        raise ValueError(f"max_nodes must be a positive int or None, got {max_nodes!r}")
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
        raise ValueError(f"depth must be a non-negative int, got {depth!r}")
    if not (vanishing >= 0 and exploding > 0):
        raise ValueError(f"thresholds must be vanishing >= 0 and exploding > 0, got {vanishing}, {exploding}")
    if isinstance(expand, str):
        expand = [expand]
    if model is None and hasattr(params, "named_parameters") and hasattr(params, "named_modules"):
        model = params
    if params is None and model is not None:
        params = model.named_parameters()
    elif hasattr(params, "named_parameters") and not isinstance(params, Mapping):
        params = params.named_parameters()  # type: ignore[union-attr]
    named = _named(params)
    named_inputs = _named_inputs(inputs)

    collected = _collect(root, named, named_inputs)
    modules = _group_by_module(collected, named, model) if clusters else _Modules()
    _name_inputs(collected, modules)
    styled = _style(collected, show_grad, vanishing, exploding)
    plan = _plan(collected, modules, collapse, depth, set(expand), max_nodes, clusters)
    return _emit(collected, modules, styled, plan, named + named_inputs, show_data, show_grad, rankdir, clusters,
                 legend, max_nodes)


def _named_inputs(inputs: Any) -> list:
    if inputs is None:
        return []
    items = inputs.items() if isinstance(inputs, Mapping) else inputs
    pairs = []
    for item in items:
        try:
            name, value = item
        except (TypeError, ValueError):
            raise TypeError(f"inputs must be (name, tensor) pairs or a mapping, got an item of type "
                            f"{type(item).__name__}") from None
        pairs.append((str(name), value))
    return pairs


# ---------------------------------------------------------------- render_graph

def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and ``os.replace`` (never a half-written file)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        if temporary.exists():
            temporary.unlink()
        raise


def render_graph(root: Any, path: Union[str, os.PathLike], format: str = "svg", **draw_kwargs: Any) -> Path:
    """Draw the graph behind ``root`` and write it to ``path`` with the Graphviz `dot` program.

    Args:
        root: the Tensor to draw (usually the loss, after ``backward()``).
        path: the file to write; ``.{format}`` is appended when it has no suffix.
        format: any Graphviz output format ("svg", "png", "pdf", ...); "dot"
            writes the DOT source and needs no Graphviz program.
        **draw_kwargs: passed to `draw_graph` (``params``, ``show_data``, ...).

    Returns:
        The path written.

    Raises:
        GraphvizNotFoundError: `dot` is not installed. The DOT source has been
            written next to ``path`` (same name, ``.dot`` suffix) and the message
            says where and how to install Graphviz.
    """
    path = Path(path)
    if not path.suffix:
        path = path.with_name(f"{path.name}.{format}")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"render_graph: the folder {str(path.parent)!r} of {str(path)!r} does not exist")
    dot = draw_graph(root, **draw_kwargs)
    source = dot.source.encode("utf-8")
    if format in ("dot", "gv"):
        _write_atomically(path, source)
        return path
    data = None
    if shutil.which("dot") is not None:
        try:
            data = dot.pipe(format=format)
        except graphviz.ExecutableNotFound:
            data = None
    if data is None:
        dot_path = path.with_suffix(".dot")
        _write_atomically(dot_path, source)
        raise GraphvizNotFoundError(
            f"Graphviz's 'dot' program was not found, so {path} was not drawn; the graph's DOT source "
            f"was written to {dot_path} instead. To draw it, {_INSTALL_HINT}, then run "
            f"`dot -T{format} {dot_path} -o {path}`.",
            dot_path,
        )
    _write_atomically(path, data)
    return path
