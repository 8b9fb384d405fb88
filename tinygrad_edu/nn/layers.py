"""Layers: Linear, Conv2d, BatchNorm1d, Dropout, activations, containers, MLP.

Parameters are float32 and initialised as PyTorch does (`model.to(np.float64)`
casts a model). Every layer starts in training mode.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from tinygrad_edu.nn import functional as F  # noqa: N812 (the PyTorch convention)
from tinygrad_edu.nn import init
from tinygrad_edu.nn.module import Module
from tinygrad_edu.tensor import Tensor

__all__ = [
    "AvgPool2d", "BatchNorm1d", "Conv2d", "Dropout", "Flatten", "GELU", "Identity", "Lambda", "LeakyReLU",
    "Linear", "MLP", "MaxPool2d", "ReLU", "Sequential", "Sigmoid", "Softmax", "Softplus", "Tanh"
]

_DEFAULT_DTYPE = np.float32


def _empty_parameter(*shape: int) -> Tensor:
    """An uninitialised float32 parameter; the caller fills it in place with `init`."""
    return Tensor(np.zeros(shape, dtype=_DEFAULT_DTYPE), requires_grad=True)


def _as_tensor(x: Any) -> Tensor:
    """The input as a Tensor; a floating ndarray is wrapped without a copy (layers never write to their input)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return Tensor._make(x, None, False)
    return Tensor(x)


def _check_sizes(layer: Module, **sizes: Any) -> None:
    for name, size in sizes.items():
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size <= 0:
            raise ValueError(f"{type(layer).__name__}: {name} must be a positive int, got {size!r}")


