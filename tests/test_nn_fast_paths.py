"""The per-step fast paths of nn and optim (issue 10) agree with the checked paths they skip.

Linear.forward, ReLU/Sigmoid/Tanh, Sequential.forward (Module.__call__ inlined) and
SGD.step without momentum or weight decay each have a short path for the usual call;
these tests run both paths on the same inputs and compare results, gradients,
errors, module-call records and version counters.
"""
import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F  # noqa: N812
from tinygrad_edu import Tensor, nn, optim
from tinygrad_edu.nn import module as module_mod
from tinygrad_edu.nn.calls import module_calls, record_module_calls


def _input(shape=(5, 3), seed=0):
    return Tensor(np.random.default_rng(seed).standard_normal(shape).astype(np.float32), requires_grad=True)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_fast_path_matches_the_checked_path(bias):
    tg.manual_seed(0)
    layer = nn.Linear(3, 4, bias=bias)
    results = []
    for forward in (layer.forward, layer._checked_forward):
        x = _input()
        layer.zero_grad()
        out = forward(x)
        (out * out).sum().backward()
        results.append((out.numpy(), x.grad.numpy(), layer.weight.grad.numpy(),
                        None if layer.bias is None else layer.bias.grad.numpy()))
    for fast, checked in zip(*results):
        assert (fast is None and checked is None) or np.array_equal(fast, checked)


def _error(call, *args):
    with pytest.raises(Exception) as info:
        call(*args)
    return type(info.value), str(info.value)


def test_linear_errors_are_the_checked_paths():
    tg.manual_seed(0)
    layer = nn.Linear(3, 4)
    for bad in (Tensor(np.ones((5, 2), np.float32)), Tensor(np.float32(1.0)), np.ones((5, 3), np.float32), [1.0] * 3):
        assert _error(layer, bad) == _error(layer._checked_forward, bad)
    assert "expects inputs whose last axis has 3 features" in _error(layer, Tensor(np.ones((5, 2))))[1]
    good = Tensor(np.ones((5, 3), np.float32))
    for weight, bias in (((4, 2), (4,)), ((4, 3), (3,)), ((4, 3, 1), (4,))):
        layer.weight = Tensor(np.ones(weight, np.float32), requires_grad=True)
        layer.bias = Tensor(np.ones(bias, np.float32), requires_grad=True)
        fast, checked = _error(layer, good), _error(layer._checked_forward, good)
        assert fast == checked and fast[0] is ValueError


def _outcome(call, x):
    try:
        return "value", call(x).numpy()
    except Exception as error:  # noqa: BLE001 (the two paths must fail alike, whatever the error)
        return type(error), str(error)


@pytest.mark.parametrize("weight_kind, bias_kind", [("array", "tensor"), ("tensor", "array"), ("array", "none"),
                                                    ("list", "tensor")])
def test_linear_with_parameters_that_are_not_tensors_takes_the_checked_path(weight_kind, bias_kind):
    tg.manual_seed(0)
    layer = nn.Linear(3, 4, bias=bias_kind != "none")
    convert = {"array": lambda t: t.numpy().copy(), "list": lambda t: t.tolist(), "tensor": lambda t: t}
    layer.weight = convert[weight_kind](layer.weight)
    if layer.bias is not None:
        layer.bias = convert[bias_kind](layer.bias)
    x = Tensor(np.ones((2, 3), np.float32))
    fast, checked = _outcome(layer, x), _outcome(layer._checked_forward, x)
    assert fast[0] == checked[0]
    assert np.array_equal(fast[1], checked[1]) if fast[0] == "value" else fast[1] == checked[1]


@pytest.mark.parametrize("module, function", [(nn.ReLU(), F.relu), (nn.Sigmoid(), F.sigmoid), (nn.Tanh(), F.tanh)])
def test_activation_modules_match_their_functions(module, function):
    grads = []
    for apply in (module, function):
        x = _input()
        out = apply(x)
        out.sum().backward()
        grads.append((out.numpy(), x.grad.numpy()))
    assert all(np.array_equal(a, b) for a, b in zip(*grads))
    with pytest.raises(TypeError, match=f"{type(module).__name__} expects a Tensor as input, got a numpy.ndarray"):
        module(np.ones(3, np.float32))


