"""The last step of `draw_graph`: the plan written as DOT, every node in its module's box, edges with gradients.

Step 5 of `tinygrad_edu.viz.graph.draw_graph`.
"""
from __future__ import annotations

import html
import itertools
import math
from typing import Any, Optional

import numpy as np

try:
    import graphviz
except ImportError:  # pragma: no cover - graphviz is a declared dependency of viz
    graphviz = None

from tinygrad_edu.autograd import GradientSummary
from tinygrad_edu.viz.graph_collect import _Call, _Collected, _Leaf, _Modules
from tinygrad_edu.viz.graph_plan import _hidden, _Plan
from tinygrad_edu.viz.graph_style import GRAD_COLORS, MODULE_COLOR, OP_COLOR, ROLE_COLORS, _format_number, _legend_label, _norm, _Styled

__all__: list = []  # the stages of draw_graph (tinygrad_edu.viz.graph); nothing here is public


def _shape_text(shape: tuple) -> str:
    return "(" + ", ".join(str(size) for size in shape) + ("," if len(shape) == 1 else "") + ")"


def _values_text(data: np.ndarray) -> str:
    if data.size == 1:
        return _format_number(float(data.reshape(-1)[0]))
    return np.array2string(np.asarray(data, dtype=np.float64), precision=3, separator=", ",
                           suppress_small=True, max_line_width=40)


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
