"""Products and sums over paired axes: einsum, tensordot, outer and trace."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .indexing import _dim, diagonal

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = ["einsum", "tensordot", "outer", "trace"]


def einsum(subscripts: str, *operands: Any) -> Tensor:
    """Einstein summation as NumPy's ``einsum`` (letters, ``...``, implicit or explicit output).

    d/da_k = einsum of the output gradient with the other operands into a_k's subscripts.
    """
    from ..ops.matmul import Einsum, einsum_subscripts
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum: give at least one operand")
    tensor_type = next((type(t) for t in operands if hasattr(t, "_graph_ops")), None)
    if tensor_type is None:
        raise TypeError("einsum: the operands must be Tensors")
    tensors = [t if isinstance(t, tensor_type) else tensor_type(t) for t in operands]
    explicit = einsum_subscripts(subscripts, [t.shape for t in tensors])
    return Einsum.apply(*tensors, subscripts=explicit)


def tensordot(a: Tensor, b: Tensor, dims: Any = 2) -> Tensor:
    """Sum over the last ``dims`` axes of a and the first of b (or over the paired axes lists ``dims``).

    d/da, d/db: einsum of the gradient with the other operand (`Einsum`).
    """
    from ..ops.matmul import _LETTERS
    b = b if isinstance(b, type(a)) else type(a)(b)
    if isinstance(dims, (int, np.integer)) and not isinstance(dims, bool):
        if not 0 <= dims <= min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: dims={dims} is out of range for shapes {a.shape} and {b.shape}")
        axes_a, axes_b = list(range(a.ndim - dims, a.ndim)), list(range(int(dims)))
    else:
        try:
            axes_a, axes_b = ([dims[0]] if isinstance(dims[0], int) else list(dims[0])), \
                ([dims[1]] if isinstance(dims[1], int) else list(dims[1]))
        except (TypeError, IndexError):
            raise TypeError(f"tensordot: dims must be an int or a pair of axis lists, got {dims!r}") from None
        if len(axes_a) != len(axes_b):
            raise ValueError(f"tensordot: dims {dims!r} pair {len(axes_a)} axes of a with {len(axes_b)} of b")
        axes_a = [_dim(d, a.ndim, "tensordot") for d in axes_a]
        axes_b = [_dim(d, b.ndim, "tensordot") for d in axes_b]
    for i, j in zip(axes_a, axes_b):
        if a.shape[i] != b.shape[j]:
            raise ValueError(f"tensordot: axis {i} of a (shape {a.shape}) and axis {j} of b (shape {b.shape}) differ")
    letters = iter(_LETTERS)
    sub_a = [next(letters) for _ in range(a.ndim)]
    sub_b = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(axes_a, axes_b):
        sub_b[j] = sub_a[i]
    out = [s for i, s in enumerate(sub_a) if i not in axes_a] + [s for j, s in enumerate(sub_b) if j not in axes_b]
    return einsum("".join(sub_a) + "," + "".join(sub_b) + "->" + "".join(out), a, b)


def outer(a: Tensor, b: Tensor) -> Tensor:
    """a_i b_j of two 1-D tensors.  d/da_i = sum_j g_ij b_j, d/db_j = sum_i g_ij a_i."""
    b = b if isinstance(b, type(a)) else type(a)(b)
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"outer: expects two 1-D tensors, got shapes {a.shape} and {b.shape}")
    return a.reshape(-1, 1) * b.reshape(1, -1)


def trace(x: Tensor) -> Tensor:
    """Sum of the main diagonal of a 2-D tensor.  d/dx = the identity (times g)."""
    if x.ndim != 2:
        raise ValueError(f"trace: expects a 2-D tensor, got shape {x.shape}")
    return diagonal(x).sum()
