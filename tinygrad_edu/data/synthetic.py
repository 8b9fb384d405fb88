"""Small 2-D classification sets made on the fly: moons, spirals and blobs.

Every generator returns `(X, y)` with

- `X` float32 of shape `(n_samples, n_features)` by default (`dtype=` changes
  it). float32 is deliberate: it is the dtype `Tensor` gives lists and the one
  layers are initialised in, so `model(Tensor(X))` stays float32 and fast
  instead of being promoted to float64.
- `y` int64 class labels `0 .. n_classes-1` of shape `(n_samples,)`, ready for
  `F.cross_entropy`. Use `y[:, None].astype(X.dtype)` as a target for a
  single sigmoid output.

Samples are split between the classes as evenly as possible (counts differ by at
most one) and come in shuffled order. `seed` makes a call repeatable on its own;
with `seed=None` the package generator is used, so `tinygrad_edu.manual_seed(n)`
makes the whole script repeatable.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import DTypeLike

from tinygrad_edu.data._checks import (
    check_count,
    check_float_dtype,
    check_nonnegative,
    make_rng,
    split_evenly,
)

__all__ = ["make_blobs", "make_moons", "make_spirals"]

# Turns of each spiral arm between its inner and outer end.
_SPIRAL_TURNS = 1.5
_SPIRAL_INNER_RADIUS = 0.15


def _shuffled(rng: np.random.Generator, points: np.ndarray, labels: np.ndarray,
              dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(len(labels))
    return points[order].astype(dtype), labels[order].astype(np.int64)


def make_moons(n_samples: int = 200, noise: float = 0.1, seed: int | np.random.Generator | None = None, *,
               dtype: DTypeLike = np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles: a data set a straight line cannot separate.

    Class 0 lies on the upper half of the unit circle around (0, 0); class 1 on
    the lower half of the unit circle around (1, 0.5). Gaussian noise of
    standard deviation `noise` is added to every coordinate.

    Args:
        n_samples: total number of points (>= 1), split evenly between the two moons.
        noise: standard deviation of the Gaussian noise (>= 0; 0 puts every point on its arc).
        seed: an int for a repeatable set, a `numpy.random.Generator`, or None for
            the package generator (`tinygrad_edu.manual_seed`).
        dtype: floating dtype of X (default float32).

    Returns:
        `(X, y)`: X of shape (n_samples, 2), y int64 of shape (n_samples,) with values 0 and 1.

    >>> X, y = make_moons(100, noise=0.1, seed=0)
    >>> X.shape, X.dtype, y.dtype, int(y.sum())
    ((100, 2), dtype('float32'), dtype('int64'), 50)
    """
    n_samples = check_count("make_moons", "n_samples", n_samples)
    noise = check_nonnegative("make_moons", "noise", noise)
    dtype = check_float_dtype("make_moons", dtype)
    rng = make_rng("make_moons", seed)

    n_upper, n_lower = split_evenly(n_samples, 2)
    t_upper = np.linspace(0.0, math.pi, n_upper)
    t_lower = np.linspace(0.0, math.pi, n_lower)
    upper = np.stack([np.cos(t_upper), np.sin(t_upper)], axis=1)
    lower = np.stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)], axis=1)
    points = np.concatenate([upper, lower])
    labels = np.concatenate([np.zeros(n_upper), np.ones(n_lower)])
    points += noise * rng.standard_normal(points.shape)
    return _shuffled(rng, points, labels, dtype)


