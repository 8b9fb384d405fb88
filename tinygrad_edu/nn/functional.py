"""Losses and activations as plain functions (`import tinygrad_edu.nn.functional as F`).

Everything here is composed from `Tensor` operations, so gradients (and
gradients of gradients) come from the autodiff core; nothing here has a
backward of its own to get wrong.

Losses check that prediction and target have exactly the same shape and do
not broadcast: `(N,)` against `(N, 1)` would silently build an `(N, N)`
loss, a classic bug, so it raises `ValueError` naming both shapes.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu.ops import loss as ops_loss
from tinygrad_edu.ops import matmul as ops_matmul
from tinygrad_edu.random import get_generator
from tinygrad_edu.tensor import Tensor

__all__ = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "dropout", "gelu", "l1_loss",
    "leaky_relu", "linear", "log_softmax", "mse_loss", "nll_loss", "relu", "sigmoid", "softmax", "softplus",
    "tanh"
]

_REDUCTIONS = ("mean", "sum", "none")


def _tensor(value: Any) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor(value)


def _target_like(target: Any, prediction: Tensor) -> Tensor:
    """A target given as a list/ndarray takes the prediction's dtype (no float64 creep)."""
    if isinstance(target, Tensor):
        return target
    return Tensor(np.asarray(target), dtype=prediction.dtype)


