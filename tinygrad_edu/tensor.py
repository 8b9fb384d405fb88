"""The Tensor: an n-dimensional array that remembers how it was computed.

Every operation on Tensors creates a graph node (a `Function` instance) that
keeps its inputs, so ``loss.backward()`` can walk the graph backwards and apply
the chain rule.  This file holds the Tensor's core: what it stores, its
attributes and conversions, and the operator sugar (``+ - * / ** @``, in-place
``+=``, comparisons, indexing).  Its other methods come from the classes it
inherits, one per concern:

- each family of primitives in ``ops/`` ends with the Tensor methods of its ops
  (`ops.elementwise.ElementwiseMethods`: ``exp``, ``relu``, ``where``...;
  `ops.transcendental`, `ops.reduce`, `ops.movement`, `ops.matmul` likewise),
  so adding an op never touches this file;
- the methods of ops composed from primitives (``mean``, ``softmax``,
  ``flatten``, ``gelu``, ``conv2d``...), in `tensor_reduce`, `tensor_shape` and
  `tensor_math`; they need no backward of their own;
- factories and random sampling (`tensor_factories`), the autograd methods
  (`tensor_autograd`: ``backward``, ``detach``, hooks) and NumPy interop
  (`tensor_numpy`).
"""
from __future__ import annotations

import builtins
import numbers
from typing import Any, Callable, Iterator, Optional

import numpy as np

from . import autograd, in_place
from .checks import AxisError, index_arg
from .dtypes import DEFAULT_DTYPE, DtypeError
from .function import constant
from .ops.elementwise import Abs, Add, Div, ElementwiseMethods, Mul, Neg, Pow, Sub
from .ops.matmul import MatMul, MatMulMethods
from .ops.movement import Expand, GetItem, MovementMethods, Permute
from .ops.reduce import ReduceMethods
from .ops.transcendental import TranscendentalMethods
from .tensor_autograd import AutogradMethods
from .tensor_factories import FactoryMethods
from .tensor_math import CompositeMathMethods
from .tensor_numpy import NumpyInteropMethods
from .tensor_reduce import CompositeReduceMethods
from .tensor_shape import CompositeShapeMethods

__all__ = ["AxisError", "DEFAULT_DTYPE", "DtypeError", "Tensor", "TensorOps"]


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


class TensorOps:
    """The namespace ``xp`` of backward rules under ``create_graph``: the same names as
    `autograd.ArrayOps`, as Tensor operations, so running a rule records it."""

    records_graph = True

    @staticmethod
    def constant(value: Any, dtype: Any) -> "Tensor":
        """An op's own constant as a Tensor that needs no gradient (shared read-only data)."""
        return Tensor._make(constant(value, dtype), None, False)

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
    def expand(x: "Tensor", shape: tuple) -> "Tensor":
        return Expand.apply(x, shape=shape)

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


class Tensor(ElementwiseMethods, TranscendentalMethods, ReduceMethods, MovementMethods, MatMulMethods,
             CompositeMathMethods, CompositeReduceMethods, CompositeShapeMethods, FactoryMethods,
             AutogradMethods, NumpyInteropMethods):
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

    def _output(self, data: np.ndarray, ctx: Any) -> "Tensor":
        """``_make(data, ctx, True)`` for `Function.apply`: a method call, which Python specializes, unlike a staticmethod's."""
        tensor = _new_tensor(Tensor)
        tensor._data = data
        tensor.grad = None
        tensor.requires_grad = True
        tensor._ctx = ctx
        tensor._hooks = None
        return tensor

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

    def item(self) -> Any:
        """The single value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item(): only a one-element tensor converts to a number, this one has shape {self.shape}")
        return self.data.item()

    def float(self) -> "Tensor":
        """Cast to float32."""
        return self.cast(np.float32)

    def double(self) -> "Tensor":
        """Cast to float64."""
        return self.cast(np.float64)

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

    # ------------------------------------------------------------ indexing

    def __getitem__(self, index: Any) -> "Tensor":
        """NumPy indexing: ints, slices, None, ..., integer arrays and boolean masks.  A repeated index accumulates its gradient."""
        return GetItem.apply(self, index=index_arg(index))

    def _as_operand(self, value: Any) -> "Tensor":
        """``value`` as the other operand of a binary op with this tensor (for the ops' Tensor methods)."""
        return _operand(value, self)


_new_tensor = object.__new__


# ---------------------------------------------------------------- argument helpers

# Read once: Python 3.11 caches no attribute of the numpy module (it defines __getattr__), so each
# ``np.number`` in _operand cost about 0.1 us; likewise ``Tensor._make`` (a staticmethod) on the class.
_NUMBERS = (bool, int, float, np.number, np.bool_)
_INTEGERS = (int, bool, np.integer)
_make_tensor = Tensor._make
_scalar_arrays: dict = {}  # (number, dtype) -> its read-only 0-d array (see _scalar_array)


def _operand(value: Any, like: Tensor) -> Tensor:
    """A Python number, array or list as a constant Tensor for a binary op with ``like``."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, _NUMBERS):
        dtype = like._data.dtype
        if dtype.kind not in "fc" and not isinstance(value, _INTEGERS):
            dtype = np.result_type(dtype, value)
        array = _scalar_arrays.get((value, dtype))
        return _make_tensor(_scalar_array(value, dtype) if array is None else array, None, False)
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f":
            return Tensor._make(value, None, False)
        if value.dtype.kind in "biu":
            kind = like._data.dtype.kind
            return Tensor._make(value.astype(like._data.dtype if kind == "f" else value.dtype), None, False)
    if isinstance(value, (list, tuple)):
        return _operand(_to_array(value, like._data.dtype if like._data.dtype.kind == "f" else None), like)
    raise TypeError(f"unsupported operand: Tensor and {type(value).__name__}")


def _scalar_array(value: Any, dtype: np.dtype) -> np.ndarray:
    """``value`` as a 0-d array of ``dtype``, shared and read-only for the numbers that recur (2, 0.5, 1e-5...).

    Building it costs more than the op on a small tensor.  Zero is not kept (0.0 and -0.0 are equal
    keys but differ), nor NaN (never an equal key), nor more than a few hundred numbers.
    (The ops' own fixed constants, relu's 0 among them, are `function.constant`'s.)
    """
    array = np.asarray(value, dtype=dtype)
    if value and value == value and len(_scalar_arrays) < 512:
        array.flags.writeable = False
        _scalar_arrays[value, dtype] = array
    return array
