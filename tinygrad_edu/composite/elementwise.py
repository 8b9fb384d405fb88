"""Elementwise composites: activations (leaky_relu, gelu, relu6, hardsigmoid, hardswish, mish, elu, selu,
logsigmoid, softsign) and log2, log10, exp2, each built from elementwise primitives.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = ["leaky_relu", "gelu", "log2", "log10", "exp2", "relu6", "hardsigmoid", "hardswish", "mish", "elu", "selu",
           "logsigmoid", "softsign"]


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, else negative_slope * x.  d/dx = 1 or negative_slope (negative_slope at 0)."""
    return type(x).where(x > 0, x, x * negative_slope)


def gelu(x: Tensor) -> Tensor:
    """GELU in its tanh approximation (PyTorch's ``approximate="tanh"``), composed from primitives.

    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))); the derivative follows from the chain rule.
    """
    inner = (x + x * x * x * 0.044715) * math.sqrt(2.0 / math.pi)
    return x * 0.5 * (inner.tanh() + 1.0)


_LN2, _LN10 = math.log(2.0), math.log(10.0)


def log2(x: Tensor) -> Tensor:
    """log(x) / log(2).  d/dx = 1 / (x log 2)."""
    return x.log() * (1.0 / _LN2)


def log10(x: Tensor) -> Tensor:
    """log(x) / log(10).  d/dx = 1 / (x log 10)."""
    return x.log() * (1.0 / _LN10)


def exp2(x: Tensor) -> Tensor:
    """2^x = exp(x log 2).  d/dx = 2^x log 2."""
    return (x * _LN2).exp()


def relu6(x: Tensor) -> Tensor:
    """min(max(x, 0), 6).  d/dx = 1 for 0 < x < 6, else 0."""
    return x.clip(0.0, 6.0)


def hardsigmoid(x: Tensor) -> Tensor:
    """relu6(x + 3) / 6.  d/dx = 1/6 for -3 < x < 3, else 0."""
    return relu6(x + 3.0) * (1.0 / 6.0)


def hardswish(x: Tensor) -> Tensor:
    """x * relu6(x + 3) / 6.  d/dx = (2x + 3) / 6 for -3 < x < 3, 0 below, 1 above."""
    return x * hardsigmoid(x)


def mish(x: Tensor) -> Tensor:
    """x * tanh(softplus(x)).  d/dx = tanh(sp) + x sigmoid(x) (1 - tanh(sp)^2) with sp = softplus(x)."""
    return x * x.softplus().tanh()


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x for x > 0, else alpha (exp(x) - 1).  d/dx = 1 for x > 0, else alpha exp(x).

    The negative branch sees min(x, 0) (a "double where"), so a large positive x
    never puts an inf into the branch that where() discards.
    """
    negative = type(x).where(x > 0, 0.0, x)
    return type(x).where(x > 0, x, negative.expm1() * alpha)


_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def selu(x: Tensor) -> Tensor:
    """scale * elu(x, alpha) with PyTorch's constants.  d/dx = scale for x > 0, else scale alpha exp(x)."""
    return elu(x, _SELU_ALPHA) * _SELU_SCALE


def logsigmoid(x: Tensor) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), finite for any x.  d/dx = 1 - sigmoid(x) = sigmoid(-x)."""
    return -((-x).softplus())


def softsign(x: Tensor) -> Tensor:
    """x / (1 + |x|).  d/dx = 1 / (1 + |x|)^2."""
    return x / (x.abs() + 1.0)
