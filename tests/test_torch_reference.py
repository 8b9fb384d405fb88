"""Layers, losses, optimizers and schedulers against numbers recorded from PyTorch (float64, 1e-9).

`tests/data/torch_reference.npz` was written by `tools/record_torch_reference.py`
(PyTorch 2.13, CPU, one thread): for each case in `torch_reference_cases.py`, its
inputs and initial weights, the loss of each of 24 steps, the final
`state_dict()` (same names: ModuleList/ModuleDict/BatchNorm2d buffers included),
learning rates and clipped gradient norms. Here the same code runs on
tinygrad_edu from the stored inputs; no PyTorch needed.
"""
import os

import numpy as np
import pytest
import torch_reference_cases as cases

REFERENCE = os.path.join(os.path.dirname(__file__), "data", "torch_reference.npz")
TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def stored():
    with np.load(REFERENCE, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


@pytest.fixture(scope="module")
def lib():
    return cases.TinygradLib()


@pytest.mark.parametrize("name", list(cases.CASES))
def test_matches_pytorch(name, stored, lib):
    _, ours = cases.run_case(lib, name, stored=stored)
    expected = {key: value for key, value in stored.items() if key.startswith(f"{name}/result/")}
    assert expected, f"no recorded numbers for {name}: rerun tools/record_torch_reference.py"
    assert sorted(ours) == sorted(expected)  # same state_dict names, same recorded quantities
    for key, value in expected.items():
        np.testing.assert_allclose(np.asarray(ours[key], dtype=np.float64), value, rtol=TOLERANCE, atol=TOLERANCE,
                                   err_msg=key)


def test_reference_runs_are_long_enough_and_really_train(stored):
    for name in cases.CASES:
        if name == "functions":
            continue
        losses = stored[f"{name}/result/losses"]
        assert len(losses) >= 20, name
        assert losses[-1] < losses[0], name