class _CalledThrough(nn.Module):
    """A layer with its own __call__: Sequential must call it, not only its forward."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, x):
        return x * 2.0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return super().__call__(*args, **kwargs)


def _graph_tensors(root):
    seen, stack, found = set(), [root], []
    while stack:
        tensor = stack.pop()
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        found.append(tensor)
        ctx = tensor._ctx
        if ctx is not None:
            stack.extend(parent for parent in ctx.inputs if isinstance(parent, Tensor))
    return found


def _structure(x, out):
    """Every tensor of the graph (in walk order) with its records: module names and the positions of their inputs."""
    tensors = [x] + _graph_tensors(out)
    position = {(id(t), id(t._ctx)): index for index, t in enumerate(tensors)}
    return [[(type(m).__name__, [position.get(key) for key in ids]) for m, ids in module_calls(t)] for t in tensors]


def test_sequential_records_module_calls_as_module_call_does(monkeypatch):
    tg.manual_seed(0)
    special = _CalledThrough()
    model = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), special, nn.Linear(4, 2), nn.Tanh())
    x = Tensor(np.ones((2, 3), np.float32))
    previous = record_module_calls(True)
    try:
        out_fast = model(x)
        fast = _structure(x, out_fast)
        monkeypatch.setattr(module_mod, "_module_call", object())  # every layer through layer(x), as before
        out_slow = model(x)
        slow = _structure(x, out_slow)
    finally:
        record_module_calls(previous)
    assert np.array_equal(out_fast.numpy(), out_slow.numpy())
    assert fast == slow
    assert sorted(name for records in fast for name, _ in records) == sorted(
        ["Linear", "Sigmoid", "_CalledThrough", "Linear", "Tanh", "Sequential"])
    assert special.calls == 2


def test_sequential_records_each_layer_with_the_tensor_it_was_given():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = Tensor(np.ones((2, 3), np.float32))
    previous = record_module_calls(True)
    try:
        out = model(x)
    finally:
        record_module_calls(previous)
    (last, last_inputs), (sequential, sequential_inputs) = module_calls(out)
    assert last is model[2] and sequential is model
    assert sequential_inputs == [(id(x), id(x._ctx))]
    hidden = [t for t in _graph_tensors(out) if (id(t), id(t._ctx)) in last_inputs]
    assert len(hidden) == 1
    assert [m for m, _ in module_calls(hidden[0])] == [model[1]]


def test_sequential_longer_than_the_precomputed_names():
    model = nn.Sequential(*[nn.Identity() for _ in range(70)], nn.ReLU())
    x = Tensor(np.array([-1.0, 2.0], np.float32))
    assert model(x).tolist() == [0.0, 2.0]


# ----- SGD.step: p -= lr * g inline when there is no momentum or weight decay -------------------------------

class _SlowSGD(optim.SGD):
    """SGD through the per-parameter _update loop (an overridden _update turns the inline path off)."""

    def _update(self, param, grad, state, group):
        super()._update(param, grad, state, group)


def _train(optimizer_class, **settings):
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    frozen_grad = model[2].bias  # no gradient in some steps: left alone
    groups = [{"params": [model[0].weight, model[0].bias]},
              {"params": [model[2].weight, model[2].bias], "lr": 0.05, **settings}]
    optimizer = optimizer_class(groups, lr=0.1)
    versions = []
    for step in range(3):
        optimizer.zero_grad()
        (model(_input(seed=step)) ** 2).sum().backward()
        if step == 1:
            frozen_grad.grad = None
        optimizer.step()
        versions.append([p._version for p in optimizer.params])
    return [p.numpy().copy() for p in optimizer.params], versions, optimizer.state_dict()


@pytest.mark.parametrize("settings", [{}, {"momentum": 0.9}, {"weight_decay": 0.01}])
def test_sgd_inline_step_matches_the_update_loop(settings):
    fast, slow = _train(optim.SGD, **settings), _train(_SlowSGD, **settings)
    assert all(np.array_equal(a, b) for a, b in zip(fast[0], slow[0]))
    assert fast[1] == slow[1]
    assert fast[2]["state"].keys() == slow[2]["state"].keys()
    for index, state in fast[2]["state"].items():
        assert state.keys() == slow[2]["state"][index].keys()


def test_sgd_inline_step_accepts_an_array_gradient_and_bumps_versions():
    w = Tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    optimizer = optim.SGD([w], lr=0.5)
    retained = (w * w).sum()
    w.grad = np.array([2.0, 4.0], np.float32)
    before = w._version
    optimizer.step()
    assert w.tolist() == [0.0, 0.0] and w._version == before + 1
    assert optimizer.state_dict()["state"] == {0: {}}
    with pytest.raises(RuntimeError):
        retained.backward()


@pytest.mark.parametrize("set_to_none", [True, False])
def test_optimizer_zero_grad(set_to_none):
    a = Tensor(np.ones(2, np.float32), requires_grad=True)
    b = Tensor(np.ones(2, np.float32), requires_grad=True)
    optimizer = optim.SGD([a, b], lr=0.1)
    (a * 3.0).sum().backward()
    grad = a.grad
    optimizer.zero_grad(set_to_none)
    assert b.grad is None
    if set_to_none:
        assert a.grad is None
    else:
        assert a.grad is grad and a.grad.tolist() == [0.0, 0.0]


def test_mlp_still_refuses_arrays():
    with pytest.raises(TypeError, match="MLP expects a Tensor as input"):
        nn.MLP([2, 1])(np.ones((1, 2), np.float32))


def test_mlp_records_its_layers_call_as_module_call_does(monkeypatch):
    tg.manual_seed(0)
    model = nn.MLP([3, 4, 2])
    x = Tensor(np.ones((2, 3), np.float32))
    previous = record_module_calls(True)
    try:
        out_fast = model(x)
        fast = _structure(x, out_fast)
        monkeypatch.setattr(module_mod, "_module_call", object())  # model.layers through layers(x), as before
        out_slow = model(x)
        slow = _structure(x, out_slow)
    finally:
        record_module_calls(previous)
    assert fast == slow and np.array_equal(out_fast.numpy(), out_slow.numpy())
    assert [type(m).__name__ for m, _ in module_calls(out_fast)] == ["Linear", "Sequential", "MLP"]


# ----- cross_entropy: the argument checks run in full only for types other than float / int -------------------

@pytest.mark.parametrize("options, error, message", [
    ({"label_smoothing": True}, ValueError, "label_smoothing must be a number in"),
    ({"label_smoothing": "0.1"}, ValueError, "label_smoothing must be a number in"),
    ({"label_smoothing": 1.5}, ValueError, "label_smoothing must be a number in"),
    ({"label_smoothing": float("nan")}, ValueError, "label_smoothing must be a number in"),
    ({"label_smoothing": np.float32(2.0)}, ValueError, "label_smoothing must be a number in"),
    ({"ignore_index": True}, TypeError, "ignore_index must be an int"),
    ({"ignore_index": 1.0}, TypeError, "ignore_index must be an int"),
    ({"ignore_index": "1"}, TypeError, "ignore_index must be an int"),
    ({"reduction": "avg"}, ValueError, "reduction must be one of"),
])
def test_cross_entropy_argument_errors(options, error, message):
    logits = Tensor(np.zeros((2, 3), np.float32))
    with pytest.raises(error, match=message):
        F.cross_entropy(logits, np.array([0, 1]), **options)


@pytest.mark.parametrize("options", [{}, {"label_smoothing": 0}, {"label_smoothing": np.float64(0.0)},
                                     {"label_smoothing": np.float32(0.1)}, {"label_smoothing": 0.1},
                                     {"ignore_index": np.int64(-100)}, {"ignore_index": 1}, {"reduction": "sum"}])
def test_cross_entropy_accepts_numbers_of_other_types(options):
    logits = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    target = np.array([0, 2, 1, 2])
    as_python = {key: value.item() if isinstance(value, np.generic) else value for key, value in options.items()}
    as_python = {key: float(value) if key == "label_smoothing" else value for key, value in as_python.items()}
    expected = F.cross_entropy(Tensor(logits), target, **as_python).numpy()
    assert np.allclose(F.cross_entropy(Tensor(logits), target, **options).numpy(), expected)
    assert np.allclose(F.cross_entropy(logits, target, **options).numpy(), expected)  # an array is wrapped


def test_sgd_plain_step_matches_python_float_arithmetic_for_mixed_dtypes():
    # The inline step multiplies by lr as a 0-d array of the gradient's dtype: the same bits as `lr * g`.
    rng = np.random.default_rng(3)
    params = [tg.Tensor(rng.standard_normal(5).astype(dtype), requires_grad=True)
              for dtype in (np.float32, np.float64, np.float16, np.float32)]
    grads = [rng.standard_normal(5).astype(p.dtype) for p in params]
    expected = [p.data - 0.1234567 * g for p, g in zip(params, grads)]
    for p, g in zip(params, grads):
        p.grad = tg.Tensor(g, dtype=g.dtype)
    tg.optim.SGD(params, lr=0.1234567).step()
    for p, want in zip(params, expected):
        assert p.dtype == want.dtype
        np.testing.assert_array_equal(p.data, want)
