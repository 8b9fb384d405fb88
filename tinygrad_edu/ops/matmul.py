"""Matrix multiplication with NumPy ``matmul`` semantics (1-D, 2-D and batched with broadcasting)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd import Function

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = ["Einsum", "Linear", "MatMul", "MatMulMethods", "einsum_subscripts"]


class MatMul(Function):
    """d(A @ B)/dA = G @ B^T, d(A @ B)/dB = A^T @ G.

    A 1-D left operand is treated as a row (1, n) and a 1-D right operand as a
    column (n, 1), as NumPy does; broadcast batch axes are summed back by the
    graph walk.
    """

    def forward(ctx, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes {a.shape} and {b.shape}")
        inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if a.shape[-1] != inner_b:
            raise ValueError(
                f"matmul: shapes {a.shape} and {b.shape} do not match: the last dimension of the left "
                f"operand ({a.shape[-1]}) must equal the {'only' if b.ndim == 1 else 'second-to-last'} "
                f"dimension of the right operand ({inner_b})"
            )
        return np.matmul(a, b)

    def vjp(ctx, xp, g, out, a, b):
        needs_a, needs_b = ctx.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:  # a dot product: d(a.b)/da = b, d(a.b)/db = a
            return (g * b if needs_a else None), (g * a if needs_b else None)
        if a.ndim == 1:
            g = xp.unsqueeze(g, -2)
        if b.ndim == 1:
            g = xp.unsqueeze(g, -1)
        grad_a = grad_b = None
        if needs_a:
            grad_a = g @ xp.swapaxes(xp.unsqueeze(b, -1) if b.ndim == 1 else b, -1, -2)
            if a.ndim == 1:
                grad_a = xp.squeeze(grad_a, -2)
        if needs_b:
            grad_b = xp.swapaxes(xp.unsqueeze(a, 0) if a.ndim == 1 else a, -1, -2) @ g
            if b.ndim == 1:
                grad_b = xp.squeeze(grad_b, -1)
        return grad_a, grad_b


class Linear(Function):
    """x @ w^T + b in one op (fused for speed, like PyTorch's addmm).

    d/dx = G w, d/dw = G^T x and d/db = sum(G), with G and x flattened over
    their leading (batch) axes.
    """

    def forward(ctx, x, weight, bias=None):
        # (B, T, in) as one (B*T, in) matrix: one BLAS call instead of one per leading index
        out = np.matmul(x if x.ndim <= 2 else x.reshape(-1, x.shape[-1]), weight.T)
        if bias is not None:
            out += bias  # a fresh array: adding in place saves one allocation
        return out if x.ndim <= 2 else out.reshape(x.shape[:-1] + (weight.shape[0],))

    def vjp(ctx, xp, g, out, x, weight, bias=None):
        needs = ctx.needs_input_grad
        rows = g if g.ndim == 2 else g.reshape(-1, g.shape[-1])
        grad_x = None
        if needs[0]:
            grad_x = g @ weight if g.ndim <= 2 else (rows @ weight).reshape(x.shape)
        grad_weight = rows.T @ (x if x.ndim == 2 else x.reshape(-1, x.shape[-1])) if needs[1] else None
        if len(needs) == 2:
            return grad_x, grad_weight
        return grad_x, grad_weight, (xp.sum(rows, 0) if needs[2] else None)


class Einsum(Function):
    """d einsum(s_1,...,s_n -> o)/da_k = einsum(o, s_j (j != k) -> s_k) of g with the other operands.

    ``subscripts`` arrive normalised (explicit ``->``, no ``...``; see
    `einsum_subscripts`).  An index repeated within operand k (a diagonal,
    ``ii``) is renamed in the gradient and tied back by an identity matrix; an
    index only operand k has (summed away) gets a vector of ones, so every
    rule is one einsum, differentiable again.
    """

    def forward(ctx, *arrays, subscripts=""):
        ctx.subscripts = subscripts
        # NumPy's optimize plans the contraction as BLAS products (4x faster on batched attention-sized
        # operands); the planning costs about 8 us, more than tiny operands take without it.
        optimize = len(arrays) > 1 and sum(array.size for array in arrays) > _PLAN_ABOVE
        return np.einsum(subscripts, *arrays, optimize=optimize)

    def vjp(ctx, xp, g, out, *operands):
        inputs, output = ctx.subscripts.split("->")
        terms = inputs.split(",")
        used = set(ctx.subscripts)
        fresh = iter(letter for letter in _LETTERS if letter not in used)
        grads = []
        for k, (target, needed) in enumerate(zip(terms, ctx.needs_input_grad)):
            if not needed:
                grads.append(None)
                continue
            shape = ctx.inputs[k].shape
            subs, values = [output], [g]
            for j, term in enumerate(terms):
                if j != k:
                    subs.append(term)
                    values.append(operands[j])
            elsewhere = set("".join(subs))
            constants, seen, renamed = [], set(), ""
            for letter, size in zip(target, shape):
                if letter in seen:
                    new = next(fresh)
                    constants.append((letter + new, np.eye(size, dtype=g.dtype)))
                    renamed += new
                    continue
                seen.add(letter)
                renamed += letter
                if letter not in elsewhere:
                    constants.append((letter, np.ones(size, dtype=g.dtype)))
            for term, array in constants:
                subs.append(term)
                values.append(ctx.inputs[0]._make(array, None, False) if xp.records_graph else array)
            grads.append(xp.apply(Einsum, *values, subscripts=",".join(subs) + "->" + renamed))
        return tuple(grads)


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_PLAN_ABOVE = 512  # elements in all operands together


def einsum_subscripts(subscripts: str, shapes: list) -> str:
    """``subscripts`` checked against the operands' shapes and made explicit: ``...`` spelled out in letters, ``->`` added."""
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: subscripts must be a string, got {type(subscripts).__name__}")
    text = subscripts.replace(" ", "")
    inputs, arrow, output = text.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: {subscripts!r} names {len(terms)} operand(s) but {len(shapes)} were given")
    for term in terms + ([output] if arrow else []):
        bad = set(term.replace("...", "")) - set(_LETTERS)
        if bad or term.count("...") > 1:
            raise ValueError(f"einsum: subscripts {subscripts!r} may hold only letters and one '...' per operand")
    spare = [letter for letter in _LETTERS if letter not in text]
    extra = max([len(shape) - len(term.replace("...", "")) for term, shape in zip(terms, shapes) if "..." in term],
                default=0)
    ellipsis = "".join(spare[:extra])
    explicit = []
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        count = len(shape) - len(term.replace("...", ""))
        if "..." in term:
            if count < 0:
                raise ValueError(f"einsum: operand {i} has shape {shape}, too few dimensions for {term!r}")
            term = term.replace("...", ellipsis[len(ellipsis) - count:])
        if len(term) != len(shape):
            raise ValueError(f"einsum: operand {i} has {len(shape)} dimension(s) (shape {shape}) but subscripts "
                             f"{term!r} name {len(term)}")
        explicit.append(term)
    if arrow:
        output = output.replace("...", ellipsis)
    else:
        letters = "".join(explicit)
        output = ellipsis + "".join(sorted(x for x in set(letters) if letters.count(x) == 1 and x not in ellipsis))
    sizes: dict = {}
    for i, (term, shape) in enumerate(zip(explicit, shapes)):
        for letter, size in zip(term, shape):
            if sizes.get(letter, size) != size and size != 1 and sizes[letter] != 1:
                raise ValueError(f"einsum: index {letter!r} has size {sizes[letter]} in one operand and {size} in "
                                 f"operand {i} ({subscripts!r}, shapes {shapes})")
            sizes[letter] = max(sizes.get(letter, size), size)
    for letter in output:
        if letter not in sizes or output.count(letter) > 1:
            raise ValueError(f"einsum: output index {letter!r} of {subscripts!r} must appear once, and in an input")
    return ",".join(explicit) + "->" + output

# ---------------------------------------------------------------- the Tensor methods of this family

class MatMulMethods:
    """``t.matmul(u)`` (also ``t.dot(u)``): Tensor inherits it."""

    __slots__ = ()  # Tensor keeps its fixed slots: no base may add a __dict__

    def matmul(self: Tensor, other: Any) -> Tensor:
        """Matrix product with NumPy ``matmul`` semantics.  d/dA = G B^T, d/dB = A^T G."""
        return MatMul.apply(self, other if type(other) is type(self) else self._as_operand(other))

    dot = matmul
