"""Normalisations along axes, each one graph node: softmax and layer norm.

Both can be composed from primitives (max, sub, exp, sum, div; mean, sqrt, ...)
and once were: four and ten nodes, each with its own temporary and its own
gradient to keep. A transformer calls them in every block, so they are fused
here for speed, as PyTorch does. Each rule is written in ``xp`` operations on
the op's output and inputs, so it differentiates again.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd import Function

__all__ = ["LayerNorm", "Softmax"]


class Softmax(Function):
    """y = exp(x - max x) / sum(exp(x - max x)) along ``axis``; d/dx = y * (g - sum(g * y)) along ``axis``."""

    def forward(ctx, x, axis=-1):
        ctx.axis = axis
        exps = np.exp(x - x.max(axis=axis, keepdims=True)) if x.size else np.exp(x)  # (an empty axis has no max)
        exps /= exps.sum(axis=axis, keepdims=True)
        return exps

    def vjp(ctx, xp, g, out, x):
        product = g * out
        return product - out * xp.sum(product, ctx.axis, keepdims=True)


class LayerNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * w + b, mean and biased var over the last ``len(w.shape)`` axes.

    With x^ = (x - mean) / sqrt(var + eps), gw = g * w and means over the normalised axes:
    d/dx = (gw - mean(gw) - x^ * mean(gw * x^)) / sqrt(var + eps), d/dw = sum(g * x^), d/db = sum(g)
    (sums over the leading axes).
    """

    def forward(ctx, x, weight, bias, eps=1e-5):
        axes = tuple(range(x.ndim - weight.ndim, x.ndim))
        centered = x - x.mean(axis=axes, keepdims=True)
        std = np.sqrt((centered * centered).mean(axis=axes, keepdims=True) + eps)
        normalized = ctx.normalized = centered / std
        ctx.std, ctx.eps = std, eps
        out = normalized * weight
        out += bias
        return out

    def vjp(ctx, xp, g, out, x, weight, bias):
        axes = tuple(range(x.ndim - weight.ndim, x.ndim))
        size = math.prod(weight.shape)
        if xp.records_graph:  # x^ and the std as Tensors of x, so that the rule differentiates again
            centered = x - xp.sum(x, axes, keepdims=True) / size
            std = (xp.sum(centered * centered, axes, keepdims=True) / size + ctx.eps) ** 0.5
            normalized = centered / std
        else:
            normalized, std = ctx.normalized, ctx.std
        needs = ctx.needs_input_grad
        leading = tuple(range(x.ndim - weight.ndim))
        grad_x = grad_weight = grad_bias = None
        if needs[0]:
            scaled = g * weight
            grad_x = (scaled - xp.sum(scaled, axes, keepdims=True) / size
                      - normalized * (xp.sum(scaled * normalized, axes, keepdims=True) / size)) / std
        if needs[1]:
            grad_weight = xp.sum(g * normalized, leading)
        if needs[2]:
            grad_bias = xp.sum(g, leading)
        return grad_x, grad_weight, grad_bias
