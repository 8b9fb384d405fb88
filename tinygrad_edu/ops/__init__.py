"""The primitive operations, grouped by family.

Each primitive is a `Function` with its forward (NumPy) and its derivative,
stated once as ``vjp(ctx, xp, g, out, *inputs)``, side by side: the rule runs
on bare arrays for an ordinary backward and on Tensors under ``create_graph``.
Everything else the Tensor offers (mean, softmax, conv2d, ...) is composed from
these.
"""
from . import elementwise, loss, matmul, movement, reduce, transcendental, window

__all__ = ["elementwise", "loss", "matmul", "movement", "reduce", "transcendental", "window"]
