"""A small GPT (decoder-only transformer), the model of notebook 10.

The structure follows "Attention is all you need" (Vaswani et al. 2017) with the
layer norm moved before each sub-layer (GPT-2's pre-norm form):

    x = token_embedding(idx) + position_embedding(0..T-1)
    for each block:  x = x + attn(ln1(x));  x = x + mlp(ln2(x))
    logits = lm_head(ln_f(x))

Parameter names (`blocks.0.attn.query.weight`, ...) are those of the same model
written with `torch.nn` in tools/record_torch_models.py, so a `state_dict()`
moves between the two unchanged.

>>> import tinygrad_edu as tg
>>> _ = tg.manual_seed(0)
>>> model = GPT(vocab_size=5, block_size=4, n_embd=8, n_head=2, n_layer=1)
>>> model(np.zeros((2, 4), dtype=np.int64)).shape
(2, 4, 5)
"""
from __future__ import annotations

from typing import Any

import numpy as np

import tinygrad_edu.nn.functional as F  # noqa: N812 (the PyTorch convention)
from tinygrad_edu import nn
from tinygrad_edu.autograd import no_grad
from tinygrad_edu.tensor import Tensor

__all__ = ["Block", "CausalSelfAttention", "GPT", "causal_mask", "sample"]


def causal_mask(size: int) -> np.ndarray:
    """(size, size) booleans, True where a query position may look at a key position (on or below the diagonal)."""
    return np.tril(np.ones((size, size), dtype=bool))


class CausalSelfAttention(nn.Module):
    """`n_head` attention heads computed together: each head has `n_embd // n_head` of the
    columns of `query`, `key` and `value`; their outputs are concatenated and projected."""

    def __init__(self, n_embd: int, n_head: int, block_size: int) -> None:
        super().__init__()
        if n_embd % n_head:
            raise ValueError(f"CausalSelfAttention: n_embd ({n_embd}) must be divisible by n_head ({n_head})")
        self.n_head = n_head
        self.query = nn.Linear(n_embd, n_embd, bias=False)
        self.key = nn.Linear(n_embd, n_embd, bias=False)
        self.value = nn.Linear(n_embd, n_embd, bias=False)
        self.proj = nn.Linear(n_embd, n_embd)
        self.mask = causal_mask(block_size)  # a constant array, not a parameter or buffer

    def forward(self, x: Tensor) -> Tensor:
        """x of shape (B, T, C) -> (B, T, C)."""
        batch, time, channels = x.shape
        head_size = channels // self.n_head

        def heads(t: Tensor) -> Tensor:  # (B, T, C) -> (B, n_head, T, head_size)
            return t.reshape(batch, time, self.n_head, head_size).transpose(1, 2)

        q, k, v = heads(self.query(x)), heads(self.key(x)), heads(self.value(x))
        # softmax(q k^T / sqrt(head_size), with -inf where the mask is False) v, as one fused op, which is
        # (q @ k.transpose(-2, -1) * head_size ** -0.5).masked_fill(~mask, float("-inf")).softmax(dim=-1) @ v
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=self.mask[:time, :time])
        return self.proj(out.transpose(1, 2).reshape(batch, time, channels))


class Block(nn.Module):
    """Communication (attention) then computation (an MLP), each with a residual connection."""

    def __init__(self, n_embd: int, n_head: int, block_size: int) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head, block_size)
        self.ln2 = nn.LayerNorm(n_embd)
        self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.ReLU(), nn.Linear(4 * n_embd, n_embd))

    def forward(self, x: Tensor) -> Tensor:
        """x + attn(ln1(x)), then + mlp(ln2(.))."""
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    """Next-character logits for every position of every sequence in a batch."""

    def __init__(self, vocab_size: int, block_size: int, n_embd: int = 64, n_head: int = 4, n_layer: int = 3) -> None:
        super().__init__()
        self.block_size = block_size
        self.token_embedding = nn.Embedding(vocab_size, n_embd)
        self.position_embedding = nn.Embedding(block_size, n_embd)
        self.blocks = nn.Sequential(*[Block(n_embd, n_head, block_size) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab_size)

    def forward(self, idx: Any) -> Tensor:
        """idx: integer array (B, T) with T <= block_size -> logits (B, T, vocab_size)."""
        idx = np.asarray(idx.data if isinstance(idx, Tensor) else idx)
        if idx.ndim != 2 or idx.shape[1] > self.block_size:
            raise ValueError(f"GPT: expects token indices of shape (B, T) with T <= block_size "
                             f"({self.block_size}), got shape {idx.shape}")
        x = self.token_embedding(idx) + self.position_embedding(np.arange(idx.shape[1]))
        return self.lm_head(self.ln_f(self.blocks(x)))

    def generate(self, idx: Any, max_new_tokens: int, generator: np.random.Generator | None = None) -> np.ndarray:
        """Extend each row of idx (B, T) by sampling one token at a time from the model's
        probabilities for the next token; draws from `generator` (default: the one
        `manual_seed` seeds)."""
        idx = np.array(idx.data if isinstance(idx, Tensor) else idx, dtype=np.int64)
        with no_grad():
            for _ in range(max_new_tokens):
                logits = self(idx[:, -self.block_size:])[:, -1, :]
                probs = F.softmax(logits, dim=-1)
                if generator is None:
                    nxt = probs.multinomial(num_samples=1).numpy()
                else:  # the same inverse-CDF draw, from the generator given
                    nxt = np.array([[sample(row, generator)] for row in probs.numpy().astype(np.float64)])
                idx = np.concatenate([idx, nxt.astype(np.int64)], axis=1)
        return idx


def sample(probs: np.ndarray, generator: np.random.Generator) -> int:
    """One index drawn with the given probabilities (inverse-CDF: the first index whose
    cumulative probability exceeds a uniform draw)."""
    cumulative = np.cumsum(probs)
    return int(min(np.searchsorted(cumulative, generator.random() * cumulative[-1], side="right"), len(probs) - 1))
