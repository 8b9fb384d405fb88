"""PyTorch idioms that the engine core answers (issue 14): in-place updates and versions, grad mode per
thread, custom Functions, grad(), edges and errors.

Each test is one behaviour, with PyTorch 2.13's numbers or message written in as literals (recorded by
running torch, which the tests never import). Every one of them failed before the engine round that fixed it.
"""
import threading

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.optim as optim
from tinygrad_edu import Function, Tensor, no_grad

# ----- 1. versions and in-place updates -------------------------------------------------------------

def test_in_place_add_on_a_non_leaf_keeps_the_same_tensor():
    # torch: x = tensor([1., 2.], requires_grad=True); y = x * 2; i = id(y); y += 1 -> id(y) == i, y == [3., 5.]
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    before = id(y)
    y += 1
    assert id(y) == before and y.tolist() == [3.0, 5.0]


def test_every_tensor_starts_at_version_0():
    assert Tensor([1.0])._version == 0 and (Tensor([1.0], requires_grad=True) * 2)._version == 0


def test_in_place_updates_bump_the_version():
    # torch: x = tensor([1.]); x += 1; x *= 2 -> x._version == 2
    x = Tensor([1.0])
    x += 1
    x *= 2
    assert x._version == 2


def test_optimizer_step_bumps_the_version():
    # torch: w.grad = ones; SGD([w], lr=0.1).step() -> w._version goes 0 -> 1
    w = Tensor([1.0, 2.0], requires_grad=True)
    w.grad = Tensor([1.0, 1.0])
    optim.SGD([w], lr=0.1).step()
    assert w._version == 1


def test_backward_through_a_saved_input_changed_in_place_raises():
    # torch: x = tensor([1., 2., 3.], requires_grad=True); a = x * 1; y = a * a
    #        with no_grad(): a += 1;  y.sum().backward() -> RuntimeError: one of the variables needed for gradient
    #        computation has been modified by an inplace operation: [torch.FloatTensor [3]], which is output 0 of
    #        Mul, is at version 1; expected version 0 instead. Hint: ...
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    a = x * 1
    y = a * a
    with no_grad():
        a += 1
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation.*mul"):
        y.sum().backward()


def test_backward_through_a_saved_output_changed_in_place_raises():
    # torch: y = x.exp(); with no_grad(): y += 1; y.sum().backward() -> RuntimeError: one of the variables needed
    #        for gradient computation has been modified by an inplace operation: [torch.FloatTensor [3]], which is
    #        output 0 of Exp, is at version 1; expected version 0 instead.
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.exp()
    with no_grad():
        y += 1
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation.*exp"):
        y.sum().backward()


def test_backward_after_an_optimizer_step_on_a_retained_graph_raises():
    # torch: loss = (w * w).sum(); loss.backward(retain_graph=True); SGD([w], lr=0.1).step(); loss.backward()
    #        -> RuntimeError: one of the variables needed for gradient computation has been modified by an inplace
    #        operation: [torch.FloatTensor [2]] is at version 1; expected version 0 instead.
    w = Tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    optim.SGD([w], lr=0.1).step()
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation.*mul"):
        loss.backward()


def test_in_place_update_of_data_with_a_tensor_keeps_data_an_ndarray():
    # torch: p.data -= 0.1 * p.grad -> p stays float32, p == [0.8, 1.6], version unchanged (0)
    p = Tensor([1.0, 2.0], requires_grad=True)
    (p * p).sum().backward()
    p.data -= 0.1 * p.grad
    assert type(p.data) is np.ndarray and p.data.dtype == np.float32
    np.testing.assert_allclose(p.data, [0.8, 1.6], rtol=1e-6)


def test_data_plus_equals_minus_lr_grad_keeps_data_an_ndarray():
    p = Tensor([1.0, 2.0], requires_grad=True)
    (p * p).sum().backward()
    p.data += -0.1 * p.grad
    assert type(p.data) is np.ndarray and p.data.dtype == np.float32


