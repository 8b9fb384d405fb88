"""Embedding: a trainable lookup table from integer indices to vectors.
"""
from __future__ import annotations

from typing import Any

from tinygrad_edu.nn import functional as F  # noqa: N812 (the PyTorch convention)
from tinygrad_edu.nn import init
from tinygrad_edu.nn._layer_helpers import _check_sizes, _empty_parameter
from tinygrad_edu.nn.module import Module
from tinygrad_edu.tensor import Tensor

__all__ = ["Embedding"]


class Embedding(Module):
    """A lookup table: row i of `weight` (num_embeddings, embedding_dim) is the vector of index i.

    `weight` starts as N(0, 1) samples (PyTorch's initialisation), drawn from the
    generator `manual_seed` seeds. The input is integer indices of any shape;
    the output adds an axis of size `embedding_dim`.

    >>> import numpy as np
    >>> table = Embedding(27, 2)
    >>> table(np.array([[1, 2, 3]])).shape
    (1, 3, 2)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int) -> None:
        super().__init__()
        _check_sizes(self, num_embeddings=num_embeddings, embedding_dim=embedding_dim)
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        self.weight = _empty_parameter(self.num_embeddings, self.embedding_dim)
        init.normal_(self.weight)

    def forward(self, indices: Any) -> Tensor:
        """Look up the rows for `indices` (an integer Tensor, array or list)."""
        return F.embedding(indices, self.weight)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"
