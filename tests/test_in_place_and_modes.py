"""Issue 14 beyond the recorded spec: in-place updates, versions, grad modes and custom Functions.

PyTorch 2.13's answers are written in as literals (recorded by running torch; the tests never import it).
"""
import threading

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.optim as optim
from tinygrad_edu import Function, Tensor, anomaly, grad_mode, in_place, is_grad_enabled, no_grad

MODIFIED = r"modified by an inplace operation"


# ----- in-place updates in grad mode ----------------------------------------------------------------

def test_in_place_mul_on_a_non_leaf_records_the_op():
    # torch: y = x * 2; y *= 3; y.sum().backward() -> x.grad == [6., 6.]
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y *= 3
    assert y._ctx.op_name == "mul" and y._version == 1
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]


def test_a_node_made_before_the_in_place_op_still_sends_its_gradient_to_the_old_value():
    # torch: y = x * 2; z = y + 1; y *= 3; z.sum().backward() -> x.grad == [2., 2.] (add saved nothing)
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y + 1
    y *= 3
    z.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_a_node_that_saved_the_value_raises_after_an_in_place_op_in_grad_mode():
    # torch: y = x * 2; z = y * y; y += 1; z.sum().backward() -> RuntimeError (modified by an inplace operation)
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y * y
    y += 1
    with pytest.raises(RuntimeError, match=MODIFIED + r".*input 0 of 'mul'.*shape \(2,\)"):
        z.sum().backward()


def test_in_place_on_a_constant_with_a_tensor_that_requires_grad_makes_it_a_non_leaf():
    # torch: a = tensor([1., 2.]); a += w; a.sum().backward() -> w.grad == [1., 1.], a.is_leaf False
    a = Tensor([1.0, 2.0])
    w = Tensor([3.0, 4.0], requires_grad=True)
    a += w
    a.sum().backward()
    assert not a.is_leaf and w.grad.tolist() == [1.0, 1.0] and a.tolist() == [4.0, 6.0]


def test_in_place_on_a_leaf_that_requires_grad_raises_outside_no_grad_and_works_inside():
    w = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"leaf tensor that requires grad.*\+="):
        w += 1
    data = w.data
    with no_grad():
        w -= 0.5
    assert w.data is data and w.tolist() == [0.5, 1.5] and w._version == 1


def test_in_place_with_an_operand_that_does_not_broadcast_to_the_tensor_raises_naming_shapes():
    y = Tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"\(2, 2\).*\(2,\)"):
        y += Tensor(np.ones((2, 2)))
    assert y._version == 0


def test_hand_written_sgd_under_no_grad_trains():
    w = Tensor([3.0], requires_grad=True, dtype=np.float64)
    for _ in range(50):
        w.grad = None
        ((w - 1.0) ** 2).sum().backward()
        with no_grad():
            w -= 0.1 * w.grad
    assert abs(w.item() - 1.0) < 1e-4 and w._version == 50


# ----- values changed in place through other names ----------------------------------------------

def test_changing_a_detached_copy_in_place_raises_as_its_memory_is_the_saved_output():
    # torch: y = x.exp(); d = y.detach(); with no_grad(): d += 1; y.sum().backward() -> RuntimeError
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    d = y.detach()
    with no_grad():
        d += 1
    with pytest.raises(RuntimeError, match=MODIFIED + r".*output 0 of 'exp'"):
        y.sum().backward()


def test_changing_a_view_in_place_raises_as_its_memory_is_the_saved_output():
    # torch: y = x.exp(); v = y.reshape(2, 1); with no_grad(): v += 1; y.sum().backward() -> RuntimeError
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    v = y.reshape(2, 1)
    with no_grad():
        v += 1
    with pytest.raises(RuntimeError, match=MODIFIED + r".*exp"):
        y.sum().backward()


