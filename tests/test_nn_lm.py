"""The language-model layers of nn: Embedding, LayerNorm, BatchNorm2d, ModuleList, ModuleDict,
GELU(approximate), SiLU, Conv2d(groups) and nn.utils.clip_grad_norm_: names, shapes,
initialisation, printing and bad input. Training against PyTorch: test_torch_reference.py."""
import math

import numpy as np
import pytest

import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F  # noqa: N812
from tinygrad_edu import Tensor, gradcheck, manual_seed


def _names(module):
    return [name for name, _ in module.named_parameters()]


class _Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(1, 1)])
        self.emb = nn.Embedding(5, 3)
        self.ln = nn.LayerNorm(3)
        self.bn = nn.BatchNorm2d(4)
        self.g = nn.GELU()
        self.g2 = nn.GELU(approximate="tanh")
        self.si = nn.SiLU()
        self.c = nn.Conv2d(4, 6, 3, groups=2)
        self.ln2 = nn.LayerNorm((3, 4), elementwise_affine=False)


def test_state_dict_names_are_pytorchs():
    # The list torch.nn gives for the same model (recorded with PyTorch 2.13).
    assert list(_Model().state_dict()) == [
        "blocks.0.weight", "blocks.0.bias", "emb.weight", "ln.weight", "ln.bias", "bn.weight", "bn.bias",
        "bn.running_mean", "bn.running_var", "bn.num_batches_tracked", "c.weight", "c.bias"]


def test_repr_is_pytorchs_for_the_new_layers():
    # Each line as torch.nn 2.13 prints the same model.
    lines = repr(_Model()).splitlines()
    assert lines[1:4] == ["  (blocks): ModuleList(", "    (0): Linear(in_features=1, out_features=1, bias=True)", "  )"]
    assert lines[4:10] == [
        "  (emb): Embedding(5, 3)",
        "  (ln): LayerNorm((3,), eps=1e-05, elementwise_affine=True, bias=True)",
        "  (bn): BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)",
        "  (g): GELU(approximate='none')",
        "  (g2): GELU(approximate='tanh')",
        "  (si): SiLU()",
    ]
    assert lines[10].startswith("  (c): Conv2d(4, 6, kernel_size=(3, 3)") and "groups=2" in lines[10]
    assert lines[11] == "  (ln2): LayerNorm((3, 4), eps=1e-05, elementwise_affine=False, bias=False)"


# ----- Embedding -----------------------------------------------------------------------
def test_embedding_weight_is_standard_normal_float32_and_seeded():
    manual_seed(0)
    table = nn.Embedding(1000, 20)
    assert table.weight.shape == (1000, 20) and table.weight.dtype == np.float32
    assert abs(table.weight.data.mean()) < 0.02 and abs(table.weight.data.std() - 1) < 0.02
    manual_seed(0)
    np.testing.assert_array_equal(nn.Embedding(1000, 20).weight.data, table.weight.data)


def test_embedding_forward_and_gradient_rows():
    table = nn.Embedding(4, 2)
    out = table(np.array([[0, 3, 3]]))
    assert out.shape == (1, 3, 2)
    out.sum().backward()
    np.testing.assert_array_equal(table.weight.grad.data[:, 0], [1, 0, 0, 2])


@pytest.mark.parametrize("args", [(0, 3), (3, -1), (2.5, 3)])
def test_embedding_bad_sizes_raise(args):
    with pytest.raises(ValueError, match="must be a positive int"):
        nn.Embedding(*args)


# ----- LayerNorm -----------------------------------------------------------------------
def test_layernorm_parameters_start_at_ones_and_zeros():
    norm = nn.LayerNorm((2, 3))
    assert _names(norm) == ["weight", "bias"]
    assert norm.weight.data.tolist() == [[1.0] * 3] * 2 and not norm.bias.data.any()


def test_layernorm_without_affine_or_bias():
    assert _names(nn.LayerNorm(3, elementwise_affine=False)) == []
    assert _names(nn.LayerNorm(3, bias=False)) == ["weight"]


