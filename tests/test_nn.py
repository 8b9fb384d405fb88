"""nn.Module discovery and modes, the layers, and nn.init."""
import math

import numpy as np
import pytest

import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F  # noqa: N812 (the PyTorch convention)
from tinygrad_edu import Tensor, manual_seed
from tinygrad_edu.nn import init


def _names(module):
    return [name for name, _ in module.named_parameters()]


# ----- parameter discovery -----------------------------------------------------
class _Containers(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = Tensor([1.0], requires_grad=True)
        self.blocks = [nn.Linear(2, 2), nn.Linear(2, 1, bias=False)]
        self.pair = (Tensor([2.0], requires_grad=True), Tensor([3.0]))  # second: not trainable
        self.heads = {"left": nn.Linear(1, 1), "right": {"deep": Tensor([4.0], requires_grad=True)}}
        self.constant = Tensor([5.0])
        self.array = np.ones(3, dtype=np.float32)


def test_parameters_are_found_in_attributes_lists_tuples_dicts_and_nested_modules():
    assert _names(_Containers()) == [
        "scale", "blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "pair.0",
        "heads.left.weight", "heads.left.bias", "heads.right.deep"]


def test_parameters_and_named_parameters_agree():
    model = _Containers()
    assert [id(p) for p in model.parameters()] == [id(p) for _, p in model.named_parameters()]


def test_shared_parameter_is_listed_once_under_its_first_name():
    model = nn.Module()
    shared = nn.Linear(2, 2)
    model.first = shared
    model.second = shared
    model.tied = [shared.weight]
    assert _names(model) == ["first.weight", "first.bias"]


def test_tensor_computed_from_parameters_is_not_a_parameter():
    model = nn.Module()
    model.weight = Tensor([1.0, 2.0], requires_grad=True)
    model.cached = model.weight * 2.0  # non-leaf: not trainable state
    assert _names(model) == ["weight"]
    assert list(model.state_dict()) == ["weight"]


def test_module_referring_to_itself_does_not_loop():
    model = nn.Linear(1, 1)
    model.me = model
    model.loop = []
    model.loop.append(model.loop)
    assert _names(model) == ["weight", "bias"]


def test_subclass_without_super_init_still_works():
    class Lazy(nn.Module):
        def __init__(self):
            self.weight = Tensor([1.0], requires_grad=True)

    lazy = Lazy()
    assert lazy.training is True and _names(lazy) == ["weight"]


def test_nn_parameter_is_a_trainable_tensor():
    param = nn.Parameter(np.zeros(3))
    assert isinstance(param, Tensor) and param.requires_grad


def test_buffers_are_in_state_dict_but_not_parameters():
    norm = nn.BatchNorm1d(3)
    assert _names(norm) == ["weight", "bias"]
    assert [name for name, _ in norm.named_buffers()] == ["running_mean", "running_var", "num_batches_tracked"]
    assert list(norm.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]


def test_named_modules_lists_each_module_once_with_dotted_names():
    model = nn.MLP([2, 3, 1])
    assert [name for name, _ in model.named_modules()] == ["", "layers", "layers.0", "layers.1", "layers.2"]
    assert [type(child).__name__ for child in model.children()] == ["Sequential"]


def test_zero_grad_clears_every_parameter_gradient():
    model = nn.MLP([2, 3, 1])
    model(Tensor([[1.0, 2.0]])).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_modules_start_in_training_mode_and_eval_train_are_recursive():
    model = _Containers()
    assert all(module.training for module in model.modules())
    assert model.eval() is model
    assert not any(module.training for module in model.modules())
    model.train()
    assert all(module.training for module in model.modules())


def test_apply_visits_every_module():
    model = nn.MLP([2, 3, 1])
    model.apply(lambda module: init.zeros_(module.weight) if isinstance(module, nn.Linear) else None)
    assert all(not layer.weight.data.any() for layer in model.layers if isinstance(layer, nn.Linear))


def test_to_float64_casts_in_place_and_keeps_tensor_identity():
    norm = nn.BatchNorm1d(2)
    weight = norm.weight
    norm.to(np.float64)
    assert norm.weight is weight and weight.dtype == np.float64
    assert norm.running_mean.dtype == np.float64 and norm.num_batches_tracked.dtype == np.int64


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1)


def test_repr_shows_the_layer_tree():
    text = repr(nn.Sequential(nn.Linear(2, 3), nn.ReLU()))
    assert "(0): Linear(in_features=2, out_features=3, bias=True)" in text and "(1): ReLU()" in text


