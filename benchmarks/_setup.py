"""What every benchmark script does first: one thread everywhere, the checkout importable, PyTorch optional.

Import it before NumPy (``from _setup import torch, timed``): BLAS reads its
thread count when NumPy loads.
"""
from __future__ import annotations

import os
import sys
import time
from typing import Any, Callable

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # PyTorch is optional: its column is left out
    torch = None


def timed(fn: Callable[..., Any], *args: Any) -> float:
    """CPU seconds of this process for fn(*args).

    Every contender runs on one thread, and CPU time does not count the moments
    another process has the core, so the ratios hold on a busy machine.
    """
    start = time.process_time()
    fn(*args)
    return time.process_time() - start