def _pytorch_default_init(weight: Tensor, bias: Tensor | None) -> None:
    """Linear/Conv default: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
    i.e. kaiming_uniform with a = sqrt(5)."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init.calculate_fan_in_and_fan_out(weight)
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        init.uniform_(bias, -bound, bound)


class Linear(Module):
    """y = x @ weight.T + bias, with weight of shape (out_features, in_features).

    >>> import tinygrad_edu as tg
    >>> layer = Linear(3, 2)
    >>> layer(tg.Tensor.ones(4, 3)).shape
    (4, 2)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        _check_sizes(self, in_features=in_features, out_features=out_features)
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.weight = _empty_parameter(self.out_features, self.in_features)
        self.bias = _empty_parameter(self.out_features) if bias else None
        _pytorch_default_init(self.weight, self.bias)

    def forward(self, x: Any) -> Tensor:
        """Apply the affine map to the last axis of `x`."""
        x = _as_tensor(x)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"{self!r} expects inputs whose last axis has {self.in_features} features, "
                f"got input of shape {x.shape} ({x.shape[-1] if x.ndim else 'a scalar'} features)")
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Conv2d(Module):
    """2-D convolution on NCHW input; weight (out_channels, in_channels, kh, kw).

    PyTorch's default initialisation (as Linear, with fan_in = in_channels * kh * kw).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int = 1, padding: int = 0, bias: bool = True) -> None:
        super().__init__()
        _check_sizes(self, in_channels=in_channels, out_channels=out_channels)
        kernel = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size, self.stride, self.padding = kernel, stride, padding
        self.weight = _empty_parameter(self.out_channels, self.in_channels, *kernel)
        self.bias = _empty_parameter(self.out_channels) if bias else None
        _pytorch_default_init(self.weight, self.bias)

    def forward(self, x: Any) -> Tensor:
        """Convolve a batch of images of shape (N, in_channels, H, W)."""
        x = _as_tensor(x)
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"{self!r} expects input of shape (N, {self.in_channels}, H, W), got {x.shape}")
        return x.conv2d(self.weight, self.bias, stride=self.stride, padding=self.padding)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, bias={self.bias is not None}")


class MaxPool2d(Module):
    """Max pooling over (kernel_size x kernel_size) windows; stride defaults to kernel_size."""

    def __init__(self, kernel_size: int, stride: int | None = None) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride

    def forward(self, x: Tensor) -> Tensor:
        """Pool an NCHW batch."""
        return x.max_pool2d(self.kernel_size, self.stride)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class AvgPool2d(MaxPool2d):
    """Average pooling over (kernel_size x kernel_size) windows; stride defaults to kernel_size."""

    def forward(self, x: Tensor) -> Tensor:
        """Pool an NCHW batch."""
        return x.avg_pool2d(self.kernel_size, self.stride)


class Flatten(Module):
    """Flatten every axis from `start_dim` on; the default keeps the batch axis."""

    def __init__(self, start_dim: int = 1) -> None:
        super().__init__()
        self.start_dim = start_dim

    def forward(self, x: Tensor) -> Tensor:
        """(N, C, H, W) -> (N, C*H*W) with the default start_dim=1."""
        return x.flatten(self.start_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}"


class BatchNorm1d(Module):
    """Batch normalisation over (N, C) or (N, C, L) input, as PyTorch defines it.

    Training: normalise with the batch mean and the *biased* variance, then
    update the running statistics (outside the graph) with
    `running = (1 - momentum) * running + momentum * batch_stat`, using the
    *unbiased* variance for `running_var`. Evaluation: normalise with the
    running statistics. `momentum=None` uses a cumulative average instead.
    Parameters: `weight` (ones) and `bias` (zeros); buffers: `running_mean`,
    `running_var`, `num_batches_tracked`.
    """

    running_mean: Tensor
    running_var: Tensor
    num_batches_tracked: Tensor

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), momentum
        self.track_running_stats = track_running_stats
        self.weight = Tensor(np.ones(num_features, _DEFAULT_DTYPE), requires_grad=True) if affine else None
        self.bias = Tensor(np.zeros(num_features, _DEFAULT_DTYPE), requires_grad=True) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, _DEFAULT_DTYPE)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, _DEFAULT_DTYPE)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64), dtype=np.int64))

    def forward(self, x: Any) -> Tensor:
        """Normalise each channel (axis 1) of `x`."""
        x = _as_tensor(x)
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise ValueError(f"{self!r} expects input of shape (N, {self.num_features}) or "
                             f"(N, {self.num_features}, L), got {x.shape}")
        axes = (0,) if x.ndim == 2 else (0, 2)
        channel_shape = (1, self.num_features) if x.ndim == 2 else (1, self.num_features, 1)
        use_batch_stats = self.training or not self.track_running_stats
        if use_batch_stats:
            count = x.data.size // self.num_features
            if self.training and count <= 1:
                raise ValueError(f"{self!r}: expected more than 1 value per channel when training, got input {x.shape}")
            mean = x.mean(axis=axes, keepdim=True)
            centered = x - mean
            variance = (centered * centered).mean(axis=axes, keepdim=True)   # biased, as PyTorch normalises
            if self.training and self.track_running_stats:
                self._update_running_stats(mean.data.reshape(-1), variance.data.reshape(-1), count)
            normalized = centered / (variance + self.eps).sqrt()
        else:
            mean = self.running_mean.data.reshape(channel_shape)
            scale = 1.0 / np.sqrt(self.running_var.data.reshape(channel_shape) + self.eps)
            normalized = (x - mean.astype(x.dtype, copy=False)) * scale.astype(x.dtype, copy=False)
        if self.weight is not None and self.bias is not None:
            normalized = normalized * self.weight.reshape(channel_shape) + self.bias.reshape(channel_shape)
        return normalized

    def _update_running_stats(self, batch_mean: np.ndarray, batch_var: np.ndarray, count: int) -> None:
        """Runs on plain arrays: the running statistics are not part of the graph."""
        self.num_batches_tracked.data[...] += 1
        factor = 1.0 / float(self.num_batches_tracked.data) if self.momentum is None else float(self.momentum)
        unbiased_var = batch_var * (count / (count - 1))
        self.running_mean.data[...] = (1.0 - factor) * self.running_mean.data + factor * batch_mean
        self.running_var.data[...] = (1.0 - factor) * self.running_var.data + factor * unbiased_var

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class Dropout(Module):
    """Inverted dropout with probability `p` in training mode; the identity in eval mode."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout probability must be in [0, 1], got {p}")
        self.p = float(p)

    def forward(self, x: Any) -> Tensor:
        """Drop (and rescale) in training, pass through in evaluation."""
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class ReLU(Module):
    """max(x, 0)."""

    def forward(self, x: Any) -> Tensor:
        """Apply elementwise."""
        return F.relu(x)


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x otherwise."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: Any) -> Tensor:
        """Apply elementwise."""
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """1 / (1 + exp(-x))."""

    def forward(self, x: Any) -> Tensor:
        """Apply elementwise."""
        return F.sigmoid(x)


class Tanh(Module):
    """Hyperbolic tangent."""

    def forward(self, x: Any) -> Tensor:
        """Apply elementwise."""
        return F.tanh(x)


class GELU(Module):
    """Gaussian error linear unit (the form `Tensor.gelu` documents)."""

    def forward(self, x: Any) -> Tensor:
        """Apply elementwise."""
        return F.gelu(x)


