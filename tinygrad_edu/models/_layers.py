"""Embedding and LayerNorm as the models need them, until `nn.Embedding` and `nn.LayerNorm` exist.

Same parameter names, shapes and initialisation as PyTorch's layers (weight of an
embedding ~ N(0, 1); LayerNorm weight 1, bias 0), so state dicts are unchanged
when the models switch to the `nn` versions.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu import nn
from tinygrad_edu.random import get_generator
from tinygrad_edu.tensor import Tensor


def _parameter(array: np.ndarray) -> Tensor:
    return Tensor(array.astype(np.float32), requires_grad=True)


class Embedding(nn.Module):
    """A table of `num_embeddings` learned vectors; `forward(indices)` looks rows up.

    Looking up row i is the same as multiplying a one-hot vector by the table, so
    the gradient of row i is the sum of the gradients of every place it was used.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int) -> None:
        super().__init__()
        self.weight = _parameter(get_generator().standard_normal((num_embeddings, embedding_dim)))

    def forward(self, indices: Any) -> Tensor:
        """Rows of the table: indices of shape S give a tensor of shape S + (embedding_dim,)."""
        return self.weight[np.asarray(indices.data if isinstance(indices, Tensor) else indices)]


class LayerNorm(nn.Module):
    """Normalise the last axis to mean 0 and variance 1, then scale by `weight` and shift by `bias`."""

    def __init__(self, normalized_shape: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.weight = _parameter(np.ones(normalized_shape))
        self.bias = _parameter(np.zeros(normalized_shape))

    def forward(self, x: Tensor) -> Tensor:
        """(x - mean) / sqrt(var + eps) * weight + bias over the last axis (biased variance, as PyTorch)."""
        centred = x - x.mean(axis=-1, keepdim=True)
        variance = (centred * centred).mean(axis=-1, keepdim=True)
        return centred / (variance + self.eps).sqrt() * self.weight + self.bias
