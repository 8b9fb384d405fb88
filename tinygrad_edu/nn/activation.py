"""Activation modules: each wraps the `functional` op of the same name (ReLU -> F.relu), as in PyTorch.
"""
from __future__ import annotations

from typing import Any

from tinygrad_edu.checks import torch_names
from tinygrad_edu.nn import functional as F  # noqa: N812 (the PyTorch convention)
from tinygrad_edu.nn._layer_helpers import _as_tensor
from tinygrad_edu.nn.module import Module
from tinygrad_edu.tensor import Tensor

__all__ = [
    "ELU", "GELU", "SELU", "Hardsigmoid", "Hardswish", "LeakyReLU", "LogSigmoid", "LogSoftmax", "Mish", "ReLU",
    "ReLU6", "SiLU", "Sigmoid", "Softmax", "Softplus", "Softsign", "Tanh",
]


class ReLU(Module):
    """max(x, 0)."""

    def forward(self, x: Any) -> Tensor:
        """Apply elementwise."""
        if isinstance(x, Tensor):  # F.relu would only check that again
            return x.relu()
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
        if isinstance(x, Tensor):  # F.sigmoid would only check that again
            return x.sigmoid()
        return F.sigmoid(_as_tensor(x, self))


class Tanh(Module):
    """Hyperbolic tangent."""

    def forward(self, x: Any) -> Tensor:
        """Apply elementwise."""
        if isinstance(x, Tensor):  # F.tanh would only check that again
            return x.tanh()
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
    """log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold (see `F.softplus`)."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x: Any) -> Tensor:
        """Apply elementwise."""
        return F.softplus(_as_tensor(x, self), self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """Softmax along `axis` (default the last)."""

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = axis

    def forward(self, x: Any) -> Tensor:
        """Normalise to probabilities along the axis."""
        return F.softmax(_as_tensor(x, self), self.axis)

    def extra_repr(self) -> str:
        return f"dim={self.axis}"   # PyTorch's name for the axis


class LogSoftmax(Module):
    """log(softmax(x)) along `axis` (default the last), computed stably as x - logsumexp(x)."""

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = axis

    def forward(self, x: Any) -> Tensor:
        """Log-probabilities along the axis."""
        return F.log_softmax(_as_tensor(x, self), self.axis)

    def extra_repr(self) -> str:
        return f"dim={self.axis}"


# ----- the activations PyTorch added after ReLU (issue 11); each wraps its F.* op ------------------

class ReLU6(Module):
    """min(max(x, 0), 6): a ReLU capped at 6 (MobileNet)."""

    def forward(self, x: Any) -> Tensor:
        """Apply elementwise."""
        return F.relu6(_as_tensor(x, self))


class Hardsigmoid(Module):
    """relu6(x + 3) / 6: a piecewise-linear sigmoid, 0 below -3 and 1 above 3."""

    def forward(self, x: Any) -> Tensor:
        """Apply elementwise."""
        return F.hardsigmoid(_as_tensor(x, self))


class Hardswish(Module):
    """x * relu6(x + 3) / 6: a piecewise SiLU (MobileNetV3)."""

    def forward(self, x: Any) -> Tensor:
        """Apply elementwise."""
        return F.hardswish(_as_tensor(x, self))


class Mish(Module):
    """x * tanh(softplus(x))."""

    def forward(self, x: Any) -> Tensor:
        """Apply elementwise."""
        return F.mish(_as_tensor(x, self))


class ELU(Module):
    """x for x > 0, else alpha * (exp(x) - 1)."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, x: Any) -> Tensor:
        """Apply elementwise."""
        return F.elu(_as_tensor(x, self), self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class SELU(Module):
    """scale * elu(x, alpha) with the self-normalising constants alpha ~ 1.6733, scale ~ 1.0507."""

    def forward(self, x: Any) -> Tensor:
        """Apply elementwise."""
        return F.selu(_as_tensor(x, self))


class LogSigmoid(Module):
    """log(sigmoid(x)) = -softplus(-x), finite for any x."""

    def forward(self, x: Any) -> Tensor:
        """Apply elementwise."""
        return F.logsigmoid(_as_tensor(x, self))


class Softsign(Module):
    """x / (1 + |x|)."""

    def forward(self, x: Any) -> Tensor:
        """Apply elementwise."""
        return F.softsign(_as_tensor(x, self))


# nn.Softmax(dim=-1) and nn.LogSoftmax(dim=-1), PyTorch's spelling, as well as axis= (checks.torch_names).
Softmax.__init__ = torch_names(Softmax.__init__)  # type: ignore[method-assign]
LogSoftmax.__init__ = torch_names(LogSoftmax.__init__)  # type: ignore[method-assign]
