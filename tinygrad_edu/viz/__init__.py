"""Seeing backprop: graph drawings, a step-by-step trace, training plots.

- `draw_graph(loss, params=model.named_parameters())`: the computation graph as
  a `graphviz.Digraph`, gradient flow on the edges after ``loss.backward()``;
  `render_graph(loss, "graph.svg")` writes it with the Graphviz `dot` program.
- `trace(loss, names=..., update=optimizer.step)`: every forward and backward
  step of one iteration with its matrices; `trace_model(model, (X, y))` runs
  and traces one iteration of any model; `tutorial_trace()` shows the
  tutorial's 4-3-1 network as its steps 0-11. ``trace.save("trace.html")``
  writes an interactive page (shown inline in Jupyter).
- `plot_loss`, `plot_decision_boundary`, `plot_grad_norms` (with
  `GradNormRecorder`): matplotlib Figures. They load matplotlib on first use,
  so ``import tinygrad_edu.viz`` stays quick.
"""
from __future__ import annotations

from typing import Any

from tinygrad_edu.autograd import record_gradients
from tinygrad_edu.nn.calls import record_module_calls
from tinygrad_edu.viz.graph import GraphvizNotFoundError, draw_graph, render_graph
from tinygrad_edu.viz.trace import Trace, TraceStep, trace, trace_model, tutorial_trace

# Drawings group ops by the module that ran them and show the gradient on every edge, from records
# that Module.__call__ and the backward walk keep only while recording is on: loading the drawing
# tools turns both on (without them, module calls and backward passes cost nothing extra for them).
record_module_calls(True)
record_gradients(True)

_PLOTS = ("plot_loss", "plot_decision_boundary", "plot_grad_norms", "GradNormRecorder", "grad_norms")

# The plots are reached through __getattr__ below (``viz.plot_loss``, ``from tinygrad_edu.viz import
# plot_loss``); they are documented in tinygrad_edu.viz.plots, so __all__ lists only what is loaded here.
__all__ = ["draw_graph", "render_graph", "GraphvizNotFoundError", "trace", "trace_model", "tutorial_trace", "Trace",
           "TraceStep"]


def __getattr__(name: str) -> Any:
    # The plotting helpers import matplotlib (slow); load them only when asked for.
    if name in _PLOTS:
        from tinygrad_edu.viz import plots
        return getattr(plots, name)
    raise AttributeError(f"module 'tinygrad_edu.viz' has no attribute {name!r}")


def __dir__() -> list:
    return sorted(list(globals()) + list(_PLOTS))