def test_assigning_a_tensor_to_data_stores_its_array():
    # torch: p.data = tensor([5., 6.], dtype=float64) -> p.dtype becomes float64 (the assigned value's dtype)
    p = Tensor([1.0, 2.0], requires_grad=True)
    p.data = Tensor(np.array([5.0, 6.0]))
    assert type(p.data) is np.ndarray and p.data.dtype == np.float64 and p.tolist() == [5.0, 6.0]


# ----- 2. grad mode per thread ---------------------------------------------------------------------

def _grad_mode_seen_by_another_thread_while_this_one_is_in_no_grad():
    seen = {}
    entered, checked = threading.Event(), threading.Event()

    def inside_no_grad():
        with no_grad():
            entered.set()
            checked.wait(10)

    def elsewhere():
        entered.wait(10)
        seen["enabled"] = tg.is_grad_enabled()
        seen["records"] = (Tensor([1.0], requires_grad=True) * 2).requires_grad
        checked.set()

    threads = [threading.Thread(target=inside_no_grad), threading.Thread(target=elsewhere)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return seen


def test_no_grad_in_one_thread_does_not_stop_recording_in_another():
    # torch: {'enabled': True, 'records': True}
    assert _grad_mode_seen_by_another_thread_while_this_one_is_in_no_grad() == {"enabled": True, "records": True}


def test_no_grad_decorator_covers_a_generator_function_body():
    # torch: @torch.no_grad() def g(): yield torch.is_grad_enabled()  -> list(g()) == [False]
    @no_grad()
    def generator():
        yield tg.is_grad_enabled()
        yield (Tensor([1.0], requires_grad=True) * 2).requires_grad

    assert list(generator()) == [False, False]
    assert tg.is_grad_enabled()


def test_set_grad_enabled_sets_the_mode_inside_the_block_and_restores_it():
    # torch: with set_grad_enabled(False): is_grad_enabled() -> False; afterwards True
    from tinygrad_edu import set_grad_enabled
    with set_grad_enabled(False):
        inside = tg.is_grad_enabled()
    assert inside is False and tg.is_grad_enabled() is True


def test_re_entered_detect_anomaly_restores_the_outer_mode_on_exit(monkeypatch):
    # torch: d = detect_anomaly(); with d: with d: pass  -> is_anomaly_enabled() is False after the blocks
    monkeypatch.setattr(tg.anomaly, "_anomaly_enabled", False)  # undo today's leak afterwards
    detector = tg.detect_anomaly()
    with detector:
        with detector:
            pass
    with np.errstate(invalid="ignore"):
        Tensor([-1.0]).sqrt()  # NaN outside anomaly mode: no FloatingPointError


# ----- 3. custom Functions the PyTorch way ---------------------------------------------------------

def test_custom_function_with_staticmethods_works():
    class Double(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * 2

    x = Tensor([1.0, 2.0], requires_grad=True)
    Double.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_custom_function_passes_non_tensor_arguments_through_to_forward():
    # torch: Scale.apply(x, 3.0, (2,)) with backward returning (g * factor, None, None) -> x.grad == [3., 3.]
    seen = []

    class Scale(Function):
        @staticmethod
        def forward(ctx, x, factor, shape_hint=None):
            seen.append((factor, shape_hint))
            ctx.factor = factor
            return x * factor

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * ctx.factor, None, None

    x = Tensor([1.0, 2.0], requires_grad=True)
    Scale.apply(x, 3.0, (2,)).sum().backward()
    assert seen == [(3.0, (2,))] and x.grad.tolist() == [3.0, 3.0]


def test_custom_function_accepts_none_as_an_argument():
    class MaybeAdd(Function):
        def forward(ctx, x, other):
            return x if other is None else x + other

        def backward(ctx, grad_output):
            return grad_output, None

    x = Tensor([1.0], requires_grad=True)
    MaybeAdd.apply(x, None).sum().backward()
    assert x.grad.tolist() == [1.0]


def test_custom_backward_on_saved_tensors_is_differentiable_under_create_graph():
    # torch: Cube (backward g * 3 * x * x from ctx.saved_tensors), x = 2: first derivative 12, second 12
    class Cube(Function):
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * 3 * x * x

    x = Tensor([2.0], requires_grad=True, dtype=np.float64)
    (first,) = tg.grad(Cube.apply(x).sum(), x, create_graph=True)
    (second,) = tg.grad(first.sum(), x)
    assert first.item() == 12.0 and second.item() == 12.0


def test_wrong_number_of_gradients_names_the_function_class():
    # torch: RuntimeError: function TooManyBackward returned an incorrect number of gradients (expected 1, got 2)
    class TooMany(Function):
        def forward(ctx, x):
            return x * 2

        def backward(ctx, grad_output):
            return grad_output, grad_output

    with pytest.raises(RuntimeError, match=r"TooMany.*(expected 1, got 2|2 gradients for 1 input)"):
        TooMany.apply(Tensor([1.0], requires_grad=True)).sum().backward()


def test_gradient_of_the_wrong_shape_names_the_function_and_the_input():
    # torch: RuntimeError: Function WrongShapeBackward returned an invalid gradient at index 0 - got [3] but
    #        expected shape compatible with [2]
    class WrongShape(Function):
        def forward(ctx, x):
            return x * 2

        def backward(ctx, grad_output):
            return Tensor(np.ones(3))

    with pytest.raises(RuntimeError, match=r"WrongShape.*(index|input) 0.*\(3,\).*\(2,\)"):
        WrongShape.apply(Tensor([1.0, 2.0], requires_grad=True)).sum().backward()


# ----- 4. grad() -----------------------------------------------------------------------------------

def test_grad_frees_only_the_part_of_the_graph_it_walked():
    # torch: h = x * w; out = (h * h).sum(); grad(out, h) == [6., 16.]; then h.sum().backward() -> x.grad == [3., 4.]
    x = Tensor([1.0, 2.0], requires_grad=True)
    w = Tensor([3.0, 4.0], requires_grad=True)
    h = x * w
    (dout_dh,) = tg.grad((h * h).sum(), h)
    h.sum().backward()
    assert dout_dh.tolist() == [6.0, 16.0] and x.grad.tolist() == [3.0, 4.0]


def test_leaf_hooks_run_under_grad():
    # torch: x.register_hook(lambda g: g * 10); grad((x * x).sum(), x) -> hook sees [2., 4.], result [20., 40.]
    x = Tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.tolist()) or g * 10)
    (result,) = tg.grad((x * x).sum(), x)
    assert seen == [[2.0, 4.0]] and result.tolist() == [20.0, 40.0]


