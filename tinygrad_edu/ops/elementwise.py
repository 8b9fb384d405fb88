"""Elementwise primitives: arithmetic and the unary math functions.

Each states its derivative once, as ``vjp(ctx, xp, g, out, *inputs)`` (see
`autograd.Function`): on arrays for an ordinary backward, on Tensors under
``create_graph``.  Binary ops broadcast their operands as NumPy does; their
rules may return gradients of the broadcast shape, and the graph walk sums
them back to each input's shape (`autograd.unbroadcast`) and casts them to the
input's dtype.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable, Optional

import numpy as np
from numpy.polynomial import chebyshev, polynomial

from ..autograd import Function
from .transcendental import Acos, Acosh, Asin, Asinh, Atan, Atanh, Cos, Cosh, Expm1, Log1p, Sin, Sinh, Tan

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = ["Abs", "Add", "Cast", "Clip", "Div", "ElementwiseMethods", "Exp", "Log", "Maximum", "Minimum", "Mul", "Neg", "Pow",
           "Relu", "Sigmoid", "Softplus", "Sqrt", "Sub", "Tanh", "Where"]
# The transcendental primitives moved to their own family file; importable from here as before.
__all__ += ["Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "Ceil", "Cos", "Cosh", "Erf", "Expm1", "Floor",
            "Log1p", "Round", "Sign", "Sin", "Sinh", "Tan"]


class Add(Function):
    """d(a + b)/da = 1, d(a + b)/db = 1."""

    def forward(ctx, a, b):
        return a + b

    def vjp(ctx, xp, g, out, a, b):
        return g, g


class Sub(Function):
    """d(a - b)/da = 1, d(a - b)/db = -1."""

    def forward(ctx, a, b):
        return a - b

    def vjp(ctx, xp, g, out, a, b):
        return g, (-g if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """d(a * b)/da = b, d(a * b)/db = a."""

    def forward(ctx, a, b):
        return a * b

    def vjp(ctx, xp, g, out, a, b):
        needs_a, needs_b = ctx.needs_input_grad
        return (g * b if needs_a else None), (g * a if needs_b else None)


class Div(Function):
    """d(a / b)/da = 1 / b, d(a / b)/db = -a / b^2 = -(a / b) / b."""

    def forward(ctx, a, b):
        return a / b

    def vjp(ctx, xp, g, out, a, b):
        grad_a = g / b
        return grad_a, (-(grad_a * out) if ctx.needs_input_grad[1] else None)


class Pow(Function):
    """d(a^b)/da = b * a^(b-1) (taken as 0 where a = b = 0), d(a^b)/db = a^b * log(a) (taken as 0 where a = 0 and b >= 0).

    Conventions: 0^0 = 1 with both partial derivatives 0 there; for a
    negative base the exponent's derivative is NaN (log of a negative number).
    """

    def forward(ctx, a, b):
        return np.power(a, b)

    def vjp(ctx, xp, g, out, a, b):
        base, exponent = ctx.inputs[0].data, ctx.inputs[1].data  # for the masks, constants in either mode
        needs_a, needs_b = ctx.needs_input_grad
        grad_a = grad_b = None
        if needs_a:
            grad_a = g * (b * a ** (b - 1))
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

    def forward(ctx, a):
        return -a

    def vjp(ctx, xp, g, out, a):
        return -g


class Exp(Function):
    """d exp(a)/da = exp(a)."""

    def forward(ctx, a):
        return np.exp(a)

    def vjp(ctx, xp, g, out, a):
        return g * out


class Log(Function):
    """d log(a)/da = 1 / a."""

    def forward(ctx, a):
        return np.log(a)

    def vjp(ctx, xp, g, out, a):
        return g / a


class Sqrt(Function):
    """d sqrt(a)/da = 1 / (2 sqrt(a)); at a = 0 that is +inf, as in PyTorch."""

    def forward(ctx, a):
        return np.sqrt(a)

    def vjp(ctx, xp, g, out, a):
        return g / (out * 2)


class Abs(Function):
    """d |a|/da = sign(a), taken as 0 at a = 0."""

    def forward(ctx, a):
        return np.abs(a)

    def vjp(ctx, xp, g, out, a):
        return g * np.sign(ctx.inputs[0].data)


class Relu(Function):
    """d relu(a)/da = 1 if a > 0 else 0 (0 at a = 0)."""

    def forward(ctx, a):
        return np.maximum(a, 0)

    def vjp(ctx, xp, g, out, a):
        return g * (ctx.inputs[0].data > 0)  # a bool mask keeps the gradient's dtype


class Sigmoid(Function):
    """d sigmoid(a)/da = sigmoid(a) * (1 - sigmoid(a)).

    Forward in one exp pass that never overflows: with e = exp(-|a|),
    sigmoid(a) = 1 / (1 + e) for a >= 0 and e / (1 + e) below, which keeps full
    relative precision far into the negative tail.
    """

    def forward(ctx, a):
        e = np.exp(-np.abs(a))
        s = 1 / (1 + e)
        return np.where(a >= 0, s, e * s)

    def vjp(ctx, xp, g, out, a):
        return g * out * (1 - out)


class Tanh(Function):
    """d tanh(a)/da = 1 - tanh(a)^2."""

    def forward(ctx, a):
        return np.tanh(a)

    def vjp(ctx, xp, g, out, a):
        return g * (1 - out * out)


class Softplus(Function):
    """d log(1 + exp(a))/da = sigmoid(a); forward as logaddexp(0, a), finite for any finite a."""

    def forward(ctx, a):
        return np.logaddexp(0, a)

    def vjp(ctx, xp, g, out, a):
        return g * xp.apply(Sigmoid, a)


class Maximum(Function):
    """d max(a, b)/da = 1 where a > b, 1/2 where a = b (ties split equally), else 0; b likewise."""

    def forward(ctx, a, b):
        return np.maximum(a, b)

    def vjp(ctx, xp, g, out, a, b):
        first, second = ctx.inputs[0].data, ctx.inputs[1].data
        share = _tie_share(first > second, first == second, g.dtype)
        return g * share, g * (1 - share)


class Minimum(Function):
    """d min(a, b)/da = 1 where a < b, 1/2 where a = b (ties split equally), else 0; b likewise."""

    def forward(ctx, a, b):
        return np.minimum(a, b)

    def vjp(ctx, xp, g, out, a, b):
        first, second = ctx.inputs[0].data, ctx.inputs[1].data
        share = _tie_share(first < second, first == second, g.dtype)
        return g * share, g * (1 - share)


def _tie_share(wins: np.ndarray, ties: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return wins.astype(dtype) + ties.astype(dtype) * 0.5


class Clip(Function):
    """d clip(a, lo, hi)/da = 1 where lo <= a <= hi, else 0 (the bounds themselves pass the gradient, as in PyTorch)."""

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


# ----- erf, for the exact GELU ------------------------------------------------------
# NumPy has no erf and `math.erf` one element at a time costs ~0.25 us per element
# (15 ms for a GPT's 65k activations). So erf is evaluated as polynomials fitted, once at
# import, by interpolating `math.erf`/`math.erfc` at Chebyshev points (well conditioned),
# then rewritten in powers of the local variable so that each term costs one in-place
# multiply and one add (Horner):
#   |x| < 1:       erf(x)  = x * P(x^2)                 (P smooth on [0, 1])
#   1 <= |x| < 6:  erfc(x) = exp(-x^2) * Q_k(x - m_k)   (Q_k = erfc(x) e^(x^2) around the piece's middle m_k)
#   |x| >= 6:      erf(x)  = sign(x)                    (erfc(6) < 2.2e-17, below half an ulp of 1)
# Worst error against math.erf over [-7, 7]: about 2e-15 (tests/test_functional_lm.py checks it).
_ERF_SMALL_DEGREE, _ERF_TAIL_DEGREE = 12, 16
_ERF_TAIL_PIECES = ((1.0, 2.0), (2.0, 3.0), (3.0, 4.0), (4.0, 6.0))


def _erf_over_x(t: np.ndarray) -> np.ndarray:
    """erf(sqrt(t)) / sqrt(t) for t in [0, 1] (2/sqrt(pi) at t = 0)."""
    root = np.sqrt(t)
    values = [math.erf(r) / r if r > 0 else 2.0 / math.sqrt(math.pi) for r in root.tolist()]
    return np.array(values)


def _scaled_erfc(x: np.ndarray) -> np.ndarray:
    """erfc(x) * exp(x^2)."""
    return np.array([math.erfc(v) * math.exp(v * v) for v in x.tolist()])


def _fit(function: Callable[[np.ndarray], np.ndarray], low: float, high: float, degree: int,
         origin: float) -> np.ndarray:
    """Power-series coefficients (in x - origin) of the Chebyshev interpolant of `function` on [low, high]."""
    def on_unit_interval(u: np.ndarray) -> np.ndarray:
        return function(low + (u + 1.0) * (high - low) / 2.0)
    coefficients = np.asarray(chebyshev.chebinterpolate(on_unit_interval, degree), dtype=np.float64)  # type: ignore[type-var]
    series = chebyshev.Chebyshev(coefficients, domain=[low, high])
    # domain -> window is the map x -> x - origin, so the coefficients are those of powers of (x - origin).
    local = series.convert(kind=polynomial.Polynomial, domain=[low, high], window=[low - origin, high - origin])
    return np.asarray(local.coef)


_ERF_SMALL = _fit(_erf_over_x, 0.0, 1.0, _ERF_SMALL_DEGREE, origin=0.0)
_ERF_TAIL = tuple((low, high, (low + high) / 2, _fit(_scaled_erfc, low, high, _ERF_TAIL_DEGREE, (low + high) / 2))
                  for low, high in _ERF_TAIL_PIECES)


def _horner(t: np.ndarray, coefficients: np.ndarray) -> np.ndarray:
    """sum_k c_k t^k, in place (two array operations per term)."""
    total = np.full_like(t, coefficients[-1])
    for coefficient in coefficients[-2::-1]:
        total *= t
        total += coefficient
    return total


def _erf_array(x: np.ndarray) -> np.ndarray:
    """The error function 2/sqrt(pi) * integral_0^x exp(-t^2) dt of an array (float64 inside, ~2e-15 accurate)."""
    shape = np.shape(x)
    values = np.asarray(x, dtype=np.float64).reshape(-1)  # 1-D, so masked assignment works for 0-d input too
    magnitude = np.abs(values)
    result = np.sign(values)  # |x| >= 6 (and NaN stays NaN)
    small = magnitude < 1.0
    if small.any():
        inside = values[small]
        result[small] = inside * _horner(inside * inside, _ERF_SMALL)
    for low, high, middle, coefficients in _ERF_TAIL:
        piece = (magnitude >= low) & (magnitude < high)
        if piece.any():
            inside = magnitude[piece]
            erfc = np.exp(-inside * inside) * _horner(inside - middle, coefficients)
            result[piece] = np.copysign(1.0 - erfc, values[piece])
    return result.reshape(shape)


class Erf(Function):
    """d erf(a)/da = 2/sqrt(pi) * exp(-a^2).  Forward: the polynomial kernel above (~2e-15 accurate)."""

    def forward(ctx, a):
        return _erf_array(a).astype(a.dtype, copy=False)

    def vjp(ctx, xp, g, out, a):
        return g * xp.exp(-(a * a)) * (2.0 / math.sqrt(math.pi))


# ---------------------------------------------------------------- piecewise-constant functions

class _Steps(Function):
    """A piecewise-constant function: d f(a)/da = 0 (PyTorch's convention at the jumps too).

    The output is part of the graph (``requires_grad`` as the input), and its
    gradient is an exact zero of the input's shape, as PyTorch gives.
    """

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

    def erf(self: Tensor) -> Tensor:
        """The error function 2/sqrt(pi) * integral_0^x exp(-t^2) dt (~2e-15 accurate).  d/dx = 2/sqrt(pi) exp(-x^2)."""
        return Erf.apply(self)

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
