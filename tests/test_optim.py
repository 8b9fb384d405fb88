"""Optimizers: each one against a hand-written NumPy reference of PyTorch's formula."""
import numpy as np
import pytest

import tinygrad_edu.nn as nn
import tinygrad_edu.optim as optim
from tinygrad_edu import Tensor

STEPS = 25


def _problem():
    """A float64 Linear(3, 2) regression whose gradient is easy to write by hand."""
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(8, 3))
    targets = rng.normal(size=(8, 2))
    weight = rng.normal(size=(2, 3))
    bias = rng.normal(size=(2,))
    return inputs, targets, weight, bias


def _hand_gradients(inputs, targets, weight, bias):
    """d/dW and d/db of mean((x W^T + b - y)^2)."""
    residual = inputs @ weight.T + bias - targets
    scale = 2.0 / residual.size
    return scale * residual.T @ inputs, scale * residual.sum(axis=0)


def _run_model(make_optimizer):
    inputs, targets, weight, bias = _problem()
    layer = nn.Linear(3, 2).double()
    layer.weight.data[...] = weight
    layer.bias.data[...] = bias
    optimizer = make_optimizer(layer.parameters())
    for _ in range(STEPS):
        optimizer.zero_grad()
        residual = layer(Tensor(inputs)) - Tensor(targets)
        (residual * residual).mean().backward()
        optimizer.step()
    return layer.weight.data, layer.bias.data


def _run_reference(update):
    """`update(index, param, grad, state)` changes param in place (PyTorch's pseudo-code)."""
    inputs, targets, weight, bias = _problem()
    params = [weight.copy(), bias.copy()]
    states = [{}, {}]
    for _ in range(STEPS):
        grads = _hand_gradients(inputs, targets, *params)
        for param, grad, state in zip(params, grads, states):
            update(param, grad, state)
    return params


def _sgd_reference(lr, momentum=0.0, weight_decay=0.0, nesterov=False, dampening=0.0):
    def update(param, grad, state):
        d_p = grad + weight_decay * param
        if momentum != 0:
            if "buf" not in state:
                state["buf"] = d_p.copy()
            else:
                state["buf"] = momentum * state["buf"] + (1 - dampening) * d_p
            d_p = d_p + momentum * state["buf"] if nesterov else state["buf"]
        param -= lr * d_p
    return update


def _adam_reference(lr, betas, eps, weight_decay, decoupled):
    beta1, beta2 = betas

    def update(param, grad, state):
        state["t"] = state.get("t", 0) + 1
        t = state["t"]
        if decoupled:
            param *= 1 - lr * weight_decay
        else:
            grad = grad + weight_decay * param
        state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * grad
        state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * grad ** 2
        m_hat = state["m"] / (1 - beta1 ** t)
        v_hat = state["v"] / (1 - beta2 ** t)
        param -= lr * m_hat / (np.sqrt(v_hat) + eps)
    return update


def _assert_same(model_params, reference_params):
    for got, expected in zip(model_params, reference_params):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


SGD_VARIANTS = {
    "plain": {"lr": 0.1},
    "momentum": {"lr": 0.05, "momentum": 0.9},
    "nesterov": {"lr": 0.05, "momentum": 0.9, "nesterov": True},
    "weight_decay": {"lr": 0.1, "weight_decay": 0.01},
    "momentum_weight_decay": {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.05},
    "nesterov_weight_decay": {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1, "nesterov": True},
    "dampening": {"lr": 0.05, "momentum": 0.9, "dampening": 0.3},
}


@pytest.mark.parametrize("variant", SGD_VARIANTS)
def test_sgd_matches_reference_formula(variant):
    kwargs = SGD_VARIANTS[variant]
    got = _run_model(lambda params: optim.SGD(params, **kwargs))
    _assert_same(got, _run_reference(_sgd_reference(**kwargs)))


@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
def test_adam_matches_reference_formula(weight_decay):
    got = _run_model(lambda params: optim.Adam(params, lr=0.01, weight_decay=weight_decay))
    _assert_same(got, _run_reference(_adam_reference(0.01, (0.9, 0.999), 1e-8, weight_decay, decoupled=False)))


def test_adam_matches_reference_with_custom_betas_and_eps():
    got = _run_model(lambda params: optim.Adam(params, lr=0.03, betas=(0.5, 0.9), eps=1e-3))
    _assert_same(got, _run_reference(_adam_reference(0.03, (0.5, 0.9), 1e-3, 0.0, decoupled=False)))


