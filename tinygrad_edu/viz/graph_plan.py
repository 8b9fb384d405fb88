"""Which parts of the graph `draw_graph` draws: modules collapsed into one node, and the cut past ``max_nodes``.

Step 4 of `tinygrad_edu.viz.graph.draw_graph`.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Optional

from tinygrad_edu.viz.graph_collect import _Call, _Collected, _Modules

__all__ = ["COLLAPSE_ABOVE", "CONTAINERS"]

COLLAPSE_ABOVE = 60             # graphs with more ops than this collapse each module by default
CONTAINERS = ("Sequential", "ModuleList", "ModuleDict")  # opened when collapsing: their members are the modules


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
