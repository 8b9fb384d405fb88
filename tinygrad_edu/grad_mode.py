"""Grad modes: whether operations record the graph, per thread, as in PyTorch.

``no_grad()``, ``enable_grad()`` and ``set_grad_enabled(mode)`` are context
managers (and decorators) that flip one switch; `Function.apply` reads it on
every op.  A new thread starts with recording on.
"""
from __future__ import annotations

import contextlib
import functools
import gc
import inspect
import threading
from threading import get_ident
from typing import Any, Callable

import numpy as np

from . import anomaly
from .anomaly import _set_anomaly_mode

__all__ = ["enable_grad", "is_grad_enabled", "no_grad", "set_grad_enabled"]


# The switch read on every op, in exactly one place (Function.apply).  Grad mode is per thread, as in
# PyTorch (a thread-local read costs about 0.1 us).

class _ThreadState(threading.local):
    grad_enabled = True  # the default every new thread starts from


_state = _ThreadState()
# The threads that have recording off right now (their idents).  While there is none (the usual
# case), an op needs only this global, not the thread-local read; `_set_grad_mode` keeps it right.
# Adding and discarding an int in a set is atomic under the GIL: no lock is taken.
_threads_without_grad: set = set()


def _set_grad_mode(enabled: bool) -> None:
    """Set this thread's grad mode (and the set of threads with it off)."""
    state = _state
    if state.grad_enabled is enabled:
        return
    if enabled:
        _threads_without_grad.discard(get_ident())
    else:
        _threads_without_grad.add(get_ident())
    state.grad_enabled = enabled


class _GradMode(contextlib.ContextDecorator):
    """Context manager (and decorator) that sets whether ops record the graph, in this thread."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = bool(enabled)  # a bool: _set_grad_mode compares by identity
        self._previous: list = []

    def __enter__(self) -> None:
        self._previous.append(_state.grad_enabled)
        _set_grad_mode(self.enabled)

    def __exit__(self, *exc: Any) -> None:
        _set_grad_mode(self._previous.pop())

    def _recreate_cm(self) -> "_GradMode":
        return _GradMode(self.enabled)  # a fresh one per decorated call: calls in several threads do not share it

    def __call__(self, function: Callable) -> Callable:  # type: ignore[override]
        """Decorate ``function``; a generator function runs each step of its body in this mode."""
        if not inspect.isgeneratorfunction(function):
            return super().__call__(function)
        enabled = self.enabled

        @functools.wraps(function)
        def generator(*args: Any, **kwargs: Any) -> Any:
            steps = function(*args, **kwargs)
            with _GradMode(enabled):
                value = next(steps)  # StopIteration ends this generator too
            while True:
                try:
                    sent = yield value
                except GeneratorExit:
                    steps.close()
                    raise
                except BaseException as error:  # thrown in by the caller: into the body, in this mode
                    with _GradMode(enabled):
                        try:
                            value = steps.throw(error)
                        except StopIteration as stop:
                            return stop.value
                else:
                    with _GradMode(enabled):
                        try:
                            value = steps.send(sent)
                        except StopIteration as stop:
                            return stop.value

        return generator


def no_grad() -> _GradMode:
    """Record nothing inside the block (or the decorated function).

    >>> from tinygrad_edu import Tensor, no_grad
    >>> w = Tensor([1.0], requires_grad=True)
    >>> with no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """
    return _GradMode(False)


def enable_grad() -> _GradMode:
    """Record the graph again inside the block, even within ``no_grad``."""
    return _GradMode(True)


class set_grad_enabled(_GradMode):  # noqa: N801 (PyTorch's name)
    """Turn recording on or off: at once when called, and back to the previous mode when used as a block.

    >>> from tinygrad_edu import is_grad_enabled, set_grad_enabled
    >>> with set_grad_enabled(False):
    ...     is_grad_enabled()
    False
    >>> is_grad_enabled()
    True
    """

    def __init__(self, mode: bool) -> None:
        super().__init__(bool(mode))  # a bool: the mode is compared by identity
        self._previous.append(_state.grad_enabled)
        _set_grad_mode(self.enabled)

    def __enter__(self) -> None:
        pass  # the mode was set by the call

    def __call__(self, function: Callable) -> Callable:  # type: ignore[override]
        _set_grad_mode(self._previous.pop())  # used as a decorator: only the decorated calls change the mode
        return _GradMode(self.enabled)(function)


def is_grad_enabled() -> bool:
    """Whether operations are currently being recorded (in this thread)."""
    return _state.grad_enabled


# ---------------------------------------------------------------- the modes a backward pass runs under

class _WalkModes:
    """The switches a backward pass runs under, restored afterwards; entering gives whether to check for anomalies.

    Under ``create_graph`` grad mode is on, so the rules' Tensor operations are recorded.  An
    ordinary backward runs the built-in rules on bare arrays, which record nothing in either
    mode, so the walk leaves the mode alone and only user code (hooks, the ``backward`` of a
    custom Function) runs with it off (`user_code_mode`).  Under detect_anomaly a non-finite
    gradient is blamed on the node whose rule made it, so the helper ops inside the rule skip
    their own forward check.  The walk makes no reference cycles (refcounting frees
    everything), so the cyclic collector's scans of a large graph would be pure overhead.
    A 0 * inf in a rule is a convention here, not a warning.
    """

    __slots__ = ("create_graph", "previous_mode", "check_anomaly", "collector_was_enabled", "quiet")

    def __init__(self, create_graph: bool) -> None:
        self.create_graph = bool(create_graph)

    def __enter__(self) -> bool:
        self.check_anomaly = check_anomaly = anomaly._anomaly_enabled
        if check_anomaly:
            _set_anomaly_mode(False)
        if self.create_graph:
            self.previous_mode = _state.grad_enabled
            _set_grad_mode(True)
        self.collector_was_enabled = gc.isenabled()
        gc.disable()
        self.quiet = _quiet_numpy()
        return check_anomaly

    def __exit__(self, *exc: Any) -> None:
        _restore_numpy(self.quiet)
        if self.check_anomaly:
            _set_anomaly_mode(True)
        if self.create_graph:
            _set_grad_mode(self.previous_mode)
        if self.collector_was_enabled:
            gc.enable()


def user_code_mode(create_graph: bool) -> "_GradMode":
    """The grad mode user code runs in during a backward pass (hooks, a custom Function's ``backward``): on only
    under ``create_graph``, as in PyTorch."""
    return _GradMode(create_graph)


try:  # NumPy 2 keeps its error state in a context variable: setting it directly costs 0.3 us, np.errstate 1.3 us
    from numpy._core._ufunc_config import _extobj_contextvar, _make_extobj  # type: ignore[attr-defined]

    def _quiet_numpy() -> Any:
        """Ignore divide, invalid and overflow in NumPy (the rest as it was); returns what restores it."""
        return _extobj_contextvar.set(_make_extobj(divide="ignore", invalid="ignore", over="ignore"))

    def _restore_numpy(token: Any) -> None:
        _extobj_contextvar.reset(token)
except ImportError:  # another NumPy: the public context manager
    def _quiet_numpy() -> Any:
        """Ignore divide, invalid and overflow in NumPy (the rest as it was); returns what restores it."""
        quiet = np.errstate(divide="ignore", invalid="ignore", over="ignore")
        quiet.__enter__()
        return quiet

    def _restore_numpy(token: Any) -> None:
        token.__exit__(None, None, None)