def test_layernorm_forward_is_f_layer_norm():
    x = np.random.default_rng(0).normal(size=(2, 5, 3))
    norm = nn.LayerNorm(3).double()
    np.testing.assert_array_equal(norm(Tensor(x)).data, F.layer_norm(Tensor(x), 3, norm.weight, norm.bias).data)


def test_layernorm_wrong_input_shape_raises():
    with pytest.raises(ValueError, match=r"does not end in normalized_shape \(4,\)"):
        nn.LayerNorm(4)(Tensor.ones(2, 3))


# ----- BatchNorm2d ---------------------------------------------------------------------
def test_batchnorm2d_normalises_each_channel_over_batch_and_pixels():
    x = np.random.default_rng(0).normal(2.0, 3.0, size=(4, 3, 5, 5))
    norm = nn.BatchNorm2d(3).double()
    y = norm(Tensor(x)).data
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, rtol=1e-3)
    np.testing.assert_allclose(norm.running_mean.data, 0.1 * x.mean(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(norm.running_var.data, 0.9 + 0.1 * x.var(axis=(0, 2, 3), ddof=1), rtol=1e-12)
    assert int(norm.num_batches_tracked.data) == 1


def test_batchnorm2d_eval_uses_running_statistics():
    norm = nn.BatchNorm2d(2).double()
    norm.running_mean.data[...] = [1.0, -1.0]
    norm.running_var.data[...] = [4.0, 9.0]
    norm.eval()
    y = norm(Tensor(np.ones((1, 2, 1, 1)))).data.reshape(-1)
    np.testing.assert_allclose(y, [0.0, 2.0 / math.sqrt(9.0 + 1e-5)], rtol=1e-12)


def test_batchnorm2d_gradient():
    norm = nn.BatchNorm2d(2).double()
    x = Tensor(np.random.default_rng(1).normal(size=(3, 2, 2, 2)), requires_grad=True)
    assert gradcheck(lambda x, w, b: nn.BatchNorm2d.forward(norm, x) * w.reshape(1, 2, 1, 1) + b.reshape(1, 2, 1, 1),
                     [x, Tensor(np.array([1.5, -0.5]), requires_grad=True), Tensor(np.zeros(2), requires_grad=True)])


def test_batchnorm2d_wants_nchw_input():
    with pytest.raises(ValueError, match=r"expects input of shape \(N, 3, H, W\), got \(4, 3\)"):
        nn.BatchNorm2d(3)(Tensor.ones(4, 3))


# ----- ModuleList and ModuleDict -------------------------------------------------------
class _Blocks(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
        self.heads = nn.ModuleDict({"a": nn.Linear(2, 1), "b": nn.Linear(2, 3)})


def test_modulelist_and_moduledict_name_parameters_with_dots():
    assert _names(_Blocks()) == ["blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias",
                                 "blocks.2.weight", "blocks.2.bias", "heads.a.weight", "heads.a.bias",
                                 "heads.b.weight", "heads.b.bias"]


def test_modulelist_repr_collapses_repeats_as_pytorch():
    layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 3)])
    assert repr(layers) == ("ModuleList(\n"
                            "  (0-1): 2 x Linear(in_features=2, out_features=2, bias=True)\n"
                            "  (2): ReLU()\n"
                            "  (3): Linear(in_features=2, out_features=3, bias=True)\n"
                            ")")
    assert repr(nn.ModuleList()) == "ModuleList()"


def test_moduledict_repr_is_pytorchs():
    heads = nn.ModuleDict({"a": nn.Linear(1, 1), "b": nn.ReLU()})
    assert repr(heads) == ("ModuleDict(\n  (a): Linear(in_features=1, out_features=1, bias=True)\n"
                           "  (b): ReLU()\n)")


