"""draw_graph / render_graph: what the drawing shows, that it is stable, and how it fails without Graphviz."""
import re
import shutil
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F  # noqa: N812 (PyTorch convention)
from tinygrad_edu import Tensor, viz
from tinygrad_edu.viz.graph import GRAD_COLORS

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")


def small_mlp_loss(seed=0):
    tg.manual_seed(seed)
    model = nn.MLP([2, 4, 3], activation="tanh")
    x = Tensor(np.linspace(-1, 1, 10, dtype=np.float32).reshape(5, 2))
    loss = F.cross_entropy(model(x), np.array([0, 1, 2, 1, 0]))
    loss.backward()
    return model, loss


def edges(source):
    """(tail, head, attribute text) of every edge in DOT source."""
    return re.findall(r"^\s*(\w+) -> (\w+)(?: \[(.*)\])?$", source, flags=re.MULTILINE)


def node_line(source, text):
    return next(line for line in source.splitlines() if text in line and "->" not in line)


def node_id(source, text):
    return node_line(source, text).split()[0]


def op_names(loss):
    from tinygrad_edu.autograd import topological_order
    return {ctx.op_name for ctx in topological_order(loss)}


def test_op_nodes_show_op_names_and_tensor_nodes_show_names_shapes_dtypes():
    model, loss = small_mlp_loss()
    source = viz.draw_graph(loss, params=model.named_parameters()).source
    for text in op_names(loss) | {"tanh", "layers.0.weight", "layers.2.bias", "(4, 2)", "float32"}:
        assert f"{text}<" in source or f"{text} " in source


def test_tensor_roles_get_their_colours():
    from tinygrad_edu.viz.graph import ROLE_COLORS
    w = Tensor([[1.0, 2.0]], requires_grad=True)
    x = Tensor([[3.0], [4.0]])
    loss = (x @ w * 2.0).sum()
    source = viz.draw_graph(loss, params=[("w", w)]).source
    assert ROLE_COLORS["parameter"] in node_line(source, "<B>w</B>")
    assert ROLE_COLORS["input"] in node_line(source, "<B>input 1</B>")
    assert ROLE_COLORS["constant"] in node_line(source, "label=<2>")
    assert ROLE_COLORS["output"] in node_line(source, "<B>output</B>")


def test_graph_has_a_legend():
    _, loss = small_mlp_loss()
    source = viz.draw_graph(loss).source
    assert "legend" in source and "vanishing" in source and "exploding" in source
    assert "legend" not in viz.draw_graph(loss, legend=False).source


def test_same_graph_gives_identical_dot_source():
    model_a, loss_a = small_mlp_loss(seed=3)
    model_b, loss_b = small_mlp_loss(seed=3)
    first = viz.draw_graph(loss_a, params=model_a.named_parameters()).source
    assert first == viz.draw_graph(loss_a, params=model_a.named_parameters()).source
    assert first == viz.draw_graph(loss_b, params=model_b.named_parameters()).source
    assert "0x" not in first  # no id()-based names


def test_a_plus_a_draws_two_edges():
    a = Tensor([1.0, 2.0], requires_grad=True)
    loss = (a + a).sum()
    loss.backward()
    source = viz.draw_graph(loss, params=[("a", a)]).source
    a_node, add_node = node_id(source, "<B>a</B>"), node_id(source, "<B>add</B>")
    assert [(t, h) for t, h, _ in edges(source)].count((a_node, add_node)) == 2


def test_edges_carry_gradient_norms_after_backward_only():
    w = Tensor([[3.0, 4.0]], requires_grad=True)
    loss = (w * 1.0).sum()
    before = viz.draw_graph(loss, params=[("w", w)]).source
    assert "label=" not in "".join(attrs for _, _, attrs in edges(before))
    loss.backward()
    after = viz.draw_graph(loss, params=[("w", w)]).source
    w_node = node_id(after, "<B>w</B>")
    (attrs,) = [a for t, _, a in edges(after) if t == w_node]
    assert "label=1.414" in attrs  # |d loss / d w| = |[1, 1]|
    assert "grad norm 1.414" in node_line(after, "<B>w</B>")  # the leaf's accumulated .grad


