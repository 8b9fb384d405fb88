"""Training plots with matplotlib: the loss curve, a decision boundary, gradient norms per layer.

Every function returns a `matplotlib.figure.Figure` built without pyplot, so it
works with no display (the Agg canvas draws it) and leaves no global state
behind. Save it with ``fig.savefig("loss.png")``; in a notebook, leave it as the
last expression of a cell to see it. Library code never calls ``plt.show()``.
"""
from __future__ import annotations

import io
import math
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

import matplotlib
import numpy as np
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure

__all__ = ["plot_loss", "smooth", "plot_decision_boundary", "plot_grad_norms", "GradNormRecorder", "grad_norms"]

_CLASS_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]


class _ShowableFigure(Figure):
    """A Figure that shows itself in Jupyter even when pyplot was never imported.

    The plots are built without pyplot (no global figure list, no display
    needed), and IPython only knows how to show pyplot-managed figures until
    matplotlib's inline backend is loaded, so the figure renders its own PNG.
    """

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()


def _new_axes(figsize: tuple) -> tuple:
    fig = _ShowableFigure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _values(data: Any) -> np.ndarray:
    return np.asarray(data.data if hasattr(data, "data") and not isinstance(data, np.ndarray) else data)


def smooth(values: Union[Sequence[float], np.ndarray], smoothing: float) -> np.ndarray:
    """Exponential moving average with weight ``smoothing`` in [0, 1), bias-corrected (as TensorBoard shows it).

    ``smoothed[t] = sum_i (1 - s) s^(t-i) v[i] / (1 - s^(t+1))``: 0 returns the
    values, 0.9 averages over about the last ten. Non-finite values are skipped.
    """
    if not (isinstance(smoothing, (int, float)) and 0 <= smoothing < 1):
        raise ValueError(f"smoothing must be a number in [0, 1), got {smoothing!r}")
    array = np.asarray(values, dtype=np.float64)
    out = np.empty_like(array)
    average, weight = 0.0, 0.0
    for index, value in enumerate(array):
        if math.isfinite(value):
            average = smoothing * average + (1 - smoothing) * value
            weight = smoothing * weight + (1 - smoothing)
        out[index] = average / weight if weight > 0 else math.nan
    return out


def plot_loss(losses: Sequence[float], title: str = "training loss", log: Optional[bool] = None,
              xlabel: str = "epoch", smoothing: float = 0.0) -> Figure:
    """The loss curve, optionally smoothed, optionally on a log scale.

    Args:
        losses: one loss value per epoch (or step); floats or one-element Tensors.
        title: the plot's title.
        log: log-scale y axis; by default on when the loss spans more than two
            powers of ten (and stays positive). Values <= 0 are left out of a log plot.
        xlabel: what one point is.
        smoothing: weight of an exponential moving average in [0, 1) (`smooth`);
            above 0 the raw curve is drawn faint and the smoothed one on top,
            the way TensorBoard shows noisy minibatch losses.

    Returns:
        The Figure (``fig.savefig(path)`` writes it).
    """
    values = np.array([float(_values(v).reshape(-1)[0]) for v in losses], dtype=np.float64)
    if values.size == 0:
        raise ValueError("plot_loss needs at least one loss value, got an empty sequence")
    smoothed = smooth(values, smoothing)
    fig, ax = _new_axes((6, 3.6))
    steps = np.arange(1, values.size + 1)
    finite = values[np.isfinite(values)]
    if log is None:
        log = finite.size > 0 and finite.min() > 0 and finite.max() / finite.min() > 100
    shown = np.where(values > 0, values, np.nan) if log else values
    if smoothing > 0:
        ax.plot(steps, shown, color="#1f4e99", linewidth=1.0, alpha=0.3, label="loss")
        ax.plot(steps, np.where(smoothed > 0, smoothed, np.nan) if log else smoothed, color="#1f4e99",
                linewidth=1.8, label=f"smoothed ({smoothing:g})")
        ax.legend(fontsize=8, loc="upper right")
    else:
        ax.plot(steps, shown, color="#1f4e99", linewidth=1.6)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("loss" + (" (log scale)" if log else ""))
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if finite.size:
        last = f"last: {finite[-1]:.4g}" + (f", smoothed {smoothed[-1]:.4g}" if smoothing > 0 else "")
        ax.annotate(last, xy=(1, 1), xycoords="axes fraction", ha="right", va="bottom", fontsize=9,
                    color="#444444")
    return fig


def _class_predictions(model: Any, points: np.ndarray, dtype: np.dtype) -> tuple:
    """Predicted class (and probability of class 1 for a single output) for each point."""
    from tinygrad_edu.autograd import no_grad
    from tinygrad_edu.tensor import Tensor

    with no_grad():
        out = model(Tensor(points.astype(dtype)))
    scores = np.asarray(_values(out), dtype=np.float64)
    if scores.ndim == 1:
        scores = scores[:, None]
    if scores.shape[0] != points.shape[0]:
        raise ValueError(f"model returned shape {scores.shape} for {points.shape[0]} points")
    if scores.shape[1] == 1:
        scores = scores[:, 0]
        if scores.min() < 0 or scores.max() > 1:  # logits: squash to probabilities
            with np.errstate(over="ignore"):
                scores = 1.0 / (1.0 + np.exp(-scores))
        return (scores > 0.5).astype(np.int64), scores
    return scores.argmax(axis=1), None


