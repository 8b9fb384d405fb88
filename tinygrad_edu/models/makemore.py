"""The MLP language model of Bengio et al. (2003) over characters, the model of notebook 09.

The last `block_size` characters are looked up in an embedding table, their
vectors concatenated, passed through one tanh hidden layer, and mapped to logits
for the next character. Parameter names (`embedding.weight`, `hidden.weight`,
`output.weight`, ...) match the `torch.nn` version in tools/record_torch_models.py.

>>> import tinygrad_edu as tg
>>> _ = tg.manual_seed(0)
>>> model = CharMLP(vocab_size=27, block_size=3, n_embd=2, n_hidden=8)
>>> model(np.zeros((4, 3), dtype=np.int64)).shape
(4, 27)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu import nn
from tinygrad_edu.tensor import Tensor

__all__ = ["CharMLP"]


class CharMLP(nn.Module):
    """Logits for the next character given the previous `block_size` characters."""

    def __init__(self, vocab_size: int = 27, block_size: int = 3, n_embd: int = 10, n_hidden: int = 200) -> None:
        super().__init__()
        self.block_size = block_size
        self.embedding = nn.Embedding(vocab_size, n_embd)
        self.hidden = nn.Linear(block_size * n_embd, n_hidden)
        self.output = nn.Linear(n_hidden, vocab_size)

    def forward(self, context: Any) -> Tensor:
        """context: integer array (N, block_size) -> logits (N, vocab_size)."""
        context = np.asarray(context.data if isinstance(context, Tensor) else context)
        if context.ndim != 2 or context.shape[1] != self.block_size:
            raise ValueError(f"CharMLP: expects contexts of shape (N, block_size={self.block_size}), "
                             f"got shape {context.shape}")
        embedded = self.embedding(context)  # (N, block_size, n_embd)
        hidden = self.hidden(embedded.reshape(context.shape[0], -1)).tanh()
        return self.output(hidden)
