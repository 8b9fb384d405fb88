"""The README's Python examples run as written (a block after `<!-- skip-test -->` is left out)."""
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"(<!-- skip-test -->\s*)?```python\n(.*?)```", re.S)


def python_blocks():
    return [code for skip, code in BLOCK.findall(README.read_text()) if not skip]


def test_readme_has_examples():
    assert len(python_blocks()) >= 2


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_readme_example_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    code = "import numpy as np\n" + python_blocks()[index]
    exec(compile(code, f"README.md block {index}", "exec"), {"__name__": "readme_example"})
