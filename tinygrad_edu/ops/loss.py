"""Fused softmax cross-entropy: one graph node instead of a dozen (fused for speed).

loss_i = logsumexp(z_i) - z_i[y_i], computed with the row maximum subtracted so
any finite logits give a finite loss.  d loss_i / dz_i = softmax(z_i) - onehot(y_i).
"""
from __future__ import annotations

import numpy as np

from .. import autograd
from ..autograd import Function


def _weights(g, reduction: str, batch: int):
    """How much each row's (softmax - onehot) counts: g_i, g or g / N, as a Tensor broadcasting over classes."""
    if reduction == "none":
        return g.reshape(batch, 1)
    return g * (1.0 / batch) if reduction == "mean" else g


def _softmax_minus_onehot(g, probabilities, target, reduction: str):
    """The arrays w_i (p_i - onehot(y_i)): the loss's gradient with respect to the logits."""
    batch = probabilities.shape[0]
    rows = np.arange(batch)
    if reduction == "none":
        delta = probabilities * g[:, None]
        delta[rows, target] -= g
    else:
        scale = g / batch if reduction == "mean" else g
        delta = probabilities * scale
        delta[rows, target] -= scale
    return delta


class CrossEntropy(Function):
    """Softmax cross-entropy of logits (N, C) against integer targets (N,); d/dz = (softmax(z) - onehot(y)) * g."""

    op_name = "cross_entropy"

    def forward(ctx, logits, target=None, reduction="mean"):
        batch = logits.shape[0]
        # The ufuncs' reduce directly: ndarray.max/sum/mean add microseconds of Python per call.
        shifted = logits - np.maximum.reduce(logits, axis=1, keepdims=True)
        exps = np.exp(shifted)
        sums = np.add.reduce(exps, axis=1, keepdims=True)
        losses = np.log(sums[:, 0]) - shifted[np.arange(batch), target]
        ctx.target, ctx.reduction, ctx.probabilities = target, reduction, exps / sums
        if reduction == "none":
            return losses
        total = np.add.reduce(losses)
        return np.asarray(total / batch if reduction == "mean" else total, dtype=logits.dtype)

    def backward_arrays(ctx, grad_output):
        return (_softmax_minus_onehot(grad_output, ctx.probabilities, ctx.target, ctx.reduction),)

    def backward(ctx, grad_output):
        return (CrossEntropyBackward.apply(grad_output, ctx.inputs[0], target=ctx.target, reduction=ctx.reduction,
                                           probabilities=ctx.probabilities),)


class CrossEntropyBackward(Function):
    """w_i (softmax(z_i) - onehot(y_i)), w from g and the reduction.

    d/dz_i = w_i (p_i * u_i - p_i sum(p_i * u_i)) (the softmax Jacobian), d/dg = sum(u * (p - onehot)) scaled as w.
    """

    op_name = "cross_entropy_backward"

    def forward(ctx, g, logits, target=None, reduction="mean", probabilities=None):
        ctx.target, ctx.reduction = target, reduction
        return _softmax_minus_onehot(g, probabilities, target, reduction)

    def backward(ctx, grad_output):
        g, logits = ctx.inputs
        needs_g, needs_logits = ctx.needs_input_grad
        batch, classes = logits.shape
        probabilities = logits.softmax(axis=1)
        grad_g = grad_logits = None
        if needs_g:
            onehot = np.zeros((batch, classes), dtype=logits.dtype)
            onehot[np.arange(batch), ctx.target] = 1
            per_row = (grad_output * (probabilities - autograd._make_tensor(onehot, None, False))).sum(axis=1)
            if ctx.reduction == "none":
                grad_g = per_row
            else:
                grad_g = per_row.sum() * (1.0 / batch) if ctx.reduction == "mean" else per_row.sum()
        if needs_logits:
            weighted = probabilities * grad_output
            grad_logits = _weights(g, ctx.reduction, batch) * (weighted - probabilities * weighted.sum(axis=1, keepdim=True))
        return grad_g, grad_logits
