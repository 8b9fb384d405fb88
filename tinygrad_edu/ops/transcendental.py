"""Transcendental primitives: trigonometric and hyperbolic functions and their inverses, log1p, expm1, erf.

Each states its derivative once, as ``vjp(ctx, xp, g, out, *inputs)`` (see
`tinygrad_edu.function.Function`).  Rules that need another function of the
input call its primitive through ``xp.apply`` (NumPy on arrays, a recorded op
under create_graph), so each stays differentiable again.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable

import numpy as np
from numpy.polynomial import chebyshev, polynomial

from ..autograd import Function
from ..function import ALWAYS

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = ["Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "Cos", "Cosh", "Erf", "Expm1", "Log1p", "Sin", "Sinh", "Tan",
           "TranscendentalMethods"]


# ---------------------------------------------------------------- trigonometric and hyperbolic functions
# Rules that need another function of the input call its primitive through ``xp.apply`` (NumPy on
# arrays, a recorded op under create_graph), so each stays differentiable again.

class Sin(Function):
    """d sin(a)/da = cos(a)."""

    exact_rule = ALWAYS

    forward = np.sin

    def vjp(ctx, xp, g, out, a):
        return g * xp.apply(Cos, a)


class Cos(Function):
    """d cos(a)/da = -sin(a)."""

    exact_rule = ALWAYS

    forward = np.cos

    def vjp(ctx, xp, g, out, a):
        return -(g * xp.apply(Sin, a))


class Tan(Function):
    """d tan(a)/da = 1 + tan(a)^2."""

    exact_rule = ALWAYS

    forward = np.tan

    def vjp(ctx, xp, g, out, a):
        return g * (out * out + 1)


class Sinh(Function):
    """d sinh(a)/da = cosh(a)."""

    exact_rule = ALWAYS

    forward = np.sinh

    def vjp(ctx, xp, g, out, a):
        return g * xp.apply(Cosh, a)


class Cosh(Function):
    """d cosh(a)/da = sinh(a)."""

    exact_rule = ALWAYS

    forward = np.cosh

    def vjp(ctx, xp, g, out, a):
        return g * xp.apply(Sinh, a)


class Asin(Function):
    """d asin(a)/da = 1 / sqrt(1 - a^2) (inf at |a| = 1, NaN outside [-1, 1])."""

    exact_rule = ALWAYS

    forward = np.arcsin

    def vjp(ctx, xp, g, out, a):
        return g * (1 - a * a) ** -0.5


class Acos(Function):
    """d acos(a)/da = -1 / sqrt(1 - a^2)."""

    exact_rule = ALWAYS

    forward = np.arccos

    def vjp(ctx, xp, g, out, a):
        return -(g * (1 - a * a) ** -0.5)


class Atan(Function):
    """d atan(a)/da = 1 / (1 + a^2)."""

    exact_rule = ALWAYS

    forward = np.arctan

    def vjp(ctx, xp, g, out, a):
        return g / (a * a + 1)


class Asinh(Function):
    """d asinh(a)/da = 1 / sqrt(a^2 + 1)."""

    exact_rule = ALWAYS

    forward = np.arcsinh

    def vjp(ctx, xp, g, out, a):
        return g * (a * a + 1) ** -0.5


class Acosh(Function):
    """d acosh(a)/da = 1 / sqrt(a^2 - 1) (defined for a >= 1)."""

    exact_rule = ALWAYS

    forward = np.arccosh

    def vjp(ctx, xp, g, out, a):
        return g * (a * a - 1) ** -0.5


class Atanh(Function):
    """d atanh(a)/da = 1 / (1 - a^2) (defined for |a| < 1)."""

    exact_rule = ALWAYS

    forward = np.arctanh

    def vjp(ctx, xp, g, out, a):
        return g / (1 - a * a)


class Log1p(Function):
    """d log(1 + a)/da = 1 / (1 + a); accurate for tiny a (NumPy's log1p)."""

    exact_rule = ALWAYS

    forward = np.log1p

    def vjp(ctx, xp, g, out, a):
        return g / (a + 1)


class Expm1(Function):
    """d (exp(a) - 1)/da = exp(a) = expm1(a) + 1; accurate for tiny a (NumPy's expm1)."""

    exact_rule = ALWAYS

    forward = np.expm1

    def vjp(ctx, xp, g, out, a):
        return g * (out + 1)

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

    exact_rule = ALWAYS

    def forward(ctx, a):
        return _erf_array(a).astype(a.dtype, copy=False)

    def vjp(ctx, xp, g, out, a):
        return g * xp.exp(-(a * a)) * (2.0 / math.sqrt(math.pi))


# ---------------------------------------------------------------- the Tensor methods of this family

class TranscendentalMethods:
    """``t.sin()``, ``t.atanh()``, ``t.log1p()``...: Tensor inherits them."""

    __slots__ = ()  # Tensor keeps its fixed slots: no base may add a __dict__

    def sin(self: Tensor) -> Tensor:
        """Sine.  d/dx = cos(x)."""
        return Sin.apply(self)

    def cos(self: Tensor) -> Tensor:
        """Cosine.  d/dx = -sin(x)."""
        return Cos.apply(self)

    def tan(self: Tensor) -> Tensor:
        """Tangent.  d/dx = 1 + tan(x)^2."""
        return Tan.apply(self)

    def sinh(self: Tensor) -> Tensor:
        """Hyperbolic sine.  d/dx = cosh(x)."""
        return Sinh.apply(self)

    def cosh(self: Tensor) -> Tensor:
        """Hyperbolic cosine.  d/dx = sinh(x)."""
        return Cosh.apply(self)

    def asin(self: Tensor) -> Tensor:
        """Inverse sine.  d/dx = 1 / sqrt(1 - x^2)."""
        return Asin.apply(self)

    def acos(self: Tensor) -> Tensor:
        """Inverse cosine.  d/dx = -1 / sqrt(1 - x^2)."""
        return Acos.apply(self)

    def atan(self: Tensor) -> Tensor:
        """Inverse tangent.  d/dx = 1 / (1 + x^2)."""
        return Atan.apply(self)

    def asinh(self: Tensor) -> Tensor:
        """Inverse hyperbolic sine.  d/dx = 1 / sqrt(x^2 + 1)."""
        return Asinh.apply(self)

    def acosh(self: Tensor) -> Tensor:
        """Inverse hyperbolic cosine (x >= 1).  d/dx = 1 / sqrt(x^2 - 1)."""
        return Acosh.apply(self)

    def atanh(self: Tensor) -> Tensor:
        """Inverse hyperbolic tangent (|x| < 1).  d/dx = 1 / (1 - x^2)."""
        return Atanh.apply(self)

    arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh

    def log1p(self: Tensor) -> Tensor:
        """log(1 + x), accurate for tiny x.  d/dx = 1 / (1 + x)."""
        return Log1p.apply(self)

    def expm1(self: Tensor) -> Tensor:
        """exp(x) - 1, accurate for tiny x.  d/dx = exp(x)."""
        return Expm1.apply(self)

    def erf(self: Tensor) -> Tensor:
        """The error function 2/sqrt(pi) * integral_0^x exp(-t^2) dt (~2e-15 accurate).  d/dx = 2/sqrt(pi) exp(-x^2)."""
        return Erf.apply(self)
