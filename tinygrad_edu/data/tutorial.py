"""The two tiny data sets the seed tutorials train on, as the tutorials write them.

Both return float64 arrays, as the tutorials' NumPy code does, so that a
tinygrad_edu network and the tutorials' hand-written updates can be compared to
the last bit.
"""
from __future__ import annotations

import numpy as np

__all__ = ["seed_example", "xor"]


def seed_example() -> tuple[np.ndarray, np.ndarray]:
    """The 3x4 example of "Neural Networks from Scratch in Python and R".

    Three samples with four binary features; the label is 1 for the first two.

    Returns:
        `(X, y)`: X float64 of shape (3, 4), y float64 of shape (3, 1).

    >>> X, y = seed_example()
    >>> X.shape, y.ravel().tolist()
    ((3, 4), [1.0, 1.0, 0.0])
    """
    inputs = np.array([[1, 0, 1, 0],
                       [1, 0, 1, 1],
                       [0, 1, 0, 1]], dtype=np.float64)
    targets = np.array([[1], [1], [0]], dtype=np.float64)
    return inputs, targets


def xor() -> tuple[np.ndarray, np.ndarray]:
    """XOR of the first two columns, with a constant third column of ones.

    The constant column stands in for a bias, which the "build your own Neural
    Network" tutorial's 3-4-1 network does not have.

    Returns:
        `(X, y)`: X float64 of shape (4, 3), y float64 of shape (4, 1).

    >>> X, y = xor()
    >>> X[:, 2].tolist(), y.ravel().tolist()
    ([1.0, 1.0, 1.0, 1.0], [0.0, 1.0, 1.0, 0.0])
    """
    inputs = np.array([[0, 0, 1],
                       [0, 1, 1],
                       [1, 0, 1],
                       [1, 1, 1]], dtype=np.float64)
    targets = np.array([[0], [1], [1], [0]], dtype=np.float64)
    return inputs, targets
