"""The losses (`import tinygrad_edu.nn.functional as F` re-exports them all: `F.cross_entropy`, ...).

Regression (`mse_loss`, `l1_loss`), binary classification (`binary_cross_entropy`
and its stable form on logits) and multi-class classification (`nll_loss`,
`cross_entropy`). Each is composed from `Tensor` operations, except the default
`cross_entropy`, which is one fused node (`ops.loss.CrossEntropy`).

Losses check that prediction and target have exactly the same shape and do
not broadcast: `(N,)` against `(N, 1)` would silently build an `(N, N)`
loss, a classic bug, so it raises `ValueError` naming both shapes.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_edu.nn._layer_helpers import _tensor
from tinygrad_edu.ops import loss as ops_loss
from tinygrad_edu.tensor import Tensor

__all__ = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "l1_loss", "mse_loss", "nll_loss"
]

_REDUCTIONS = ("mean", "sum", "none")


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


def cross_entropy(logits: Any, target: Any, reduction: str = "mean", ignore_index: int = -100,
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy from raw scores `logits` (N, C) and integer class indices (N,).

    loss_i = -log softmax(z_i)[y_i] = logsumexp(z_i) - z_i[y_i], the value of
    nll_loss(log_softmax(logits), target). With the default options it is one
    fused graph node (`ops.loss.CrossEntropy`, gradient softmax - onehot, twice
    differentiable); the row maximum is subtracted first, so the loss is finite
    for any finite logits. A float target, an index outside 0..C-1 or a target of
    the wrong length raises `ValueError`.

    Logits of shape (N, C, d1, ...) with target (N, d1, ...) are accepted, as in
    PyTorch (class axis 1): each position counts as one sample.

    PyTorch's options (composed from `log_softmax` and indexing):

    - `ignore_index`: rows whose target equals it add nothing, and "mean"
      divides by the number of the other rows (NaN if there are none, as PyTorch).
    - `label_smoothing` = e in [0, 1]: the target becomes (1 - e) onehot(y) + e / C,
      so loss_i = (1 - e) (-log p_i[y_i]) + (e / C) sum_c (-log p_i[c]).
    """
    if reduction not in _REDUCTIONS:
        _check_reduction("cross_entropy", reduction)
    # The checks below in full only for what the defaults' types (a float, an int) do not already settle.
    if type(label_smoothing) is not float and (
            isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float, np.floating))) or not (
            0.0 <= label_smoothing <= 1.0):
        raise ValueError(f"cross_entropy: label_smoothing must be a number in [0, 1], got {label_smoothing!r}")
    if type(ignore_index) is not int and (isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer))):
        raise TypeError(f"cross_entropy: ignore_index must be an int, got {ignore_index!r}")
    if not isinstance(logits, Tensor):
        logits = Tensor(logits)
    spatial_shape: tuple[int, ...] | None = None
    if logits._data.ndim > 2:  # the array read directly: cheaper than the .ndim property
        target_shape = np.shape(target.data if isinstance(target, Tensor) else target)
        expected = (logits.shape[0],) + logits.shape[2:]
        if tuple(target_shape) != expected:
            raise ValueError(f"cross_entropy: logits of shape {logits.shape} (N, C, d1, ...) need a target of "
                             f"shape {expected}, got {tuple(target_shape)}")
        spatial_shape = expected
        classes = logits.shape[1]
        order = (0,) + tuple(range(2, logits.ndim)) + (1,)
        logits = logits.permute(*order).reshape(-1, classes)
        target = np.reshape(target.data if isinstance(target, Tensor) else np.asarray(target), -1)
    indices = _plain_class_indices(logits, target, ignore_index) if label_smoothing == 0.0 else None
    if indices is not None:  # the usual call: valid indices, nothing to ignore or smooth
        loss = ops_loss.CrossEntropy.apply(logits, target=indices, reduction=reduction)
    else:
        ignored = _ignored_rows(target, ignore_index)
        if label_smoothing == 0.0 and ignored is None:  # the checks below name what is wrong
            logits, indices = _scores_and_indices("cross_entropy", "logits", logits, target)
            loss = ops_loss.CrossEntropy.apply(logits, target=indices, reduction=reduction)
        else:
            loss = _cross_entropy_composite(logits, target, reduction, ignored, float(label_smoothing))
    if spatial_shape is not None and reduction == "none":
        loss = loss.reshape(spatial_shape)
    return loss


def _plain_class_indices(logits: Tensor, target: Any, ignore_index: int) -> np.ndarray | None:
    """The target as int64 class indices if it needs no other check or mask, else None.

    That is: (N,) integers, N > 0, all in 0..C-1 (one min and one max, no mask),
    and `ignore_index` outside 0..C-1, so that no row can equal it (the
    default -100 is). Otherwise the caller's full checks decide, and name any
    mistake.
    """
    indices = target.data if isinstance(target, Tensor) else np.asarray(target)
    shape = logits._data.shape  # the array read directly: cheaper than the .shape property
    if len(shape) != 2 or indices.dtype.kind not in "iu" or indices.shape != shape[:1] or not indices.size:
        return None
    classes = shape[1]
    if 0 <= ignore_index < classes or np.minimum.reduce(indices) < 0 or np.maximum.reduce(indices) >= classes:
        return None
    return indices.astype(np.int64, copy=False)


def _ignored_rows(target: Any, ignore_index: int) -> np.ndarray | None:
    """The boolean mask of rows whose target is `ignore_index`, or None when no row is."""
    array = target.data if isinstance(target, Tensor) else np.asarray(target)
    if array.dtype.kind not in "iu":
        return None  # the class-index check reports the dtype
    mask = array == ignore_index
    return mask if mask.any() else None


def _cross_entropy_composite(logits: Tensor, target: Any, reduction: str, ignored: np.ndarray | None,
                             smoothing: float) -> Tensor:
    """cross_entropy with ignore_index and/or label_smoothing, built from log_softmax and indexing."""
    if ignored is not None:
        # Ignored rows may hold any value (e.g. -100): check the others, then point them at class 0.
        array = target.data if isinstance(target, Tensor) else np.asarray(target)
        safe = np.where(ignored, 0, array)
        logits, indices = _scores_and_indices("cross_entropy", "logits", logits, safe.astype(array.dtype))
        keep = (~ignored).astype(logits.dtype)
    else:
        logits, indices = _scores_and_indices("cross_entropy", "logits", logits, target)
        keep = None
    batch, classes = logits.shape
    log_probs = logits.log_softmax(axis=1)
    losses = -log_probs[np.arange(batch), indices]
    if smoothing:
        losses = losses * (1.0 - smoothing) + (-log_probs).sum(axis=1) * (smoothing / classes)
    if keep is not None:
        losses = losses * Tensor(keep, dtype=logits.dtype)
    if reduction == "none":
        return losses
    total = losses.sum()
    if reduction == "sum":
        return total
    count = batch if keep is None else float(keep.sum())
    return total * (1.0 / count) if count else total * math.nan
