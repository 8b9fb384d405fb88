"""Code written from PyTorch habit: the behaviours of issue 14 that do not need the engine core.

PyTorch's own behaviour (torch 2.13) is recorded in the comments and literals; no torch import.
"""
import inspect

import numpy as np
import pytest

import tinygrad_edu.optim as optim
from tinygrad_edu import Tensor, no_grad

OPTIMIZERS = sorted((cls for _, cls in inspect.getmembers(optim, inspect.isclass)
                     if issubclass(cls, optim.Optimizer) and cls is not optim.Optimizer), key=lambda cls: cls.__name__)


@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=lambda cls: cls.__name__)
def test_optimizer_rejects_a_non_leaf_tensor_as_pytorch_does(optimizer):
    leaf = Tensor([1.0, 2.0], requires_grad=True)
    computed = leaf * 2.0
    assert not computed.is_leaf
    # torch.optim.SGD([x * 2], lr=0.1) -> ValueError: can't optimize a non-leaf Tensor
    with pytest.raises(ValueError, match=r"^can't optimize a non-leaf Tensor \(item 1 was computed"):
        optimizer([leaf, computed], lr=0.1)


@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=lambda cls: cls.__name__)
def test_optimizer_accepts_leaves_that_do_not_require_grad(optimizer):
    with no_grad():
        made_without_graph = Tensor([1.0]) * 2.0  # a leaf, as in PyTorch
    optimizer([Tensor(np.ones(2), requires_grad=True), made_without_graph], lr=0.1)
