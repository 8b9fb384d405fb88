"""The 8x8 handwritten digits, shipped inside the package (no download, no scikit-learn).

`digits.npz` next to this file holds the 1797 images of the UCI "Optical
Recognition of Handwritten Digits" test set as scikit-learn distributes them
(`images`: uint8 (1797, 8, 8), pixel counts 0..16; `labels`: uint8 (1797,),
0..9), compressed to about 45 KB. Source: E. Alpaydin and C. Kaynak, UCI Machine
Learning Repository, CC BY 4.0.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np
from numpy.typing import DTypeLike

from tinygrad_edu.data._checks import check_float_dtype

__all__ = ["N_DIGITS", "load_digits"]

N_DIGITS = 1797
_FILE_NAME = "digits.npz"


@lru_cache(maxsize=1)
def _raw_digits() -> tuple[np.ndarray, np.ndarray]:
    """The stored uint8 images and labels, read once per process (never written to)."""
    source = resources.files("tinygrad_edu.data").joinpath(_FILE_NAME)
    with source.open("rb") as file, np.load(file, allow_pickle=False) as archive:
        images, labels = archive["images"], archive["labels"]
    if images.shape != (N_DIGITS, 8, 8) or labels.shape != (N_DIGITS,):
        raise RuntimeError(f"{_FILE_NAME} is damaged: images {images.shape}, labels {labels.shape}; "
                           "reinstall tinygrad_edu")
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def load_digits(scaled: bool = True, images: bool = False, *,
                dtype: DTypeLike = np.float32) -> tuple[np.ndarray, np.ndarray]:
    """The 8x8 handwritten digits: 1797 grey images of 0..9, about 180 of each.

    Works offline: the data ships inside the package.

    Args:
        scaled: divide the pixel counts (0..16) by 16 so X lies in [0, 1]
            (default); False keeps the counts 0..16 (still as `dtype`).
        images: False (default) gives flat rows of 64 pixels, shape (1797, 64),
            for an MLP; True gives NCHW images of shape (1797, 1, 8, 8) for `nn.Conv2d`.
        dtype: floating dtype of X (default float32, the dtype layers start in).

    Returns:
        `(X, y)`: X as above (a fresh array each call), y int64 labels of shape (1797,).
        The order is the data set's fixed order; shuffle or split it yourself.

    >>> X, y = load_digits()
    >>> X.shape, X.dtype, float(X.max()), y[:5].tolist()
    ((1797, 64), dtype('float32'), 1.0, [0, 1, 2, 3, 4])
    """
    dtype = check_float_dtype("load_digits", dtype)
    raw_images, raw_labels = _raw_digits()
    pixels = raw_images.astype(dtype)
    if scaled:
        pixels /= 16
    pixels = pixels.reshape(N_DIGITS, 1, 8, 8) if images else pixels.reshape(N_DIGITS, 64)
    return pixels, raw_labels.astype(np.int64)