def test_changing_a_value_no_rule_reads_does_not_raise():
    # add, sum and reshape read no values: torch computes the gradient, so do we
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    z = (y + 1).reshape(2, 1).sum()
    with no_grad():
        y += 5
    z.backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_an_in_place_change_after_backward_does_not_affect_a_fresh_graph():
    w = Tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
    assert w._version == 3
    np.testing.assert_allclose(w.data, np.array([1.0, 2.0]) * 0.8 ** 3, rtol=1e-6)


def test_a_custom_function_raises_only_for_what_it_saved():
    class SavesInput(Function):
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2

        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * 2

    x = Tensor([1.0, 2.0], requires_grad=True)
    a = x * 1
    y = SavesInput.apply(a)
    with no_grad():
        a += 1
    with pytest.raises(RuntimeError, match=MODIFIED + r".*saved tensor 0 of 'savesinput'"):
        y.sum().backward()


def test_the_record_of_a_changed_array_goes_when_the_array_does():
    before = len(in_place._changed)
    t = Tensor(np.ones(3))
    t += 1
    assert len(in_place._changed) == before + 1
    del t
    assert len(in_place._changed) == before


# ----- data as the escape hatch ---------------------------------------------------------------------

def test_assigning_a_number_or_list_to_data_stores_an_array():
    p = Tensor([1.0, 2.0])
    p.data = [3.0, 4.0]
    assert type(p.data) is np.ndarray and p.tolist() == [3.0, 4.0]
    (p * 1).data = np.float64(2.0)  # a NumPy scalar (what 0-d arithmetic returns) becomes a 0-d array


# ----- grad mode ------------------------------------------------------------------------------------

def test_set_grad_enabled_as_a_call_sets_the_mode_until_set_again():
    tg.set_grad_enabled(False)
    try:
        assert not tg.is_grad_enabled()
        assert not (Tensor([1.0], requires_grad=True) * 2).requires_grad
    finally:
        tg.set_grad_enabled(True)
    assert tg.is_grad_enabled()


def test_set_grad_enabled_as_a_decorator_changes_the_mode_only_inside_calls():
    @tg.set_grad_enabled(False)
    def inside():
        return tg.is_grad_enabled()

    assert tg.is_grad_enabled() and inside() is False and tg.is_grad_enabled()


def test_a_new_thread_records_even_if_the_starting_thread_is_in_no_grad():
    seen = []
    with no_grad():
        thread = threading.Thread(target=lambda: seen.append((Tensor([1.0], requires_grad=True) * 2).requires_grad))
        thread.start()
        thread.join(10)
        assert not (Tensor([1.0], requires_grad=True) * 2).requires_grad
    assert seen == [True] and not grad_mode._threads_without_grad


def test_no_grad_generator_passes_sent_values_and_thrown_errors_to_the_body():
    @no_grad()
    def echo():
        received = []
        try:
            while True:
                value = yield tg.is_grad_enabled()
                received.append(value)
        except KeyError:
            yield ("caught", tg.is_grad_enabled(), received)

    steps = echo()
    assert next(steps) is False and tg.is_grad_enabled()
    assert steps.send("a") is False
    assert steps.throw(KeyError("k")) == ("caught", False, ["a"])
    assert tg.is_grad_enabled()


def test_nested_detect_anomaly_blocks_restore_each_outer_state():
    with tg.detect_anomaly():
        with tg.detect_anomaly():
            pass
        with pytest.raises(FloatingPointError):
            Tensor([-1.0]).sqrt()
    assert not anomaly._anomaly_enabled


# ----- custom Functions -----------------------------------------------------------------------------

def test_needs_input_grad_has_one_entry_per_argument_of_apply():
    # torch: F.apply(x, 2.0, None) -> ctx.needs_input_grad == (True, False, False)
    seen = []

    class Scale(Function):
        @staticmethod
        def forward(ctx, x, factor, unused):
            ctx.factor = factor
            return x * factor

        @staticmethod
        def backward(ctx, grad_output):
            seen.append(ctx.needs_input_grad)
            return grad_output * ctx.factor, None, None

    x = Tensor([1.0], requires_grad=True)
    Scale.apply(x, 2.0, None).sum().backward()
    assert seen == [(True, False, False)] and x.grad.tolist() == [2.0]