def test_vanishing_exploding_and_normal_gradients_look_different():
    small = Tensor([1.0, 1.0], requires_grad=True)
    normal = Tensor([1.0, 1.0], requires_grad=True)
    huge = Tensor([1.0, 1.0], requires_grad=True)
    loss = (small * 1e-9).sum() + normal.sum() + (huge * 1e6).sum()
    loss.backward()
    source = viz.draw_graph(loss, params=[("small", small), ("normal", normal), ("huge", huge)]).source
    attrs = {name: next(a for t, _, a in edges(source) if t == node_id(source, f"<B>{name}</B>"))
             for name in ("small", "normal", "huge")}
    assert GRAD_COLORS["vanishing"] in attrs["small"] and "vanishing" in attrs["small"]
    assert GRAD_COLORS["exploding"] in attrs["huge"] and "EXPLODING" in attrs["huge"]
    normal_colour = re.search(r'color="(#\w+)"', attrs["normal"]).group(1)
    assert normal_colour not in (GRAD_COLORS["vanishing"], GRAD_COLORS["exploding"], GRAD_COLORS["none"])


def test_an_exactly_zero_gradient_is_drawn_as_zero_not_as_vanishing():
    taken = Tensor([1.0, 2.0], requires_grad=True)
    skipped = Tensor([3.0, 4.0], requires_grad=True)
    loss = Tensor.where(np.array([True, True]), taken, skipped).sum()
    loss.backward()
    source = viz.draw_graph(loss, params=[("taken", taken), ("skipped", skipped)]).source
    skipped_edge = next(a for t, _, a in edges(source) if t == node_id(source, "<B>skipped</B>"))
    assert 'label=0' in skipped_edge.replace('"', "") and "dotted" in skipped_edge
    assert "vanishing" not in skipped_edge


def test_larger_gradients_draw_thicker_edges():
    a = Tensor([1.0], requires_grad=True)
    b = Tensor([1.0], requires_grad=True)
    loss = (a * 0.01).sum() + (b * 10.0).sum()
    loss.backward()
    source = viz.draw_graph(loss, params=[("a", a), ("b", b)]).source

    def width(name):
        attrs = next(x for t, _, x in edges(source) if t == node_id(source, f"<B>{name}</B>"))
        return float(re.search(r"penwidth=([\d.]+)", attrs).group(1))

    assert width("b") > width("a")


def test_parameters_of_a_module_are_grouped_in_a_cluster():
    model, loss = small_mlp_loss()
    source = viz.draw_graph(loss, params=model.named_parameters()).source
    assert re.search(r"subgraph cluster_0 \{\n[^\n]*label=\"layers \(Sequential\)\"", source)
    assert re.search(r"subgraph cluster_1 \{\n[^\n]*label=\"layers\.0 \(Linear\)\"", source)
    assert re.search(r"subgraph cluster_3 \{\n[^\n]*label=\"layers\.2 \(Linear\)\"", source)


def test_show_data_prints_values_of_small_tensors():
    w = Tensor([[0.25, -1.5]], requires_grad=True)
    loss = (w * w).sum()
    assert "-1.5" not in viz.draw_graph(loss, params=[("w", w)]).source
    assert "-1.5" in viz.draw_graph(loss, params=[("w", w)], show_data=True).source


def test_a_leaf_root_draws_one_node():
    w = Tensor([1.0], requires_grad=True)
    source = viz.draw_graph(w, params=[("w", w)], legend=False).source
    assert "<B>w</B>" in source and "->" not in source