@pytest.mark.parametrize("weight_decay", [0.01, 0.2])
def test_adamw_matches_reference_formula(weight_decay):
    got = _run_model(lambda params: optim.AdamW(params, lr=0.01, weight_decay=weight_decay))
    _assert_same(got, _run_reference(_adam_reference(0.01, (0.9, 0.999), 1e-8, weight_decay, decoupled=True)))


def test_adamw_default_weight_decay_is_0_01():
    assert optim.AdamW([Tensor([1.0], requires_grad=True)]).weight_decay == 0.01


def test_first_sgd_momentum_step_uses_the_gradient_itself():
    param = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    optimizer = optim.SGD([param], lr=0.1, momentum=0.9)
    param.grad = Tensor(np.array([0.5, -1.0]))
    optimizer.step()
    np.testing.assert_allclose(param.data, [0.95, 2.1], rtol=0, atol=1e-15)


def test_adamw_decays_weights_without_touching_the_gradient():
    param = Tensor(np.array([2.0, -4.0]), requires_grad=True)
    optimizer = optim.AdamW([param], lr=0.1, weight_decay=0.5)
    param.grad = Tensor(np.zeros(2))
    optimizer.step()
    np.testing.assert_allclose(param.data, [2.0 * 0.95, -4.0 * 0.95], rtol=0, atol=1e-15)


def test_step_updates_in_place_without_building_a_graph():
    layer = nn.Linear(2, 1)
    weight, weight_array = layer.weight, layer.weight.data
    optimizer = optim.SGD(layer.parameters(), lr=0.1, momentum=0.9)
    layer(Tensor([[1.0, 2.0]])).sum().backward()
    optimizer.step()
    assert layer.weight is weight and layer.weight.data is weight_array
    assert weight.is_leaf and weight.requires_grad
    assert weight.data.dtype == np.float32


@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.1, momentum=0.9), lambda p: optim.Adam(p),
                                  lambda p: optim.AdamW(p)])
def test_step_skips_parameters_without_gradient(make):
    used = Tensor([1.0, 2.0], requires_grad=True)
    unused = Tensor([3.0, 4.0], requires_grad=True)
    optimizer = make([used, unused])
    (used * used).sum().backward()
    optimizer.step()
    assert unused.tolist() == [3.0, 4.0]
    assert used.tolist() != [1.0, 2.0]


@pytest.mark.parametrize("grad", [Tensor([0.5, -1.0]), np.array([0.5, -1.0]), [0.5, -1.0]])
def test_step_takes_a_gradient_set_by_hand_as_a_tensor_an_array_or_a_list(grad):
    param = Tensor([1.0, 2.0], requires_grad=True)
    param.grad = grad
    optim.SGD([param], lr=0.1).step()
    np.testing.assert_allclose(param.data, [0.95, 2.1])


def test_zero_grad_sets_gradients_to_none():
    param = Tensor([1.0], requires_grad=True)
    optimizer = optim.Adam([param])
    (param * 3.0).sum().backward()
    optimizer.zero_grad()
    assert param.grad is None


def test_optimizer_accepts_a_generator_and_keeps_all_parameters():
    model = nn.MLP([2, 3, 1])
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    assert len(optimizer.params) == 4
    model(Tensor([[1.0, 2.0]])).sum().backward()
    optimizer.step()  # a used-up generator would update nothing
    optimizer.step()


def test_parameter_listed_twice_is_updated_once():
    param = Tensor(np.array([1.0]), requires_grad=True)
    optimizer = optim.SGD([param, param], lr=0.5)
    param.grad = Tensor(np.array([1.0]))
    optimizer.step()
    assert param.tolist() == [0.5]


def test_step_returns_the_closure_loss():
    param = Tensor(np.array([3.0]), requires_grad=True)
    optimizer = optim.SGD([param], lr=0.1)

    def closure():
        optimizer.zero_grad()
        loss = (param * param).sum()
        loss.backward()
        return loss

    assert optimizer.step(closure).item() == 9.0
    assert param.tolist() == [pytest.approx(2.4)]


def test_empty_parameter_list_raises():
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)


def test_non_tensor_parameter_raises_naming_its_position():
    with pytest.raises(TypeError, match="item 1 is a ndarray"):
        optim.Adam([Tensor([1.0], requires_grad=True), np.zeros(2)])


def test_single_tensor_instead_of_list_raises():
    with pytest.raises(TypeError, match=r"pass \[tensor\]"):
        optim.SGD(Tensor([1.0], requires_grad=True), lr=0.1)


def test_module_instead_of_parameters_raises():
    with pytest.raises(TypeError, match=r"model.parameters\(\)"):
        optim.SGD(nn.Linear(2, 2), lr=0.1)


