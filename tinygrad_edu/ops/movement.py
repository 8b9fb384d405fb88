"""Movement primitives: they rearrange, copy or select elements and never change a value."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from ..autograd import ArrayOps, Function
from ..checks import normalize_axes, reshape_target, torch_names

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = ["Cat", "Expand", "GetItem", "MovementMethods", "Pad", "Permute", "Reshape", "ScatterAdd", "broadcast_view",
           "is_basic_index"]


class Reshape(Function):
    """d reshape(a)/da: the gradient reshaped back to a's shape."""

    def forward(ctx, a, shape=()):
        return a.reshape(shape)

    def vjp(ctx, xp, g, out, a):
        return g.reshape(ctx.inputs[0].shape)


class Permute(Function):
    """d permute(a, order)/da: the gradient permuted by the inverse order."""

    def forward(ctx, a, order=()):
        ctx.order = order
        return np.transpose(a, order)

    def vjp(ctx, xp, g, out, a):
        return xp.permute(g, tuple(np.argsort(ctx.order).tolist()))


broadcast_view = ArrayOps.expand  # ``np.broadcast_to`` as a strided view (importable from here as before)


class Expand(Function):
    """d broadcast_to(a, S)/da: each output element came from one input element, so sum over the broadcast axes.

    The rule returns g as it is: summing it back to a's shape is the walk's `unbroadcast`.
    """

    def forward(ctx, a, shape=()):
        return broadcast_view(a, shape)

    def vjp(ctx, xp, g, out, a):
        return g


class Pad(Function):
    """d pad(a)/da: the gradient with the padding sliced off."""

    def forward(ctx, a, pad_width=(), value=0.0):
        ctx.pad_width = pad_width
        return np.pad(a, pad_width, mode="constant", constant_values=value)

    def vjp(ctx, xp, g, out, a):
        return g[tuple(slice(before, before + size) for (before, _), size in zip(ctx.pad_width, ctx.inputs[0].shape))]


def is_basic_index(index: tuple) -> bool:
    """True when the index has only ints, slices, None and Ellipsis (so no element is picked twice)."""
    for item in index:
        if not (item is None or item is Ellipsis or isinstance(item, (slice, int, np.integer))):
            return False
    return True


class GetItem(Function):
    """d a[index]/da: the gradient scattered back to the positions it was read from, summed where an index repeats."""

    def forward(ctx, a, index=()):
        ctx.index = index
        return a[index]

    def vjp(ctx, xp, g, out, a):
        return xp.apply(ScatterAdd, g, shape=ctx.inputs[0].shape, index=ctx.index)


class ScatterAdd(Function):
    """zeros(shape) with ``g`` added at ``index`` (the backward of GetItem); d/dg = g[index]."""

    op_name = "scatter_add"

    def forward(ctx, g, shape=(), index=()):
        ctx.index = index
        out = np.zeros(shape, dtype=g.dtype)
        if is_basic_index(index):
            out[index] = g
        elif len(index) == 1 and isinstance(index[0], np.ndarray) and index[0].dtype.kind in "iu" and out.ndim:
            _add_rows(out, index[0], g)
        else:
            np.add.at(out, index, g)
        return out

    def vjp(ctx, xp, g, out, a):
        return g[ctx.index]


def _add_rows(out: np.ndarray, rows: np.ndarray, g: np.ndarray) -> None:
    """``np.add.at(out, rows, g)`` for integer row indices (an embedding's backward), sorted and summed per row.

    np.add.at is slow on many rows (100+ us for a GPT batch); sorting the rows and summing each run
    with one ``reduceat`` gives the same sums up to rounding.
    """
    flat = rows.reshape(-1)
    flat = np.where(flat < 0, flat + out.shape[0], flat)
    order = np.argsort(flat, kind="stable")
    ordered = flat[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1]))) if ordered.size else ordered
    values = g.reshape((flat.size,) + out.shape[1:])[order]
    if ordered.size:
        out[ordered[starts]] = np.add.reduceat(values, starts, axis=0)


class Cat(Function):
    """d cat(a_1..a_n)/da_i: the slice of the gradient where a_i was placed."""

    def forward(ctx, *arrays, axis=0):
        ctx.axis = axis
        return np.concatenate(arrays, axis=axis)

    def vjp(ctx, xp, g, out, *arrays):
        grads = []
        start = 0
        lead = (slice(None),) * ctx.axis
        for tensor, needed in zip(ctx.inputs, ctx.needs_input_grad):
            stop = start + tensor.shape[ctx.axis]
            grads.append(g[lead + (slice(start, stop),)] if needed else None)
            start = stop
        return tuple(grads)

