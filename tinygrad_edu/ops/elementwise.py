"""Elementwise primitives: arithmetic and the unary math functions.

Each states its derivative once, as ``vjp(ctx, xp, g, out, *inputs)`` (see
`autograd.Function`): on arrays for an ordinary backward, on Tensors under
``create_graph``.  Binary ops broadcast their operands as NumPy does; their
rules may return gradients of the broadcast shape, and the graph walk sums
them back to each input's shape (`autograd.unbroadcast`) and casts them to the
input's dtype.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Optional

import numpy as np

from ..autograd import Function
from ..function import ALIKE, ALWAYS, constant
from ..grad_mode import _quiet_numpy, _restore_numpy
from .transcendental import (
    Acos,
    Acosh,
    Asin,
    Asinh,
    Atan,
    Atanh,
    Cos,
    Cosh,
    Erf,
    Expm1,
    Log1p,
    Sin,
    Sinh,
    Tan,
    _erf_array,  # noqa: F401 (nn.functional reads the erf kernel from here)
)

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = ["Abs", "Add", "Cast", "Clip", "Div", "ElementwiseMethods", "Exp", "Log", "Maximum", "Minimum", "Mul", "Neg", "Pow",
           "Relu", "Sigmoid", "Softplus", "Sqrt", "Sub", "Tanh", "Where"]
# The transcendental primitives (and erf) moved to their own family file; importable from here as before.
__all__ += ["Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "Ceil", "Cos", "Cosh", "Erf", "Expm1", "Floor",
            "Log1p", "Round", "Sign", "Sin", "Sinh", "Tan"]


class Add(Function):
    """d(a + b)/da = 1, d(a + b)/db = 1."""

    exact_rule = ALIKE

    forward = np.add

    def vjp(ctx, xp, g, out, a, b):
        return g, g


class Sub(Function):
    """d(a - b)/da = 1, d(a - b)/db = -1."""

    exact_rule = ALIKE

    forward = np.subtract

    def vjp(ctx, xp, g, out, a, b):
        return g, (-g if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """d(a * b)/da = b, d(a * b)/db = a."""

    exact_rule = ALIKE

    forward = np.multiply

    def vjp(ctx, xp, g, out, a, b):
        needs_a, needs_b = ctx.needs_input_grad
        return (g * b if needs_a else None), (g * a if needs_b else None)


class Div(Function):
    """d(a / b)/da = 1 / b, d(a / b)/db = -a / b^2 = -(a / b) / b."""

    exact_rule = ALIKE

    forward = np.divide

    def vjp(ctx, xp, g, out, a, b):
        grad_a = g / b
        return grad_a, (-(grad_a * out) if ctx.needs_input_grad[1] else None)


class Pow(Function):
    """d(a^b)/da = b * a^(b-1) (taken as 0 where a = b = 0), d(a^b)/db = a^b * log(a) (taken as 0 where a = 0 and b >= 0).

    Conventions: 0^0 = 1 with both partial derivatives 0 there; for a
    negative base the exponent's derivative is NaN (log of a negative number).
    """

    exact_rule = ALIKE

    def forward(ctx, a, b):
        if b.ndim == 0 and b.dtype is a.dtype and b.item() == 2:  # x ** 2: a square is 3x faster than NumPy's power
            return np.square(a)
        return np.power(a, b)

    def vjp(ctx, xp, g, out, a, b):
        base, exponent = ctx.inputs[0].data, ctx.inputs[1].data  # for the masks, constants in either mode
        needs_a, needs_b = ctx.needs_input_grad
        grad_a = grad_b = None
        if needs_a and not needs_b and exponent.ndim == 0 and exponent == 2:
            grad_a = g * (b * a)  # x ** 2, the common case: b * a^(b-1) = 2a without the general power
        elif needs_a:
            grad_a = g * (b * a ** (b - 1))
            if (exponent == 0) if exponent.ndim == 0 else True:  # a constant exponent (x ** 2) is tested once
                zero_zero = (base == 0) & (exponent == 0)  # 0 * 0^-1 would be NaN
                if zero_zero.any():
                    grad_a = xp.where(zero_zero, 0.0, grad_a)
        if needs_b:
            grad_b = g * out * xp.log(a)
            zero_base = (base == 0) & (exponent >= 0)
            if zero_base.any():
                grad_b = xp.where(zero_base, 0.0, grad_b)
        return grad_a, grad_b


class Neg(Function):
    """d(-a)/da = -1."""

    exact_rule = ALWAYS

    forward = np.negative

    def vjp(ctx, xp, g, out, a):
        return -g


class Exp(Function):
    """d exp(a)/da = exp(a)."""

    exact_rule = ALWAYS

    forward = np.exp

    def vjp(ctx, xp, g, out, a):
        return g * out


class Log(Function):
    """d log(a)/da = 1 / a."""

    exact_rule = ALWAYS

    forward = np.log

    def vjp(ctx, xp, g, out, a):
        return g / a


class Sqrt(Function):
    """d sqrt(a)/da = 1 / (2 sqrt(a)); at a = 0 that is +inf, as in PyTorch."""

    exact_rule = ALWAYS

    forward = np.sqrt

    def vjp(ctx, xp, g, out, a):
        return g / (out * 2)


class Abs(Function):
    """d |a|/da = sign(a), taken as 0 at a = 0."""

    exact_rule = ALWAYS

    forward = np.abs

    def vjp(ctx, xp, g, out, a):
        return g * np.sign(ctx.inputs[0].data)


class Relu(Function):
    """d relu(a)/da = 1 if a > 0 else 0 (0 at a = 0)."""

    exact_rule = ALWAYS

    def forward(ctx, a):
        return np.maximum(a, constant(0, a.dtype))

    def vjp(ctx, xp, g, out, a):
        data = ctx.inputs[0].data
        return g * (data > constant(0, data.dtype))  # a bool mask keeps the gradient's dtype


class Sigmoid(Function):
    """d sigmoid(a)/da = sigmoid(a) * (1 - sigmoid(a)).

    Forward as 1 / (1 + e^-a) in three passes over the array: exact to rounding
    wherever the result is a normal float (for a < 0, e^-a is large and the
    division keeps full relative precision); below about -88 (float32) or -709
    (float64) e^-a overflows to inf, quietly, and the result is 0, as the true
    value is smaller than the smallest normal float there.
    """

    exact_rule = ALWAYS

    def forward(ctx, a):
        token = _quiet_numpy()
        try:
            denominator = np.exp(np.negative(a))
            if type(denominator) is not np.ndarray:  # a 0-d input gives a NumPy scalar
                return 1 / (1 + denominator)
            np.add(denominator, constant(1, denominator.dtype), denominator)  # in place (out= as keyword costs more)
            return np.reciprocal(denominator, denominator)  # 1 / (1 + e^-a), in place
        finally:
            _restore_numpy(token)

    def vjp(ctx, xp, g, out, a):
        return g * out * (xp.constant(1, out.dtype) - out)  # 1 - s is exact for s >= 1/2: no cancellation


class Tanh(Function):
    """d tanh(a)/da = 1 - tanh(a)^2."""

    exact_rule = ALWAYS

    forward = np.tanh

    def vjp(ctx, xp, g, out, a):
        return g * (xp.constant(1, out.dtype) - out * out)


class Softplus(Function):
    """d log(1 + exp(a))/da = sigmoid(a); forward as logaddexp(0, a), finite for any finite a."""

    exact_rule = ALWAYS

    def forward(ctx, a):
        return np.logaddexp(0, a)

    def vjp(ctx, xp, g, out, a):
        return g * xp.apply(Sigmoid, a)


class Maximum(Function):
    """d max(a, b)/da = 1 where a > b, 1/2 where a = b (ties split equally), else 0; b likewise."""

    exact_rule = ALIKE

    forward = np.maximum

    def vjp(ctx, xp, g, out, a, b):
        first, second = ctx.inputs[0].data, ctx.inputs[1].data
        share = _tie_share(first > second, first == second, g.dtype)
        return g * share, g * (1 - share)


class Minimum(Function):
    """d min(a, b)/da = 1 where a < b, 1/2 where a = b (ties split equally), else 0; b likewise."""

    exact_rule = ALIKE

    forward = np.minimum

    def vjp(ctx, xp, g, out, a, b):
        first, second = ctx.inputs[0].data, ctx.inputs[1].data
        share = _tie_share(first < second, first == second, g.dtype)
        return g * share, g * (1 - share)


def _tie_share(wins: np.ndarray, ties: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return wins.astype(dtype) + ties.astype(dtype) * 0.5


class Clip(Function):
    """d clip(a, lo, hi)/da = 1 where lo <= a <= hi, else 0 (the bounds themselves pass the gradient, as in PyTorch)."""

    exact_rule = ALWAYS

    def forward(ctx, a, low=None, high=None):
        ctx.low, ctx.high = low, high
        return np.clip(a, low, high)

    def vjp(ctx, xp, g, out, a):
        data = ctx.inputs[0].data
        inside = np.ones(data.shape, dtype=bool)
        if ctx.low is not None:
            inside &= data >= ctx.low
        if ctx.high is not None:
            inside &= data <= ctx.high
        return g * inside


class Where(Function):
    """d where(c, a, b)/da = 1 where c else 0; /db = 0 where c else 1.

    The unselected branch gets an exact zero (selected, not multiplied), so a
    NaN or inf gradient on one side never leaks into the other.  The condition
    may broadcast the output beyond a and b; the walk unbroadcasts.
    """

    def forward(ctx, a, b, condition=None):
        ctx.condition = condition
        return np.where(condition, a, b)

    def vjp(ctx, xp, g, out, a, b):
        needs_a, needs_b = ctx.needs_input_grad
        zero = np.zeros((), dtype=g.dtype)
        return (xp.where(ctx.condition, g, zero) if needs_a else None), \
            (xp.where(ctx.condition, zero, g) if needs_b else None)


class Cast(Function):
    """d cast(a)/da = 1: the gradient passes unchanged, and the walk casts it back to a's dtype."""

    def forward(ctx, a, dtype=None):
        return a.astype(dtype)

    def vjp(ctx, xp, g, out, a):
        return g


