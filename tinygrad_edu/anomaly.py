"""Anomaly detection: ``detect_anomaly()`` makes the first NaN or inf raise, naming the op and the user's line.

While it is on, `Function.apply` runs each op through `_apply_checked` (which
remembers where the op was created and checks its output), and the backward
walk checks every gradient a rule returns (`_check_gradients`).
"""
from __future__ import annotations

import contextlib
import linecache
import os
import sys
from typing import TYPE_CHECKING, Any, Optional, Sequence

import numpy as np

if TYPE_CHECKING:
    from .function import Function
    from .tensor import Tensor

__all__ = ["detect_anomaly"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))

_anomaly_enabled = False  # one global (not per thread), read on every op by Function.apply


def _set_anomaly_mode(enabled: bool) -> bool:
    """Turn anomaly checks on or off; returns the previous mode (the backward walk pauses them)."""
    global _anomaly_enabled
    previous, _anomaly_enabled = _anomaly_enabled, enabled
    return previous


class detect_anomaly(contextlib.ContextDecorator):  # noqa: N801 (PyTorch's name)
    """Raise ``FloatingPointError`` at the first op whose forward or backward gives NaN/inf.

    The message names the op and the line of user code that created it.  Slower:
    every op checks its result, so use it while debugging.
    """

    def __enter__(self) -> "detect_anomaly":
        global _anomaly_enabled
        self.__dict__.setdefault("_previous", []).append(_anomaly_enabled)  # a stack: the object may be re-entered
        _anomaly_enabled = True
        return self

    def __exit__(self, *exc: Any) -> None:
        global _anomaly_enabled
        _anomaly_enabled = self.__dict__["_previous"].pop()


def _user_frame() -> Optional[tuple]:
    """The innermost stack frame outside this package: where the user created the op."""
    frame: Any = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return None
    return (frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)


def _describe_origin(origin: Optional[tuple]) -> str:
    if origin is None:
        return "created outside detect_anomaly(), so its line is unknown"
    filename, lineno, function = origin
    code = linecache.getline(filename, lineno).strip()
    return f"created at {filename}:{lineno} in {function}: {code}"


def _check_finite(op_name: str, origin: Optional[tuple], array: Any, what: str) -> None:
    array = np.asarray(array)
    if np.issubdtype(array.dtype, np.inexact) and not np.isfinite(array).all():
        kind = "nan" if np.isnan(array).any() else "inf"
        raise FloatingPointError(
            f"detect_anomaly: '{op_name}' produced {kind} in its {what}; the op was {_describe_origin(origin)}"
        )


def _check_gradients(node: Function, grads: Sequence[Any]) -> None:
    """Under detect_anomaly: blame a non-finite gradient on the node whose rule produced it."""
    for grad in grads:
        if grad is not None:
            _check_finite(node.op_name, node.created_at, getattr(grad, "data", grad),
                          "backward (gradient for one of its inputs)")


def _apply_checked(cls: Any, inputs: tuple, kwargs: dict) -> "Tensor":
    """``Function.apply`` under detect_anomaly: remember the user's line, report NaN/inf ourselves."""
    global _anomaly_enabled
    origin = _user_frame()
    _anomaly_enabled = False  # the plain path, once
    try:
        with np.errstate(all="ignore"):  # the FloatingPointError below says more than NumPy's warning
            output = cls.apply(*inputs, **kwargs)
    finally:
        _anomaly_enabled = True
    if output._ctx is not None:
        output._ctx.created_at = origin
    _check_finite(cls.op_name, origin, output.data, "forward output")
    return output
