"""The Tensor's math that is composed from primitives: activations (gelu, elu, ...), log2, einsum, conv2d, pooling.

Each method hands its work to `tinygrad_edu.composite`, so none needs a
backward of its own.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from . import composite
from .ops import conv as _conv
from .ops import pool as _pool
from .ops.elementwise import Mul, Sqrt

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["CompositeMathMethods"]


class CompositeMathMethods:
    """``t.gelu()``, ``t.conv2d()``, ``Tensor.einsum()``...: Tensor inherits them."""

    __slots__ = ()  # Tensor keeps its fixed slots: no base may add a __dict__

    def leaky_relu(self: Tensor, negative_slope: float = 0.01) -> Tensor:
        """x for x > 0, else negative_slope * x.  d/dx = 1 or negative_slope (negative_slope at 0)."""
        return composite.leaky_relu(self, negative_slope)

    def gelu(self: Tensor) -> Tensor:
        """GELU in its tanh approximation (PyTorch's ``approximate="tanh"``), composed from primitives."""
        return composite.gelu(self)

    def log2(self: Tensor) -> Tensor:
        """Base-2 logarithm.  d/dx = 1 / (x log 2)."""
        return composite.log2(self)

    def log10(self: Tensor) -> Tensor:
        """Base-10 logarithm.  d/dx = 1 / (x log 10)."""
        return composite.log10(self)

    def exp2(self: Tensor) -> Tensor:
        """2^x.  d/dx = 2^x log 2."""
        return composite.exp2(self)

    def square(self: Tensor) -> Tensor:
        """x * x.  d/dx = 2x."""
        return Mul.apply(self, self)

    def reciprocal(self: Tensor) -> Tensor:
        """1 / x.  d/dx = -1 / x^2."""
        return 1.0 / self

    def rsqrt(self: Tensor) -> Tensor:
        """1 / sqrt(x).  d/dx = -1 / (2 x^(3/2))."""
        return 1.0 / Sqrt.apply(self)

    def relu6(self: Tensor) -> Tensor:
        """min(max(x, 0), 6).  d/dx = 1 for 0 < x < 6, else 0."""
        return composite.relu6(self)

    def hardsigmoid(self: Tensor) -> Tensor:
        """relu6(x + 3) / 6.  d/dx = 1/6 for -3 < x < 3, else 0."""
        return composite.hardsigmoid(self)

    def hardswish(self: Tensor) -> Tensor:
        """x * relu6(x + 3) / 6.  d/dx = (2x + 3) / 6 for -3 < x < 3, 0 below, 1 above."""
        return composite.hardswish(self)

    def mish(self: Tensor) -> Tensor:
        """x * tanh(softplus(x)).  d/dx = tanh(sp) + x sigmoid(x) (1 - tanh(sp)^2)."""
        return composite.mish(self)

    def elu(self: Tensor, alpha: float = 1.0) -> Tensor:
        """x for x > 0, else alpha (exp(x) - 1).  d/dx = 1 for x > 0, else alpha exp(x)."""
        return composite.elu(self, alpha)

    def selu(self: Tensor) -> Tensor:
        """scale * elu(x, alpha) with PyTorch's constants.  d/dx = scale, or scale alpha exp(x) for x <= 0."""
        return composite.selu(self)

    def logsigmoid(self: Tensor) -> Tensor:
        """log(sigmoid(x)), finite for any x.  d/dx = sigmoid(-x)."""
        return composite.logsigmoid(self)

    def softsign(self: Tensor) -> Tensor:
        """x / (1 + |x|).  d/dx = 1 / (1 + |x|)^2."""
        return composite.softsign(self)

    # ------------------------------------------------------------ products, convolution and pooling

    @staticmethod
    def einsum(subscripts: str, *operands: Any) -> Tensor:
        """Einstein summation, NumPy's notation.  d/da_k = einsum of the gradient with the other operands."""
        return composite.einsum(subscripts, *operands)

    def tensordot(self: Tensor, other: Any, dims: Any = 2) -> Tensor:
        """Contract the last ``dims`` axes of self with the first of other (or the paired axis lists)."""
        return composite.tensordot(self, other, dims)

    def outer(self: Tensor, other: Any) -> Tensor:
        """Outer product of two 1-D tensors.  d/da = g @ b, d/db = g^T @ a."""
        return composite.outer(self, other)

    def trace(self: Tensor) -> Tensor:
        """Sum of the main diagonal of a 2-D tensor.  d/dx = identity * g."""
        return composite.trace(self)

    def conv2d(self: Tensor, weight: Tensor, bias: Optional[Tensor] = None, stride: Any = 1, padding: Any = 0) -> Tensor:
        """2-D cross-correlation of NCHW input with OIHW weight: im2col and a matmul in one node (`ops.conv`)."""
        return _conv.conv2d(self, weight, bias, stride, padding)

    def conv1d(self: Tensor, weight: Tensor, bias: Optional[Tensor] = None, stride: Any = 1, padding: Any = 0) -> Tensor:
        """1-D cross-correlation of NCL input with OCK weight (conv2d on a height-1 image)."""
        return composite.conv1d(self, weight, bias, stride, padding)

    def max_pool2d(self: Tensor, kernel_size: Any, stride: Any = None) -> Tensor:
        """Max over each window of NCHW input (stride defaults to kernel_size); ties in a window split the gradient."""
        return _pool.max_pool2d(self, kernel_size, stride)

    def avg_pool2d(self: Tensor, kernel_size: Any, stride: Any = None) -> Tensor:
        """Mean over each window of NCHW input (stride defaults to kernel_size)."""
        return composite.avg_pool2d(self, kernel_size, stride)
