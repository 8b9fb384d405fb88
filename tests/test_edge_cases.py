"""The edge cases of issue 2, one test each: graph shapes, operands, broadcasting, stability, conventions, scale."""
import math
import time
import tracemalloc
import warnings
import weakref

import numpy as np
import pytest

from tinygrad_edu import Tensor, grad, no_grad

F64 = np.float64


def leaf(values, dtype=F64):
    """A float64 (by default) leaf that requires grad."""
    return Tensor(np.asarray(values, dtype=dtype), requires_grad=True)


# ---------------------------------------------------------------- graph arithmetic

def test_x_times_x_gives_2x():
    x = leaf([1.0, -2.0, 3.0])
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, -4.0, 6.0]


def test_a_plus_a_plus_a_plus_a_gives_4():
    a = leaf(1.0)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad.item() == 4.0
    assert c._ctx.inputs == (b, b)  # duplicates are kept as two edges


def test_one_intermediate_used_twice_gives_21():
    x = leaf(1.0)
    y = x * 3
    c = y * 2 + y * 5
    c.backward()
    assert x.grad.item() == 21.0


def test_diamond_graph_sums_both_paths():
    x = leaf(2.0)
    left, right = x * 2, x * 3
    top = left * right  # 6 x^2
    top.backward()
    assert x.grad.item() == 24.0  # 12 x


def test_diamond_with_shared_intermediate_node_runs_its_backward_once():
    x = leaf([1.0, 2.0])
    shared = x.exp()
    out = (shared * 2 + shared * shared).sum()
    out.backward()
    e = np.exp([1.0, 2.0])
    np.testing.assert_allclose(x.grad.data, 2 * e + 2 * e * e)


def test_distinct_leaves_with_equal_values_get_their_own_gradients():
    a, b = leaf(2.0), leaf(2.0)
    (a * 3 + b * 5).backward()
    assert (a.grad.item(), b.grad.item()) == (3.0, 5.0)


# ---------------------------------------------------------------- operands on either side

def test_reflected_ops_with_python_numbers():
    v = leaf([0.5, 2.0])
    cases = {
        "3+v": (lambda t: 3 + t, 3 + v.data, np.ones(2)),
        "2-v": (lambda t: 2 - t, 2 - v.data, -np.ones(2)),
        "2/v": (lambda t: 2 / t, 2 / v.data, -2 / v.data ** 2),
        "2**v": (lambda t: 2 ** t, 2 ** v.data, 2 ** v.data * math.log(2)),
    }
    for name, (fn, value, derivative) in cases.items():
        v.zero_grad()
        out = fn(v)
        assert isinstance(out, Tensor), name
        np.testing.assert_allclose(out.data, value, err_msg=name)
        out.sum().backward()
        np.testing.assert_allclose(v.grad.data, derivative, err_msg=name)


OPERATORS = {
    "+": (lambda a, b: a + b, lambda a, b: (np.ones_like(a), np.ones_like(b))),
    "-": (lambda a, b: a - b, lambda a, b: (np.ones_like(a), -np.ones_like(b))),
    "*": (lambda a, b: a * b, lambda a, b: (b * np.ones_like(a), a * np.ones_like(b))),
    "/": (lambda a, b: a / b, lambda a, b: (1 / b * np.ones_like(a), -a / b ** 2)),
    "**": (lambda a, b: a ** b, lambda a, b: (b * a ** (b - 1), a ** b * np.log(a))),
}
OTHER_OPERANDS = {
    "python float": 1.5,
    "python int": 2,
    "numpy scalar": np.float64(1.5),
    "numpy array": np.array([1.5, 2.5]),
}


@pytest.mark.parametrize("symbol", list(OPERATORS))
@pytest.mark.parametrize("kind", list(OTHER_OPERANDS))
@pytest.mark.parametrize("tensor_side", ["left", "right"])
def test_python_numbers_and_numpy_arrays_work_on_either_side(symbol, kind, tensor_side):
    op, derivatives = OPERATORS[symbol]
    other = OTHER_OPERANDS[kind]
    t = leaf([0.5, 3.0])
    out = op(t, other) if tensor_side == "left" else op(other, t)
    assert isinstance(out, Tensor)
    a, b = (t.data, np.asarray(other, F64)) if tensor_side == "left" else (np.asarray(other, F64), t.data)
    np.testing.assert_allclose(out.data, op(a, b))
    out.sum().backward()
    expected = derivatives(a, b)[0 if tensor_side == "left" else 1]
    np.testing.assert_allclose(t.grad.data, np.broadcast_to(expected, (2,)))


