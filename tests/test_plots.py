"""Plots return matplotlib Figures (no pyplot, no display needed) that save as PNG."""
import numpy as np
import pytest
from matplotlib.figure import Figure

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F  # noqa: N812 (PyTorch convention)
import tinygrad_edu.optim as optim
from tinygrad_edu import Tensor, viz

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def save_png(fig, path):
    fig.savefig(path)
    return path.read_bytes()[:8] == PNG_SIGNATURE


def test_plot_loss_returns_a_figure_that_saves_as_png(tmp_path):
    fig = viz.plot_loss([1.0, 0.5, 0.25, 0.2])
    assert isinstance(fig, Figure)
    assert save_png(fig, tmp_path / "loss.png")


def test_plot_loss_switches_to_log_scale_for_losses_spanning_decades():
    assert viz.plot_loss([1.0, 0.5]).axes[0].get_yscale() == "linear"
    assert viz.plot_loss([10.0, 1.0, 1e-3]).axes[0].get_yscale() == "log"


def test_plot_loss_accepts_tensors_and_rejects_empty():
    assert isinstance(viz.plot_loss([Tensor(1.0), Tensor(0.5)]), Figure)
    with pytest.raises(ValueError, match="at least one"):
        viz.plot_loss([])


def test_plot_loss_smoothing_draws_the_raw_curve_faint_and_the_average_on_top():
    losses = [1.0, 3.0, 1.0, 3.0, 1.0, 3.0]
    fig = viz.plot_loss(losses, smoothing=0.5)
    raw, smoothed = fig.axes[0].get_lines()
    np.testing.assert_allclose(raw.get_ydata(), losses)
    assert raw.get_alpha() < 1 and smoothed.get_alpha() in (None, 1)
    # bias-corrected exponential moving average, by hand
    expected, average, weight = [], 0.0, 0.0
    for value in losses:
        average, weight = 0.5 * average + 0.5 * value, 0.5 * weight + 0.5
        expected.append(average / weight)
    np.testing.assert_allclose(smoothed.get_ydata(), expected)
    assert smoothed.get_ydata()[0] == 1.0  # no pull towards 0 at the start


def test_smoothing_must_be_in_zero_to_one():
    for bad in (-0.1, 1.0, "0.5"):
        with pytest.raises(ValueError, match="smoothing"):
            viz.plot_loss([1.0, 2.0], smoothing=bad)


def test_plot_loss_log_scale_on_request_leaves_out_non_positive_values():
    fig = viz.plot_loss([1.0, 0.0, 0.1], log=True)
    assert fig.axes[0].get_yscale() == "log"
    assert np.isnan(fig.axes[0].get_lines()[0].get_ydata()[1])
    assert viz.plot_loss([10.0, 1.0, 1e-3], log=False).axes[0].get_yscale() == "linear"


def xor_like():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(60, 2)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    return X, y


def test_plot_decision_boundary_of_a_multiclass_model(tmp_path):
    X, y = xor_like()
    tg.manual_seed(0)
    model = nn.MLP([2, 8, 2], activation="tanh")
    fig = viz.plot_decision_boundary(model, X, y, resolution=40)
    assert isinstance(fig, Figure)
    assert "accuracy" in fig.axes[0].get_title()
    assert save_png(fig, tmp_path / "boundary.png")


def test_plot_decision_boundary_of_a_single_output_model():
    X, y = xor_like()

    def model(points):  # a fixed classifier: x1 * x2 > 0, as a probability
        return (points[:, 0:1] * points[:, 1:2] * 20.0).sigmoid()

    fig = viz.plot_decision_boundary(model, X, y, resolution=40)
    assert "accuracy 100.0%" in fig.axes[0].get_title()


def test_plot_decision_boundary_names_bad_shapes():
    X, y = xor_like()
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        viz.plot_decision_boundary(lambda t: t, np.ones((5, 3)), np.zeros(5))
    with pytest.raises(ValueError, match="labels"):
        viz.plot_decision_boundary(lambda t: t, X, y[:10])


def test_grad_norm_recorder_and_plot_show_vanishing_gradients_in_a_deep_sigmoid_net(tmp_path):
    X, y = xor_like()
    tg.manual_seed(0)
    model = nn.MLP([2] + [8] * 8 + [2], activation="sigmoid")
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    recorder = viz.GradNormRecorder(model.named_parameters())
    for _ in range(3):
        optimizer.zero_grad()
        F.cross_entropy(model(Tensor(X)), y).backward()
        recorder.record()
        optimizer.step()
    history = recorder.history
    assert all(len(values) == 3 for values in history.values())
    assert history["layers.0.weight"][-1] < 1e-2 * history["layers.16.weight"][-1]  # the first layer barely learns
    fig = viz.plot_grad_norms(recorder)
    assert isinstance(fig, Figure)
    assert fig.axes[0].get_yscale() == "log"
    assert len(fig.axes[0].get_lines()) == len(history)
    assert len(viz.plot_grad_norms(history, weights_only=True).axes[0].get_lines()) == len(history) // 2
    assert save_png(fig, tmp_path / "grad_norms.png")


def test_plot_grad_norms_needs_a_record():
    with pytest.raises(ValueError, match="record"):
        viz.plot_grad_norms({"w": []})


def test_plots_leave_no_pyplot_figures_open():
    import matplotlib.pyplot as plt
    before = plt.get_fignums()
    viz.plot_loss([1.0, 0.5])
    viz.plot_grad_norms({"w": [1.0, 0.1]})
    assert plt.get_fignums() == before


def test_figures_show_themselves_in_jupyter_without_pyplot():
    assert viz.plot_loss([1.0, 0.5])._repr_png_()[:8] == PNG_SIGNATURE
