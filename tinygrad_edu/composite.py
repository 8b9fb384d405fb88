"""Composite ops: built from primitives, so they need no backward rule of their own.

The Tensor methods of the same names call these (``x.softmax()`` is
``softmax(x)``); each derivative follows from the chain rule through the
primitives.  Written against the tensor passed in (its type makes new tensors),
so this module does not import the Tensor class.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from .checks import Axis, kept_shape, normalize_axes, pair
from .ops.window import Windows

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["avg_pool2d", "conv2d", "gelu", "leaky_relu", "log_softmax", "logsumexp", "max_pool2d", "softmax", "std",
           "var"]


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, else negative_slope * x.  d/dx = 1 or negative_slope (negative_slope at 0)."""
    return type(x).where(x > 0, x, x * negative_slope)


def gelu(x: Tensor) -> Tensor:
    """GELU in its tanh approximation (PyTorch's ``approximate="tanh"``), composed from primitives.

    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))); the derivative follows from the chain rule.
    """
    inner = (x + x * x * x * 0.044715) * math.sqrt(2.0 / math.pi)
    return x * 0.5 * (inner.tanh() + 1.0)


def var(x: Tensor, axis: Axis = None, keepdim: bool = False, correction: int = 1) -> Tensor:
    """Variance sum((x - mean)^2) / max(0, n - correction).

    As PyTorch: with no more elements than ``correction`` it divides by 0, giving
    inf (NaN where the values are all equal, 0 / 0).
    """
    axes = normalize_axes(axis, x.ndim, "var")
    count = math.prod(x.shape[i] for i in axes)
    deviation = x - x.mean(axis=axes, keepdim=True)
    squares = (deviation * deviation).sum(axis=axes, keepdim=keepdim)
    if count > correction:
        return squares * (1.0 / (count - correction))
    with np.errstate(divide="ignore", invalid="ignore"):
        return squares / 0.0


def std(x: Tensor, axis: Axis = None, keepdim: bool = False, correction: int = 1) -> Tensor:
    """Standard deviation, sqrt(var).

    Where it is 0 its gradient is 0, as in PyTorch, not the NaN of sqrt's
    infinite slope times var's zero gradient: those entries take
    ``where(v != 0, sqrt(where(v != 0, v, 1)), 0)``, which is the same value.
    """
    normalize_axes(axis, x.ndim, "std")  # so an error names std, not the var inside it
    variance = x.var(axis=axis, keepdim=keepdim, correction=correction)
    zero = variance.data == 0
    if not zero.any():
        return variance.sqrt()
    where = type(x).where
    return where(zero, 0.0, where(zero, 1.0, variance).sqrt())


