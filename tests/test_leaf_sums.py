"""A leaf used many times: its small gradients are summed once after the walk (leaves.py), to the same bits as
adding them one at a time; and ops whose forward is a NumPy ufunc (``forward = np.tanh``)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.leaves as leaves
from tinygrad_edu import Function, Tensor, grad
from tinygrad_edu.ops.elementwise import Mul, Tanh

SHAPES = [(), (1,), (2,), (16,), (3, 1), (1, 3), (4, 4), (5, 1, 1)]


def _one_by_one(parts):
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return np.asarray(total)


@given(shape=st.sampled_from(SHAPES), count=st.integers(1, 40), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**16))
def test_sum_in_order_gives_the_bits_of_adding_one_at_a_time(shape, count, dtype, seed):
    rng = np.random.default_rng(seed)
    # values of very different sizes, so that a different order or pairwise summation would round differently
    parts = [(rng.standard_normal(shape) * 10.0 ** rng.integers(-4, 5)).astype(dtype) for _ in range(count)]
    total = leaves.sum_in_order(list(parts))
    expected = _one_by_one(parts)
    assert total.dtype == dtype and total.shape == shape
    assert np.array_equal(total, expected)


def test_a_sum_of_many_parts_owns_its_memory_and_leaves_the_parts_alone():
    parts = [np.full(3, float(i)) for i in range(5)]
    total = leaves.sum_in_order(parts)
    assert total.flags.owndata and total.flags.writeable
    assert [p.tolist() for p in parts] == [[float(i)] * 3 for i in range(5)]


def _leaf_used(times, shape, dtype, seed=0):
    """x used ``times`` times, each by an op that sends it a different gradient; returns x.grad."""
    rng = np.random.default_rng(seed)
    x = Tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
    total = None
    for _ in range(times):
        scale = Tensor((rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 4)).astype(dtype))
        term = (x * scale).tanh()
        total = term if total is None else total + term
    total.sum().backward()
    return x.grad.numpy()


@pytest.mark.parametrize("times", [1, 2, 3, 40, 600])  # 600 folds the waiting list twice (FOLD_COUNT = 256)
@pytest.mark.parametrize("shape", [(), (1,), (16,), (3, 1)])
def test_a_leafs_batched_gradient_is_bit_for_bit_the_one_added_as_it_came(times, shape, monkeypatch):
    batched = _leaf_used(times, shape, np.float32)
    monkeypatch.setattr(leaves, "BATCHED_SIZE", -1)  # nothing waits: every gradient is added as it comes
    import tinygrad_edu.autograd as autograd
    monkeypatch.setattr(autograd, "BATCHED_SIZE", -1)
    one_by_one = _leaf_used(times, shape, np.float32)
    assert batched.dtype == one_by_one.dtype and np.array_equal(batched, one_by_one)


def test_small_leaf_gradients_wait_and_large_ones_are_added_as_they_come(monkeypatch):
    waited = []
    real = leaves.sum_in_order

    def spy(parts):
        waited.append(len(parts))
        return real(parts)

    monkeypatch.setattr(leaves, "sum_in_order", spy)
    small = Tensor(np.ones(3), requires_grad=True)
    sum((small * float(i)).sum() for i in range(1, 4)).backward()
    assert small.grad.tolist() == [6.0, 6.0, 6.0] and waited == [3]
    waited.clear()
    shape = (leaves.BATCHED_SIZE + 1,)
    large = Tensor(np.ones(shape), requires_grad=True)
    sum((large * float(i)).sum() for i in range(1, 4)).backward()
    assert np.array_equal(large.grad.numpy(), np.full(shape, 6.0)) and waited == []


def test_a_leaf_hook_sees_the_total_once_and_grad_returns_it():
    x = Tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.tolist()))
    (x * 2 + x * 3 + x * 4).sum().backward()
    assert seen == [[9.0, 9.0]] and x.grad.tolist() == [9.0, 9.0]
    y = Tensor([1.0, 2.0], requires_grad=True)
    (dy,) = grad((y * 2 + y * 3 + y * 4 + y * y).sum(), y)
    assert dy.tolist() == [11.0, 13.0]


def test_a_root_that_is_a_leaf_and_also_used_by_another_root_gets_both_gradients():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3 + x * 5).sum()
    gx, = grad([x.sum(), y], [x])
    assert gx.tolist() == [9.0, 9.0]


def test_a_second_order_gradient_through_a_leaf_used_many_times():
    x = Tensor([0.5, -1.0], requires_grad=True)
    y = (x * x * x + x * x + x * 4).sum()
    (dx,) = grad(y, x, create_graph=True)
    (d2x,) = grad(dx.sum(), x)
    assert np.allclose(dx.numpy(), 3 * x.numpy() ** 2 + 2 * x.numpy() + 4)
    assert np.allclose(d2x.numpy(), 6 * x.numpy() + 2)


# ---------------------------------------------------------------- forward = a NumPy ufunc

def test_an_op_whose_forward_is_a_ufunc_still_has_a_forward_method_for_other_callers():
    a, b = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    assert Mul._ufunc is np.multiply and Tanh._ufunc is np.tanh
    assert np.array_equal(Mul.forward(None, a, b), a * b)
    assert np.array_equal(Tanh.forward(None, a), np.tanh(a))


def test_a_subclass_with_a_forward_of_its_own_runs_it_not_the_ufunc():
    class Doubled(Mul):
        def forward(ctx, a, b):
            return 2 * a * b

    assert Doubled._ufunc is None
    out = Doubled.apply(Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0]))
    assert out.tolist() == [6.0, 16.0] and type(out._ctx) is Doubled


def test_a_custom_op_may_name_a_ufunc_as_its_forward():
    class Cube(Function):
        forward = np.cbrt

        def backward(ctx, grad_output):
            return grad_output / (3 * ctx.output ** 2)

    x = Tensor([8.0, 27.0], requires_grad=True)
    y = Cube.apply(x)
    y.sum().backward()
    assert np.allclose(y.numpy(), [2.0, 3.0])
    assert np.allclose(x.grad.numpy(), [1 / 12, 1 / 27])


def test_an_op_with_an_init_that_wants_arguments_still_records_its_nodes():
    class Needy(Function):
        def __init__(self, required):
            raise AssertionError("apply must not call __init__")

        def forward(ctx, a):
            return a * 2

        def backward(ctx, grad_output):
            return grad_output * 2

    x = Tensor([1.0], requires_grad=True)
    Needy.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0]
