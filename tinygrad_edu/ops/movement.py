"""Movement primitives: they rearrange, copy or select elements and never change a value."""
from __future__ import annotations

import numpy as np

from ..autograd import Function

__all__ = ["Cat", "Expand", "GetItem", "Pad", "Permute", "Reshape", "ScatterAdd", "broadcast_view", "is_basic_index"]


class Reshape(Function):
    """d reshape(a)/da: the gradient reshaped back to a's shape."""

    def forward(ctx, a, shape=()):
        return a.reshape(shape)

    def vjp(ctx, xp, g, out, a):
        return g.reshape(ctx.inputs[0].shape)


class Permute(Function):
    """d permute(a, order)/da: the gradient permuted by the inverse order."""

    def forward(ctx, a, order=()):
        ctx.order = order
        return np.transpose(a, order)

    def vjp(ctx, xp, g, out, a):
        return xp.permute(g, tuple(np.argsort(ctx.order).tolist()))


def broadcast_view(array: np.ndarray, shape: tuple) -> np.ndarray:
    """``np.broadcast_to(array, shape)`` (a read-only view, no copy), built directly when ``array`` is contiguous.

    NumPy's broadcast_to costs about 5 us whatever the size; a strided view costs
    under 1 us, and this sits on the backward path of every sum and mean.
    """
    if not array.flags.c_contiguous:
        return np.broadcast_to(array, shape)
    extra = len(shape) - array.ndim
    strides = (0,) * extra + tuple(
        0 if size == 1 and target != 1 else stride
        for size, stride, target in zip(array.shape, array.strides, shape[extra:])
    )
    view = np.ndarray(shape, array.dtype, array, 0, strides)
    view.flags.writeable = False
    return view


class Expand(Function):
    """d broadcast_to(a, S)/da: each output element came from one input element, so sum over the broadcast axes.

    The rule returns g as it is: summing it back to a's shape is the walk's `unbroadcast`.
    """

    def forward(ctx, a, shape=()):
        return broadcast_view(a, shape)

    def vjp(ctx, xp, g, out, a):
        return g


class Pad(Function):
    """d pad(a)/da: the gradient with the padding sliced off."""

    def forward(ctx, a, pad_width=(), value=0.0):
        ctx.pad_width = pad_width
        return np.pad(a, pad_width, mode="constant", constant_values=value)

    def vjp(ctx, xp, g, out, a):
        return g[tuple(slice(before, before + size) for (before, _), size in zip(ctx.pad_width, ctx.inputs[0].shape))]


def is_basic_index(index: tuple) -> bool:
    """True when the index has only ints, slices, None and Ellipsis (so no element is picked twice)."""
    for item in index:
        if not (item is None or item is Ellipsis or isinstance(item, (slice, int, np.integer))):
            return False
    return True


class GetItem(Function):
    """d a[index]/da: the gradient scattered back to the positions it was read from, summed where an index repeats."""

    def forward(ctx, a, index=()):
        ctx.index = index
        return a[index]

    def vjp(ctx, xp, g, out, a):
        return xp.apply(ScatterAdd, g, shape=ctx.inputs[0].shape, index=ctx.index)


class ScatterAdd(Function):
    """zeros(shape) with ``g`` added at ``index`` (the backward of GetItem); d/dg = g[index]."""

    op_name = "scatter_add"

    def forward(ctx, g, shape=(), index=()):
        ctx.index = index
        out = np.zeros(shape, dtype=g.dtype)
        if is_basic_index(index):
            out[index] = g
        elif len(index) == 1 and isinstance(index[0], np.ndarray) and index[0].dtype.kind in "iu" and out.ndim:
            _add_rows(out, index[0], g)
        else:
            np.add.at(out, index, g)
        return out

    def vjp(ctx, xp, g, out, a):
        return g[ctx.index]


def _add_rows(out: np.ndarray, rows: np.ndarray, g: np.ndarray) -> None:
    """``np.add.at(out, rows, g)`` for integer row indices (an embedding's backward), sorted and summed per row.

    np.add.at is slow on many rows (100+ us for a GPT batch); sorting the rows and summing each run
    with one ``reduceat`` gives the same sums up to rounding.
    """
    flat = rows.reshape(-1)
    flat = np.where(flat < 0, flat + out.shape[0], flat)
    order = np.argsort(flat, kind="stable")
    ordered = flat[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1]))) if ordered.size else ordered
    values = g.reshape((flat.size,) + out.shape[1:])[order]
    if ordered.size:
        out[ordered[starts]] = np.add.reduceat(values, starts, axis=0)


class Cat(Function):
    """d cat(a_1..a_n)/da_i: the slice of the gradient where a_i was placed."""

    def forward(ctx, *arrays, axis=0):
        ctx.axis = axis
        return np.concatenate(arrays, axis=axis)

    def vjp(ctx, xp, g, out, *arrays):
        grads = []
        start = 0
        lead = (slice(None),) * ctx.axis
        for tensor, needed in zip(ctx.inputs, ctx.needs_input_grad):
            stop = start + tensor.shape[ctx.axis]
            grads.append(g[lead + (slice(start, stop),)] if needed else None)
            start = stop
        return tuple(grads)
