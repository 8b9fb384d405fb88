"""The one table of differentiable ops that the property tests are generated from.

Each `OpSpec` says how to call the op on Tensors (``fn``), the NumPy formula it
must agree with (``reference``), a hypothesis strategy that draws the input
shapes together with the op's other arguments (``case``: axis forms, keepdim,
broadcast partners, strides, index objects...), the element domain of each
input (kept away from kinks and poles so finite differences are meaningful)
and its family.  ``examples(op)`` combines these into concrete float64 inputs.

Adding an op is adding one entry here; every property test picks it up.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np
from hypothesis import strategies as st

import tinygrad_edu.nn.functional as F  # noqa: N812 (the PyTorch convention)
from tinygrad_edu import Tensor
from tinygrad_edu.ops.conv import Col2Im, Im2Col
from tinygrad_edu.testing.strategies import broadcastable_shapes, shapes

MAX_SIDE = 4
FAMILIES = ("elementwise", "reduction", "matmul", "movement", "conv")
Case = tuple  # (tuple of input shapes, dict of keyword arguments)


# ---------------------------------------------------------------- element domains

@dataclass(frozen=True)
class Domain:
    """Where an input's elements are drawn from.

    ``elements`` draws each element independently; ``distinct`` instead makes
    every value of every input of the op different, at least ``GRID`` apart
    (max/min/maximum/minimum/max_pool2d, whose gradient jumps at ties).
    """

    name: str
    elements: Optional[st.SearchStrategy] = None
    distinct: bool = False


GRID = 0.04  # spacing of the distinct values, far above gradcheck's eps = 1e-6


def _floats(low: float, high: float) -> st.SearchStrategy:
    return st.floats(low, high, allow_nan=False, allow_infinity=False, width=64)


def _away_from(points: Sequence[float], margin: float, low: float = -3.0, high: float = 3.0) -> st.SearchStrategy:
    return _floats(low, high).filter(lambda v: all(abs(v - p) > margin for p in points))


REAL = Domain("real", _floats(-3.0, 3.0))
POSITIVE = Domain("positive", _floats(0.1, 3.0))                  # log, sqrt, divisors of one sign
NONZERO = Domain("nonzero", _away_from([0.0], 0.1))               # relu/abs/leaky_relu kinks, divisors
AWAY_FROM_CLIP_BOUNDS = Domain("away from +-0.5", _away_from([-0.5, 0.5], 0.1))
BASE = Domain("pow base", _floats(0.5, 2.5))
EXPONENT = Domain("pow exponent", _floats(-2.0, 2.0))
DISTINCT = Domain("distinct", distinct=True)

CLIP_LOW, CLIP_HIGH = -0.5, 0.5


# ---------------------------------------------------------------- the spec

@dataclass(frozen=True)
class OpSpec:
    """One differentiable op: how to call it, its NumPy formula, its inputs and its family."""

    name: str
    fn: Callable[..., Tensor]             # fn(*tensors, **params)
    reference: Callable[..., np.ndarray]  # reference(*arrays, **params)
    case: st.SearchStrategy               # draws (input shapes, params)
    domain: Union[Domain, tuple]          # one Domain for all inputs, or one per input
    family: str

    def domains(self, count: int) -> tuple:
        """One domain per input."""
        return self.domain if isinstance(self.domain, tuple) else (self.domain,) * count

    def __repr__(self) -> str:
        return f"OpSpec({self.name})"


@st.composite
def examples(draw: Any, op: OpSpec) -> tuple:
    """Concrete float64 inputs for ``op``: (list of arrays, params)."""
    input_shapes, params = draw(op.case)
    domains = op.domains(len(input_shapes))
    sizes = [math.prod(shape) for shape in input_shapes]
    distinct_total = sum(size for size, domain in zip(sizes, domains) if domain.distinct)
    pool = iter([])
    if distinct_total:
        grid = draw(st.permutations(range(-80, 81)))
        pool = iter(np.asarray(grid[:distinct_total], dtype=np.float64) * GRID)
    arrays = []
    for shape, size, domain in zip(input_shapes, sizes, domains):
        if domain.distinct:
            values = [next(pool) for _ in range(size)]
        else:
            values = draw(st.lists(domain.elements, min_size=size, max_size=size))
        arrays.append(np.asarray(values, dtype=np.float64).reshape(shape))
    return arrays, params


# ---------------------------------------------------------------- case strategies (shapes + params)

def small_shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1) -> st.SearchStrategy:
    """Shapes with every side at most MAX_SIDE."""
    return shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=MAX_SIDE)


@st.composite
def unary_case(draw: Any, min_dims: int = 0, **params: st.SearchStrategy) -> Case:
    """One input of any small shape (0-d included) and the given drawn params."""
    return (draw(small_shapes(min_dims=min_dims)),), {name: draw(value) for name, value in params.items()}


@st.composite
def broadcast_pair(draw: Any) -> Case:
    """Two shapes that broadcast together, in either order (one side may have fewer or size-1 axes)."""
    first = draw(small_shapes())
    second = draw(broadcastable_shapes(first, max_dims=3, max_side=MAX_SIDE))
    return ((first, second) if draw(st.booleans()) else (second, first)), {}


@st.composite
def scalar_operand_case(draw: Any, scalar: st.SearchStrategy) -> Case:
    """One tensor and a Python float ``scalar`` on the other side."""
    return (draw(small_shapes()),), {"scalar": draw(scalar)}


@st.composite
def axis_for(draw: Any, ndim: int, allow_tuple: bool = True) -> Any:
    """Every axis form: None, a non-negative int, a negative int, a tuple (mixed signs, any order)."""
    if ndim == 0:
        return None
    forms = ["none", "int", "negative"] + (["tuple"] if allow_tuple else [])
    form = draw(st.sampled_from(forms))
    if form == "none":
        return None
    if form == "int":
        return draw(st.integers(0, ndim - 1))
    if form == "negative":
        return draw(st.integers(-ndim, -1))
    chosen = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(axis - ndim if draw(st.booleans()) else axis for axis in chosen)


def normalized(axis: Any, ndim: int) -> Optional[tuple]:
    """An axis argument as a tuple of non-negative ints for NumPy (None stays None)."""
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, int) else axis
    return tuple(a % ndim for a in axes)


def reduced_count(shape: tuple, axis: Any) -> int:
    """How many elements each output of a reduction over ``axis`` combines."""
    axes = normalized(axis, len(shape))
    return math.prod(shape if axes is None else [shape[a] for a in axes])


@st.composite
def reduction_case(draw: Any, min_dims: int = 0, min_side: int = 1, allow_tuple: bool = True,
                   keepdim: bool = True) -> Case:
    """A shape, an axis in any form valid for it and keepdim True/False."""
    shape = draw(small_shapes(min_dims=min_dims, min_side=min_side))
    params = {"axis": draw(axis_for(len(shape), allow_tuple))}
    if keepdim:
        params["keepdim"] = draw(st.booleans())
    return (shape,), params


@st.composite
def variance_case(draw: Any) -> Case:
    """var/std: at least two elements per output so correction=1 and the sqrt stay finite."""
    (shape,), params = draw(reduction_case(min_dims=1))
    if reduced_count(shape, params["axis"]) < 2:
        params["axis"] = None
        shape = shape if math.prod(shape) >= 2 else shape[:-1] + (2,)
    params["correction"] = draw(st.sampled_from([0, 1]))
    return (shape,), params


@st.composite
def softmax_case(draw: Any) -> Case:
    """softmax/log_softmax take a single int axis, non-negative or negative."""
    shape = draw(small_shapes(min_dims=1))
    return (shape,), {"axis": draw(axis_for(len(shape), allow_tuple=False).filter(lambda a: a is not None))}


@st.composite
def where_case(draw: Any) -> Case:
    """where: a boolean condition and two branches, all three mutually broadcastable."""
    first = draw(small_shapes())
    second = draw(broadcastable_shapes(first, max_dims=3, max_side=MAX_SIDE))
    cond_shape = draw(broadcastable_shapes(np.broadcast_shapes(first, second), max_dims=3, max_side=MAX_SIDE))
    condition = np.asarray(draw(st.lists(st.booleans(), min_size=math.prod(cond_shape),
                                         max_size=math.prod(cond_shape)))).reshape(cond_shape)
    return (first, second), {"condition": condition}


@st.composite
def matmul_case(draw: Any) -> Case:
    """NumPy matmul forms: vector.vector, vector@matrix(es), matrix(es)@vector, 2-D, batched with broadcasting."""
    n, k, m = draw(st.integers(1, MAX_SIDE)), draw(st.integers(1, MAX_SIDE)), draw(st.integers(1, MAX_SIDE))
    batch = draw(shapes(min_dims=0, max_dims=2, max_side=3))
    other_batch = draw(broadcastable_shapes(batch, max_dims=2, max_side=3))
    form = draw(st.sampled_from(["1d@1d", "1d@nd", "nd@1d", "2d@2d", "batched"]))
    if form == "1d@1d":
        pair = ((k,), (k,))
    elif form == "1d@nd":
        pair = ((k,), batch + (k, m))
    elif form == "nd@1d":
        pair = (batch + (n, k), (k,))
    elif form == "2d@2d":
        pair = ((n, k), (k, m))
    else:
        pair = (batch + (n, k), other_batch + (k, m))
    return pair, {}


@st.composite
def reshape_case(draw: Any) -> Case:
    """A shape and a target of the same size, as ints or a tuple, maybe with one -1."""
    shape = draw(small_shapes())
    size = math.prod(shape)
    candidates = [(size,), (1, size), (size, 1), tuple(reversed(shape)), shape + (1,)]
    divisors = [d for d in range(1, size + 1) if size % d == 0]
    first = draw(st.sampled_from(divisors))
    candidates.append((first, size // first))
    target = list(draw(st.sampled_from(candidates)))
    if target and draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    return (shape,), {"target": tuple(target), "as_tuple": draw(st.booleans())}


def _numpy_reshape(x: np.ndarray, target: tuple, as_tuple: bool) -> np.ndarray:
    return x.reshape(target)


@st.composite
def flatten_case(draw: Any) -> Case:
    """flatten(start_dim), start_dim non-negative or negative."""
    shape = draw(small_shapes(min_dims=1))
    return (shape,), {"start_dim": draw(st.integers(-len(shape), len(shape) - 1))}


@st.composite
def permute_case(draw: Any) -> Case:
    """A permutation of the axes."""
    shape = draw(small_shapes(min_dims=1))
    return (shape,), {"order": tuple(draw(st.permutations(range(len(shape)))))}


@st.composite
def transpose_case(draw: Any) -> Case:
    """Two axes to swap, each non-negative or negative."""
    shape = draw(small_shapes(min_dims=2))
    ndim = len(shape)
    return (shape,), {"dim0": draw(st.integers(-ndim, ndim - 1)), "dim1": draw(st.integers(-ndim, ndim - 1))}


@st.composite
def squeeze_case(draw: Any) -> Case:
    """A shape with some size-1 axes and an axis argument: None, an int or a tuple (size-1 or not)."""
    shape = draw(shapes(min_dims=1, max_dims=4, max_side=3))
    return (shape,), {"axis": draw(axis_for(len(shape)))}


def _numpy_squeeze(x: np.ndarray, axis: Any) -> np.ndarray:
    axes = normalized(axis, x.ndim)
    axes = tuple(i for i in (range(x.ndim) if axes is None else axes) if x.shape[i] == 1)
    return np.squeeze(x, axis=axes)


@st.composite
def unsqueeze_case(draw: Any) -> Case:
    """unsqueeze(axis) with axis in [-ndim-1, ndim]."""
    shape = draw(small_shapes())
    return (shape,), {"axis": draw(st.integers(-len(shape) - 1, len(shape)))}


@st.composite
def expand_case(draw: Any) -> Case:
    """A shape with size-1 axes expanded to a larger shape (extra leading axes, -1 keeping a size)."""
    shape = draw(shapes(min_dims=0, max_dims=3, max_side=3))
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=3 - len(shape))))
    target = list(lead + tuple(draw(st.integers(1, 3)) if size == 1 else size for size in shape))
    for i in range(len(lead), len(target)):
        if target[i] == shape[i - len(lead)] and draw(st.booleans()):
            target[i] = -1
    return (shape,), {"target": tuple(target)}


def _numpy_expand(x: np.ndarray, target: tuple) -> np.ndarray:
    lead = len(target) - x.ndim
    full = tuple(x.shape[i - lead] if size == -1 else size for i, size in enumerate(target))
    return np.broadcast_to(x, full)


@st.composite
def pad_case(draw: Any) -> Case:
    """One (before, after) pair per axis and a fill value."""
    shape = draw(small_shapes(min_dims=1))
    widths = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in shape)
    return (shape,), {"pad_width": widths, "value": draw(st.sampled_from([0.0, -1.5]))}


@st.composite
def basic_index_case(draw: Any) -> Case:
    """Ints (also negative), non-empty slices with steps (also negative), None and ``...``."""
    shape = draw(small_shapes(min_dims=1))
    items: list = []
    for size in shape:
        kind = draw(st.sampled_from(["int", "slice", "slice", "full"]))
        if kind == "int":
            items.append(draw(st.integers(-size, size - 1)))
        elif kind == "full":
            items.append(slice(None))
        else:
            step = draw(st.sampled_from([1, 2, -1]))
            start = draw(st.integers(0, size - 1))
            items.append(slice(start, None, step))
    if draw(st.booleans()):
        items.insert(draw(st.integers(0, len(items))), None)
    if len(items) > 1 and draw(st.booleans()):  # replace a trailing run of full slices by ...
        items = items[:-1] + [Ellipsis] if items[-1] == slice(None) else items
    return (shape,), {"index": tuple(items)}


@st.composite
def integer_array_index_case(draw: Any) -> Case:
    """An integer array on axis 0 with repeated (and negative) entries, maybe 2-D, maybe with a trailing slice."""
    shape = draw(small_shapes(min_dims=1))
    count = draw(st.integers(1, 6))
    indices = np.asarray(draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=count, max_size=count)))
    if count % 2 == 0 and draw(st.booleans()):
        indices = indices.reshape(2, count // 2)
    index: tuple = (indices,)
    if len(shape) > 1 and draw(st.booleans()):
        index = (indices, slice(1, None) if shape[1] > 1 else slice(None))
    return (shape,), {"index": index}


@st.composite
def boolean_mask_case(draw: Any) -> Case:
    """A boolean mask over the leading axes (or the whole shape); at least one element selected."""
    shape = draw(small_shapes(min_dims=1))
    mask_dims = draw(st.integers(1, len(shape)))
    mask_shape = shape[:mask_dims]
    flags = draw(st.lists(st.booleans(), min_size=math.prod(mask_shape), max_size=math.prod(mask_shape)))
    flags[draw(st.integers(0, len(flags) - 1))] = True
    return (shape,), {"index": np.asarray(flags).reshape(mask_shape)}


@st.composite
def cat_case(draw: Any) -> Case:
    """2-3 tensors that agree except along ``axis`` (non-negative or negative)."""
    shape = draw(small_shapes(min_dims=1))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    count = draw(st.integers(2, 3))
    all_shapes = []
    for _ in range(count):
        sizes = list(shape)
        sizes[axis] = draw(st.integers(1, 3))
        all_shapes.append(tuple(sizes))
    return tuple(all_shapes), {"axis": axis}


@st.composite
def stack_case(draw: Any) -> Case:
    """2-3 tensors of one shape and a new axis in [-ndim-1, ndim]."""
    shape = draw(small_shapes())
    count = draw(st.integers(2, 3))
    return (shape,) * count, {"axis": draw(st.integers(-len(shape) - 1, len(shape)))}


def _pair(value: Any) -> tuple:
    return (value, value) if isinstance(value, int) else tuple(value)


@st.composite
def conv_case(draw: Any) -> Case:
    """NCHW input, OIHW weight, optional bias; stride and padding as ints or pairs."""
    batch, channels, out_channels = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = draw(st.sampled_from([1, 2, (1, 2), (2, 1)]))
    padding = draw(st.sampled_from([0, 1, (1, 0)]))
    pad_h, pad_w = _pair(padding)
    height = draw(st.integers(max(1, kernel[0] - 2 * pad_h), 4))
    width = draw(st.integers(max(1, kernel[1] - 2 * pad_w), 4))
    input_shapes = [(batch, channels, height, width), (out_channels, channels) + kernel]
    if draw(st.booleans()):
        input_shapes.append((out_channels,))
    return tuple(input_shapes), {"stride": stride, "padding": padding}


@st.composite
def pool_case(draw: Any) -> Case:
    """NCHW input, kernel_size (int or pair), stride None / int / pair."""
    kernel = draw(st.sampled_from([1, 2, 3, (2, 1), (1, 3)]))
    kernel_h, kernel_w = _pair(kernel)
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)),
             draw(st.integers(kernel_h, 4)), draw(st.integers(kernel_w, 4)))
    return (shape,), {"kernel_size": kernel, "stride": draw(st.sampled_from([None, 1, 2, (1, 2)]))}


# ---------------------------------------------------------------- NumPy references

def conv2d_reference(x: np.ndarray, w: np.ndarray, b: Optional[np.ndarray] = None, stride: Any = 1,
                     padding: Any = 0) -> np.ndarray:
    """Cross-correlation by explicit loops over output positions (NCHW, OIHW)."""
    (stride_h, stride_w), (pad_h, pad_w) = _pair(stride), _pair(padding)
    x = np.pad(x, ((0, 0), (0, 0), (pad_h, pad_h), (pad_w, pad_w)))
    kernel_h, kernel_w = w.shape[2:]
    out_h = (x.shape[2] - kernel_h) // stride_h + 1
    out_w = (x.shape[3] - kernel_w) // stride_w + 1
    out = np.zeros((x.shape[0], w.shape[0], out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            patch = x[:, :, i * stride_h: i * stride_h + kernel_h, j * stride_w: j * stride_w + kernel_w]
            out[:, :, i, j] = np.einsum("nchw,ochw->no", patch, w)
    return out if b is None else out + b[None, :, None, None]


def pool_reference(reduce: Callable) -> Callable:
    """max/avg pooling by explicit loops over windows."""
    def pool(x: np.ndarray, kernel_size: Any, stride: Any = None) -> np.ndarray:
        kernel_h, kernel_w = _pair(kernel_size)
        stride_h, stride_w = _pair(kernel_size if stride is None else stride)
        out_h = (x.shape[2] - kernel_h) // stride_h + 1
        out_w = (x.shape[3] - kernel_w) // stride_w + 1
        out = np.zeros(x.shape[:2] + (out_h, out_w))
        for i in range(out_h):
            for j in range(out_w):
                window = x[:, :, i * stride_h: i * stride_h + kernel_h, j * stride_w: j * stride_w + kernel_w]
                out[:, :, i, j] = reduce(window, axis=(2, 3))
        return out
    return pool


def _gelu_tanh(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    exps = np.exp(x - x.max(axis=axis, keepdims=True))
    return exps / exps.sum(axis=axis, keepdims=True)


def _reduce(numpy_fn: Callable) -> Callable:
    def reference(x: np.ndarray, axis: Any = None, keepdim: bool = False, **kw: Any) -> np.ndarray:
        return numpy_fn(x, axis=normalized(axis, x.ndim), keepdims=keepdim, **kw)
    return reference


def _logsumexp(x: np.ndarray, axis: Any = None, keepdim: bool = False) -> np.ndarray:
    return np.log(np.sum(np.exp(x), axis=normalized(axis, x.ndim), keepdims=keepdim))


def _var(x: np.ndarray, axis: Any = None, keepdim: bool = False, correction: int = 1) -> np.ndarray:
    return np.var(x, axis=normalized(axis, x.ndim), keepdims=keepdim, ddof=correction)


def _std(x: np.ndarray, axis: Any = None, keepdim: bool = False, correction: int = 1) -> np.ndarray:
    return np.std(x, axis=normalized(axis, x.ndim), keepdims=keepdim, ddof=correction)


# ---------------------------------------------------------------- the table

_scalar = _floats(-2.0, 2.0)
_nonzero_scalar = _away_from([0.0], 0.25, -2.0, 2.0)

OPS: list = [
    # --- elementwise: arithmetic, tensor-tensor with broadcasting and with Python scalars on either side
    OpSpec("add", lambda a, b: a + b, np.add, broadcast_pair(), REAL, "elementwise"),
    OpSpec("add_scalar", lambda a, scalar: a + scalar, lambda a, scalar: a + scalar,
           scalar_operand_case(_scalar), REAL, "elementwise"),
    OpSpec("radd_scalar", lambda a, scalar: scalar + a, lambda a, scalar: scalar + a,
           scalar_operand_case(_scalar), REAL, "elementwise"),
    OpSpec("sub", lambda a, b: a - b, np.subtract, broadcast_pair(), REAL, "elementwise"),
    OpSpec("sub_scalar", lambda a, scalar: a - scalar, lambda a, scalar: a - scalar,
           scalar_operand_case(_scalar), REAL, "elementwise"),
    OpSpec("rsub_scalar", lambda a, scalar: scalar - a, lambda a, scalar: scalar - a,
           scalar_operand_case(_scalar), REAL, "elementwise"),
    OpSpec("mul", lambda a, b: a * b, np.multiply, broadcast_pair(), REAL, "elementwise"),
    OpSpec("mul_scalar", lambda a, scalar: a * scalar, lambda a, scalar: a * scalar,
           scalar_operand_case(_scalar), REAL, "elementwise"),
    OpSpec("rmul_scalar", lambda a, scalar: scalar * a, lambda a, scalar: scalar * a,
           scalar_operand_case(_scalar), REAL, "elementwise"),
    OpSpec("div", lambda a, b: a / b, np.divide, broadcast_pair(), (REAL, NONZERO), "elementwise"),
    OpSpec("div_scalar", lambda a, scalar: a / scalar, lambda a, scalar: a / scalar,
           scalar_operand_case(_nonzero_scalar), REAL, "elementwise"),
    OpSpec("rdiv_scalar", lambda a, scalar: scalar / a, lambda a, scalar: scalar / a,
           scalar_operand_case(_scalar), NONZERO, "elementwise"),
    OpSpec("pow", lambda a, b: a ** b, np.power, broadcast_pair(), (BASE, EXPONENT), "elementwise"),
    OpSpec("pow_scalar", lambda a, scalar: a ** scalar, lambda a, scalar: a ** scalar,
           scalar_operand_case(st.sampled_from([2, 3, -1, 0.5, 1.5, -2.5, 0])), BASE, "elementwise"),
    OpSpec("pow_integer_negative_base", lambda a, scalar: a ** scalar, lambda a, scalar: a ** scalar,
           scalar_operand_case(st.sampled_from([1, 2, 3, -1, -2])), NONZERO, "elementwise"),
    OpSpec("rpow_scalar", lambda a, scalar: scalar ** a, lambda a, scalar: scalar ** a,
           scalar_operand_case(_floats(0.5, 3.0)), REAL, "elementwise"),
    OpSpec("neg", lambda a: -a, np.negative, unary_case(), REAL, "elementwise"),
    # --- elementwise: math functions
    OpSpec("exp", lambda a: a.exp(), np.exp, unary_case(), REAL, "elementwise"),
    OpSpec("log", lambda a: a.log(), np.log, unary_case(), POSITIVE, "elementwise"),
    OpSpec("sqrt", lambda a: a.sqrt(), np.sqrt, unary_case(), POSITIVE, "elementwise"),
    OpSpec("abs", lambda a: a.abs(), np.abs, unary_case(), NONZERO, "elementwise"),
    OpSpec("relu", lambda a: a.relu(), lambda a: np.maximum(a, 0.0), unary_case(), NONZERO, "elementwise"),
    OpSpec("leaky_relu", lambda a, slope: a.leaky_relu(slope), lambda a, slope: np.where(a > 0, a, slope * a),
           unary_case(slope=st.sampled_from([0.01, 0.2])), NONZERO, "elementwise"),
    OpSpec("sigmoid", lambda a: a.sigmoid(), lambda a: 1.0 / (1.0 + np.exp(-a)), unary_case(), REAL, "elementwise"),
    OpSpec("tanh", lambda a: a.tanh(), np.tanh, unary_case(), REAL, "elementwise"),
    OpSpec("softplus", lambda a: a.softplus(), lambda a: np.log1p(np.exp(a)), unary_case(), REAL, "elementwise"),
    OpSpec("gelu", lambda a: a.gelu(), _gelu_tanh, unary_case(), REAL, "elementwise"),
    OpSpec("clip", lambda a, low, high: a.clip(low, high), lambda a, low, high: np.clip(a, low, high),
           unary_case(low=st.sampled_from([CLIP_LOW, None]), high=st.sampled_from([CLIP_HIGH, None]))
           .filter(lambda case: case[1]["low"] is not None or case[1]["high"] is not None),
           AWAY_FROM_CLIP_BOUNDS, "elementwise"),
    OpSpec("maximum", lambda a, b: a.maximum(b), np.maximum, broadcast_pair(), DISTINCT, "elementwise"),
    OpSpec("minimum", lambda a, b: a.minimum(b), np.minimum, broadcast_pair(), DISTINCT, "elementwise"),
    OpSpec("where", lambda a, b, condition: Tensor.where(condition, a, b),
           lambda a, b, condition: np.where(condition, a, b), where_case(), REAL, "elementwise"),
    # --- reductions (every axis form, keepdim both ways)
    OpSpec("sum", lambda a, axis, keepdim: a.sum(axis=axis, keepdim=keepdim), _reduce(np.sum),
           reduction_case(), REAL, "reduction"),
    OpSpec("mean", lambda a, axis, keepdim: a.mean(axis=axis, keepdim=keepdim), _reduce(np.mean),
           reduction_case(), REAL, "reduction"),
    OpSpec("max", lambda a, axis, keepdim: a.max(axis=axis, keepdim=keepdim), _reduce(np.max),
           reduction_case(), DISTINCT, "reduction"),
    OpSpec("min", lambda a, axis, keepdim: a.min(axis=axis, keepdim=keepdim), _reduce(np.min),
           reduction_case(), DISTINCT, "reduction"),
    OpSpec("var", lambda a, axis, keepdim, correction: a.var(axis=axis, keepdim=keepdim, correction=correction),
           _var, variance_case(), REAL, "reduction"),
    OpSpec("std", lambda a, axis, keepdim, correction: a.std(axis=axis, keepdim=keepdim, correction=correction),
           _std, variance_case(), DISTINCT, "reduction"),
    OpSpec("logsumexp", lambda a, axis, keepdim: a.logsumexp(axis=axis, keepdim=keepdim), _logsumexp,
           reduction_case(), REAL, "reduction"),
    OpSpec("softmax", lambda a, axis: a.softmax(axis=axis), _softmax, softmax_case(), REAL, "reduction"),
    OpSpec("log_softmax", lambda a, axis: a.log_softmax(axis=axis), lambda a, axis: np.log(_softmax(a, axis)),
           softmax_case(), REAL, "reduction"),
    # --- matmul (1-D either side, 2-D, batched with broadcasting)
    OpSpec("matmul", lambda a, b: a @ b, np.matmul, matmul_case(), REAL, "matmul"),
    OpSpec("matmul_method", lambda a, b: a.matmul(b), np.matmul, matmul_case(), REAL, "matmul"),
    # --- movement
    OpSpec("reshape", lambda a, target, as_tuple: a.reshape(target) if as_tuple else a.reshape(*target),
           _numpy_reshape, reshape_case(), REAL, "movement"),
    OpSpec("flatten", lambda a, start_dim: a.flatten(start_dim),
           lambda a, start_dim: a.reshape(a.shape[:start_dim % a.ndim] + (-1,)), flatten_case(), REAL, "movement"),
    OpSpec("permute", lambda a, order: a.permute(*order), lambda a, order: np.transpose(a, order),
           permute_case(), REAL, "movement"),
    OpSpec("transpose", lambda a, dim0, dim1: a.transpose(dim0, dim1), lambda a, dim0, dim1: np.swapaxes(a, dim0, dim1),
           transpose_case(), REAL, "movement"),
    OpSpec("T", lambda a: a.T, lambda a: a.T, unary_case(), REAL, "movement"),
    OpSpec("squeeze", lambda a, axis: a.squeeze(axis), _numpy_squeeze, squeeze_case(), REAL, "movement"),
    OpSpec("unsqueeze", lambda a, axis: a.unsqueeze(axis), np.expand_dims, unsqueeze_case(), REAL, "movement"),
    OpSpec("expand", lambda a, target: a.expand(*target), _numpy_expand, expand_case(), REAL, "movement"),
    OpSpec("pad", lambda a, pad_width, value: a.pad(pad_width, value=value),
           lambda a, pad_width, value: np.pad(a, pad_width, constant_values=value), pad_case(), REAL, "movement"),
    OpSpec("getitem_basic", lambda a, index: a[index], lambda a, index: a[index], basic_index_case(), REAL,
           "movement"),
    OpSpec("getitem_int_array", lambda a, index: a[index], lambda a, index: a[index], integer_array_index_case(),
           REAL, "movement"),
    OpSpec("getitem_bool_mask", lambda a, index: a[index], lambda a, index: a[index], boolean_mask_case(), REAL,
           "movement"),
    OpSpec("cat", lambda *ts, axis: Tensor.cat(list(ts), axis=axis), lambda *xs, axis: np.concatenate(xs, axis=axis),
           cat_case(), REAL, "movement"),
    OpSpec("stack", lambda *ts, axis: Tensor.stack(list(ts), axis=axis), lambda *xs, axis: np.stack(xs, axis=axis),
           stack_case(), REAL, "movement"),
    # --- convolution and pooling
    OpSpec("conv2d", lambda x, w, *bias, stride, padding: x.conv2d(w, bias[0] if bias else None, stride=stride,
                                                                 padding=padding),
           conv2d_reference, conv_case(), REAL, "conv"),
    OpSpec("max_pool2d", lambda x, kernel_size, stride: x.max_pool2d(kernel_size, stride=stride),
           pool_reference(np.max), pool_case(), DISTINCT, "conv"),
    OpSpec("avg_pool2d", lambda x, kernel_size, stride: x.avg_pool2d(kernel_size, stride=stride),
           pool_reference(np.mean), pool_case(), REAL, "conv"),
]

# ---------------------------------------------------------------- issue 11: language-model blocks and more math

UNIT_OPEN = Domain("inside (-0.9, 0.9)", _floats(-0.9, 0.9))           # asin, acos, atanh
ABOVE_ONE = Domain("above 1.1", _floats(1.1, 3.0))                    # acosh
ABOVE_MINUS_ONE = Domain("above -0.9", _floats(-0.9, 3.0))            # log1p
TAN_DOMAIN = Domain("inside (-1.2, 1.2)", _floats(-1.2, 1.2))         # tan, away from its poles
AWAY_FROM_STEPS = Domain("away from multiples of 0.5", _away_from([k / 2 for k in range(-6, 7)], 0.05))
AWAY_FROM_RELU6_KINKS = Domain("away from 0 and 6", _away_from([0.0, 6.0], 0.1, -2.0, 8.0))
AWAY_FROM_HARD_KINKS = Domain("away from +-3", _away_from([-3.0, 3.0], 0.1, -5.0, 5.0))
WITH_ZEROS = Domain("real, often exactly 0", st.one_of(st.just(0.0), _floats(-2.0, 2.0)))


@st.composite
def masked_fill_case(draw: Any) -> Case:
    """A shape, a boolean mask broadcastable to it and a fill value (also -inf, as attention masks use)."""
    shape = draw(small_shapes())
    mask_shape = draw(broadcastable_shapes(shape, max_dims=len(shape), max_side=MAX_SIDE)
                      .filter(lambda m: np.broadcast_shapes(m, shape) == shape))
    size = math.prod(mask_shape)
    mask = np.asarray(draw(st.lists(st.booleans(), min_size=size, max_size=size))).reshape(mask_shape)
    return (shape,), {"mask": mask, "value": draw(st.sampled_from([0.0, -1.5, -math.inf]))}


def _masked_fill_gradient_safe(a: Tensor, mask: np.ndarray, value: float) -> Tensor:
    out = a.masked_fill(mask, value)
    return out.masked_fill(mask, 0.0) if value == -math.inf else out  # keep -inf out of finite differences


@st.composite
def triangle_case(draw: Any) -> Case:
    """At least 2-D (a batch of matrices) and a diagonal offset above or below."""
    return (draw(small_shapes(min_dims=2)),), {"diagonal": draw(st.integers(-2, 2))}


@st.composite
def split_case(draw: Any) -> Case:
    """A dim and either a piece size or a list of section sizes summing to that dim's length."""
    shape = draw(small_shapes(min_dims=1))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    length = shape[dim]
    if draw(st.booleans()):
        sections: Any = draw(st.integers(1, length + 1))
    else:
        cuts = sorted(draw(st.lists(st.integers(0, length), max_size=3)))
        sections = [b - a for a, b in zip([0] + cuts, cuts + [length])]
    return (shape,), {"sections": sections, "dim": dim}


