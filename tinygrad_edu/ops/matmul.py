"""Matrix multiplication with NumPy ``matmul`` semantics (1-D, 2-D and batched with broadcasting)."""
from __future__ import annotations

import numpy as np

from ..autograd import Function

__all__ = ["Linear", "MatMul"]


class MatMul(Function):
    """d(A @ B)/dA = G @ B^T, d(A @ B)/dB = A^T @ G.

    A 1-D left operand is treated as a row (1, n) and a 1-D right operand as a
    column (n, 1), as NumPy does; broadcast batch axes are summed back by the
    graph walk.
    """

    def forward(ctx, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes {a.shape} and {b.shape}")
        inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if a.shape[-1] != inner_b:
            raise ValueError(
                f"matmul: shapes {a.shape} and {b.shape} do not match: the last dimension of the left "
                f"operand ({a.shape[-1]}) must equal the {'only' if b.ndim == 1 else 'second-to-last'} "
                f"dimension of the right operand ({inner_b})"
            )
        return np.matmul(a, b)

    def vjp(ctx, xp, g, out, a, b):
        needs_a, needs_b = ctx.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:  # a dot product: d(a.b)/da = b, d(a.b)/db = a
            return (g * b if needs_a else None), (g * a if needs_b else None)
        if a.ndim == 1:
            g = xp.unsqueeze(g, -2)
        if b.ndim == 1:
            g = xp.unsqueeze(g, -1)
        grad_a = grad_b = None
        if needs_a:
            grad_a = g @ xp.swapaxes(xp.unsqueeze(b, -1) if b.ndim == 1 else b, -1, -2)
            if a.ndim == 1:
                grad_a = xp.squeeze(grad_a, -2)
        if needs_b:
            grad_b = xp.swapaxes(xp.unsqueeze(a, 0) if a.ndim == 1 else a, -1, -2) @ g
            if b.ndim == 1:
                grad_b = xp.squeeze(grad_b, -1)
        return grad_a, grad_b


class Linear(Function):
    """x @ w^T + b in one op (fused for speed, like PyTorch's addmm).

    d/dx = G w, d/dw = G^T x and d/db = sum(G), with G and x flattened over
    their leading (batch) axes.
    """

    def forward(ctx, x, weight, bias=None):
        out = np.matmul(x, weight.T)
        if bias is not None:
            out += bias  # a fresh array: adding in place saves one allocation
        return out

    def vjp(ctx, xp, g, out, x, weight, bias=None):
        needs = ctx.needs_input_grad
        grad_x = g @ weight if needs[0] else None
        rows = g if g.ndim == 2 else g.reshape(-1, g.shape[-1])
        grad_weight = rows.T @ (x if x.ndim == 2 else x.reshape(-1, x.shape[-1])) if needs[1] else None
        if len(needs) == 2:
            return grad_x, grad_weight
        return grad_x, grad_weight, (xp.sum(rows, 0) if needs[2] else None)
