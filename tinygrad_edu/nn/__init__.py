"""Neural-network building blocks: `Module`, layers, `functional` and `init`.

>>> import tinygrad_edu.nn as nn
>>> model = nn.MLP([2, 16, 1], activation="tanh")
>>> [name for name, _ in model.named_parameters()]
['layers.0.weight', 'layers.0.bias', 'layers.2.weight', 'layers.2.bias']
"""
from tinygrad_edu.nn import functional, init, utils
from tinygrad_edu.nn.layers import (
    GELU,
    MLP,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Embedding,
    Flatten,
    Identity,
    Lambda,
    LayerNorm,
    LeakyReLU,
    Linear,
    MaxPool2d,
    ModuleDict,
    ModuleList,
    ReLU,
    Sequential,
    Sigmoid,
    SiLU,
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
    "BatchNorm2d",
    "CheckpointError",
    "Conv2d",
    "Dropout",
    "Embedding",
    "Flatten",
    "Identity",
    "IncompatibleKeys",
    "Lambda",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "MaxPool2d",
    "Module",
    "ModuleDict",
    "ModuleList",
    "Parameter",
    "ReLU",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "StateDictKeyError",
    "Tanh",
    "functional",
    "init",
    "utils",
]
