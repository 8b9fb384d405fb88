"""The Tensor: an n-dimensional array that remembers how it was computed.

Every operation on Tensors creates a graph node (a `Function` instance) that
keeps its inputs, so ``loss.backward()`` can walk the graph backwards and apply
the chain rule.  The primitives live in ``ops/`` by family; this file holds
the user-facing methods, the operator sugar and the composite ops that are
built from primitives (mean, var, softmax, conv2d, ...), which need no
backward of their own.
"""
from __future__ import annotations

import builtins
import math
import numbers
import weakref
from typing import Any, Callable, Iterator, Optional, Sequence

import numpy as np

from . import autograd, composite, in_place
from .checks import Axis, AxisError, index_arg, normalize_axes, reshape_target, shape_arg, torch_names
from .ops import elementwise as _elementwise
from .ops.elementwise import (
    Abs,
    Add,
    Cast,
    Clip,
    Div,
    Exp,
    Log,
    Maximum,
    Minimum,
    Mul,
    Neg,
    Pow,
    Relu,
    Sigmoid,
    Softplus,
    Sqrt,
    Sub,
    Tanh,
    Where,
)
from .ops.matmul import MatMul
from .ops.movement import Cat, Expand, GetItem, Pad, Permute, Reshape
from .ops.reduce import Max, Min, Sum
from .random import get_generator

__all__ = ["AxisError", "DEFAULT_DTYPE", "DtypeError", "Tensor", "TensorOps"]

DEFAULT_DTYPE = np.dtype(np.float32)


class DtypeError(TypeError, RuntimeError):
    """A dtype that cannot do what was asked (a TypeError; also a RuntimeError, as PyTorch raises)."""


