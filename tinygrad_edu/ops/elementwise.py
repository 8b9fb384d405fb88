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
from typing import Callable

import numpy as np
from numpy.polynomial import chebyshev, polynomial

from ..autograd import Function

__all__ = ["Abs", "Add", "Cast", "Clip", "Div", "Exp", "Log", "Maximum", "Minimum", "Mul", "Neg", "Pow", "Relu",
           "Sigmoid", "Softplus", "Sqrt", "Sub", "Tanh", "Where"]
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


# ---------------------------------------------------------------- trigonometric and hyperbolic functions
# Rules that need another function of the input call its primitive through ``xp.apply`` (NumPy on
# arrays, a recorded op under create_graph), so each stays differentiable again.

class Sin(Function):
    """d sin(a)/da = cos(a)."""

    def forward(ctx, a):
        return np.sin(a)

    def vjp(ctx, xp, g, out, a):
        return g * xp.apply(Cos, a)


class Cos(Function):
    """d cos(a)/da = -sin(a)."""

    def forward(ctx, a):
        return np.cos(a)

    def vjp(ctx, xp, g, out, a):
        return -(g * xp.apply(Sin, a))


class Tan(Function):
    """d tan(a)/da = 1 + tan(a)^2."""

    def forward(ctx, a):
        return np.tan(a)

    def vjp(ctx, xp, g, out, a):
        return g * (out * out + 1)


class Sinh(Function):
    """d sinh(a)/da = cosh(a)."""

    def forward(ctx, a):
        return np.sinh(a)

    def vjp(ctx, xp, g, out, a):
        return g * xp.apply(Cosh, a)


class Cosh(Function):
    """d cosh(a)/da = sinh(a)."""

    def forward(ctx, a):
        return np.cosh(a)

    def vjp(ctx, xp, g, out, a):
        return g * xp.apply(Sinh, a)


class Asin(Function):
    """d asin(a)/da = 1 / sqrt(1 - a^2) (inf at |a| = 1, NaN outside [-1, 1])."""

    def forward(ctx, a):
        return np.arcsin(a)

    def vjp(ctx, xp, g, out, a):
        return g * (1 - a * a) ** -0.5


class Acos(Function):
    """d acos(a)/da = -1 / sqrt(1 - a^2)."""

    def forward(ctx, a):
        return np.arccos(a)

    def vjp(ctx, xp, g, out, a):
        return -(g * (1 - a * a) ** -0.5)


class Atan(Function):
    """d atan(a)/da = 1 / (1 + a^2)."""

    def forward(ctx, a):
        return np.arctan(a)

    def vjp(ctx, xp, g, out, a):
        return g / (a * a + 1)


class Asinh(Function):
    """d asinh(a)/da = 1 / sqrt(a^2 + 1)."""

    def forward(ctx, a):
        return np.arcsinh(a)

    def vjp(ctx, xp, g, out, a):
        return g * (a * a + 1) ** -0.5


class Acosh(Function):
    """d acosh(a)/da = 1 / sqrt(a^2 - 1) (defined for a >= 1)."""

    def forward(ctx, a):
        return np.arccosh(a)

    def vjp(ctx, xp, g, out, a):
        return g * (a * a - 1) ** -0.5


class Atanh(Function):
    """d atanh(a)/da = 1 / (1 - a^2) (defined for |a| < 1)."""

    def forward(ctx, a):
        return np.arctanh(a)

    def vjp(ctx, xp, g, out, a):
        return g / (1 - a * a)


class Log1p(Function):
    """d log(1 + a)/da = 1 / (1 + a); accurate for tiny a (NumPy's log1p)."""

    def forward(ctx, a):
        return np.log1p(a)

    def vjp(ctx, xp, g, out, a):
        return g / (a + 1)


class Expm1(Function):
    """d (exp(a) - 1)/da = exp(a) = expm1(a) + 1; accurate for tiny a (NumPy's expm1)."""

    def forward(ctx, a):
        return np.expm1(a)

    def vjp(ctx, xp, g, out, a):
        return g * (out + 1)


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