def plot_decision_boundary(model: Any, X: Any, y: Any,  # noqa: N803 (API.md names them X, y)
                           resolution: int = 200, title: str = "decision boundary", margin: float = 0.5) -> Figure:
    """Colour the plane by the class a 2-D classifier predicts, with the data on top.

    Args:
        model: a callable taking an (N, 2) Tensor and returning (N, C) scores
            (argmax is the class) or (N, 1) / (N,) outputs (probabilities, or
            logits, thresholded at 0.5 after a sigmoid).
        X: the points, shape (N, 2) (ndarray or Tensor).
        y: their labels, shape (N,) or (N, 1), integer classes.
        resolution: grid points per axis.
        title: the plot's title.
        margin: space around the data, in data units.

    Returns:
        The Figure.
    """
    points = np.asarray(_values(X))
    labels = np.asarray(_values(y)).reshape(-1)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary needs 2-D points of shape (N, 2), got X of shape {points.shape}")
    if labels.shape[0] != points.shape[0]:
        raise ValueError(f"X has {points.shape[0]} points but y has {labels.shape[0]} labels")
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"resolution must be an int >= 2, got {resolution!r}")
    labels = labels.astype(np.int64)
    x_min, y_min = points.min(axis=0) - margin
    x_max, y_max = points.max(axis=0) + margin
    grid_x, grid_y = np.meshgrid(np.linspace(x_min, x_max, resolution), np.linspace(y_min, y_max, resolution))
    grid = np.column_stack([grid_x.ravel(), grid_y.ravel()])
    dtype = points.dtype if np.issubdtype(points.dtype, np.floating) else np.dtype(np.float32)
    classes, probability = _class_predictions(model, grid, dtype)
    n_classes = int(max(labels.max(initial=0), classes.max(initial=0))) + 1
    colors = [_CLASS_COLORS[i % len(_CLASS_COLORS)] for i in range(n_classes)]

    fig, ax = _new_axes((5, 4.5))
    if probability is not None:
        ax.contourf(grid_x, grid_y, probability.reshape(grid_x.shape), levels=np.linspace(0, 1, 11),
                    cmap=LinearSegmentedColormap.from_list("p", ["#9ec5ea", "#ffffff", "#f8bd89"]), alpha=0.8)
        ax.contour(grid_x, grid_y, probability.reshape(grid_x.shape), levels=[0.5], colors="#333333",
                   linewidths=1.2)
    else:
        ax.contourf(grid_x, grid_y, classes.reshape(grid_x.shape), levels=np.arange(n_classes + 1) - 0.5,
                    colors=colors, alpha=0.25)
    ax.scatter(points[:, 0], points[:, 1], c=[colors[c] for c in labels], s=18, edgecolors="white",
               linewidths=0.5)
    accuracy = float(np.mean(_class_predictions(model, points.astype(dtype), dtype)[0] == labels))
    ax.set_title(f"{title} (accuracy {accuracy:.1%})")
    ax.set_xlim(x_min, x_max)
    ax.set_ylim(y_min, y_max)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    return fig


def grad_norms(named_parameters: Iterable) -> dict:
    """``{name: norm of p.grad}`` for the parameters that have a gradient."""
    norms = {}
    for name, tensor in named_parameters:
        if tensor.grad is not None:
            data = np.asarray(_values(tensor.grad), dtype=np.float64)
            norms[name] = float(np.sqrt(np.sum(data * data)))
    return norms


class GradNormRecorder:
    """Record each parameter's gradient norm after every backward, for `plot_grad_norms`.

    >>> recorder = GradNormRecorder(model.named_parameters())    # doctest: +SKIP
    >>> for epoch in range(100):                                  # doctest: +SKIP
    ...     loss = ...; loss.backward(); recorder.record(); optimizer.step()
    >>> plot_grad_norms(recorder.history)                         # doctest: +SKIP
    """

    def __init__(self, named_parameters: Iterable) -> None:
        self.parameters = list(named_parameters)
        self.history: dict = {name: [] for name, _ in self.parameters}

    def record(self) -> dict:
        """Append the current gradient norms (nan for a parameter without a gradient); returns them."""
        current = grad_norms(self.parameters)
        for name in self.history:
            self.history[name].append(current.get(name, math.nan))
        return current


def plot_grad_norms(history: Union[Mapping, GradNormRecorder], title: str = "gradient norm per layer",
                    weights_only: bool = False) -> Figure:
    """Gradient norm of each parameter over training, log-scale y: vanishing gradients show as low lines.

    Args:
        history: ``{name: [norm per step]}`` or a `GradNormRecorder`.
        title: the plot's title.
        weights_only: leave out parameters whose name ends in ``bias``.

    Returns:
        The Figure.
    """
    if isinstance(history, GradNormRecorder):
        history = history.history
    series = {name: np.asarray(values, dtype=np.float64) for name, values in history.items()
              if not (weights_only and name.endswith("bias"))}
    if not series or all(v.size == 0 for v in series.values()):
        raise ValueError("plot_grad_norms needs at least one recorded norm; call recorder.record() after backward")
    fig, ax = _new_axes((6.5, 4))
    colormap = matplotlib.colormaps["viridis"]
    for index, (name, values) in enumerate(series.items()):
        shown = np.where(values > 0, values, np.nan)  # log scale: zero norms leave a gap
        color = colormap(index / max(1, len(series) - 1))
        ax.plot(np.arange(1, values.size + 1), shown, label=name, color=color, linewidth=1.4)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("gradient norm (log scale)")
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="best", ncol=1 if len(series) <= 8 else 2)
    return fig
