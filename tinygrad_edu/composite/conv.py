"""Average pooling as windows (`Windows`) and a mean, and conv1d as a conv2d on a height-1 image.

conv2d and max_pool2d are single nodes of their own (`ops.conv`, `ops.pool`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from ..checks import pair
from ..ops.window import Windows

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = ["avg_pool2d", "conv1d"]


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
    out = x.unsqueeze(2).conv2d(weight.unsqueeze(2), bias, (1, int(stride)), (0, int(padding)))
    return out.squeeze(2)
