"""What every layer shares: float32 parameters, PyTorch's default initialisation, argument and input checks.

`_as_tensor` (a layer's input must be a Tensor) and `_tensor` (a function in `nn.functional` or `nn.losses`
wraps anything else) sit side by side: layers refuse what functions accept, as in PyTorch.

Private to `tinygrad_edu.nn`; the layers import these by name.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_edu.nn import init
from tinygrad_edu.nn.module import Module
from tinygrad_edu.tensor import Tensor

__all__ = ["_DEFAULT_DTYPE", "_as_tensor", "_check_pair", "_check_sizes", "_empty_parameter", "_pytorch_default_init",
           "_tensor"]


_DEFAULT_DTYPE = np.float32


def _empty_parameter(*shape: int) -> Tensor:
    """An uninitialised float32 parameter; the caller fills it in place with `init`."""
    return Tensor(np.zeros(shape, dtype=_DEFAULT_DTYPE), requires_grad=True)


def _as_tensor(x: Any, layer: Module | None = None) -> Tensor:
    """The layer's input, which must be a Tensor: as in PyTorch, arrays and lists raise `TypeError`.

    Wrapping silently would hide where the data's dtype is chosen (a float64
    array would make a float32 model compute in float64) and would accept
    some inputs in some layers only.
    """
    if isinstance(x, Tensor):
        return x
    name = type(layer).__name__ if layer is not None else "this layer"
    kind = f"numpy.ndarray of dtype {x.dtype}" if isinstance(x, np.ndarray) else type(x).__name__
    raise TypeError(f"{name} expects a Tensor as input, got a {kind}; wrap the data first, e.g. "
                    "Tensor(x, dtype=np.float32) to match float32 weights")


def _tensor(value: Any) -> Tensor:
    """The argument of a function in `nn.functional` or `nn.losses`: a Tensor as it is, anything else wrapped."""
    return value if isinstance(value, Tensor) else Tensor(value)


def _check_sizes(layer: Module, **sizes: Any) -> None:
    for name, size in sizes.items():
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size <= 0:
            raise ValueError(f"{type(layer).__name__}: {name} must be a positive int, got {size!r}")


def _check_pair(layer: Module, name: str, value: Any, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints, each >= minimum, as a pair; else `ValueError` naming the layer and argument."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else value
    try:
        pair = tuple(pair)
    except TypeError:
        pair = ()
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum
                             for v in pair):
        wanted = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise ValueError(f"{type(layer).__name__}: {name} must be {wanted} or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def _pytorch_default_init(weight: Tensor, bias: Tensor | None) -> None:
    """Linear/Conv default: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
    i.e. kaiming_uniform with a = sqrt(5)."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init.calculate_fan_in_and_fan_out(weight)
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        init.uniform_(bias, -bound, bound)
