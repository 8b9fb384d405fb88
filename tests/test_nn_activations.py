"""The activation Modules PyTorch has, with its names, arguments and reprs (issue 11).

Values and gradients were recorded from torch 2.13.0 in float64 (by hand, so the
tests need no PyTorch):

    x = torch.tensor(X, dtype=torch.float64, requires_grad=True)
    y = eval("torch.nn." + name)(x); y.sum().backward(); y.tolist(), x.grad.tolist()

One edit: torch's float64 Hardsigmoid gradient is 0.1666666716337204 (its 1/6 is a
float32 constant); we record 1/6.
"""
import numpy as np
import pytest

import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F  # noqa: N812
from tinygrad_edu import Tensor

X = [-25.0, -3.5, -1.0, -0.25, 0.25, 1.0, 3.5, 25.0]

# how the module is built -> (values, gradient of the sum)
TORCH_FLOAT64 = {
    "ELU()": (
        [-0.9999999999861121, -0.9698026165776815, -0.6321205588285577, -0.22119921692859512, 0.25, 1.0, 3.5, 25.0],
        [1.3887943864964021e-11, 0.0301973834223185, 0.36787944117144233, 0.7788007830714049, 1.0, 1.0, 1.0, 1.0]),
    "ELU(alpha=0.5)": (
        [-0.49999999999305605, -0.48490130828884076, -0.31606027941427883, -0.11059960846429756, 0.25, 1.0, 3.5, 25.0],
        [6.9439719324820104e-12, 0.01509869171115925, 0.18393972058572117, 0.38940039153570244, 1.0, 1.0, 1.0, 1.0]),
    "SELU()": (
        [-1.7580993408229604,
         -1.705009340957283,
         -1.1113307378125625,
         -0.388890197478119,
         0.2626752468388701,
         1.0507009873554805,
         3.677453455744182,
         26.26752468388701],
        [2.4416384954718613e-11,
         0.05308999989009366,
         0.646768603034814,
         1.3692091433692577,
         1.0507009873554805,
         1.0507009873554805,
         1.0507009873554805,
         1.0507009873554805]),
    "Mish()": (
        [-3.4719859662168955e-10,
         -0.10409575448637122,
         -0.30340146137410895,
         -0.129926963679141,
         0.1695724096638176,
         0.8650983882673103,
         3.4939907151175196,
         25.0],
        [-3.33310652754411e-10,
         -0.07276041344326706,
         0.059216755877395014,
         0.43981560172180506,
         0.7541726677205928,
         1.0490362200997922,
         1.0099393249951327,
         1.0]),
    "Hardswish()": (
        [-0.0, -0.0, -0.3333333333333333, -0.11458333333333333, 0.13541666666666666, 0.6666666666666666, 3.5, 25.0],
        [0.0, 0.0, 0.16666666666666669, 0.4166666666666667, 0.5833333333333334, 0.8333333333333333, 1.0, 1.0]),
    "Hardsigmoid()": (
        [0.0, 0.0, 0.3333333333333333, 0.4583333333333333, 0.5416666666666666, 0.6666666666666666, 1.0, 1.0],
        [0.0, 0.0, 0.16666666666666666, 0.16666666666666666, 0.16666666666666666, 0.16666666666666666, 0.0, 0.0]),
    "ReLU6()": (
        [0.0, 0.0, 0.0, 0.0, 0.25, 1.0, 3.5, 6.0],
        [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0]),
    "LogSigmoid()": (
        [-25.000000000013888,
         -3.5297504182726205,
         -1.3132616875182228,
         -0.8259394198788436,
         -0.5759394198788436,
         -0.31326168751822286,
         -0.029750418272620566,
         -1.3887943864867583e-11],
        [0.9999999999861121,
         0.9706877692486436,
         0.7310585786300049,
         0.5621765008857982,
         0.4378234991142019,
         0.2689414213699951,
         0.029312230751356316,
         1.3887943864771146e-11]),
    "Softsign()": (
        [-0.9615384615384616, -0.7777777777777778, -0.5, -0.2, 0.2, 0.5, 0.7777777777777778, 0.9615384615384616],
        [0.001479289940828403, 0.04938271604938271, 0.25, 0.64, 0.64, 0.25, 0.04938271604938271, 0.001479289940828403]),
    "Softplus()": (
        [1.3887943864867583e-11,
         0.029750418272620566,
         0.31326168751822286,
         0.5759394198788436,
         0.8259394198788436,
         1.3132616875182228,
         3.5297504182726205,
         25.0],
        [1.3887943864771146e-11,
         0.029312230751356316,
         0.2689414213699951,
         0.4378234991142019,
         0.5621765008857981,
         0.7310585786300049,
         0.9706877692486436,
         1.0]),
    "Softplus(beta=2.0, threshold=5.0)": (
        [9.643749239819589e-23,
         0.00045573322688712237,
         0.06346400552148625,
         0.23703849209005334,
         0.48703849209005334,
         1.0634640055214863,
         3.5,
         25.0],
        [1.9287498479639178e-22,
         0.0009110511944006454,
         0.11920292202211755,
         0.37754066879814546,
         0.6224593312018546,
         0.8807970779778824,
         1.0,
         1.0]),
    "LeakyReLU(negative_slope=0.2)": (
        [-5.0, -0.7000000000000001, -0.2, -0.05, 0.25, 1.0, 3.5, 25.0],
        [0.2, 0.2, 0.2, 0.2, 1.0, 1.0, 1.0, 1.0]),
}


