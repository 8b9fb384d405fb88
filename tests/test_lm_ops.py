"""Edge cases of the issue-11 ops beyond the op table: zeros in prod, views, sampling, zero gradients, aliases, ufuncs.

PyTorch's behaviour is written in as literals where it matters (recorded by hand; the tests never import torch).
"""
import math

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F  # noqa: N812 (the PyTorch convention)
from tinygrad_edu import Tensor, gradcheck, gradgradcheck

# ----- prod: the gradient is the product of the others, also at zeros ------------------------------

def test_prod_gradient_with_one_zero_goes_only_to_the_zero():
    x = Tensor([2.0, 0.0, 3.0, 4.0], requires_grad=True)
    x.prod().backward()
    assert x.grad.tolist() == [0.0, 24.0, 0.0, 0.0]  # torch: [0., 24., 0., 0.]


def test_prod_gradient_with_two_zeros_is_zero_everywhere():
    x = Tensor([2.0, 0.0, 3.0, 0.0, 5.0], requires_grad=True)
    x.prod().backward()
    assert x.grad.tolist() == [0.0] * 5


def test_prod_gradient_along_an_axis_with_zeros_in_some_rows():
    x = Tensor([[1.0, 2.0, 3.0], [0.0, 4.0, 5.0], [0.0, 0.0, 7.0]], requires_grad=True)
    x.prod(dim=1, keepdim=True).sum().backward()
    assert x.grad.tolist() == [[6.0, 3.0, 2.0], [20.0, 0.0, 0.0], [0.0, 0.0, 0.0]]


def test_prod_second_derivative_at_zeros_matches_finite_differences():
    x = Tensor(np.array([[0.0, 1.5, -2.0], [0.0, 0.0, 3.0]]), requires_grad=True)
    assert gradcheck(lambda t: t.prod(axis=1), [x])
    assert gradgradcheck(lambda t: t.prod(axis=1), [x])


def test_prod_of_an_empty_axis_is_one():
    assert Tensor(np.zeros((2, 0))).prod(1).tolist() == [1.0, 1.0]


# ----- masked_fill, tril, triu ----------------------------------------------------------------------

def test_causal_attention_mask_with_minus_inf_gives_zero_gradient_to_the_masked_scores():
    scores = Tensor(np.arange(9.0).reshape(3, 3), requires_grad=True)
    mask = Tensor.ones(3, 3).tril() == 0
    weights = scores.masked_fill(mask, -math.inf).softmax(dim=-1)
    assert np.allclose(np.triu(weights.data, 1), 0.0)
    (weights * Tensor(np.arange(9.0).reshape(3, 3))).sum().backward()
    assert np.all(scores.grad.data[mask.data] == 0.0) and np.isfinite(scores.grad.data).all()


def test_masked_fill_needs_a_boolean_mask():
    with pytest.raises(TypeError, match="boolean"):
        Tensor([1.0, 2.0]).masked_fill(Tensor([1.0, 0.0]), 0.0)


def test_masked_fill_mask_must_broadcast_to_the_tensor_shape():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3,\)"):
        Tensor([1.0, 2.0, 3.0]).masked_fill(np.ones((2, 3), dtype=bool), 0.0)


def test_tril_and_triu_work_on_batches_and_refuse_vectors():
    x = Tensor(np.arange(18.0).reshape(2, 3, 3))
    assert np.array_equal(x.tril(-1).data, np.tril(x.data, -1))
    assert np.array_equal(x.triu(1).data, np.triu(x.data, 1))
    with pytest.raises(ValueError, match="tril.*2 dimensions"):
        Tensor([1.0, 2.0]).tril()


# ----- split and chunk return views that carry gradient ---------------------------------------------

def test_split_pieces_are_views_of_the_input():
    x = Tensor(np.arange(12.0).reshape(3, 4))
    pieces = x.split(2, dim=1)
    assert [p.shape for p in pieces] == [(3, 2), (3, 2)]
    assert all(np.shares_memory(p.data, x.data) for p in pieces)