def test_ndarray_times_tensor_is_a_tensor_with_the_right_gradient():
    t = leaf([1.0, 2.0, 3.0])
    weights = np.array([4.0, 5.0, 6.0])
    out = weights * t
    assert type(out) is Tensor
    out.sum().backward()
    assert t.grad.tolist() == [4.0, 5.0, 6.0]


# ---------------------------------------------------------------- broadcasting

@pytest.mark.parametrize("shape_a, shape_b", [((3, 1), (1, 4)), ((), (5, 4)), ((4, 4), (4,)), ((5, 2, 1), (2, 5))])
@pytest.mark.parametrize("symbol", ["+", "*"])
def test_broadcast_gradients_have_their_inputs_shapes(shape_a, shape_b, symbol):
    op = OPERATORS[symbol][0]
    rng = np.random.default_rng(0)
    a, b = leaf(rng.standard_normal(shape_a)), leaf(rng.standard_normal(shape_b))
    out = op(a, b)
    assert out.shape == np.broadcast_shapes(shape_a, shape_b)
    out.sum().backward()
    assert a.grad.shape == shape_a and b.grad.shape == shape_b
    if symbol == "+":  # each element was used (output size / input size) times
        np.testing.assert_allclose(a.grad.data, np.full(shape_a, out.data.size / max(a.data.size, 1)))
        np.testing.assert_allclose(b.grad.data, np.full(shape_b, out.data.size / max(b.data.size, 1)))
    else:  # d(sum a*b)/da = b summed over a's broadcast axes
        expected_a = _sum_to(np.broadcast_to(b.data, out.shape), shape_a)
        np.testing.assert_allclose(a.grad.data, expected_a.reshape(shape_a))


def test_python_scalar_times_matrix_gradient_has_the_matrix_shape():
    m = leaf(np.ones((5, 4)))
    (2.5 * m).sum().backward()
    assert m.grad.shape == (5, 4) and np.all(m.grad.data == 2.5)


def test_shapes_5_2_1_and_5_2_do_not_broadcast_and_the_error_names_both_and_the_op():
    # The issue lists (5,2,1)+(5,2): under NumPy/PyTorch rules the trailing sizes 1|2 and 2|5 clash.
    a, b = leaf(np.ones((5, 2, 1))), leaf(np.ones((5, 2)))
    with pytest.raises(ValueError) as info:
        a + b
    message = str(info.value)
    assert "(5, 2, 1)" in message and "(5, 2)" in message and "add" in message


# ---------------------------------------------------------------- matmul forms

@pytest.mark.parametrize("shape_a, shape_b", [
    ((3,), (3, 2)),          # 1-D on the left
    ((2, 3), (3,)),          # 1-D on the right
    ((3,), (3,)),            # both 1-D: a dot product
    ((4, 3), (2, 3, 2)),     # 2-D broadcast against a batch
    ((2, 1, 2, 3), (4, 3, 2)),  # batched with broadcasting on both sides
    ((3,), (2, 2, 3, 4)),    # 1-D against a batch
])
def test_matmul_gradients_match_numpy_for_every_operand_form(shape_a, shape_b):
    rng = np.random.default_rng(1)
    a, b = leaf(rng.standard_normal(shape_a)), leaf(rng.standard_normal(shape_b))
    out = a @ b
    expected = np.matmul(a.data, b.data)
    np.testing.assert_allclose(out.data, expected)
    upstream = rng.standard_normal(expected.shape)
    out.backward(upstream)
    # Promote 1-D operands as NumPy does, then reduce the broadcast batch axes.
    a2 = a.data[None, :] if a.ndim == 1 else a.data
    b2 = b.data[:, None] if b.ndim == 1 else b.data
    g = np.asarray(upstream)
    if a.ndim == 1 and b.ndim == 1:
        g = g.reshape(1, 1)
    elif a.ndim == 1:
        g = g[..., None, :]
    elif b.ndim == 1:
        g = g[..., None]
    grad_a = g @ np.swapaxes(b2, -1, -2)
    grad_b = np.swapaxes(a2, -1, -2) @ g
    grad_a = _sum_to(grad_a, a2.shape).reshape(shape_a)
    grad_b = _sum_to(grad_b, b2.shape).reshape(shape_b)
    assert a.grad.shape == shape_a and b.grad.shape == shape_b
    np.testing.assert_allclose(a.grad.data, grad_a, atol=1e-12)
    np.testing.assert_allclose(b.grad.data, grad_b, atol=1e-12)


