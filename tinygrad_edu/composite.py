"""Composite ops: built from primitives, so they need no backward rule of their own.

The Tensor methods of the same names call these (``x.softmax()`` is
``softmax(x)``); each derivative follows from the chain rule through the
primitives.  Written against the tensor passed in (its type makes new tensors),
so this module does not import the Tensor class.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from .checks import Axis, kept_shape, normalize_axes, pair
from .ops.window import Windows

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["avg_pool2d", "conv2d", "gelu", "leaky_relu", "log_softmax", "logsumexp", "max_pool2d", "softmax", "std",
           "var"]


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, else negative_slope * x.  d/dx = 1 or negative_slope (negative_slope at 0)."""
    return type(x).where(x > 0, x, x * negative_slope)


def gelu(x: Tensor) -> Tensor:
    """GELU in its tanh approximation (PyTorch's ``approximate="tanh"``), composed from primitives.

    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))); the derivative follows from the chain rule.
    """
    inner = (x + x * x * x * 0.044715) * math.sqrt(2.0 / math.pi)
    return x * 0.5 * (inner.tanh() + 1.0)


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


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis``, shifted by the (constant) max for stability."""
    axes = normalize_axes(axis, x.ndim, "softmax")
    if x.data.size == 0:  # an empty result, as PyTorch (the max of an empty axis does not exist)
        shift = x._make(np.zeros(kept_shape(x.shape, axes), dtype=x.dtype), None, False)
    else:
        shift = x._make(x.data.max(axis=axes, keepdims=True), None, False)
    exps = (x - shift).exp()
    return exps / exps.sum(axis=axes, keepdim=True)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along ``axis``: stable for any finite input."""
    axes = normalize_axes(axis, x.ndim, "log_softmax")
    return x - x.logsumexp(axis=axes, keepdim=True)


def conv2d(x: Tensor, weight: Tensor, bias: Optional[Tensor] = None, stride: Any = 1, padding: Any = 0) -> Tensor:
    """2-D cross-correlation of NCHW input with OIHW weight, as im2col (`Windows`) and a matmul."""
    weight = weight if isinstance(weight, type(x)) else type(x)(weight)
    if x.ndim != 4 or weight.ndim != 4:
        raise ValueError(
            f"conv2d: expects input (N, C, H, W) and weight (O, C, KH, KW), got shapes {x.shape} and {weight.shape}"
        )
    out_channels, in_channels, kernel_h, kernel_w = weight.shape
    if x.shape[1] != in_channels:
        raise ValueError(
            f"conv2d: input has {x.shape[1]} channels (shape {x.shape}) but the weight expects "
            f"{in_channels} (shape {weight.shape})"
        )
    if bias is not None and (not isinstance(bias, type(x)) or bias.shape != (out_channels,)):
        raise ValueError(f"conv2d: bias must be a Tensor of shape ({out_channels},), got {getattr(bias, 'shape', bias)}")
    pad_h, pad_w = pair(padding, "padding", minimum=0)
    x = x.pad(((0, 0), (0, 0), (pad_h, pad_h), (pad_w, pad_w))) if pad_h or pad_w else x
    cols = _windows(x, (kernel_h, kernel_w), pair(stride, "stride", minimum=1), "conv2d")
    batch, _, out_h, out_w = cols.shape[:4]
    cols = cols.permute(0, 2, 3, 1, 4, 5).reshape(batch * out_h * out_w, in_channels * kernel_h * kernel_w)
    out = cols @ weight.reshape(out_channels, in_channels * kernel_h * kernel_w).T
    out = out.reshape(batch, out_h, out_w, out_channels).permute(0, 3, 1, 2)
    if bias is not None:
        out = out + bias.reshape(1, out_channels, 1, 1)
    return out


def max_pool2d(x: Tensor, kernel_size: Any, stride: Any = None) -> Tensor:
    """Max over each window of NCHW input (stride defaults to kernel_size); ties in a window split the gradient."""
    windows = _pool_windows(x, kernel_size, stride, "max_pool2d")
    return windows.max(axis=-1)


def avg_pool2d(x: Tensor, kernel_size: Any, stride: Any = None) -> Tensor:
    """Mean over each window of NCHW input (stride defaults to kernel_size)."""
    windows = _pool_windows(x, kernel_size, stride, "avg_pool2d")
    return windows.mean(axis=-1)


def _pool_windows(x: Tensor, kernel_size: Any, stride: Any, op: str) -> Tensor:
    if x.ndim != 4:
        raise ValueError(f"{op}: expects input of shape (N, C, H, W), got {x.shape}")
    kernel = pair(kernel_size, "kernel_size", minimum=1)
    steps = kernel if stride is None else pair(stride, "stride", minimum=1)
    windows = _windows(x, kernel, steps, op)
    return windows.reshape(windows.shape[:4] + (kernel[0] * kernel[1],))


def _windows(x: Tensor, kernel: tuple, stride: tuple, op: str) -> Tensor:
    height, width = x.shape[2], x.shape[3]
    if kernel[0] > height or kernel[1] > width:
        raise ValueError(f"{op}: kernel {kernel} is larger than the (padded) input's {height}x{width} image")
    return Windows.apply(x, kernel=kernel, stride=stride)
