"""Linear layers and the shape plumbing around them: Linear, Identity, Flatten.
"""
from __future__ import annotations

from typing import Any

from tinygrad_edu.nn import functional as F  # noqa: N812 (the PyTorch convention)
from tinygrad_edu.nn._layer_helpers import _as_tensor, _check_sizes, _empty_parameter, _pytorch_default_init
from tinygrad_edu.nn.module import Module
from tinygrad_edu.ops import matmul as ops_matmul
from tinygrad_edu.tensor import Tensor

__all__ = ["Flatten", "Identity", "Linear"]


class Linear(Module):
    """y = x @ weight.T + bias, with weight of shape (out_features, in_features).

    >>> import tinygrad_edu as tg
    >>> layer = Linear(3, 2)
    >>> layer(tg.Tensor.ones(4, 3)).shape
    (4, 2)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        _check_sizes(self, in_features=in_features, out_features=out_features)
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.weight = _empty_parameter(self.out_features, self.in_features)
        self.bias = _empty_parameter(self.out_features) if bias else None
        _pytorch_default_init(self.weight, self.bias)

    def forward(self, x: Any) -> Tensor:
        """Apply the affine map to the last axis of `x`."""
        # The usual call: F.linear's op at once, after its checks and this layer's, on the arrays' shapes
        # (read from the `_data` slot: a `.shape` property call costs about as much as the whole check).
        weight, bias = self.weight, self.bias
        if isinstance(x, Tensor) and isinstance(weight, Tensor):
            shape, weight_shape = x._data.shape, weight._data.shape
            if shape and shape[-1] == self.in_features and len(weight_shape) == 2 and shape[-1] == weight_shape[1]:
                if bias is None:
                    return ops_matmul.Linear.apply(x, weight)
                if isinstance(bias, Tensor) and bias._data.shape == weight_shape[:1]:
                    return ops_matmul.Linear.apply(x, weight, bias)
        return self._checked_forward(x)

    def _checked_forward(self, x: Any) -> Tensor:
        """The forward that names what is wrong: a non-Tensor input, the wrong width, a weight or bias of the
        wrong shape (the fast path above takes every call these checks pass)."""
        x = _as_tensor(x, self)
        shape = x.shape
        if not shape or shape[-1] != self.in_features:
            raise ValueError(
                f"{self!r} expects inputs whose last axis has {self.in_features} features, "
                f"got input of shape {shape} ({shape[-1] if shape else 'a scalar'} features)")
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Identity(Module):
    """Returns its input."""

    def forward(self, x: Any) -> Any:
        """Return x unchanged."""
        return x


class Flatten(Module):
    """Flatten every axis from `start_dim` on; the default keeps the batch axis."""

    def __init__(self, start_dim: int = 1) -> None:
        super().__init__()
        self.start_dim = start_dim

    def forward(self, x: Tensor) -> Tensor:
        """(N, C, H, W) -> (N, C*H*W) with the default start_dim=1."""
        return _as_tensor(x, self).flatten(self.start_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}"