def test_split_gradient_lands_in_each_piece():
    x = Tensor(np.arange(5.0), requires_grad=True)
    a, b = x.split([2, 3])
    (a.sum() * 2 + b.sum() * 3).backward()
    assert x.grad.tolist() == [2.0, 2.0, 3.0, 3.0, 3.0]


def test_chunk_gives_fewer_pieces_when_they_run_out_as_pytorch():
    # torch: torch.arange(6).chunk(4) -> 3 pieces of sizes 2, 2, 2; torch.arange(5).chunk(2) -> sizes 3, 2
    assert [p.shape[0] for p in Tensor(np.arange(6.0)).chunk(4)] == [2, 2, 2]
    assert [p.shape[0] for p in Tensor(np.arange(5.0)).chunk(2)] == [3, 2]


def test_split_sections_must_sum_to_the_length():
    with pytest.raises(ValueError, match="sum to the size 5"):
        Tensor(np.arange(5.0)).split([2, 2])


# ----- cumsum -----------------------------------------------------------------------------------------

def test_cumsum_gradient_counts_the_later_positions():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    x.cumsum(0).sum().backward()
    assert x.grad.tolist() == [3.0, 2.0, 1.0]


def test_cumsum_needs_a_dim_in_range():
    with pytest.raises(IndexError, match="cumsum"):
        Tensor([1.0]).cumsum(2)


# ----- sampling: multinomial, randint, *_like ---------------------------------------------------------

def test_multinomial_rows_sample_independently_and_repeat_under_manual_seed():
    probs = Tensor([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]])
    tg.manual_seed(3)
    first = probs.multinomial(4, replacement=True)
    tg.manual_seed(3)
    second = probs.multinomial(4, replacement=True)
    assert first.dtype == np.int64 and first.shape == (2, 4) and not first.requires_grad
    assert first.tolist() == second.tolist()
    assert set(first.data[0].tolist()) == {1} and set(first.data[1].tolist()) <= {0, 2}


def test_multinomial_without_replacement_never_repeats_and_skips_zero_weights():
    tg.manual_seed(0)
    draws = Tensor([0.1, 0.0, 0.3, 0.6]).multinomial(3)
    assert sorted(draws.tolist()) == [0, 2, 3]
    with pytest.raises(ValueError, match="without replacement"):
        Tensor([0.1, 0.0, 0.9]).multinomial(3)


def test_multinomial_frequencies_follow_the_weights():
    tg.manual_seed(1)
    draws = Tensor([1.0, 3.0]).multinomial(4000, replacement=True)
    assert abs(draws.data.mean() - 0.75) < 0.03


def test_multinomial_rejects_negative_probabilities_and_3d_input():
    with pytest.raises(ValueError, match="non-negative"):
        Tensor([0.5, -0.1]).multinomial(1)
    with pytest.raises(ValueError, match="1-D or 2-D"):
        Tensor(np.ones((2, 2, 2))).multinomial(1)


def test_randint_is_int64_in_range_and_seeded():
    tg.manual_seed(5)
    a = Tensor.randint(2, 7, (50,))
    tg.manual_seed(5)
    b = Tensor.randint(2, 7, (50,))
    assert a.dtype == np.int64 and a.tolist() == b.tolist() and a.data.min() >= 2 and a.data.max() < 7
    assert Tensor.randint(3, (2, 2)).shape == (2, 2)  # torch.randint(high, size)
    with pytest.raises(ValueError, match="low"):
        Tensor.randint(3, 3, (1,))


def test_like_factories_keep_shape_and_dtype():
    t = Tensor(np.zeros((2, 3)), dtype=np.float64)
    assert Tensor.zeros_like(t).shape == (2, 3) and Tensor.zeros_like(t).dtype == np.float64
    assert Tensor.ones_like(t).tolist() == [[1.0] * 3] * 2
    tg.manual_seed(0)
    r = Tensor.randn_like(t)
    tg.manual_seed(0)
    assert r.dtype == np.float64 and r.tolist() == Tensor.randn_like(t).tolist()


# ----- non-differentiable ops: zero gradient, as PyTorch ----------------------------------------------

