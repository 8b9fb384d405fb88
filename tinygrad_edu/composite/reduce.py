"""Composites along an axis: var, std, logsumexp, log_softmax, prod and cumsum (softmax is one node: `ops.normalize`)."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..checks import Axis, kept_shape, normalize_axes
from .indexing import _dim

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = ["var", "std", "logsumexp", "log_softmax", "prod", "cumsum"]


def var(x: Tensor, axis: Axis = None, keepdim: bool = False, correction: int = 1) -> Tensor:
    """Variance sum((x - mean)^2) / max(0, n - correction).

    As PyTorch: with no more elements than ``correction`` it divides by 0, giving
    inf (NaN where the values are all equal, 0 / 0).
    """
    axes = normalize_axes(axis, x.ndim, "var")
    count = math.prod(x.shape[i] for i in axes)
    deviation = x - x.mean(axis=axes, keepdim=True)
    squares = (deviation * deviation).sum(axis=axes, keepdim=keepdim)
    if count > correction:
        return squares * (1.0 / (count - correction))
    with np.errstate(divide="ignore", invalid="ignore"):
        return squares / 0.0


def std(x: Tensor, axis: Axis = None, keepdim: bool = False, correction: int = 1) -> Tensor:
    """Standard deviation, sqrt(var).

    Where it is 0 its gradient is 0, as in PyTorch, not the NaN of sqrt's
    infinite slope times var's zero gradient: those entries take
    ``where(v != 0, sqrt(where(v != 0, v, 1)), 0)``, which is the same value.
    """
    normalize_axes(axis, x.ndim, "std")  # so an error names std, not the var inside it
    variance = x.var(axis=axis, keepdim=keepdim, correction=correction)
    zero = variance.data == 0
    if not zero.any():
        return variance.sqrt()
    where = type(x).where
    return where(zero, 0.0, where(zero, 1.0, variance).sqrt())


def logsumexp(x: Tensor, axis: Axis = None, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) computed as m + log(sum(exp(x - m))) with m the (constant) max, so it never overflows.

    d/dx = softmax(x); the shift m cancels in the derivative, so treating it as a constant is exact.
    """
    axes = normalize_axes(axis, x.ndim, "logsumexp")
    shift = x.data.max(axis=axes, keepdims=True) if x.data.size else np.zeros(kept_shape(x.shape, axes))
    shift = np.where(np.isfinite(shift), shift, 0).astype(x.dtype, copy=False)
    shift_tensor = x._make(shift, None, False)
    total = (x - shift_tensor).exp().sum(axis=axes, keepdim=True).log() + shift_tensor
    return total if keepdim else total.reshape(tuple(s for i, s in enumerate(total.shape) if i not in axes))


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along ``axis``: stable for any finite input."""
    axes = normalize_axes(axis, x.ndim, "log_softmax")
    return x - x.logsumexp(axis=axes, keepdim=True)


def prod(x: Tensor, axis: Axis = None, keepdim: bool = False) -> Tensor:
    """Product over ``axis`` (None: all).  d/dx_i = the product of the other elements, exact when some are 0.

    Built as a tree of pairwise multiplications (log2(n) ``Mul`` nodes), so the
    derivative is the chain rule through those products: it never divides by
    x_i, so a slice with one zero sends the product of the others to that zero
    and 0 elsewhere, two zeros send 0 everywhere; second derivatives come free.
    """
    axes = normalize_axes(axis, x.ndim, "prod")
    kept = tuple(i for i in range(x.ndim) if i not in axes)
    count = math.prod(x.shape[i] for i in axes)
    out_shape = kept_shape(x.shape, axes) if keepdim else tuple(x.shape[i] for i in kept)
    if count == 0:
        return x.sum(axis=axes, keepdim=keepdim) + 1.0  # the empty product (sum of nothing is 0)
    flat = x.permute(*(kept + axes)).reshape(tuple(x.shape[i] for i in kept) + (count,))
    while count > 1:
        half = count // 2
        product = flat[..., :half] * flat[..., half:2 * half]
        flat = type(x).cat([product, flat[..., 2 * half:]], axis=-1) if count % 2 else product
        count = half + count % 2
    return flat.reshape(out_shape)


def cumsum(x: Tensor, dim: int) -> Tensor:
    """Running sums along ``dim``.  d/dx_i = sum of the gradient over positions j >= i."""
    from ..ops.reduce import Cumsum
    if x.ndim == 0:
        _dim(dim, 0, "cumsum")
        return x * 1.0
    return Cumsum.apply(x, axis=_dim(dim, x.ndim, "cumsum"))
