"""Grad modes: whether operations record the graph, per thread, as in PyTorch.

``no_grad()``, ``enable_grad()`` and ``set_grad_enabled(mode)`` are context
managers (and decorators) that flip one switch; `Function.apply` reads it on
every op.  A new thread starts with recording on.
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import threading
from typing import Any, Callable

__all__ = ["enable_grad", "is_grad_enabled", "no_grad", "set_grad_enabled"]


# The switch read on every op, in exactly one place (Function.apply).  Grad mode is per thread, as in
# PyTorch (a thread-local read costs about 0.1 us).

class _ThreadState(threading.local):
    grad_enabled = True  # the default every new thread starts from


_state = _ThreadState()
# How many threads have recording off right now.  While none has (the usual case), an op needs only
# this global, not the thread-local read; `_set_grad_mode` keeps it right.
_threads_without_grad = 0
_mode_lock = threading.Lock()


def _set_grad_mode(enabled: bool) -> None:
    """Set this thread's grad mode (and the count of threads with it off)."""
    global _threads_without_grad
    state = _state
    if state.grad_enabled is enabled:
        return
    with _mode_lock:  # += on a global is not atomic between threads
        _threads_without_grad += -1 if enabled else 1
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