def test_wrong_number_of_gradients_with_non_tensor_arguments_names_the_function():
    class Forgets(Function):
        def forward(ctx, x, factor):
            return x * factor

        def backward(ctx, grad_output):
            return grad_output

    with pytest.raises(RuntimeError, match=r"Forgets.*expected 2.*got 1"):
        Forgets.apply(Tensor([1.0], requires_grad=True), 3.0).sum().backward()


def test_apply_without_any_tensor_raises_naming_the_function():
    class Nothing(Function):
        def forward(ctx, x):
            return x

    with pytest.raises(TypeError, match=r"Nothing\.apply\(\).*float"):
        Nothing.apply(1.0)


def test_a_custom_function_with_two_inputs_is_differentiable_twice_through_saved_tensors():
    class Product(Function):
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        def backward(ctx, grad_output):
            a, b = ctx.saved_tensors
            return grad_output * b, grad_output * a

    a = Tensor([2.0], requires_grad=True, dtype=np.float64)
    b = Tensor([5.0], requires_grad=True, dtype=np.float64)
    (da,) = tg.grad((Product.apply(a, b) * a).sum(), a, create_graph=True)  # d(a^2 b)/da = 2ab
    (dda, ddb) = tg.grad(da.sum(), [a, b])
    assert da.item() == 20.0 and dda.item() == 10.0 and ddb.item() == 4.0


# ----- grad() ----------------------------------------------------------------------------------------

def test_grad_of_an_intermediate_runs_nothing_behind_it():
    # torch: after grad(out, h), x.grad is None and backward through h still works
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    (dh,) = tg.grad((h * h).sum(), h)
    assert dh.tolist() == [6.0, 12.0] and x.grad is None and h._ctx.grads_to_inputs is None


# ----- edges ----------------------------------------------------------------------------------------

def test_axis_0_of_a_0_d_tensor_and_argmin():
    s = Tensor(3.0)
    assert s.sum(axis=0).item() == 3.0 and s.argmin(axis=0).item() == 0 and s.squeeze(0).shape == ()


def test_std_at_zero_spread_has_zero_gradient_under_create_graph_too():
    x = Tensor([2.0, 2.0, 2.0], requires_grad=True, dtype=np.float64)
    (first,) = tg.grad(x.std(), x, create_graph=True)
    assert first.tolist() == [0.0, 0.0, 0.0]


def test_argmin_over_an_empty_axis_raises_naming_argmin():
    with pytest.raises(IndexError, match=r"argmin.*axis 0 has size 0"):
        Tensor(np.zeros((0, 2))).argmin(axis=0)


def test_backward_quiets_divide_invalid_and_overflow_only_inside_the_walk_and_keeps_the_rest():
    seen = []
    old = np.seterr(under="raise")
    try:
        x = Tensor([0.0, 4.0], requires_grad=True)
        y = x.sqrt()  # its rule divides by 2 sqrt(0): no warning (the suite turns RuntimeWarning into errors)
        y.register_hook(lambda grad: seen.append(np.geterr()))
        y.sum().backward()
        assert x.grad.tolist() == [float("inf"), 0.25]
        assert seen == [{"divide": "ignore", "over": "ignore", "under": "raise", "invalid": "ignore"}]
        assert np.geterr() == {"divide": "warn", "over": "warn", "under": "raise", "invalid": "warn"}
    finally:
        np.seterr(**old)


def test_grad_mode_inside_backward_is_off_and_comes_back_for_this_thread_only():
    seen = []
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    y.register_hook(lambda grad: seen.append((is_grad_enabled(), set(grad_mode._threads_without_grad))))
    y.sum().backward()
    assert seen == [(False, {threading.get_ident()})]
    assert is_grad_enabled() and not grad_mode._threads_without_grad
