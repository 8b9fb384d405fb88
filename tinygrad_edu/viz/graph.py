"""Draw the computation graph behind a tensor, with the gradient flowing back through it.

`draw_graph(loss)` returns a `graphviz.Digraph`: one oval per operation, one box
per tensor (name, shape, dtype), coloured by role, and, once `loss.backward()`
has run, every edge coloured and thickened by the size of the gradient that
travelled back along it. Vanishing and exploding gradients get their own colour
and a label, so they can be spotted at a glance. `render_graph` writes the
drawing to a file with the Graphviz `dot` program.

The walk uses `tinygrad_edu.viz.trace.execution_order` (iterative), and node
names follow the order of discovery, so the same graph always gives the same
DOT source.

`draw_graph` runs five stages, each in its own module: collect the ops and
leaves and group the ops by the module call that ran them (`graph_collect`),
measure and colour the gradients (`graph_style`), choose what is drawn
(`graph_plan`: collapsed modules, the ``max_nodes`` cut) and write the DOT
(`graph_emit`).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Union

try:
    import graphviz
except ImportError:  # pragma: no cover - graphviz is a declared dependency of viz
    graphviz = None

from tinygrad_edu.viz.graph_collect import _collect, _group_by_module, _Modules, _name_inputs
from tinygrad_edu.viz.graph_emit import _emit
from tinygrad_edu.viz.graph_plan import _plan
from tinygrad_edu.viz.graph_style import GRAD_COLORS, ROLE_COLORS, _style

__all__ = ["draw_graph", "render_graph", "GraphvizNotFoundError", "ROLE_COLORS", "GRAD_COLORS"]

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
