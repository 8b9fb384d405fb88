"""check() says correct, not yet right (with the reason) or not attempted; strict mode raises."""
from __future__ import annotations

import pytest

from tinygrad_edu.testing.exercises import STRICT_VARIABLE, ExerciseNotSolvedError, check


@pytest.fixture
def lenient(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(STRICT_VARIABLE, raising=False)


@pytest.fixture
def strict(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(STRICT_VARIABLE, "strict")


def passing() -> None:
    assert 1 + 1 == 2


def wrong() -> None:
    # raised by hand: pytest rewrites bare asserts in this module and would append its own explanation
    raise AssertionError("at x=0 the slope is 0.25, you returned 0.5")


def unattempted() -> None:
    raise NotImplementedError


def crashing() -> None:
    raise ValueError("shapes (3, 4) and (3, 1) do not match")


def test_a_passing_test_prints_correct_and_returns_true(lenient, capsys) -> None:
    assert check("sigmoid_derivative", passing) is True
    assert capsys.readouterr().out == "sigmoid_derivative: ✓ correct\n"


def test_not_implemented_prints_not_attempted(lenient, capsys) -> None:
    assert check("topo", unattempted) is False
    assert capsys.readouterr().out == "topo: not attempted yet (fill in the cell above)\n"


def test_a_failed_assertion_prints_its_message(lenient, capsys) -> None:
    assert check("slope", wrong) is False
    assert capsys.readouterr().out == "slope: ✗ not yet right: at x=0 the slope is 0.25, you returned 0.5\n"


def test_any_other_exception_counts_as_wrong_and_names_its_type(lenient, capsys) -> None:
    assert check("d_hidden", crashing) is False
    out = capsys.readouterr().out
    assert out.startswith("d_hidden: ✗ not yet right: ValueError: shapes (3, 4)")


def test_a_bare_assertion_still_says_something(lenient, capsys) -> None:
    def bare() -> None:
        raise AssertionError

    check("bare", bare)
    assert capsys.readouterr().out == "bare: ✗ not yet right: AssertionError\n"


def test_strict_mode_raises_on_a_wrong_answer(strict) -> None:
    with pytest.raises(ExerciseNotSolvedError, match="slope: ✗ not yet right: at x=0") as info:
        check("slope", wrong)
    assert isinstance(info.value.__cause__, AssertionError)


def test_strict_mode_raises_on_an_unattempted_exercise(strict) -> None:
    with pytest.raises(ExerciseNotSolvedError, match="not attempted yet"):
        check("topo", unattempted)


def test_strict_mode_passes_a_right_answer_quietly_apart_from_the_verdict(strict, capsys) -> None:
    assert check("ok", passing) is True
    assert capsys.readouterr().out == "ok: ✓ correct\n"


def test_a_test_that_is_not_callable_is_a_type_error(lenient) -> None:
    with pytest.raises(TypeError, match="test must be a callable"):
        check("oops", 3)  # type: ignore[arg-type]