def _sum_to(array, shape):
    array = array.sum(axis=tuple(range(array.ndim - len(shape))))
    return array.sum(axis=tuple(i for i, s in enumerate(shape) if s == 1 and array.shape[i] != 1), keepdims=True)


# ---------------------------------------------------------------- numerical stability at +-1000

STABLE_FUNCTIONS = {
    "sigmoid": (lambda t: t.sigmoid(), [0.0, 0.5, 1.0]),
    "tanh": (lambda t: t.tanh(), [-1.0, 0.0, 1.0]),
    "softplus": (lambda t: t.softplus(), [0.0, math.log(2.0), 1000.0]),
    "logsumexp": (lambda t: t.logsumexp(axis=0), 1000.0),
    "log_softmax": (lambda t: t.log_softmax(axis=0), [-2000.0, -1000.0, 0.0]),
}


@pytest.mark.parametrize("name", list(STABLE_FUNCTIONS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stable_functions_at_plus_minus_1000_are_finite_without_numpy_warnings(name, dtype):
    fn, expected = STABLE_FUNCTIONS[name]
    x = Tensor(np.array([-1000.0, 0.0, 1000.0], dtype=dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = fn(x)
        out.sum().backward()
    assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(x.grad.data))
    assert out.dtype == dtype and x.grad.dtype == dtype
    np.testing.assert_allclose(out.data, expected, rtol=1e-6, atol=1e-6)


def test_logsumexp_of_huge_equal_values_is_exact():
    x = leaf([1000.0, 1000.0])
    out = x.logsumexp(axis=0)
    out.backward()
    np.testing.assert_allclose(out.item(), 1000.0 + math.log(2.0))
    assert x.grad.tolist() == [0.5, 0.5]


# ---------------------------------------------------------------- conventions at non-differentiable points

def _derivative_at(fn, value):
    x = leaf(value)
    fn(x).sum().backward()
    return x.grad.item()


def test_relu_derivative_at_zero_is_zero():
    assert _derivative_at(lambda t: t.relu(), 0.0) == 0.0


def test_abs_derivative_at_zero_is_zero():
    assert _derivative_at(lambda t: t.abs(), 0.0) == 0.0


def test_leaky_relu_derivative_at_zero_is_the_negative_slope():
    assert _derivative_at(lambda t: t.leaky_relu(0.2), 0.0) == pytest.approx(0.2)


def test_clip_bounds_pass_the_gradient():
    assert _derivative_at(lambda t: t.clip(-1.0, 1.0), 1.0) == 1.0
    assert _derivative_at(lambda t: t.clip(-1.0, 1.0), -1.0) == 1.0
    assert _derivative_at(lambda t: t.clip(-1.0, 1.0), 1.5) == 0.0


def test_sqrt_at_zero_is_zero_with_infinite_derivative():
    x = leaf([0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = x.sqrt()
        out.sum().backward()
    assert out.item() == 0.0
    assert x.grad.item() == math.inf


@pytest.mark.parametrize("reduction", ["max", "min"])
def test_max_and_min_reductions_split_ties_equally(reduction):
    values = [1.0, 3.0, 3.0, 2.0] if reduction == "max" else [2.0, 1.0, 1.0, 3.0]
    x = leaf(values)
    getattr(x, reduction)().backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5, 0.0]


def test_max_with_axis_splits_ties_per_row():
    x = leaf([[5.0, 5.0, 5.0], [1.0, 2.0, 2.0]])
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad.data, [[1 / 3, 1 / 3, 1 / 3], [0.0, 0.5, 0.5]])


@pytest.mark.parametrize("method", ["maximum", "minimum"])
def test_elementwise_maximum_and_minimum_split_ties_equally(method):
    a, b = leaf([1.0, 2.0, 3.0]), leaf([1.0, 5.0, 0.0])
    getattr(a, method)(b).sum().backward()
    winner_a = [0.5, 0.0, 1.0] if method == "maximum" else [0.5, 1.0, 0.0]
    assert a.grad.tolist() == winner_a
    assert b.grad.tolist() == [1.0 - w for w in winner_a]


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32, np.int64])
def test_square_by_a_number_two_gives_numpys_power_bit_for_bit(dtype):
    values = np.array([-3.5, -0.0, 0.0, 1e-3, 7.25, 300.0, np.inf, np.nan] if np.dtype(dtype).kind == "f"
                      else [-3, 0, 7, 300], dtype=dtype)
    with np.errstate(all="ignore"):
        for exponent in (2, 2.0, np.asarray(2, dtype=dtype)) if np.dtype(dtype).kind == "f" else (2, np.int64(2)):
            result = (Tensor(values, dtype=dtype) ** exponent).data
            expected = np.power(values, np.asarray(exponent, dtype=dtype))
            assert result.dtype == expected.dtype and np.array_equal(result, expected, equal_nan=True)
    assert (Tensor(np.array([2, 3]), dtype=np.int64) ** 2.0).dtype == np.float64  # not squared as integers


def test_pow_with_base_zero_and_exponent_two_has_zero_gradient():
    x = leaf([0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (x ** 2).sum().backward()
    assert x.grad.item() == 0.0


def test_zero_to_the_zero_is_one_with_zero_gradients_for_base_and_exponent():
    base, exponent = leaf(0.0), leaf(0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = base ** exponent
        out.backward()
    assert out.item() == 1.0
    assert base.grad.item() == 0.0 and exponent.grad.item() == 0.0


def test_exponent_zero_gives_one_and_zero_gradient():
    x = leaf([-2.0, 0.5, 3.0])
    out = x ** 0
    out.sum().backward()
    assert out.tolist() == [1.0, 1.0, 1.0]
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_negative_base_with_integer_exponent_has_base_gradient_and_nan_exponent_gradient():
    base, exponent = leaf([-2.0]), leaf([3.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = base ** exponent
        out.sum().backward()
    assert out.item() == -8.0
    assert base.grad.item() == 12.0  # 3 * (-2)^2
    assert math.isnan(exponent.grad.item())  # d/db = a^b log(a): log of a negative number


def test_pow_mixed_second_derivative_at_exponent_zero():
    a, b = leaf(1.5), leaf(0.0)
    (grad_a,) = grad(a ** b, a, create_graph=True)
    (mixed,) = grad(grad_a, b)
    assert mixed.item() == pytest.approx(1 / 1.5)  # a^(b-1) (1 + b log a) at b = 0


# ---------------------------------------------------------------- where

def test_where_sends_exact_zero_to_the_unselected_branch_even_when_the_gradient_is_inf():
    x, other = leaf([0.0, 4.0]), leaf([9.0, 9.0])
    picked = Tensor.where(np.array([True, False]), x, other)  # [0, 9]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        picked.sqrt().sum().backward()  # d sqrt/dy = [inf, 1/6]
    assert x.grad.tolist() == [math.inf, 0.0]
    assert other.grad.tolist() == [0.0, pytest.approx(1 / 6)]


def test_where_gives_zero_to_a_branch_whose_own_derivative_is_inf_but_that_branch_then_makes_nan():
    # Documented in Tensor.where: the log branch receives exactly 0 at x = 0, but log's own
    # backward computes 0 / 0 there; this is why the double-where trick exists.
    x = leaf([0.0, 2.0])
    with np.errstate(divide="ignore"):
        logged = x.log()  # log(0) = -inf in the unselected position
    logged.retain_grad()
    out = Tensor.where(x.data > 0, logged, x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out.sum().backward()
    assert logged.grad.tolist() == [0.0, 1.0]
    assert math.isnan(x.grad.data[0])


def test_double_where_trick_gives_finite_gradients():
    x = leaf([0.0, 2.0])
    positive = x.data > 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        safe = Tensor.where(positive, x, 1.0)
        out = Tensor.where(positive, safe.log(), x)
        out.sum().backward()
    assert out.tolist() == [0.0, pytest.approx(math.log(2.0))]
    assert x.grad.tolist() == [1.0, 0.5]


def test_double_where_trick_for_sqrt_keeps_second_derivatives_finite():
    x = leaf([0.0, 4.0])
    positive = x.data > 0
    safe = Tensor.where(positive, x, 1.0)
    out = Tensor.where(positive, safe.sqrt(), 0.0).sum()
    (first,) = grad(out, x, create_graph=True)
    (second,) = grad(first.sum(), x)
    assert first.tolist() == [0.0, 0.25]
    assert second.tolist() == [0.0, pytest.approx(-1 / 32)]  # -x^(-3/2) / 4


# ---------------------------------------------------------------- scale: depth and memory

def test_a_million_op_chain_backpropagates_without_recursion_error():
    x = leaf(0.0)
    one = Tensor(1.0, dtype=F64)
    start = time.process_time()  # CPU time: robust to a busy machine
    y = x
    for _ in range(1_000_000):
        y = y + one
    y.backward()
    elapsed = time.process_time() - start
    assert y.item() == 1_000_000.0
    assert x.grad.item() == 1.0
    assert elapsed < 60, f"a million-op chain took {elapsed:.1f} s of CPU time"


def _training_step(weight, inputs, targets):
    loss = ((inputs @ weight - targets) ** 2).mean()
    loss.backward()
    with no_grad():
        weight.data -= 0.01 * weight.grad.data
    weight.zero_grad()
    return loss.item()


def test_a_1000_iteration_training_loop_keeps_memory_flat():
    rng = np.random.default_rng(0)
    inputs, targets = Tensor(rng.standard_normal((16, 4))), Tensor(rng.standard_normal((16, 1)))
    weight = Tensor(rng.standard_normal((4, 1)), requires_grad=True)
    tracemalloc.start()
    try:
        for iteration in range(1, 1001):
            _training_step(weight, inputs, targets)
            if iteration == 100:
                after_100 = tracemalloc.get_traced_memory()[0]
        after_1000 = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # A loop that kept each old graph alive grows by ~4 MB here; CPython's free lists account for up to ~0.1 MB.
    assert after_1000 - after_100 < 256_000, f"memory grew by {after_1000 - after_100} bytes over 900 iterations"


def test_an_old_graph_is_freed_when_the_loss_is_dropped_without_gc():
    weight = leaf(np.ones((3, 2)))
    hidden = (Tensor(np.ones((4, 3))) @ weight).tanh()
    loss = (hidden * hidden).sum()
    loss.backward()
    refs = [weakref.ref(hidden), weakref.ref(hidden._ctx), weakref.ref(loss._ctx)]
    del hidden, loss
    assert all(ref() is None for ref in refs)  # reference counting alone frees it: no cycles


# ---------------------------------------------------------------- repeated backward

def _diamond_loss(x):
    shared = x * x
    return (shared * 3 + shared.exp()).sum()


def test_two_backwards_with_zero_grad_between_give_identical_gradients():
    x = leaf([0.1, -0.4])
    _diamond_loss(x).backward()
    first = x.grad.data.copy()
    x.zero_grad()
    _diamond_loss(x).backward()
    assert np.array_equal(x.grad.data, first)


def test_without_zero_grad_leaves_accumulate_exactly_twice_and_nothing_is_double_counted():
    x = leaf([0.1, -0.4])
    _diamond_loss(x).backward()
    first = x.grad.data.copy()
    _diamond_loss(x).backward()
    assert np.array_equal(x.grad.data, 2 * first)
    expected = 6 * x.data + 2 * x.data * np.exp(x.data * x.data)
    np.testing.assert_allclose(first, expected)


def test_retain_graph_backward_twice_accumulates_exactly_twice():
    x = leaf([0.1, -0.4])
    loss = _diamond_loss(x)
    loss.backward(retain_graph=True)
    first = x.grad.data.copy()
    loss.backward()
    assert np.array_equal(x.grad.data, 2 * first)


def test_second_backward_through_a_freed_graph_says_to_pass_retain_graph():
    x = leaf([0.1, -0.4])
    loss = _diamond_loss(x)
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        loss.backward()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_exact_in_the_tail_and_quiet_where_exp_overflows(dtype):
    x = Tensor(np.array([-1e4, -800.0, -100.0, -30.0, 0.0, 30.0, 1e4]), dtype=dtype, requires_grad=True)
    y = x.sigmoid()  # the suite turns RuntimeWarning (an overflow in exp) into an error
    y.sum().backward()
    # 1/(1 + e^-a) where the result is a normal float, exactly to rounding; 0 below (e^-a overflows)
    tiny = np.finfo(dtype).tiny
    exact = np.array([np.exp(-1e4), np.exp(-800.0), np.exp(-100.0), np.exp(-30.0) / (1 + np.exp(-30.0)), 0.5,
                      1 / (1 + np.exp(-30.0)), 1.0])
    normal = exact >= tiny
    np.testing.assert_allclose(y.data[normal], exact[normal].astype(dtype), rtol=4 * np.finfo(dtype).eps)
    assert np.all(y.data[~normal] <= tiny)
    assert y.dtype == dtype and np.all(np.isfinite(x.grad.data)) and x.grad.data[0] == 0.0
