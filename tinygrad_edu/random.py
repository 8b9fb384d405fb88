"""The package's random number generator: one place to seed, so runs repeat.

`manual_seed(n)` makes `Tensor.rand`/`Tensor.randn`, layer initialisation and
dropout reproducible, the way `torch.manual_seed` does.
"""
from __future__ import annotations

import numpy as np

__all__ = ["get_generator", "manual_seed"]

_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the generator behind rand, randn, initialisation and dropout.

    >>> import tinygrad_edu as tg
    >>> _ = tg.manual_seed(0); a = tg.Tensor.randn(2)
    >>> _ = tg.manual_seed(0); bool((a == tg.Tensor.randn(2)).data.all())
    True
    """
    global _generator
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed expects an int, got {type(seed).__name__}")
    _generator = np.random.default_rng(int(seed))
    return _generator


def get_generator() -> np.random.Generator:
    """The generator currently in use (changes after each `manual_seed`)."""
    return _generator
