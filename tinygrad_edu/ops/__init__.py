"""The primitive operations, grouped by family.

Each primitive is a `Function` with its forward (NumPy) and its derivative,
stated once as ``vjp(ctx, xp, g, out, *inputs)``, side by side: the rule runs
on bare arrays for an ordinary backward and on Tensors under ``create_graph``.
Each family file ends with a ``...Methods`` class holding the Tensor methods
of its ops (``ElementwiseMethods.exp`` calls ``Exp.apply``); ``Tensor``
inherits them all, so adding an op touches its family file (and one row of
``tests/op_table.py``), never ``tensor.py``.  Everything else the Tensor offers
(mean, var, log_softmax, ...) is composed from these.
"""
from . import attention, conv, elementwise, loss, matmul, movement, normalize, pool, reduce, transcendental, window

__all__ = ["attention", "conv", "elementwise", "loss", "matmul", "movement", "normalize", "pool", "reduce",
           "transcendental", "window"]
