"""NumPy interoperation: ``np.asarray(t)``, and NumPy ufuncs on Tensors running the Tensor ops (``np.exp(t)``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .grad_mode import is_grad_enabled

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["NumpyInteropMethods"]


class NumpyInteropMethods:
    """``numpy()``, ``tolist()``, ``__array__`` and ``__array_ufunc__``: Tensor inherits them."""

    __slots__ = ()  # Tensor keeps its fixed slots: no base may add a __dict__

    def numpy(self: Tensor) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self.data

    def tolist(self: Tensor) -> Any:
        """The values as (nested) Python lists."""
        return self.data.tolist()

    def __array__(self: Tensor, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    def __array_ufunc__(self: Tensor, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """NumPy ufuncs on Tensors run the Tensor op (``np.sin(t)`` is ``t.sin()``, with its gradient).

        ``arr -= t`` (``out=`` an ndarray) updates the array from the Tensor's values when
        no gradient is needed there. A ufunc with no Tensor op, any other ``out=`` or a ufunc method
        (``np.add.reduce``...) raises TypeError naming what to use instead, so
        the graph is never cut by a silent ndarray.
        """
        entry = _UFUNC_METHODS.get(ufunc.__name__)
        out = kwargs.get("out")
        if method == "__call__" and out is not None and len(kwargs) == 1 and all(type(o) is np.ndarray for o in out):
            return _ufunc_into_arrays(ufunc, inputs, out, entry, type(self))
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
        if isinstance(first, type(self)):
            return getattr(first, name)(second)
        return getattr(second, reflected)(first)


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


def _ufunc_into_arrays(ufunc: np.ufunc, inputs: tuple, out: tuple, entry: Any, tensor_type: type[Tensor]) -> Any:
    """``arr -= t`` and friends: an in-place update of a plain array (``p.data -= lr * p.grad``) by Tensor values.

    The result lives in an ndarray, so it can carry no gradient: allowed only when no Tensor operand would need one.
    """
    if is_grad_enabled() and any(isinstance(x, tensor_type) and x.requires_grad for x in inputs):
        method = f"call the Tensor method .{entry[0]}() instead, or " if entry and not entry[0].startswith("__") else ""
        raise TypeError(f"np.{ufunc.__name__} with out= (an in-place update of an ndarray) would cut the graph of a "
                        f"Tensor that requires grad: {method}use x.detach(), or do it under no_grad()")
    arrays = [x._data if isinstance(x, tensor_type) else x for x in inputs]
    return ufunc(*arrays, out=out)
