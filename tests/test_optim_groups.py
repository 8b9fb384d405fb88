"""Optimizer parameter groups, RMSprop, state_dict with groups, and learning-rate schedulers:
behaviour and errors. Step-for-step agreement with PyTorch is in test_torch_reference.py."""
import math

import numpy as np
import pytest

import tinygrad_edu.nn as nn
import tinygrad_edu.optim as optim
from tinygrad_edu import Tensor
from tinygrad_edu.optim import lr_scheduler


def _param(values=(1.0,)):
    return Tensor(np.array(values, dtype=np.float64), requires_grad=True)


def _set_grad(param, values):
    param.grad = Tensor(np.array(values, dtype=np.float64))


# ----- parameter groups ----------------------------------------------------------------
def test_groups_get_their_own_settings_and_the_defaults():
    a, b = _param(), _param()
    optimizer = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
    assert [group["lr"] for group in optimizer.param_groups] == [0.1, 0.5]
    assert all(group["momentum"] == 0.9 for group in optimizer.param_groups)
    assert optimizer.param_groups[0]["params"] == [a]
    _set_grad(a, [1.0])
    _set_grad(b, [1.0])
    optimizer.step()
    assert a.tolist() == [0.9] and b.tolist() == [0.5]


def test_changing_a_groups_lr_changes_the_next_step():
    param = _param()
    optimizer = optim.SGD([param], lr=0.1)
    optimizer.param_groups[0]["lr"] = 0.25
    _set_grad(param, [2.0])
    optimizer.step()
    assert param.tolist() == [0.5]


def test_lr_attribute_reads_and_sets_every_group():
    optimizer = optim.Adam([{"params": [_param()]}, {"params": [_param()], "lr": 0.1}])
    with pytest.raises(ValueError, match=r"different lr values \[0.001, 0.1\]"):
        optimizer.lr  # noqa: B018
    optimizer.lr = 0.2
    assert optimizer.lr == 0.2 and [group["lr"] for group in optimizer.param_groups] == [0.2, 0.2]
    assert optimizer.betas == (0.9, 0.999)


def test_add_param_group_and_single_tensor_params_entry():
    optimizer = optim.SGD([_param()], lr=0.1)
    extra = _param()
    optimizer.add_param_group({"params": extra, "lr": 0.3})
    assert len(optimizer.param_groups) == 2 and optimizer.param_groups[1]["params"] == [extra]
    assert optimizer.params[-1] is extra


@pytest.mark.parametrize("groups, error, message", [
    (lambda a: [{"params": [a]}, {"params": [a]}], ValueError, "more than one parameter group"),
    (lambda a: [{"params": [a], "lr": -1.0}], ValueError, "parameter group 0: invalid learning rate"),
    (lambda a: [{"lr": 0.1}], TypeError, "'params' entry"),
    (lambda a: [{"params": [a]}, a], TypeError, "not a mixture"),
    (lambda a: [{"params": []}], ValueError, "empty parameter list"),
    (lambda a: [{"params": [a], "momentum": -0.1}], ValueError, "parameter group 0: invalid momentum"),
])
def test_bad_groups_raise(groups, error, message):
    with pytest.raises(error, match=message):
        optim.SGD(groups(_param()), lr=0.1)


def test_non_leaf_tensors_are_rejected_as_in_pytorch():
    leaf = _param()
    with pytest.raises(ValueError, match=r"parameter group 0: can't optimize a non-leaf Tensor \(item 1"):
        optim.Adam([{"params": [leaf, leaf * 2]}])
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([leaf * 2], lr=0.1)


def test_adam_group_betas_are_checked():
    with pytest.raises(ValueError, match="parameter group 1: invalid beta parameter at index 0"):
        optim.Adam([{"params": [_param()]}, {"params": [_param()], "betas": (1.5, 0.9)}])


def test_repr_lists_each_group():
    text = repr(optim.SGD([{"params": [_param()]}, {"params": [_param()], "lr": 0.5}], lr=0.1))
    assert text.startswith("SGD (\nParameter Group 0\n") and "Parameter Group 1" in text and "lr: 0.5" in text


