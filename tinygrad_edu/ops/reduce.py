"""Reduction primitives: sum and max/min over axes (mean, var, logsumexp, softmax are composed from them)."""
from __future__ import annotations

import numpy as np

from .. import autograd
from ..autograd import Function
from .movement import broadcast_view


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


def _spread(g: np.ndarray, shape: tuple, axes: tuple) -> np.ndarray:
    """g (a sum over `axes` of an array of `shape`, keepdim or not) copied back along those axes, as a view."""
    return broadcast_view(g.reshape(kept_shape(shape, axes)), shape)


class Sum(Function):
    """d sum(a)/da = 1 for every element: the gradient is spread back over the reduced axes (`Spread`)."""

    def forward(ctx, a, axes=(), keepdim=False):
        ctx.axes, ctx.keepdim = axes, keepdim
        return np.sum(a, axis=axes, keepdims=keepdim)

    def backward(ctx, grad_output):
        return Spread.apply(grad_output, shape=ctx.inputs[0].data.shape, axes=ctx.axes, keepdim=ctx.keepdim)

    def backward_arrays(ctx, grad_output):
        return _spread(grad_output, ctx.inputs[0].data.shape, ctx.axes)


class Spread(Function):
    """Copies of g along the axes a sum removed (the adjoint of `Sum`, a broadcast view); d/dg = the sum over those axes."""

    def forward(ctx, g, shape=(), axes=(), keepdim=False):
        ctx.axes, ctx.keepdim = axes, keepdim
        return _spread(g, shape, axes)

    def backward(ctx, grad_output):
        return Sum.apply(grad_output, axes=ctx.axes, keepdim=ctx.keepdim)


class Max(Function):
    """d max(a)/da = 1/k at each of the k elements equal to the maximum (ties split equally), else 0."""

    reduce = staticmethod(np.max)

    def forward(ctx, a, axes=(), keepdim=False):
        ctx.axes = axes
        if a.size == 0:
            raise ValueError(f"{ctx.op_name}: cannot reduce an empty tensor of shape {a.shape}")
        return ctx.reduce(a, axis=axes, keepdims=keepdim)

    def backward(ctx, grad_output):
        data = ctx.inputs[0].data
        shape = kept_shape(data.shape, ctx.axes)
        winners = data == ctx.output_data.reshape(shape)
        share = winners / winners.sum(axis=ctx.axes, keepdims=True)
        return grad_output.reshape(shape) * autograd._make_tensor(share.astype(data.dtype), None, False)


class Min(Max):
    """d min(a)/da = 1/k at each of the k elements equal to the minimum (ties split equally), else 0."""

    reduce = staticmethod(np.min)
