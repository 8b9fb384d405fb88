"""The notebooks are tests: each runs top to bottom in a fresh Jupyter kernel and must not raise.

Every notebook in notebooks/ is executed with nbclient in a new kernel, in a
temporary working directory (so files a notebook writes do not litter the repo),
with a non-interactive matplotlib backend and one BLAS thread. The notebooks
assert their own key results (the tutorials' outputs, accuracies, gradient
ratios), so a notebook that has rotted fails here with the cell that broke.

Graded exercises (see tinygrad_edu/testing/exercises.py) are run solved: before
execution every code cell tagged "exercise" gets the code fenced in the markdown
cell tagged "solution" that follows it, and the kernel runs with
TINYGRAD_EDU_EXERCISES=strict, so a check cell that finds the solution wrong fails
the test. Each notebook is executed once per run.

Fast structural checks per notebook: the committed file is small and free of
outputs; its first cell is a markdown title saying what it teaches; it has at least
one exercise, and every exercise is a stub followed by its solution and a check.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel  # noqa: E402
from jupyter_client.manager import KernelManager  # noqa: E402
from nbclient.exceptions import CellExecutionError  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))

KERNEL_NAME = "python3"
CELL_TIMEOUT_SECONDS = 120
MAX_NOTEBOOK_BYTES = 200 * 1024
ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")
FENCED_PYTHON = re.compile(r"```python\n(.*?)```", re.DOTALL)


def tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def solution_code(cell) -> str:
    """The code inside the one ```python fence of a "solution" markdown cell."""
    blocks = FENCED_PYTHON.findall(cell.source)
    if len(blocks) != 1:
        raise ValueError(f"a solution cell must hold exactly one ```python block, found {len(blocks)}: "
                         f"{cell.source[:80]!r}")
    return blocks[0]


def exercise_problems(notebook) -> list[str]:
    """What is wrong with the notebook's exercises (empty when each is stub, solution, check)."""
    cells = notebook.cells
    problems = []
    for index, cell in enumerate(cells):
        if "exercise" not in tags(cell):
            continue
        where = f"exercise cell {index}"
        if cell.cell_type != "code" or "raise NotImplementedError" not in cell.source:
            problems.append(f"{where}: must be a code cell whose stub says `raise NotImplementedError`")
        following = cells[index + 1] if index + 1 < len(cells) else None
        if following is None or following.cell_type != "markdown" or "solution" not in tags(following):
            problems.append(f"{where}: the next cell must be a markdown cell tagged 'solution'")
            continue
        if "<details>" not in following.source or "</details>" not in following.source:
            problems.append(f"{where}: its solution must be folded in <details>...</details>")
        try:
            solution_code(following)
        except ValueError as error:
            problems.append(f"{where}: {error}")
        later_code = next((c for c in cells[index + 2:] if c.cell_type == "code"), None)
        if later_code is None or "check" not in tags(later_code) or "check(" not in later_code.source:
            problems.append(f"{where}: the first code cell after its solution must be tagged 'check' and call check(...)")
    return problems


def with_solutions_filled_in(notebook):
    """Each "exercise" cell's stub replaced by the code of the "solution" cell after it."""
    cells = notebook.cells
    for index, cell in enumerate(cells):
        if "exercise" in tags(cell):
            cell.source = solution_code(cells[index + 1])
    return notebook


def native_kernel_manager(scratch: Path) -> KernelManager | None:
    """None when a "python3" kernelspec is installed (nbclient starts it); else a manager
    for ipykernel's own spec, which runs this interpreter."""
    try:
        KernelSpecManager().get_kernel_spec(KERNEL_NAME)
        return None
    except NoSuchKernel:
        from ipykernel.kernelspec import write_kernel_spec

        kernels = scratch / "kernels"
        write_kernel_spec(path=str(kernels / KERNEL_NAME))
        return KernelManager(kernel_name=KERNEL_NAME,
                             kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))


def kernel_environment() -> dict:
    """The test's environment plus: the repo importable, no GUI backend, one BLAS thread."""
    env = dict(os.environ)
    env["MPLBACKEND"] = "Agg"
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[variable] = "1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["TINYGRAD_EDU_EXERCISES"] = "strict"
    return env


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_runs_top_to_bottom_in_a_fresh_kernel(path: Path, tmp_path: Path) -> None:
    notebook = with_solutions_filled_in(nbformat.read(path, as_version=4))
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    manager = native_kernel_manager(tmp_path)
    client = nbclient.NotebookClient(
        notebook,
        km=manager,
        timeout=CELL_TIMEOUT_SECONDS,
        kernel_name=KERNEL_NAME,
        resources={"metadata": {"path": str(workdir)}},
    )
    try:
        client.execute(env=kernel_environment())
    except CellExecutionError as error:
        # The message holds the failing cell's source and its traceback.
        pytest.fail(f"{path.name}: a cell raised\n{ANSI_COLOUR.sub('', str(error))}", pytrace=False)
    finally:
        # nbclient shuts down only kernels whose manager it created itself.
        if manager is not None and manager.has_kernel:
            manager.shutdown_kernel(now=True)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_committed_notebook_is_small_and_has_no_outputs(path: Path) -> None:
    size = path.stat().st_size
    assert size < MAX_NOTEBOOK_BYTES, f"{path.name} is {size} bytes; strip outputs (limit {MAX_NOTEBOOK_BYTES})"
    notebook = nbformat.read(path, as_version=4)
    dirty = [index for index, cell in enumerate(notebook.cells)
             if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: code cells {dirty} carry outputs or execution counts; strip them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_opens_with_a_markdown_cell_saying_what_it_teaches(path: Path) -> None:
    first = nbformat.read(path, as_version=4).cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), (
        f"{path.name}: the first cell must be markdown with a '# title' and what the notebook teaches, "
        f"got a {first.cell_type} cell starting {first.source[:60]!r}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_has_at_least_one_graded_exercise(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    exercises = [cell for cell in notebook.cells if "exercise" in tags(cell)]
    assert exercises, (f"{path.name} has no code cell tagged 'exercise'; every notebook has at least one graded "
                       "exercise (stub, folded solution, check: see tinygrad_edu/testing/exercises.py)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_every_exercise_has_a_stub_a_folded_solution_and_a_check(path: Path) -> None:
    problems = exercise_problems(nbformat.read(path, as_version=4))
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


def test_the_structure_check_catches_an_exercise_without_solution_or_check() -> None:
    notebook = nbformat.v4.new_notebook()
    stub = nbformat.v4.new_code_cell("def f():\n    raise NotImplementedError")
    stub.metadata["tags"] = ["exercise"]
    notebook.cells = [stub, nbformat.v4.new_markdown_cell("no solution here")]
    problems = exercise_problems(notebook)
    assert problems and "tagged 'solution'" in problems[0]


def test_solutions_replace_the_stubs() -> None:
    notebook = nbformat.v4.new_notebook()
    stub = nbformat.v4.new_code_cell("def f():\n    raise NotImplementedError")
    stub.metadata["tags"] = ["exercise"]
    solution = nbformat.v4.new_markdown_cell(
        "<details><summary>Solution (open on purpose)</summary>\n\n```python\ndef f():\n    return 1\n```\n</details>")
    solution.metadata["tags"] = ["solution"]
    checker = nbformat.v4.new_code_cell("check('f', lambda: None)")
    checker.metadata["tags"] = ["check"]
    notebook.cells = [stub, solution, checker]
    assert exercise_problems(notebook) == []
    assert with_solutions_filled_in(notebook).cells[0].source == "def f():\n    return 1\n"


def test_notebook_directory_holds_notebooks() -> None:
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR}"
