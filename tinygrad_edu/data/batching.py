"""Mini-batches: `for X_batch, y_batch in batches(X, y, 32): ...`."""
from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import numpy as np

from tinygrad_edu.data._checks import check_count, make_rng

__all__ = ["batches"]


def _as_array(name: str, value: Any) -> tuple[np.ndarray, bool]:
    """`value`'s ndarray and whether it was a Tensor (so batches come back as Tensors)."""
    # A Tensor can only exist once its module is imported; looking there avoids importing the engine.
    tensor_module = sys.modules.get("tinygrad_edu.tensor")
    is_tensor = tensor_module is not None and isinstance(value, tensor_module.Tensor)
    array = value.data if is_tensor else np.asarray(value)
    if array.ndim == 0:
        raise ValueError(f"batches: {name} must have a sample axis, got a scalar {value!r}")
    return array, is_tensor


def _slice_batches(inputs: np.ndarray, targets: np.ndarray, order: np.ndarray, batch_size: int,
                   x_tensor: bool, y_tensor: bool) -> Iterator[tuple[Any, Any]]:
    if x_tensor or y_tensor:
        from tinygrad_edu.tensor import Tensor

    for start in range(0, len(order), batch_size):
        index = order[start:start + batch_size]
        input_batch, target_batch = inputs[index], targets[index]
        yield (Tensor(input_batch, dtype=input_batch.dtype) if x_tensor else input_batch,
               Tensor(target_batch, dtype=target_batch.dtype) if y_tensor else target_batch)


def batches(X: Any, y: Any, batch_size: int, shuffle: bool = True,  # noqa: N803 (API.md names them X, y)
            seed: int | np.random.Generator | None = None) -> Iterator[tuple[Any, Any]]:
    """Split `(X, y)` along the first axis into mini-batches, each sample exactly once.

    Args:
        X: samples, an ndarray (or anything `np.asarray` takes) or a Tensor.
        y: targets with as many rows as X, same kinds as X.
        batch_size: samples per batch (>= 1); the last batch keeps the remainder,
            so it may be smaller.
        shuffle: visit the samples in a random order (default); False keeps their order.
        seed: an int makes the order repeatable on its own; None draws it from the
            package generator (`tinygrad_edu.manual_seed`), so each epoch gets a new order.

    Returns:
        An iterator of `(X_batch, y_batch)` pairs: ndarrays (copies) for ndarray
        input, new Tensors without gradient for Tensor input. Arguments are checked
        and the order is drawn when `batches` is called, not at the first batch.

    >>> import numpy as np
    >>> X, y = np.arange(10).reshape(5, 2), np.arange(5)
    >>> [yb.tolist() for _, yb in batches(X, y, batch_size=2, shuffle=False)]
    [[0, 1], [2, 3], [4]]
    """
    batch_size = check_count("batches", "batch_size", batch_size)
    x_array, x_tensor = _as_array("X", X)
    y_array, y_tensor = _as_array("y", y)
    if len(x_array) != len(y_array):
        raise ValueError(f"batches: X and y must have the same number of samples, got X with "
                         f"{len(x_array)} (shape {x_array.shape}) and y with {len(y_array)} "
                         f"(shape {y_array.shape})")
    if shuffle:
        order = make_rng("batches", seed).permutation(len(x_array))
    else:
        order = np.arange(len(x_array))
    return _slice_batches(x_array, y_array, order, batch_size, x_tensor, y_tensor)
