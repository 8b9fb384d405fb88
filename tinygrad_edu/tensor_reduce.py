"""The Tensor's reductions that are composed from primitives (mean, var, softmax, ...), and argmax/argmin.

Each method hands its work to `tinygrad_edu.composite`; sum, max and min are
primitives (`tinygrad_edu.ops.reduce`).
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable, Optional

import numpy as np

from . import composite
from .checks import Axis, normalize_axes, torch_names
from .ops.normalize import Softmax
from .ops.reduce import Sum

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["CompositeReduceMethods"]


class CompositeReduceMethods:
    """``t.mean()``, ``t.softmax()``, ``t.argmax()``...: Tensor inherits them."""

    __slots__ = ()  # Tensor keeps its fixed slots: no base may add a __dict__

    @torch_names
    def mean(self: Tensor, axis: Axis = None, keepdim: bool = False) -> Tensor:
        """Mean over ``axis`` (None: all), as sum / count."""
        axes = normalize_axes(axis, self.ndim, "mean")
        count = math.prod(self.shape[i] for i in axes)
        if count == 0:
            raise ValueError(f"mean: cannot average over zero elements (shape {self.shape}, axis {axis})")
        return Sum.apply(self, axes=axes, keepdim=keepdim) * (1.0 / count)

    @torch_names
    def var(self: Tensor, axis: Axis = None, keepdim: bool = False, correction: int = 1) -> Tensor:
        """Variance sum((x - mean)^2) / max(0, n - correction): inf (or NaN for constant values) when n <= correction, as PyTorch."""
        return composite.var(self, axis, keepdim, correction)

    @torch_names
    def std(self: Tensor, axis: Axis = None, keepdim: bool = False, correction: int = 1) -> Tensor:
        """Standard deviation, sqrt(var); its gradient is 0 where it is 0, as in PyTorch."""
        return composite.std(self, axis, keepdim, correction)

    @torch_names
    def logsumexp(self: Tensor, axis: Axis = None, keepdim: bool = False) -> Tensor:
        """log(sum(exp(x))) computed as m + log(sum(exp(x - m))) with m the (constant) max, so it never overflows."""
        return composite.logsumexp(self, axis, keepdim)

    @torch_names
    def softmax(self: Tensor, axis: int = -1) -> Tensor:
        """exp(x) / sum(exp(x)) along ``axis``, shifted by the max for stability: one node (`ops.normalize`)."""
        return Softmax.apply(self, axis=normalize_axes(axis, self.ndim, "softmax"))

    @torch_names
    def log_softmax(self: Tensor, axis: int = -1) -> Tensor:
        """x - logsumexp(x) along ``axis``: stable for any finite input."""
        return composite.log_softmax(self, axis)

    @torch_names
    def argmax(self: Tensor, axis: Optional[int] = None, keepdim: bool = False) -> Tensor:
        """Index of the largest value (int64, no gradient); over the flattened tensor when ``axis`` is None."""
        return self._arg_reduce(np.argmax, axis, keepdim, "argmax")

    @torch_names
    def argmin(self: Tensor, axis: Optional[int] = None, keepdim: bool = False) -> Tensor:
        """Index of the smallest value (int64, no gradient)."""
        return self._arg_reduce(np.argmin, axis, keepdim, "argmin")

    def _arg_reduce(self: Tensor, function: Callable, axis: Optional[int], keepdim: bool, name: str) -> Tensor:
        axes = normalize_axes(axis, self.ndim, name)
        if self.data.size == 0 and (axis is None or self.shape[axes[0]] == 0):
            where = "the tensor is empty" if axis is None else f"axis {axes[0]} has size 0"
            raise IndexError(f"{name}(): expected a reduction over a non-empty axis, but {where} (shape {self.shape})")
        if axis is None:
            return self._make(np.asarray(function(self.data)), None, False)
        if self.ndim == 0:  # axis 0 or -1 of a 0-d tensor, as PyTorch: index 0
            return self._make(np.zeros((), dtype=np.int64), None, False)
        return self._make(function(self.data, axis=axes[0], keepdims=keepdim), None, False)

    @torch_names
    def cumsum(self: Tensor, dim: int) -> Tensor:
        """Running sums along ``dim``.  d/dx_i = sum of the gradient over positions j >= i."""
        return composite.cumsum(self, dim)

    @torch_names
    def prod(self: Tensor, dim: Axis = None, keepdim: bool = False) -> Tensor:
        """Product over ``dim`` (None: all).  d/dx_i = product of the other elements (exact with zeros)."""
        return composite.prod(self, dim, keepdim)

    @torch_names
    def sort(self: Tensor, dim: int = -1, descending: bool = False) -> tuple:
        """(values, indices) along ``dim``; values carry gradient back to where they came from."""
        return composite.sort(self, dim, descending)

    @torch_names
    def topk(self: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> tuple:  # noqa: A002
        """(values, indices) of the k largest (smallest) along ``dim``; values carry gradient."""
        return composite.topk(self, k, dim, largest, sorted)
