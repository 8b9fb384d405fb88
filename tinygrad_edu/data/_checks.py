"""Argument checks shared by the data-set functions: errors name the function, the argument and the value."""
from __future__ import annotations

import math

import numpy as np

from tinygrad_edu.random import get_generator


def check_count(func: str, name: str, value: object, minimum: int = 1) -> int:
    """Return `value` as an int, or raise if it is not an integer >= `minimum`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{func}: {name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{func}: {name} must be >= {minimum}, got {value}")
    return int(value)


def check_nonnegative(func: str, name: str, value: object) -> float:
    """Return `value` as a float, or raise if it is not a finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{func}: {name} must be a number, got {type(value).__name__} {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{func}: {name} must be a finite number >= 0, got {value}")
    return float(value)


def make_rng(func: str, seed: int | np.random.Generator | None) -> np.random.Generator:
    """A generator for `seed`: a fresh one for an int, the package's shared one for None."""
    if seed is None:
        return get_generator()
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{func}: seed must be an int, a numpy Generator or None, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"{func}: seed must be >= 0, got {seed}")
    return np.random.default_rng(int(seed))


def check_float_dtype(func: str, dtype: object) -> np.dtype:
    """Return `dtype` as a NumPy floating dtype, or raise naming what was given."""
    try:
        result = np.dtype(dtype)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(f"{func}: dtype must be a floating NumPy dtype, got {dtype!r}") from None
    if not np.issubdtype(result, np.floating):
        raise TypeError(f"{func}: dtype must be a floating NumPy dtype, got {result}")
    return result


def split_evenly(total: int, parts: int) -> list:
    """Sizes of `parts` groups that add up to `total` and differ by at most one (larger groups first)."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]