# ---------------------------------------------------------------- the Tensor methods of this family

class MovementMethods:
    """``t.reshape()``, ``t.permute()``, ``t.expand()``, ``t.pad()``, ``Tensor.cat()``: Tensor inherits them."""

    __slots__ = ()  # Tensor keeps its fixed slots: no base may add a __dict__

    def reshape(self: Tensor, *shape: Any) -> Tensor:
        """The same values in a new shape: ints or one tuple, one -1 allowed."""
        new_shape = reshape_target(shape, self.shape)
        if new_shape == self.shape:
            return self
        return Reshape.apply(self, shape=new_shape)

    view = reshape

    def permute(self: Tensor, *order: Any) -> Tensor:
        """Reorder the axes: ``permute(2, 0, 1)`` or ``permute((2, 0, 1))``."""
        if len(order) == 1 and isinstance(order[0], (tuple, list)):
            order = tuple(order[0])
        if len(order) != self.ndim:
            raise ValueError(f"permute: got {len(order)} axes {order} for a tensor with {self.ndim} dimensions")
        axes = tuple(normalize_axes(axis, self.ndim, "permute")[0] for axis in order)
        if sorted(axes) != list(range(self.ndim)):
            raise ValueError(f"permute: {order} is not a permutation of the axes 0..{self.ndim - 1}")
        if axes == tuple(range(self.ndim)):
            return self
        return Permute.apply(self, order=axes)

    def expand(self: Tensor, *shape: Any) -> Tensor:
        """Broadcast to ``shape`` without copying (-1 keeps a size).  d/dx sums over the broadcast axes."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        if len(shape) < self.ndim:
            raise ValueError(f"expand: cannot expand shape {self.shape} to the shorter shape {shape}")
        lead = len(shape) - self.ndim
        target = tuple(
            self.shape[i - lead] if size == -1 and i >= lead else size for i, size in enumerate(shape)
        )
        for i, size in enumerate(self.shape):
            if size != 1 and size != target[i + lead]:
                raise ValueError(f"expand: cannot expand shape {self.shape} to {tuple(shape)}: axis {i} has size {size}")
        if target == self.shape:
            return self
        return Expand.apply(self, shape=target)

    def pad(self: Tensor, pad_width: Any, value: float = 0.0) -> Tensor:
        """Pad with a constant, ``np.pad``'s form: one (before, after) pair per axis.  d/dx = the gradient with the border cut off."""
        try:
            widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (self.ndim, 2))
        except ValueError:
            raise ValueError(
                f"pad: pad_width {pad_width!r} is not one (before, after) pair per axis of shape {self.shape}"
            ) from None
        if (widths < 0).any():
            raise ValueError(f"pad: pad_width must not be negative, got {pad_width!r}")
        return Pad.apply(self, pad_width=tuple(map(tuple, widths.tolist())), value=value)

    @classmethod
    @torch_names
    def cat(cls: type[Tensor], tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
        """Join tensors along an existing axis."""
        tensors = _tensor_list(cls, tensors, "cat")
        for i, tensor in enumerate(tensors):
            if tensor.ndim == 0:
                raise ValueError(f"cat: zero-dimensional tensor (at position {i}) cannot be concatenated; "
                                 "use Tensor.stack to join 0-d tensors")
        (axis_index,) = normalize_axes(axis, tensors[0].ndim, "cat")
        for i, tensor in enumerate(tensors):
            if tensor.ndim != tensors[0].ndim or any(
                a != b for d, (a, b) in enumerate(zip(tensor.shape, tensors[0].shape)) if d != axis_index
            ):
                raise ValueError(
                    f"cat: tensor {i} has shape {tensor.shape}, which does not match shape {tensors[0].shape} "
                    f"outside axis {axis}"
                )
        return Cat.apply(*tensors, axis=axis_index)


def _tensor_list(tensor_type: type[Tensor], tensors: Any, op: str) -> list:
    if isinstance(tensors, tensor_type):
        raise TypeError(f"{op}: expects a list of tensors, got a single Tensor")
    tensors = [tensor if isinstance(tensor, tensor_type) else tensor_type(tensor) for tensor in tensors]
    if not tensors:
        raise ValueError(f"{op}: expects a non-empty list of tensors")
    return tensors
