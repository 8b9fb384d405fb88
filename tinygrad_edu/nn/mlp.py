"""MLP: a multilayer perceptron built from Linear layers and activations named by string, class or function.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_edu.nn._layer_helpers import _as_tensor
from tinygrad_edu.nn.activation import (
    ELU,
    GELU,
    SELU,
    Hardswish,
    LeakyReLU,
    Mish,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softplus,
    Tanh,
)
from tinygrad_edu.nn.container import Lambda, Sequential
from tinygrad_edu.nn.linear import Identity, Linear
from tinygrad_edu.nn.module import Module, call_with_one_input
from tinygrad_edu.tensor import Tensor

__all__ = ["MLP"]


_ACTIVATIONS: dict[str, type[Module]] = {
    "relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh, "leaky_relu": LeakyReLU, "gelu": GELU,
    "softplus": Softplus, "identity": Identity, "linear": Identity, "silu": SiLU,
    "elu": ELU, "selu": SELU, "mish": Mish, "relu6": ReLU6, "hardswish": Hardswish,
}


def _activation_module(activation: Any, argument: str) -> Module:
    """Turn a name, Module class, Module instance or function into a Module."""
    if isinstance(activation, str):
        try:
            return _ACTIVATIONS[activation.lower()]()
        except KeyError:
            raise ValueError(f"MLP: unknown {argument} {activation!r}; choose one of {sorted(_ACTIVATIONS)}, "
                             "or pass a Module or a function") from None
    if isinstance(activation, type) and issubclass(activation, Module):
        return activation()
    if isinstance(activation, Module):
        return activation
    if callable(activation):
        return Lambda(activation)
    raise TypeError(f"MLP: {argument} must be a name, a Module or a function, got {type(activation).__name__}")


class MLP(Module):
    """A multilayer perceptron: Linear layers of the given sizes with activations between.

    `sizes=[2, 16, 16, 1]` builds Linear(2, 16), act, Linear(16, 16), act,
    Linear(16, 1) and then `output_activation` if given. `activation` is a name
    ("relu", "sigmoid", "tanh", "leaky_relu", "gelu", "silu", "elu", "mish", ...),
    a Module class or instance, a function,
    or None for no activation (a purely linear network).
    The layers live in `self.layers` (a Sequential), so parameters are named
    `layers.0.weight`, `layers.0.bias`, `layers.2.weight`, ...

    >>> [name for name, _ in MLP([2, 3, 1]).named_parameters()]
    ['layers.0.weight', 'layers.0.bias', 'layers.2.weight', 'layers.2.bias']
    """

    def __init__(self, sizes: Sequence[int], activation: Any = "relu", output_activation: Any = None) -> None:
        super().__init__()
        sizes = list(sizes)
        if any(isinstance(size, bool) or not isinstance(size, (int, np.integer)) for size in sizes):
            raise ValueError(f"MLP: sizes must be ints (inputs, hidden sizes..., outputs), got {sizes}")
        sizes = [int(size) for size in sizes]
        if len(sizes) < 2 or any(size <= 0 for size in sizes):
            raise ValueError(f"MLP needs at least two positive layer sizes (inputs, outputs), got {sizes}")
        self.sizes = sizes
        self.layers = Sequential()
        for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            self.layers.append(Linear(fan_in, fan_out))
            if index < len(sizes) - 2 and activation is not None:
                self.layers.append(_activation_module(activation, "activation"))
        if output_activation is not None:
            self.layers.append(_activation_module(output_activation, "output_activation"))

    def forward(self, x: Any) -> Any:
        """Run the network."""
        return call_with_one_input(self.layers, x if isinstance(x, Tensor) else _as_tensor(x, self))
