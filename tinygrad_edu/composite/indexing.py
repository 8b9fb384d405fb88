"""Composites that pick, mask and rearrange elements: masked_fill, tril, triu, split, chunk,
repeat_interleave, roll, flip, diagonal, diag_embed, sort and topk, each an index or a where() on a primitive.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from ..checks import normalize_axes

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = ["masked_fill", "tril", "triu", "split", "chunk", "repeat_interleave", "roll", "flip", "diagonal",
           "diag_embed", "sort", "topk"]


def _dim(dim: Any, ndim: int, op: str) -> int:
    """One axis as a non-negative int (a 0-d tensor has the single axis 0/-1, as in PyTorch)."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    return normalize_axes(int(dim), max(ndim, 1), op)[0]


def _along(dim: int, item: Any) -> tuple:
    """An index that applies ``item`` to axis ``dim`` and takes everything on the others."""
    return (slice(None),) * dim + (item,)


def masked_fill(x: Tensor, mask: Any, value: Any) -> Tensor:
    """``value`` where the boolean ``mask`` (broadcast to x's shape) is True, else x.  d/dx = 1 where not masked, else 0."""
    array = mask.data if hasattr(mask, "_graph_ops") else np.asarray(mask)
    if array.dtype != np.bool_:
        raise TypeError(f"masked_fill: mask must be a boolean tensor, got dtype {array.dtype} (compare, e.g. mask == 0)")
    try:
        shape = np.broadcast_shapes(array.shape, x.shape)
    except ValueError:
        shape = None
    if shape != x.shape:
        raise ValueError(f"masked_fill: mask of shape {array.shape} does not broadcast to the tensor's shape {x.shape}")
    if hasattr(value, "_graph_ops") and value.ndim != 0:
        raise ValueError(f"masked_fill: value must be a number or a 0-d tensor, got shape {value.shape}")
    return type(x).where(array, value, x)


def _triangle(x: Tensor, keep: np.ndarray, op: str) -> Tensor:
    if x.ndim < 2:
        raise ValueError(f"{op}: expects a tensor of at least 2 dimensions, got shape {x.shape}")
    return type(x).where(keep, x, 0.0)


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle (entries (i, j) with j - i <= diagonal) of the last two axes, zeros above.  d/dx = that mask."""
    rows, cols = x.shape[-2:] if x.ndim >= 2 else (0, 0)
    return _triangle(x, np.tri(rows, cols, k=diagonal, dtype=bool), "tril")


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle (entries with j - i >= diagonal) of the last two axes, zeros below.  d/dx = that mask."""
    rows, cols = x.shape[-2:] if x.ndim >= 2 else (0, 0)
    return _triangle(x, ~np.tri(rows, cols, k=diagonal - 1, dtype=bool), "triu")


