"""The result of `trace`: `TraceStep` (one line on the board) and `Trace` (all of them), as text and as a page.

`Trace.to_text` lays the matrices of each step side by side; `Trace.to_html`
and `Trace.save` write the interactive page (`tinygrad_edu.viz.trace_page`),
which Jupyter shows inline. The steps themselves are made by
`tinygrad_edu.viz.trace.trace` and `tinygrad_edu.viz.trace_tutorial.tutorial_trace`.
"""
from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional, Union

import numpy as np

from tinygrad_edu.autograd import GradientSummary
from tinygrad_edu.viz import trace_page

__all__ = ["TraceStep", "Trace"]


@dataclass
class TraceStep:
    """One line on the board.

    Attributes:
        number: the step's number (the tutorial's numbering in `tutorial_trace`).
        phase: "data", "forward", "backward" or "update".
        name: what the step computes, e.g. ``"hidden_layer_input"``.
        operation: how, as a formula or an op name, e.g. ``"X @ wh + bh"``.
        inputs: ``(label, matrix)`` pairs the step reads.
        outputs: ``(label, matrix)`` pairs the step produces.
        grad: for forward steps after backward: ``(label, dL/d output)``.
        note: one sentence linking the step to what autograd did.
        rules: output label -> how its cells were computed from the step's
            other matrices (see `tinygrad_edu.viz.trace_page`); drives the
            highlighting of the interactive page.
        convention: which sign convention the step's matrices use.
    """

    number: Union[int, str]
    phase: str
    name: str
    operation: str
    inputs: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    grad: Optional[tuple] = None
    note: str = ""
    rules: dict = field(default_factory=dict)
    convention: str = ""


