"""Reduction primitives: sum and max/min over axes (mean, var, logsumexp, softmax are composed from them)."""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from .movement import Expand


class AxisError(IndexError, ValueError):
    """An axis out of range for the tensor (both an IndexError and a ValueError, like NumPy's)."""


def normalize_axes(axis, ndim: int, op: str):
    """``axis`` (None, an int or a tuple of ints, negatives from the end) as a sorted tuple, validated."""
    if axis is None:
        return tuple(range(ndim))
    if type(axis) is int and -ndim <= axis < ndim:  # the common cases, checked cheaply
        return (axis % ndim,)
    if type(axis) is tuple and all(type(item) is int and 0 <= item < ndim for item in axis) \
            and list(axis) == sorted(set(axis)):
        return axis
    items = (axis,) if isinstance(axis, (int, np.integer)) else axis
    try:
        items = tuple(items)
    except TypeError:
        raise TypeError(f"{op}: axis must be None, an int or a tuple of ints, got {axis!r}") from None
    axes = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (int, np.integer)):
            raise TypeError(f"{op}: axis must be None, an int or a tuple of ints, got {axis!r}")
        if not -ndim <= item < max(ndim, 1) or (ndim == 0 and item not in (0, -1)):
            raise AxisError(
                f"{op}: axis {item} is out of range for a tensor with {ndim} dimension"
                f"{'s' if ndim != 1 else ''} (valid: {-ndim} to {ndim - 1})"
            )
        axes.append(int(item) % ndim if ndim else 0)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: axis {axis!r} repeats an axis")
    return tuple(sorted(axes)) if ndim else ()


def kept_shape(shape: tuple, axes: tuple) -> tuple:
    """The shape of a reduction with keepdim=True."""
    return tuple(1 if i in axes else size for i, size in enumerate(shape))


class Sum(Function):
    """d sum(a)/da = 1 for every element: g is copied back along the reduced axes (a broadcast view, `Expand`)."""

    def forward(ctx, a, axes=(), keepdim=False):
        ctx.axes, ctx.keepdim = axes, keepdim
        return np.sum(a, axis=axes, keepdims=keepdim)

    def vjp(ctx, xp, g, out, a):
        shape = ctx.inputs[0].shape
        return xp.apply(Expand, g.reshape(kept_shape(shape, ctx.axes)), shape=shape)


class Max(Function):
    """d max(a)/da = 1/k at each of the k elements equal to the maximum (ties split equally), else 0."""

    reduce = staticmethod(np.max)

    def forward(ctx, a, axes=(), keepdim=False):
        ctx.axes = axes
        if a.size == 0:
            raise ValueError(f"{ctx.op_name}: cannot reduce an empty tensor of shape {a.shape}")
        return ctx.reduce(a, axis=axes, keepdims=keepdim)

    def vjp(ctx, xp, g, out, a):
        data = ctx.inputs[0].data
        shape = kept_shape(data.shape, ctx.axes)
        winners = data == ctx.output_data.reshape(shape)
        share = winners / winners.sum(axis=ctx.axes, keepdims=True)
        return g.reshape(shape) * share.astype(data.dtype)


class Min(Max):
    """d min(a)/da = 1/k at each of the k elements equal to the minimum (ties split equally), else 0."""

    reduce = staticmethod(np.min)
