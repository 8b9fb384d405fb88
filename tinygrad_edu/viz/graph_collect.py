"""What `draw_graph` draws: the ops and leaves behind a tensor, and the module call that ran each op.

Steps 1 and 2 of `tinygrad_edu.viz.graph.draw_graph`: `_collect` walks the
graph (ops in execution order, every leaf with its role and name) and
`_group_by_module` reads the module calls `nn.Module.__call__` recorded, so
each op is drawn inside the box of the module that ran it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

__all__: list = []  # the stages of draw_graph (tinygrad_edu.viz.graph); nothing here is public


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
    named_inputs = {id(t) for _, t in inputs}
    collected = _Collected(root, execution_order(root))
    leaves = [root] if root._ctx is None else []
    leaves += [t for ctx in collected.order for t in ctx.inputs if t._ctx is None]
    for tensor in leaves:
        if id(tensor) in collected.leaves:
            continue
        name = names.get(id(tensor))
        if tensor is root:
            role = "output"
        elif tensor.requires_grad and id(tensor) not in named_inputs and (id(tensor) in names or not given_params):
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

