"""Refresh the pictures in docs/: three steps of the interactive trace and the collapsed GPT graph.

    python docs/make_screenshots.py

The trace screenshots are taken by the browser tests (headless Chromium), the
graph is drawn by Graphviz from the GPT-sized model of tests/gpt_model.py.
"""
import os
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def main() -> None:
    env = dict(os.environ, TRACE_SCREENSHOTS=str(DOCS))
    subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "tests" / "test_viz_browser.py"), "-q",
                    "-p", "no:randomly", "-k", "matmul_cell or elementwise_cell_highlights_the_same or reduced_slice"],
                   check=True, env=env, cwd=ROOT)
    from gpt_model import gpt_loss

    from tinygrad_edu import viz

    model, indices, targets, loss = gpt_loss()
    path = viz.render_graph(loss, DOCS / "gpt_graph.png", format="png", params=model,
                            inputs={"idx": indices, "targets": targets}, rankdir="TB")
    print("wrote", path)


if __name__ == "__main__":
    main()