def _check_reduction(function: str, reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{function}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _check_same_shape(function: str, first: str, first_shape: tuple, second: str, second_shape: tuple) -> None:
    if tuple(first_shape) != tuple(second_shape):
        raise ValueError(
            f"{function}: {first} has shape {tuple(first_shape)} but {second} has shape {tuple(second_shape)}; "
            f"they must be equal (losses do not broadcast; reshape one, e.g. target.reshape({tuple(first_shape)}))")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


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


def softplus(x: Any) -> Tensor:
    """log(1 + exp(x)), a smooth relu."""
    return _tensor(x).softplus()


def gelu(x: Any) -> Tensor:
    """Gaussian error linear unit, in the form `Tensor.gelu` documents."""
    return _tensor(x).gelu()


def softmax(x: Any, axis: int = -1, dim: int | None = None) -> Tensor:
    """exp(x) / sum(exp(x)) along `axis` (`dim` is accepted as PyTorch's name for it)."""
    return _tensor(x).softmax(axis if dim is None else dim)


def log_softmax(x: Any, axis: int = -1, dim: int | None = None) -> Tensor:
    """x - logsumexp(x) along `axis`, stable for any finite input (`dim` = PyTorch's name)."""
    return _tensor(x).log_softmax(axis if dim is None else dim)


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
    if x.ndim == 0 or weight.ndim != 2 or x.shape[-1] != weight.shape[1] or (
            bias is not None and bias.shape != (weight.shape[0],)):
        raise ValueError(
            f"linear: input of shape {x.shape} needs weight (out_features, {x.shape[-1] if x.ndim else '?'}) and "
            f"bias (out_features,), got weight {weight.shape} and bias {None if bias is None else bias.shape}")
    if bias is None:
        return ops_matmul.Linear.apply(x, weight)
    return ops_matmul.Linear.apply(x, weight, bias)


# ----- losses ------------------------------------------------------------------
def mse_loss(pred: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error: reduce((pred - target)^2)."""
    _check_reduction("mse_loss", reduction)
    pred = _tensor(pred)
    target = _target_like(target, pred)
    _check_same_shape("mse_loss", "pred", pred.shape, "target", target.shape)
    difference = pred - target
    return _reduce(difference * difference, reduction)


def l1_loss(pred: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Mean absolute error: reduce(|pred - target|)."""
    _check_reduction("l1_loss", reduction)
    pred = _tensor(pred)
    target = _target_like(target, pred)
    _check_same_shape("l1_loss", "pred", pred.shape, "target", target.shape)
    return _reduce((pred - target).abs(), reduction)


# PyTorch clamps each log in binary_cross_entropy at -100 so that p = 0 or 1 gives
# a finite loss (100) instead of inf. Here: log(max(p, tiniest float)) then
# max(., -100). The first max keeps log's argument positive (log(0) warns and
# gives -inf); the tiniest subnormal has log < -100, so the second max is the clamp.
_LOG_CLAMP = -100.0


def _clamped_log(x: Tensor) -> Tensor:
    return x.maximum(float(np.finfo(x.dtype).smallest_subnormal)).log().maximum(_LOG_CLAMP)


def binary_cross_entropy(prob: Any, target: Any, reduction: str = "mean") -> Tensor:
    """-(t log p + (1 - t) log(1 - p)), each log clamped at -100 as PyTorch does.

    `prob` must be probabilities in [0, 1] (e.g. a sigmoid output); on logits
    use `binary_cross_entropy_with_logits`, which is exact where this clamps.
    """
    _check_reduction("binary_cross_entropy", reduction)
    prob = _tensor(prob)
    target = _target_like(target, prob)
    _check_same_shape("binary_cross_entropy", "prob", prob.shape, "target", target.shape)
    if prob.data.size and (np.min(prob.data) < 0.0 or np.max(prob.data) > 1.0):
        raise ValueError(
            "binary_cross_entropy: prob must lie in [0, 1], got values in "
            f"[{np.min(prob.data)}, {np.max(prob.data)}]; for raw scores use binary_cross_entropy_with_logits")
    loss = -(target * _clamped_log(prob) + (1.0 - target) * _clamped_log(1.0 - prob))
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(logits: Any, target: Any, reduction: str = "mean") -> Tensor:
    """binary_cross_entropy(sigmoid(x), t) computed stably from the logits x.

    loss = softplus(x) - x t, which equals softplus(-x) + x (1 - t); each side
    is evaluated where it has no cancellation (the second for x >= 0), so the
    loss keeps its tiny values for confident logits, never overflows (softplus
    is log(1 + e^x) via logaddexp) and every derivative is smooth:
    d/dx = sigmoid(x) - t, d2/dx2 = sigmoid(x) (1 - sigmoid(x)), at x = 0 too.
    """
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    logits = _tensor(logits)
    target = _target_like(target, logits)
    _check_same_shape("binary_cross_entropy_with_logits", "logits", logits.shape, "target", target.shape)
    negative_side = logits.softplus() - logits * target
    positive_side = (-logits).softplus() + logits * (1 - target)
    return _reduce(Tensor.where(logits.data >= 0, positive_side, negative_side), reduction)


def _class_indices(function: str, target: Any, batch: int, num_classes: int, logits_shape: tuple) -> np.ndarray:
    """Validate integer class indices; return them as an int64 ndarray."""
    indices = target.data if isinstance(target, Tensor) else np.asarray(target)
    if indices.dtype.kind not in "iu":  # signed or unsigned integers (bool is kind b, floats f)
        raise ValueError(
            f"{function}: target must hold integer class indices, got dtype {indices.dtype}; "
            "convert with target.astype(np.int64) (or Tensor(target, dtype=np.int64))")
    if indices.shape != (batch,):
        raise ValueError(
            f"{function}: target has shape {indices.shape} but logits have shape {tuple(logits_shape)}; "
            f"expected one class index per row, shape ({batch},)")
    if num_classes == 0:
        raise ValueError(f"{function}: logits of shape {tuple(logits_shape)} have no classes (C = 0)")
    # Two reductions are cheaper than building a mask on every call; the mask only on failure.
    if batch and (indices.min() < 0 or indices.max() >= num_classes):
        position = int(np.argmax((indices < 0) | (indices >= num_classes)))
        raise ValueError(
            f"{function}: target[{position}] = {indices[position]} is not a valid class index "
            f"for {num_classes} classes (expected 0..{num_classes - 1})")
    return indices.astype(np.int64, copy=False)


def _scores_and_indices(function: str, what: str, scores: Any, target: Any) -> tuple[Tensor, np.ndarray]:
    """Check (N, C) scores and one class index per row; return them as a Tensor and an int64 array."""
    scores = _tensor(scores)
    if scores.ndim != 2:
        raise ValueError(f"{function}: expected {what} of shape (N, C), got shape {scores.shape}")
    batch, num_classes = scores.shape
    return scores, _class_indices(function, target, batch, num_classes, scores.shape)


def nll_loss(log_probs: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood: -log_probs[i, target[i]], for log-probabilities of shape (N, C)."""
    _check_reduction("nll_loss", reduction)
    log_probs, indices = _scores_and_indices("nll_loss", "log-probabilities", log_probs, target)
    picked = log_probs[np.arange(len(indices)), indices]
    return _reduce(-picked, reduction)


def cross_entropy(logits: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy from raw scores `logits` (N, C) and integer class indices (N,).

    loss_i = -log softmax(z_i)[y_i] = logsumexp(z_i) - z_i[y_i], the value of
    nll_loss(log_softmax(logits), target), computed as one fused graph node
    (`ops.loss.CrossEntropy`, gradient softmax - onehot, twice differentiable).
    The row maximum is subtracted first, so the loss is finite for any finite
    logits. A float target, an index outside 0..C-1 or a target of the wrong
    length raises `ValueError`.
    """
    _check_reduction("cross_entropy", reduction)
    logits, indices = _scores_and_indices("cross_entropy", "logits", logits, target)
    return ops_loss.CrossEntropy.apply(logits, target=indices, reduction=reduction)