def test_bad_arguments_raise_clear_errors():
    w = Tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="Tensor"):
        viz.draw_graph(np.ones(2))
    with pytest.raises(ValueError, match="rankdir"):
        viz.draw_graph(w, rankdir="sideways")
    with pytest.raises(TypeError, match="pairs"):
        viz.draw_graph(w, params=[w])
    with pytest.raises(ValueError, match="max_nodes"):
        viz.draw_graph(w, max_nodes=0)


def test_ten_thousand_node_graph_collapses_past_the_budget_quickly():
    x = Tensor([1.0], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    loss = y.sum()
    loss.backward()
    start = time.perf_counter()
    source = viz.draw_graph(loss, params=[("x", x)], max_nodes=400).source
    elapsed = time.perf_counter() - start
    assert elapsed < 20
    assert re.search(r"\.\.\. \d+ more operations", source)
    node_count = len(re.findall(r"^\s*n\d+ \[", source, flags=re.MULTILINE))
    assert node_count <= 400


def test_every_op_is_drawn_within_the_budget():
    _, loss = small_mlp_loss()
    source = viz.draw_graph(loss).source
    assert "more operations" not in source


@needs_dot
def test_rendered_svg_is_valid_xml_with_the_labels(tmp_path):
    model, loss = small_mlp_loss()
    path = viz.render_graph(loss, tmp_path / "graph.svg", params=model.named_parameters())
    assert path == tmp_path / "graph.svg"
    texts = " ".join(el.text or "" for el in ET.parse(path).getroot().iter() if el.tag.endswith("text"))
    for label in op_names(loss) | {"tanh", "layers.0.weight", "layers.2.bias", "(4, 2)", "float32", "legend"}:
        assert label in texts


@needs_dot
def test_render_graph_appends_the_format_as_suffix(tmp_path):
    _, loss = small_mlp_loss()
    path = viz.render_graph(loss, tmp_path / "graph", format="png")
    assert path.name == "graph.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["graph.png"]  # no temporary left behind


def test_render_graph_format_dot_needs_no_graphviz(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    _, loss = small_mlp_loss()
    path = viz.render_graph(loss, tmp_path / "graph.dot", format="dot")
    assert path.read_text().startswith("digraph")


def test_without_dot_the_source_is_written_and_the_error_says_how_to_install(tmp_path, monkeypatch):
    empty = tmp_path / "empty_bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    _, loss = small_mlp_loss()
    with pytest.raises(viz.GraphvizNotFoundError) as caught:
        viz.render_graph(loss, tmp_path / "graph.svg")
    error = caught.value
    assert isinstance(error, RuntimeError)
    assert error.dot_path == tmp_path / "graph.dot"
    assert error.dot_path.read_text().startswith("digraph")
    message = str(error)
    for text in (str(tmp_path / "graph.dot"), "apt-get install graphviz", "brew install graphviz",
                 "https://graphviz.org/download/"):
        assert text in message
    assert not (tmp_path / "graph.svg").exists()


def test_render_graph_into_a_missing_folder_raises(tmp_path):
    _, loss = small_mlp_loss()
    with pytest.raises(FileNotFoundError, match="does not exist"):
        viz.render_graph(loss, tmp_path / "nope" / "graph.svg")


@needs_dot
def test_digraph_displays_inline_in_jupyter():
    _, loss = small_mlp_loss()
    bundle = viz.draw_graph(loss)._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"]


def test_a_named_tensor_without_grad_is_a_named_input():
    from tinygrad_edu.viz.graph import ROLE_COLORS
    w = Tensor([[1.0]], requires_grad=True)
    x = Tensor([[2.0]])
    source = viz.draw_graph((x @ w).sum(), params=[("X", x), ("w", w)]).source
    assert ROLE_COLORS["input"] in node_line(source, "<B>X</B>")
    assert ROLE_COLORS["parameter"] in node_line(source, "<B>w</B>")


def test_clusters_can_be_turned_off():
    model, loss = small_mlp_loss()
    source = viz.draw_graph(loss, params=model.named_parameters(), clusters=False).source
    assert "subgraph" not in source and "layers.0.weight" in source
