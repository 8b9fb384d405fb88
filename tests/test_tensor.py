"""The Tensor object: construction and dtypes, attributes, conversion, identity, repr, factories, comparisons."""
import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu import Tensor

# ---------------------------------------------------------------- construction and dtype


@pytest.mark.parametrize("data", [[[1.0, 2.0]], [1, 2], 3.5, 7, True, [[True, False]]])
def test_python_numbers_and_lists_become_float32(data):
    assert Tensor(data).dtype == np.float32


def test_float64_array_keeps_its_dtype():
    assert Tensor(np.zeros(3)).dtype == np.float64


def test_float16_array_keeps_its_dtype():
    assert Tensor(np.zeros(3, dtype=np.float16)).dtype == np.float16


@pytest.mark.parametrize("dtype", [np.int8, np.int64, np.uint8, np.bool_])
def test_integer_and_bool_arrays_become_float32(dtype):
    assert Tensor(np.ones(3, dtype=dtype)).dtype == np.float32


def test_dtype_argument_overrides_the_default():
    assert Tensor([1, 2], dtype=np.float64).dtype == np.float64
    assert Tensor(np.zeros(2), dtype=np.float32).dtype == np.float32
    assert Tensor([1, 2], dtype=np.int64).dtype == np.int64


def test_construction_copies_the_data():
    array = np.zeros(3)
    tensor = Tensor(array)
    array[0] = 5.0
    assert tensor.data[0] == 0.0
    other = Tensor(tensor)
    other.data[1] = 7.0
    assert tensor.data[1] == 0.0


def test_gradients_have_the_leafs_dtype_even_with_float64_operands():
    x32 = Tensor([1.0, 2.0], requires_grad=True)
    x64 = Tensor(np.array([3.0, 4.0]), requires_grad=True)
    out = x32 * np.array([1.5, 2.5]) + x64 * x32
    out.sum().backward()
    assert x32.grad.dtype == np.float32 and x64.grad.dtype == np.float64
    np.testing.assert_allclose(x32.grad.data, [1.5 + 3.0, 2.5 + 4.0])


def test_float32_stays_float32_through_python_scalars():
    x = Tensor([1.0, 2.0])
    assert (x * 2.5 + 1).dtype == np.float32
    assert (2 ** x).dtype == np.float32


# ---------------------------------------------------------------- attributes and conversion

def test_number_operands_keep_the_sign_of_zero_and_nan():
    x = Tensor([1.0, 2.0])
    for _ in range(2):  # the second time may reuse a kept constant
        assert np.signbit((x * -0.0).data).all() and not np.signbit((x * 0.0).data).any()
        assert np.isnan((x + float("nan")).data).all()


def test_a_repeated_number_operand_is_a_read_only_constant_with_the_same_values():
    x = Tensor([1.0, 2.0], requires_grad=True)
    first, second = (x * 0.5)._ctx.inputs[1], (x * 0.5)._ctx.inputs[1]
    assert first.item() == second.item() == 0.5 and first.dtype == second.dtype == np.float32
    assert not second.data.flags.writeable
    np.testing.assert_array_equal((x * 0.5).data, [0.5, 1.0])


def test_number_operands_of_other_dtypes_give_the_same_results_as_before():
    ints, doubles = Tensor(np.array([1, 2], dtype=np.int64), dtype=np.int64), Tensor(np.array([1.0], dtype=np.float64))
    assert (ints * 0.5).dtype == np.float64 and (ints * 0.5).tolist() == [0.5, 1.0]
    assert (ints * 2).dtype == np.int64 and (2 * ints).tolist() == [2, 4]
    assert (doubles * 0.1).dtype == np.float64 and (doubles * 0.1).item() == 0.1
    assert (Tensor([1.0]) * np.float64(0.1)).item() == np.float32(0.1)


def test_in_place_update_with_a_number_leaves_the_kept_constant_unchanged():
    t = Tensor([1.0])
    t += 3.0
    t *= 3.0
    assert t.item() == 12.0 and (Tensor([1.0]) * 3.0).item() == 3.0 and (Tensor([1.0]) + 3.0).item() == 4.0


def test_shape_ndim_is_leaf_and_requires_grad():
    x = Tensor(np.zeros((2, 3)), requires_grad=True)
    y = x * 2
    assert x.shape == (2, 3) and x.ndim == 2
    assert x.is_leaf and not y.is_leaf
    assert x.requires_grad and y.requires_grad
    assert not Tensor([1.0]).requires_grad


def test_T_reverses_the_axes():
    x = Tensor(np.arange(6.0).reshape(2, 3))
    assert x.T.shape == (3, 2) and np.array_equal(x.T.data, x.data.T)


