"""Activations, losses and layer operations as plain functions (`import tinygrad_edu.nn.functional as F`).

Everything here is composed from `Tensor` operations or is one fused op of the
engine (`linear`, `layer_norm`, `scaled_dot_product_attention`), so gradients
(and gradients of gradients) come from the autodiff core; nothing here has a
backward of its own to get wrong. The losses live in `nn.losses` and are
re-exported here (`F.cross_entropy`, `F.mse_loss`, ...).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_edu.checks import torch_names
from tinygrad_edu.nn._layer_helpers import _tensor
from tinygrad_edu.nn.losses import (  # the losses, re-exported: F.cross_entropy, ...
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
)
from tinygrad_edu.ops import attention as ops_attention
from tinygrad_edu.ops import elementwise as _elementwise
from tinygrad_edu.ops import matmul as ops_matmul
from tinygrad_edu.ops import normalize as ops_normalize
from tinygrad_edu.random import get_generator
from tinygrad_edu.tensor import Tensor

__all__ = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "conv1d", "cross_entropy", "dropout", "elu",
    "embedding", "gelu", "hardsigmoid", "hardswish", "l1_loss", "layer_norm", "leaky_relu", "linear", "log_softmax",
    "logsigmoid", "mish", "mse_loss", "nll_loss", "one_hot", "relu", "relu6", "scaled_dot_product_attention",
    "selu", "sigmoid", "silu", "softmax", "softplus", "softsign", "tanh"
]


# ----- activations -------------------------------------------------------------
def relu(x: Any) -> Tensor:
    """max(x, 0)."""
    return _tensor(x).relu()


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, negative_slope * x otherwise."""
    return _tensor(x).leaky_relu(negative_slope)


def sigmoid(x: Any) -> Tensor:
    """1 / (1 + exp(-x))."""
    return _tensor(x).sigmoid()


def tanh(x: Any) -> Tensor:
    """Hyperbolic tangent."""
    return _tensor(x).tanh()


