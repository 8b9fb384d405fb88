"""nn.functional: losses against hand formulas, their gradients, stability and bad input."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.nn.functional as F  # noqa: N812 (the PyTorch convention)
from tinygrad_edu import Tensor, gradcheck, gradgradcheck, manual_seed
from tinygrad_edu.testing.strategies import arrays

RNG = np.random.default_rng(0)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _log_softmax(x):
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _t(array, requires_grad=True):
    return Tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


# ----- mse / l1 -----------------------------------------------------------------
@pytest.mark.parametrize("reduction, reduce", [("mean", np.mean), ("sum", np.sum), ("none", lambda a: a)])
def test_mse_loss_matches_formula(reduction, reduce):
    pred, target = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3))
    got = F.mse_loss(_t(pred), _t(target), reduction=reduction).data
    np.testing.assert_allclose(got, reduce((pred - target) ** 2), rtol=1e-12)


def test_mse_loss_gradient_and_second_derivative():
    pred, target = _t(RNG.normal(size=(3, 2))), _t(RNG.normal(size=(3, 2)))
    assert gradcheck(lambda p, t: F.mse_loss(p, t), [pred, target])
    assert gradgradcheck(lambda p, t: F.mse_loss(p, t), [pred, target])


def test_mse_loss_accepts_an_ndarray_target_in_the_prediction_dtype():
    pred = Tensor(np.ones((2, 1), dtype=np.float32), requires_grad=True)
    assert F.mse_loss(pred, np.zeros((2, 1))).dtype == np.float32


def test_l1_loss_matches_formula():
    pred, target = RNG.normal(size=5), RNG.normal(size=5)
    np.testing.assert_allclose(F.l1_loss(_t(pred), _t(target)).data, np.abs(pred - target).mean(), rtol=1e-12)


@pytest.mark.parametrize("loss", [F.mse_loss, F.l1_loss, F.binary_cross_entropy, F.binary_cross_entropy_with_logits])
def test_losses_refuse_to_broadcast_n_against_n_by_1(loss):
    with pytest.raises(ValueError, match=r"shape \(4,\).*shape \(4, 1\)"):
        loss(_t(np.full(4, 0.5)), _t(np.ones((4, 1))))


@pytest.mark.parametrize("loss", [F.mse_loss, F.binary_cross_entropy, F.binary_cross_entropy_with_logits])
def test_unknown_reduction_raises(loss):
    with pytest.raises(ValueError, match="reduction must be one of"):
        loss(_t([0.5]), _t([1.0]), reduction="average")


# ----- binary cross-entropy ------------------------------------------------------
def test_binary_cross_entropy_matches_formula():
    prob, target = RNG.uniform(0.05, 0.95, size=(6, 1)), RNG.integers(0, 2, size=(6, 1)).astype(float)
    expected = -(target * np.log(prob) + (1 - target) * np.log(1 - prob))
    np.testing.assert_allclose(F.binary_cross_entropy(_t(prob), _t(target), reduction="none").data, expected,
                               rtol=1e-12)
    np.testing.assert_allclose(F.binary_cross_entropy(_t(prob), _t(target)).data, expected.mean(), rtol=1e-12)


def test_binary_cross_entropy_gradient_and_second_derivative():
    prob, target = _t(RNG.uniform(0.1, 0.9, size=4)), _t([0.0, 1.0, 1.0, 0.3], requires_grad=False)
    assert gradcheck(lambda p: F.binary_cross_entropy(p, target), [prob])
    assert gradgradcheck(lambda p: F.binary_cross_entropy(p, target), [prob])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_cross_entropy_clamps_each_log_at_minus_100(dtype):
    prob = Tensor(np.array([0.0, 1.0, 1e-50, 1.0], dtype=dtype), requires_grad=True)
    target = Tensor(np.array([1.0, 0.0, 1.0, 1.0], dtype=dtype))
    loss = F.binary_cross_entropy(prob, target, reduction="none")
    np.testing.assert_array_equal(loss.data, np.array([100.0, 100.0, 100.0, 0.0], dtype=dtype))
    loss.sum().backward()
    assert np.isfinite(prob.grad.data).all()


def test_binary_cross_entropy_rejects_probabilities_outside_0_1():
    with pytest.raises(ValueError, match=r"\[0, 1\].*binary_cross_entropy_with_logits"):
        F.binary_cross_entropy(_t([0.5, 1.5]), _t([1.0, 0.0]))


def test_bce_with_logits_matches_bce_of_sigmoid():
    logits, target = RNG.normal(scale=3, size=(5, 2)), RNG.uniform(size=(5, 2))
    prob = _sigmoid(logits)
    expected = -(target * np.log(prob) + (1 - target) * np.log(1 - prob))
    got = F.binary_cross_entropy_with_logits(_t(logits), _t(target), reduction="none").data
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_bce_with_logits_is_exact_and_finite_at_extreme_logits():
    logits = _t([1000.0, -1000.0, 1000.0, -1000.0, 40.0])
    target = _t([1.0, 0.0, 0.0, 1.0, 1.0], requires_grad=False)
    loss = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    np.testing.assert_allclose(loss.data, [0.0, 0.0, 1000.0, 1000.0, np.exp(-40.0)], rtol=1e-12, atol=0)
    loss.sum().backward()
    np.testing.assert_allclose(logits.grad.data, [0.0, 0.0, 1.0, -1.0, 0.0], rtol=1e-12, atol=1e-15)


def test_bce_with_logits_gradient_is_sigmoid_minus_target_even_at_zero():
    logits = _t([0.0, 0.0, 2.0, -3.0])
    target = np.array([0.0, 1.0, 0.25, 1.0])
    F.binary_cross_entropy_with_logits(logits, _t(target, False), reduction="sum").backward()
    np.testing.assert_allclose(logits.grad.data, _sigmoid(logits.data) - target, rtol=1e-12)


def test_bce_with_logits_gradient_and_second_derivative():
    logits, target = _t(RNG.normal(scale=2, size=(3, 2))), _t(RNG.uniform(size=(3, 2)))
    assert gradcheck(lambda x, t: F.binary_cross_entropy_with_logits(x, t), [logits, target])
    assert gradgradcheck(lambda x, t: F.binary_cross_entropy_with_logits(x, t), [logits, target])


# ----- cross-entropy --------------------------------------------------------------
def test_cross_entropy_matches_formula():
    logits, target = RNG.normal(size=(5, 4)), np.array([0, 3, 1, 1, 2])
    expected = -_log_softmax(logits)[np.arange(5), target]
    np.testing.assert_allclose(F.cross_entropy(_t(logits), target, reduction="none").data, expected, rtol=1e-12)
    np.testing.assert_allclose(F.cross_entropy(_t(logits), target).data, expected.mean(), rtol=1e-12)
    np.testing.assert_allclose(F.cross_entropy(_t(logits), target, reduction="sum").data, expected.sum(), rtol=1e-12)


def test_cross_entropy_gradient_is_softmax_minus_one_hot_over_n():
    logits, target = _t(RNG.normal(size=(3, 4))), np.array([2, 0, 3])
    F.cross_entropy(logits, target).backward()
    softmax = np.exp(_log_softmax(logits.data))
    np.testing.assert_allclose(logits.grad.data, (softmax - np.eye(4)[target]) / 3, rtol=1e-12, atol=1e-15)


def test_cross_entropy_gradient_and_second_derivative():
    logits, target = _t(RNG.normal(size=(4, 3))), np.array([0, 2, 1, 2])
    assert gradcheck(lambda x: F.cross_entropy(x, target), [logits])
    assert gradgradcheck(lambda x: F.cross_entropy(x, target), [logits])


def test_cross_entropy_is_finite_and_exact_for_extreme_logits():
    logits = _t([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 1000.0]])
    loss = F.cross_entropy(logits, np.array([1, 2]), reduction="none")
    np.testing.assert_allclose(loss.data, [2000.0, np.log(2.0)], rtol=1e-12)
    loss.sum().backward()
    np.testing.assert_allclose(logits.grad.data, [[1.0, -1.0, 0.0], [0.0, 0.5, -0.5]], atol=1e-12)


def test_cross_entropy_accepts_an_integer_tensor_target():
    logits = _t(RNG.normal(size=(2, 3)))
    target = Tensor(np.array([1, 2]), dtype=np.int64)
    np.testing.assert_allclose(F.cross_entropy(logits, target).data, F.cross_entropy(logits, np.array([1, 2])).data)


@pytest.mark.parametrize("target", [np.array([0.0, 1.0]), Tensor([0.0, 1.0])])
def test_cross_entropy_float_target_raises(target):
    with pytest.raises(ValueError, match="integer class indices, got dtype float"):
        F.cross_entropy(_t(np.zeros((2, 3))), target)


@pytest.mark.parametrize("bad, position", [(3, 1), (-1, 1)])
def test_cross_entropy_index_out_of_range_raises_naming_it(bad, position):
    with pytest.raises(ValueError, match=rf"target\[{position}\] = {bad}.*3 classes"):
        F.cross_entropy(_t(np.zeros((2, 3))), np.array([0, bad]))


@pytest.mark.parametrize("loss", [F.cross_entropy, F.nll_loss])
def test_class_losses_with_no_classes_raise_saying_so(loss):
    with pytest.raises(ValueError, match=r"shape \(2, 0\) have no classes"):
        loss(_t(np.zeros((2, 0))), np.array([0, 0]))


def test_cross_entropy_wrong_target_length_raises():
    with pytest.raises(ValueError, match=r"target has shape \(3,\).*\(2, 4\)"):
        F.cross_entropy(_t(np.zeros((2, 4))), np.array([0, 1, 2]))


def test_cross_entropy_needs_two_dimensional_logits():
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        F.cross_entropy(_t(np.zeros(4)), np.array([1]))


def test_nll_loss_of_log_softmax_is_cross_entropy():
    logits, target = _t(RNG.normal(size=(3, 5))), np.array([4, 0, 2])
    np.testing.assert_allclose(F.nll_loss(F.log_softmax(logits, axis=1), target).data,
                               F.cross_entropy(logits, target).data, rtol=1e-12)


@given(arrays((3, 4), elements=st.floats(-1e3, 1e3)), st.lists(st.integers(0, 3), min_size=3, max_size=3))
def test_cross_entropy_matches_reference_for_any_finite_logits(logits, target):
    target = np.array(target)
    expected = -_log_softmax(logits)[np.arange(3), target].mean()
    np.testing.assert_allclose(F.cross_entropy(_t(logits), target).data, expected, rtol=1e-10, atol=1e-10)


# ----- activations ------------------------------------------------------------------
X = np.linspace(-4, 4, 17)


@pytest.mark.parametrize("function, reference", [
    (F.relu, lambda x: np.maximum(x, 0)),
    (F.sigmoid, _sigmoid),
    (F.tanh, np.tanh),
    (F.softplus, lambda x: np.log1p(np.exp(x))),
    (lambda x: F.leaky_relu(x, 0.1), lambda x: np.where(x > 0, x, 0.1 * x)),
    (lambda x: F.softmax(x.reshape(1, -1), dim=1), lambda x: np.exp(_log_softmax(x.reshape(1, -1)))),
    (lambda x: F.log_softmax(x.reshape(1, -1)), lambda x: _log_softmax(x.reshape(1, -1))),
    (lambda x: F.gelu(x, approximate="tanh"), lambda x: Tensor(x).gelu().data),
    (F.gelu, lambda x: np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x])),
    (F.silu, lambda x: x * _sigmoid(x)),
])
def test_activation_functions_match_numpy(function, reference):
    np.testing.assert_allclose(function(_t(X)).data, reference(X), rtol=1e-12, atol=1e-15)


def test_functional_dropout_outside_training_returns_input():
    x = _t(X)
    assert F.dropout(x, 0.5, training=False) is x


def test_functional_dropout_with_p_one_zeroes_everything():
    manual_seed(0)
    assert not F.dropout(_t(X), 1.0).data.any()


# ----- the fused linear op -------------------------------------------------------
@pytest.mark.parametrize("input_shape", [(4, 3), (3,), (2, 5, 3)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_matches_matmul_plus_bias_and_its_gradients_check(input_shape, with_bias):
    rng = np.random.default_rng(3)
    x = Tensor(rng.standard_normal(input_shape), requires_grad=True)
    weight = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    bias = Tensor(rng.standard_normal(2), requires_grad=True) if with_bias else None
    expected = x.data @ weight.data.T + (bias.data if with_bias else 0)
    np.testing.assert_allclose(F.linear(x, weight, bias).data, expected, rtol=1e-12)
    inputs = [x, weight] + ([bias] if with_bias else [])
    fn = (lambda x, w, b: F.linear(x, w, b)) if with_bias else (lambda x, w: F.linear(x, w))
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


def test_linear_names_the_mismatched_shapes():
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(2, 5\)"):
        F.linear(Tensor(np.ones((4, 3))), Tensor(np.ones((2, 5))))


# ----- the fused cross-entropy op ------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_fused_cross_entropy_matches_the_composite_formula_to_second_order(reduction):
    rng = np.random.default_rng(5)
    logits = Tensor(rng.standard_normal((5, 4)), requires_grad=True)
    target = np.array([0, 3, 1, 1, 2])
    composite = logits.logsumexp(axis=1) - logits[np.arange(5), target]
    composite = composite.mean() if reduction == "mean" else composite.sum() if reduction == "sum" else composite
    np.testing.assert_allclose(F.cross_entropy(logits, target, reduction=reduction).data, composite.data, rtol=1e-12)
    assert gradcheck(lambda z: F.cross_entropy(z, target, reduction=reduction), [logits])
    assert gradgradcheck(lambda z: F.cross_entropy(z, target, reduction=reduction), [logits])