def _weighted_cat(pieces: Sequence, dim: int, cat: Callable) -> Any:
    """The pieces joined again, each scaled by its position + 1 (so a gradient sent to the wrong piece shows)."""
    return cat([piece * float(i + 1) for i, piece in enumerate(pieces)], dim)


def _numpy_split(a: np.ndarray, sections: Any, dim: int) -> list:
    bounds = list(range(sections, a.shape[dim], sections)) if isinstance(sections, int) else \
        list(np.cumsum(sections)[:-1])
    return np.split(a, bounds, axis=dim)


@st.composite
def chunk_case(draw: Any) -> Case:
    shape = draw(small_shapes(min_dims=1))
    return (shape,), {"chunks": draw(st.integers(1, 5)), "dim": draw(st.integers(-len(shape), len(shape) - 1))}


def _numpy_chunk(a: np.ndarray, chunks: int, dim: int) -> list:
    size = -(-a.shape[dim] // chunks)
    return _numpy_split(a, size, dim)


@st.composite
def one_dim_case(draw: Any, min_dims: int = 1) -> Case:
    """A shape and one dim in it (non-negative or negative)."""
    shape = draw(small_shapes(min_dims=min_dims))
    return (shape,), {"dim": draw(st.integers(-len(shape), len(shape) - 1))}


_EINSUM_FORMS = [  # (subscripts, shapes as functions of sizes n, m, k)
    ("ij,jk->ik", lambda n, m, k: [(n, m), (m, k)]),
    ("bij,bjk->bik", lambda n, m, k: [(2, n, m), (2, m, k)]),
    ("ii->i", lambda n, m, k: [(n, n)]),
    ("ii", lambda n, m, k: [(n, n)]),
    ("ij->", lambda n, m, k: [(n, m)]),
    ("ij->ji", lambda n, m, k: [(n, m)]),
    ("i,i", lambda n, m, k: [(n,), (n,)]),
    ("i,j->ij", lambda n, m, k: [(n,), (m,)]),
    ("ij,j", lambda n, m, k: [(n, m), (m,)]),
    ("iij,k->jk", lambda n, m, k: [(n, n, m), (k,)]),
    ("...ij,...jk->...ik", lambda n, m, k: [(2, n, m), (m, k)]),
    ("bhtd,bhsd->bhts", lambda n, m, k: [(1, 2, n, m), (1, 2, k, m)]),
]


@st.composite
def einsum_case(draw: Any) -> Case:
    subscripts, make = draw(st.sampled_from(_EINSUM_FORMS))
    sizes = [draw(st.integers(1, 3)) for _ in range(3)]
    return tuple(make(*sizes)), {"subscripts": subscripts}


@st.composite
def tensordot_case(draw: Any) -> Case:
    """Two shapes sharing ``dims`` trailing/leading sizes, or explicit pairs of axes."""
    shared = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    left = tuple(draw(st.lists(st.integers(1, 3), max_size=2))) + shared
    right = shared + tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    if shared and draw(st.booleans()):
        dims: Any = (list(range(len(left) - len(shared), len(left))), list(range(len(shared))))
    else:
        dims = len(shared)
    return (left, right), {"dims": dims}


@st.composite
def outer_case(draw: Any) -> Case:
    return ((draw(st.integers(1, MAX_SIDE)),), (draw(st.integers(1, MAX_SIDE)),)), {}


@st.composite
def repeat_interleave_case(draw: Any) -> Case:
    shape = draw(small_shapes(min_dims=1))
    dim = draw(st.sampled_from([None] + list(range(-len(shape), len(shape)))))
    if dim is not None and draw(st.booleans()):
        repeats: Any = draw(st.lists(st.integers(0, 3), min_size=shape[dim], max_size=shape[dim]))
    else:
        repeats = draw(st.integers(0, 3))
    return (shape,), {"repeats": repeats, "dim": dim}


def _numpy_repeat_interleave(a: np.ndarray, repeats: Any, dim: Any) -> np.ndarray:
    return np.repeat(a, repeats, axis=dim) if dim is not None else np.repeat(a.reshape(-1), repeats)


@st.composite
def roll_case(draw: Any) -> Case:
    shape = draw(small_shapes(min_dims=1))
    if draw(st.booleans()):
        return (shape,), {"shifts": draw(st.integers(-5, 5)), "dims": None}
    dims = draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape), unique=True))
    return (shape,), {"shifts": tuple(draw(st.integers(-5, 5)) for _ in dims), "dims": tuple(dims)}