# ----- Linear -------------------------------------------------------------------
def test_linear_weight_shape_dtype_and_pytorch_default_init():
    manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    assert layer.weight.shape == (300, 400) and layer.bias.shape == (300,)
    assert layer.weight.dtype == np.float32 and layer.weight.requires_grad
    for values in (layer.weight.data, layer.bias.data):
        assert np.abs(values).max() <= bound
        assert np.abs(values).max() > 0.95 * bound
    assert layer.weight.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)


def test_linear_init_is_reproducible_with_manual_seed():
    manual_seed(7)
    first = nn.Linear(3, 2).weight.data.copy()
    manual_seed(7)
    np.testing.assert_array_equal(nn.Linear(3, 2).weight.data, first)


def test_linear_computes_x_weight_transpose_plus_bias():
    layer = nn.Linear(3, 2)
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.testing.assert_allclose(layer(Tensor(x)).data, x @ layer.weight.data.T + layer.bias.data, rtol=1e-6)


def test_linear_without_bias():
    layer = nn.Linear(3, 2, bias=False)
    assert layer.bias is None and _names(layer) == ["weight"]


def test_linear_wrong_feature_count_names_layer_expected_and_got():
    with pytest.raises(ValueError, match=r"Linear\(in_features=3, out_features=2.*3 features.*\(4, 5\)"):
        nn.Linear(3, 2)(Tensor.ones(4, 5))


# ----- containers ---------------------------------------------------------------
def test_sequential_names_index_length_and_iteration():
    first, second = nn.Linear(2, 3), nn.Linear(3, 1)
    model = nn.Sequential(first, nn.Tanh(), second)
    assert _names(model) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert len(model) == 3 and model[0] is first and model[-1] is second
    assert [type(layer).__name__ for layer in model] == ["Linear", "Tanh", "Linear"]
    assert len(model[1:]) == 2 and model[1:][1] is second


def test_sequential_out_of_range_index_raises():
    with pytest.raises(IndexError, match="length 1"):
        nn.Sequential(nn.ReLU())[1]


def test_sequential_rejects_a_plain_function():
    with pytest.raises(TypeError, match="nn.Lambda"):
        nn.Sequential(nn.Linear(1, 1), F.relu)


def test_mlp_layers_and_names():
    model = nn.MLP([2, 8, 8, 1], activation="tanh", output_activation="sigmoid")
    assert [type(layer).__name__ for layer in model.layers] == [
        "Linear", "Tanh", "Linear", "Tanh", "Linear", "Sigmoid"]
    assert _names(model) == ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias",
                             "layers.4.weight", "layers.4.bias"]
    out = model(Tensor(np.random.default_rng(0).normal(size=(5, 2))))
    assert out.shape == (5, 1) and ((out.data > 0) & (out.data < 1)).all()


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "leaky_relu", "gelu"])
def test_mlp_accepts_every_activation_name(activation):
    assert nn.MLP([2, 3, 1], activation=activation)(Tensor.ones(4, 2)).shape == (4, 1)


def test_mlp_accepts_a_function_or_a_module_class():
    assert isinstance(nn.MLP([2, 3, 1], activation=F.relu).layers[1], nn.Lambda)
    assert isinstance(nn.MLP([2, 3, 1], activation=nn.Sigmoid).layers[1], nn.Sigmoid)


def test_mlp_unknown_activation_raises_listing_choices():
    with pytest.raises(ValueError, match="unknown activation 'swish'.*relu"):
        nn.MLP([2, 3, 1], activation="swish")


def test_mlp_needs_two_positive_sizes():
    with pytest.raises(ValueError, match="at least two positive"):
        nn.MLP([4])


# ----- activations, Dropout, Flatten, Conv2d -------------------------------------
@pytest.mark.parametrize("layer, reference", [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Tanh(), np.tanh),
    (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (nn.Softplus(), lambda x: np.log1p(np.exp(x))),
])
def test_activation_modules_match_numpy(layer, reference):
    x = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(layer(Tensor(x)).data, reference(x), rtol=1e-12, atol=1e-12)


def test_dropout_in_eval_mode_is_the_identity():
    layer = nn.Dropout(0.5).eval()
    x = Tensor(np.arange(10.0))
    np.testing.assert_array_equal(layer(x).data, x.data)


def test_dropout_in_training_zeroes_about_p_and_rescales_the_rest():
    manual_seed(0)
    out = nn.Dropout(0.25)(Tensor(np.ones(20000, dtype=np.float32))).data
    assert out.dtype == np.float32
    assert set(np.unique(out).tolist()) == {0.0, np.float32(1 / 0.75)}
    assert (out == 0).mean() == pytest.approx(0.25, abs=0.015)