class Trace:
    """The steps of one training iteration; ``print`` it or display it in a notebook.

    Index it by position or by step name (``trace["d_output"]``); `value` finds
    a matrix by its label.
    """

    def __init__(self, steps: list, title: str = "One training iteration", precision: int = 4) -> None:
        self.steps = list(steps)
        self.title = title
        self.precision = precision

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[TraceStep]:
        return iter(self.steps)

    def __getitem__(self, key: Union[int, str]) -> TraceStep:
        if isinstance(key, str):
            for step in self.steps:
                if step.name == key:
                    return step
            raise KeyError(f"no step named {key!r}; steps are: {', '.join(s.name for s in self.steps)}")
        return self.steps[key]

    def value(self, label: str) -> np.ndarray:
        """The matrix labelled ``label`` among the steps' outputs (first match), e.g. ``"d_output"``."""
        for step in self.steps:
            for item_label, matrix in step.outputs:
                if item_label == label:
                    return matrix
        raise KeyError(f"no step outputs a matrix labelled {label!r}")

    # ------------------------------------------------------------ text
    def _matrix_lines(self, label: str, matrix: np.ndarray) -> list:
        if isinstance(matrix, GradientSummary):
            return [f"{label} ({'x'.join(map(str, matrix.shape))})", _summary_text(matrix)]
        matrix = np.asarray(matrix)
        text = np.array2string(matrix, precision=self.precision, floatmode="fixed", suppress_small=True,
                               threshold=48, edgeitems=3, max_line_width=60)
        shape = "x".join(str(s) for s in matrix.shape) or "scalar"
        return [f"{label} ({shape})"] + text.splitlines()

    def _side_by_side(self, blocks: list, width: int) -> list:
        lines: list = []
        row: list = []
        row_width = 0

        def flush() -> None:
            if not row:
                return
            height = max(len(b) for b in row)
            widths = [max(len(line) for line in b) for b in row]
            for i in range(height):
                parts = [(b[i] if i < len(b) else "").ljust(w) for b, w in zip(row, widths)]
                lines.append("    " + "   ".join(parts).rstrip())

        for block in blocks:
            block_width = max(len(line) for line in block)
            if row and row_width + 3 + block_width > width - 4:
                flush()
                row.clear()
                row_width = 0
            row.append(block)
            row_width += block_width + (3 if row_width else 0)
        flush()
        return lines

    def to_text(self, width: int = 110) -> str:
        """The trace as plain text, matrices side by side up to ``width`` columns."""
        lines = [self.title, "=" * len(self.title)]
        for step in self.steps:
            lines.append("")
            lines.append(f"Step {step.number} [{step.phase}] {step.name} = {step.operation}")
            if step.note:
                lines.append(f"    ({step.note})")
            blocks = [self._matrix_lines(label, m) for label, m in step.inputs]
            for index, (label, m) in enumerate(step.outputs):
                block = self._matrix_lines(label, m)
                blocks.append(_marked("->", block) if index == 0 and blocks else block)
            if step.grad is not None:
                blocks.append(_marked("|", self._matrix_lines(step.grad[0], step.grad[1])))
            lines += self._side_by_side(blocks, width)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return f"<Trace {self.title!r}: {len(self.steps)} steps>"

    # ------------------------------------------------------------ HTML
    def to_html(self) -> str:
        """The interactive page: one self-contained HTML file (nothing is fetched)."""
        steps = []
        for step in self.steps:
            mats = ([(label, matrix, "in") for label, matrix in step.inputs]
                    + [(label, matrix, "out") for label, matrix in step.outputs]
                    + ([(step.grad[0], step.grad[1], "grad")] if step.grad is not None else []))
            index: dict = {}
            for position, (label, _, _) in enumerate(mats):
                index.setdefault(label, position)
            entries = []
            for position, (label, matrix, role) in enumerate(mats):
                summary = _summary_text(matrix) if isinstance(matrix, GradientSummary) else ""
                rule = step.rules.get(label) if role == "out" and index[label] == position else None
                if rule is not None and not summary:
                    rule = _resolve(rule, index)
                else:
                    rule = None
                entries.append(trace_page.matrix_json(label, matrix, role, rule, summary))
            seed = step.convention.startswith("seed")
            steps.append({"number": str(step.number), "phase": step.phase, "name": step.name,
                          "operation": step.operation, "note": step.note, "convention": step.convention,
                          "convention_kind": "seed" if seed else "gradient", "mats": entries})
        return trace_page.render_page(self.title, steps)

    def save(self, path: Union[str, os.PathLike]) -> Path:
        """Write the interactive page to ``path`` (atomically); returns the path."""
        path = Path(path)
        if not path.parent.is_dir():
            raise FileNotFoundError(f"Trace.save: the folder {str(path.parent)!r} of {str(path)!r} does not exist")
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            temporary.write_text(self.to_html(), encoding="utf-8")
            os.replace(temporary, path)
        finally:
            if temporary.exists():
                temporary.unlink()
        return path

    def _repr_html_(self) -> str:
        # The page in an iframe: its script and style cannot clash with the notebook's.
        return (f'<iframe srcdoc="{html.escape(self.to_html(), quote=True)}" title="{html.escape(self.title)}" '
                'style="width:100%;height:780px;border:1px solid #ddd"></iframe>')


def _resolve(rule: dict, index: dict) -> Optional[dict]:
    """``rule`` with matrix labels replaced by positions in the step (None if a label is missing)."""
    resolved = dict(rule)
    try:
        for key in ("a", "b", "c", "grad"):
            if resolved.get(key) is not None:
                resolved[key] = index[resolved[key]]
        resolved["src"] = [index[label] for label in rule.get("src", ())]
    except KeyError:
        return None
    return resolved


def _marked(marker: str, block: list) -> list:
    """``block`` with ``marker`` in front of its first line (and the rest indented to match)."""
    pad = " " * (len(marker) + 1)
    return [f"{marker} {block[0]}"] + [pad + line for line in block[1:]]


def _summary_text(summary: GradientSummary) -> str:
    return (f"norm {summary.norm:.4g} (large: only its norm was kept; raise "
            "tinygrad_edu.autograd.RECORD_LIMIT before backward to keep it)")


def _as_array(value: Any) -> Any:
    if isinstance(value, GradientSummary):
        return value
    return np.array(value.data if hasattr(value, "data") else value, copy=True)