def test_item_tolist_len_and_numpy():
    x = Tensor(np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
    assert Tensor(np.array([2.5])).item() == 2.5
    assert isinstance(Tensor(3.0).item(), float)
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    assert len(x) == 3
    assert x.numpy() is x.data


def test_len_of_a_0d_tensor_raises_type_error():
    with pytest.raises(TypeError):
        len(Tensor(1.0))


def test_numpy_asarray_of_a_tensor_gives_its_values():
    x = Tensor(np.array([1.0, 2.0]))
    assert np.array_equal(np.asarray(x), [1.0, 2.0])


def test_requires_grad_and_zero_grad_in_place():
    x = Tensor([1.0]).requires_grad_()
    assert x.requires_grad
    (x * 2).sum().backward()
    x.zero_grad()
    assert x.grad is None


# ---------------------------------------------------------------- identity and comparisons

def test_tensors_hash_by_identity_and_work_as_dict_keys_and_in_sets():
    a, b = Tensor([1.0, 2.0]), Tensor([1.0, 2.0])
    table = {a: "a", b: "b"}
    assert table[a] == "a" and table[b] == "b"
    assert len({a, b, a}) == 2
    assert hash(a) != hash(b)


def test_equality_is_elementwise_and_returns_a_bool_tensor():
    a, b = Tensor([1.0, 2.0, 3.0]), Tensor([1.0, 0.0, 3.0])
    equal = a == b
    assert isinstance(equal, Tensor) and equal.dtype == np.bool_
    assert equal.tolist() == [True, False, True]
    assert (a != b).tolist() == [False, True, False]


def test_comparisons_carry_no_gradient():
    x = Tensor([1.0, -2.0], requires_grad=True)
    for result in (x < 0, x <= 0, x > 0, x >= 0, x == 1.0, x != 1.0):
        assert result.dtype == np.bool_ and not result.requires_grad and result._ctx is None
    assert (x > 0).tolist() == [True, False]


# ---------------------------------------------------------------- repr

def test_repr_shows_the_values_and_the_op_that_made_it():
    x = Tensor([1.5, -2.0], requires_grad=True)
    text = repr(x * 2)
    assert "3." in text and "-4." in text and "mul" in text
    assert "requires_grad=True" in repr(x)


def test_repr_shows_a_non_default_dtype():
    assert "float64" in repr(Tensor(np.zeros(2)))


def test_repr_of_a_large_tensor_is_summarised():
    assert len(repr(Tensor(np.zeros(10_000)))) < 500


def test_repr_of_a_deep_graph_does_not_recurse():
    x = Tensor([1.0], requires_grad=True)
    y = x
    for _ in range(5000):
        y = y + 1.0
    assert "add" in repr(y)


# ---------------------------------------------------------------- factories

@pytest.mark.parametrize("make, expected", [
    (lambda **kw: Tensor.zeros(2, 3, **kw), np.zeros((2, 3))),
    (lambda **kw: Tensor.zeros((2, 3), **kw), np.zeros((2, 3))),
    (lambda **kw: Tensor.ones(2, **kw), np.ones(2)),
    (lambda **kw: Tensor.full((2, 2), 7.0, **kw), np.full((2, 2), 7.0)),
    (lambda **kw: Tensor.eye(3, **kw), np.eye(3)),
    (lambda **kw: Tensor.arange(5, **kw), np.arange(5)),
    (lambda **kw: Tensor.arange(1, 2, 0.25, **kw), np.arange(1, 2, 0.25)),
])
def test_factories_give_the_values_default_to_float32_and_take_dtype_and_requires_grad(make, expected):
    default = make()
    assert default.dtype == np.float32 and not default.requires_grad
    np.testing.assert_array_equal(default.data, expected)
    custom = make(dtype=np.float64, requires_grad=True)
    assert custom.dtype == np.float64 and custom.requires_grad


@pytest.mark.parametrize("name", ["rand", "randn"])
def test_random_factories_have_the_shape_dtype_and_requires_grad(name):
    factory = getattr(Tensor, name)
    sample = factory(3, 4, dtype=np.float64, requires_grad=True)
    assert sample.shape == (3, 4) and sample.dtype == np.float64 and sample.requires_grad
    assert factory(2).dtype == np.float32


def test_rand_is_in_the_unit_interval():
    sample = Tensor.rand(1000).data
    assert sample.min() >= 0.0 and sample.max() < 1.0


@pytest.mark.parametrize("name", ["rand", "randn"])
def test_manual_seed_makes_random_factories_reproducible(name):
    factory = getattr(Tensor, name)
    tinygrad_edu.manual_seed(123)
    first = factory(5).data
    tinygrad_edu.manual_seed(123)
    second = factory(5).data
    tinygrad_edu.manual_seed(124)
    third = factory(5).data
    assert np.array_equal(first, second)
    assert not np.array_equal(first, third)
