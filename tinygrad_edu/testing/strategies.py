"""Hypothesis strategies for property-testing tensor code, as the project tests its own ops.

>>> from hypothesis import given
>>> from tinygrad_edu import gradcheck
>>> from tinygrad_edu.testing.strategies import tensors
>>> @given(tensors())
... def test_tanh_gradient(x):
...     assert gradcheck(lambda t: t.tanh(), [x])
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..tensor import Tensor

__all__ = ["DEFAULT_LIMIT", "arrays", "broadcastable_shapes", "floats", "shapes", "tensors"]

DEFAULT_LIMIT = 3.0


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4) -> st.SearchStrategy:
    """Array shapes, e.g. (), (3,), (2, 4, 1)."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(shape: tuple, min_dims: int = 0, max_dims: Optional[int] = None, min_side: int = 1,
                         max_side: int = 4) -> st.SearchStrategy:
    """Shapes that broadcast against ``shape`` (some axes 1, some missing, some extra in front)."""
    top = max(len(shape), 1) + 1 if max_dims is None else max_dims
    return hnp.broadcastable_shapes(shape, min_dims=min_dims, max_dims=top, min_side=min_side, max_side=max_side)


def floats(limit: float = DEFAULT_LIMIT) -> st.SearchStrategy:
    """Finite floats in [-limit, limit]."""
    return st.floats(-limit, limit, allow_nan=False, allow_infinity=False, width=64)


def arrays(shape: Any, dtype: Any = np.float64, elements: Optional[st.SearchStrategy] = None) -> st.SearchStrategy:
    """NumPy arrays of ``shape`` (a tuple or a strategy of shapes); finite values in [-3, 3] by default."""
    if elements is None:
        elements = floats() if np.dtype(dtype).kind == "f" else None
    return hnp.arrays(dtype, shape, elements=elements)


def tensors(shape: Any = None, dtype: Any = np.float64, elements: Optional[st.SearchStrategy] = None,
            requires_grad: bool = True) -> st.SearchStrategy:
    """Tensors (float64 and requiring grad by default); ``shape`` None draws one from `shapes()`."""
    return arrays(shapes() if shape is None else shape, dtype, elements).map(
        lambda array: Tensor(array, requires_grad=requires_grad, dtype=dtype)
    )
