"""A small GPT-like language model built only from existing layers and Tensor ops, for the drawing tests.

Embedding and LayerNorm are written here (indexing a weight Tensor is an
embedding); two transformer blocks give about 150 ops.
"""
import numpy as np

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F  # noqa: N812 (PyTorch's name)
from tinygrad_edu import Tensor


class Embedding(nn.Module):
    def __init__(self, count, dim):
        super().__init__()
        self.weight = Tensor(np.random.default_rng(count * dim).normal(size=(count, dim)).astype(np.float32),
                             requires_grad=True)

    def forward(self, indices):
        return self.weight[indices.data if isinstance(indices, Tensor) else indices]


class LayerNorm(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.weight = Tensor(np.ones(dim, np.float32), requires_grad=True)
        self.bias = Tensor(np.zeros(dim, np.float32), requires_grad=True)

    def forward(self, x):
        mean = x.mean(axis=-1, keepdim=True)
        centered = x - mean
        variance = (centered * centered).mean(axis=-1, keepdim=True)
        return centered / (variance + 1e-5).sqrt() * self.weight + self.bias


class SelfAttention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        batch, time, dim = x.shape
        size = dim // self.heads
        q, k, v = (self.qkv(x)[:, :, i * dim:(i + 1) * dim].reshape(batch, time, self.heads, size).permute(0, 2, 1, 3)
                   for i in range(3))
        scores = q @ k.transpose(-2, -1) * (1.0 / size ** 0.5)
        mask = np.triu(np.full((time, time), -1e9, np.float32), 1)
        weights = (scores + mask).softmax(axis=-1)
        out = (weights @ v).permute(0, 2, 1, 3).reshape(batch, time, dim)
        return self.proj(out)


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.ln1 = LayerNorm(dim)
        self.attn = SelfAttention(dim, heads)
        self.ln2 = LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim, bias=False))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, vocab=11, dim=16, heads=2, layers=2, context=8):
        super().__init__()
        self.wte = Embedding(vocab, dim)
        self.wpe = Embedding(context, dim)
        self.blocks = nn.Sequential(*[Block(dim, heads) for _ in range(layers)])
        self.ln_f = LayerNorm(dim)
        self.lm_head = nn.Linear(dim, vocab, bias=False)

    def forward(self, indices):
        batch, time = indices.shape
        x = self.wte(indices) + self.wpe(np.arange(time))
        return self.lm_head(self.ln_f(self.blocks(x)))


def gpt_loss(seed=0, batch=2, time=8, vocab=11):
    """A GPT, its integer inputs and targets, and the loss after backward."""
    tg.manual_seed(seed)
    model = GPT(vocab=vocab, context=time)
    rng = np.random.default_rng(seed)
    indices = Tensor(rng.integers(0, vocab, size=(batch, time)), dtype=np.int64)
    targets = rng.integers(0, vocab, size=(batch * time,))
    logits = model(indices)
    loss = F.cross_entropy(logits.reshape(batch * time, vocab), targets)
    loss.backward()
    return model, indices, targets, loss
