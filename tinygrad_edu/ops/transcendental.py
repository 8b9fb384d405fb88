"""Transcendental primitives: trigonometric and hyperbolic functions and their inverses, log1p and expm1.

Each states its derivative once, as ``vjp(ctx, xp, g, out, *inputs)`` (see
`tinygrad_edu.function.Function`).  Rules that need another function of the
input call its primitive through ``xp.apply`` (NumPy on arrays, a recorded op
under create_graph), so each stays differentiable again.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..autograd import Function

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = ["Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "Cos", "Cosh", "Expm1", "Log1p", "Sin", "Sinh", "Tan",
           "TranscendentalMethods"]


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