def test_modulelist_behaves_as_a_list():
    first, second, third = nn.ReLU(), nn.Tanh(), nn.Sigmoid()
    layers = nn.ModuleList([first])
    layers.append(third)
    layers.insert(1, second)
    assert list(layers) == [first, second, third] and len(layers) == 3 and layers[-1] is third
    layers[0] = nn.Linear(1, 1)
    assert _names(layers) == ["0.weight", "0.bias"]
    del layers[0]
    assert list(layers) == [second, third]
    layers += [first]
    assert isinstance(layers[1:], nn.ModuleList) and list(layers[1:]) == [third, first]
    assert [name for name, _ in layers.named_modules()] == ["", "0", "1", "2"]


def test_modulelist_insert_renames_in_order():
    layers = nn.ModuleList([nn.Linear(1, 1, bias=False), nn.Linear(1, 2, bias=False)])
    layers.insert(0, nn.Linear(1, 3, bias=False))
    assert [(name, p.shape) for name, p in layers.named_parameters()] == [("0.weight", (3, 1)), ("1.weight", (1, 1)),
                                                                          ("2.weight", (2, 1))]


def test_modulelist_state_dict_round_trip():
    source, target = _Blocks(), _Blocks()
    target.load_state_dict(source.state_dict())
    for name, array in source.state_dict().items():
        np.testing.assert_array_equal(target.state_dict()[name], array)


def test_modulelist_errors():
    with pytest.raises(TypeError, match="holds Modules, got int at position 1"):
        nn.ModuleList([nn.ReLU(), 3])
    with pytest.raises(IndexError, match="index 2 is out of range for a ModuleList of length 1"):
        nn.ModuleList([nn.ReLU()])[2]
    with pytest.raises(NotImplementedError, match="iterate over it"):
        nn.ModuleList([nn.ReLU()])(Tensor.ones(1))


def test_moduledict_behaves_as_a_dict():
    heads = nn.ModuleDict([("x", nn.ReLU())])
    heads["y"] = nn.Tanh()
    assert heads.keys() == ["x", "y"] and "y" in heads and len(heads) == 2
    assert [key for key, _ in heads.items()] == list(heads)
    assert isinstance(heads.pop("x"), nn.ReLU) and heads.keys() == ["y"]


@pytest.mark.parametrize("key, error, message", [
    ("forward", KeyError, "clashes with an attribute"),
    ("a.b", KeyError, "without '.'"),
    (3, TypeError, "keys must be strings"),
])
def test_moduledict_bad_keys_raise(key, error, message):
    with pytest.raises(error, match=message):
        nn.ModuleDict({key: nn.ReLU()})


def test_moduledict_missing_key_lists_the_keys():
    with pytest.raises(KeyError, match=r"no key 'c'; keys: \['a'\]"):
        nn.ModuleDict({"a": nn.ReLU()})["c"]


# ----- activations ---------------------------------------------------------------------
def test_gelu_module_defaults_to_the_exact_form():
    x = Tensor(np.linspace(-3, 3, 7))
    np.testing.assert_array_equal(nn.GELU()(x).data, F.gelu(x).data)
    np.testing.assert_array_equal(nn.GELU(approximate="tanh")(x).data, x.gelu().data)
    with pytest.raises(ValueError, match="approximate must be"):
        nn.GELU(approximate="yes")


def test_silu_module_and_mlp_activation_name():
    x = Tensor(np.linspace(-3, 3, 7))
    np.testing.assert_array_equal(nn.SiLU()(x).data, F.silu(x).data)
    assert isinstance(nn.MLP([2, 3, 1], activation="silu").layers[1], nn.SiLU)


# ----- Conv2d groups -------------------------------------------------------------------
def test_grouped_conv_is_each_group_convolved_separately():
    conv = nn.Conv2d(4, 6, 3, padding=1, groups=2).double()
    assert conv.weight.shape == (6, 2, 3, 3)
    x = Tensor(np.random.default_rng(0).normal(size=(2, 4, 5, 5)))
    out = conv(x)
    first = x[:, :2].conv2d(conv.weight[:3], conv.bias[:3], padding=1)
    second = x[:, 2:].conv2d(conv.weight[3:], conv.bias[3:], padding=1)
    np.testing.assert_allclose(out.data, np.concatenate([first.data, second.data], axis=1), rtol=1e-14)


