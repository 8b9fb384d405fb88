"""All the layers in one import, for code written before they were split into files by concern.

Parameters are float32 and initialised as PyTorch does (`model.to(np.float64)`
casts a model). Every layer starts in training mode. The layers live in:

- `nn.linear`: Linear, Identity, Flatten
- `nn.conv`: Conv2d, MaxPool2d, AvgPool2d
- `nn.normalization`: BatchNorm1d, BatchNorm2d, LayerNorm, Dropout
- `nn.embedding`: Embedding
- `nn.activation`: ReLU, Sigmoid, Tanh, GELU, ELU, Mish, ... and Softmax, LogSoftmax
- `nn.container`: Sequential, ModuleList, ModuleDict, Lambda
- `nn.mlp`: MLP

`tinygrad_edu.nn.layers.Linear` and `tinygrad_edu.nn.Linear` are the same class.
"""
from tinygrad_edu.nn.activation import (
    ELU,
    GELU,
    SELU,
    Hardsigmoid,
    Hardswish,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Softsign,
    Tanh,
)
from tinygrad_edu.nn.container import Lambda, ModuleDict, ModuleList, Sequential
from tinygrad_edu.nn.conv import AvgPool2d, Conv2d, MaxPool2d
from tinygrad_edu.nn.embedding import Embedding
from tinygrad_edu.nn.linear import Flatten, Identity, Linear
from tinygrad_edu.nn.mlp import MLP
from tinygrad_edu.nn.normalization import BatchNorm1d, BatchNorm2d, Dropout, LayerNorm

__all__ = [
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "Dropout",
    "ELU",
    "Embedding",
    "Flatten",
    "GELU",
    "Hardsigmoid",
    "Hardswish",
    "Identity",
    "Lambda",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSigmoid",
    "LogSoftmax",
    "MLP",
    "MaxPool2d",
    "Mish",
    "ModuleDict",
    "ModuleList",
    "ReLU",
    "ReLU6",
    "SELU",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Softsign",
    "Tanh",
]
