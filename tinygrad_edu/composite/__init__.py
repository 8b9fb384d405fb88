"""Composite ops: built from primitives, so they need no backward rule of their own.

The Tensor methods of the same names call these (``x.var()`` is
``var(x)``); each derivative follows from the chain rule through the
primitives.  Written against the tensor passed in (its type makes new tensors),
so this package does not import the Tensor class.

By family: `elementwise` (activations, log2, ...), `reduce` (var, std, logsumexp, ...), `indexing`
(masked_fill, split, sort, ...), `linalg` (einsum, tensordot, ...) and `conv` (conv1d, average pooling).
"""
from __future__ import annotations

from .conv import avg_pool2d, conv1d
from .elementwise import elu, exp2, gelu, hardsigmoid, hardswish, leaky_relu, log2, log10, logsigmoid, mish, relu6, selu, softsign
from .indexing import chunk, diag_embed, diagonal, flip, masked_fill, repeat_interleave, roll, sort, split, topk, tril, triu
from .linalg import einsum, outer, tensordot, trace
from .reduce import cumsum, log_softmax, logsumexp, prod, std, var

__all__ = ["avg_pool2d", "chunk", "conv1d", "cumsum", "diag_embed", "diagonal", "einsum", "elu", "exp2",
           "flip", "gelu", "hardsigmoid", "hardswish", "leaky_relu", "log10", "log2", "log_softmax", "logsigmoid",
           "logsumexp", "masked_fill", "mish", "outer", "prod", "relu6", "repeat_interleave", "roll",
           "selu", "softsign", "sort", "split", "std", "tensordot", "topk", "trace", "tril", "triu", "var"]
