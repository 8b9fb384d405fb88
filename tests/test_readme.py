"""The README's Python examples run as written, in order, in one namespace (like a reader pasting them).

A block right after `<!-- skip-test -->` is left out (a fragment, not a program).
"""
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"(<!-- skip-test -->\s*)?```python\n(.*?)```", re.S)


def python_blocks():
    return [code for skip, code in BLOCK.findall(README.read_text()) if not skip]


def test_readme_has_examples():
    assert len(python_blocks()) >= 4


def test_readme_examples_run_in_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {"__name__": "readme_example"}
    exec("import numpy as np", namespace)
    for index, code in enumerate(python_blocks()):
        exec(compile(code, f"README.md python block {index}", "exec"), namespace)