def test_dropout_is_reproducible_with_manual_seed():
    layer = nn.Dropout(0.5)
    manual_seed(3)
    first = layer(Tensor.ones(50)).data
    manual_seed(3)
    np.testing.assert_array_equal(layer(Tensor.ones(50)).data, first)


def test_dropout_gradient_flows_only_through_kept_units():
    manual_seed(1)
    x = Tensor(np.ones(100), requires_grad=True)
    out = nn.Dropout(0.5)(x)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, out.data)  # 2 where kept, 0 where dropped


def test_dropout_rejects_probability_outside_0_1():
    with pytest.raises(ValueError, match="1.5"):
        nn.Dropout(1.5)


def test_flatten_keeps_the_batch_axis():
    assert nn.Flatten()(Tensor.ones(2, 3, 4, 5)).shape == (2, 60)


def test_conv2d_shapes_and_pytorch_default_init():
    manual_seed(0)
    conv = nn.Conv2d(3, 16, kernel_size=5, stride=1, padding=2)
    bound = 1 / math.sqrt(3 * 5 * 5)
    assert conv.weight.shape == (16, 3, 5, 5) and conv.bias.shape == (16,)
    assert np.abs(conv.weight.data).max() <= bound and np.abs(conv.weight.data).max() > 0.95 * bound
    assert conv(Tensor.ones(2, 3, 8, 8)).shape == (2, 16, 8, 8)


def test_conv2d_wrong_channel_count_raises():
    with pytest.raises(ValueError, match=r"Conv2d\(3, 4.*\(N, 3, H, W\).*\(2, 1, 8, 8\)"):
        nn.Conv2d(3, 4, 3)(Tensor.ones(2, 1, 8, 8))


def test_small_cnn_runs_end_to_end():
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 10))
    logits = model(Tensor.ones(2, 1, 8, 8))
    F.cross_entropy(logits, np.array([1, 2])).backward()
    assert model[0].weight.grad.shape == (4, 1, 3, 3)


# ----- BatchNorm1d -----------------------------------------------------------------
def _batchnorm_reference(x, weight, bias, running_mean, running_var, momentum, eps):
    """PyTorch's training-mode formulas, written out in NumPy."""
    mean, biased_var, unbiased_var = x.mean(0), x.var(0), x.var(0, ddof=1)
    out = (x - mean) / np.sqrt(biased_var + eps) * weight + bias
    running_mean = (1 - momentum) * running_mean + momentum * mean
    running_var = (1 - momentum) * running_var + momentum * unbiased_var
    return out, running_mean, running_var