@pytest.mark.parametrize("name", ["sign", "floor", "ceil", "round"])
def test_step_functions_pass_a_zero_gradient(name):
    x = Tensor([-1.7, -0.2, 0.0, 0.5, 2.5], requires_grad=True)
    y = getattr(x, name)()
    assert y.requires_grad  # torch: x.floor().requires_grad is True, its gradient is zeros
    y.sum().backward()
    assert x.grad.tolist() == [0.0] * 5


def test_round_takes_halves_to_even_as_pytorch():
    assert Tensor([0.5, 1.5, 2.5, -0.5]).round().tolist() == [0.0, 2.0, 2.0, -0.0]


# ----- erf and the exact GELU ------------------------------------------------------------------------

def test_tensor_erf_matches_math_erf_and_gelu_uses_it():
    xs = np.linspace(-7, 7, 301)
    assert np.max(np.abs(Tensor(xs).erf().data - np.vectorize(math.erf)(xs))) < 2e-15
    out = F.gelu(Tensor([0.3], requires_grad=True))
    ops = []
    stack = [out._ctx]
    while stack:
        node = stack.pop()
        if node is not None:
            ops.append(node.op_name)
            stack.extend(t._ctx for t in node.inputs)
    assert "erf" in ops


# ----- einsum ----------------------------------------------------------------------------------------

def test_einsum_diagonal_gradient_is_the_identity():
    x = Tensor(np.arange(9.0).reshape(3, 3), requires_grad=True)
    Tensor.einsum("ii", x).backward()
    assert x.grad.tolist() == np.eye(3).tolist()


def test_einsum_broadcast_ellipsis_sums_the_gradient_back():
    a = Tensor(np.ones((1, 2, 3)), requires_grad=True)
    b = Tensor(np.ones((4, 3, 2)), requires_grad=True)
    out = Tensor.einsum("...ij,...jk->...ik", a, b)
    assert out.shape == (4, 2, 2)
    out.sum().backward()
    assert a.grad.shape == (1, 2, 3) and np.allclose(a.grad.data, 8.0)


