"""draw_graph / render_graph: what the drawing shows, that it is stable, and how it fails without Graphviz."""
import re
import shutil
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from gpt_model import gpt_loss

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


# ---------------------------------------------------------------- modules, roles and size (issue 12)

def enclosing_clusters(source, *texts):
    """Labels of the clusters around the first node line containing every text, outermost first."""
    stack = []
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith("subgraph cluster_"):
            stack.append(None)
        elif stripped.startswith("label=") or (stack and stack[-1] is None and " label=" in stripped
                                                and not stripped.startswith("n")):
            match = re.search(r'label="([^"]*)"', stripped)
            if stack and stack[-1] is None and match:
                stack[-1] = match.group(1)
        elif stripped == "}" and stack:
            stack.pop()
        elif all(text in line for text in texts) and "->" not in line:
            return list(stack)
    raise AssertionError(f"no node with {texts}")


def op_node_count(source):
    return len(re.findall(r"^\s*n\d+ \[label=<<TABLE", source, flags=re.MULTILINE))


def test_an_op_is_drawn_in_the_module_that_ran_it_with_or_without_bias():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3, bias=False), nn.Tanh(), nn.Linear(3, 1))
    x = Tensor(np.ones((5, 2), np.float32))
    loss = model(x).sum()
    loss.backward()
    source = viz.draw_graph(loss, params=model.named_parameters()).source
    assert enclosing_clusters(source, "<B>linear</B>", "(5, 3)")[-1] == "0 (Linear)"
    assert enclosing_clusters(source, "<B>linear</B>", "(5, 1)")[-1] == "2 (Linear)"
    assert enclosing_clusters(source, "<B>tanh</B>")[-1] == "1 (Tanh)"
    assert enclosing_clusters(source, "<B>0.weight</B>")[-1] == "0 (Linear)"
    assert enclosing_clusters(source, "<B>sum</B>") == []  # the loss is outside every module


def test_batchnorm_internals_are_inside_its_box():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU())
    loss = model(Tensor(np.random.default_rng(0).normal(size=(6, 3)).astype(np.float32))).sum()
    loss.backward()
    source = viz.draw_graph(loss, model).source
    for op in ("sub", "sqrt", "div"):
        assert enclosing_clusters(source, f"<B>{op}</B>")[-1] == "1 (BatchNorm1d)", op
    assert enclosing_clusters(source, "<B>1.weight</B>")[-1] == "1 (BatchNorm1d)"
    assert enclosing_clusters(source, "<B>relu</B>")[-1] == "2 (ReLU)"


def test_inputs_are_named_when_named_and_numbered_when_not():
    w = Tensor([[1.0], [2.0]], requires_grad=True)
    x = Tensor([[1.0, 2.0], [3.0, 4.0]])
    y = Tensor([[1.0], [0.0]])
    loss = ((x @ w - y) ** 2).sum()
    named = viz.draw_graph(loss, params=[("w", w)], inputs={"X": x, "y": y}).source
    assert "<B>X</B>" in named and "<B>y</B>" in named
    unnamed = viz.draw_graph(loss, params=[("w", w)]).source
    assert "<B>input 1</B>" in unnamed and "<B>input 2</B>" in unnamed


def test_an_input_that_requires_grad_is_still_drawn_as_an_input():
    from tinygrad_edu.viz.graph import ROLE_COLORS
    w = Tensor([[1.0], [2.0]], requires_grad=True)
    x = Tensor([[1.0, 2.0]], requires_grad=True)  # asked for, to see the gradient reaching the input
    loss = (x @ w).sum()
    loss.backward()
    source = viz.draw_graph(loss, params=[("w", w)], inputs={"x": x}).source
    assert ROLE_COLORS["input"] in node_line(source, "<B>x</B>")
    assert ROLE_COLORS["parameter"] in node_line(source, "<B>w</B>")
    assert ROLE_COLORS["input"] in node_line(viz.draw_graph(loss, inputs={"x": x}).source, "<B>x</B>")


def test_integer_inputs_and_targets_are_drawn():
    model, indices, targets, loss = gpt_loss()
    source = viz.draw_graph(loss, model, inputs={"idx": indices, "targets": targets}).source
    idx_node, target_node = node_id(source, "<B>idx</B>"), node_id(source, "<B>targets</B>")
    assert "int64" in node_line(source, "<B>idx</B>") and "(16,)" in node_line(source, "<B>targets</B>")
    heads = {t: h for t, h, _ in edges(source)}
    assert "<B>wte</B>" in node_line(source, f"{heads[idx_node]} [")
    assert "cross_entropy" in node_line(source, f"{heads[target_node]} [")


def test_vanishing_is_judged_against_the_tensors_own_scale():
    big = Tensor([1e3, 1e3], requires_grad=True)     # gradient 1e-7: nothing next to 1e3
    tiny = Tensor([1e-9, 1e-9], requires_grad=True)  # gradient 1e-8: small, but large next to 1e-9
    loss = (big * 1e-7).sum() + (tiny * 1e-8).sum()
    loss.backward()
    source = viz.draw_graph(loss, params=[("big", big), ("tiny", tiny)]).source
    attrs = {name: next(a for t, _, a in edges(source) if t == node_id(source, f"<B>{name}</B>"))
             for name in ("big", "tiny")}
    assert "vanishing" in attrs["big"]
    assert "vanishing" not in attrs["tiny"]


