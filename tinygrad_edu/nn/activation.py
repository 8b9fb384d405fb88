"""Activation modules: each wraps the `functional` op of the same name (ReLU -> F.relu), as in PyTorch.
"""
from __future__ import annotations

from typing import Any

from tinygrad_edu.checks import torch_names
from tinygrad_edu.nn import functional as F  # noqa: N812 (the PyTorch convention)
from tinygrad_edu.nn._layer_helpers import _as_tensor
from tinygrad_edu.nn.module import Module
from tinygrad_edu.tensor import Tensor

__all__ = ["GELU", "LeakyReLU", "ReLU", "SiLU", "Sigmoid", "Softmax", "Softplus", "Tanh"]


class ReLU(Module):
    """max(x, 0)."""

    def forward(self, x: Any) -> Tensor:
        """Apply elementwise."""
        return F.relu(_as_tensor(x, self))


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x otherwise."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: Any) -> Tensor:
        """Apply elementwise."""
        return F.leaky_relu(_as_tensor(x, self), self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """1 / (1 + exp(-x))."""

    def forward(self, x: Any) -> Tensor:
        """Apply elementwise."""
        return F.sigmoid(_as_tensor(x, self))


class Tanh(Module):
    """Hyperbolic tangent."""

    def forward(self, x: Any) -> Tensor:
        """Apply elementwise."""
        return F.tanh(_as_tensor(x, self))


class GELU(Module):
    """Gaussian error linear unit x * Phi(x): exact (erf) by default, or `approximate="tanh"` (see `F.gelu`)."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Any) -> Tensor:
        """Apply elementwise."""
        return F.gelu(_as_tensor(x, self), approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x * sigmoid(x) (swish)."""

    def forward(self, x: Any) -> Tensor:
        """Apply elementwise."""
        return F.silu(_as_tensor(x, self))


class Softplus(Module):
    """log(1 + exp(x))."""

    def forward(self, x: Any) -> Tensor:
        """Apply elementwise."""
        return F.softplus(_as_tensor(x, self))


class Softmax(Module):
    """Softmax along `axis` (default the last)."""

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = axis

    def forward(self, x: Any) -> Tensor:
        """Normalise to probabilities along the axis."""
        return F.softmax(_as_tensor(x, self), self.axis)


# nn.Softmax(dim=-1), PyTorch's spelling, as well as axis= (checks.torch_names).
Softmax.__init__ = torch_names(Softmax.__init__)  # type: ignore[method-assign]