def _numpy_roll(a: np.ndarray, shifts: Any, dims: Any) -> np.ndarray:
    return np.roll(a, shifts, axis=dims)


@st.composite
def flip_case(draw: Any) -> Case:
    shape = draw(small_shapes(min_dims=1))
    dims = draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1, max_size=len(shape),
                         unique_by=lambda d: d % len(shape)))
    return (shape,), {"dims": tuple(dims)}


@st.composite
def diagonal_case(draw: Any) -> Case:
    shape = draw(small_shapes(min_dims=2))
    ndim = len(shape)
    dim1, dim2 = draw(st.lists(st.integers(0, ndim - 1), min_size=2, max_size=2, unique=True))
    return (shape,), {"offset": draw(st.integers(-2, 2)), "dim1": dim1 - ndim * draw(st.integers(0, 1)), "dim2": dim2}


@st.composite
def diag_embed_case(draw: Any) -> Case:
    shape = draw(small_shapes(min_dims=1, max_dims=2))
    ndim = len(shape) + 1
    dim1, dim2 = draw(st.lists(st.integers(0, ndim - 1), min_size=2, max_size=2, unique=True))
    return (shape,), {"offset": draw(st.integers(-2, 2)), "dim1": dim1, "dim2": dim2 - ndim * draw(st.integers(0, 1))}


