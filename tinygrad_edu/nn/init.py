"""Weight initialisation, in place, with PyTorch's fan and gain conventions.

Each function overwrites `tensor.data` in place (keeping its dtype) using the
package generator (`tinygrad_edu.random.get_generator()`, reseeded by
`tinygrad_edu.manual_seed`) and returns the tensor. Fans follow PyTorch: for a
weight of shape `(out, in, *kernel)`, `fan_in = in * prod(kernel)` and
`fan_out = out * prod(kernel)`.

Aliases: `glorot_*` = `xavier_*`, `he_*` = `kaiming_*`, and every name also
exists without the trailing underscore.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_edu.random import get_generator
from tinygrad_edu.tensor import Tensor

__all__ = [
    "calculate_fan_in_and_fan_out", "calculate_gain", "constant_", "kaiming_normal_", "kaiming_uniform_",
    "normal_", "ones_", "uniform_", "xavier_normal_", "xavier_uniform_", "zeros_"
]


def _array(tensor: Any) -> np.ndarray:
    return tensor.data if isinstance(tensor, Tensor) else tensor


def calculate_fan_in_and_fan_out(tensor: Any) -> tuple[int, int]:
    """Return `(fan_in, fan_out)` of a weight of shape `(out, in, *kernel)`."""
    shape = _array(tensor).shape
    if len(shape) < 2:
        raise ValueError(f"fan in/out need a tensor with at least 2 dimensions, got shape {shape}")
    receptive_field = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive_field, shape[0] * receptive_field


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """PyTorch's recommended gain: 1 for linear/sigmoid, 5/3 tanh, sqrt(2) relu,
    sqrt(2 / (1 + slope^2)) leaky_relu (slope defaults to 0.01), 3/4 selu."""
    if nonlinearity in ("linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1.0 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4.0
    raise ValueError(f"unknown nonlinearity {nonlinearity!r}; use one of linear, sigmoid, tanh, relu, leaky_relu, selu")


def _fan(tensor: Any, mode: str) -> int:
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    if mode == "fan_in":
        return fan_in
    if mode == "fan_out":
        return fan_out
    raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")


def uniform_(tensor: Any, a: float = 0.0, b: float = 1.0) -> Any:
    """Fill with samples from U(a, b)."""
    array = _array(tensor)
    array[...] = get_generator().uniform(a, b, size=array.shape)
    return tensor


def normal_(tensor: Any, mean: float = 0.0, std: float = 1.0) -> Any:
    """Fill with samples from N(mean, std^2)."""
    array = _array(tensor)
    array[...] = get_generator().normal(mean, std, size=array.shape)
    return tensor


def constant_(tensor: Any, value: float) -> Any:
    """Fill with `value`."""
    _array(tensor)[...] = value
    return tensor


def zeros_(tensor: Any) -> Any:
    """Fill with 0."""
    return constant_(tensor, 0.0)


def ones_(tensor: Any) -> Any:
    """Fill with 1."""
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor: Any, gain: float = 1.0) -> Any:
    """Glorot: U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor: Any, gain: float = 1.0) -> Any:
    """Glorot: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform_(tensor: Any, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> Any:
    """He: U(-b, b) with b = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a).

    PyTorch's default for Linear and Conv2d weights is `a=sqrt(5)`, which
    works out to b = 1 / sqrt(fan_in).
    """
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor: Any, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> Any:
    """He: N(0, std^2) with std = gain / sqrt(fan)."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std)


glorot_uniform_ = xavier_uniform_
glorot_normal_ = xavier_normal_
he_uniform_ = kaiming_uniform_
he_normal_ = kaiming_normal_

uniform = uniform_
normal = normal_
constant = constant_
zeros = zeros_
ones = ones_
xavier_uniform = glorot_uniform = xavier_uniform_
xavier_normal = glorot_normal = xavier_normal_
kaiming_uniform = he_uniform = kaiming_uniform_
kaiming_normal = he_normal = kaiming_normal_