def logsumexp(x: Tensor, axis: Axis = None, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) computed as m + log(sum(exp(x - m))) with m the (constant) max, so it never overflows.

    d/dx = softmax(x); the shift m cancels in the derivative, so treating it as a constant is exact.
    """
    axes = normalize_axes(axis, x.ndim, "logsumexp")
    shift = x.data.max(axis=axes, keepdims=True) if x.data.size else np.zeros(kept_shape(x.shape, axes))
    shift = np.where(np.isfinite(shift), shift, 0).astype(x.dtype, copy=False)
    shift_tensor = x._make(shift, None, False)
    total = (x - shift_tensor).exp().sum(axis=axes, keepdim=True).log() + shift_tensor
    return total if keepdim else total.reshape(tuple(s for i, s in enumerate(total.shape) if i not in axes))


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis``, shifted by the (constant) max for stability."""
    axes = normalize_axes(axis, x.ndim, "softmax")
    if x.data.size == 0:  # an empty result, as PyTorch (the max of an empty axis does not exist)
        shift = x._make(np.zeros(kept_shape(x.shape, axes), dtype=x.dtype), None, False)
    else:
        shift = x._make(x.data.max(axis=axes, keepdims=True), None, False)
    exps = (x - shift).exp()
    return exps / exps.sum(axis=axes, keepdim=True)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along ``axis``: stable for any finite input."""
    axes = normalize_axes(axis, x.ndim, "log_softmax")
    return x - x.logsumexp(axis=axes, keepdim=True)


def conv2d(x: Tensor, weight: Tensor, bias: Optional[Tensor] = None, stride: Any = 1, padding: Any = 0) -> Tensor:
    """2-D cross-correlation of NCHW input with OIHW weight, as im2col (`Windows`) and a matmul."""
    weight = weight if isinstance(weight, type(x)) else type(x)(weight)
    if x.ndim != 4 or weight.ndim != 4:
        raise ValueError(
            f"conv2d: expects input (N, C, H, W) and weight (O, C, KH, KW), got shapes {x.shape} and {weight.shape}"
        )
    out_channels, in_channels, kernel_h, kernel_w = weight.shape
    if x.shape[1] != in_channels:
        raise ValueError(
            f"conv2d: input has {x.shape[1]} channels (shape {x.shape}) but the weight expects "
            f"{in_channels} (shape {weight.shape})"
        )
    if bias is not None and (not isinstance(bias, type(x)) or bias.shape != (out_channels,)):
        raise ValueError(f"conv2d: bias must be a Tensor of shape ({out_channels},), got {getattr(bias, 'shape', bias)}")
    pad_h, pad_w = pair(padding, "padding", minimum=0)
    x = x.pad(((0, 0), (0, 0), (pad_h, pad_h), (pad_w, pad_w))) if pad_h or pad_w else x
    cols = _windows(x, (kernel_h, kernel_w), pair(stride, "stride", minimum=1), "conv2d")
    batch, _, out_h, out_w = cols.shape[:4]
    cols = cols.permute(0, 2, 3, 1, 4, 5).reshape(batch * out_h * out_w, in_channels * kernel_h * kernel_w)
    out = cols @ weight.reshape(out_channels, in_channels * kernel_h * kernel_w).T
    out = out.reshape(batch, out_h, out_w, out_channels).permute(0, 3, 1, 2)
    if bias is not None:
        out = out + bias.reshape(1, out_channels, 1, 1)
    return out


def max_pool2d(x: Tensor, kernel_size: Any, stride: Any = None) -> Tensor:
    """Max over each window of NCHW input (stride defaults to kernel_size); ties in a window split the gradient."""
    windows = _pool_windows(x, kernel_size, stride, "max_pool2d")
    return windows.max(axis=-1)


def avg_pool2d(x: Tensor, kernel_size: Any, stride: Any = None) -> Tensor:
    """Mean over each window of NCHW input (stride defaults to kernel_size)."""
    windows = _pool_windows(x, kernel_size, stride, "avg_pool2d")
    return windows.mean(axis=-1)


def _pool_windows(x: Tensor, kernel_size: Any, stride: Any, op: str) -> Tensor:
    if x.ndim != 4:
        raise ValueError(f"{op}: expects input of shape (N, C, H, W), got {x.shape}")
    kernel = pair(kernel_size, "kernel_size", minimum=1)
    steps = kernel if stride is None else pair(stride, "stride", minimum=1)
    windows = _windows(x, kernel, steps, op)
    return windows.reshape(windows.shape[:4] + (kernel[0] * kernel[1],))


def _windows(x: Tensor, kernel: tuple, stride: tuple, op: str) -> Tensor:
    height, width = x.shape[2], x.shape[3]
    if kernel[0] > height or kernel[1] > width:
        raise ValueError(f"{op}: kernel {kernel} is larger than the (padded) input's {height}x{width} image")
    return Windows.apply(x, kernel=kernel, stride=stride)


# ---------------------------------------------------------------- language-model building blocks (issue 11)

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


def prod(x: Tensor, axis: Axis = None, keepdim: bool = False) -> Tensor:
    """Product over ``axis`` (None: all).  d/dx_i = the product of the other elements, exact when some are 0.

    Built as a tree of pairwise multiplications (log2(n) ``Mul`` nodes), so the
    derivative is the chain rule through those products: it never divides by
    x_i, so a slice with one zero sends the product of the others to that zero
    and 0 elsewhere, two zeros send 0 everywhere; second derivatives come free.
    """
    axes = normalize_axes(axis, x.ndim, "prod")
    kept = tuple(i for i in range(x.ndim) if i not in axes)
    count = math.prod(x.shape[i] for i in axes)
    out_shape = kept_shape(x.shape, axes) if keepdim else tuple(x.shape[i] for i in kept)
    if count == 0:
        return x.sum(axis=axes, keepdim=keepdim) + 1.0  # the empty product (sum of nothing is 0)
    flat = x.permute(*(kept + axes)).reshape(tuple(x.shape[i] for i in kept) + (count,))
    while count > 1:
        half = count // 2
        product = flat[..., :half] * flat[..., half:2 * half]
        flat = type(x).cat([product, flat[..., 2 * half:]], axis=-1) if count % 2 else product
        count = half + count % 2
    return flat.reshape(out_shape)


def cumsum(x: Tensor, dim: int) -> Tensor:
    """Running sums along ``dim``.  d/dx_i = sum of the gradient over positions j >= i."""
    from .ops.reduce import Cumsum
    if x.ndim == 0:
        _dim(dim, 0, "cumsum")
        return x * 1.0
    return Cumsum.apply(x, axis=_dim(dim, x.ndim, "cumsum"))


def einsum(subscripts: str, *operands: Any) -> Tensor:
    """Einstein summation as NumPy's ``einsum`` (letters, ``...``, implicit or explicit output).

    d/da_k = einsum of the output gradient with the other operands into a_k's subscripts.
    """
    from .ops.matmul import Einsum, einsum_subscripts
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


# ---------------------------------------------------------------- more math (issue 11 item 2)

_LN2, _LN10 = math.log(2.0), math.log(10.0)


def log2(x: Tensor) -> Tensor:
    """log(x) / log(2).  d/dx = 1 / (x log 2)."""
    return x.log() * (1.0 / _LN2)


def log10(x: Tensor) -> Tensor:
    """log(x) / log(10).  d/dx = 1 / (x log 10)."""
    return x.log() * (1.0 / _LN10)


def exp2(x: Tensor) -> Tensor:
    """2^x = exp(x log 2).  d/dx = 2^x log 2."""
    return (x * _LN2).exp()


def relu6(x: Tensor) -> Tensor:
    """min(max(x, 0), 6).  d/dx = 1 for 0 < x < 6, else 0."""
    return x.clip(0.0, 6.0)


def hardsigmoid(x: Tensor) -> Tensor:
    """relu6(x + 3) / 6.  d/dx = 1/6 for -3 < x < 3, else 0."""
    return relu6(x + 3.0) * (1.0 / 6.0)


def hardswish(x: Tensor) -> Tensor:
    """x * relu6(x + 3) / 6.  d/dx = (2x + 3) / 6 for -3 < x < 3, 0 below, 1 above."""
    return x * hardsigmoid(x)


def mish(x: Tensor) -> Tensor:
    """x * tanh(softplus(x)).  d/dx = tanh(sp) + x sigmoid(x) (1 - tanh(sp)^2) with sp = softplus(x)."""
    return x * x.softplus().tanh()


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x for x > 0, else alpha (exp(x) - 1).  d/dx = 1 for x > 0, else alpha exp(x).

    The negative branch sees min(x, 0) (a "double where"), so a large positive x
    never puts an inf into the branch that where() discards.
    """
    negative = type(x).where(x > 0, 0.0, x)
    return type(x).where(x > 0, x, negative.expm1() * alpha)