def softplus(x: Any, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, a smooth relu; x itself where beta x > threshold, as PyTorch.

    d/dx = sigmoid(beta x), or 1 where beta x > threshold. `Tensor.softplus` is
    the beta = 1 curve without the switch (finite for any x, as this is).
    """
    x = _tensor(x)
    scaled = x if beta == 1.0 else x * beta
    smooth = scaled.softplus() if beta == 1.0 else scaled.softplus() * (1.0 / beta)
    above = scaled.data > threshold
    if not above.any():   # the usual case: no switch, no extra node in the graph
        return smooth
    return Tensor.where(above, x, smooth)


# erf lives in the elementwise family (`Tensor.erf`); its kernel stays importable here as before.
_erf_array = _elementwise._erf_array


def _erf(x: Any) -> Tensor:
    """The error function, elementwise.  d erf(x)/dx = 2/sqrt(pi) exp(-x^2)."""
    return _tensor(x).erf()


_GELU_APPROXIMATIONS = ("none", "tanh")


def gelu(x: Any, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit, x * Phi(x) with Phi the standard normal CDF, as PyTorch.

    `approximate="none"` (the default): the exact form 0.5 x (1 + erf(x / sqrt(2))),
    d/dx = Phi(x) + x phi(x) with phi(x) = exp(-x^2/2) / sqrt(2 pi).
    `approximate="tanh"`: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), which is `Tensor.gelu`.
    """
    if approximate not in _GELU_APPROXIMATIONS:
        raise ValueError(f"gelu: approximate must be one of {_GELU_APPROXIMATIONS}, got {approximate!r}")
    x = _tensor(x)
    if approximate == "tanh":
        return x.gelu()
    return x * 0.5 * (_erf(x * (1.0 / math.sqrt(2.0))) + 1.0)


def silu(x: Any) -> Tensor:
    """x * sigmoid(x) (also called swish).  d/dx = sigmoid(x) (1 + x (1 - sigmoid(x)))."""
    x = _tensor(x)
    return x * x.sigmoid()


def softmax(x: Any, axis: int = -1, dim: int | None = None) -> Tensor:
    """exp(x) / sum(exp(x)) along `axis` (`dim` is accepted as PyTorch's name for it)."""
    return _tensor(x).softmax(axis if dim is None else dim)


def log_softmax(x: Any, axis: int = -1, dim: int | None = None) -> Tensor:
    """x - logsumexp(x) along `axis`, stable for any finite input (`dim` = PyTorch's name)."""
    return _tensor(x).log_softmax(axis if dim is None else dim)


def scaled_dot_product_attention(query: Any, key: Any, value: Any, attn_mask: Any = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None) -> Tensor:
    """softmax(query key^T * scale) value over the last two axes, as PyTorch: one fused node (`ops.attention`).

    query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev); `scale`
    defaults to 1 / sqrt(E). `attn_mask`: booleans broadcastable to (L, S), True
    where a query may attend to a key; `is_causal=True` keeps the pairs on or
    below the diagonal (`tril`). Attention dropout is not offered (`dropout_p`
    must be 0): apply `dropout` to the inputs or outputs instead.
    """
    query, key, value = _tensor(query), _tensor(key), _tensor(value)
    if min(query.ndim, key.ndim, value.ndim) < 2 or query.shape[-1] != key.shape[-1] or \
            key.shape[-2] != value.shape[-2]:
        raise ValueError(f"scaled_dot_product_attention: expects query (..., L, E), key (..., S, E) and value "
                         f"(..., S, Ev), got shapes {query.shape}, {key.shape} and {value.shape}")
    if dropout_p != 0.0:
        raise ValueError(f"scaled_dot_product_attention: dropout_p must be 0 here, got {dropout_p!r} "
                         "(apply F.dropout to the inputs or the output instead)")
    if attn_mask is not None and is_causal:
        raise ValueError("scaled_dot_product_attention: give attn_mask or is_causal=True, not both (as PyTorch)")
    keep = None
    if is_causal:
        keep = np.tri(query.shape[-2], key.shape[-2], dtype=bool)
    elif attn_mask is not None:
        keep = np.asarray(attn_mask.data if isinstance(attn_mask, Tensor) else attn_mask)
        if keep.dtype != np.bool_:
            raise TypeError(f"scaled_dot_product_attention: attn_mask must be boolean (True = attend), got dtype "
                            f"{keep.dtype}")
    factor = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    return ops_attention.Attention.apply(query, key, value, scale=factor, keep=keep)


def dropout(x: Any, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout: in training, zero each element with probability `p` and
    scale the survivors by 1 / (1 - p), so evaluation needs no rescaling.

    Outside training (or with p = 0) it returns `x` unchanged. Randomness comes
    from `tinygrad_edu.random.get_generator()` (seed it with `manual_seed`).
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    x = _tensor(x)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    keep = get_generator().random(x.shape) >= p
    mask = (keep * (1.0 / (1.0 - p))).astype(x.dtype)
    return x * mask


def linear(x: Any, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias, with `weight` of shape (out_features, in_features), as one fused graph node."""
    x = _tensor(x)
    shape, weight_shape = x.shape, weight.shape
    if not shape or len(weight_shape) != 2 or shape[-1] != weight_shape[1] or (
            bias is not None and bias.shape != weight_shape[:1]):
        raise ValueError(
            f"linear: input of shape {shape} needs weight (out_features, {shape[-1] if shape else '?'}) and "
            f"bias (out_features,), got weight {weight_shape} and bias {None if bias is None else bias.shape}")
    if bias is None:
        return ops_matmul.Linear.apply(x, weight)
    return ops_matmul.Linear.apply(x, weight, bias)


def _integer_indices(function: str, argument: str, indices: Any) -> np.ndarray:
    """Integer indices given as a Tensor, an ndarray, a list or an int, as an int64 ndarray."""
    array = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{function}: {argument} must hold integer indices, got dtype {array.dtype}; "
                        "convert with .astype(np.int64) (or Tensor(..., dtype=np.int64))")
    return array.astype(np.int64, copy=False)


def one_hot(indices: Any, num_classes: int = -1) -> Tensor:
    """One-hot encoding: shape `indices.shape + (num_classes,)`, dtype int64, no gradient.

    `num_classes=-1` uses max(indices) + 1, as PyTorch. A negative index or one
    that is >= num_classes raises `ValueError`.

    >>> one_hot([0, 2], 3).tolist()
    [[1, 0, 0], [0, 0, 1]]
    """
    array = _integer_indices("one_hot", "indices", indices)
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise TypeError(f"one_hot: num_classes must be an int, got {num_classes!r}")
    if array.size and array.min() < 0:
        raise ValueError(f"one_hot: indices must be non-negative, got {int(array.min())}")
    if num_classes == -1:
        if array.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from empty indices; pass num_classes")
        num_classes = int(array.max()) + 1
    elif num_classes < 0:
        raise ValueError(f"one_hot: num_classes must be -1 or non-negative, got {num_classes}")
    elif array.size and array.max() >= num_classes:
        raise ValueError(f"one_hot: index {int(array.max())} is out of range for num_classes={num_classes}")
    encoded = (array[..., None] == np.arange(num_classes)).astype(np.int64)
    return Tensor(encoded, dtype=np.int64)


def embedding(indices: Any, weight: Tensor) -> Tensor:
    """Rows of `weight` (num_embeddings, embedding_dim) picked by integer `indices` of any shape.

    The result has shape `indices.shape + (embedding_dim,)`. d/dweight adds each
    row's gradient into the row it was read from (a repeated index accumulates).
    """
    array = _integer_indices("embedding", "indices", indices)
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise ValueError(f"embedding: weight must be a 2-D Tensor (num_embeddings, embedding_dim), "
                         f"got {getattr(weight, 'shape', type(weight).__name__)}")
    rows = weight.shape[0]
    if array.size and (array.min() < 0 or array.max() >= rows):
        bad = int(array.min()) if array.min() < 0 else int(array.max())
        raise IndexError(f"embedding: index {bad} is out of range for a table of {rows} rows "
                         f"(expected 0..{rows - 1})")
    return weight[array]


def _normalized_shape(function: str, normalized_shape: Any) -> tuple[int, ...]:
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
    if not shape or any(isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size <= 0
                        for size in shape):
        raise ValueError(f"{function}: normalized_shape must be a positive int or a non-empty tuple of them, "
                         f"got {normalized_shape!r}")
    return tuple(int(size) for size in shape)


def layer_norm(x: Any, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the last `len(normalized_shape)` axes, then scale and shift, as PyTorch.

    y = (x - mean) / sqrt(var + eps) * weight + bias, with mean and the *biased*
    variance taken over those axes for each leading index. With both weight
    and bias (as `nn.LayerNorm` has) it is one fused node (`ops.normalize.LayerNorm`);
    otherwise composed from primitives (mean, sqrt, ...).
    """
    x = _tensor(x)
    shape = _normalized_shape("layer_norm", normalized_shape)
    if x.shape[x.ndim - len(shape):] != shape or x.ndim < len(shape):
        raise ValueError(f"layer_norm: input of shape {x.shape} does not end in normalized_shape {shape}")
    for name, tensor in (("weight", weight), ("bias", bias)):
        if tensor is not None and tuple(tensor.shape) != shape:
            raise ValueError(f"layer_norm: {name} must have shape {shape}, got {tuple(tensor.shape)}")
    if weight is not None and bias is not None:  # PyTorch's default (elementwise_affine): one fused node
        return ops_normalize.LayerNorm.apply(x, weight, bias, eps=eps)
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    centered = x - x.mean(axis=axes, keepdim=True)
    variance = (centered * centered).mean(axis=axes, keepdim=True)
    normalized = centered / (variance + eps).sqrt()
    if weight is not None:
        normalized = normalized * weight
    if bias is not None:
        normalized = normalized + bias
    return normalized


# ----- more activations, as PyTorch's torch.nn.functional has them (issue 11) ------------

def relu6(x: Any) -> Tensor:
    """min(max(x, 0), 6).  d/dx = 1 for 0 < x < 6, else 0."""
    return _tensor(x).relu6()


def hardsigmoid(x: Any) -> Tensor:
    """relu6(x + 3) / 6.  d/dx = 1/6 for -3 < x < 3, else 0."""
    return _tensor(x).hardsigmoid()


def hardswish(x: Any) -> Tensor:
    """x * relu6(x + 3) / 6.  d/dx = (2x + 3) / 6 for -3 < x < 3, 0 below, 1 above."""
    return _tensor(x).hardswish()


def mish(x: Any) -> Tensor:
    """x * tanh(softplus(x)).  d/dx = tanh(sp) + x sigmoid(x) (1 - tanh(sp)^2)."""
    return _tensor(x).mish()


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """x for x > 0, else alpha (exp(x) - 1).  d/dx = 1 for x > 0, else alpha exp(x)."""
    return _tensor(x).elu(alpha)


def selu(x: Any) -> Tensor:
    """scale * elu(x, alpha) with PyTorch's constants.  d/dx = scale, or scale alpha exp(x) for x <= 0."""
    return _tensor(x).selu()


def logsigmoid(x: Any) -> Tensor:
    """log(sigmoid(x)), finite for any x.  d/dx = sigmoid(-x)."""
    return _tensor(x).logsigmoid()


def softsign(x: Any) -> Tensor:
    """x / (1 + |x|).  d/dx = 1 / (1 + |x|)^2."""
    return _tensor(x).softsign()


def conv1d(x: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0) -> Tensor:
    """1-D cross-correlation of (N, C, L) input with (O, C, K) weight, as PyTorch's F.conv1d."""
    return _tensor(x).conv1d(weight, bias, stride, padding)


# `dim` and `axis` both given -> TypeError, as everywhere else (checks.torch_names is the one place for the aliases).
softmax = torch_names(softmax)
log_softmax = torch_names(log_softmax)
