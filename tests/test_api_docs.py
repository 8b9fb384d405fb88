"""The API reference builds from the docstrings with one command, without warnings.

    python docs/build_api.py          # docs/api/index.html

(the README's "API reference" section); CI runs this test, so a docstring pdoc
cannot read, or a module that fails to import, breaks the build.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_api_reference_builds_without_warnings(tmp_path):
    try:
        import pdoc  # noqa: F401
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but pdoc is not installed (it is in the dev extra)")
        pytest.skip("pdoc is not installed: pip install -e '.[dev]'")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               PYTHONWARNINGS="always")
    result = subprocess.run([sys.executable, str(ROOT / "docs" / "build_api.py"), "-o", str(tmp_path)],
                            capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "warn" not in result.stderr.lower() and result.stdout.startswith("wrote"), result.stdout + result.stderr
    pages = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.html")}
    for page in ("tinygrad_edu.html", "tinygrad_edu/tensor.html", "tinygrad_edu/viz/trace.html",
                 "tinygrad_edu/nn/functional.html"):
        assert page in pages
    trace_page = (tmp_path / "tinygrad_edu/viz/trace.html").read_text(encoding="utf-8")
    assert "trace_model" in trace_page and "tutorial_trace" in trace_page