def test_a_gradient_that_cancels_to_rounding_noise_is_not_flagged():
    x = Tensor(np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32), requires_grad=True)
    centered = x - x.mean(axis=0, keepdim=True)
    loss = (centered * centered).sum()  # d loss/d mean = -2 * sum(centered) = 0 up to rounding
    loss.backward()
    source = viz.draw_graph(loss, params=[("x", x)]).source
    labels = [a for _, _, a in edges(source)]
    assert not any("vanishing" in a for a in labels)
    assert any("\u22480" in a or "label=0" in a for a in labels)


def test_detached_tensors_are_labelled_detached():
    from tinygrad_edu.viz.graph import ROLE_COLORS
    w = Tensor([[1.0, 2.0]], requires_grad=True)
    x = Tensor([[3.0], [4.0]])
    h = x @ w
    loss = (h * h.detach()).sum() + (w * w.detach()).sum()
    source = viz.draw_graph(loss, params=[("w", w)], inputs={"x": x}).source
    assert "detached from a matmul result" in source and "detached from w" in source
    assert ROLE_COLORS["detached"] in node_line(source, "detached from w")
    assert ROLE_COLORS["input"] in node_line(source, "<B>x</B>")  # a view of the data is not a detached copy


def test_a_gpt_sized_graph_collapses_each_module_by_default():
    from tinygrad_edu.autograd import topological_order
    model, indices, targets, loss = gpt_loss()
    ops = len(topological_order(loss))
    assert 120 <= ops <= 200
    start = time.perf_counter()
    source = viz.draw_graph(loss, model, inputs={"idx": indices, "targets": targets}).source
    assert time.perf_counter() - start < 5
    for name in ("wte", "wpe", "blocks.0", "blocks.1", "ln_f", "lm_head"):
        assert f"<B>{name}</B>" in source and "box3d" in node_line(source, f"<B>{name}</B>")
    assert "softmax" not in source and "blocks.0.attn" not in source
    assert len(re.findall(r"^\s*n\d+ \[", source, flags=re.MULTILINE)) < 20
    # Both blocks run the same ops (how many primitives a composite uses is the engine's business).
    counts = [re.search(r"(\d+) ops, 11 parameters \(3,264 values\)", node_line(source, f"<B>{name}</B>"))
              for name in ("blocks.0", "blocks.1")]
    assert all(counts) and counts[0].group(1) == counts[1].group(1) and 40 <= int(counts[0].group(1)) <= 80


def test_chosen_modules_or_a_depth_can_be_expanded():
    model, _, _, loss = gpt_loss()
    one = viz.draw_graph(loss, model, expand=["blocks.0"]).source
    assert "<B>blocks.0.attn</B>" in one and "<B>blocks.1</B>" in one and "<B>blocks.1.attn</B>" not in one
    assert enclosing_clusters(one, "<B>blocks.0.attn</B>")[-1] == "blocks.0 (Block)"
    deeper = viz.draw_graph(loss, model, depth=1).source
    assert "<B>blocks.0.attn</B>" in deeper and "<B>blocks.1.attn</B>" in deeper
    everything = viz.draw_graph(loss, model, collapse=False, max_nodes=None).source
    from tinygrad_edu.autograd import topological_order
    assert op_node_count(everything) == len(topological_order(loss))


def test_the_node_limit_cuts_whole_modules():
    from tinygrad_edu.autograd import topological_order
    model, _, _, loss = gpt_loss()
    total = len(topological_order(loss))
    fitted = viz.draw_graph(loss, model, depth=2, max_nodes=20).source  # depth 2 does not fit: collapse more
    assert "<B>blocks.0</B>" in fitted and "more operations" not in fitted
    cut = viz.draw_graph(loss, model, max_nodes=5).source
    dropped = int(re.search(r"\.\.\. (\d+) more operations", cut).group(1))
    in_modules = sum(int(n) for n in re.findall(r"(\d+) ops?[,<]", cut))
    assert in_modules + op_node_count(cut) + dropped == total  # every op is drawn, inside a module, or counted


def test_draw_graph_accepts_the_model_as_params():
    model, loss = small_mlp_loss()
    assert viz.draw_graph(loss, model).source == viz.draw_graph(loss, params=model.named_parameters(),
                                                                 model=model).source
    with pytest.raises(ValueError, match="depth"):
        viz.draw_graph(loss, model, depth=-1)


def test_module_call_records_keep_no_tensor_alive_and_skip_no_grad():
    import gc
    import weakref

    from tinygrad_edu.nn.module import module_calls
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    x = Tensor(np.ones((4, 2), np.float32))
    out = model(x)
    assert [type(m).__name__ for m, _ in module_calls(out)] == ["ReLU", "Sequential"]
    alive = weakref.ref(out)
    del out
    gc.collect()
    assert alive() is None
    with tg.no_grad():
        assert module_calls(model(x)) == []