def _numpy_diag_embed(a: np.ndarray, offset: int, dim1: int, dim2: int) -> np.ndarray:
    size = a.shape[-1] + abs(offset)
    out = np.zeros(a.shape[:-1] + (size, size))
    steps = np.arange(a.shape[-1])
    out[..., steps + max(-offset, 0), steps + max(offset, 0)] = a
    return np.moveaxis(out, (-2, -1), (dim1, dim2))


@st.composite
def topk_case(draw: Any) -> Case:
    shape = draw(small_shapes(min_dims=1))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    return (shape,), {"k": draw(st.integers(0, shape[dim])), "dim": dim, "largest": draw(st.booleans())}


def _numpy_topk(a: np.ndarray, k: int, dim: int, largest: bool) -> np.ndarray:
    ordered = np.sort(a, axis=dim)
    ordered = np.flip(ordered, axis=dim) if largest else ordered
    return np.take(ordered, np.arange(k), axis=dim)


@st.composite
def conv1d_case(draw: Any) -> Case:
    """NCL input, OCK weight, optional bias; stride and padding ints."""
    batch, channels, out_channels = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 3))
    kernel, padding = draw(st.integers(1, 3)), draw(st.integers(0, 1))
    length = draw(st.integers(max(1, kernel - 2 * padding), 5))
    input_shapes = [(batch, channels, length), (out_channels, channels, kernel)]
    if draw(st.booleans()):
        input_shapes.append((out_channels,))
    return tuple(input_shapes), {"stride": draw(st.integers(1, 2)), "padding": padding}


