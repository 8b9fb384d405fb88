"""Reduction primitives: sum and max/min over axes (mean, var, logsumexp, softmax are composed from them)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..autograd import Function
from ..checks import Axis, AxisError, kept_shape, normalize_axes, torch_names
from ..function import ALWAYS

if TYPE_CHECKING:
    from ..tensor import Tensor

# AxisError, kept_shape and normalize_axes live in checks.py; importable from here as before.
__all__ = ["AxisError", "Cumsum", "Max", "Min", "ReduceMethods", "Sum", "kept_shape", "normalize_axes"]


class Sum(Function):
    """d sum(a)/da = 1 for every element: g is copied back along the reduced axes (a broadcast view, `Expand`)."""

    exact_rule = ALWAYS

    def forward(ctx, a, axes=(), keepdim=False):
        ctx.axes = axes
        if a.dtype.kind == "f":  # the ufunc's reduce directly: np.sum adds about a microsecond of Python
            return np.add.reduce(a, axis=axes, keepdims=keepdim)
        return np.sum(a, axis=axes, keepdims=keepdim)  # integers and bools summed in NumPy's wider type

    def vjp(ctx, xp, g, out, a):
        shape = a.shape
        if g.ndim:  # a 0-d g (the sum of everything) broadcasts as it is
            g = g.reshape(kept_shape(shape, ctx.axes))
        return xp.expand(g, shape)


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


class Cumsum(Function):
    """d cumsum(a)_j/da_i = 1 for j >= i, so the gradient is g summed from the end: flip(cumsum(flip(g)))."""

    def forward(ctx, a, axis=0):
        ctx.axis = axis
        return np.cumsum(a, axis=axis)

    def vjp(ctx, xp, g, out, a):
        reverse = (slice(None),) * ctx.axis + (slice(None, None, -1),)
        return xp.apply(Cumsum, g[reverse], axis=ctx.axis)[reverse]

# ---------------------------------------------------------------- the Tensor methods of this family

class ReduceMethods:
    """``t.sum()``, ``t.max()``, ``t.min()``: Tensor inherits them."""

    __slots__ = ()  # Tensor keeps its fixed slots: no base may add a __dict__

    @torch_names
    def sum(self: Tensor, axis: Axis = None, keepdim: bool = False) -> Tensor:
        """Sum over ``axis`` (None: all).  d/dx = 1 for each element."""
        return Sum.apply(self, axes=normalize_axes(axis, self.ndim, "sum"), keepdim=keepdim)

    @torch_names
    def max(self: Tensor, axis: Axis = None, keepdim: bool = False) -> Tensor:
        """Largest value over ``axis``; ties split the gradient equally."""
        return Max.apply(self, axes=normalize_axes(axis, self.ndim, "max"), keepdim=keepdim)

    @torch_names
    def min(self: Tensor, axis: Axis = None, keepdim: bool = False) -> Tensor:
        """Smallest value over ``axis``; ties split the gradient equally."""
        return Min.apply(self, axes=normalize_axes(axis, self.ndim, "min"), keepdim=keepdim)
