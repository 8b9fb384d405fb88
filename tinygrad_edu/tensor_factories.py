"""Ways to make a Tensor other than ``Tensor(data)``: zeros, ones, ranges, random samples.

Random ones draw from the package's generator (`tinygrad_edu.random`), so
`tinygrad_edu.manual_seed` makes them repeat.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from .checks import shape_arg
from .dtypes import DEFAULT_DTYPE, DtypeError
from .random import get_generator

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["FactoryMethods"]


class FactoryMethods:
    """``Tensor.zeros``, ``Tensor.randn``, ``t.multinomial()``...: Tensor inherits them."""

    __slots__ = ()  # Tensor keeps its fixed slots: no base may add a __dict__

    @classmethod
    def zeros(cls: type[Tensor], *shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """A tensor of zeros: ``Tensor.zeros(2, 3)`` or ``Tensor.zeros((2, 3))``."""
        return cls(np.zeros(shape_arg(shape, "zeros")), requires_grad, dtype or DEFAULT_DTYPE)

    @classmethod
    def ones(cls: type[Tensor], *shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """A tensor of ones: ``Tensor.ones(2, 3)`` or ``Tensor.ones((2, 3))``."""
        return cls(np.ones(shape_arg(shape, "ones")), requires_grad, dtype or DEFAULT_DTYPE)

    @classmethod
    def full(cls: type[Tensor], shape: Any, value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """A tensor of ``shape`` filled with ``value``."""
        return cls(np.full(shape_arg((shape,), "full"), value), requires_grad, dtype or DEFAULT_DTYPE)

    @classmethod
    def eye(cls: type[Tensor], n: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """The n x n identity matrix."""
        return cls(np.eye(shape_arg((n,), "eye")[0]), requires_grad, dtype or DEFAULT_DTYPE)

    @classmethod
    def arange(cls: type[Tensor], start: float, stop: Optional[float] = None, step: float = 1, dtype: Any = None,
               requires_grad: bool = False) -> Tensor:
        """Evenly spaced values in [start, stop) (``arange(n)`` counts from 0), float32 by default."""
        if step == 0:
            raise ValueError("arange: step must not be zero")
        values = np.arange(start, stop, step) if stop is not None else np.arange(start)
        return cls(values, requires_grad, dtype or DEFAULT_DTYPE)

    @classmethod
    def rand(cls: type[Tensor], *shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """Uniform samples in [0, 1); reproducible after `tinygrad_edu.manual_seed`."""
        return cls(get_generator().random(shape_arg(shape, "rand")), requires_grad, dtype or DEFAULT_DTYPE)

    @classmethod
    def randn(cls: type[Tensor], *shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """Standard normal samples; reproducible after `tinygrad_edu.manual_seed`."""
        return cls(get_generator().standard_normal(shape_arg(shape, "randn")), requires_grad,
                      dtype or DEFAULT_DTYPE)

    @classmethod
    def randint(cls: type[Tensor], low: int, high: Any = None, size: Any = None, dtype: Any = np.int64) -> Tensor:
        """Integers uniform in [low, high) (int64), from `manual_seed`'s generator; ``randint(high, size)`` too."""
        if size is None:
            low, high, size = 0, low, high
        for name, value in (("low", low), ("high", high)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"randint: {name} must be an int, got {value!r}")
        if low >= high:
            raise ValueError(f"randint: low ({low}) must be less than high ({high})")
        shape = shape_arg((size,) if isinstance(size, (tuple, list)) else (size,) if size is not None else (), "randint")
        return cls._make(get_generator().integers(low, high, size=shape, dtype=np.dtype(dtype)), None, False)

    @classmethod
    def zeros_like(cls: type[Tensor], t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """Zeros of t's shape and dtype (or ``dtype``)."""
        return cls(np.zeros(np.shape(t.data if isinstance(t, cls) else t)), requires_grad, dtype or _dtype_of(t, cls))

    @classmethod
    def ones_like(cls: type[Tensor], t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """Ones of t's shape and dtype (or ``dtype``)."""
        return cls(np.ones(np.shape(t.data if isinstance(t, cls) else t)), requires_grad, dtype or _dtype_of(t, cls))

    @classmethod
    def randn_like(cls: type[Tensor], t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """Standard normal samples of t's shape (float dtype), from `manual_seed`'s generator."""
        return cls.randn(*np.shape(t.data if isinstance(t, cls) else t), dtype=_float_dtype(t, cls, dtype, "randn_like"),
                        requires_grad=requires_grad)

    @classmethod
    def rand_like(cls: type[Tensor], t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """Uniform [0, 1) samples of t's shape (float dtype), from `manual_seed`'s generator."""
        return cls.rand(*np.shape(t.data if isinstance(t, cls) else t), dtype=_float_dtype(t, cls, dtype, "rand_like"),
                        requires_grad=requires_grad)

    def multinomial(self: Tensor, num_samples: int, replacement: bool = False) -> Tensor:
        """Category indices (int64, no gradient) drawn from the weights in each row, from `manual_seed`'s generator.

        A 1-D tensor gives ``num_samples`` draws; each row of a 2-D one samples
        independently.  Without replacement no category repeats within a row.
        """
        return self._make(_multinomial(self.data, num_samples, replacement), None, False)


def _float_dtype(t: Any, cls: Any, dtype: Any, name: str) -> np.dtype:
    """The dtype a random ``*_like`` draws in: ``dtype`` or t's, which must be floating."""
    dtype = np.dtype(dtype or _dtype_of(t, cls))
    if dtype.kind != "f":
        raise DtypeError(f"{name}: needs a floating dtype, got {dtype}")
    return dtype


def _dtype_of(value: Any, tensor_type: type[Tensor]) -> np.dtype:
    return value.data.dtype if isinstance(value, tensor_type) else np.asarray(value).dtype


def _multinomial(weights: np.ndarray, num_samples: int, replacement: bool) -> np.ndarray:
    """Indices drawn per row of ``weights`` (1-D or 2-D, non-negative, not all zero)."""
    if weights.ndim not in (1, 2):
        raise ValueError(f"multinomial: expects a 1-D or 2-D tensor of probabilities, got shape {weights.shape}")
    if weights.dtype.kind != "f":
        raise DtypeError(f"multinomial: expects floating-point probabilities, got dtype {weights.dtype}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) or num_samples <= 0:
        raise ValueError(f"multinomial: num_samples must be a positive int, got {num_samples!r}")
    rows = np.atleast_2d(weights).astype(np.float64)
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise ValueError("multinomial: probabilities must be finite and non-negative")
    totals = rows.sum(axis=1, keepdims=True)
    if (totals <= 0).any():
        raise ValueError("multinomial: every row of probabilities must have a positive sum")
    if not replacement and num_samples > (rows > 0).sum(axis=1).min():
        raise ValueError(f"multinomial: cannot draw {num_samples} samples without replacement from a row with only "
                         f"{(rows > 0).sum(axis=1).min()} non-zero probabilities")
    generator = get_generator()
    if replacement:
        cdf = np.cumsum(rows / totals, axis=1)
        draws = generator.random((rows.shape[0], int(num_samples)))
        out = np.stack([np.searchsorted(row, draw, side="right") for row, draw in zip(cdf, draws)])
        out = np.minimum(out, rows.shape[1] - 1)
    else:
        out = np.stack([generator.choice(rows.shape[1], size=int(num_samples), replace=False, p=row / row.sum())
                        for row in rows])
    out = out.astype(np.int64)
    return out[0] if weights.ndim == 1 else out