def test_einsum_on_attention_sized_operands_matches_matmul_and_its_gradient():
    # large enough that the contraction is planned as BLAS products (ops.matmul.Einsum)
    rng = np.random.default_rng(0)
    q = Tensor(rng.standard_normal((2, 3, 16, 8)), requires_grad=True)
    k = Tensor(rng.standard_normal((2, 3, 16, 8)), requires_grad=True)
    out = Tensor.einsum("bhtd,bhsd->bhts", q, k)
    np.testing.assert_allclose(out.data, q.data @ np.swapaxes(k.data, -1, -2), rtol=1e-12, atol=1e-12)
    weights = rng.standard_normal(out.shape)
    (out * Tensor(weights)).sum().backward()
    np.testing.assert_allclose(q.grad.data, weights @ k.data, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(k.grad.data, np.swapaxes(weights, -1, -2) @ q.data, rtol=1e-12, atol=1e-12)


def test_einsum_errors_name_the_problem():
    with pytest.raises(ValueError, match="2 operand"):
        Tensor.einsum("ij,jk->ik", Tensor(np.ones((2, 2))))
    with pytest.raises(ValueError, match="index 'j' has size 2"):
        Tensor.einsum("ij,jk->ik", Tensor(np.ones((2, 2))), Tensor(np.ones((3, 2))))


# ----- sort and topk: values carry gradient; ties pick one element -----------------------------------

def test_topk_with_ties_sends_the_gradient_to_one_of_them():
    x = Tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    values, indices = x.topk(1)
    assert values.tolist() == [3.0] and indices.dtype == np.int64
    values.sum().backward()
    assert x.grad.data.sum() == 1.0 and x.grad.data[indices.data[0]] == 1.0


def test_sort_descending_returns_values_and_indices():
    values, indices = Tensor([[2.0, 9.0, 4.0]]).sort(dim=1, descending=True)
    assert values.tolist() == [[9.0, 4.0, 2.0]] and indices.tolist() == [[1, 2, 0]]


# ----- PyTorch's dim, NumPy's keepdims, unbiased -------------------------------------------------------

def test_dim_keepdims_and_unbiased_are_aliases():
    x = Tensor([[1.0, 2.0], [3.0, 5.0]])
    assert x.sum(dim=1, keepdims=True).tolist() == [[3.0], [8.0]]
    assert x.max(dim=0).tolist() == [3.0, 5.0]
    assert x.var(dim=0, unbiased=False).tolist() == [1.0, 2.25]
    assert x.std(dim=1, unbiased=True).tolist() == pytest.approx([0.70710678, 1.41421356])
    assert Tensor.cat([x, x], dim=1).shape == (2, 4) and Tensor.stack([x, x], dim=0).shape == (2, 2, 2)
    assert x.softmax(dim=0).shape == (2, 2) and x.unsqueeze(dim=0).shape == (1, 2, 2)
    assert x.prod(axis=1).tolist() == [2.0, 15.0] and x.cumsum(axis=0).tolist() == [[1.0, 2.0], [4.0, 7.0]]
    assert nn.Softmax(dim=0)(x).shape == (2, 2)


@pytest.mark.parametrize("call", [
    lambda x: x.sum(axis=0, dim=0), lambda x: x.mean(keepdim=True, keepdims=True),
    lambda x: x.var(correction=1, unbiased=True), lambda x: x.cumsum(0, axis=0),
    lambda x: F.softmax(x, axis=0, dim=1)])
def test_giving_both_names_of_one_argument_raises_type_error(call):
    with pytest.raises(TypeError):
        call(Tensor([[1.0, 2.0]]))


@pytest.mark.parametrize("call", [lambda x: x.unsqueeze(), lambda x: x.sum(foo=0), lambda x: x.cumsum()])
def test_a_missing_or_unknown_argument_of_an_aliased_method_raises_type_error(call):
    with pytest.raises(TypeError):
        call(Tensor([[1.0, 2.0]]))


# ----- NumPy ufuncs ------------------------------------------------------------------------------------

def test_numpy_ufuncs_run_the_tensor_op_with_its_gradient():
    t = Tensor([0.5, 1.0], requires_grad=True)
    y = np.sin(t) + np.exp(t) * np.array([2.0, 2.0], dtype=np.float32)
    assert isinstance(y, Tensor) and y.requires_grad
    y.sum().backward()
    assert np.allclose(t.grad.data, np.cos([0.5, 1.0]) + 2 * np.exp([0.5, 1.0]))


def test_numpy_ufunc_without_a_tensor_op_raises_naming_what_to_use():
    t = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="np.isnan"):
        np.isnan(t)
    with pytest.raises(TypeError, match=r"\.exp\(\)"):
        np.exp(t, out=np.zeros(2))


# ----- a few shapes and errors of item 2 --------------------------------------------------------------

def test_diag_embed_and_diagonal_are_inverse_on_the_diagonal():
    x = Tensor(np.arange(6.0).reshape(2, 3))
    assert np.array_equal(x.diag_embed(1).diagonal(1, -2, -1).data, x.data)


def test_conv1d_matches_a_hand_computed_correlation():
    x = Tensor([[[1.0, 2.0, 3.0, 4.0]]])
    w = Tensor([[[1.0, -1.0]]])
    assert x.conv1d(w).tolist() == [[[-1.0, -1.0, -1.0]]]
    assert F.conv1d(x, w, padding=1).shape == (1, 1, 5)


def test_elu_with_a_large_positive_input_has_a_finite_gradient():
    x = Tensor([1000.0, -1.0], requires_grad=True)
    F.elu(x).sum().backward()
    assert np.isfinite(x.grad.data).all()


def test_an_ndarray_updated_in_place_by_a_tensor_stays_the_same_array():
    # p.data -= lr * p.grad: NumPy's in-place operator with a Tensor operand writes into the array itself.
    p = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    p.grad = Tensor(np.array([10.0, 10.0]))
    array = p.data
    array -= 0.1 * p.grad
    assert type(array) is np.ndarray and array is p.data and array.tolist() == [0.0, 1.0]


def test_an_ndarray_updated_in_place_by_a_tensor_that_needs_grad_raises():
    w = Tensor(np.array([1.0]), requires_grad=True)
    array = np.zeros(1)
    with pytest.raises(TypeError, match="would cut the graph"):
        array += w * 2
    with tg.no_grad():
        array += w * 2
    assert array.tolist() == [2.0]
