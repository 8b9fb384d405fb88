"""The engine's shortcuts give what the long way gives: hooks found in a fresh program, the ops' shared constants."""
import subprocess
import sys

import numpy as np
import pytest

from tinygrad_edu import Tensor
from tinygrad_edu.function import constant


def _fresh_program(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


def test_a_hook_on_a_computed_tensor_runs_in_a_program_that_had_none_before():
    # The walk skips looking for hooks until the first one is set on a node: the first one must count.
    code = (
        "import numpy as np, tinygrad_edu.autograd as a\n"
        "from tinygrad_edu import Tensor\n"
        "x = Tensor(np.ones(3), requires_grad=True)\n"
        "(x * 2).sum().backward()\n"  # a backward before any hook
        "before = a._nodes_watched\n"
        "y = x * 2\n"
        "seen = []\n"
        "y.register_hook(lambda g: seen.append(g.tolist()) or g * 10)\n"
        "x.grad = None\n"
        "y.sum().backward()\n"
        "print(before, a._nodes_watched, seen, x.grad.tolist())\n"
    )
    assert _fresh_program(code).strip() == "False True [[1.0, 1.0, 1.0]] [20.0, 20.0, 20.0]"


def test_retain_grad_works_in_a_program_with_no_hooks():
    code = (
        "import numpy as np\n"
        "from tinygrad_edu import Tensor\n"
        "x = Tensor(np.ones(2), requires_grad=True)\n"
        "(x * 3).sum().backward()\n"
        "y = x * 3\n"
        "y.retain_grad()\n"
        "(y * y).sum().backward()\n"
        "print(y.grad.tolist())\n"
    )
    assert _fresh_program(code).strip() == "[6.0, 6.0]"


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int64])
def test_constant_is_a_shared_read_only_0d_array_of_the_dtype(dtype):
    one = constant(1, np.dtype(dtype))
    assert one.shape == () and one.dtype == dtype and one == 1
    assert constant(1, np.dtype(dtype)) is one
    with pytest.raises(ValueError):
        one[...] = 2


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_and_its_rule_are_the_textbook_formulas_in_the_dtype(dtype):
    a = np.linspace(-30, 30, 61).astype(dtype)
    x = Tensor(a, requires_grad=True)
    out = x.sigmoid()
    g = np.full(a.shape, 0.5, dtype)
    out.backward(Tensor(g))
    assert out.dtype == dtype and x.grad.dtype == dtype
    np.testing.assert_allclose(out.data, 1 / (1 + np.exp(-a.astype(np.float64))), rtol=4 * np.finfo(dtype).eps)
    s = out.data
    np.testing.assert_array_equal(x.grad.data, g * s * (1 - s))  # bit for bit
    scalar = Tensor(np.asarray(0.0, dtype)).sigmoid()  # 0-d: NumPy returns scalars, not arrays
    assert scalar.shape == () and scalar.dtype == dtype and scalar.item() == 0.5


def test_relu_and_tanh_keep_dtype_and_values():
    a = np.array([-2.0, -0.0, 0.0, 3.0], np.float32)
    x = Tensor(a, requires_grad=True)
    x.relu().sum().backward()
    assert x.relu().dtype == np.float32 and x.grad.dtype == np.float32
    assert x.relu().tolist() == [0.0, 0.0, 0.0, 3.0] and x.grad.tolist() == [0.0, 0.0, 0.0, 1.0]
    ints = Tensor(np.array([-1, 2], np.int64), dtype=np.int64).relu()
    assert ints.dtype == np.int64 and ints.tolist() == [0, 2]
    t = Tensor(a, requires_grad=True)
    t.tanh().sum().backward()
    y = np.tanh(a)
    np.testing.assert_array_equal(t.grad.data, 1 - y * y)  # bit for bit


def test_a_custom_functions_backward_runs_with_grad_mode_off_and_the_mode_is_left_as_it_was():
    from tinygrad_edu import Function, grad, is_grad_enabled, no_grad

    seen = []

    class Twice(Function):
        def forward(ctx, x):
            return x * 2

        def backward(ctx, grad_output):
            seen.append(is_grad_enabled())
            return grad_output * 2

    x = Tensor([1.0, 2.0], requires_grad=True)
    Twice.apply(x).sum().backward()
    assert seen == [False] and is_grad_enabled()
    y = Twice.apply(x).sum()
    with no_grad():
        y.backward()
        assert not is_grad_enabled()
    assert seen == [False, False] and is_grad_enabled() and x.grad.tolist() == [4.0, 4.0]
    z = Twice.apply(x).sum()
    (gx,) = grad(z, [x], create_graph=True)
    assert seen[-1] is True and is_grad_enabled() and gx.tolist() == [2.0, 2.0]