def test_grouped_conv_gradient():
    conv = nn.Conv2d(2, 2, 2, groups=2).double()
    x = Tensor(np.random.default_rng(1).normal(size=(1, 2, 3, 3)), requires_grad=True)
    assert gradcheck(lambda x, w: nn.Conv2d.forward(_with_weight(conv, w), x), [x, conv.weight])


def _with_weight(conv, weight):
    conv.weight = weight
    return conv


def test_grouped_conv_initialisation_uses_the_group_fan_in():
    manual_seed(0)
    conv = nn.Conv2d(8, 8, 3, groups=4)
    bound = 1 / math.sqrt(2 * 3 * 3)
    assert np.abs(conv.weight.data).max() <= bound and np.abs(conv.weight.data).max() > 0.9 * bound


@pytest.mark.parametrize("groups, message", [(3, "divisible by groups"), (0, "groups must be a positive int")])
def test_grouped_conv_bad_groups_raise(groups, message):
    with pytest.raises(ValueError, match=message):
        nn.Conv2d(4, 6, 3, groups=groups)


# ----- clip_grad_norm_ -----------------------------------------------------------------
def _with_grads(*grads):
    params = []
    for grad in grads:
        param = Tensor(np.zeros(len(grad)), requires_grad=True)
        param.grad = Tensor(np.array(grad, dtype=np.float64))
        params.append(param)
    return params


def test_clip_grad_norm_returns_the_total_norm_and_scales():
    params = _with_grads([3.0, 0.0], [4.0])
    total = nn.utils.clip_grad_norm_(params, max_norm=1.0)
    assert total.item() == 5.0
    np.testing.assert_allclose(params[0].grad.data, [3.0 / (5.0 + 1e-6), 0.0], rtol=1e-15)
    np.testing.assert_allclose(params[1].grad.data, [4.0 / (5.0 + 1e-6)], rtol=1e-15)


def test_clip_grad_norm_leaves_small_gradients_alone():
    params = _with_grads([0.3], [0.4])
    assert nn.utils.clip_grad_norm_(params, max_norm=1.0).item() == pytest.approx(0.5)
    assert params[0].grad.tolist() == [0.3] and params[1].grad.tolist() == [0.4]


def test_clip_grad_norm_inf_and_p_norms():
    assert nn.utils.clip_grad_norm_(_with_grads([3.0, -7.0], [4.0]), 100, norm_type=math.inf).item() == 7.0
    assert nn.utils.clip_grad_norm_(_with_grads([3.0, -7.0], [4.0]), 100, norm_type=1).item() == 14.0


def test_clip_grad_norm_skips_parameters_without_gradient_and_takes_a_tensor():
    unused = Tensor([1.0], requires_grad=True)
    assert nn.utils.clip_grad_norm_([unused], 1.0).item() == 0.0
    (single,) = _with_grads([6.0, 8.0])
    assert nn.utils.clip_grad_norm_(single, 1.0).item() == 10.0


def test_clip_grad_norm_nonfinite():
    with pytest.raises(RuntimeError, match="total norm .* is inf"):
        nn.utils.clip_grad_norm_(_with_grads([np.inf]), 1.0, error_if_nonfinite=True)


def test_clip_grad_norm_on_a_model_after_backward():
    model = nn.Linear(3, 2)
    (model(Tensor.ones(4, 3)) * 100).sum().backward()
    nn.utils.clip_grad_norm_(model.parameters(), 0.5)
    total = math.sqrt(sum(float((p.grad.data.astype(np.float64) ** 2).sum()) for p in model.parameters()))
    assert total == pytest.approx(0.5, rel=1e-5)