# ----- RMSprop -------------------------------------------------------------------------
def test_rmsprop_first_step_by_hand():
    param = _param([1.0, -1.0])
    optimizer = optim.RMSprop([param], lr=0.01)
    _set_grad(param, [0.5, 2.0])
    optimizer.step()
    denominator = np.sqrt(0.01 * np.array([0.25, 4.0])) + 1e-8
    np.testing.assert_allclose(param.data, [1.0, -1.0] - 0.01 * np.array([0.5, 2.0]) / denominator, rtol=1e-15)


def test_rmsprop_state_depends_on_its_settings():
    plain, full = _param(), _param()
    for param, optimizer in [(plain, optim.RMSprop([plain])), (full, optim.RMSprop([full], momentum=0.5,
                                                                                    centered=True))]:
        _set_grad(param, [1.0])
        optimizer.step()
        keys = sorted(optimizer.state_dict()["state"][0])
        expected = ["grad_avg", "momentum_buffer", "square_avg", "step"] if param is full else ["square_avg", "step"]
        assert keys == expected


@pytest.mark.parametrize("kwargs", [{"alpha": -0.5}, {"eps": -1.0}, {"momentum": -1.0}, {"weight_decay": -1.0}])
def test_rmsprop_bad_settings_raise(kwargs):
    with pytest.raises(ValueError, match=f"invalid {next(iter(kwargs))}"):
        optim.RMSprop([_param()], **kwargs)


# ----- state_dict with groups and schedulers -------------------------------------------
def _run(model, optimizer, scheduler, steps, seed):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        optimizer.zero_grad()
        nn.functional.mse_loss(model(Tensor(rng.normal(size=(4, 2)))), rng.normal(size=(4, 1))).backward()
        optimizer.step()
        scheduler.step()


@pytest.mark.parametrize("make", [
    lambda groups: optim.SGD(groups, lr=0.1, momentum=0.9),
    lambda groups: optim.Adam(groups, lr=0.01),
    lambda groups: optim.RMSprop(groups, lr=0.01, momentum=0.5, centered=True),
])
def test_resume_with_groups_and_a_scheduler_gives_the_same_numbers(make):
    def build():
        model = nn.MLP([2, 3, 1]).double()
        layers = model.layers
        optimizer = make([{"params": list(layers[0].parameters())},
                          {"params": list(layers[2].parameters()), "lr": 0.05}])
        return model, optimizer, lr_scheduler.CosineAnnealingLR(optimizer, T_max=6)

    model, optimizer, scheduler = build()
    _run(model, optimizer, scheduler, 4, seed=0)
    resumed_model, resumed, resumed_scheduler = build()
    resumed_model.load_state_dict(model.state_dict())
    resumed.load_state_dict(optimizer.state_dict())
    resumed_scheduler.load_state_dict(scheduler.state_dict())
    assert [group["lr"] for group in resumed.param_groups] == [group["lr"] for group in optimizer.param_groups]
    _run(model, optimizer, scheduler, 5, seed=1)
    _run(resumed_model, resumed, resumed_scheduler, 5, seed=1)
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(resumed_model.state_dict()[name], array)


def test_state_dict_stores_group_settings_and_initial_lr(tmp_path):
    optimizer = optim.SGD([{"params": [_param()]}, {"params": [_param(), _param()], "lr": 0.3}], lr=0.1)
    lr_scheduler.StepLR(optimizer, 2)
    state = optimizer.state_dict()
    assert state["param_groups"][1]["params"] == [1, 2]
    assert state["param_groups"][1]["initial_lr"] == 0.3
    np.savez(tmp_path / "optimizer.npz", **optim.flatten_state_dict(state))
    with np.load(tmp_path / "optimizer.npz", allow_pickle=False) as archive:
        optimizer.load_state_dict(dict(archive))
    assert optimizer.param_groups[1]["initial_lr"] == 0.3 and optimizer.param_groups[0]["nesterov"] is False