# ----- 5. edges as PyTorch has them ----------------------------------------------------------------

def test_std_gradient_is_zero_where_the_spread_is_zero():
    # torch: tensor([2., 2., 2.], float64).std().backward() -> grad [0., 0., 0.]
    x = Tensor([2.0, 2.0, 2.0], requires_grad=True, dtype=np.float64)
    x.std().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_std_gradient_along_an_axis_is_zero_only_in_the_constant_row():
    # torch: tensor([[1., 1.], [1., 3.]]).std(dim=1).sum().backward() -> [[0., 0.], [-0.7071067811865475, 0.7071...]]
    x = Tensor([[1.0, 1.0], [1.0, 3.0]], requires_grad=True, dtype=np.float64)
    x.std(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad.data, [[0.0, 0.0], [-0.7071067811865475, 0.7071067811865475]], rtol=1e-12)


@pytest.mark.parametrize("values, correction", [([1.0, 3.0], 2), ([1.0, 3.0], 3), ([1.0, 3.0, 1.0], 3)])
def test_var_with_no_more_elements_than_correction_is_inf_when_values_differ(values, correction):
    # torch: tensor([1., 3.]).var(correction=2) -> inf (and a "degrees of freedom is <= 0" warning);
    #        std likewise inf; constant values give nan (0/0), as var([3.]) with correction=1 does in both
    x = Tensor(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):  # a warning here is fine; PyTorch gives a UserWarning
        assert x.var(correction=correction).item() == np.inf and x.std(correction=correction).item() == np.inf


