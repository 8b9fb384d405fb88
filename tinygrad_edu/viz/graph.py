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
import math
import os
import shutil
from collections import deque
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Union

import numpy as np

try:
    import graphviz
except ImportError:  # pragma: no cover - graphviz is a declared dependency of viz
    graphviz = None

from tinygrad_edu.autograd import GradientSummary, topological_order

__all__ = ["draw_graph", "render_graph", "GraphvizNotFoundError", "ROLE_COLORS", "GRAD_COLORS"]

# Fill colours of tensor nodes, by the role the tensor plays in the graph.
ROLE_COLORS = {
    "parameter": "#b7e4a8",     # green: what training changes
    "input": "#b9d7f0",         # blue: data fed in
    "output": "#ffd27f",        # orange: the tensor the graph was drawn from (the loss)
    "intermediate": "#f4f4f4",  # light grey: results of operations
    "constant": "#ffffff",      # white, dashed border: Python numbers turned into tensors
}
OP_COLOR = "#fff6c8"

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
    """Classifies gradient norms (normal / vanishing / exploding) and picks edge attributes."""

    def __init__(self, norms: list, vanishing: float, exploding: float) -> None:
        finite = [n for n in norms if math.isfinite(n)]
        self.largest = max(finite) if finite else 0.0
        self.vanishing = vanishing
        self.exploding = exploding

    def kind(self, norm: float) -> str:
        if not math.isfinite(norm) or norm > self.exploding:
            return "exploding"
        if norm == 0:  # by construction (a where() branch not taken, a dead relu), not a gradient that faded
            return "zero"
        # Tiny in absolute terms, or tiny next to the largest gradient in the graph.
        if norm < self.vanishing or norm < self.vanishing * self.largest:
            return "vanishing"
        return "normal"

    def attributes(self, norm: float) -> dict:
        kind = self.kind(norm)
        text = _format_number(norm)
        if kind == "exploding":
            return {"color": GRAD_COLORS["exploding"], "penwidth": "6", "fontcolor": GRAD_COLORS["exploding"],
                    "label": f"EXPLODING {text}"}
        if kind == "zero":
            return {"color": GRAD_COLORS["none"], "penwidth": "1", "style": "dotted", "label": "0"}
        if kind == "vanishing":
            return {"color": GRAD_COLORS["vanishing"], "penwidth": "2", "style": "dashed",
                    "fontcolor": GRAD_COLORS["vanishing"], "label": f"vanishing {text}"}
        position = 1.0
        if self.largest > 0:
            position = min(1.0, max(0.0, 1.0 + math.log10(norm / self.largest) / _DECADES))
        return {"color": _mix(position), "penwidth": f"{_MIN_PEN + (_MAX_PEN - _MIN_PEN) * position:.2f}",
                "label": text}


def _legend_label(show_grad: bool) -> str:
    rows = ['<TR><TD COLSPAN="2"><B>legend</B></TD></TR>']
    for role, colour in ROLE_COLORS.items():
        rows.append(f'<TR><TD BGCOLOR="{colour}" WIDTH="18"> </TD><TD ALIGN="LEFT">{role} tensor</TD></TR>')
    rows.append(f'<TR><TD BGCOLOR="{OP_COLOR}"> </TD><TD ALIGN="LEFT">operation (its result below it)</TD></TR>')
    if show_grad:
        rows.append('<TR><TD COLSPAN="2" ALIGN="LEFT"><B>edges: gradient norm</B></TD></TR>')
        rows.append(f'<TR><TD BGCOLOR="{_mix(1.0)}"> </TD><TD ALIGN="LEFT">largest (thick)</TD></TR>')
        rows.append(f'<TR><TD BGCOLOR="{_mix(0.5)}"> </TD>'
                    f'<TD ALIGN="LEFT">1e-{_DECADES / 2:g} of largest</TD></TR>')
        rows.append(f'<TR><TD BGCOLOR="{_mix(0.0)}"> </TD>'
                    f'<TD ALIGN="LEFT">1e-{_DECADES:g} of largest (thin)</TD></TR>')
        rows.append(f'<TR><TD BGCOLOR="{GRAD_COLORS["vanishing"]}"> </TD>'
                    '<TD ALIGN="LEFT">vanishing (dashed)</TD></TR>')
        rows.append(f'<TR><TD BGCOLOR="{GRAD_COLORS["exploding"]}"> </TD>'
                    '<TD ALIGN="LEFT">exploding / nan</TD></TR>')
        rows.append(f'<TR><TD BGCOLOR="{GRAD_COLORS["none"]}"> </TD>'
                    '<TD ALIGN="LEFT">no gradient; dotted: exactly 0</TD></TR>')
    return ('<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">'
            + "".join(rows) + "</TABLE>>")


