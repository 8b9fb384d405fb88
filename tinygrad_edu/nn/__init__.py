"""Neural-network building blocks: `Module`, layers, `functional` and `init`.

>>> import tinygrad_edu.nn as nn
>>> model = nn.MLP([2, 16, 1], activation="tanh")
>>> [name for name, _ in model.named_parameters()]
['layers.0.weight', 'layers.0.bias', 'layers.2.weight', 'layers.2.bias']
"""
from tinygrad_edu.nn import functional, init
from tinygrad_edu.nn.layers import (
    GELU,
    MLP,
    AvgPool2d,
    BatchNorm1d,
    Conv2d,
    Dropout,
    Flatten,
    Identity,
    Lambda,
    LeakyReLU,
    Linear,
    MaxPool2d,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
)
from tinygrad_edu.nn.module import (
    CheckpointError,
    IncompatibleKeys,
    Module,
    Parameter,
    StateDictKeyError,
)

__all__ = [
    "GELU",
    "MLP",
    "AvgPool2d",
    "BatchNorm1d",
    "CheckpointError",
    "Conv2d",
    "Dropout",
    "Flatten",
    "Identity",
    "IncompatibleKeys",
    "Lambda",
    "LeakyReLU",
    "Linear",
    "MaxPool2d",
    "Module",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "StateDictKeyError",
    "Tanh",
    "functional",
    "init",
]