def split(x: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple:
    """Pieces along ``dim``: of ``split_size_or_sections`` each (the last may be smaller), or of the listed sizes.

    Each piece is a slice of x (a view) whose gradient lands in its part of x.
    """
    if x.ndim == 0:
        raise ValueError("split: cannot split a 0-d tensor")
    axis = _dim(dim, x.ndim, "split")
    length = x.shape[axis]
    sections = split_size_or_sections
    if isinstance(sections, (int, np.integer)) and not isinstance(sections, bool):
        if sections <= 0:
            raise ValueError(f"split: split_size must be a positive int, got {sections}")
        sizes = [min(int(sections), length - start) for start in range(0, length, int(sections))] or [0]
    else:
        try:
            sizes = [int(size) for size in sections]
        except (TypeError, ValueError):
            raise TypeError(f"split: split_size_or_sections must be an int or a list of ints, got {sections!r}") from None
        if any(size < 0 for size in sizes) or sum(sizes) != length:
            raise ValueError(f"split: sections {list(sections)} must be non-negative and sum to the size {length} "
                             f"of dim {dim} (shape {x.shape})")
    pieces, start = [], 0
    for size in sizes:
        pieces.append(x[_along(axis, slice(start, start + size))])
        start += size
    return tuple(pieces)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple:
    """``chunks`` pieces along ``dim`` of ceil(size / chunks) each (fewer when they run out), as PyTorch."""
    if isinstance(chunks, bool) or not isinstance(chunks, (int, np.integer)) or chunks <= 0:
        raise ValueError(f"chunk: chunks must be a positive int, got {chunks!r}")
    if x.ndim == 0:
        raise ValueError("chunk: cannot chunk a 0-d tensor")
    length = x.shape[_dim(dim, x.ndim, "chunk")]
    return split(x, max(1, -(-length // int(chunks))), dim)


def repeat_interleave(x: Tensor, repeats: Any, dim: Optional[int] = None) -> Tensor:
    """Each element (along ``dim``; of the flattened tensor when None) repeated ``repeats`` times.  d/dx sums the copies."""
    if dim is None:
        x, axis = x.reshape(-1), 0
    else:
        axis = _dim(dim, x.ndim, "repeat_interleave")
    counts = np.asarray(repeats.data if hasattr(repeats, "_graph_ops") else repeats)
    if counts.dtype.kind not in "iu" or counts.ndim > 1 or (counts < 0).any() or \
            (counts.ndim == 1 and counts.shape[0] != x.shape[axis]):
        raise ValueError(f"repeat_interleave: repeats must be a non-negative int or one per element of dim "
                         f"(size {x.shape[axis] if x.ndim else 1}), got {repeats!r}")
    if x.ndim == 0:
        x, axis = x.reshape(1), 0
    return x[_along(axis, np.repeat(np.arange(x.shape[axis]), counts))]


def roll(x: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """Elements shifted by ``shifts`` along ``dims`` (wrapping around; flattened when dims is None).  d/dx rolls g back."""
    if dims is None:
        if not isinstance(shifts, (int, np.integer)):
            raise ValueError(f"roll: give dims for a tuple of shifts {shifts!r}")
        return roll(x.reshape(-1), shifts, 0).reshape(x.shape)
    shift_list = [shifts] if isinstance(shifts, (int, np.integer)) else list(shifts)
    dim_list = [dims] if isinstance(dims, (int, np.integer)) else list(dims)
    if len(shift_list) != len(dim_list):
        raise ValueError(f"roll: shifts {shifts!r} and dims {dims!r} must have the same length")
    for shift, dim in zip(shift_list, dim_list):
        axis = _dim(dim, x.ndim, "roll")
        size = x.shape[axis] if x.ndim else 1
        if size and shift % size:
            x = x[_along(axis, (np.arange(size) - int(shift)) % size)]
    return x


def flip(x: Tensor, dims: Any) -> Tensor:
    """The order reversed along each axis in ``dims``.  d/dx = g flipped the same way."""
    dim_list = [dims] if isinstance(dims, (int, np.integer)) else list(dims)
    axes = normalize_axes(tuple(dim_list), x.ndim, "flip")
    if not axes:
        return x
    index = tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(x.ndim))
    return x[index]


def diagonal(x: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal (offset above it when > 0, below when < 0) of the dim1 x dim2 planes, as a new last axis.

    d/dx = g placed back on that diagonal, zeros elsewhere.
    """
    if x.ndim < 2:
        raise ValueError(f"diagonal: expects at least 2 dimensions, got shape {x.shape}")
    first, second = _dim(dim1, x.ndim, "diagonal"), _dim(dim2, x.ndim, "diagonal")
    if first == second:
        raise ValueError(f"diagonal: dim1 and dim2 must differ, got {dim1} and {dim2}")
    rest = [i for i in range(x.ndim) if i not in (first, second)]
    moved = x.permute(*rest, first, second)
    rows, cols = moved.shape[-2:]
    start_row, start_col = max(-offset, 0), max(offset, 0)
    length = max(0, min(rows - start_row, cols - start_col))
    steps = np.arange(length)
    return moved[..., steps + start_row, steps + start_col]


def diag_embed(x: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """A tensor whose dim1 x dim2 planes have x's last axis on the diagonal ``offset``, zeros elsewhere.

    d/dx = the diagonal of g.
    """
    if x.ndim == 0:
        raise ValueError("diag_embed: expects at least 1 dimension")
    length = x.shape[-1]
    size = length + abs(offset)
    placement = np.zeros((size, length), dtype=x.dtype)
    placement[np.arange(length) + max(-offset, 0), np.arange(length)] = 1
    rows = x.unsqueeze(-2) * x._make(placement, None, False)
    batch = [(0, 0)] * (x.ndim - 1)
    out = rows.pad(batch + [(0, 0), (max(offset, 0), max(-offset, 0))]) if offset else rows
    ndim = x.ndim + 1
    first, second = _dim(dim1, ndim, "diag_embed"), _dim(dim2, ndim, "diag_embed")
    if first == second:
        raise ValueError(f"diag_embed: dim1 and dim2 must differ, got {dim1} and {dim2}")
    order, others = [0] * ndim, iter(range(ndim - 2))
    for i in range(ndim):
        order[i] = ndim - 2 if i == first else ndim - 1 if i == second else next(others)
    return out.permute(*order)


def sort(x: Tensor, dim: int = -1, descending: bool = False) -> tuple:
    """(values, indices) sorted along ``dim`` (stable).  d values/dx: g sent back to where each value came from."""
    axis = _dim(dim, x.ndim, "sort")
    if x.ndim == 0:
        return x * 1.0, x._make(np.zeros((), dtype=np.int64), None, False)
    order = np.argsort(-x.data if descending else x.data, axis=axis, kind="stable")
    return _gather(x, order, axis), x._make(order.astype(np.int64), None, False)


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> tuple:  # noqa: A002
    """(values, indices) of the k largest (or smallest) along ``dim``.  d values/dx: g at the chosen positions."""
    axis = _dim(dim, x.ndim, "topk")
    size = x.shape[axis] if x.ndim else 1
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= size:
        raise ValueError(f"topk: k must be an int in [0, {size}] for dim {dim} of shape {x.shape}, got {k!r}")
    if x.ndim == 0:
        return sort(x)
    order = np.argsort(-x.data if largest else x.data, axis=axis, kind="stable")
    order = order[_along(axis, slice(0, int(k)))]
    return _gather(x, order, axis), x._make(order.astype(np.int64), None, False)


def _gather(x: Tensor, order: np.ndarray, axis: int) -> Tensor:
    """x's elements at ``order`` along ``axis`` (take_along_axis), through one differentiable index."""
    grids = np.ogrid[tuple(slice(0, size) for size in order.shape)]
    index = tuple(order if i == axis else grid for i, grid in enumerate(grids))
    return x[index]