_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def selu(x: Tensor) -> Tensor:
    """scale * elu(x, alpha) with PyTorch's constants.  d/dx = scale for x > 0, else scale alpha exp(x)."""
    return elu(x, _SELU_ALPHA) * _SELU_SCALE


def logsigmoid(x: Tensor) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), finite for any x.  d/dx = 1 - sigmoid(x) = sigmoid(-x)."""
    return -((-x).softplus())


def softsign(x: Tensor) -> Tensor:
    """x / (1 + |x|).  d/dx = 1 / (1 + |x|)^2."""
    return x / (x.abs() + 1.0)


def tensordot(a: Tensor, b: Tensor, dims: Any = 2) -> Tensor:
    """Sum over the last ``dims`` axes of a and the first of b (or over the paired axes lists ``dims``).

    d/da, d/db: einsum of the gradient with the other operand (`Einsum`).
    """
    from .ops.matmul import _LETTERS
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


def trace(x: Tensor) -> Tensor:
    """Sum of the main diagonal of a 2-D tensor.  d/dx = the identity (times g)."""
    if x.ndim != 2:
        raise ValueError(f"trace: expects a 2-D tensor, got shape {x.shape}")
    return diagonal(x).sum()


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


def conv1d(x: Tensor, weight: Tensor, bias: Optional[Tensor] = None, stride: Any = 1, padding: Any = 0) -> Tensor:
    """1-D cross-correlation of NCL input with OCK weight: conv2d on a height-1 image."""
    weight = weight if isinstance(weight, type(x)) else type(x)(weight)
    if x.ndim != 3 or weight.ndim != 3:
        raise ValueError(f"conv1d: expects input (N, C, L) and weight (O, C, K), got shapes {x.shape} and {weight.shape}")
    stride = stride[0] if isinstance(stride, (tuple, list)) and len(stride) == 1 else stride
    padding = padding[0] if isinstance(padding, (tuple, list)) and len(padding) == 1 else padding
    for name, value, minimum in (("stride", stride, 1), ("padding", padding, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise ValueError(f"conv1d: {name} must be an int >= {minimum}, got {value!r}")
    out = conv2d(x.unsqueeze(2), weight.unsqueeze(2), bias, (1, int(stride)), (0, int(padding)))
    return out.squeeze(2)
