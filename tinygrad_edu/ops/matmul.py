"""Matrix multiplication with NumPy ``matmul`` semantics (1-D, 2-D and batched with broadcasting)."""
from __future__ import annotations

import numpy as np

from ..autograd import Function


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

    def backward(ctx, grad_output):
        a, b = ctx.inputs
        needs_a, needs_b = ctx.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:  # a dot product: d(a.b)/da = b, d(a.b)/db = a
            return (grad_output * b if needs_a else None), (grad_output * a if needs_b else None)
        grad = grad_output
        if a.ndim == 1:
            grad = grad.unsqueeze(-2)
        if b.ndim == 1:
            grad = grad.unsqueeze(-1)
        grad_a = grad_b = None
        if needs_a:
            b_matrix = b.unsqueeze(-1) if b.ndim == 1 else b
            grad_a = grad @ b_matrix.transpose(-1, -2)
            if a.ndim == 1:
                grad_a = grad_a.squeeze(-2)
        if needs_b:
            a_matrix = a.unsqueeze(0) if a.ndim == 1 else a
            grad_b = a_matrix.transpose(-1, -2) @ grad
            if b.ndim == 1:
                grad_b = grad_b.squeeze(-1)
        return grad_a, grad_b
