"""Normalisation layers: BatchNorm1d, BatchNorm2d, LayerNorm, and Dropout (the other layer that behaves differently
in training and evaluation).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_edu.nn import functional as F  # noqa: N812 (the PyTorch convention)
from tinygrad_edu.nn._layer_helpers import _DEFAULT_DTYPE, _as_tensor, _check_sizes
from tinygrad_edu.nn.module import Module
from tinygrad_edu.tensor import Tensor

__all__ = ["BatchNorm1d", "BatchNorm2d", "Dropout", "LayerNorm"]


class BatchNorm1d(Module):
    """Batch normalisation over (N, C) or (N, C, L) input, as PyTorch defines it.

    Training: normalise with the batch mean and the *biased* variance, then
    update the running statistics (outside the graph) with
    `running = (1 - momentum) * running + momentum * batch_stat`, using the
    *unbiased* variance for `running_var`. Evaluation: normalise with the
    running statistics. `momentum=None` uses a cumulative average instead.
    Parameters: `weight` (ones) and `bias` (zeros); buffers: `running_mean`,
    `running_var`, `num_batches_tracked`.
    """

    running_mean: Tensor
    running_var: Tensor
    num_batches_tracked: Tensor

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True) -> None:
        super().__init__()
        _check_sizes(self, num_features=num_features)
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), momentum
        self.track_running_stats = track_running_stats
        self.weight = Tensor(np.ones(num_features, _DEFAULT_DTYPE), requires_grad=True) if affine else None
        self.bias = Tensor(np.zeros(num_features, _DEFAULT_DTYPE), requires_grad=True) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, _DEFAULT_DTYPE)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, _DEFAULT_DTYPE)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64), dtype=np.int64))

    # The input layouts this class accepts (BatchNorm2d: NCHW), and how its error message names them.
    _input_ndims: tuple[int, ...] = (2, 3)
    _input_layouts = "(N, {C}) or (N, {C}, L)"

    def forward(self, x: Any) -> Tensor:
        """Normalise each channel (axis 1) of `x`."""
        x = _as_tensor(x, self)
        if x.ndim not in self._input_ndims or x.shape[1] != self.num_features:
            raise ValueError(f"{self!r} expects input of shape {self._input_layouts.format(C=self.num_features)}, "
                             f"got {x.shape}")
        axes = (0,) + tuple(range(2, x.ndim))
        channel_shape = (1, self.num_features) + (1,) * (x.ndim - 2)
        use_batch_stats = self.training or not self.track_running_stats
        if use_batch_stats:
            count = x.data.size // self.num_features
            if self.training and count <= 1:
                raise ValueError(f"{self!r}: expected more than 1 value per channel when training, got input {x.shape}")
            mean = x.mean(axis=axes, keepdim=True)
            centered = x - mean
            variance = (centered * centered).mean(axis=axes, keepdim=True)   # biased, as PyTorch normalises
            if self.training and self.track_running_stats:
                self._update_running_stats(mean.data.reshape(-1), variance.data.reshape(-1), count)
            normalized = centered / (variance + self.eps).sqrt()
        else:
            mean = self.running_mean.data.reshape(channel_shape)
            scale = 1.0 / np.sqrt(self.running_var.data.reshape(channel_shape) + self.eps)
            normalized = (x - mean.astype(x.dtype, copy=False)) * scale.astype(x.dtype, copy=False)
        if self.weight is not None and self.bias is not None:
            normalized = normalized * self.weight.reshape(channel_shape) + self.bias.reshape(channel_shape)
        return normalized

    def _update_running_stats(self, batch_mean: np.ndarray, batch_var: np.ndarray, count: int) -> None:
        """Runs on plain arrays: the running statistics are not part of the graph."""
        self.num_batches_tracked.data[...] += 1
        factor = 1.0 / float(self.num_batches_tracked.data) if self.momentum is None else float(self.momentum)
        unbiased_var = batch_var * (count / (count - 1))
        self.running_mean.data[...] = (1.0 - factor) * self.running_mean.data + factor * batch_mean
        self.running_var.data[...] = (1.0 - factor) * self.running_var.data + factor * unbiased_var

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.weight is not None}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm2d(BatchNorm1d):
    """Batch normalisation of NCHW images, one mean and variance per channel over (N, H, W).

    The same rules as `BatchNorm1d` (biased variance to normalise, unbiased in
    `running_var`, `momentum=None` for a cumulative average).
    """

    _input_ndims = (4,)
    _input_layouts = "(N, {C}, H, W)"


class LayerNorm(Module):
    """Normalise over the last axes given by `normalized_shape`, then scale by `weight` and shift by `bias`.

    `weight` starts at ones and `bias` at zeros (float32); with
    `elementwise_affine=False` there are neither (and `bias=False` drops only
    the shift), as in PyTorch. See `F.layer_norm`.

    >>> import tinygrad_edu as tg
    >>> LayerNorm(4)(tg.Tensor.randn(2, 4)).shape
    (2, 4)
    """

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True) -> None:
        super().__init__()
        self.normalized_shape = F._normalized_shape("LayerNorm", normalized_shape)
        self.eps, self.elementwise_affine = float(eps), bool(elementwise_affine)
        affine = self.elementwise_affine
        self.weight = Tensor(np.ones(self.normalized_shape, _DEFAULT_DTYPE), requires_grad=True) if affine else None
        self.bias = (Tensor(np.zeros(self.normalized_shape, _DEFAULT_DTYPE), requires_grad=True)
                     if affine and bias else None)

    def forward(self, x: Any) -> Tensor:
        """Normalise `x`, whose shape must end in `normalized_shape`."""
        return F.layer_norm(_as_tensor(x, self), self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class Dropout(Module):
    """Inverted dropout with probability `p` in training mode; the identity in eval mode."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
            raise TypeError(f"Dropout: p must be a number between 0 and 1, got {type(p).__name__}")
        if not 0.0 <= p <= 1.0:  # PyTorch's wording
            raise ValueError(f"Dropout: dropout probability p has to be between 0 and 1, but got {p}")
        self.p = float(p)

    def forward(self, x: Any) -> Tensor:
        """Drop (and rescale) in training, pass through in evaluation."""
        return F.dropout(_as_tensor(x, self), self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
