"""Scaled dot-product attention as one graph node.

Composed, attention is six nodes per call (a transpose, a matmul, a scale, a
mask, a softmax, a matmul), each with its own (batch, heads, T, T) temporary and
gradient to keep; a transformer calls it in every block. Fused here for speed,
as PyTorch's ``F.scaled_dot_product_attention`` is. The rule is written in
``xp`` operations (matmuls, softmax's own rule), so it differentiates again.
"""
from __future__ import annotations

import numpy as np

from ..autograd import Function

__all__ = ["Attention"]


class Attention(Function):
    """softmax(q k^T * scale, masked) v over the last two axes; ``keep`` (L, S) marks the pairs that take part.

    With P the probabilities and G the output gradient, S = P * (G v^T - sum(P * G v^T)) (softmax's rule):
    d/dq = S k * scale, d/dk = S^T q * scale, d/dv = P^T G.
    """

    def forward(ctx, q, k, v, scale=1.0, keep=None):
        ctx.scale, ctx.keep = scale, keep
        scores = q @ np.swapaxes(k, -1, -2)
        scores *= scale
        if keep is not None:
            scores = np.where(keep, scores, -np.inf)
        scores -= scores.max(axis=-1, keepdims=True)
        probs = ctx.probs = np.exp(scores, out=scores)
        probs /= probs.sum(axis=-1, keepdims=True)
        return probs @ v

    def vjp(ctx, xp, g, out, q, k, v):
        if xp.records_graph:  # the probabilities as a Tensor of q and k, so that the rule differentiates again
            scores = (q @ xp.swapaxes(k, -1, -2)) * ctx.scale
            probs = xp.softmax(scores if ctx.keep is None else xp.where(ctx.keep, scores, -np.inf), -1)
        else:
            probs = ctx.probs
        needs = ctx.needs_input_grad
        grad_v = xp.swapaxes(probs, -1, -2) @ g if needs[2] else None
        grad_q = grad_k = None
        if needs[0] or needs[1]:
            grad_probs = g @ xp.swapaxes(v, -1, -2)
            grad_scores = probs * (grad_probs - xp.sum(grad_probs * probs, -1, keepdims=True)) * ctx.scale
            grad_q = grad_scores @ k if needs[0] else None
            grad_k = xp.swapaxes(grad_scores, -1, -2) @ q if needs[1] else None
        return grad_q, grad_k, grad_v
