"""Layers: Linear, Conv2d, BatchNorm, LayerNorm, Embedding, Dropout, activations, containers, MLP.

Parameters are float32 and initialised as PyTorch does (`model.to(np.float64)`
casts a model). Every layer starts in training mode.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from tinygrad_edu.checks import torch_names
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


def _as_tensor(x: Any, layer: Module | None = None) -> Tensor:
    """The layer's input, which must be a Tensor: as in PyTorch, arrays and lists raise `TypeError`.

    Wrapping silently would hide where the data's dtype is chosen (a float64
    array would make a float32 model compute in float64) and would accept
    some inputs in some layers only.
    """
    if isinstance(x, Tensor):
        return x
    name = type(layer).__name__ if layer is not None else "this layer"
    kind = f"numpy.ndarray of dtype {x.dtype}" if isinstance(x, np.ndarray) else type(x).__name__
    raise TypeError(f"{name} expects a Tensor as input, got a {kind}; wrap the data first, e.g. "
                    "Tensor(x, dtype=np.float32) to match float32 weights")


def _check_sizes(layer: Module, **sizes: Any) -> None:
    for name, size in sizes.items():
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size <= 0:
            raise ValueError(f"{type(layer).__name__}: {name} must be a positive int, got {size!r}")


def _check_pair(layer: Module, name: str, value: Any, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints, each >= minimum, as a pair; else `ValueError` naming the layer and argument."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else value
    try:
        pair = tuple(pair)
    except TypeError:
        pair = ()
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum
                             for v in pair):
        wanted = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise ValueError(f"{type(layer).__name__}: {name} must be {wanted} or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


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
        x = _as_tensor(x, self)
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
                 stride: int = 1, padding: int = 0, bias: bool = True, groups: int = 1) -> None:
        super().__init__()
        _check_sizes(self, in_channels=in_channels, out_channels=out_channels)
        kernel = _check_pair(self, "kernel_size", kernel_size, minimum=1)
        _check_pair(self, "stride", stride, minimum=1)
        _check_pair(self, "padding", padding, minimum=0)
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size, self.stride, self.padding = kernel, stride, padding
        self.groups = _check_groups(self, groups, self.in_channels, self.out_channels)
        self.weight = _empty_parameter(self.out_channels, self.in_channels // self.groups, *kernel)
        self.bias = _empty_parameter(self.out_channels) if bias else None
        _pytorch_default_init(self.weight, self.bias)

    def forward(self, x: Any) -> Tensor:
        """Convolve a batch of images of shape (N, in_channels, H, W)."""
        x = _as_tensor(x, self)
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"{self!r} expects input of shape (N, {self.in_channels}, H, W), got {x.shape}")
        pad_h, pad_w = _check_pair(self, "padding", self.padding, minimum=0)
        padded = (x.shape[2] + 2 * pad_h, x.shape[3] + 2 * pad_w)
        if self.kernel_size[0] > padded[0] or self.kernel_size[1] > padded[1]:
            raise ValueError(f"Conv2d: kernel_size {self.kernel_size} is larger than the padded input "
                             f"({padded[0]} x {padded[1]}: input {x.shape} with padding {self.padding})")
        if self.groups == 1:
            return x.conv2d(self.weight, self.bias, stride=self.stride, padding=self.padding)
        # Grouped: group g convolves input channels [g*ci, (g+1)*ci) with output filters [g*co, (g+1)*co).
        inputs_per_group, outputs_per_group = self.in_channels // self.groups, self.out_channels // self.groups
        outputs = []
        for group in range(self.groups):
            channels = slice(group * inputs_per_group, (group + 1) * inputs_per_group)
            filters = slice(group * outputs_per_group, (group + 1) * outputs_per_group)
            bias = self.bias[filters] if self.bias is not None else None
            outputs.append(x[:, channels].conv2d(self.weight[filters], bias, stride=self.stride, padding=self.padding))
        return Tensor.cat(outputs, axis=1)

    def extra_repr(self) -> str:
        groups = f", groups={self.groups}" if self.groups != 1 else ""
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}{groups}, bias={self.bias is not None}")


def _check_groups(layer: Module, groups: Any, in_channels: int, out_channels: int) -> int:
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups <= 0:
        raise ValueError(f"{type(layer).__name__}: groups must be a positive int, got {groups!r}")
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"{type(layer).__name__}: in_channels ({in_channels}) and out_channels ({out_channels}) "
                         f"must both be divisible by groups ({groups})")
    return int(groups)


class MaxPool2d(Module):
    """Max pooling over (kernel_size x kernel_size) windows; stride defaults to kernel_size."""

    def __init__(self, kernel_size: int, stride: int | None = None) -> None:
        super().__init__()
        _check_pair(self, "kernel_size", kernel_size, minimum=1)
        if stride is not None:
            _check_pair(self, "stride", stride, minimum=1)
        self.kernel_size, self.stride = kernel_size, stride

    def forward(self, x: Tensor) -> Tensor:
        """Pool an NCHW batch."""
        return _as_tensor(x, self).max_pool2d(self.kernel_size, self.stride)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class AvgPool2d(MaxPool2d):
    """Average pooling over (kernel_size x kernel_size) windows; stride defaults to kernel_size."""

    def forward(self, x: Tensor) -> Tensor:
        """Pool an NCHW batch."""
        return _as_tensor(x, self).avg_pool2d(self.kernel_size, self.stride)


class Flatten(Module):
    """Flatten every axis from `start_dim` on; the default keeps the batch axis."""

    def __init__(self, start_dim: int = 1) -> None:
        super().__init__()
        self.start_dim = start_dim

    def forward(self, x: Tensor) -> Tensor:
        """(N, C, H, W) -> (N, C*H*W) with the default start_dim=1."""
        return _as_tensor(x, self).flatten(self.start_dim)

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
        _check_sizes(self, num_features=num_features)
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), momentum
        self.track_running_stats = track_running_stats
        self.weight = Tensor(np.ones(num_features, _DEFAULT_DTYPE), requires_grad=True) if affine else None
        self.bias = Tensor(np.zeros(num_features, _DEFAULT_DTYPE), requires_grad=True) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, _DEFAULT_DTYPE)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, _DEFAULT_DTYPE)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64), dtype=np.int64))

    # The input layouts this class accepts (BatchNorm2d: NCHW), and how its error message names them.
    _input_ndims: tuple[int, ...] = (2, 3)
    _input_layouts = "(N, {C}) or (N, {C}, L)"

    def forward(self, x: Any) -> Tensor:
        """Normalise each channel (axis 1) of `x`."""
        x = _as_tensor(x, self)
        if x.ndim not in self._input_ndims or x.shape[1] != self.num_features:
            raise ValueError(f"{self!r} expects input of shape {self._input_layouts.format(C=self.num_features)}, "
                             f"got {x.shape}")
        axes = (0,) + tuple(range(2, x.ndim))
        channel_shape = (1, self.num_features) + (1,) * (x.ndim - 2)
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
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.weight is not None}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class Dropout(Module):
    """Inverted dropout with probability `p` in training mode; the identity in eval mode."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
            raise TypeError(f"Dropout: p must be a number between 0 and 1, got {type(p).__name__}")
        if not 0.0 <= p <= 1.0:  # PyTorch's wording
            raise ValueError(f"Dropout: dropout probability p has to be between 0 and 1, but got {p}")
        self.p = float(p)

    def forward(self, x: Any) -> Tensor:
        """Drop (and rescale) in training, pass through in evaluation."""
        return F.dropout(_as_tensor(x, self), self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class ReLU(Module):
    """max(x, 0)."""

    def forward(self, x: Any) -> Tensor:
        """Apply elementwise."""
        return F.relu(_as_tensor(x, self))


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x otherwise."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: Any) -> Tensor:
        """Apply elementwise."""
        return F.leaky_relu(_as_tensor(x, self), self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """1 / (1 + exp(-x))."""

    def forward(self, x: Any) -> Tensor:
        """Apply elementwise."""
        return F.sigmoid(_as_tensor(x, self))


class Tanh(Module):
    """Hyperbolic tangent."""

    def forward(self, x: Any) -> Tensor:
        """Apply elementwise."""
        return F.tanh(_as_tensor(x, self))


class GELU(Module):
    """Gaussian error linear unit x * Phi(x): exact (erf) by default, or `approximate="tanh"` (see `F.gelu`)."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Any) -> Tensor:
        """Apply elementwise."""
        return F.gelu(_as_tensor(x, self), approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x * sigmoid(x) (swish)."""

    def forward(self, x: Any) -> Tensor:
        """Apply elementwise."""
        return F.silu(_as_tensor(x, self))


class Softplus(Module):
    """log(1 + exp(x))."""

    def forward(self, x: Any) -> Tensor:
        """Apply elementwise."""
        return F.softplus(_as_tensor(x, self))


class Softmax(Module):
    """Softmax along `axis` (default the last)."""

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = axis

    def forward(self, x: Any) -> Tensor:
        """Normalise to probabilities along the axis."""
        return F.softmax(_as_tensor(x, self), self.axis)


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
    "softplus": Softplus, "identity": Identity, "linear": Identity, "silu": SiLU,
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
        sizes = list(sizes)
        if any(isinstance(size, bool) or not isinstance(size, (int, np.integer)) for size in sizes):
            raise ValueError(f"MLP: sizes must be ints (inputs, hidden sizes..., outputs), got {sizes}")
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
        return self.layers(_as_tensor(x, self))


class BatchNorm2d(BatchNorm1d):
    """Batch normalisation of NCHW images, one mean and variance per channel over (N, H, W).

    The same rules as `BatchNorm1d` (biased variance to normalise, unbiased in
    `running_var`, `momentum=None` for a cumulative average).
    """

    _input_ndims = (4,)
    _input_layouts = "(N, {C}, H, W)"


class LayerNorm(Module):
    """Normalise over the last axes given by `normalized_shape`, then scale by `weight` and shift by `bias`.

    `weight` starts at ones and `bias` at zeros (float32); with
    `elementwise_affine=False` there are neither (and `bias=False` drops only
    the shift), as in PyTorch. See `F.layer_norm`.

    >>> import tinygrad_edu as tg
    >>> LayerNorm(4)(tg.Tensor.randn(2, 4)).shape
    (2, 4)
    """

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True) -> None:
        super().__init__()
        self.normalized_shape = F._normalized_shape("LayerNorm", normalized_shape)
        self.eps, self.elementwise_affine = float(eps), bool(elementwise_affine)
        affine = self.elementwise_affine
        self.weight = Tensor(np.ones(self.normalized_shape, _DEFAULT_DTYPE), requires_grad=True) if affine else None
        self.bias = (Tensor(np.zeros(self.normalized_shape, _DEFAULT_DTYPE), requires_grad=True)
                     if affine and bias else None)

    def forward(self, x: Any) -> Tensor:
        """Normalise `x`, whose shape must end in `normalized_shape`."""
        return F.layer_norm(_as_tensor(x, self), self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class Embedding(Module):
    """A lookup table: row i of `weight` (num_embeddings, embedding_dim) is the vector of index i.

    `weight` starts as N(0, 1) samples (PyTorch's initialisation), drawn from the
    generator `manual_seed` seeds. The input is integer indices of any shape;
    the output adds an axis of size `embedding_dim`.

    >>> import numpy as np
    >>> table = Embedding(27, 2)
    >>> table(np.array([[1, 2, 3]])).shape
    (1, 3, 2)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int) -> None:
        super().__init__()
        _check_sizes(self, num_embeddings=num_embeddings, embedding_dim=embedding_dim)
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        self.weight = _empty_parameter(self.num_embeddings, self.embedding_dim)
        init.normal_(self.weight)

    def forward(self, indices: Any) -> Tensor:
        """Look up the rows for `indices` (an integer Tensor, array or list)."""
        return F.embedding(indices, self.weight)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"


def _collapsed_child_lines(children: Sequence[tuple[str, Module]]) -> list[str]:
    """PyTorch's ModuleList printing: runs of equal reprs become `(0-1): 2 x Linear(...)`."""
    lines: list[str] = []
    index = 0
    while index < len(children):
        text = repr(children[index][1])
        end = index
        while end + 1 < len(children) and repr(children[end + 1][1]) == text:
            end += 1
        text = text.replace("\n", "\n  ")
        if end == index:
            lines.append(f"  ({children[index][0]}): {text}")
        else:
            lines.append(f"  ({children[index][0]}-{children[end][0]}): {end - index + 1} x {text}")
        index = end + 1
    return lines


class ModuleList(Module):
    """A list of modules whose parameters belong to the owner, named `<attribute>.0.weight`, ...

    Unlike Sequential it has no `forward`: the owner decides how to call them.

    >>> class Net(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.blocks = ModuleList([Linear(2, 2) for _ in range(2)])
    >>> [name for name, _ in Net().named_parameters()]
    ['blocks.0.weight', 'blocks.0.bias', 'blocks.1.weight', 'blocks.1.bias']
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        # The modules live only in attributes "0", "1", ... (a list attribute would be walked
        # first and name the parameters after it).
        self._length = 0
        if modules is not None:
            self.extend(modules)

    @staticmethod
    def _check(module: Any, position: int) -> Module:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList holds Modules, got {type(module).__name__} at position {position}")
        return module

    def _position(self, index: int) -> int:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"ModuleList indices must be integers or slices, got {type(index).__name__}")
        if not -self._length <= index < self._length:
            raise IndexError(f"index {index} is out of range for a ModuleList of length {self._length}")
        return int(index) % self._length

    def _reset(self, modules: list[Module]) -> None:
        """Store `modules` as attributes "0", "1", ... (the names state_dict uses)."""
        for index in range(self._length):
            delattr(self, str(index))
        self._length = 0
        for module in modules:
            self.append(module)

    def append(self, module: Module) -> ModuleList:
        """Add a module at the end; return self."""
        setattr(self, str(self._length), self._check(module, self._length))
        self._length += 1
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Append each module in turn; return self."""
        if isinstance(modules, Module) and not isinstance(modules, ModuleList):
            raise TypeError(f"ModuleList.extend takes an iterable of Modules, got a {type(modules).__name__}")
        for module in list(modules):
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert a module before position `index`."""
        modules = list(self)
        modules.insert(index, self._check(module, index))
        self._reset(modules)

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[Module]:
        return iter([getattr(self, str(index)) for index in range(self._length)])

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return ModuleList(list(self)[index])
        return getattr(self, str(self._position(index)))

    def __setitem__(self, index: int, module: Module) -> None:
        setattr(self, str(self._position(index)), self._check(module, index))

    def __delitem__(self, index: int | slice) -> None:
        modules = list(self)
        del modules[index if isinstance(index, slice) else self._position(index)]
        self._reset(modules)

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ModuleList has no forward(): iterate over it and call each module")

    def __repr__(self) -> str:
        children = [(str(index), module) for index, module in enumerate(self)]
        if not children:
            return "ModuleList()"
        return "\n".join(["ModuleList("] + _collapsed_child_lines(children) + [")"])


class ModuleDict(Module):
    """Modules by name, in insertion order; their parameters are named `<attribute>.<key>.weight`.

    Keys must be strings that are not already attributes of a Module (such as
    "forward" or "training") and contain no ".".

    >>> heads = ModuleDict({"mean": Linear(4, 1), "scale": Linear(4, 1)})
    >>> [name for name, _ in heads.named_parameters()]
    ['mean.weight', 'mean.bias', 'scale.weight', 'scale.bias']
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        super().__init__()
        self._keys: list[str] = []
        if modules is not None:
            self.update(modules)

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(key, str):
            raise TypeError(f"ModuleDict keys must be strings, got {type(key).__name__} {key!r}")
        if not key or "." in key:
            raise KeyError(f"ModuleDict key {key!r} must be a non-empty string without '.'")
        if key not in self._keys and hasattr(self, key):
            raise KeyError(f"ModuleDict key {key!r} clashes with an attribute of Module; choose another name")
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict holds Modules, got {type(module).__name__} for key {key!r}")
        setattr(self, key, module)
        if key not in self._keys:
            self._keys.append(key)

    def __getitem__(self, key: str) -> Module:
        if key not in self._keys:
            raise KeyError(f"ModuleDict has no key {key!r}; keys: {self._keys}")
        return getattr(self, key)

    def __delitem__(self, key: str) -> None:
        self[key]  # noqa: B018 (raises the KeyError above for a missing key)
        delattr(self, key)
        self._keys.remove(key)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._keys))

    def keys(self) -> list[str]:
        """The keys, in insertion order."""
        return list(self._keys)

    def values(self) -> list[Module]:
        """The modules, in insertion order."""
        return [getattr(self, key) for key in self._keys]

    def items(self) -> list[tuple[str, Module]]:
        """(key, module) pairs, in insertion order."""
        return [(key, getattr(self, key)) for key in self._keys]

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add or replace modules from a mapping or from (key, module) pairs."""
        pairs = modules.items() if isinstance(modules, (Mapping, ModuleDict)) else modules
        for key, module in pairs:
            self[key] = module

    def pop(self, key: str) -> Module:
        """Remove `key` and return its module."""
        module = self[key]
        del self[key]
        return module

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ModuleDict has no forward(): index it by key and call the module")


# nn.Softmax(dim=-1), PyTorch's spelling, as well as axis= (checks.torch_names).
Softmax.__init__ = torch_names(Softmax.__init__)  # type: ignore[method-assign]
