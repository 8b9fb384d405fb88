"""How `draw_graph` colours a graph: tensors by role, edges by the gradient they carried, and the legend.

Step 3 of `tinygrad_edu.viz.graph.draw_graph`: `_style` measures the gradient
on every edge and marks the ones that are rounding noise; `_GradStyle` turns a
norm into an edge's colour, width and label (vanishing and exploding gradients
get their own colour).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from tinygrad_edu.autograd import GradientSummary
from tinygrad_edu.viz.graph_collect import _Collected

__all__ = ["ROLE_COLORS", "GRAD_COLORS", "OP_COLOR", "MODULE_COLOR"]

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


def _format_number(value: float) -> str:
    """Short, fixed formatting so that labels (and the DOT source) never vary between runs."""
    if not math.isfinite(value):
        return str(value)
    if value == 0 or 1e-3 <= abs(value) < 1e4:
        return f"{value:.4g}"
    return f"{value:.2e}"


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