def test_batchnorm1d_matches_pytorch_formulas_over_several_steps():
    rng = np.random.default_rng(0)
    norm = nn.BatchNorm1d(3, eps=1e-3, momentum=0.2).double()
    norm.weight.data[...] = [1.5, -0.5, 2.0]
    norm.bias.data[...] = [0.1, 0.2, -0.3]
    running_mean, running_var = np.zeros(3), np.ones(3)
    for step in range(4):
        x = rng.normal(loc=step, scale=1 + step, size=(6, 3))
        expected, running_mean, running_var = _batchnorm_reference(
            x, norm.weight.data, norm.bias.data, running_mean, running_var, 0.2, 1e-3)
        np.testing.assert_allclose(norm(Tensor(x)).data, expected, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(norm.running_mean.data, running_mean, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(norm.running_var.data, running_var, rtol=1e-12, atol=1e-14)
    assert int(norm.num_batches_tracked.data) == 4

    norm.eval()
    x = rng.normal(size=(2, 3))
    expected = (x - running_mean) / np.sqrt(running_var + 1e-3) * norm.weight.data + norm.bias.data
    np.testing.assert_allclose(norm(Tensor(x)).data, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(norm.running_mean.data, running_mean, rtol=0, atol=0)  # eval leaves stats alone


def test_batchnorm1d_gradient_matches_finite_differences():
    import tinygrad_edu as tg

    norm = nn.BatchNorm1d(3).double()
    norm.weight.data[...] = [1.0, 2.0, -1.0]
    x = Tensor(np.random.default_rng(1).normal(size=(5, 3)), requires_grad=True)
    mix = np.random.default_rng(2).normal(size=(5, 3))
    assert tg.gradcheck(lambda inputs: (norm(inputs) * mix).sum(), [x])


def test_batchnorm1d_accepts_n_c_l_input():
    norm = nn.BatchNorm1d(2).double()
    x = np.random.default_rng(0).normal(size=(4, 2, 5))
    mean, var = x.mean(axis=(0, 2)), x.var(axis=(0, 2))
    expected = (x - mean[None, :, None]) / np.sqrt(var[None, :, None] + 1e-5)
    np.testing.assert_allclose(norm(Tensor(x)).data, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(norm.running_var.data, 0.9 + 0.1 * x.var(axis=(0, 2), ddof=1), rtol=1e-12)


def test_batchnorm1d_cumulative_average_when_momentum_is_none():
    norm = nn.BatchNorm1d(1, momentum=None).double()
    batches = [np.array([[1.0], [3.0]]), np.array([[5.0], [9.0]])]
    for batch in batches:
        norm(Tensor(batch))
    np.testing.assert_allclose(norm.running_mean.data, [(2.0 + 7.0) / 2])


def test_batchnorm1d_single_sample_in_training_raises():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(Tensor.ones(1, 3))


def test_batchnorm1d_wrong_channel_count_raises():
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3.*\(N, 3\).*\(4, 2\)"):
        nn.BatchNorm1d(3)(Tensor.ones(4, 2))


# ----- nn.init -------------------------------------------------------------------
def test_fans_follow_pytorch_for_linear_and_conv_weights():
    assert init.calculate_fan_in_and_fan_out(np.zeros((5, 3))) == (3, 5)
    assert init.calculate_fan_in_and_fan_out(np.zeros((8, 4, 3, 3))) == (36, 72)


def test_fans_need_two_dimensions():
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        init.calculate_fan_in_and_fan_out(np.zeros(4))


@pytest.mark.parametrize("name, param, gain", [
    ("linear", None, 1.0), ("sigmoid", None, 1.0), ("tanh", None, 5 / 3), ("relu", None, math.sqrt(2)),
    ("leaky_relu", None, math.sqrt(2 / (1 + 0.01 ** 2))), ("leaky_relu", math.sqrt(5), math.sqrt(1 / 3)),
])
def test_calculate_gain_matches_pytorch(name, param, gain):
    assert init.calculate_gain(name, param) == pytest.approx(gain, rel=1e-12)


@pytest.mark.parametrize("initialise, shape, bound", [
    (lambda t: init.xavier_uniform_(t), (300, 200), math.sqrt(6 / 500)),
    (lambda t: init.glorot_uniform_(t, gain=2.0), (300, 200), 2 * math.sqrt(6 / 500)),
    (lambda t: init.kaiming_uniform_(t, nonlinearity="relu"), (300, 200), math.sqrt(2) * math.sqrt(3 / 200)),
    (lambda t: init.he_uniform_(t, mode="fan_out", nonlinearity="relu"), (300, 200), math.sqrt(2) * math.sqrt(3 / 300)),
    (lambda t: init.uniform_(t, -0.3, 0.3), (300, 200), 0.3),
])
def test_uniform_initialisers_fill_up_to_their_bound(initialise, shape, bound):
    manual_seed(0)
    tensor = Tensor(np.zeros(shape, dtype=np.float32), requires_grad=True)
    array = tensor.data
    assert initialise(tensor) is tensor and tensor.data is array and array.dtype == np.float32
    assert np.abs(array).max() <= bound and np.abs(array).max() > 0.99 * bound


@pytest.mark.parametrize("initialise, std", [
    (lambda t: init.xavier_normal_(t), math.sqrt(2 / 500)),
    (lambda t: init.kaiming_normal_(t, nonlinearity="relu"), math.sqrt(2 / 200)),
    (lambda t: init.he_normal_(t, mode="fan_out", nonlinearity="tanh"), (5 / 3) / math.sqrt(300)),
    (lambda t: init.normal_(t, 1.0, 0.5), 0.5),
])
def test_normal_initialisers_have_their_standard_deviation(initialise, std):
    manual_seed(0)
    tensor = initialise(Tensor(np.zeros((300, 200))))
    assert tensor.data.std() == pytest.approx(std, rel=0.02)


def test_zeros_and_ones_fill_in_place():
    tensor = Tensor(np.full((2, 2), 7.0))
    assert init.zeros_(tensor).data.sum() == 0 and init.ones_(tensor).data.sum() == 4


@pytest.mark.parametrize("make", [lambda: nn.Linear(0, 2), lambda: nn.Linear(3, 2.5), lambda: nn.Conv2d(1, -1, 3)])
def test_layers_reject_sizes_that_are_not_positive_ints(make):
    with pytest.raises(ValueError, match="must be a positive int"):
        make()


def test_mlp_without_activation_is_purely_linear():
    model = nn.MLP([2, 3, 1], activation=None)
    assert [type(layer).__name__ for layer in model.layers] == ["Linear", "Linear"]
