"""Layers given impossible configurations or non-Tensor inputs raise errors naming what was wrong.

PyTorch (2.13) for reference: negative sizes raise RuntimeError ("Trying to create tensor with negative
dimension"), zero sizes and a zero kernel are accepted with a warning, `Dropout(1.5)` raises ValueError
"dropout probability has to be between 0 and 1, but got 1.5", a kernel larger than the padded input raises
at forward time, and a layer given a numpy array raises TypeError ("linear(): argument 'input' (position 1)
must be Tensor, not numpy.ndarray"). Here every impossible size raises ValueError at construction.
"""
import math

import numpy as np
import pytest

import tinygrad_edu.nn as nn
from tinygrad_edu import Tensor


@pytest.mark.parametrize("make, message", [
    (lambda: nn.Conv2d(1, 1, 0), "Conv2d: kernel_size must be a positive int or a pair of them, got 0"),
    (lambda: nn.Conv2d(1, 1, (3, 0)), r"Conv2d: kernel_size must be a positive int .*got \(3, 0\)"),
    (lambda: nn.Conv2d(1, 1, (3,)), r"Conv2d: kernel_size must be .*got \(3,\)"),
    (lambda: nn.Conv2d(1, 1, 2.5), "Conv2d: kernel_size must be .*got 2.5"),
    (lambda: nn.Conv2d(1, 1, 3, stride=0), "Conv2d: stride must be a positive int or a pair of them, got 0"),
    (lambda: nn.Conv2d(1, 1, 3, stride=(1, -2)), r"Conv2d: stride must be .*got \(1, -2\)"),
    (lambda: nn.Conv2d(1, 1, 3, padding=-1), "Conv2d: padding must be an int >= 0 or a pair of them, got -1"),
    (lambda: nn.Conv2d(1, 1, 3, padding=(1, 1, 1)), r"Conv2d: padding must be .*got \(1, 1, 1\)"),
    (lambda: nn.Conv2d(0, 1, 3), "Conv2d: in_channels must be a positive int, got 0"),
    (lambda: nn.Linear(-1, 2), "Linear: in_features must be a positive int, got -1"),
    (lambda: nn.BatchNorm1d(0), "BatchNorm1d: num_features must be a positive int, got 0"),
    (lambda: nn.BatchNorm1d(-2), "BatchNorm1d: num_features must be a positive int, got -2"),
    (lambda: nn.BatchNorm1d(2.5), "BatchNorm1d: num_features must be a positive int, got 2.5"),
    (lambda: nn.Dropout(1.5), "Dropout: dropout probability p has to be between 0 and 1, but got 1.5"),
    (lambda: nn.Dropout(-0.1), "Dropout: dropout probability p has to be between 0 and 1, but got -0.1"),
    (lambda: nn.Dropout(math.nan), "Dropout: dropout probability p has to be between 0 and 1, but got nan"),
    (lambda: nn.MaxPool2d(0), "MaxPool2d: kernel_size must be a positive int or a pair of them, got 0"),
    (lambda: nn.MaxPool2d(2, stride=0), "MaxPool2d: stride must be a positive int or a pair of them, got 0"),
    (lambda: nn.AvgPool2d(-1), "AvgPool2d: kernel_size must be a positive int or a pair of them, got -1"),
    (lambda: nn.MLP([2, 2.5]), r"MLP: sizes must be ints .*got \[2, 2.5\]"),
    (lambda: nn.MLP([2, 0, 1]), r"MLP needs at least two positive layer sizes .*got \[2, 0, 1\]"),
])
def test_impossible_layer_configuration_raises_value_error_naming_argument_and_value(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_dropout_probability_that_is_not_a_number_raises_type_error():
    with pytest.raises(TypeError, match="Dropout: p must be a number between 0 and 1, got str"):
        nn.Dropout("0.5")


def test_conv2d_kernel_larger_than_the_padded_input_raises_at_forward_naming_the_sizes():
    layer = nn.Conv2d(1, 1, 5)
    with pytest.raises(ValueError, match=r"Conv2d: kernel_size \(5, 5\) is larger than the padded input "
                                         r"\(3 x 3: input \(1, 1, 3, 3\) with padding 0\)"):
        layer(Tensor.ones(1, 1, 3, 3))


def test_conv2d_kernel_fitting_only_thanks_to_padding_works():
    assert nn.Conv2d(1, 1, 5, padding=1)(Tensor.ones(1, 1, 3, 3)).shape == (1, 1, 1, 1)


def test_conv2d_takes_pairs_for_kernel_stride_and_padding():
    # torch.nn.Conv2d(1, 1, (3, 2), stride=(1, 2), padding=(1, 0))(torch.ones(1, 1, 5, 5)).shape == (1, 1, 5, 2)
    layer = nn.Conv2d(1, 1, (3, 2), stride=(1, 2), padding=(1, 0))
    assert layer(Tensor.ones(1, 1, 5, 5)).shape == (1, 1, 5, 2)


LAYERS_AND_INPUTS = [
    (nn.Linear(3, 2), (1, 3)), (nn.Conv2d(1, 1, 1), (1, 1, 2, 2)), (nn.BatchNorm1d(3), (2, 3)),
    (nn.Dropout(), (2, 3)), (nn.MaxPool2d(2), (1, 1, 2, 2)), (nn.AvgPool2d(2), (1, 1, 2, 2)),
    (nn.Flatten(), (1, 1, 2, 2)), (nn.ReLU(), (2,)), (nn.LeakyReLU(), (2,)), (nn.Sigmoid(), (2,)),
    (nn.Tanh(), (2,)), (nn.GELU(), (2,)), (nn.Softplus(), (2,)), (nn.Softmax(), (2,)), (nn.MLP([3, 2]), (1, 3)),
    (nn.ELU(), (2,)), (nn.SELU(), (2,)), (nn.Mish(), (2,)), (nn.Hardswish(), (2,)), (nn.Hardsigmoid(), (2,)),
    (nn.ReLU6(), (2,)), (nn.LogSigmoid(), (2,)), (nn.Softsign(), (2,)), (nn.LogSoftmax(), (2,)),
]


@pytest.mark.parametrize("layer, shape", LAYERS_AND_INPUTS, ids=lambda v: type(v).__name__ if isinstance(v, nn.Module) else "")
def test_layer_given_a_numpy_array_raises_type_error_saying_to_wrap_it(layer, shape):
    # as PyTorch: nn.Linear(3, 2)(np.ones((1, 3))) -> TypeError: ... must be Tensor, not numpy.ndarray
    name = type(layer).__name__
    with pytest.raises(TypeError, match=rf"^{name} expects a Tensor as input, got a numpy.ndarray of dtype float32; "
                                        r"wrap the data first, e.g. Tensor\(x, dtype=np.float32\)"):
        layer(np.ones(shape, dtype=np.float32))


@pytest.mark.parametrize("layer, shape", LAYERS_AND_INPUTS, ids=lambda v: type(v).__name__ if isinstance(v, nn.Module) else "")
def test_the_same_layer_given_a_tensor_works(layer, shape):
    assert layer(Tensor(np.ones(shape, dtype=np.float32))).dtype == np.float32


def test_layer_given_a_list_raises_type_error():
    with pytest.raises(TypeError, match="Linear expects a Tensor as input, got a list"):
        nn.Linear(3, 2)([[1.0, 2.0, 3.0]])