@pytest.mark.parametrize("reduce, expected", [
    (lambda s: s.sum(axis=-1), 2.0), (lambda s: s.mean(axis=-1), 2.0), (lambda s: s.softmax(-1), 1.0),
    (lambda s: s.log_softmax(-1), 0.0), (lambda s: s.logsumexp(axis=-1), 2.0), (lambda s: s.squeeze(-1), 2.0),
    (lambda s: s.argmax(axis=-1), 0),
], ids=["sum", "mean", "softmax", "log_softmax", "logsumexp", "squeeze", "argmax"])
def test_axis_minus_1_of_a_0_d_tensor_works(reduce, expected):
    # torch (s = tensor(2.)): s.sum(-1) == 2, s.mean(-1) == 2, softmax(s, -1) == 1, log_softmax(s, -1) == 0,
    #        logsumexp(s, -1) == 2, s.squeeze(-1) == 2 with shape (), s.argmax(-1) == 0
    out = reduce(Tensor(2.0, dtype=np.float64))
    assert out.shape == () and out.item() == expected


def test_axis_out_of_range_of_a_0_d_tensor_gives_the_valid_range_minus_1_to_0():
    # torch: tensor(2.).sum(dim=1) -> IndexError: Dimension out of range (expected to be in range of [-1, 0], but got 1)
    with pytest.raises(IndexError, match=r"valid: -1 to 0"):
        Tensor(2.0).sum(axis=1)


# ----- 6. arrays meeting Tensors -------------------------------------------------------------------

def test_numpy_ufunc_on_a_tensor_keeps_the_graph_or_says_which_method_to_use():
    # torch: np.exp(t) with t.requires_grad -> RuntimeError: Can't call numpy() on Tensor that requires grad.
    #        Use tensor.detach().numpy() instead.  (Issue 14 asks: dispatch to Tensor.exp, or TypeError naming it.)
    t = Tensor([1.0, 2.0], requires_grad=True)
    try:
        out = np.exp(t)
    except TypeError as error:
        assert "exp" in str(error)
    else:
        assert isinstance(out, Tensor) and out.requires_grad


# ----- 8. clear errors -----------------------------------------------------------------------------

def test_softmax_over_an_empty_axis_returns_an_empty_tensor():
    # torch: softmax(zeros(2, 0), -1).shape == (2, 0); softmax(zeros(0, 3), 0).shape == (0, 3)
    assert Tensor(np.zeros((2, 0))).softmax(-1).shape == (2, 0)
    assert Tensor(np.zeros((0, 3))).softmax(0).shape == (0, 3)


def test_argmax_over_an_empty_axis_raises_naming_argmax():
    # torch: zeros(2, 0).argmax(-1) -> IndexError: argmax(): Expected reduction dim 1 to have non-zero size.
    with pytest.raises(IndexError, match=r"argmax.*(non-zero size|empty)"):
        Tensor(np.zeros((2, 0))).argmax(axis=-1)


def test_cat_of_0_d_tensors_raises_naming_the_position():
    # torch: cat([tensor(1.), tensor(2.)]) -> RuntimeError: zero-dimensional tensor (at position 0) cannot be
    #        concatenated  (stack works: [1., 2.])
    with pytest.raises((RuntimeError, ValueError), match=r"zero-dimensional tensor \(at position 0\) cannot be "
                                                          r"concatenated"):
        Tensor.cat([Tensor(1.0), Tensor(2.0)])


def test_float_tensor_index_raises_suggesting_int64():
    # torch: x[tensor([0., 1.])] -> IndexError: tensors used as indices must be long, int, byte or bool tensors
    with pytest.raises(IndexError, match="int64"):
        Tensor([1.0, 2.0, 3.0])[Tensor([0.0, 1.0])]