class Softplus(Module):
    """log(1 + exp(x))."""

    def forward(self, x: Any) -> Tensor:
        """Apply elementwise."""
        return F.softplus(x)


class Softmax(Module):
    """Softmax along `axis` (default the last)."""

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = axis

    def forward(self, x: Any) -> Tensor:
        """Normalise to probabilities along the axis."""
        return F.softmax(x, self.axis)


class Identity(Module):
    """Returns its input."""

    def forward(self, x: Any) -> Any:
        """Return x unchanged."""
        return x


class Lambda(Module):
    """Wrap a plain function (e.g. `F.relu`) as a module."""

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: Any) -> Any:
        """Return fn(x)."""
        return self.fn(x)

    def extra_repr(self) -> str:
        return getattr(self.fn, "__name__", repr(self.fn))


class Sequential(Module):
    """Apply modules in order; indexable, iterable, and named "0", "1", ... in state dicts.

    >>> model = Sequential(Linear(2, 8), ReLU(), Linear(8, 1))
    >>> [name for name, _ in model.named_parameters()]
    ['0.weight', '0.bias', '2.weight', '2.bias']
    """

    def __init__(self, *layers: Module) -> None:
        super().__init__()
        self._length = 0
        for layer in layers:
            self.append(layer)

    def append(self, layer: Module) -> Sequential:
        """Add a module at the end; return self."""
        if not isinstance(layer, Module):
            raise TypeError(f"Sequential takes Modules, got {type(layer).__name__} at position {self._length}; "
                            "wrap a function with nn.Lambda(fn)")
        setattr(self, str(self._length), layer)
        self._length += 1
        return self

    def forward(self, x: Any) -> Any:
        """Feed x through every layer in turn."""
        for layer in self:
            x = layer(x)
        return x

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[Module]:
        return (getattr(self, str(index)) for index in range(self._length))

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return Sequential(*list(self)[index])
        if not -self._length <= index < self._length:
            raise IndexError(f"index {index} is out of range for a Sequential of length {self._length}")
        return getattr(self, str(index % self._length))


_ACTIVATIONS: dict[str, type[Module]] = {
    "relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh, "leaky_relu": LeakyReLU, "gelu": GELU,
    "softplus": Softplus, "identity": Identity, "linear": Identity,
}


def _activation_module(activation: Any, argument: str) -> Module:
    """Turn a name, Module class, Module instance or function into a Module."""
    if isinstance(activation, str):
        try:
            return _ACTIVATIONS[activation.lower()]()
        except KeyError:
            raise ValueError(f"MLP: unknown {argument} {activation!r}; choose one of {sorted(_ACTIVATIONS)}, "
                             "or pass a Module or a function") from None
    if isinstance(activation, type) and issubclass(activation, Module):
        return activation()
    if isinstance(activation, Module):
        return activation
    if callable(activation):
        return Lambda(activation)
    raise TypeError(f"MLP: {argument} must be a name, a Module or a function, got {type(activation).__name__}")


class MLP(Module):
    """A multilayer perceptron: Linear layers of the given sizes with activations between.

    `sizes=[2, 16, 16, 1]` builds Linear(2, 16), act, Linear(16, 16), act,
    Linear(16, 1) and then `output_activation` if given. `activation` is a name
    ("relu", "sigmoid", "tanh", "leaky_relu", "gelu"), a Module, a function,
    or None for no activation (a purely linear network).
    The layers live in `self.layers` (a Sequential), so parameters are named
    `layers.0.weight`, `layers.0.bias`, `layers.2.weight`, ...

    >>> [name for name, _ in MLP([2, 3, 1]).named_parameters()]
    ['layers.0.weight', 'layers.0.bias', 'layers.2.weight', 'layers.2.bias']
    """

    def __init__(self, sizes: Sequence[int], activation: Any = "relu", output_activation: Any = None) -> None:
        super().__init__()
        sizes = [int(size) for size in sizes]
        if len(sizes) < 2 or any(size <= 0 for size in sizes):
            raise ValueError(f"MLP needs at least two positive layer sizes (inputs, outputs), got {sizes}")
        self.sizes = sizes
        self.layers = Sequential()
        for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            self.layers.append(Linear(fan_in, fan_out))
            if index < len(sizes) - 2 and activation is not None:
                self.layers.append(_activation_module(activation, "activation"))
        if output_activation is not None:
            self.layers.append(_activation_module(output_activation, "output_activation"))

    def forward(self, x: Any) -> Any:
        """Run the network."""
        return self.layers(x)
