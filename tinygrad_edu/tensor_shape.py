"""The Tensor's shape methods that are composed from primitives: flatten, transpose, squeeze, stack, split, ...

The primitives themselves (reshape, permute, expand, pad, cat) are in
`tinygrad_edu.ops.movement`.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Optional, Sequence

import numpy as np

from . import composite
from .checks import Axis, AxisError, normalize_axes, torch_names
from .ops.movement import _tensor_list

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["CompositeShapeMethods"]


class CompositeShapeMethods:
    """``t.flatten()``, ``t.transpose()``, ``Tensor.stack()``...: Tensor inherits them."""

    __slots__ = ()  # Tensor keeps its fixed slots: no base may add a __dict__

    def flatten(self: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge axes start_dim..end_dim into one (all of them by default)."""
        if self.ndim == 0:
            return self.reshape(1)
        start, end = normalize_axes(start_dim, self.ndim, "flatten")[0], normalize_axes(end_dim, self.ndim, "flatten")[0]
        if start > end:
            raise ValueError(f"flatten: start_dim ({start_dim}) comes after end_dim ({end_dim})")
        merged = math.prod(self.shape[start:end + 1])
        return self.reshape(self.shape[:start] + (merged,) + self.shape[end + 1:])

    def transpose(self: Tensor, dim0: int = -2, dim1: int = -1) -> Tensor:
        """Swap two axes (the last two by default)."""
        if self.ndim < 2:
            return self
        first = normalize_axes(dim0, self.ndim, "transpose")[0]
        second = normalize_axes(dim1, self.ndim, "transpose")[0]
        order = list(range(self.ndim))
        order[first], order[second] = order[second], order[first]
        return self.permute(*order)

    @torch_names
    def squeeze(self: Tensor, axis: Axis = None) -> Tensor:
        """Drop axes of size 1 (all of them, or those in ``axis``; others are left, as PyTorch)."""
        candidates = normalize_axes(axis, self.ndim, "squeeze")
        drop = {i for i in candidates if self.shape[i] == 1}
        if not drop:
            return self
        return self.reshape(tuple(size for i, size in enumerate(self.shape) if i not in drop))

    @torch_names
    def unsqueeze(self: Tensor, axis: int) -> Tensor:
        """Insert an axis of size 1 at ``axis`` (negative counts from the end of the result)."""
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"unsqueeze: axis must be an int, got {axis!r}")
        if not -self.ndim - 1 <= axis <= self.ndim:
            raise AxisError(f"unsqueeze: axis {axis} is out of range for a result with {self.ndim + 1} dimensions")
        position = axis % (self.ndim + 1)
        return self.reshape(self.shape[:position] + (1,) + self.shape[position:])

    @classmethod
    @torch_names
    def stack(cls: type[Tensor], tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
        """Join tensors of one shape along a new axis."""
        tensors = _tensor_list(cls, tensors, "stack")
        for i, tensor in enumerate(tensors):
            if tensor.shape != tensors[0].shape:
                raise ValueError(f"stack: tensor {i} has shape {tensor.shape}, tensor 0 has shape {tensors[0].shape}")
        if not -tensors[0].ndim - 1 <= axis <= tensors[0].ndim:
            raise AxisError(f"stack: axis {axis} is out of range for a result with {tensors[0].ndim + 1} dimensions")
        return cls.cat([tensor.unsqueeze(axis) for tensor in tensors], axis=axis)

    @torch_names
    def split(self: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple:
        """A tuple of views along ``dim``: pieces of the given size (last may be smaller) or of the listed sizes."""
        return composite.split(self, split_size_or_sections, dim)

    @torch_names
    def chunk(self: Tensor, chunks: int, dim: int = 0) -> tuple:
        """A tuple of ``chunks`` views along ``dim`` (ceil(size / chunks) each; fewer when they run out)."""
        return composite.chunk(self, chunks, dim)

    def flip(self: Tensor, dims: Any) -> Tensor:
        """Reverse the order along ``dims``.  d/dx = g flipped back."""
        return composite.flip(self, dims)

    def roll(self: Tensor, shifts: Any, dims: Any = None) -> Tensor:
        """Shift elements along ``dims``, wrapping around.  d/dx = g rolled back."""
        return composite.roll(self, shifts, dims)

    def diagonal(self: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        """The diagonal of the dim1 x dim2 planes as a new last axis.  d/dx = g placed on that diagonal."""
        return composite.diagonal(self, offset, dim1, dim2)

    def diag_embed(self: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
        """Matrices with the last axis on diagonal ``offset``, zeros elsewhere.  d/dx = the diagonal of g."""
        return composite.diag_embed(self, offset, dim1, dim2)

    def tril(self: Tensor, diagonal: int = 0) -> Tensor:
        """Lower triangle of the last two axes (j - i <= diagonal), zeros above.  d/dx = that mask."""
        return composite.tril(self, diagonal)

    def triu(self: Tensor, diagonal: int = 0) -> Tensor:
        """Upper triangle of the last two axes (j - i >= diagonal), zeros below.  d/dx = that mask."""
        return composite.triu(self, diagonal)

    @torch_names
    def repeat_interleave(self: Tensor, repeats: Any, dim: Optional[int] = None) -> Tensor:
        """Each element repeated ``repeats`` times along ``dim`` (flattened when None).  d/dx sums the copies."""
        return composite.repeat_interleave(self, repeats, dim)

    def masked_fill(self: Tensor, mask: Any, value: Any) -> Tensor:
        """``value`` where the boolean ``mask`` is True, else self.  d/dself = 1 where not masked, else 0."""
        return composite.masked_fill(self, mask, value)