# ---------------------------------------------------------------- draw_graph

def draw_graph(
    root: Any,
    params: Optional[Union[Iterable, Mapping]] = None,
    show_data: bool = False,
    show_grad: bool = True,
    rankdir: str = "LR",
    *,
    max_nodes: Optional[int] = 400,
    clusters: bool = True,
    vanishing: float = 1e-7,
    exploding: float = 1e3,
    legend: bool = True,
) -> "graphviz.Digraph":
    """The computation graph behind ``root`` as a `graphviz.Digraph`.

    Ovals are operations (``matmul``, ``sigmoid``, ...); boxes are tensors with
    their name (from ``params``), shape and dtype, filled by role: parameters,
    inputs (leaves that are not parameters), the output ``root``, intermediate
    results and constants. An edge is drawn for every input of every operation,
    so ``a + a`` has two edges.

    After ``root.backward()`` each edge carries the gradient that flowed back
    along it (``ctx.grads_to_inputs``, and ``ctx.grad_output`` into an op's
    output): its norm is the edge label, and colour and width grow with it on a
    log scale. Gradients below ``vanishing`` (absolute, or relative to the
    largest in the graph) are dashed magenta; above ``exploding`` (or nan/inf),
    thick red.

    Args:
        root: the Tensor to draw the graph of (usually the loss).
        params: ``(name, tensor)`` pairs such as ``model.named_parameters()``, or
            a name -> tensor mapping. Named tensors that require grad are
            parameters (others, like the data ``X``, are named inputs); dotted
            names sharing a prefix (``layers.0.weight``, ``layers.0.bias``) are
            grouped into a cluster per module. Without ``params`` every leaf that
            requires grad counts as a parameter.
        show_data: also print the values of tensors with at most 16 elements.
        show_grad: colour the edges by gradient (when backward has run).
        rankdir: Graphviz layout direction: "LR", "TB", "RL" or "BT".
        max_nodes: node budget; past it the nodes farthest from ``root`` collapse
            into one "N more" node (None draws everything).
        clusters: draw each module's parameters and the ops using them in a box.
        vanishing: threshold below which a gradient norm counts as vanishing.
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
    if not (vanishing >= 0 and exploding > 0):
        raise ValueError(f"thresholds must be vanishing >= 0 and exploding > 0, got {vanishing}, {exploding}")

    named = _named(params)
    # Lookups go through id(); the objects stay alive in `named` and in the graph itself.
    param_name = {id(tensor): name for name, tensor in named}
    params_given = bool(named)
    order = topological_order(root)
    kept = _within_budget(root, order, max_nodes)
    collapsed = len(order) - len(kept)

    def is_parameter(tensor: Any) -> bool:
        # Named tensors that require grad are parameters; a named tensor without grad is a named input.
        if id(tensor) in param_name:
            return bool(tensor.requires_grad)
        return not params_given and tensor._ctx is None and bool(tensor.requires_grad)

    def leaf_role(tensor: Any) -> str:
        if tensor is root:
            return "output"
        if is_parameter(tensor):
            return "parameter"
        if not tensor.requires_grad and tensor.data.size == 1 and id(tensor) not in param_name:
            return "constant"
        return "input"

    # Which module a node belongs to: a parameter's name prefix, passed on to ops whose
    # inputs are that module's parameters (or tensors made only from them, like W.T).
    module_of_param = {id(t): name.rsplit(".", 1)[0] for name, t in named if "." in name and clusters}
    derived_module: dict = {}   # id(ctx) -> module, for tensors computed only from one module's parameters
    op_module: dict = {}        # id(ctx) -> module cluster the op (and its output) is drawn in
    for ctx in order:
        modules = []
        only_one_module = True
        for tensor in ctx.inputs:
            if tensor._ctx is None:
                module = module_of_param.get(id(tensor))
                if module is None and not (not tensor.requires_grad and tensor.data.size == 1):
                    only_one_module = False
            else:
                module = derived_module.get(id(tensor._ctx))
                if module is None:
                    only_one_module = False
            if module is not None:
                modules.append(module)
        if modules:
            op_module[id(ctx)] = modules[0]
            if only_one_module and all(m == modules[0] for m in modules):
                derived_module[id(ctx)] = modules[0]

    # Gradient norms, computed once: for op inputs and for op outputs.
    grads_available = show_grad and any(ctx.grads_to_inputs is not None for ctx in kept)
    style = None
    norms: dict = {}  # id(gradient Tensor) -> its norm
    if grads_available:
        for ctx in kept:
            for grad in ctx.grads_to_inputs or ():
                if grad is not None:
                    norms[id(grad)] = _norm(grad)
        style = _GradStyle(list(norms.values()), vanishing, exploding)

    dot = graphviz.Digraph(
        name="tinygrad_edu",
        graph_attr={"rankdir": rankdir, "fontname": "Helvetica", "nodesep": "0.25", "ranksep": "0.35",
                    "newrank": "true"},
        node_attr={"fontname": "Helvetica", "fontsize": "11", "margin": "0.08,0.04", "height": "0.3"},
        edge_attr={"fontname": "Helvetica", "fontsize": "9", "arrowsize": "0.6", "color": GRAD_COLORS["none"]},
    )
    cluster_nodes: dict = {}   # module -> list of (node name, attributes), emitted as subgraphs at the end
    names: dict = {}      # id(leaf tensor) or id(ctx) for its output -> DOT node name
    counter = 0

    def new_name() -> str:
        nonlocal counter
        counter += 1
        return f"n{counter - 1}"

    node_module: dict = {}     # node name -> module of the cluster it is drawn in
    constant_nodes: set = set()

    def add_node(name: str, module: Optional[str], **attrs: str) -> None:
        node_module[name] = module
        if module is None:
            dot.node(name, **attrs)
        else:
            cluster_nodes.setdefault(module, []).append((name, attrs))

    def tensor_lines(data: np.ndarray, role: str) -> list:
        if role == "constant":
            return [html.escape(_values_text(data))]
        lines = [f'{_shape_text(data.shape)} <FONT COLOR="#555555">{data.dtype}</FONT>']
        if data.size == 1 or (show_data and data.size <= 16):
            lines.append(html.escape(_values_text(data)).replace("\n", "<BR/>"))
        return lines

    def grad_line(grad: Any) -> list:
        if grad is None or not show_grad:
            return []
        return [f'<FONT POINT-SIZE="9" COLOR="#1f4e99">grad norm {_format_number(_norm(grad))}</FONT>']

    def leaf_node(tensor: Any, role: str, label_name: Optional[str], module: Optional[str]) -> str:
        name = new_name()
        if label_name is None and role in ("input", "output"):
            label_name = role
        lines = ([f"<B>{html.escape(label_name)}</B>"] if label_name else []) + tensor_lines(tensor.data, role)
        lines += grad_line(tensor.grad)
        attrs = {"label": "<" + "<BR/>".join(lines) + ">", "shape": "box", "style": "filled,rounded",
                 "fillcolor": ROLE_COLORS[role], "margin": "0.12,0.05"}
        if role == "constant":
            attrs["style"] = "filled,rounded,dashed"
            constant_nodes.add(name)
        if role == "output":
            attrs["penwidth"] = "2"
        add_node(name, module, **attrs)
        return name

    def op_node(ctx: Any, is_root: bool, module: Optional[str]) -> str:
        # One node per op: its name on top, the tensor it produced (the intermediate) below.
        name = new_name()
        role = "output" if is_root else "intermediate"
        op_label = html.escape(ctx.op_name or type(ctx).__name__)
        result = tensor_lines(ctx.output_data, role)
        if is_root:
            result.insert(0, f"<B>{html.escape(param_name.get(id(root), 'output'))}</B>")
        label = (f'<<TABLE BORDER="{2 if is_root else 1}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" '
                 f'STYLE="ROUNDED" BGCOLOR="{ROLE_COLORS[role]}">'
                 f'<TR><TD BGCOLOR="{OP_COLOR}"><B>{op_label}</B></TD></TR>'
                 f'<TR><TD>{"<BR/>".join(result)}</TD></TR></TABLE>>')
        add_node(name, module, label=label, shape="plaintext", margin="0")
        return name

    def edge_attrs(grad: Any) -> dict:
        if style is None:
            return {}
        if grad is None:
            return {"color": GRAD_COLORS["none"], "style": "dotted"}
        return style.attributes(norms[id(grad)])

    edges: list = []
    more_name = None
    kept_ids = {id(ctx) for ctx in kept}
    if collapsed:
        more_name = new_name()
        dot.node(more_name, label=f"... {collapsed} more operations\\n(max_nodes={max_nodes})",
                 shape="box", style="dashed,filled", fillcolor="#eeeeee", fontsize="12")

    if root._ctx is None:
        leaf_node(root, "output", param_name.get(id(root)), None)
    for ctx in kept:
        module = op_module.get(id(ctx))
        input_nodes = []
        for tensor in ctx.inputs:
            producer = tensor._ctx
            if producer is None:
                key = id(tensor)
                if key not in names:
                    names[key] = leaf_node(tensor, leaf_role(tensor), param_name.get(key), module_of_param.get(key))
                input_nodes.append(names[key])
            elif id(producer) in kept_ids:
                input_nodes.append(names[id(producer)])
            else:
                input_nodes.append(more_name)
        names[id(ctx)] = op_node(ctx, ctx is root._ctx, module)
        grads = ctx.grads_to_inputs or (None,) * len(ctx.inputs)
        for node_name, grad in zip(input_nodes, grads):
            edges.append((node_name, names[id(ctx)], edge_attrs(grad)))

    # Invisible edges from whatever feeds a module into its parameters put each module below
    # (or right of) the one before it; otherwise a parameter is ranked beside the previous
    # module, the cluster boxes overlap in rank and dot staggers them into a wide staircase.
    entries: dict = {}
    for tail, head, _ in edges:
        module = node_module.get(head)
        if module is not None and node_module.get(tail) != module and tail not in constant_nodes:
            entries.setdefault(module, {})[tail] = None
    layout_edges = []
    has_inputs = {head for _, head, _ in edges}
    for module, statements in cluster_nodes.items():
        for name, _ in statements:
            if name not in has_inputs:  # the module's parameters
                layout_edges += [(tail, name) for tail in entries.get(module, ())]

    module_rank: dict = {}
    for name, _ in named:
        if "." in name:
            module_rank.setdefault(name.rsplit(".", 1)[0], len(module_rank))
    ordered_clusters = sorted(cluster_nodes.items(), key=lambda item: module_rank.get(item[0], len(module_rank)))
    for index, (module, statements) in enumerate(ordered_clusters):
        with dot.subgraph(name=f"cluster_{index}") as sub:
            sub.attr(label=module, style="rounded,dashed", color="#7a7a7a", fontsize="11", fontcolor="#444444")
            for name, attrs in statements:
                sub.node(name, **attrs)
    for tail, head, attrs in edges:
        dot.edge(tail, head, **attrs)
    for tail, head in layout_edges:
        dot.edge(tail, head, style="invis")
    if legend:
        dot.node("legend", label=_legend_label(grads_available), shape="plaintext", fontsize="10")
    return dot


def _within_budget(root: Any, order: list, max_nodes: Optional[int]) -> list:
    """The nodes to draw: all of ``order``, or the ones nearest ``root`` within ``max_nodes``.

    Each kept op costs one drawn node (the op with its output) plus any new
    leaf it reads. Breadth-first from the root, so the part next to the loss stays.
    """
    if max_nodes is None or root._ctx is None:
        return order
    leaves_estimate = 0
    seen_leaves: set = set()
    for ctx in order:
        for tensor in ctx.inputs:
            if tensor._ctx is None and id(tensor) not in seen_leaves:
                seen_leaves.add(id(tensor))
                leaves_estimate += 1
    if len(order) + leaves_estimate <= max_nodes:
        return order
    chosen: set = set()
    counted_leaves: set = set()

    def cost(ctx: Any) -> int:
        """Drawn nodes that keeping ``ctx`` adds: itself and the leaves it reads that are not drawn yet."""
        new_leaves = {id(t) for t in ctx.inputs if t._ctx is None and id(t) not in counted_leaves}
        return 1 + len(new_leaves)

    def keep(ctx: Any) -> None:
        chosen.add(id(ctx))
        counted_leaves.update(id(t) for t in ctx.inputs if t._ctx is None)
        queue.append(ctx)

    queue: deque = deque()
    used = 1 + cost(root._ctx)  # the "N more" node and the root's op (always drawn)
    keep(root._ctx)
    while queue:
        ctx = queue.popleft()
        for tensor in ctx.inputs:
            producer = tensor._ctx
            if producer is not None and id(producer) not in chosen:
                extra = cost(producer)
                if used + extra <= max_nodes:
                    used += extra
                    keep(producer)
    return [ctx for ctx in order if id(ctx) in chosen]


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