@pytest.mark.parametrize("lr", [-0.1, float("nan")])
def test_invalid_learning_rate_raises(lr):
    with pytest.raises(ValueError, match="learning rate"):
        optim.SGD([Tensor([1.0], requires_grad=True)], lr=lr)


@pytest.mark.parametrize("kwargs, message", [
    ({"betas": (1.0, 0.999)}, "beta parameter at index 0"),
    ({"betas": (0.9, -0.1)}, "beta parameter at index 1"),
    ({"betas": (0.9,)}, "betas must be a pair"),
    ({"eps": -1e-8}, "eps"),
    ({"weight_decay": -0.1}, "weight_decay"),
    ({"lr": -1.0}, "learning rate"),
])
def test_invalid_adam_settings_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        optim.Adam([Tensor([1.0], requires_grad=True)], **kwargs)


@pytest.mark.parametrize("kwargs, message", [
    ({"momentum": -0.5}, "momentum"),
    ({"nesterov": True}, "Nesterov momentum requires momentum > 0"),
    ({"nesterov": True, "momentum": 0.9, "dampening": 0.1}, "dampening = 0"),
    ({"weight_decay": -1.0}, "weight_decay"),
])
def test_invalid_sgd_settings_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        optim.SGD([Tensor([1.0], requires_grad=True)], lr=0.1, **kwargs)


def test_learning_rate_can_be_changed_between_steps():
    param = Tensor(np.array([1.0]), requires_grad=True)
    optimizer = optim.SGD([param], lr=0.1)
    optimizer.lr = 0.5
    param.grad = Tensor(np.array([1.0]))
    optimizer.step()
    assert param.tolist() == [0.5]


def test_zero_grad_can_keep_zeroed_gradient_arrays():
    param = Tensor([1.0, 2.0], requires_grad=True)
    optimizer = optim.SGD([param], lr=0.1)
    (param * 3.0).sum().backward()
    optimizer.zero_grad(set_to_none=False)
    assert param.grad.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
                                  lambda p: optim.Adam(p, lr=0.05), lambda p: optim.AdamW(p, lr=0.05)])
def test_each_optimizer_fits_a_small_regression(make):
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(32, 3)).astype(np.float32)
    targets = inputs @ np.array([[1.0], [-2.0], [0.5]], dtype=np.float32) + 0.3
    layer = nn.Linear(3, 1)
    optimizer = make(layer.parameters())
    losses = []
    for _ in range(200):
        loss = nn.functional.mse_loss(layer(Tensor(inputs)), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 1e-2 * losses[0]


def _train(model, optimizer, steps, seed):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        optimizer.zero_grad()
        nn.functional.mse_loss(model(Tensor(rng.normal(size=(4, 2)))), rng.normal(size=(4, 1))).backward()
        optimizer.step()


@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.1, momentum=0.9), lambda p: optim.Adam(p, lr=0.01),
                                  lambda p: optim.AdamW(p, lr=0.01)])
def test_optimizer_state_dict_resumes_training_exactly(make):
    model = nn.MLP([2, 3, 1]).double()
    optimizer = make(model.parameters())
    _train(model, optimizer, 5, seed=0)
    resumed_model = nn.MLP([2, 3, 1]).double()
    resumed_model.load_state_dict(model.state_dict())
    resumed = make(resumed_model.parameters())
    resumed.load_state_dict(optimizer.state_dict())
    _train(model, optimizer, 5, seed=1)
    _train(resumed_model, resumed, 5, seed=1)
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(resumed_model.state_dict()[name], array)


def test_optimizer_state_dict_flattened_is_arrays_that_savez_can_store(tmp_path):
    model = nn.Linear(2, 1)
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    _train(model, optimizer, 2, seed=0)
    state = optim.flatten_state_dict(optimizer.state_dict())
    assert sorted(state) == ["param_groups.0.betas", "param_groups.0.eps", "param_groups.0.lr",
                             "param_groups.0.params", "param_groups.0.weight_decay",
                             "state.0.exp_avg", "state.0.exp_avg_sq", "state.0.step",
                             "state.1.exp_avg", "state.1.exp_avg_sq", "state.1.step"]
    np.savez(tmp_path / "opt.npz", **state)
    with np.load(tmp_path / "opt.npz", allow_pickle=False) as archive:
        optimizer.load_state_dict(dict(archive))