def test_hooks_see_grad_mode_off_even_when_backward_is_called_under_enable_grad_inside_no_grad():
    from tinygrad_edu import enable_grad, is_grad_enabled, no_grad

    seen = []
    x = Tensor([1.0], requires_grad=True)
    y = x * 3.0
    y.register_hook(lambda g: seen.append(is_grad_enabled()))
    with no_grad():
        with enable_grad():
            y.sum().backward()
            assert is_grad_enabled()
    assert seen == [False]


@pytest.mark.parametrize("source, shape", [
    (np.full((), 2.5, np.float32), (3, 4)), (np.arange(3.0), (2, 3)), (np.arange(3.0).reshape(3, 1), (2, 3, 4)),
    (np.ones((), np.float64), ()), (np.arange(6.0).reshape(2, 3).T, (4, 3, 2))])
def test_array_expand_is_numpys_read_only_broadcast_view(source, shape):
    from tinygrad_edu.function import ArrayOps
    source = np.asarray(source)
    view = ArrayOps.expand(source, shape)
    np.testing.assert_array_equal(view, np.broadcast_to(source, shape))
    assert view.shape == shape and not view.flags.writeable and np.shares_memory(view, source)


def test_every_op_class_has_an_apply_of_its_own_that_records_nodes_of_that_class():
    # Function.apply is copied per class (its own code object, so Python specializes it for that class).
    from tinygrad_edu import Function
    from tinygrad_edu.ops.elementwise import Add, Mul

    assert Mul.apply.__code__ is not Add.apply.__code__
    assert Mul.apply.__code__.co_code == Add.apply.__code__.co_code
    assert Mul.apply.__qualname__ == "Mul.apply" and "record the node" in Mul.apply.__doc__

    class Double(Function):
        def forward(ctx, x):
            return x * 2

        def backward(ctx, grad_output):
            return grad_output * 2

    class Quadruple(Double):  # inherits forward/backward, gets its own apply
        def forward(ctx, x):
            return x * 4

        def backward(ctx, grad_output):
            return grad_output * 4

    class Custom(Function):
        @classmethod
        def apply(cls, x):  # a subclass's own apply is left alone
            return Double.apply(x) + 1

    x = Tensor([1.0, 2.0], requires_grad=True)
    y, z = Double.apply(x), Quadruple.apply(x)
    assert type(y._ctx) is Double and type(z._ctx) is Quadruple
    (y + z + Custom.apply(x)).sum().backward()
    assert x.grad.tolist() == [8.0, 8.0]
    assert Custom.__dict__["apply"].__func__.__name__ == "apply" and Quadruple.apply is not Double.apply


def _checked_gradients(monkeypatch, make_loss) -> list:
    """The (op, input shape) of each gradient the walk checked and reshaped or cast, with the suite's check off."""
    from tinygrad_edu import autograd

    monkeypatch.setattr(autograd, "_verify_exact_rules", False)
    checked = []
    original = autograd._to_input_gradient

    def spy(grad, tensor, node, xp, declared=False):
        checked.append((node.op_name, tensor.shape))
        return original(grad, tensor, node, xp, declared)

    monkeypatch.setattr(autograd, "_to_input_gradient", spy)
    make_loss().backward()
    return checked


