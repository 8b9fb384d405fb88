"""optimizer.state_dict() in PyTorch's nested layout, and the flat form that np.savez stores (optim.state).

The layout, as torch 2.13.0 prints it (recorded by hand; the tests need no PyTorch):

    torch.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9).state_dict()
    {'state': {0: {'momentum_buffer': tensor(...)}, 1: {'momentum_buffer': tensor(...)}},
     'param_groups': [{'lr': 0.1, 'momentum': 0.9, 'dampening': 0, 'weight_decay': 0, 'nesterov': False,
                       'maximize': False, 'foreach': None, 'differentiable': False, 'fused': None, 'params': [0]},
                      {'lr': 0.5, ..., 'params': [1]}]}

tinygrad_edu keeps the settings it implements (no maximize/foreach/fused) in the same places.
"""
import json

import numpy as np
import pytest
from test_optim import _train  # the same few steps of training as the flat-form tests

import tinygrad_edu as tg
from tinygrad_edu import nn, optim
from tinygrad_edu.optim import lr_scheduler


def _linear():
    tg.manual_seed(0)
    return nn.Linear(2, 1).double()


def test_sgd_state_dict_has_pytorchs_nested_layout():
    model = _linear()
    optimizer = optim.SGD([{"params": [model.weight]}, {"params": [model.bias], "lr": 0.5}], lr=0.1, momentum=0.9)
    _train(model, optimizer, 1, seed=0)
    state = optimizer.state_dict()
    assert list(state) == ["state", "param_groups"]
    assert list(state["state"]) == [0, 1] and list(state["state"][0]) == ["momentum_buffer"]
    assert state["state"][0]["momentum_buffer"].shape == (1, 2) and state["state"][1]["momentum_buffer"].shape == (1,)
    assert state["param_groups"] == [
        {"lr": 0.1, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False, "params": [0]},
        {"lr": 0.5, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False, "params": [1]}]
    assert list(state["param_groups"][0])[-1] == "params"          # last, as PyTorch packs it


def test_adam_state_dict_counts_steps_per_parameter():
    model = _linear()
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    _train(model, optimizer, 2, seed=0)
    state = optimizer.state_dict()
    assert {index: sorted(entry) for index, entry in state["state"].items()} == {
        0: ["exp_avg", "exp_avg_sq", "step"], 1: ["exp_avg", "exp_avg_sq", "step"]}
    assert state["state"][0]["step"] == 2
    assert state["param_groups"] == [{"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0,
                                      "params": [0, 1]}]


def test_state_dict_before_the_first_step_has_no_per_parameter_state():
    assert optim.Adam(_linear().parameters()).state_dict()["state"] == {}


def test_state_dict_returns_copies_that_later_steps_do_not_change():
    model = _linear()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    _train(model, optimizer, 1, seed=0)
    state = optimizer.state_dict()
    kept = state["state"][0]["momentum_buffer"].copy()
    state["param_groups"][0]["lr"] = 99.0
    _train(model, optimizer, 1, seed=1)
    np.testing.assert_array_equal(state["state"][0]["momentum_buffer"], kept)
    assert optimizer.param_groups[0]["lr"] == 0.1


@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
                                  lambda p: optim.AdamW(p, lr=0.01),
                                  lambda p: optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True)])
def test_flatten_then_unflatten_gives_the_state_dict_back(make):
    model = _linear()
    optimizer = make(model.parameters())
    lr_scheduler.StepLR(optimizer, 2)                 # adds initial_lr to the group
    _train(model, optimizer, 3, seed=0)
    state = optimizer.state_dict()
    again = optim.unflatten_state_dict(optim.flatten_state_dict(state))
    assert again["param_groups"] == state["param_groups"]
    assert list(again["state"]) == list(state["state"])
    for index, entry in state["state"].items():
        assert list(again["state"][index]) == list(entry)
        for key, value in entry.items():
            np.testing.assert_array_equal(again["state"][index][key], value)
            assert type(again["state"][index][key]) is type(value)


def test_a_file_written_flat_resumes_training_exactly(tmp_path):
    model, resumed_model = _linear(), _linear()
    optimizer = optim.Adam([{"params": [model.weight]}, {"params": [model.bias], "lr": 0.05}], lr=0.01)
    resumed = optim.Adam([{"params": [resumed_model.weight]}, {"params": [resumed_model.bias]}], lr=0.3)
    _train(model, optimizer, 3, seed=0)
    resumed_model.load_state_dict(model.state_dict())
    np.savez(tmp_path / "opt.npz", **optim.flatten_state_dict(optimizer.state_dict()))
    with np.load(tmp_path / "opt.npz", allow_pickle=False) as archive:
        flat = dict(archive)
    resumed.load_state_dict(optim.unflatten_state_dict(flat))     # the nested form ...
    assert [group["lr"] for group in resumed.param_groups] == [0.01, 0.05]
    again = optim.Adam([{"params": [resumed_model.weight]}, {"params": [resumed_model.bias]}], lr=0.3)
    again.load_state_dict(flat)                                   # ... and the flat one load the same
    assert again.state_dict()["param_groups"] == resumed.state_dict()["param_groups"]
    _train(model, optimizer, 4, seed=1)
    _train(resumed_model, resumed, 4, seed=1)
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(resumed_model.state_dict()[name], array)


def test_load_state_dict_takes_string_parameter_indices_as_json_writes_them():
    model = _linear()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    _train(model, optimizer, 1, seed=0)
    state = optimizer.state_dict()
    as_json = json.loads(json.dumps({"state": {index: {key: value.tolist() for key, value in entry.items()}
                                               for index, entry in state["state"].items()},
                                     "param_groups": state["param_groups"]}))
    assert list(as_json["state"]) == ["0", "1"]
    target = optim.SGD(_linear().parameters(), lr=0.2, momentum=0.9)
    target.load_state_dict(as_json)
    np.testing.assert_array_equal(target.state_dict()["state"][0]["momentum_buffer"],
                                  state["state"][0]["momentum_buffer"])


def test_load_state_dict_checks_the_nested_form_and_changes_nothing_on_error():
    model = _linear()
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    _train(model, optimizer, 1, seed=0)
    state = optimizer.state_dict()
    state["state"][0]["exp_avg"] = np.zeros((3, 3))
    state["param_groups"][0]["lr"] = -1.0
    with pytest.raises(ValueError) as error:
        optimizer.load_state_dict(state)
    assert "state.0.exp_avg: shape (3, 3)" in str(error.value)
    assert "invalid learning rate: -1.0" in str(error.value)
    assert optimizer.lr == 0.01 and optimizer.state_dict()["state"][0]["exp_avg"].shape == (1, 2)


def test_flatten_refuses_a_dict_that_is_not_nested():
    with pytest.raises(TypeError, match="'state' and 'param_groups'"):
        optim.flatten_state_dict({"param_groups.0.lr": np.array(0.1)})


def test_unflatten_names_an_entry_it_cannot_place():
    with pytest.raises(ValueError, match="unexpected entry 'lr'"):
        optim.unflatten_state_dict({"lr": np.array(0.1)})
    with pytest.raises(ValueError, match=r"parameter groups \[1\] are not numbered"):
        optim.unflatten_state_dict({"param_groups.1.lr": np.array(0.1)})
