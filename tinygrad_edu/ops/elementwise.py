"""Elementwise primitives: arithmetic and the unary math functions.

Binary ops broadcast their operands as NumPy does; their backward rules may
return gradients of the broadcast shape, and the graph walk sums them back to
each input's shape (`autograd.unbroadcast`).
"""
from __future__ import annotations

import numpy as np

from .. import autograd
from ..autograd import Function


def _constant(array: np.ndarray):
    """A Tensor that carries no gradient (masks, signs)."""
    return autograd._make_tensor(array, None, False)


class Add(Function):
    """d(a + b)/da = 1, d(a + b)/db = 1."""

    def forward(ctx, a, b):
        return a + b

    def backward(ctx, grad_output):
        return grad_output, grad_output

    def backward_arrays(ctx, grad_output):
        return grad_output, grad_output


class Sub(Function):
    """d(a - b)/da = 1, d(a - b)/db = -1."""

    def forward(ctx, a, b):
        return a - b

    def backward(ctx, grad_output):
        return grad_output, (-grad_output if ctx.needs_input_grad[1] else None)

    def backward_arrays(ctx, grad_output):
        return grad_output, (-grad_output if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """d(a * b)/da = b, d(a * b)/db = a."""

    def forward(ctx, a, b):
        return a * b

    def backward(ctx, grad_output):
        a, b = ctx.inputs
        needs_a, needs_b = ctx.needs_input_grad
        return (grad_output * b if needs_a else None), (grad_output * a if needs_b else None)

    def backward_arrays(ctx, grad_output):
        a, b = ctx.inputs
        needs_a, needs_b = ctx.needs_input_grad
        return (grad_output * b.data if needs_a else None), (grad_output * a.data if needs_b else None)


class Div(Function):
    """d(a / b)/da = 1 / b, d(a / b)/db = -a / b^2 = -(a / b) / b."""

    def forward(ctx, a, b):
        return a / b

    def backward(ctx, grad_output):
        a, b = ctx.inputs
        grad_a = grad_output / b
        grad_b = -(grad_a * ctx.output) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Pow(Function):
    """d(a^b)/da = b * a^(b-1) (taken as 0 where a = b = 0), d(a^b)/db = a^b * log(a) (taken as 0 where a = 0 and b >= 0).

    Conventions: 0^0 = 1 with both partial derivatives 0 there; for a
    negative base the exponent's derivative is NaN (log of a negative number).
    """

    def forward(ctx, a, b):
        return np.power(a, b)

    def backward(ctx, grad_output):
        Tensor = autograd._Tensor  # noqa: N806
        a, b = ctx.inputs
        needs_a, needs_b = ctx.needs_input_grad
        grad_a = grad_b = None
        if needs_a:
            grad_a = grad_output * (b * a ** (b - 1))
            zero_zero = (a.data == 0) & (b.data == 0)  # 0 * 0^-1 would be NaN
            if zero_zero.any():
                grad_a = Tensor.where(zero_zero, 0.0, grad_a)
        if needs_b:
            grad_b = grad_output * ctx.output * a.log()
            zero_base = (a.data == 0) & (b.data >= 0)
            if zero_base.any():
                grad_b = Tensor.where(_constant(zero_base), 0.0, grad_b)
        return grad_a, grad_b


class Neg(Function):
    """d(-a)/da = -1."""

    def forward(ctx, a):
        return -a

    def backward(ctx, grad_output):
        return -grad_output


class Exp(Function):
    """d exp(a)/da = exp(a)."""

    def forward(ctx, a):
        return np.exp(a)

    def backward(ctx, grad_output):
        return grad_output * ctx.output


class Log(Function):
    """d log(a)/da = 1 / a."""

    def forward(ctx, a):
        return np.log(a)

    def backward(ctx, grad_output):
        return grad_output / ctx.inputs[0]


class Sqrt(Function):
    """d sqrt(a)/da = 1 / (2 sqrt(a)); at a = 0 that is +inf, as in PyTorch."""

    def forward(ctx, a):
        return np.sqrt(a)

    def backward(ctx, grad_output):
        return grad_output / (ctx.output * 2)


class Abs(Function):
    """d |a|/da = sign(a), taken as 0 at a = 0."""

    def forward(ctx, a):
        return np.abs(a)

    def backward(ctx, grad_output):
        return grad_output * _constant(np.sign(ctx.inputs[0].data))


class Relu(Function):
    """d relu(a)/da = 1 if a > 0 else 0 (0 at a = 0)."""

    def forward(ctx, a):
        return np.maximum(a, 0)

    def backward(ctx, grad_output):
        return grad_output * _constant(ctx.inputs[0].data > 0)  # a bool mask keeps the gradient's dtype

    def backward_arrays(ctx, grad_output):
        return grad_output * (ctx.inputs[0].data > 0)


class Sigmoid(Function):
    """d sigmoid(a)/da = sigmoid(a) * (1 - sigmoid(a)); forward as exp(-log(1 + exp(-a))) so no input overflows."""

    def forward(ctx, a):
        return np.exp(-np.logaddexp(0, -a))

    def backward(ctx, grad_output):
        return SigmoidBackward.apply(grad_output, ctx.output)

    def backward_arrays(ctx, grad_output):
        s = ctx.output_data
        return grad_output * s * (1 - s)


class SigmoidBackward(Function):
    """g * s * (1 - s) in one op (fused for speed); d/dg = s (1 - s), d/ds = g (1 - 2 s)."""

    op_name = "sigmoid_backward"

    def forward(ctx, g, s):
        return g * s * (1 - s)

    def backward(ctx, grad_output):
        g, s = ctx.inputs
        needs_g, needs_s = ctx.needs_input_grad
        return (grad_output * (s * (1 - s)) if needs_g else None), (grad_output * g * (1 - 2 * s) if needs_s else None)


class Tanh(Function):
    """d tanh(a)/da = 1 - tanh(a)^2."""

    def forward(ctx, a):
        return np.tanh(a)

    def backward(ctx, grad_output):
        return TanhBackward.apply(grad_output, ctx.output)

    def backward_arrays(ctx, grad_output):
        y = ctx.output_data
        return grad_output * (1 - y * y)


class TanhBackward(Function):
    """g * (1 - y^2) in one op (fused for speed); d/dg = 1 - y^2, d/dy = -2 g y."""

    op_name = "tanh_backward"

    def forward(ctx, g, y):
        return g * (1 - y * y)

    def backward(ctx, grad_output):
        g, y = ctx.inputs
        needs_g, needs_y = ctx.needs_input_grad
        return (grad_output * (1 - y * y) if needs_g else None), (grad_output * g * y * -2 if needs_y else None)


class Softplus(Function):
    """d log(1 + exp(a))/da = sigmoid(a); forward as logaddexp(0, a), finite for any finite a."""

    def forward(ctx, a):
        return np.logaddexp(0, a)

    def backward(ctx, grad_output):
        return grad_output * ctx.inputs[0].sigmoid()


class Maximum(Function):
    """d max(a, b)/da = 1 where a > b, 1/2 where a = b (ties split equally), else 0; b likewise."""

    def forward(ctx, a, b):
        return np.maximum(a, b)

    def backward(ctx, grad_output):
        a, b = ctx.inputs
        share = _tie_share(a.data > b.data, a.data == b.data, grad_output.dtype)
        return grad_output * _constant(share), grad_output * _constant(1 - share)


class Minimum(Function):
    """d min(a, b)/da = 1 where a < b, 1/2 where a = b (ties split equally), else 0; b likewise."""

    def forward(ctx, a, b):
        return np.minimum(a, b)

    def backward(ctx, grad_output):
        a, b = ctx.inputs
        share = _tie_share(a.data < b.data, a.data == b.data, grad_output.dtype)
        return grad_output * _constant(share), grad_output * _constant(1 - share)


def _tie_share(wins: np.ndarray, ties: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return wins.astype(dtype) + ties.astype(dtype) * 0.5


class Clip(Function):
    """d clip(a, lo, hi)/da = 1 where lo <= a <= hi, else 0 (the bounds themselves pass the gradient, as in PyTorch)."""

    def forward(ctx, a, low=None, high=None):
        ctx.low, ctx.high = low, high
        return np.clip(a, low, high)

    def backward(ctx, grad_output):
        data = ctx.inputs[0].data
        inside = np.ones(data.shape, dtype=bool)
        if ctx.low is not None:
            inside &= data >= ctx.low
        if ctx.high is not None:
            inside &= data <= ctx.high
        return grad_output * _constant(inside.astype(data.dtype))


class Where(Function):
    """d where(c, a, b)/da = 1 where c else 0; /db = 0 where c else 1.

    The unselected branch gets an exact zero (selected, not multiplied), so a
    NaN or inf gradient on one side never leaks into the other.
    """

    def forward(ctx, a, b, condition=None):
        ctx.condition = condition
        return np.where(condition, a, b)

    def backward(ctx, grad_output):
        condition = ctx.condition
        needs_a, needs_b = ctx.needs_input_grad
        zero = _constant(np.zeros((), dtype=grad_output.dtype))
        grad_a = Where.apply(grad_output, zero, condition=condition) if needs_a else None
        grad_b = Where.apply(zero, grad_output, condition=condition) if needs_b else None
        # The condition may broadcast the output beyond a and b; unbroadcast handles it.
        return grad_a, grad_b


class Cast(Function):
    """d cast(a)/da = 1, with the gradient cast back to a's dtype."""

    def forward(ctx, a, dtype=None):
        return a.astype(dtype)

    def backward(ctx, grad_output):
        return grad_output.cast(ctx.inputs[0].dtype)