def test_the_walk_checks_only_the_gradients_of_rules_not_declared_exact(monkeypatch):
    from tinygrad_edu import Function

    x = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    w = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    row = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    wide = Tensor(np.ones((2, 3)), requires_grad=True)  # float64

    class Twice(Function):
        def forward(ctx, a):
            return 2 * a

        def backward(ctx, grad_output):
            return 2 * grad_output

    # alike inputs, tanh and sum: nothing to check (a wrong declaration would fail the rest of the suite)
    assert _checked_gradients(monkeypatch, lambda: ((x * w - w).tanh() / w).sum()) == []
    # a broadcast input is summed back; float32 with float64 is cast back; a custom rule is checked
    assert _checked_gradients(monkeypatch, lambda: (x * row).sum()) == [("mul", (3,))]
    assert _checked_gradients(monkeypatch, lambda: (x * wide).sum()) == [("mul", (2, 3))]
    assert _checked_gradients(monkeypatch, lambda: Twice.apply(x).sum()) == [("twice", (2, 3))]  # its Tensor, as an array
    x.grad = None
    Twice.apply(x).sum().backward()
    assert x.grad.tolist() == [[2.0] * 3] * 2


@pytest.mark.parametrize("verify", [False, True])
def test_the_walk_without_the_check_gives_the_checked_gradients(verify, monkeypatch):
    from tinygrad_edu import autograd

    monkeypatch.setattr(autograd, "_verify_exact_rules", verify)
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    w = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    row = Tensor(rng.standard_normal(3), requires_grad=True)
    ((x * w + row).tanh() - w / (x * x + 1) + row.exp()).sum().backward()
    a, b, r = x.data, w.data, row.data
    t = np.tanh(a * b + r)
    dt = 1 - t * t
    np.testing.assert_allclose(x.grad.data, dt * b + b * 2 * a / (a * a + 1) ** 2, rtol=1e-12)
    np.testing.assert_allclose(w.grad.data, dt * a - 1 / (a * a + 1), rtol=1e-12)
    np.testing.assert_allclose(row.grad.data, dt.sum(axis=0) + 2 * np.exp(r), rtol=1e-12)  # row.exp() is added to both rows


def test_a_rule_wrongly_declared_exact_is_caught_by_the_suites_check(monkeypatch):
    from tinygrad_edu import autograd
    from tinygrad_edu.function import ALWAYS
    from tinygrad_edu.ops.elementwise import Cast

    monkeypatch.setattr(autograd, "_verify_exact_rules", True)
    monkeypatch.setattr(Cast, "exact_rule", ALWAYS)  # wrong: its rule returns float64 for a float32 input
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    with pytest.raises(AssertionError, match="Cast.exact_rule is 'always'.*float64.*float32"):
        x.cast(np.float64).sum().backward()


def test_a_subclass_of_an_exact_op_with_a_rule_of_its_own_is_checked_again(monkeypatch):
    from tinygrad_edu.function import ALWAYS, NEVER
    from tinygrad_edu.ops.elementwise import Floor, Tanh

    class HalfTanh(Tanh):  # a user's variant whose rule returns float64 for any input
        def vjp(ctx, xp, g, out, a):
            return (g * (1 - out * out)).astype(np.float64)

    class Declared(Tanh):
        exact_rule = ALWAYS

        def vjp(ctx, xp, g, out, a):
            return g * (1 - out * out)

    assert HalfTanh.exact_rule == NEVER and Declared.exact_rule == ALWAYS and Floor.exact_rule == ALWAYS
    x = Tensor(np.ones((2, 2), dtype=np.float32), requires_grad=True)
    # the walk casts HalfTanh's float64 gradient back to float32 (and the suite's check does not fire)
    assert _checked_gradients(monkeypatch, lambda: HalfTanh.apply(x).sum()) == [("halftanh", (2, 2))]
    assert x.grad.dtype == np.float32


def test_gradients_meet_in_the_waiting_node_and_in_the_heap_alike():
    # y is used twice by one node (both gradients go to the node waiting beside the heap), u and v fan out
    # across depths (the heap holds some nodes while another waits beside it), and a leaf is used at every depth.
    x = Tensor(np.array([0.3, -0.7, 1.1]), requires_grad=True)
    y = x * x
    u = y * y + x
    v = (u * 2).tanh() + y
    w = (u * v + x).sum()
    w.backward()
    a = x.data
    y_, u_ = a * a, a ** 4 + a
    t = np.tanh(2 * u_)
    v_ = t + y_
    du = v_ + u_ * 2 * (1 - t * t)      # dw/du through u*v and through v
    dv = u_
    dy = du * 2 * y_ + dv               # u = y*y + x, v = ... + y
    expected = dy * 2 * a + du + 1      # y = x*x, u = ... + x, w = ... + x
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-12)
