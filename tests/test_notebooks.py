"""The notebooks are tests: each runs top to bottom in a fresh Jupyter kernel and must not raise.

Every notebook in notebooks/ is executed with nbclient in a new kernel, in a
temporary working directory (so files a notebook writes do not litter the repo),
with a non-interactive matplotlib backend and one BLAS thread. The notebooks
assert their own key results (the tutorials' outputs, accuracies, gradient
ratios), so a notebook that has rotted fails here with the cell that broke.

Two more checks per notebook: the committed file is small and free of outputs, and
its first cell is a markdown title saying what it teaches.
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
    return env


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_runs_top_to_bottom_in_a_fresh_kernel(path: Path, tmp_path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
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


def test_notebook_directory_holds_notebooks() -> None:
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR}"