@pytest.mark.parametrize("name", sorted(TORCH_FLOAT64))
def test_activation_module_matches_torch_values_and_gradients(name):
    values, gradient = TORCH_FLOAT64[name]
    layer = eval("nn." + name)
    x = Tensor(np.array(X), requires_grad=True)
    y = layer(x)
    y.sum().backward()
    np.testing.assert_allclose(y.data, values, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(x.grad.data, gradient, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", sorted(TORCH_FLOAT64))
def test_activation_module_prints_as_torch_does(name):
    # torch prints most of these as they are built; these two spell out their defaults
    defaults_spelled_out = {"ELU()": "ELU(alpha=1.0)", "Softplus()": "Softplus(beta=1.0, threshold=20.0)"}
    assert repr(eval("nn." + name)) == defaults_spelled_out.get(name, name)


@pytest.mark.parametrize("layer, function", [
    (nn.ELU(alpha=0.3), lambda x: F.elu(x, 0.3)), (nn.SELU(), F.selu), (nn.Mish(), F.mish),
    (nn.Hardswish(), F.hardswish), (nn.Hardsigmoid(), F.hardsigmoid), (nn.ReLU6(), F.relu6),
    (nn.LogSigmoid(), F.logsigmoid), (nn.Softsign(), F.softsign), (nn.Softplus(beta=3.0, threshold=2.0),
                                                                       lambda x: F.softplus(x, 3.0, 2.0)),
], ids=lambda v: type(v).__name__ if isinstance(v, nn.Module) else "")
def test_activation_module_is_its_functional_op_and_keeps_float32(layer, function):
    x = Tensor(np.linspace(-4, 4, 9, dtype=np.float32))
    out = layer(x)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.data, function(x).data)


def test_default_reprs_match_torch():
    assert [repr(m) for m in (nn.Softplus(), nn.Softmax(), nn.Softmax(dim=0), nn.LogSoftmax(dim=1), nn.ReLU6())] == [
        "Softplus(beta=1.0, threshold=20.0)", "Softmax(dim=-1)", "Softmax(dim=0)", "LogSoftmax(dim=1)", "ReLU6()"]


def test_log_softmax_module_matches_torch_along_either_axis():
    x = Tensor(np.array([[0.5, -1.0, 2.0], [3.0, 0.0, -2.0]]))
    # torch.nn.LogSoftmax(dim=0)(x).tolist() and dim=1, float64
    np.testing.assert_allclose(nn.LogSoftmax(dim=0)(x).data, [[-2.5788897342925496, -1.3132616875182228, -0.01814992791780978],
                                                             [-0.07888973429254957, -0.31326168751822286, -4.0181499279178094]],
                               rtol=1e-13)
    np.testing.assert_allclose(nn.LogSoftmax(axis=1)(x).data, [[-1.7413112966571571, -3.241311296657157, -0.24131129665715703],
                                                              [-0.05498523537714723, -3.0549852353771474, -5.054985235377147]],
                               rtol=1e-13)


def test_softplus_above_the_threshold_is_the_input_itself():
    # PyTorch switches to the identity where beta * x > threshold, gradient exactly 1
    x = Tensor(np.array([2.4, 2.6]), requires_grad=True)
    y = nn.Softplus(beta=2.0, threshold=5.0)(x)
    y.sum().backward()
    assert y.data[1] == 2.6 and x.grad.data[1] == 1.0
    assert y.data[0] == pytest.approx(np.log1p(np.exp(4.8)) / 2.0, rel=1e-15)


def test_new_activation_modules_are_importable_from_nn_layers_too():
    import tinygrad_edu.nn.layers as layers
    for name in ("ELU", "SELU", "Mish", "Hardswish", "Hardsigmoid", "ReLU6", "LogSigmoid", "Softsign", "LogSoftmax"):
        assert getattr(layers, name) is getattr(nn, name)


@pytest.mark.parametrize("name, layer_type", [("elu", nn.ELU), ("selu", nn.SELU), ("mish", nn.Mish),
                                              ("relu6", nn.ReLU6), ("hardswish", nn.Hardswish)])
def test_mlp_takes_the_new_activations_by_name(name, layer_type):
    model = nn.MLP([2, 3, 1], activation=name)
    assert isinstance(model.layers[1], layer_type)