def conv1d_reference(x: np.ndarray, w: np.ndarray, b: Optional[np.ndarray] = None, stride: int = 1,
                     padding: int = 0) -> np.ndarray:
    return conv2d_reference(x[:, :, None], w[:, :, None], b, (1, stride), (0, padding))[:, :, 0]


def _prod(x: np.ndarray, axis: Any = None, keepdim: bool = False) -> np.ndarray:
    return np.prod(x, axis=normalized(axis, x.ndim), keepdims=keepdim)


def _selu(a: np.ndarray) -> np.ndarray:
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    return scale * np.where(a > 0, a, alpha * np.expm1(np.minimum(a, 0)))


def _erf_reference(a: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erf, otypes=[np.float64])(a)


OPS += [
    # --- elementwise math
    OpSpec("sin", lambda a: a.sin(), np.sin, unary_case(), REAL, "elementwise"),
    OpSpec("cos", lambda a: a.cos(), np.cos, unary_case(), REAL, "elementwise"),
    OpSpec("tan", lambda a: a.tan(), np.tan, unary_case(), TAN_DOMAIN, "elementwise"),
    OpSpec("sinh", lambda a: a.sinh(), np.sinh, unary_case(), REAL, "elementwise"),
    OpSpec("cosh", lambda a: a.cosh(), np.cosh, unary_case(), REAL, "elementwise"),
    OpSpec("asin", lambda a: a.asin(), np.arcsin, unary_case(), UNIT_OPEN, "elementwise"),
    OpSpec("acos", lambda a: a.acos(), np.arccos, unary_case(), UNIT_OPEN, "elementwise"),
    OpSpec("atan", lambda a: a.atan(), np.arctan, unary_case(), REAL, "elementwise"),
    OpSpec("asinh", lambda a: a.asinh(), np.arcsinh, unary_case(), REAL, "elementwise"),
    OpSpec("acosh", lambda a: a.acosh(), np.arccosh, unary_case(), ABOVE_ONE, "elementwise"),
    OpSpec("atanh", lambda a: a.atanh(), np.arctanh, unary_case(), UNIT_OPEN, "elementwise"),
    OpSpec("log1p", lambda a: a.log1p(), np.log1p, unary_case(), ABOVE_MINUS_ONE, "elementwise"),
    OpSpec("expm1", lambda a: a.expm1(), np.expm1, unary_case(), REAL, "elementwise"),
    OpSpec("log2", lambda a: a.log2(), np.log2, unary_case(), POSITIVE, "elementwise"),
    OpSpec("log10", lambda a: a.log10(), np.log10, unary_case(), POSITIVE, "elementwise"),
    OpSpec("exp2", lambda a: a.exp2(), np.exp2, unary_case(), REAL, "elementwise"),
    OpSpec("square", lambda a: a.square(), np.square, unary_case(), REAL, "elementwise"),
    OpSpec("reciprocal", lambda a: a.reciprocal(), np.reciprocal, unary_case(), NONZERO, "elementwise"),
    OpSpec("rsqrt", lambda a: a.rsqrt(), lambda a: 1.0 / np.sqrt(a), unary_case(), POSITIVE, "elementwise"),
    OpSpec("erf", lambda a: a.erf(), _erf_reference, unary_case(), REAL, "elementwise"),
    OpSpec("sign", lambda a: a.sign(), np.sign, unary_case(), NONZERO, "elementwise"),
    OpSpec("floor", lambda a: a.floor(), np.floor, unary_case(), AWAY_FROM_STEPS, "elementwise"),
    OpSpec("ceil", lambda a: a.ceil(), np.ceil, unary_case(), AWAY_FROM_STEPS, "elementwise"),
    OpSpec("round", lambda a: a.round(), np.round, unary_case(), AWAY_FROM_STEPS, "elementwise"),
    # --- activations
    OpSpec("relu6", lambda a: a.relu6(), lambda a: np.clip(a, 0.0, 6.0), unary_case(), AWAY_FROM_RELU6_KINKS,
           "elementwise"),
    OpSpec("hardsigmoid", lambda a: a.hardsigmoid(), lambda a: np.clip(a + 3.0, 0.0, 6.0) / 6.0, unary_case(),
           AWAY_FROM_HARD_KINKS, "elementwise"),
    OpSpec("hardswish", lambda a: a.hardswish(), lambda a: a * np.clip(a + 3.0, 0.0, 6.0) / 6.0, unary_case(),
           AWAY_FROM_HARD_KINKS, "elementwise"),
    OpSpec("mish", lambda a: a.mish(), lambda a: a * np.tanh(np.log1p(np.exp(a))), unary_case(), REAL, "elementwise"),
    OpSpec("elu", lambda a, alpha: a.elu(alpha), lambda a, alpha: np.where(a > 0, a, alpha * np.expm1(np.minimum(a, 0))),
           unary_case(alpha=st.sampled_from([1.0, 0.5])), NONZERO, "elementwise"),
    OpSpec("selu", lambda a: a.selu(), _selu, unary_case(), NONZERO, "elementwise"),
    OpSpec("logsigmoid", lambda a: a.logsigmoid(), lambda a: -np.log1p(np.exp(-a)), unary_case(), REAL, "elementwise"),
    OpSpec("softsign", lambda a: a.softsign(), lambda a: a / (1.0 + np.abs(a)), unary_case(), NONZERO, "elementwise"),
    OpSpec("masked_fill", _masked_fill_gradient_safe,
           lambda a, mask, value: np.where(mask, 0.0 if value == -math.inf else value, a), masked_fill_case(), REAL,
           "elementwise"),
    OpSpec("tril", lambda a, diagonal: a.tril(diagonal), lambda a, diagonal: np.tril(a, diagonal), triangle_case(),
           REAL, "elementwise"),
    OpSpec("triu", lambda a, diagonal: a.triu(diagonal), lambda a, diagonal: np.triu(a, diagonal), triangle_case(),
           REAL, "elementwise"),
    # --- reductions and scans
    OpSpec("prod", lambda a, axis, keepdim: a.prod(axis, keepdim=keepdim), _prod, reduction_case(), WITH_ZEROS,
           "reduction"),
    OpSpec("cumsum", lambda a, dim: a.cumsum(dim), lambda a, dim: np.cumsum(a, axis=dim), one_dim_case(), REAL,
           "reduction"),
    OpSpec("trace", lambda a: a.trace(), np.trace, st.tuples(st.tuples(shapes(2, 2, max_side=MAX_SIDE)), st.just({})),
           REAL, "reduction"),
    # --- products
    OpSpec("einsum", lambda *ts, subscripts: Tensor.einsum(subscripts, *ts),
           lambda *xs, subscripts: np.einsum(subscripts, *xs), einsum_case(), REAL, "matmul"),
    OpSpec("tensordot", lambda a, b, dims: a.tensordot(b, dims), lambda a, b, dims: np.tensordot(a, b, dims),
           tensordot_case(), REAL, "matmul"),
    OpSpec("outer", lambda a, b: a.outer(b), np.outer, outer_case(), REAL, "matmul"),
    # --- movement
    OpSpec("split", lambda a, sections, dim: _weighted_cat(a.split(sections, dim), dim, Tensor.cat),
           lambda a, sections, dim: _weighted_cat(_numpy_split(a, sections, dim), dim, np.concatenate),
           split_case(), REAL, "movement"),
    OpSpec("chunk", lambda a, chunks, dim: _weighted_cat(a.chunk(chunks, dim), dim, Tensor.cat),
           lambda a, chunks, dim: _weighted_cat(_numpy_chunk(a, chunks, dim), dim, np.concatenate),
           chunk_case(), REAL, "movement"),
    OpSpec("repeat_interleave", lambda a, repeats, dim: a.repeat_interleave(repeats, dim), _numpy_repeat_interleave,
           repeat_interleave_case(), REAL, "movement"),
    OpSpec("roll", lambda a, shifts, dims: a.roll(shifts, dims), _numpy_roll, roll_case(), REAL, "movement"),
    OpSpec("flip", lambda a, dims: a.flip(dims), lambda a, dims: np.flip(a, dims), flip_case(), REAL, "movement"),
    OpSpec("diagonal", lambda a, offset, dim1, dim2: a.diagonal(offset, dim1, dim2),
           lambda a, offset, dim1, dim2: np.diagonal(a, offset, dim1, dim2), diagonal_case(), REAL, "movement"),
    OpSpec("diag_embed", lambda a, offset, dim1, dim2: a.diag_embed(offset, dim1, dim2), _numpy_diag_embed,
           diag_embed_case(), REAL, "movement"),
    OpSpec("sort", lambda a, dim, descending: a.sort(dim, descending)[0],
           lambda a, dim, descending: np.flip(np.sort(a, axis=dim), dim) if descending else np.sort(a, axis=dim),
           one_dim_case().map(lambda case: (case[0], {**case[1], "descending": case[1]["dim"] % 2 == 0})),
           DISTINCT, "movement"),
    OpSpec("topk", lambda a, k, dim, largest: a.topk(k, dim, largest)[0], _numpy_topk, topk_case(), DISTINCT,
           "movement"),
    # --- convolution
    OpSpec("conv1d", lambda x, w, *bias, stride, padding: x.conv1d(w, bias[0] if bias else None, stride=stride,
                                                                 padding=padding),
           conv1d_reference, conv1d_case(), REAL, "conv"),
]


