"""Convolution and pooling on NCHW images: Conv2d, MaxPool2d, AvgPool2d.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu.nn._layer_helpers import _as_tensor, _check_pair, _check_sizes, _empty_parameter, _pytorch_default_init
from tinygrad_edu.nn.module import Module
from tinygrad_edu.tensor import Tensor

__all__ = ["AvgPool2d", "Conv2d", "MaxPool2d"]


class Conv2d(Module):
    """2-D convolution on NCHW input; weight (out_channels, in_channels, kh, kw).

    PyTorch's default initialisation (as Linear, with fan_in = in_channels * kh * kw).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int = 1, padding: int = 0, bias: bool = True, groups: int = 1) -> None:
        super().__init__()
        _check_sizes(self, in_channels=in_channels, out_channels=out_channels)
        kernel = _check_pair(self, "kernel_size", kernel_size, minimum=1)
        _check_pair(self, "stride", stride, minimum=1)
        _check_pair(self, "padding", padding, minimum=0)
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size, self.stride, self.padding = kernel, stride, padding
        self.groups = _check_groups(self, groups, self.in_channels, self.out_channels)
        self.weight = _empty_parameter(self.out_channels, self.in_channels // self.groups, *kernel)
        self.bias = _empty_parameter(self.out_channels) if bias else None
        _pytorch_default_init(self.weight, self.bias)

    def forward(self, x: Any) -> Tensor:
        """Convolve a batch of images of shape (N, in_channels, H, W)."""
        x = _as_tensor(x, self)
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"{self!r} expects input of shape (N, {self.in_channels}, H, W), got {x.shape}")
        pad_h, pad_w = _check_pair(self, "padding", self.padding, minimum=0)
        padded = (x.shape[2] + 2 * pad_h, x.shape[3] + 2 * pad_w)
        if self.kernel_size[0] > padded[0] or self.kernel_size[1] > padded[1]:
            raise ValueError(f"Conv2d: kernel_size {self.kernel_size} is larger than the padded input "
                             f"({padded[0]} x {padded[1]}: input {x.shape} with padding {self.padding})")
        if self.groups == 1:
            return x.conv2d(self.weight, self.bias, stride=self.stride, padding=self.padding)
        # Grouped: group g convolves input channels [g*ci, (g+1)*ci) with output filters [g*co, (g+1)*co).
        inputs_per_group, outputs_per_group = self.in_channels // self.groups, self.out_channels // self.groups
        outputs = []
        for group in range(self.groups):
            channels = slice(group * inputs_per_group, (group + 1) * inputs_per_group)
            filters = slice(group * outputs_per_group, (group + 1) * outputs_per_group)
            bias = self.bias[filters] if self.bias is not None else None
            outputs.append(x[:, channels].conv2d(self.weight[filters], bias, stride=self.stride, padding=self.padding))
        return Tensor.cat(outputs, axis=1)

    def extra_repr(self) -> str:
        groups = f", groups={self.groups}" if self.groups != 1 else ""
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}{groups}, bias={self.bias is not None}")


def _check_groups(layer: Module, groups: Any, in_channels: int, out_channels: int) -> int:
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups <= 0:
        raise ValueError(f"{type(layer).__name__}: groups must be a positive int, got {groups!r}")
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"{type(layer).__name__}: in_channels ({in_channels}) and out_channels ({out_channels}) "
                         f"must both be divisible by groups ({groups})")
    return int(groups)


class MaxPool2d(Module):
    """Max pooling over (kernel_size x kernel_size) windows; stride defaults to kernel_size."""

    def __init__(self, kernel_size: int, stride: int | None = None) -> None:
        super().__init__()
        _check_pair(self, "kernel_size", kernel_size, minimum=1)
        if stride is not None:
            _check_pair(self, "stride", stride, minimum=1)
        self.kernel_size, self.stride = kernel_size, stride

    def forward(self, x: Tensor) -> Tensor:
        """Pool an NCHW batch."""
        return _as_tensor(x, self).max_pool2d(self.kernel_size, self.stride)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class AvgPool2d(MaxPool2d):
    """Average pooling over (kernel_size x kernel_size) windows; stride defaults to kernel_size."""

    def forward(self, x: Tensor) -> Tensor:
        """Pool an NCHW batch."""
        return _as_tensor(x, self).avg_pool2d(self.kernel_size, self.stride)