def test_load_state_dict_with_other_group_sizes_raises_and_changes_nothing():
    source = optim.SGD([{"params": [_param()]}, {"params": [_param(), _param()]}], lr=0.1)
    target = optim.SGD([{"params": [_param(), _param()]}, {"params": [_param()]}], lr=0.2)
    with pytest.raises(ValueError, match="the checkpoint's group 0 has 1 parameters, this one has 2"):
        target.load_state_dict(source.state_dict())
    assert target.lr == 0.2


def test_load_state_dict_accepts_the_older_single_lr_format():
    param = _param()
    optimizer = optim.SGD([param], lr=0.1, momentum=0.9)
    _set_grad(param, [1.0])
    optimizer.step()
    older = {"lr": np.array(0.05), "state.0.momentum_buffer": np.array([2.0])}
    optimizer.load_state_dict(older)
    assert optimizer.lr == 0.05 and optimizer.state[param]["momentum_buffer"].tolist() == [2.0]
    with pytest.raises(ValueError, match="invalid learning rate: -1.0"):
        optimizer.load_state_dict({"lr": np.array(-1.0)})


# ----- schedulers ----------------------------------------------------------------------
def _rates(make, steps=12, lr=1.0):
    optimizer = optim.SGD([_param()], lr=lr)
    scheduler = make(optimizer)
    rates = [scheduler.get_last_lr()[0]]
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
        rates.append(scheduler.get_last_lr()[0])
    return rates


def test_step_lr():
    assert _rates(lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.5), 7) == [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25]


def test_exponential_lr_is_gamma_to_the_epoch():
    np.testing.assert_allclose(_rates(lambda o: lr_scheduler.ExponentialLR(o, 0.9)), 0.9 ** np.arange(13), rtol=1e-14)


def test_cosine_annealing_follows_the_closed_form_then_climbs_back():
    rates = _rates(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=8, eta_min=0.1), 12)
    closed = [0.1 + 0.9 * (1 + math.cos(math.pi * epoch / 8)) / 2 for epoch in range(13)]
    np.testing.assert_allclose(rates, closed, rtol=1e-12, atol=1e-15)
    assert rates[8] == pytest.approx(0.1) and rates[12] > rates[9]


def test_lambda_lr_per_group():
    optimizer = optim.SGD([{"params": [_param()]}, {"params": [_param()], "lr": 2.0}], lr=1.0)
    scheduler = lr_scheduler.LambdaLR(optimizer, [lambda epoch: 0.5 ** epoch, lambda epoch: epoch + 1])
    scheduler.step()
    scheduler.step()
    assert scheduler.get_last_lr() == [0.25, 6.0] and scheduler.last_epoch == 2


def test_scheduler_records_initial_lr_and_base_lrs():
    optimizer = optim.SGD([_param()], lr=0.4)
    scheduler = lr_scheduler.StepLR(optimizer, 1, gamma=0.5)
    scheduler.step()
    assert optimizer.param_groups[0]["initial_lr"] == 0.4 and scheduler.base_lrs == [0.4]
    assert optimizer.param_groups[0]["lr"] == 0.2 and scheduler.last_epoch == 1


def test_resuming_with_last_epoch_needs_initial_lr():
    with pytest.raises(KeyError, match="no 'initial_lr'"):
        lr_scheduler.StepLR(optim.SGD([_param()], lr=0.1), 2, last_epoch=3)


@pytest.mark.parametrize("make, error, message", [
    (lambda o: lr_scheduler.StepLR(o, 0), ValueError, "step_size must be a positive int"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=0), ValueError, "T_max must be a positive int"),
    (lambda o: lr_scheduler.LambdaLR(o, [abs, abs]), ValueError, "expected 1 lr_lambdas"),
    (lambda o: lr_scheduler.ExponentialLR(o, "0.9"), TypeError, "gamma must be a number"),
    (lambda o: lr_scheduler.StepLR("optimizer", 2), TypeError, "expects an optimizer"),
])
def test_bad_scheduler_arguments_raise(make, error, message):
    with pytest.raises(error, match=message):
        make(optim.SGD([_param()], lr=0.1))


def test_both_import_forms_work():
    import tinygrad_edu.optim.lr_scheduler as by_path

    assert by_path is lr_scheduler is optim.lr_scheduler