def make_spirals(n_samples: int = 200, noise: float = 0.05, seed: int | np.random.Generator | None = None, *,
                 n_classes: int = 2,
                 dtype: DTypeLike = np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms, one per class: hard for a linear model, easy for a small MLP.

    Arm k runs from radius 0.15 to 1 while turning 1.5 times; point i of an arm
    sits at radius r and angle `3*pi*r + 2*pi*k/n_classes`. Neighbouring arms are
    1/n_classes of a turn apart, i.e. `1/(1.5*n_classes)` apart along a radius.
    Gaussian noise of standard deviation `noise` is added to every coordinate.

    Args:
        n_samples: total number of points (>= 1), split evenly between the arms.
        noise: standard deviation of the Gaussian noise (>= 0; default 0.05, a
            third of the gap between two arms).
        seed: an int for a repeatable set, a `numpy.random.Generator`, or None for
            the package generator (`tinygrad_edu.manual_seed`).
        n_classes: number of arms (>= 2).
        dtype: floating dtype of X (default float32).

    Returns:
        `(X, y)`: X of shape (n_samples, 2), y int64 of shape (n_samples,) with values 0 .. n_classes-1.

    >>> X, y = make_spirals(300, seed=0, n_classes=3)
    >>> X.shape, sorted(set(y.tolist()))
    ((300, 2), [0, 1, 2])
    """
    n_samples = check_count("make_spirals", "n_samples", n_samples)
    noise = check_nonnegative("make_spirals", "noise", noise)
    n_classes = check_count("make_spirals", "n_classes", n_classes, minimum=2)
    dtype = check_float_dtype("make_spirals", dtype)
    rng = make_rng("make_spirals", seed)

    arms, labels = [], []
    for label, size in enumerate(split_evenly(n_samples, n_classes)):
        radius = np.linspace(_SPIRAL_INNER_RADIUS, 1.0, size)
        angle = 2 * math.pi * (_SPIRAL_TURNS * radius + label / n_classes)
        arms.append(np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1))
        labels.append(np.full(size, label))
    points = np.concatenate(arms)
    points += noise * rng.standard_normal(points.shape)
    return _shuffled(rng, points, np.concatenate(labels), dtype)


def make_blobs(n_samples: int = 200, centers: int | Sequence | np.ndarray = 3,
               cluster_std: float | Sequence[float] | np.ndarray = 1.0,
               seed: int | np.random.Generator | None = None, *, n_features: int | None = None,
               center_box: tuple[float, float] = (-10.0, 10.0),
               dtype: DTypeLike = np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian clusters around given or random centres, one class per centre.

    Args:
        n_samples: total number of points (>= 1), split evenly between the centres.
        centers: an int k (k random centres, uniform in `center_box` along every
            axis, drawn from the same generator as the points) or an array of
            centre coordinates of shape (k, n_features).
        cluster_std: standard deviation of every cluster (a number), or one per
            centre (a sequence of length k); each >= 0.
        seed: an int for a repeatable set, a `numpy.random.Generator`, or None for
            the package generator (`tinygrad_edu.manual_seed`).
        n_features: dimension of the points for random centres (default 2); when
            `centers` is an array it must agree with it if given.
        center_box: `(low, high)` bounds of random centres.
        dtype: floating dtype of X (default float32).

    Returns:
        `(X, y)`: X of shape (n_samples, n_features), y int64 of shape (n_samples,) with values 0 .. k-1.

    >>> X, y = make_blobs(90, centers=[[0, 0], [5, 5], [0, 5]], cluster_std=0.5, seed=0)
    >>> X.shape, [int(c) for c in np.bincount(y)]
    ((90, 2), [30, 30, 30])
    """
    n_samples = check_count("make_blobs", "n_samples", n_samples)
    dtype = check_float_dtype("make_blobs", dtype)
    rng = make_rng("make_blobs", seed)
    if n_features is not None:
        n_features = check_count("make_blobs", "n_features", n_features)

    if isinstance(centers, (int, np.integer)) and not isinstance(centers, bool):
        n_centers = check_count("make_blobs", "centers", centers)
        low, high = (float(bound) for bound in center_box)
        if not low < high:
            raise ValueError(f"make_blobs: center_box must be (low, high) with low < high, got {center_box}")
        centre_array = rng.uniform(low, high, size=(n_centers, n_features or 2))
    else:
        try:
            centre_array = np.asarray(centers, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"make_blobs: centers must be an int or an array of shape (k, n_features), "
                            f"got {centers!r}") from None
        if centre_array.ndim != 2 or centre_array.shape[0] < 1 or centre_array.shape[1] < 1:
            raise ValueError(f"make_blobs: centers must have shape (k, n_features) with k, n_features >= 1, "
                             f"got shape {centre_array.shape}")
        if not np.all(np.isfinite(centre_array)):
            raise ValueError("make_blobs: centers must be finite")
        if n_features is not None and n_features != centre_array.shape[1]:
            raise ValueError(f"make_blobs: n_features={n_features} does not match centers of shape "
                             f"{centre_array.shape}")
        n_centers = centre_array.shape[0]

    stds = np.asarray(cluster_std, dtype=np.float64)
    if stds.ndim == 0:
        stds = np.full(n_centers, float(stds))
    if stds.shape != (n_centers,):
        raise ValueError(f"make_blobs: cluster_std must be a number or one value per centre ({n_centers}), "
                         f"got shape {stds.shape}")
    if not np.all(np.isfinite(stds)) or np.any(stds < 0):
        raise ValueError(f"make_blobs: cluster_std must be finite and >= 0, got {stds.tolist()}")

    labels = np.repeat(np.arange(n_centers), split_evenly(n_samples, n_centers))
    points = centre_array[labels] + stds[labels, None] * rng.standard_normal((n_samples, centre_array.shape[1]))
    return _shuffled(rng, points, labels, dtype)
