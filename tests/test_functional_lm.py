"""The language-model functions of nn.functional: gelu (both forms), silu, layer_norm, embedding,
one_hot and cross_entropy's options. Values against formulas, first and second derivatives
against finite differences (float64, hypothesis), bad input. Training runs against PyTorch's
recorded numbers are in test_torch_reference.py."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.nn.functional as F  # noqa: N812 (the PyTorch convention)
from tinygrad_edu import Tensor, gradcheck, gradgradcheck
from tinygrad_edu.testing.strategies import arrays, shapes

FLOATS = st.floats(-4, 4, allow_nan=False, allow_infinity=False)


def _t(array):
    return Tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


# ----- erf and gelu ---------------------------------------------------------------------
def test_erf_matches_math_erf_everywhere_to_2e_15():
    xs = np.concatenate([np.linspace(-7, 7, 200001), [0.0, -0.0, 1.0, -1.0, 2.0, 3.0, 4.0, 6.0, 1e-300, 30.0]])
    expected = np.array([math.erf(x) for x in xs])
    assert np.max(np.abs(F._erf_array(xs) - expected)) < 2e-15


def test_erf_keeps_nan_and_saturates_at_infinity():
    result = F._erf_array(np.array([np.nan, np.inf, -np.inf]))
    assert np.isnan(result[0]) and result[1] == 1.0 and result[2] == -1.0


def test_exact_gelu_matches_the_erf_formula():
    xs = np.linspace(-6, 6, 121)
    expected = [0.5 * x * (1 + math.erf(x / math.sqrt(2))) for x in xs]
    np.testing.assert_allclose(F.gelu(_t(xs)).data, expected, rtol=1e-14, atol=1e-15)


def test_exact_gelu_gradient_is_cdf_plus_x_times_density():
    xs = np.linspace(-5, 5, 41)
    x = _t(xs)
    F.gelu(x).sum().backward()
    expected = [0.5 * (1 + math.erf(v / math.sqrt(2))) + v * math.exp(-v * v / 2) / math.sqrt(2 * math.pi) for v in xs]
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-13, atol=1e-15)


def test_gelu_tanh_is_tensor_gelu_and_differs_from_exact():
    x = _t(np.linspace(-3, 3, 13))
    np.testing.assert_array_equal(F.gelu(x, approximate="tanh").data, x.gelu().data)
    assert 0 < np.max(np.abs(F.gelu(x).data - x.gelu().data)) < 1e-3


def test_gelu_float32_stays_float32():
    assert F.gelu(Tensor([1.0, -2.0])).dtype == np.float32


def test_gelu_unknown_approximation_raises():
    with pytest.raises(ValueError, match="approximate must be one of"):
        F.gelu(_t([1.0]), approximate="fast")


@given(arrays(shapes(max_dims=2), elements=FLOATS), st.sampled_from(["none", "tanh"]))
def test_gelu_first_and_second_derivatives(values, approximate):
    assert gradcheck(lambda x: F.gelu(x, approximate=approximate), [_t(values)])
    assert gradgradcheck(lambda x: F.gelu(x, approximate=approximate), [_t(values)])


@given(arrays(shapes(max_dims=2), elements=FLOATS))
def test_silu_first_and_second_derivatives(values):
    assert gradcheck(F.silu, [_t(values)])
    assert gradgradcheck(F.silu, [_t(values)])


def test_silu_matches_formula():
    xs = np.linspace(-8, 8, 33)
    np.testing.assert_allclose(F.silu(_t(xs)).data, xs / (1 + np.exp(-xs)), rtol=1e-14)


# ----- layer_norm -----------------------------------------------------------------------
def test_layer_norm_normalises_the_last_axes():
    x = np.random.default_rng(0).normal(3.0, 2.0, size=(4, 3, 5))
    y = F.layer_norm(_t(x), (3, 5), eps=0.0).data
    np.testing.assert_allclose(y.mean(axis=(1, 2)), 0, atol=1e-14)
    np.testing.assert_allclose(y.var(axis=(1, 2)), 1, rtol=1e-12)


def test_layer_norm_with_weight_and_bias_matches_formula():
    rng = np.random.default_rng(1)
    x, weight, bias = rng.normal(size=(2, 4)), rng.normal(size=4), rng.normal(size=4)
    mean, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    expected = (x - mean) / np.sqrt(var + 1e-5) * weight + bias
    np.testing.assert_allclose(F.layer_norm(_t(x), 4, _t(weight), _t(bias)).data, expected, rtol=1e-13)


@given(arrays((2, 3), elements=FLOATS), arrays((3,), elements=FLOATS), arrays((3,), elements=FLOATS))
def test_layer_norm_first_and_second_derivatives(x, weight, bias):
    function = lambda x, w, b: F.layer_norm(x, (3,), w, b, eps=0.1)  # noqa: E731
    assert gradcheck(function, [_t(x), _t(weight), _t(bias)])
    assert gradgradcheck(function, [_t(x), _t(weight), _t(bias)])


@pytest.mark.parametrize("shape, weight, message", [
    ((3, 4), None, r"does not end in normalized_shape \(5,\)"),
    ((3, 5), np.ones(4), r"weight must have shape \(5,\)"),
])
def test_layer_norm_bad_shapes_raise(shape, weight, message):
    with pytest.raises(ValueError, match=message):
        F.layer_norm(_t(np.ones(shape)), 5, None if weight is None else _t(weight))


def test_layer_norm_bad_normalized_shape_raises():
    with pytest.raises(ValueError, match="normalized_shape must be a positive int"):
        F.layer_norm(_t(np.ones(3)), 0)


# ----- embedding and one_hot ------------------------------------------------------------
def test_embedding_picks_rows_and_repeated_indices_accumulate():
    weight = _t(np.arange(12.0).reshape(4, 3))
    out = F.embedding(np.array([[1, 1], [3, 0]]), weight)
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out.data[0, 0], [3.0, 4.0, 5.0])
    out.sum().backward()
    np.testing.assert_array_equal(weight.grad.data[:, 0], [1.0, 2.0, 0.0, 1.0])


@given(st.lists(st.integers(0, 3), min_size=1, max_size=6))
def test_embedding_gradient_property(indices):
    weight = _t(np.random.default_rng(len(indices)).normal(size=(4, 2)))
    assert gradcheck(lambda w: F.embedding(np.array(indices), w) ** 2, [weight])
    assert gradgradcheck(lambda w: F.embedding(np.array(indices), w) ** 2, [weight])


def test_embedding_accepts_an_integer_tensor_and_a_list():
    weight = _t(np.eye(3))
    np.testing.assert_array_equal(F.embedding(Tensor([2, 0], dtype=np.int64), weight).data, np.eye(3)[[2, 0]])
    np.testing.assert_array_equal(F.embedding([1], weight).data, np.eye(3)[[1]])


@pytest.mark.parametrize("indices, error, message", [
    ([0, 4], IndexError, "index 4 is out of range for a table of 4 rows"),
    ([-1], IndexError, "index -1 is out of range"),
    (np.array([0.0, 1.0]), TypeError, "indices must hold integer indices, got dtype float64"),
])
def test_embedding_bad_indices_raise(indices, error, message):
    with pytest.raises(error, match=message):
        F.embedding(indices, _t(np.ones((4, 2))))


def test_one_hot_values_dtype_and_shape():
    encoded = F.one_hot(np.array([[0, 2], [1, 1]]), 3)
    assert encoded.dtype == np.int64 and encoded.shape == (2, 2, 3) and not encoded.requires_grad
    np.testing.assert_array_equal(encoded.data[0], [[1, 0, 0], [0, 0, 1]])


def test_one_hot_infers_the_number_of_classes():
    assert F.one_hot(Tensor([0, 4], dtype=np.int64)).shape == (2, 5)


@pytest.mark.parametrize("indices, classes, error, message", [
    ([0, 3], 3, ValueError, "index 3 is out of range for num_classes=3"),
    ([-1], 3, ValueError, "must be non-negative"),
    ([0.0], 3, TypeError, "integer indices"),
    ([], -1, ValueError, "cannot infer num_classes"),
])
def test_one_hot_bad_input_raises(indices, classes, error, message):
    with pytest.raises(error, match=message):
        F.one_hot(np.array(indices, dtype=np.float64 if error is TypeError else np.int64), classes)


# ----- cross_entropy options ------------------------------------------------------------
LOGITS = np.random.default_rng(3).normal(size=(5, 4))


def _reference_cross_entropy(logits, target, ignore_index=-100, smoothing=0.0, reduction="mean"):
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    keep = target != ignore_index
    safe = np.where(keep, target, 0)
    losses = -(1 - smoothing) * log_probs[np.arange(len(target)), safe] - smoothing / logits.shape[1] * log_probs.sum(1)
    losses = losses * keep
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.sum() / keep.sum()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ignore_index, smoothing", [(-100, 0.0), (2, 0.0), (-100, 0.25), (1, 0.5), (-100, 1.0)])
def test_cross_entropy_options_match_formula(reduction, ignore_index, smoothing):
    target = np.array([0, 2, -100, 1, 2])
    if ignore_index != -100:
        target[2] = 3
    loss = F.cross_entropy(_t(LOGITS), target, reduction=reduction, ignore_index=ignore_index, label_smoothing=smoothing)
    expected = _reference_cross_entropy(LOGITS, target, ignore_index, smoothing, reduction)
    np.testing.assert_allclose(loss.data, expected, rtol=1e-13)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_options_first_and_second_derivatives(reduction):
    target = np.array([0, -100, 3, 1, -100])
    function = lambda x: F.cross_entropy(x, target, reduction=reduction, label_smoothing=0.1)  # noqa: E731
    assert gradcheck(function, [_t(LOGITS)])
    assert gradgradcheck(function, [_t(LOGITS)])


def test_cross_entropy_ignored_rows_get_zero_gradient():
    logits = _t(LOGITS)
    F.cross_entropy(logits, np.array([0, -100, 3, 1, -100])).backward()
    assert not logits.grad.data[[1, 4]].any()


def test_cross_entropy_all_rows_ignored_gives_nan_as_pytorch():
    assert np.isnan(F.cross_entropy(_t(LOGITS), np.full(5, -100)).item())


def test_cross_entropy_sequence_logits_match_the_flattened_form():
    logits = np.random.default_rng(4).normal(size=(2, 4, 3))  # (N, C, T)
    target = np.array([[0, 3, 1], [2, 2, -100]])
    flat_logits = logits.transpose(0, 2, 1).reshape(6, 4)
    for reduction in ("mean", "none"):
        got = F.cross_entropy(_t(logits), target, reduction=reduction).data
        expected = _reference_cross_entropy(flat_logits, target.reshape(-1), reduction=reduction)
        np.testing.assert_allclose(got, expected.reshape(2, 3) if reduction == "none" else expected, rtol=1e-13)


def test_cross_entropy_sequence_logits_need_a_matching_target():
    with pytest.raises(ValueError, match=r"need a target of shape \(2, 3\), got \(2, 4\)"):
        F.cross_entropy(_t(np.ones((2, 4, 3))), np.zeros((2, 4), dtype=np.int64))


@pytest.mark.parametrize("kwargs, error, message", [
    ({"label_smoothing": 1.5}, ValueError, "label_smoothing must be a number in"),
    ({"label_smoothing": -0.1}, ValueError, "label_smoothing must be a number in"),
    ({"ignore_index": 1.0}, TypeError, "ignore_index must be an int"),
])
def test_cross_entropy_bad_options_raise(kwargs, error, message):
    with pytest.raises(error, match=message):
        F.cross_entropy(_t(LOGITS), np.zeros(5, dtype=np.int64), **kwargs)


def test_cross_entropy_out_of_range_target_still_raises_with_options():
    with pytest.raises(ValueError, match="target.* = 7 is not a valid class index"):
        F.cross_entropy(_t(LOGITS), np.array([0, 7, -100, 1, 2]), label_smoothing=0.1)


@given(st.integers(1, 4), st.integers(2, 4), st.data())
def test_cross_entropy_options_property(batch, classes, draw):
    logits = draw.draw(arrays((batch, classes), elements=FLOATS))
    target = np.array(draw.draw(st.lists(st.integers(-1, classes - 1), min_size=batch, max_size=batch)))
    smoothing = draw.draw(st.sampled_from([0.0, 0.3]))
    reduction = draw.draw(st.sampled_from(["sum", "none"]))  # "mean" over zero kept rows would be NaN

    def function(x):
        return F.cross_entropy(x, target, reduction=reduction, ignore_index=-1, label_smoothing=smoothing)

    expected = _reference_cross_entropy(logits, target, -1, smoothing, reduction)
    np.testing.assert_allclose(function(_t(logits)).data, expected, rtol=1e-12, atol=1e-12)
    assert gradcheck(function, [_t(logits)])
    assert gradgradcheck(function, [_t(logits)])


# ----- scaled_dot_product_attention --------------------------------------------------------------
def test_scaled_dot_product_attention_is_the_masked_softmax_formula():
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((2, 3, 5, 4)) for _ in range(3))
    keep = np.tril(np.ones((5, 5), dtype=bool))
    scores = np.where(keep, q @ np.swapaxes(k, -1, -2) / 2.0, -np.inf)
    probs = np.exp(scores - scores.max(-1, keepdims=True))
    expected = probs / probs.sum(-1, keepdims=True) @ v
    causal = F.scaled_dot_product_attention(_t(q), _t(k), _t(v), is_causal=True).data
    masked = F.scaled_dot_product_attention(_t(q), _t(k), _t(v), attn_mask=keep).data
    np.testing.assert_allclose(causal, expected, rtol=1e-12)
    np.testing.assert_array_equal(causal, masked)


def test_scaled_dot_product_attention_refuses_what_it_does_not_do():
    x = _t(np.ones((2, 3)))
    with pytest.raises(ValueError, match="dropout_p"):
        F.scaled_dot_product_attention(x, x, x, dropout_p=0.1)
    with pytest.raises(ValueError, match="not both"):
        F.scaled_dot_product_attention(x, x, x, attn_mask=np.ones((2, 2), bool), is_causal=True)
    with pytest.raises(TypeError, match="boolean"):
        F.scaled_dot_product_attention(x, x, x, attn_mask=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="query"):
        F.scaled_dot_product_attention(x, _t(np.ones((2, 4))), x)


def test_every_public_function_of_functional_is_exported():
    """`from tinygrad_edu.nn.functional import *` and the API docs see every function (one_hot, layer_norm, ...)."""
    import inspect
    public = {name for name, value in vars(F).items()
              if inspect.isfunction(value) and not name.startswith("_") and value.__module__ == F.__name__}
    public |= {"softmax", "log_softmax"}  # wrapped by checks.torch_names
    assert public - set(F.__all__) == set()
    assert all(hasattr(F, name) for name in F.__all__)


def test_the_losses_live_in_nn_losses_and_functional_re_exports_them():
    from tinygrad_edu.nn import losses
    assert losses.__all__ and set(losses.__all__) <= set(F.__all__)
    assert all(getattr(F, name) is getattr(losses, name) for name in losses.__all__)


# ----- the common call (valid indices, nothing ignored) skips the mask; the others take the full checks -----
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("target, ignore_index", [
    ([0, 2, 3, 1, 2], 2),      # ignore_index inside 0..C-1: rows equal to it are ignored
    ([0, 1, 3, 1, 0], 2),      # inside, but no row equals it
    ([0, 4, 3, 1, 4], 4),      # = C, outside the classes: those rows are ignored, not out of range
    ([0, -7, 3, 1, 2], -7),    # any negative value may be the ignored one
    ([0, 2, 3, 1, 2], -100),   # the default: nothing to ignore
])
def test_cross_entropy_ignore_index_anywhere_matches_formula(target, ignore_index, reduction):
    target = np.array(target)
    loss = F.cross_entropy(_t(LOGITS), target, reduction=reduction, ignore_index=ignore_index)
    np.testing.assert_allclose(loss.data, _reference_cross_entropy(LOGITS, target, ignore_index, 0.0, reduction),
                               rtol=1e-13)


@pytest.mark.parametrize("target, ignore_index, position, bad", [
    ([0, 1, 4, 1, 2], -100, 2, 4),
    ([0, 1, 2, -1, 2], -100, 3, -1),
    ([0, 1, 2, 5, 2], 2, 3, 5),        # ignore_index inside 0..C-1 does not excuse another bad index
    ([-100, 1, 2, 9, 2], -100, 3, 9),  # nor do ignored rows
])
def test_cross_entropy_out_of_range_target_raises_naming_the_first_one(target, ignore_index, position, bad):
    with pytest.raises(ValueError, match=rf"target\[{position}\] = {bad} is not a valid class index for 4 classes"):
        F.cross_entropy(_t(LOGITS), np.array(target), ignore_index=ignore_index)


@pytest.mark.parametrize("make", [
    lambda a: a.astype(np.int32), lambda a: a.astype(np.uint8), lambda a: a.tolist(),
    lambda a: Tensor(a, dtype=np.int64), lambda a: Tensor(a.astype(np.uint16), dtype=np.uint16),
])
def test_cross_entropy_takes_any_integer_target_alike(make):
    target = np.array([0, 2, 3, 1, 2])
    expected = F.cross_entropy(_t(LOGITS), target, reduction="none").data
    np.testing.assert_array_equal(F.cross_entropy(_t(LOGITS), make(target), reduction="none").data, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_cross_entropy_is_the_max_shifted_formula_bit_for_bit_even_for_inf_and_nan(dtype):
    logits = np.array([[1.5, -2.0, 0.25], [np.inf, 1.0, 2.0], [-np.inf, 3.0, -np.inf], [np.nan, 1.0, 5.0],
                       [2.0, np.nan, np.inf], [88.0, -88.0, 40.0], [-0.0, 0.0, -0.0]], dtype=dtype)
    target = np.array([0, 1, 1, 2, 0, 2, 1])
    with np.errstate(invalid="ignore"):  # inf - inf
        shifted = logits - logits.max(axis=1, keepdims=True)
        expected = np.log(np.exp(shifted).sum(axis=1)) - shifted[np.arange(len(target)), target]
        got = F.cross_entropy(Tensor(logits, requires_grad=True), target, reduction="none")
    assert got.dtype == dtype
    np.testing.assert_array_equal(got.data, expected)