# ---------------------------------------------------------------- fused primitives (issue 11 item 7: speed)

@st.composite
def layer_norm_case(draw: Any) -> Case:
    """x of 1-3 dims, normalised over its last 1 or 2 axes; weight and bias of that shape."""
    shape = draw(small_shapes(min_dims=1, max_dims=3))
    normalized = shape[len(shape) - draw(st.integers(1, min(2, len(shape)))):]
    return (shape, normalized, normalized), {}


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    axes = tuple(range(x.ndim - w.ndim, x.ndim))
    centered = x - x.mean(axis=axes, keepdims=True)
    return centered / np.sqrt((centered ** 2).mean(axis=axes, keepdims=True) + 1e-5) * w + b


@st.composite
def im2col_case(draw: Any) -> Case:
    """An NCHW image and a kernel, stride and padding (pairs) that fit it."""
    batch, channels = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 1)), draw(st.integers(0, 1)))
    height = draw(st.integers(max(1, kernel[0] - 2 * padding[0]), 4))
    width = draw(st.integers(max(1, kernel[1] - 2 * padding[1]), 4))
    return ((batch, channels, height, width),), {"kernel": kernel, "stride": stride, "padding": padding}


def _im2col(x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple) -> np.ndarray:
    """Patch rows by explicit loops: one row per (n, out_y, out_x), flattened (KH, KW, C)."""
    x = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    out_h, out_w = (x.shape[2] - kernel[0]) // stride[0] + 1, (x.shape[3] - kernel[1]) // stride[1] + 1
    rows = []
    for n in range(x.shape[0]):
        for i in range(out_h):
            for j in range(out_w):
                patch = x[n, :, i * stride[0]: i * stride[0] + kernel[0], j * stride[1]: j * stride[1] + kernel[1]]
                rows.append(patch.transpose(1, 2, 0).ravel())
    return np.array(rows).reshape(len(rows), -1)


