"""The default dtype, and the error for a dtype that cannot do what was asked."""
from __future__ import annotations

import numpy as np

__all__ = ["DEFAULT_DTYPE", "DtypeError"]

DEFAULT_DTYPE = np.dtype(np.float32)


class DtypeError(TypeError, RuntimeError):
    """A dtype that cannot do what was asked (a TypeError; also a RuntimeError, as PyTorch raises)."""