def _to_array(data: Any, dtype: Any) -> np.ndarray:
    """Validate and convert what the user gave ``Tensor()`` (always a copy)."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray):
        array = data
    elif isinstance(data, (bool, numbers.Number, np.generic, list, tuple)):
        if isinstance(data, complex):
            raise TypeError("Tensor() does not support complex numbers")
        try:
            array = np.array(data)
        except ValueError as error:
            raise ValueError(f"Tensor(): the nested lists are ragged (rows of different lengths): {error}") from None
    else:
        raise TypeError(
            f"Tensor() expects a number, a (nested) list, a NumPy array or a Tensor, got {type(data).__name__}"
        )
    kind = array.dtype.kind
    if kind == "O":
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"Tensor(): data holds non-numeric values: {data!r:.80}") from None
    elif kind not in "biuf":
        raise TypeError(f"Tensor(): data of dtype {array.dtype} is not numeric: {data!r:.80}")
    if dtype is not None:
        target = np.dtype(dtype)
        if target.kind not in "biuf":
            raise TypeError(f"Tensor(): dtype must be a numeric NumPy dtype, got {target}")
    elif array.dtype.kind == "f" and isinstance(data, np.ndarray):
        target = array.dtype
    else:
        target = DEFAULT_DTYPE
    return np.array(array, dtype=target, copy=True)


class _HookHandle:
    """Returned by `Tensor.register_hook`; ``remove()`` unregisters the hook."""

    def __init__(self, remove: Callable[[], None]) -> None:
        self.remove = remove


class TensorOps:
    """The namespace ``xp`` of backward rules under ``create_graph``: the same names as
    `autograd.ArrayOps`, as Tensor operations, so running a rule records it."""

    records_graph = True

    @staticmethod
    def exp(x: "Tensor") -> "Tensor":
        return x.exp()

    @staticmethod
    def log(x: "Tensor") -> "Tensor":
        return x.log()

    @staticmethod
    def where(condition: Any, a: Any, b: Any) -> "Tensor":
        return Tensor.where(condition, a, b)

    @staticmethod
    def swapaxes(x: "Tensor", first: int, second: int) -> "Tensor":
        return x.transpose(first, second)

    @staticmethod
    def unsqueeze(x: "Tensor", axis: int) -> "Tensor":
        return x.unsqueeze(axis)

    @staticmethod
    def squeeze(x: "Tensor", axis: int) -> "Tensor":
        return x.squeeze(axis)

    @staticmethod
    def permute(x: "Tensor", order: tuple) -> "Tensor":
        return x.permute(*order)

    @staticmethod
    def sum(x: "Tensor", axis: Any, keepdims: bool = False) -> "Tensor":
        return x.sum(axis=axis, keepdim=keepdims)

    @staticmethod
    def softmax(x: "Tensor", axis: int, cached: Any = None) -> "Tensor":
        return x.softmax(axis=axis)  # recomputed from x: the cached array would not be differentiable

    @staticmethod
    def apply(function: Any, *tensors: "Tensor", **kwargs: Any) -> "Tensor":
        return function.apply(*tensors, **kwargs)


class Tensor:
    """An n-dimensional array that records the operations made on it.

    >>> x = Tensor([[1.0, 2.0]], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    Tensor([[2., 4.]])

    ``data`` is a Python number, a (nested) list, a NumPy array or a Tensor; it
    is copied.  A floating array keeps its dtype; anything else becomes
    float32 unless ``dtype`` says otherwise.
    """

    # ``data`` is a property over the slot ``_data`` so that assigning to it always stores an array
    # (PyTorch's escape hatch: ``p.data = t``, ``p.data -= lr * p.grad``); the per-op path reads ``_data``.
    __slots__ = ("_data", "grad", "requires_grad", "_ctx", "_hooks", "__weakref__")
    # Make NumPy defer to Tensor in mixed expressions: ndarray * Tensor -> Tensor.__rmul__.
    __array_priority__ = 1000
    _graph_ops = TensorOps  # what backward rules run on under create_graph (the walk reads it from the roots)

    _data: np.ndarray
    grad: Optional["Tensor"]
    requires_grad: bool
    _ctx: Any
    _hooks: Optional[list]

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        self._data = _to_array(data, dtype)
        self.grad = None
        self.requires_grad = False
        self._ctx = None
        self._hooks = None
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _make(data: np.ndarray, ctx: Any, requires_grad: bool) -> "Tensor":
        """Wrap an array without validation or copy: the per-op path."""
        tensor = _new_tensor(Tensor)
        tensor._data = data
        tensor.grad = None
        tensor.requires_grad = requires_grad
        tensor._ctx = ctx
        tensor._hooks = None
        return tensor

    # ------------------------------------------------------------ factories

    @staticmethod
    def zeros(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> "Tensor":
        """A tensor of zeros: ``Tensor.zeros(2, 3)`` or ``Tensor.zeros((2, 3))``."""
        return Tensor(np.zeros(shape_arg(shape, "zeros")), requires_grad, dtype or DEFAULT_DTYPE)

    @staticmethod
    def ones(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> "Tensor":
        """A tensor of ones: ``Tensor.ones(2, 3)`` or ``Tensor.ones((2, 3))``."""
        return Tensor(np.ones(shape_arg(shape, "ones")), requires_grad, dtype or DEFAULT_DTYPE)

    @staticmethod
    def full(shape: Any, value: float, dtype: Any = None, requires_grad: bool = False) -> "Tensor":
        """A tensor of ``shape`` filled with ``value``."""
        return Tensor(np.full(shape_arg((shape,), "full"), value), requires_grad, dtype or DEFAULT_DTYPE)

    @staticmethod
    def eye(n: int, dtype: Any = None, requires_grad: bool = False) -> "Tensor":
        """The n x n identity matrix."""
        return Tensor(np.eye(shape_arg((n,), "eye")[0]), requires_grad, dtype or DEFAULT_DTYPE)

    @staticmethod
    def arange(start: float, stop: Optional[float] = None, step: float = 1, dtype: Any = None,
               requires_grad: bool = False) -> "Tensor":
        """Evenly spaced values in [start, stop) (``arange(n)`` counts from 0), float32 by default."""
        if step == 0:
            raise ValueError("arange: step must not be zero")
        values = np.arange(start, stop, step) if stop is not None else np.arange(start)
        return Tensor(values, requires_grad, dtype or DEFAULT_DTYPE)

    @staticmethod
    def rand(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> "Tensor":
        """Uniform samples in [0, 1); reproducible after `tinygrad_edu.manual_seed`."""
        return Tensor(get_generator().random(shape_arg(shape, "rand")), requires_grad, dtype or DEFAULT_DTYPE)

    @staticmethod
    def randn(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> "Tensor":
        """Standard normal samples; reproducible after `tinygrad_edu.manual_seed`."""
        return Tensor(get_generator().standard_normal(shape_arg(shape, "randn")), requires_grad,
                      dtype or DEFAULT_DTYPE)

    # ------------------------------------------------------------ attributes and conversion

    @property
    def data(self) -> np.ndarray:
        """The values as a NumPy array (shared, not copied); changing it is not recorded.

        Assigning stores an array: a Tensor's, or the value given (``p.data = t``
        and ``p.data -= lr * p.grad`` leave ``p.data`` an ndarray).
        """
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        if type(value) is not np.ndarray:
            value = value._data if isinstance(value, Tensor) else np.asarray(value)
        self._data = value

    @property
    def _version(self) -> int:
        """How many times the values were changed in place (``+=``, an optimizer step), as PyTorch's."""
        return in_place.version_of(self)

    @property
    def shape(self) -> tuple:
        return self._data.shape

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def T(self) -> "Tensor":  # noqa: N802 (NumPy's name)
        """All axes reversed, as NumPy's ``.T`` (the transpose of a matrix)."""
        if self.data.ndim == 2:
            return Permute.apply(self, order=(1, 0))
        return self.permute(*range(self.ndim - 1, -1, -1))

    @property
    def is_leaf(self) -> bool:
        """True for tensors the user made (not computed by a recorded op)."""
        return self._ctx is None

    def numel(self) -> int:
        """The number of elements."""
        return self.data.size

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self.data

    def item(self) -> Any:
        """The single value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item(): only a one-element tensor converts to a number, this one has shape {self.shape}")
        return self.data.item()

    def tolist(self) -> Any:
        """The values as (nested) Python lists."""
        return self.data.tolist()

    def cast(self, dtype: Any) -> "Tensor":
        """The values in another dtype; the gradient is cast back."""
        dtype = np.dtype(dtype)
        if dtype == self.dtype:
            return self
        return Cast.apply(self, dtype=dtype)

    def float(self) -> "Tensor":
        """Cast to float32."""
        return self.cast(np.float32)

    def double(self) -> "Tensor":
        """Cast to float64."""
        return self.cast(np.float64)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self) -> Iterator["Tensor"]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self.data.size} elements is ambiguous; use .any() or .all()"
            )
        return bool(self.data)

    def __float__(self) -> builtins.float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def any(self) -> bool:
        """True if any element is nonzero."""
        return bool(self.data.any())

    def all(self) -> bool:
        """True if every element is nonzero."""
        return bool(self.data.all())

    __hash__ = object.__hash__  # by identity, though == is elementwise

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(", threshold=200)
        extras = []
        if self.data.dtype != DEFAULT_DTYPE:
            extras.append(f"dtype={self.data.dtype}")
        if self._ctx is not None:
            extras.append(f"grad_fn=<{self._ctx.op_name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return f"Tensor({body}{''.join(', ' + extra for extra in extras)})"

    # ------------------------------------------------------------ autograd

    def backward(self, gradient: Any = None, retain_graph: bool = False, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``.grad`` of every leaf with ``requires_grad``.

        Without ``gradient`` the tensor must hold one element.  The graph's saved
        values are freed afterwards unless ``retain_graph``; ``create_graph``
        records the backward pass so the gradients can be differentiated again.
        """
        autograd.backward(self, gradient, retain_graph, create_graph)

    def detach(self) -> "Tensor":
        """The same values (shared memory), cut from the graph."""
        return Tensor._make(self.data, None, False)

    def requires_grad_(self, flag: bool = True) -> "Tensor":
        """Set ``requires_grad`` on a leaf in place; returns self."""
        if flag and self.data.dtype.kind != "f":
            raise DtypeError(
                f"only floating-point tensors can require gradients, this one has dtype {self.dtype}; "
                "pass dtype=np.float32 (or float64)"
            )
        if not flag and self._ctx is not None:
            raise RuntimeError("requires_grad_(False) on a computed tensor: use .detach() instead")
        self.requires_grad = bool(flag)
        return self

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (sets ``.grad`` to None)."""
        self.grad = None

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this intermediate tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        if self._ctx is not None:
            self._ctx.retained = weakref.ref(self)

    def register_hook(self, hook: Callable[["Tensor"], Optional["Tensor"]]) -> _HookHandle:
        """Call ``hook(grad)`` with the gradient flowing into this tensor; a returned Tensor replaces it."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        return _HookHandle(autograd.hook_on(self, hook))

    # ------------------------------------------------------------ arithmetic

    def __add__(self, other: Any) -> "Tensor":
        return Add.apply(self, other if type(other) is Tensor else _operand(other, self))

    def __radd__(self, other: Any) -> "Tensor":
        return Add.apply(_operand(other, self), self)

    def __sub__(self, other: Any) -> "Tensor":
        return Sub.apply(self, other if type(other) is Tensor else _operand(other, self))

    def __rsub__(self, other: Any) -> "Tensor":
        return Sub.apply(_operand(other, self), self)

    def __mul__(self, other: Any) -> "Tensor":
        return Mul.apply(self, other if type(other) is Tensor else _operand(other, self))

    def __rmul__(self, other: Any) -> "Tensor":
        return Mul.apply(_operand(other, self), self)

    def __truediv__(self, other: Any) -> "Tensor":
        return Div.apply(self, other if type(other) is Tensor else _operand(other, self))

    def __rtruediv__(self, other: Any) -> "Tensor":
        return Div.apply(_operand(other, self), self)

    def __pow__(self, other: Any) -> "Tensor":
        return Pow.apply(self, other if type(other) is Tensor else _operand(other, self))

    def __rpow__(self, other: Any) -> "Tensor":
        return Pow.apply(_operand(other, self), self)

    def __matmul__(self, other: Any) -> "Tensor":
        return MatMul.apply(self, other if type(other) is Tensor else _operand(other, self))

    def __rmatmul__(self, other: Any) -> "Tensor":
        return MatMul.apply(_operand(other, self), self)

    def __neg__(self) -> "Tensor":
        return Neg.apply(self)

    def __pos__(self) -> "Tensor":
        return self

    def __abs__(self) -> "Tensor":
        return Abs.apply(self)

    def __iadd__(self, other: Any) -> "Tensor":
        return self._in_place(other, Tensor.__add__, np.add, "+=")

    def __isub__(self, other: Any) -> "Tensor":
        return self._in_place(other, Tensor.__sub__, np.subtract, "-=")

    def __imul__(self, other: Any) -> "Tensor":
        return self._in_place(other, Tensor.__mul__, np.multiply, "*=")

    def __itruediv__(self, other: Any) -> "Tensor":
        return self._in_place(other, Tensor.__truediv__, np.divide, "/=")

    def _in_place(self, other: Any, op: Callable, ufunc: np.ufunc, symbol: str) -> "Tensor":
        """``a op= b``: updates ``a`` (the same Tensor) and bumps its ``_version``.

        When nothing is recorded the array is changed in place.  In grad mode the
        tensor takes the recorded result (a new node and array): PyTorch's in-place
        op on a non-leaf.  Either way a backward through a node that saved the old
        values raises (`autograd.mark_changed_in_place`).
        """
        other_tensor = other if isinstance(other, Tensor) else _operand(other, self)
        try:
            shape = np.broadcast_shapes(self.shape, other_tensor.shape)
        except ValueError:
            shape = None
        if shape != self.shape:
            raise ValueError(f"in-place {symbol}: an operand of shape {other_tensor.shape} does not broadcast to "
                             f"the tensor's shape {self.shape}")
        if autograd.is_grad_enabled() and (self.requires_grad or other_tensor.requires_grad):
            if self.requires_grad and self._ctx is None:
                raise RuntimeError(
                    f"a leaf tensor that requires grad is used in an in-place operation ({symbol}); "
                    "update parameters inside `with no_grad():` or on `.data`"
                )
            before = Tensor._make(self.data, self._ctx, self.requires_grad)  # the value the new node reads
            autograd.mark_changed_in_place(self, previous=(self._ctx, self.data))
            result = op(before, other_tensor)
            if result.dtype != self.dtype:
                result = result.cast(self.dtype)
            self.data, self._ctx, self.requires_grad = result.data, result._ctx, True
            return self
        if not self.data.flags.writeable:
            self.data = self.data.copy()
        try:
            ufunc(self.data, other_tensor.data, out=self.data, casting="same_kind")
        except (ValueError, TypeError) as error:
            raise ValueError(
                f"in-place {symbol}: cannot apply an operand of shape {other_tensor.shape} and dtype "
                f"{other_tensor.dtype} to a tensor of shape {self.shape} and dtype {self.dtype}: {error}"
            ) from None
        autograd.mark_changed_in_place(self)
        return self

    # ------------------------------------------------------------ comparisons (no gradient)

    def _compare(self, other: Any, ufunc: np.ufunc) -> "Tensor":
        other_data = other.data if isinstance(other, Tensor) else _operand(other, self).data
        try:
            return Tensor._make(ufunc(self.data, other_data), None, False)
        except ValueError:
            raise ValueError(
                f"{ufunc.__name__}: shapes {self.shape} and {np.shape(other_data)} do not broadcast"
            ) from None

    def __lt__(self, other: Any) -> "Tensor":
        return self._compare(other, np.less)

    def __le__(self, other: Any) -> "Tensor":
        return self._compare(other, np.less_equal)

    def __gt__(self, other: Any) -> "Tensor":
        return self._compare(other, np.greater)

    def __ge__(self, other: Any) -> "Tensor":
        return self._compare(other, np.greater_equal)

    def __eq__(self, other: Any) -> "Tensor":  # type: ignore[override]
        if not isinstance(other, (Tensor, np.ndarray, numbers.Number, list, tuple)):
            return NotImplemented
        return self._compare(other, np.equal)

    def __ne__(self, other: Any) -> "Tensor":  # type: ignore[override]
        if not isinstance(other, (Tensor, np.ndarray, numbers.Number, list, tuple)):
            return NotImplemented
        return self._compare(other, np.not_equal)

    # ------------------------------------------------------------ elementwise math

    def exp(self) -> "Tensor":
        """e^x.  d/dx = e^x."""
        return Exp.apply(self)

    def log(self) -> "Tensor":
        """Natural logarithm.  d/dx = 1/x."""
        return Log.apply(self)

    def sqrt(self) -> "Tensor":
        """Square root.  d/dx = 1/(2 sqrt(x)), +inf at 0."""
        return Sqrt.apply(self)

    def abs(self) -> "Tensor":
        """|x|.  d/dx = sign(x), 0 at 0."""
        return Abs.apply(self)

    def relu(self) -> "Tensor":
        """max(x, 0).  d/dx = 1 for x > 0, else 0 (0 at 0)."""
        return Relu.apply(self)

    def leaky_relu(self, negative_slope: builtins.float = 0.01) -> "Tensor":
        """x for x > 0, else negative_slope * x.  d/dx = 1 or negative_slope (negative_slope at 0)."""
        return composite.leaky_relu(self, negative_slope)

    def sigmoid(self) -> "Tensor":
        """1 / (1 + e^-x), finite for any input.  d/dx = s(1 - s)."""
        return Sigmoid.apply(self)

    def tanh(self) -> "Tensor":
        """Hyperbolic tangent.  d/dx = 1 - tanh(x)^2."""
        return Tanh.apply(self)

    def softplus(self) -> "Tensor":
        """log(1 + e^x), finite for any input.  d/dx = sigmoid(x)."""
        return Softplus.apply(self)

    def gelu(self) -> "Tensor":
        """GELU in its tanh approximation (PyTorch's ``approximate="tanh"``), composed from primitives."""
        return composite.gelu(self)

    def clip(self, min: Optional[builtins.float] = None, max: Optional[builtins.float] = None) -> "Tensor":  # noqa: A002
        """Values limited to [min, max] (either may be None).  d/dx = 1 inside [min, max], else 0."""
        if min is None and max is None:
            raise ValueError("clip: give at least one of min and max")
        if min is not None and max is not None and min > max:
            raise ValueError(f"clip: min ({min}) is greater than max ({max})")
        return Clip.apply(self, low=min, high=max)

    clamp = clip

    def maximum(self, other: Any) -> "Tensor":
        """Elementwise max(self, other); ties split the gradient equally."""
        return Maximum.apply(self, other if type(other) is Tensor else _operand(other, self))

    def minimum(self, other: Any) -> "Tensor":
        """Elementwise min(self, other); ties split the gradient equally."""
        return Minimum.apply(self, other if type(other) is Tensor else _operand(other, self))

    @staticmethod
    def where(condition: Any, a: Any, b: Any) -> "Tensor":
        """``a`` where ``condition`` holds, else ``b`` (broadcast together).

        The branch not selected gets exactly zero gradient.  If a branch's own
        derivative is NaN where it is not selected (``where(x > 0, x.sqrt(), 0)``
        at x = 0 under second derivatives, or ``where(x > 0, x.log(), 0)``), feed it
        a safe value there: ``safe = where(x > 0, x, 1); where(x > 0, safe.log(), 0)``
        (the "double where" trick).
        """
        condition = np.asarray(condition.data if isinstance(condition, Tensor) else condition).astype(bool)
        like = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else None
        if like is None:
            like = Tensor(a)
        a_tensor = a if isinstance(a, Tensor) else _operand(a, like)
        b_tensor = b if isinstance(b, Tensor) else _operand(b, like)
        try:
            np.broadcast_shapes(condition.shape, a_tensor.shape, b_tensor.shape)
        except ValueError:
            raise ValueError(
                f"where: condition shape {condition.shape}, a shape {a_tensor.shape} and b shape "
                f"{b_tensor.shape} do not broadcast together"
            ) from None
        return Where.apply(a_tensor, b_tensor, condition=condition)

    # ------------------------------------------------------------ reductions

    def sum(self, axis: Axis = None, keepdim: bool = False) -> "Tensor":
        """Sum over ``axis`` (None: all).  d/dx = 1 for each element."""
        return Sum.apply(self, axes=normalize_axes(axis, self.ndim, "sum"), keepdim=keepdim)

    def mean(self, axis: Axis = None, keepdim: bool = False) -> "Tensor":
        """Mean over ``axis`` (None: all), as sum / count."""
        axes = normalize_axes(axis, self.ndim, "mean")
        count = math.prod(self.shape[i] for i in axes)
        if count == 0:
            raise ValueError(f"mean: cannot average over zero elements (shape {self.shape}, axis {axis})")
        return Sum.apply(self, axes=axes, keepdim=keepdim) * (1.0 / count)

    def max(self, axis: Axis = None, keepdim: bool = False) -> "Tensor":
        """Largest value over ``axis``; ties split the gradient equally."""
        return Max.apply(self, axes=normalize_axes(axis, self.ndim, "max"), keepdim=keepdim)

    def min(self, axis: Axis = None, keepdim: bool = False) -> "Tensor":
        """Smallest value over ``axis``; ties split the gradient equally."""
        return Min.apply(self, axes=normalize_axes(axis, self.ndim, "min"), keepdim=keepdim)

    def var(self, axis: Axis = None, keepdim: bool = False, correction: int = 1) -> "Tensor":
        """Variance sum((x - mean)^2) / max(0, n - correction): inf (or NaN for constant values) when n <= correction, as PyTorch."""
        return composite.var(self, axis, keepdim, correction)

    def std(self, axis: Axis = None, keepdim: bool = False, correction: int = 1) -> "Tensor":
        """Standard deviation, sqrt(var); its gradient is 0 where it is 0, as in PyTorch."""
        return composite.std(self, axis, keepdim, correction)

    def logsumexp(self, axis: Axis = None, keepdim: bool = False) -> "Tensor":
        """log(sum(exp(x))) computed as m + log(sum(exp(x - m))) with m the (constant) max, so it never overflows."""
        return composite.logsumexp(self, axis, keepdim)

    def softmax(self, axis: int = -1) -> "Tensor":
        """exp(x) / sum(exp(x)) along ``axis``, shifted by the (constant) max for stability."""
        return composite.softmax(self, axis)

    def log_softmax(self, axis: int = -1) -> "Tensor":
        """x - logsumexp(x) along ``axis``: stable for any finite input."""
        return composite.log_softmax(self, axis)

    def argmax(self, axis: Optional[int] = None, keepdim: bool = False) -> "Tensor":
        """Index of the largest value (int64, no gradient); over the flattened tensor when ``axis`` is None."""
        return self._arg_reduce(np.argmax, axis, keepdim, "argmax")

    def argmin(self, axis: Optional[int] = None, keepdim: bool = False) -> "Tensor":
        """Index of the smallest value (int64, no gradient)."""
        return self._arg_reduce(np.argmin, axis, keepdim, "argmin")

    def _arg_reduce(self, function: Callable, axis: Optional[int], keepdim: bool, name: str) -> "Tensor":
        axes = normalize_axes(axis, self.ndim, name)
        if self.data.size == 0 and (axis is None or self.shape[axes[0]] == 0):
            where = "the tensor is empty" if axis is None else f"axis {axes[0]} has size 0"
            raise IndexError(f"{name}(): expected a reduction over a non-empty axis, but {where} (shape {self.shape})")
        if axis is None:
            return Tensor._make(np.asarray(function(self.data)), None, False)
        if self.ndim == 0:  # axis 0 or -1 of a 0-d tensor, as PyTorch: index 0
            return Tensor._make(np.zeros((), dtype=np.int64), None, False)
        return Tensor._make(function(self.data, axis=axes[0], keepdims=keepdim), None, False)

    # ------------------------------------------------------------ shape

    def reshape(self, *shape: Any) -> "Tensor":
        """The same values in a new shape: ints or one tuple, one -1 allowed."""
        new_shape = reshape_target(shape, self.shape)
        if new_shape == self.shape:
            return self
        return Reshape.apply(self, shape=new_shape)

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> "Tensor":
        """Merge axes start_dim..end_dim into one (all of them by default)."""
        if self.ndim == 0:
            return self.reshape(1)
        start, end = normalize_axes(start_dim, self.ndim, "flatten")[0], normalize_axes(end_dim, self.ndim, "flatten")[0]
        if start > end:
            raise ValueError(f"flatten: start_dim ({start_dim}) comes after end_dim ({end_dim})")
        merged = math.prod(self.shape[start:end + 1])
        return self.reshape(self.shape[:start] + (merged,) + self.shape[end + 1:])

    def permute(self, *order: Any) -> "Tensor":
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

    def transpose(self, dim0: int = -2, dim1: int = -1) -> "Tensor":
        """Swap two axes (the last two by default)."""
        if self.ndim < 2:
            return self
        first = normalize_axes(dim0, self.ndim, "transpose")[0]
        second = normalize_axes(dim1, self.ndim, "transpose")[0]
        order = list(range(self.ndim))
        order[first], order[second] = order[second], order[first]
        return self.permute(*order)

    def squeeze(self, axis: Axis = None) -> "Tensor":
        """Drop axes of size 1 (all of them, or those in ``axis``; others are left, as PyTorch)."""
        candidates = normalize_axes(axis, self.ndim, "squeeze")
        drop = {i for i in candidates if self.shape[i] == 1}
        if not drop:
            return self
        return self.reshape(tuple(size for i, size in enumerate(self.shape) if i not in drop))

    def unsqueeze(self, axis: int) -> "Tensor":
        """Insert an axis of size 1 at ``axis`` (negative counts from the end of the result)."""
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"unsqueeze: axis must be an int, got {axis!r}")
        if not -self.ndim - 1 <= axis <= self.ndim:
            raise AxisError(f"unsqueeze: axis {axis} is out of range for a result with {self.ndim + 1} dimensions")
        position = axis % (self.ndim + 1)
        return self.reshape(self.shape[:position] + (1,) + self.shape[position:])

    def expand(self, *shape: Any) -> "Tensor":
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

    def pad(self, pad_width: Any, value: builtins.float = 0.0) -> "Tensor":
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

    def __getitem__(self, index: Any) -> "Tensor":
        """NumPy indexing: ints, slices, None, ..., integer arrays and boolean masks.  A repeated index accumulates its gradient."""
        return GetItem.apply(self, index=index_arg(index))

    @staticmethod
    def cat(tensors: Sequence["Tensor"], axis: int = 0) -> "Tensor":
        """Join tensors along an existing axis."""
        tensors = _tensor_list(tensors, "cat")
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

    @staticmethod
    def stack(tensors: Sequence["Tensor"], axis: int = 0) -> "Tensor":
        """Join tensors of one shape along a new axis."""
        tensors = _tensor_list(tensors, "stack")
        for i, tensor in enumerate(tensors):
            if tensor.shape != tensors[0].shape:
                raise ValueError(f"stack: tensor {i} has shape {tensor.shape}, tensor 0 has shape {tensors[0].shape}")
        if not -tensors[0].ndim - 1 <= axis <= tensors[0].ndim:
            raise AxisError(f"stack: axis {axis} is out of range for a result with {tensors[0].ndim + 1} dimensions")
        return Tensor.cat([tensor.unsqueeze(axis) for tensor in tensors], axis=axis)

    # ------------------------------------------------------------ matrix

    def matmul(self, other: Any) -> "Tensor":
        """Matrix product with NumPy ``matmul`` semantics.  d/dA = G B^T, d/dB = A^T G."""
        return MatMul.apply(self, other if type(other) is Tensor else _operand(other, self))

    dot = matmul

    # ------------------------------------------------------------ convolution and pooling

    def conv2d(self, weight: "Tensor", bias: Optional["Tensor"] = None, stride: Any = 1, padding: Any = 0) -> "Tensor":
        """2-D cross-correlation of NCHW input with OIHW weight, as im2col (`Windows`) and a matmul."""
        return composite.conv2d(self, weight, bias, stride, padding)

    def max_pool2d(self, kernel_size: Any, stride: Any = None) -> "Tensor":
        """Max over each window of NCHW input (stride defaults to kernel_size); ties in a window split the gradient."""
        return composite.max_pool2d(self, kernel_size, stride)

    def avg_pool2d(self, kernel_size: Any, stride: Any = None) -> "Tensor":
        """Mean over each window of NCHW input (stride defaults to kernel_size)."""
        return composite.avg_pool2d(self, kernel_size, stride)

    # ------------------------------------------------------------ more math (issue 11)

    def sin(self) -> "Tensor":
        """Sine.  d/dx = cos(x)."""
        return _elementwise.Sin.apply(self)

    def cos(self) -> "Tensor":
        """Cosine.  d/dx = -sin(x)."""
        return _elementwise.Cos.apply(self)

    def tan(self) -> "Tensor":
        """Tangent.  d/dx = 1 + tan(x)^2."""
        return _elementwise.Tan.apply(self)

    def sinh(self) -> "Tensor":
        """Hyperbolic sine.  d/dx = cosh(x)."""
        return _elementwise.Sinh.apply(self)

    def cosh(self) -> "Tensor":
        """Hyperbolic cosine.  d/dx = sinh(x)."""
        return _elementwise.Cosh.apply(self)

    def asin(self) -> "Tensor":
        """Inverse sine.  d/dx = 1 / sqrt(1 - x^2)."""
        return _elementwise.Asin.apply(self)

    def acos(self) -> "Tensor":
        """Inverse cosine.  d/dx = -1 / sqrt(1 - x^2)."""
        return _elementwise.Acos.apply(self)

    def atan(self) -> "Tensor":
        """Inverse tangent.  d/dx = 1 / (1 + x^2)."""
        return _elementwise.Atan.apply(self)

    def asinh(self) -> "Tensor":
        """Inverse hyperbolic sine.  d/dx = 1 / sqrt(x^2 + 1)."""
        return _elementwise.Asinh.apply(self)

    def acosh(self) -> "Tensor":
        """Inverse hyperbolic cosine (x >= 1).  d/dx = 1 / sqrt(x^2 - 1)."""
        return _elementwise.Acosh.apply(self)

    def atanh(self) -> "Tensor":
        """Inverse hyperbolic tangent (|x| < 1).  d/dx = 1 / (1 - x^2)."""
        return _elementwise.Atanh.apply(self)

    arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh

    def log1p(self) -> "Tensor":
        """log(1 + x), accurate for tiny x.  d/dx = 1 / (1 + x)."""
        return _elementwise.Log1p.apply(self)

    def expm1(self) -> "Tensor":
        """exp(x) - 1, accurate for tiny x.  d/dx = exp(x)."""
        return _elementwise.Expm1.apply(self)

    def log2(self) -> "Tensor":
        """Base-2 logarithm.  d/dx = 1 / (x log 2)."""
        return composite.log2(self)

    def log10(self) -> "Tensor":
        """Base-10 logarithm.  d/dx = 1 / (x log 10)."""
        return composite.log10(self)

    def exp2(self) -> "Tensor":
        """2^x.  d/dx = 2^x log 2."""
        return composite.exp2(self)

    def square(self) -> "Tensor":
        """x * x.  d/dx = 2x."""
        return Mul.apply(self, self)

    def reciprocal(self) -> "Tensor":
        """1 / x.  d/dx = -1 / x^2."""
        return 1.0 / self

    def rsqrt(self) -> "Tensor":
        """1 / sqrt(x).  d/dx = -1 / (2 x^(3/2))."""
        return 1.0 / Sqrt.apply(self)

    def erf(self) -> "Tensor":
        """The error function 2/sqrt(pi) * integral_0^x exp(-t^2) dt (~2e-15 accurate).  d/dx = 2/sqrt(pi) exp(-x^2)."""
        return _elementwise.Erf.apply(self)

    def sign(self) -> "Tensor":
        """-1, 0 or 1.  d/dx = 0 (a zero gradient, as PyTorch)."""
        return _elementwise.Sign.apply(self)

    def floor(self) -> "Tensor":
        """Round down.  d/dx = 0."""
        return _elementwise.Floor.apply(self)

    def ceil(self) -> "Tensor":
        """Round up.  d/dx = 0."""
        return _elementwise.Ceil.apply(self)

    def round(self) -> "Tensor":
        """Round to the nearest integer, halves to even.  d/dx = 0."""
        return _elementwise.Round.apply(self)

    def relu6(self) -> "Tensor":
        """min(max(x, 0), 6).  d/dx = 1 for 0 < x < 6, else 0."""
        return composite.relu6(self)

    def hardsigmoid(self) -> "Tensor":
        """relu6(x + 3) / 6.  d/dx = 1/6 for -3 < x < 3, else 0."""
        return composite.hardsigmoid(self)

    def hardswish(self) -> "Tensor":
        """x * relu6(x + 3) / 6.  d/dx = (2x + 3) / 6 for -3 < x < 3, 0 below, 1 above."""
        return composite.hardswish(self)

    def mish(self) -> "Tensor":
        """x * tanh(softplus(x)).  d/dx = tanh(sp) + x sigmoid(x) (1 - tanh(sp)^2)."""
        return composite.mish(self)

    def elu(self, alpha: builtins.float = 1.0) -> "Tensor":
        """x for x > 0, else alpha (exp(x) - 1).  d/dx = 1 for x > 0, else alpha exp(x)."""
        return composite.elu(self, alpha)

    def selu(self) -> "Tensor":
        """scale * elu(x, alpha) with PyTorch's constants.  d/dx = scale, or scale alpha exp(x) for x <= 0."""
        return composite.selu(self)

    def logsigmoid(self) -> "Tensor":
        """log(sigmoid(x)), finite for any x.  d/dx = sigmoid(-x)."""
        return composite.logsigmoid(self)

    def softsign(self) -> "Tensor":
        """x / (1 + |x|).  d/dx = 1 / (1 + |x|)^2."""
        return composite.softsign(self)

    # ------------------------------------------------------------ language-model building blocks (issue 11)

    def masked_fill(self, mask: Any, value: Any) -> "Tensor":
        """``value`` where the boolean ``mask`` is True, else self.  d/dself = 1 where not masked, else 0."""
        return composite.masked_fill(self, mask, value)

    def tril(self, diagonal: int = 0) -> "Tensor":
        """Lower triangle of the last two axes (j - i <= diagonal), zeros above.  d/dx = that mask."""
        return composite.tril(self, diagonal)

    def triu(self, diagonal: int = 0) -> "Tensor":
        """Upper triangle of the last two axes (j - i >= diagonal), zeros below.  d/dx = that mask."""
        return composite.triu(self, diagonal)

    def split(self, split_size_or_sections: Any, dim: int = 0) -> tuple:
        """A tuple of views along ``dim``: pieces of the given size (last may be smaller) or of the listed sizes."""
        return composite.split(self, split_size_or_sections, dim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple:
        """A tuple of ``chunks`` views along ``dim`` (ceil(size / chunks) each; fewer when they run out)."""
        return composite.chunk(self, chunks, dim)

    def cumsum(self, dim: int) -> "Tensor":
        """Running sums along ``dim``.  d/dx_i = sum of the gradient over positions j >= i."""
        return composite.cumsum(self, dim)

    def prod(self, dim: Axis = None, keepdim: bool = False) -> "Tensor":
        """Product over ``dim`` (None: all).  d/dx_i = product of the other elements (exact with zeros)."""
        return composite.prod(self, dim, keepdim)

    @staticmethod
    def einsum(subscripts: str, *operands: Any) -> "Tensor":
        """Einstein summation, NumPy's notation.  d/da_k = einsum of the gradient with the other operands."""
        return composite.einsum(subscripts, *operands)

    def tensordot(self, other: Any, dims: Any = 2) -> "Tensor":
        """Contract the last ``dims`` axes of self with the first of other (or the paired axis lists)."""
        return composite.tensordot(self, other, dims)

    def outer(self, other: Any) -> "Tensor":
        """Outer product of two 1-D tensors.  d/da = g @ b, d/db = g^T @ a."""
        return composite.outer(self, other)

    def repeat_interleave(self, repeats: Any, dim: Optional[int] = None) -> "Tensor":
        """Each element repeated ``repeats`` times along ``dim`` (flattened when None).  d/dx sums the copies."""
        return composite.repeat_interleave(self, repeats, dim)

    def roll(self, shifts: Any, dims: Any = None) -> "Tensor":
        """Shift elements along ``dims``, wrapping around.  d/dx = g rolled back."""
        return composite.roll(self, shifts, dims)

    def flip(self, dims: Any) -> "Tensor":
        """Reverse the order along ``dims``.  d/dx = g flipped back."""
        return composite.flip(self, dims)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> "Tensor":
        """The diagonal of the dim1 x dim2 planes as a new last axis.  d/dx = g placed on that diagonal."""
        return composite.diagonal(self, offset, dim1, dim2)

    def diag_embed(self, offset: int = 0, dim1: int = -2, dim2: int = -1) -> "Tensor":
        """Matrices with the last axis on diagonal ``offset``, zeros elsewhere.  d/dx = the diagonal of g."""
        return composite.diag_embed(self, offset, dim1, dim2)

    def trace(self) -> "Tensor":
        """Sum of the main diagonal of a 2-D tensor.  d/dx = identity * g."""
        return composite.trace(self)

    def sort(self, dim: int = -1, descending: bool = False) -> tuple:
        """(values, indices) along ``dim``; values carry gradient back to where they came from."""
        return composite.sort(self, dim, descending)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> tuple:  # noqa: A002
        """(values, indices) of the k largest (smallest) along ``dim``; values carry gradient."""
        return composite.topk(self, k, dim, largest, sorted)

    def conv1d(self, weight: "Tensor", bias: Optional["Tensor"] = None, stride: Any = 1, padding: Any = 0) -> "Tensor":
        """1-D cross-correlation of NCL input with OCK weight (conv2d on a height-1 image)."""
        return composite.conv1d(self, weight, bias, stride, padding)

    def multinomial(self, num_samples: int, replacement: bool = False) -> "Tensor":
        """Category indices (int64, no gradient) drawn from the weights in each row, from `manual_seed`'s generator.

        A 1-D tensor gives ``num_samples`` draws; each row of a 2-D one samples
        independently.  Without replacement no category repeats within a row.
        """
        return Tensor._make(_multinomial(self.data, num_samples, replacement), None, False)

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """NumPy ufuncs on Tensors run the Tensor op (``np.sin(t)`` is ``t.sin()``, with its gradient).

        ``arr -= t`` (``out=`` an ndarray) updates the array from the Tensor's values when
        no gradient is needed there. A ufunc with no Tensor op, any other ``out=`` or a ufunc method
        (``np.add.reduce``...) raises TypeError naming what to use instead, so
        the graph is never cut by a silent ndarray.
        """
        entry = _UFUNC_METHODS.get(ufunc.__name__)
        out = kwargs.get("out")
        if method == "__call__" and out is not None and len(kwargs) == 1 and all(type(o) is np.ndarray for o in out):
            return _ufunc_into_arrays(ufunc, inputs, out, entry)
        if method != "__call__" or kwargs or entry is None:
            how = f"np.{ufunc.__name__}.{method}" if method != "__call__" else f"np.{ufunc.__name__}"
            if entry and not entry[0].startswith("__"):
                hint = f"call the Tensor method .{entry[0]}() instead"
            else:
                hint = "use the Tensor's operators and methods (.sum(), .max(), ...), or t.detach().numpy() " \
                    "for a plain array without gradient"
            extra = f" with {sorted(kwargs)}" if kwargs and entry else ""
            raise TypeError(f"{how}{extra} is not supported on a Tensor: {hint}")
        name, reflected = entry
        if len(inputs) == 1:
            return getattr(inputs[0], name)()
        first, second = inputs
        if isinstance(first, Tensor):
            return getattr(first, name)(second)
        return getattr(second, reflected)(first)

    @staticmethod
    def randint(low: int, high: Any = None, size: Any = None, dtype: Any = np.int64) -> "Tensor":
        """Integers uniform in [low, high) (int64), from `manual_seed`'s generator; ``randint(high, size)`` too."""
        if size is None:
            low, high, size = 0, low, high
        for name, value in (("low", low), ("high", high)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"randint: {name} must be an int, got {value!r}")
        if low >= high:
            raise ValueError(f"randint: low ({low}) must be less than high ({high})")
        shape = shape_arg((size,) if isinstance(size, (tuple, list)) else (size,) if size is not None else (), "randint")
        return Tensor._make(get_generator().integers(low, high, size=shape, dtype=np.dtype(dtype)), None, False)

    @staticmethod
    def zeros_like(t: "Tensor", dtype: Any = None, requires_grad: bool = False) -> "Tensor":
        """Zeros of t's shape and dtype (or ``dtype``)."""
        return Tensor(np.zeros(np.shape(t.data if isinstance(t, Tensor) else t)), requires_grad, dtype or _dtype_of(t))

    @staticmethod
    def ones_like(t: "Tensor", dtype: Any = None, requires_grad: bool = False) -> "Tensor":
        """Ones of t's shape and dtype (or ``dtype``)."""
        return Tensor(np.ones(np.shape(t.data if isinstance(t, Tensor) else t)), requires_grad, dtype or _dtype_of(t))

    @staticmethod
    def randn_like(t: "Tensor", dtype: Any = None, requires_grad: bool = False) -> "Tensor":
        """Standard normal samples of t's shape (float dtype), from `manual_seed`'s generator."""
        dtype = np.dtype(dtype or _dtype_of(t))
        if dtype.kind != "f":
            raise DtypeError(f"randn_like: needs a floating dtype, got {dtype}")
        return Tensor.randn(*np.shape(t.data if isinstance(t, Tensor) else t), dtype=dtype, requires_grad=requires_grad)

    @staticmethod
    def rand_like(t: "Tensor", dtype: Any = None, requires_grad: bool = False) -> "Tensor":
        """Uniform [0, 1) samples of t's shape (float dtype), from `manual_seed`'s generator."""
        dtype = np.dtype(dtype or _dtype_of(t))
        if dtype.kind != "f":
            raise DtypeError(f"rand_like: needs a floating dtype, got {dtype}")
        return Tensor.rand(*np.shape(t.data if isinstance(t, Tensor) else t), dtype=dtype, requires_grad=requires_grad)




_new_tensor = object.__new__


# ---------------------------------------------------------------- argument helpers

def _operand(value: Any, like: Tensor) -> Tensor:
    """A Python number, array or list as a constant Tensor for a binary op with ``like``."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (bool, int, float, np.number, np.bool_)):
        dtype = like._data.dtype if like._data.dtype.kind in "fc" or isinstance(value, (int, bool, np.integer)) \
            else np.result_type(like._data.dtype, value)
        return Tensor._make(np.asarray(value, dtype=dtype), None, False)
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f":
            return Tensor._make(value, None, False)
        if value.dtype.kind in "biu":
            kind = like._data.dtype.kind
            return Tensor._make(value.astype(like._data.dtype if kind == "f" else value.dtype), None, False)
    if isinstance(value, (list, tuple)):
        return _operand(_to_array(value, like._data.dtype if like._data.dtype.kind == "f" else None), like)
    raise TypeError(f"unsupported operand: Tensor and {type(value).__name__}")


def _tensor_list(tensors: Any, op: str) -> list:
    if isinstance(tensors, Tensor):
        raise TypeError(f"{op}: expects a list of tensors, got a single Tensor")
    tensors = [tensor if isinstance(tensor, Tensor) else Tensor(tensor) for tensor in tensors]
    if not tensors:
        raise ValueError(f"{op}: expects a non-empty list of tensors")
    return tensors


def _dtype_of(value: Any) -> np.dtype:
    return value.data.dtype if isinstance(value, Tensor) else np.asarray(value).dtype


def _multinomial(weights: np.ndarray, num_samples: int, replacement: bool) -> np.ndarray:
    """Indices drawn per row of ``weights`` (1-D or 2-D, non-negative, not all zero)."""
    if weights.ndim not in (1, 2):
        raise ValueError(f"multinomial: expects a 1-D or 2-D tensor of probabilities, got shape {weights.shape}")
    if weights.dtype.kind != "f":
        raise DtypeError(f"multinomial: expects floating-point probabilities, got dtype {weights.dtype}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) or num_samples <= 0:
        raise ValueError(f"multinomial: num_samples must be a positive int, got {num_samples!r}")
    rows = np.atleast_2d(weights).astype(np.float64)
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise ValueError("multinomial: probabilities must be finite and non-negative")
    totals = rows.sum(axis=1, keepdims=True)
    if (totals <= 0).any():
        raise ValueError("multinomial: every row of probabilities must have a positive sum")
    if not replacement and num_samples > (rows > 0).sum(axis=1).min():
        raise ValueError(f"multinomial: cannot draw {num_samples} samples without replacement from a row with only "
                         f"{(rows > 0).sum(axis=1).min()} non-zero probabilities")
    generator = get_generator()
    if replacement:
        cdf = np.cumsum(rows / totals, axis=1)
        draws = generator.random((rows.shape[0], int(num_samples)))
        out = np.stack([np.searchsorted(row, draw, side="right") for row, draw in zip(cdf, draws)])
        out = np.minimum(out, rows.shape[1] - 1)
    else:
        out = np.stack([generator.choice(rows.shape[1], size=int(num_samples), replace=False, p=row / row.sum())
                        for row in rows])
    out = out.astype(np.int64)
    return out[0] if weights.ndim == 1 else out


# PyTorch's `dim`, NumPy's `keepdims` and `unbiased` accepted by every method that takes an axis (checks.torch_names).
for _name in ("sum", "mean", "max", "min", "var", "std", "logsumexp", "softmax", "log_softmax", "argmax", "argmin",
              "squeeze", "unsqueeze", "cat", "stack", "cumsum", "prod", "split", "chunk", "sort", "topk",
              "repeat_interleave"):
    _method = Tensor.__dict__[_name]
    if isinstance(_method, staticmethod):
        setattr(Tensor, _name, staticmethod(torch_names(_method.__func__)))
    else:
        setattr(Tensor, _name, torch_names(_method))
del _name, _method


# NumPy ufunc name -> (Tensor method, reflected method for a non-Tensor first operand), for __array_ufunc__.
_UFUNC_METHODS = {
    **{name: (name, name) for name in (
        "exp", "log", "sqrt", "tanh", "sin", "cos", "tan", "sinh", "cosh", "log1p", "expm1", "log2", "log10", "exp2",
        "square", "reciprocal", "sign", "floor", "ceil", "arcsin", "arccos", "arctan", "arcsinh", "arccosh",
        "arctanh")},
    "absolute": ("abs", "abs"), "negative": ("__neg__", "__neg__"), "positive": ("__pos__", "__pos__"),
    "rint": ("round", "round"), "erf": ("erf", "erf"),
    "add": ("__add__", "__radd__"), "subtract": ("__sub__", "__rsub__"), "multiply": ("__mul__", "__rmul__"),
    "divide": ("__truediv__", "__rtruediv__"), "true_divide": ("__truediv__", "__rtruediv__"),
    "power": ("__pow__", "__rpow__"), "matmul": ("__matmul__", "__rmatmul__"),
    "maximum": ("maximum", "maximum"), "minimum": ("minimum", "minimum"),
    "greater": ("__gt__", "__lt__"), "greater_equal": ("__ge__", "__le__"), "less": ("__lt__", "__gt__"),
    "less_equal": ("__le__", "__ge__"), "equal": ("__eq__", "__eq__"), "not_equal": ("__ne__", "__ne__"),
}


def _ufunc_into_arrays(ufunc: np.ufunc, inputs: tuple, out: tuple, entry: Any) -> Any:
    """``arr -= t`` and friends: an in-place update of a plain array (``p.data -= lr * p.grad``) by Tensor values.

    The result lives in an ndarray, so it can carry no gradient: allowed only when no Tensor operand would need one.
    """
    if autograd.is_grad_enabled() and any(isinstance(x, Tensor) and x.requires_grad for x in inputs):
        method = f"call the Tensor method .{entry[0]}() instead, or " if entry and not entry[0].startswith("__") else ""
        raise TypeError(f"np.{ufunc.__name__} with out= (an in-place update of an ndarray) would cut the graph of a "
                        f"Tensor that requires grad: {method}use x.detach(), or do it under no_grad()")
    arrays = [x._data if isinstance(x, Tensor) else x for x in inputs]
    return ufunc(*arrays, out=out)