def test_optimizer_load_state_dict_rejects_bad_entries_and_changes_nothing():
    model = nn.Linear(2, 1)
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    _train(model, optimizer, 2, seed=0)
    before = optim.flatten_state_dict(optimizer.state_dict())   # the flat names, as np.load gives them back
    bad = dict(before)
    bad["state.0.exp_avg"] = np.zeros((3, 3))
    bad["state.7.exp_avg"] = np.zeros(1)
    del bad["state.1.exp_avg_sq"]
    bad["param_groups.0.lr"] = np.array(-1.0)
    with pytest.raises(ValueError) as error:
        optimizer.load_state_dict(bad)
    message = str(error.value)
    for expected in ["state.0.exp_avg: shape (3, 3)", "unexpected entry 'state.7.exp_avg'", "parameter 1: has",
                     "param_groups.0: invalid learning rate: -1.0"]:
        assert expected in message
    after = optim.flatten_state_dict(optimizer.state_dict())
    assert sorted(after) == sorted(before) and all(np.array_equal(after[k], before[k]) for k in before)


# ----- Adam's flat (per-group) step against the per-parameter rule --------------------------------
def _adam_steps(make, schedule, dtypes=(np.float64, np.float64)):
    """Run `make([a, b])` over `schedule` (per step: which of a, b get a gradient); return a, b and their state."""
    rng = np.random.default_rng(1)
    params = [Tensor(rng.normal(size=shape).astype(dtype), requires_grad=True)
              for shape, dtype in zip(((3, 2), (4,)), dtypes)]
    grads = [[rng.normal(size=p.shape).astype(p.dtype) for p in params] for _ in schedule]
    optimizer = make(params)
    for step_grads, given in zip(grads, schedule):
        for param, grad, has in zip(params, step_grads, given):
            param.grad = Tensor(grad) if has else None
        optimizer.step()
    return params, grads, optimizer


@pytest.mark.parametrize("decoupled", [False, True])
@pytest.mark.parametrize("dtypes", [(np.float64, np.float64), (np.float32, np.float64)])
def test_adam_group_step_matches_the_rule_when_parameters_skip_steps(decoupled, dtypes):
    schedule = [(True, True), (True, False), (True, True), (True, True)]  # b falls one step behind a
    kind = optim.AdamW if decoupled else optim.Adam
    params, grads, optimizer = _adam_steps(lambda p: kind(p, lr=0.1, weight_decay=0.1), schedule, dtypes)
    update = _adam_reference(0.1, (0.9, 0.999), 1e-8, 0.1, decoupled)
    rng = np.random.default_rng(1)
    expected = [rng.normal(size=shape).astype(np.float64) for shape in ((3, 2), (4,))]
    states: list = [{}, {}]
    for step_grads, given in zip(grads, schedule):
        for index, has in enumerate(given):
            if has:
                update(expected[index], step_grads[index].astype(np.float64), states[index])
    tolerance = 1e-5 if np.float32 in dtypes else 1e-12
    for param, value in zip(params, expected):
        np.testing.assert_allclose(param.data, value, rtol=tolerance, atol=tolerance)
    assert [optimizer.state[p]["step"] for p in params] == [4, 3]


def test_adam_state_loaded_from_a_state_dict_is_the_one_the_next_step_uses():
    schedule = [(True, True)] * 3
    params, _, optimizer = _adam_steps(lambda p: optim.Adam(p, lr=0.1), schedule)
    saved = optimizer.state_dict()
    twin = optim.Adam(params, lr=0.1)
    twin.load_state_dict(saved)
    for param in params:
        param.grad = Tensor(np.ones(param.shape))
    before = [p.data.copy() for p in params]
    optimizer.step()
    after = [p.data.copy() for p in params]
    for param, value in zip(params, before):
        param.data[...] = value
    twin.step()
    for param, value in zip(params, after):
        np.testing.assert_array_equal(param.data, value)
    assert twin.state[params[0]]["step"] == 4
def test_a_step_bumps_the_version_of_each_parameter_it_changed_once():
    stepped = Tensor([1.0, 2.0], requires_grad=True)
    untouched = Tensor([3.0], requires_grad=True)  # no gradient: skipped by the step
    optimizer = optim.SGD([stepped, untouched], lr=0.1)
    (stepped * stepped).sum().backward()
    optimizer.step()
    assert stepped._version == 1 and untouched._version == 0


def test_a_graph_made_before_a_step_refuses_to_backward_through_the_changed_parameter():
    weight = Tensor([1.0, 2.0], requires_grad=True)
    optimizer = optim.SGD([weight], lr=0.1)
    (weight * weight).sum().backward()
    later = (weight * weight).sum()  # saves weight's values
    optimizer.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        later.backward()
