"""Convolution and pooling as windows (`Windows`, im2col) and a matmul: conv2d, conv1d, max_pool2d, avg_pool2d."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from ..checks import pair
from ..ops.window import Windows

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = ["conv2d", "max_pool2d", "avg_pool2d", "conv1d"]


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


def conv1d(x: Tensor, weight: Tensor, bias: Optional[Tensor] = None, stride: Any = 1, padding: Any = 0) -> Tensor:
    """1-D cross-correlation of NCL input with OCK weight: conv2d on a height-1 image."""
    weight = weight if isinstance(weight, type(x)) else type(x)(weight)
    if x.ndim != 3 or weight.ndim != 3:
        raise ValueError(f"conv1d: expects input (N, C, L) and weight (O, C, K), got shapes {x.shape} and {weight.shape}")
    stride = stride[0] if isinstance(stride, (tuple, list)) and len(stride) == 1 else stride
    padding = padding[0] if isinstance(padding, (tuple, list)) and len(padding) == 1 else padding
    for name, value, minimum in (("stride", stride, 1), ("padding", padding, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise ValueError(f"conv1d: {name} must be an int >= {minimum}, got {value!r}")
    out = conv2d(x.unsqueeze(2), weight.unsqueeze(2), bias, (1, int(stride)), (0, int(padding)))
    return out.squeeze(2)
