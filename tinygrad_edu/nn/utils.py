"""Training utilities: `clip_grad_norm_`, as `torch.nn.utils` has it.

>>> import tinygrad_edu as tg, tinygrad_edu.nn as nn
>>> w = tg.Tensor([3.0, 4.0], requires_grad=True)
>>> (w * w).sum().backward()          # grad = [6, 8], norm 10
>>> nn.utils.clip_grad_norm_([w], max_norm=1.0).item()
10.0
>>> [round(g, 4) for g in w.grad.tolist()]
[0.6, 0.8]
"""
from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from tinygrad_edu.tensor import Tensor

__all__ = ["clip_grad_norm_"]


def _vector_norm(array: np.ndarray, norm_type: float) -> np.floating:
    magnitudes = np.abs(array.reshape(-1))
    if norm_type == math.inf:
        return magnitudes.max() if magnitudes.size else magnitudes.dtype.type(0)
    if norm_type == 2.0:
        return np.sqrt(np.dot(magnitudes, magnitudes))
    return np.sum(magnitudes ** norm_type) ** (1.0 / norm_type)


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Scale the gradients in place so that their total norm is at most `max_norm`; return the norm before.

    The total norm is the `norm_type`-norm of all gradients taken as one vector
    (`norm_type=float("inf")`: the largest |g|). As PyTorch, every gradient is
    multiplied by min(1, max_norm / (total_norm + 1e-6)); parameters without a
    gradient are skipped. With `error_if_nonfinite=True` a NaN or infinite total
    norm raises `RuntimeError` instead of spreading NaN into the gradients.
    Runs outside autograd (on `.grad.data`), like an optimizer step.
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    params = list(parameters)
    for index, param in enumerate(params):
        if not isinstance(param, Tensor):
            raise TypeError(f"clip_grad_norm_: parameters must be Tensors, but item {index} is a "
                            f"{type(param).__name__}; pass model.parameters()")
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not norm_type > 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be positive (or inf), got {norm_type}")
    grads = [param.grad.data for param in params if param.grad is not None]
    if not grads:
        return Tensor(0.0)
    dtype = np.result_type(*grads)
    norms = np.array([_vector_norm(grad, norm_type) for grad in grads], dtype=dtype)
    total = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {total}; "
                           "pass error_if_nonfinite=False to clip anyway")
    coefficient = min(max_norm / (float(total) + 1e-6), 1.0)
    for grad in grads:
        grad *= coefficient
    return Tensor(np.asarray(total, dtype=dtype), dtype=dtype)