def col2im_case() -> st.SearchStrategy:
    """Rows shaped as `im2col_case`'s image gives, with that image's shape as the target."""
    def rows_for(case: Case) -> Case:
        (shape,), params = case
        rows = _im2col(np.zeros(shape), **params).shape
        return (rows,), {"shape": shape, **params}
    return im2col_case().map(rows_for)


def _col2im(rows: np.ndarray, shape: tuple, kernel: tuple, stride: tuple, padding: tuple) -> np.ndarray:
    """The adjoint of `_im2col`: its transpose applied to the rows, by one column at a time."""
    size = int(np.prod(shape))
    matrix = np.stack([_im2col(np.eye(size)[k].reshape(shape), kernel, stride, padding).ravel() for k in range(size)])
    return (matrix @ rows.ravel()).reshape(shape)


@st.composite
def attention_case(draw: Any) -> Case:
    """query (B, L, E), key (B, S, E), value (B, S, Ev), causal or with a boolean mask (every row keeps a key)."""
    batch, length, size, width, value_width = (draw(st.integers(1, 2)), draw(st.integers(1, 3)),
                                               draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    params: dict = {"scale": draw(st.sampled_from([None, 0.7]))}
    kind = draw(st.sampled_from(["none", "causal", "mask"]))
    if kind == "causal":
        params["is_causal"] = True
    elif kind == "mask":
        mask = np.array(draw(st.lists(st.booleans(), min_size=length * size, max_size=length * size))).reshape(length, size)
        mask[:, 0] = True
        params["attn_mask"] = mask
    return ((batch, length, width), (batch, size, width), (batch, size, value_width)), params


def _attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, scale: Optional[float] = None, is_causal: bool = False,
               attn_mask: Optional[np.ndarray] = None) -> np.ndarray:
    scores = q @ np.swapaxes(k, -1, -2) * (1 / math.sqrt(q.shape[-1]) if scale is None else scale)
    if is_causal:
        attn_mask = np.tri(q.shape[-2], k.shape[-2], dtype=bool)
    if attn_mask is not None:
        scores = np.where(attn_mask, scores, -np.inf)
    return _softmax(scores, -1) @ v


OPS += [
    OpSpec("layer_norm", lambda x, w, b: F.layer_norm(x, w.shape, w, b), _layer_norm, layer_norm_case(), REAL,
           "reduction"),
    OpSpec("scaled_dot_product_attention", lambda q, k, v, **params: F.scaled_dot_product_attention(q, k, v, **params),
           _attention, attention_case(), REAL, "matmul"),
    OpSpec("im2col", lambda x, **params: Im2Col.apply(x, **params), _im2col, im2col_case(), REAL, "conv"),
    OpSpec("col2im", lambda rows, **params: Col2Im.apply(rows, **params), _col2im, col2im_case(), REAL, "conv"),
]

OPS_BY_NAME = {op.name: op for op in OPS}
assert len(OPS_BY_NAME) == len(OPS), "op names in the table must be unique"
assert all(op.family in FAMILIES for op in OPS)


def ops_in(*families: str) -> list:
    """The table's entries of the given families."""
    return [op for op in OPS if op.family in families]