# ---------------------------------------------------------------- piecewise-constant functions

class _Steps(Function):
    """A piecewise-constant function: d f(a)/da = 0 (PyTorch's convention at the jumps too).

    The output is part of the graph (``requires_grad`` as the input), and its
    gradient is an exact zero of the input's shape, as PyTorch gives.
    """

    exact_rule = ALWAYS

    ufunc: Callable = staticmethod(np.sign)

    def forward(ctx, a):
        return ctx.ufunc(a)

    def vjp(ctx, xp, g, out, a):
        return g * 0


class Sign(_Steps):
    """d sign(a)/da = 0 (sign(0) = 0)."""

    ufunc = staticmethod(np.sign)


class Floor(_Steps):
    """d floor(a)/da = 0."""

    ufunc = staticmethod(np.floor)


class Ceil(_Steps):
    """d ceil(a)/da = 0."""

    ufunc = staticmethod(np.ceil)


class Round(_Steps):
    """d round(a)/da = 0; halves round to the even neighbour, as in PyTorch and NumPy."""

    ufunc = staticmethod(np.round)

# ---------------------------------------------------------------- the Tensor methods of this family

class ElementwiseMethods:
    """``t.exp()``, ``t.relu()``, ``t.maximum(u)``, ``Tensor.where()``...: Tensor inherits them."""

    __slots__ = ()  # Tensor keeps its fixed slots: no base may add a __dict__

    def exp(self: Tensor) -> Tensor:
        """e^x.  d/dx = e^x."""
        return Exp.apply(self)

    def log(self: Tensor) -> Tensor:
        """Natural logarithm.  d/dx = 1/x."""
        return Log.apply(self)

    def sqrt(self: Tensor) -> Tensor:
        """Square root.  d/dx = 1/(2 sqrt(x)), +inf at 0."""
        return Sqrt.apply(self)

    def abs(self: Tensor) -> Tensor:
        """|x|.  d/dx = sign(x), 0 at 0."""
        return Abs.apply(self)

    def relu(self: Tensor) -> Tensor:
        """max(x, 0).  d/dx = 1 for x > 0, else 0 (0 at 0)."""
        return Relu.apply(self)

    def sigmoid(self: Tensor) -> Tensor:
        """1 / (1 + e^-x), finite for any input.  d/dx = s(1 - s)."""
        return Sigmoid.apply(self)

    def tanh(self: Tensor) -> Tensor:
        """Hyperbolic tangent.  d/dx = 1 - tanh(x)^2."""
        return Tanh.apply(self)

    def softplus(self: Tensor) -> Tensor:
        """log(1 + e^x), finite for any input.  d/dx = sigmoid(x)."""
        return Softplus.apply(self)

    def clip(self: Tensor, min: Optional[float] = None, max: Optional[float] = None) -> Tensor:  # noqa: A002
        """Values limited to [min, max] (either may be None).  d/dx = 1 inside [min, max], else 0."""
        if min is None and max is None:
            raise ValueError("clip: give at least one of min and max")
        if min is not None and max is not None and min > max:
            raise ValueError(f"clip: min ({min}) is greater than max ({max})")
        return Clip.apply(self, low=min, high=max)

    clamp = clip

    def maximum(self: Tensor, other: Any) -> Tensor:
        """Elementwise max(self, other); ties split the gradient equally."""
        return Maximum.apply(self, other if type(other) is type(self) else self._as_operand(other))

    def minimum(self: Tensor, other: Any) -> Tensor:
        """Elementwise min(self, other); ties split the gradient equally."""
        return Minimum.apply(self, other if type(other) is type(self) else self._as_operand(other))

    @classmethod
    def where(cls: type[Tensor], condition: Any, a: Any, b: Any) -> Tensor:
        """``a`` where ``condition`` holds, else ``b`` (broadcast together).

        The branch not selected gets exactly zero gradient.  If a branch's own
        derivative is NaN where it is not selected (``where(x > 0, x.sqrt(), 0)``
        at x = 0 under second derivatives, or ``where(x > 0, x.log(), 0)``), feed it
        a safe value there: ``safe = where(x > 0, x, 1); where(x > 0, safe.log(), 0)``
        (the "double where" trick).
        """
        condition = np.asarray(condition.data if isinstance(condition, cls) else condition).astype(bool)
        like = a if isinstance(a, cls) else b if isinstance(b, cls) else None
        if like is None:
            like = cls(a)
        a_tensor = a if isinstance(a, cls) else like._as_operand(a)
        b_tensor = b if isinstance(b, cls) else like._as_operand(b)
        try:
            np.broadcast_shapes(condition.shape, a_tensor.shape, b_tensor.shape)
        except ValueError:
            raise ValueError(
                f"where: condition shape {condition.shape}, a shape {a_tensor.shape} and b shape "
                f"{b_tensor.shape} do not broadcast together"
            ) from None
        return Where.apply(a_tensor, b_tensor, condition=condition)

    def cast(self: Tensor, dtype: Any) -> Tensor:
        """The values in another dtype; the gradient is cast back."""
        dtype = np.dtype(dtype)
        if dtype == self.dtype:
            return self
        return Cast.apply(self, dtype=dtype)


    def sign(self: Tensor) -> Tensor:
        """-1, 0 or 1.  d/dx = 0 (a zero gradient, as PyTorch)."""
        return Sign.apply(self)

    def floor(self: Tensor) -> Tensor:
        """Round down.  d/dx = 0."""
        return Floor.apply(self)

    def ceil(self: Tensor) -> Tensor:
        """Round up.  d/dx = 0."""
        return Ceil.apply(self)

    def round(self: Tensor) -> Tensor:
        """Round to the nearest integer, halves to even.  d/dx = 0."""
        return Round.apply(self)
