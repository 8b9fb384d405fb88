"""Graded exercises for the notebooks: run a check, say right, wrong (and why), or not attempted.

A notebook exercise is three cells: a code cell tagged ``exercise`` holding a stub
whose body is ``raise NotImplementedError``; a markdown cell tagged ``solution``
that hides the answer in ``<details>``; and a code cell tagged ``check`` that calls
:func:`check` with a test written against the reader's function::

    from tinygrad_edu.testing.exercises import check

    def test():
        got = sigmoid_derivative(0.0)
        assert abs(got - 0.25) < 1e-12, f"at x=0 the slope is 0.25, you returned {got}"

    solved = check("sigmoid_derivative", test)   # assigned, so Jupyter does not echo True/False

The test is a no-argument callable that asserts; the message of its
``AssertionError`` is what the reader sees when the answer is wrong, so it should
say why. In a notebook a wrong answer only prints, so the cells below still run.
With the environment variable ``TINYGRAD_EDU_EXERCISES=strict`` (the test suite
sets it when it runs the notebooks with the solutions filled in) a wrong or
unattempted answer raises instead.
"""
from __future__ import annotations

import os
from typing import Callable

__all__ = ["check", "ExerciseNotSolvedError", "STRICT_VARIABLE"]

STRICT_VARIABLE = "TINYGRAD_EDU_EXERCISES"


class ExerciseNotSolvedError(AssertionError):
    """Raised by :func:`check` in strict mode when an exercise is wrong or not attempted."""


def _strict() -> bool:
    return os.environ.get(STRICT_VARIABLE, "").strip().lower() == "strict"


def check(name: str, test: Callable[[], object]) -> bool:
    """Run ``test()`` and print whether the exercise called ``name`` is solved.

    Args:
        name: the exercise's name, printed at the start of the verdict.
        test: a callable taking no arguments that raises ``AssertionError`` (with a
            message saying what is wrong) when the reader's answer is wrong.

    Returns:
        True when ``test()`` passed, False otherwise (outside strict mode).

    Prints ``"<name>: ✓ correct"``, ``"<name>: not attempted yet (fill in the cell
    above)"`` when the test hit ``NotImplementedError``, or ``"<name>: ✗ not yet
    right: <message>"`` for any other exception. When the environment variable
    ``TINYGRAD_EDU_EXERCISES`` is ``strict``, the last two raise
    :class:`ExerciseNotSolvedError` (chained to the original error) instead.
    """
    if not callable(test):
        raise TypeError(f"check({name!r}, test): test must be a callable taking no arguments, "
                        f"got {type(test).__name__}")
    try:
        test()
    except NotImplementedError as error:
        verdict = f"{name}: not attempted yet (fill in the cell above)"
        if _strict():
            raise ExerciseNotSolvedError(verdict) from error
        print(verdict)
        return False
    except Exception as error:  # a wrong answer may fail in any way; report it, do not crash the notebook
        message = str(error) or type(error).__name__
        if not isinstance(error, AssertionError):
            message = f"{type(error).__name__}: {message}"
        verdict = f"{name}: ✗ not yet right: {message}"
        if _strict():
            raise ExerciseNotSolvedError(verdict) from error
        print(verdict)
        return False
    print(f"{name}: ✓ correct")
    return True
