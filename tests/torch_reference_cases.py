"""Training runs written once, run on PyTorch (to record) and on tinygrad_edu (to test).

Each case is a function `case(lib, data)` that builds a small float64 model with
`lib.nn`, trains it for 20+ steps with `lib.optim` (and `lib.lr_scheduler`) and
returns what to compare: the loss of every step, the final `state_dict()`, the
learning rates, the clipped gradient norms. The code is the same for both
libraries because tinygrad_edu keeps PyTorch's names; only tensor creation and
conversion go through the small adaptors below.

`data(key, make)` supplies every input and initial weight (values rounded to
float32, so they are stored in half the bytes and read back exactly): the recorder
(`tools/record_torch_reference.py`) calls `make()` and stores the array, the
tests read it back from `tests/data/torch_reference.npz`, so both runs start
from exactly the same numbers and CI needs no PyTorch.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

STEPS = 24
BATCHES = 6  # distinct mini-batches, cycled (keeps the stored file small)


class TinygradLib:
    """tinygrad_edu behind the adaptor interface."""

    name = "tinygrad_edu"

    def __init__(self) -> None:
        import tinygrad_edu
        import tinygrad_edu.nn as nn
        import tinygrad_edu.nn.functional as F  # noqa: N812
        import tinygrad_edu.optim as optim
        from tinygrad_edu.optim import lr_scheduler

        self.nn, self.F, self.optim, self.lr_scheduler = nn, F, optim, lr_scheduler
        self._tensor_class = tinygrad_edu.Tensor
        self.clip_grad_norm_ = nn.utils.clip_grad_norm_

    def tensor(self, array: np.ndarray) -> Any:
        return self._tensor_class(np.asarray(array, dtype=np.float64))

    def indices(self, array: np.ndarray) -> Any:
        return self._tensor_class(np.asarray(array, dtype=np.int64), dtype=np.int64)

    def leaf(self, array: np.ndarray) -> Any:
        return self._tensor_class(np.asarray(array, dtype=np.float64), requires_grad=True)

    def numpy(self, tensor: Any) -> np.ndarray:
        return np.array(tensor.data, copy=True)

    def state_arrays(self, model: Any) -> dict[str, np.ndarray]:
        return model.state_dict()

    def load_arrays(self, model: Any, arrays: dict[str, np.ndarray]) -> None:
        model.double()
        model.load_state_dict(arrays)


class TorchLib:
    """PyTorch behind the same interface (used only by the recorder)."""

    name = "torch"

    def __init__(self) -> None:
        import torch

        torch.set_default_dtype(torch.float64)
        torch.set_num_threads(1)
        self.torch = torch
        self.nn, self.F, self.optim = torch.nn, torch.nn.functional, torch.optim
        self.lr_scheduler = torch.optim.lr_scheduler
        self.clip_grad_norm_ = torch.nn.utils.clip_grad_norm_

    def tensor(self, array: np.ndarray) -> Any:
        return self.torch.tensor(np.asarray(array, dtype=np.float64))

    def indices(self, array: np.ndarray) -> Any:
        return self.torch.tensor(np.asarray(array, dtype=np.int64))

    def leaf(self, array: np.ndarray) -> Any:
        return self.torch.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)

    def numpy(self, tensor: Any) -> np.ndarray:
        return tensor.detach().numpy().copy()

    def state_arrays(self, model: Any) -> dict[str, np.ndarray]:
        return {name: value.detach().numpy().copy() for name, value in model.state_dict().items()}

    def load_arrays(self, model: Any, arrays: dict[str, np.ndarray]) -> None:
        model.double()
        model.load_state_dict({name: self.torch.tensor(array) for name, array in arrays.items()})


Data = Callable[[str, Callable[[], np.ndarray]], np.ndarray]


def _initialise(lib: Any, model: Any, data: Data, scale: float = 0.5) -> None:
    """Give every parameter fixed N(0, scale^2) values (buffers keep their defaults)."""
    arrays = lib.state_arrays(model)
    parameter_names = [name for name, _ in model.named_parameters()]
    rng = np.random.default_rng(len(parameter_names))
    for name in parameter_names:
        shape = arrays[name].shape
        arrays[name] = data(f"initial/{name}", lambda shape=shape: rng.normal(0.0, scale, size=shape))
    lib.load_arrays(model, {name: np.asarray(array, dtype=np.float64) if np.asarray(array).dtype.kind == "f"
                            else array for name, array in arrays.items()})


def _train(lib: Any, model: Any, optimizer: Any, loss_of_step: Callable[[int], Any], steps: int = STEPS,
           scheduler: Any = None, after_backward: Callable[[int], None] | None = None,
           before_step: Callable[[int], None] | None = None) -> dict[str, np.ndarray]:
    losses, rates = [], []
    for step in range(steps):
        if before_step is not None:
            before_step(step)
        optimizer.zero_grad()
        loss = loss_of_step(step)
        loss.backward()
        if after_backward is not None:
            after_backward(step)
        optimizer.step()
        losses.append(float(loss.item()))
        if scheduler is not None:
            scheduler.step()
            rates.append(list(scheduler.get_last_lr()))
    result = {"losses": np.array(losses)}
    if rates:
        result["lrs"] = np.array(rates)
    for name, array in lib.state_arrays(model).items():
        result[f"final/{name}"] = np.asarray(array)
    return result


# ----- models ----------------------------------------------------------------------
def _char_mlp(lib: Any, vocab: int = 11, context: int = 3, embed: int = 4, hidden: int = 16,
              approximate: str = "none") -> Any:
    nn = lib.nn

    class CharMLP(nn.Module):
        """makemore's MLP: embed a 3-character context, then Linear, LayerNorm, GELU, Linear."""

        def __init__(self) -> None:
            super().__init__()
            self.embedding = nn.Embedding(vocab, embed)
            self.hidden = nn.Linear(context * embed, hidden)
            self.norm = nn.LayerNorm(hidden)
            self.activation = nn.GELU(approximate=approximate)
            self.out = nn.Linear(hidden, vocab)

        def forward(self, indices: Any) -> Any:
            vectors = self.embedding(indices)
            flat = vectors.reshape(vectors.shape[0], context * embed)
            return self.out(self.activation(self.norm(self.hidden(flat))))

    return CharMLP()


def _containers(lib: Any) -> Any:
    nn = lib.nn

    class Containers(nn.Module):
        """A ModuleList of blocks and a ModuleDict of heads, as a GPT keeps its blocks."""

        def __init__(self) -> None:
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(5, 5), nn.Linear(5, 5)])
            self.blocks.append(nn.LayerNorm(5, elementwise_affine=False))
            self.heads = nn.ModuleDict({"first": nn.Linear(5, 3), "second": nn.Linear(5, 3)})
            self.act = nn.SiLU()

        def forward(self, x: Any) -> Any:
            for block in self.blocks:
                x = self.act(block(x)) + x
            return self.heads["first"](x) * self.heads["second"](x)

    return Containers()


def _conv_net(lib: Any) -> Any:
    nn = lib.nn

    class ConvNet(nn.Module):
        """Grouped Conv2d, BatchNorm2d, ReLU, a second conv, then a Linear classifier."""

        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(4, 6, 3, padding=1, groups=2)
            self.norm = nn.BatchNorm2d(6)
            self.conv2 = nn.Conv2d(6, 4, 3, groups=1)
            self.act = nn.ReLU()
            self.classifier = nn.Linear(4 * 3 * 3, 3)

        def forward(self, x: Any) -> Any:
            x = self.act(self.norm(self.conv(x)))
            x = self.conv2(x)
            return self.classifier(x.reshape(x.shape[0], 4 * 3 * 3))

    return ConvNet()


def _regression_mlp(lib: Any) -> Any:
    nn = lib.nn
    return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))


# ----- cases -------------------------------------------------------------------------
def _char_batches(data: Data, vocab: int = 11, context: int = 3, batch: int = 12) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    contexts = data("contexts", lambda: rng.integers(0, vocab, size=(BATCHES, batch, context)))
    targets = data("targets", lambda: rng.integers(0, vocab, size=(BATCHES, batch)))
    return contexts, targets


def case_char_mlp_sgd(lib: Any, data: Data) -> dict[str, np.ndarray]:
    """Embedding + Linear + LayerNorm + exact GELU + cross_entropy, plain SGD."""
    model = _char_mlp(lib)
    _initialise(lib, model, data)
    contexts, targets = _char_batches(data)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.2)
    return _train(lib, model, optimizer,
                  lambda step: lib.F.cross_entropy(model(lib.indices(contexts[step % BATCHES])), lib.indices(targets[step % BATCHES])))


def case_char_mlp_clip(lib: Any, data: Data) -> dict[str, np.ndarray]:
    """The same with clip_grad_norm_ (2-norm) every step, GELU's tanh form and AdamW."""
    model = _char_mlp(lib, approximate="tanh")
    _initialise(lib, model, data)
    contexts, targets = _char_batches(data)
    optimizer = lib.optim.AdamW(model.parameters(), lr=0.02, weight_decay=0.1)
    norms = []
    result = _train(lib, model, optimizer,
                    lambda step: lib.F.cross_entropy(model(lib.indices(contexts[step % BATCHES])), lib.indices(targets[step % BATCHES])),
                    after_backward=lambda step: norms.append(float(lib.clip_grad_norm_(model.parameters(), 0.5))))
    result["norms"] = np.array(norms)
    return result


def case_char_mlp_clip_inf(lib: Any, data: Data) -> dict[str, np.ndarray]:
    """clip_grad_norm_ with the infinity norm, under Adam."""
    model = _char_mlp(lib)
    _initialise(lib, model, data)
    contexts, targets = _char_batches(data)
    optimizer = lib.optim.Adam(model.parameters(), lr=0.01)
    norms = []
    result = _train(lib, model, optimizer,
                    lambda step: lib.F.cross_entropy(model(lib.indices(contexts[step % BATCHES])), lib.indices(targets[step % BATCHES])),
                    after_backward=lambda step: norms.append(
                        float(lib.clip_grad_norm_(model.parameters(), 0.05, norm_type=math.inf))))
    result["norms"] = np.array(norms)
    return result


def case_containers(lib: Any, data: Data) -> dict[str, np.ndarray]:
    """ModuleList/ModuleDict (names in state_dict), SiLU, a LayerNorm without affine, RMSprop."""
    model = _containers(lib)
    _initialise(lib, model, data)
    rng = np.random.default_rng(2)
    inputs = data("inputs", lambda: rng.normal(size=(BATCHES, 6, 5)))
    targets = data("targets", lambda: rng.normal(size=(BATCHES, 6, 3)))
    optimizer = lib.optim.RMSprop(model.parameters(), lr=0.01)
    return _train(lib, model, optimizer,
                  lambda step: lib.F.mse_loss(model(lib.tensor(inputs[step % BATCHES])), lib.tensor(targets[step % BATCHES])))


def case_conv_batchnorm(lib: Any, data: Data) -> dict[str, np.ndarray]:
    """Grouped Conv2d and BatchNorm2d (training statistics, running buffers), then one eval pass."""
    model = _conv_net(lib)
    _initialise(lib, model, data, scale=0.3)
    rng = np.random.default_rng(3)
    images = data("images", lambda: rng.normal(size=(BATCHES, 5, 4, 5, 5)))
    labels = data("labels", lambda: rng.integers(0, 3, size=(BATCHES, 5)))
    optimizer = lib.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    result = _train(lib, model, optimizer,
                    lambda step: lib.F.cross_entropy(model(lib.tensor(images[step % BATCHES])), lib.indices(labels[step % BATCHES])))
    model.eval()
    result["eval_logits"] = lib.numpy(model(lib.tensor(images[0])))
    return result


def _logits_case(lib: Any, data: Data, loss: Callable[[Any, Any], Any], shape: tuple[int, ...],
                 target_shape: tuple[int, ...], ignored: int | None = None) -> dict[str, np.ndarray]:
    """A Linear layer's logits trained by SGD under the given cross_entropy options."""
    model = lib.nn.Linear(4, shape[1])
    _initialise(lib, model, data)
    rng = np.random.default_rng(4)
    inputs = data("inputs", lambda: rng.normal(size=(BATCHES,) + shape[:1] + shape[2:] + (4,)))

    def make_targets() -> np.ndarray:
        targets = rng.integers(0, shape[1], size=(BATCHES,) + target_shape)
        if ignored is not None:
            targets[rng.random(targets.shape) < 0.3] = ignored
        return targets

    targets = data("targets", make_targets)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.3)

    def loss_of_step(step: int) -> Any:
        logits = model(lib.tensor(inputs[step % BATCHES]))
        if len(shape) == 3:  # (N, d, C) from the Linear -> (N, C, d) as cross_entropy wants
            logits = logits.permute(0, 2, 1)
        return loss(logits, lib.indices(targets[step % BATCHES]))

    return _train(lib, model, optimizer, loss_of_step)


def case_ce_ignore_index(lib: Any, data: Data) -> dict[str, np.ndarray]:
    """cross_entropy(ignore_index=-100): ignored rows add nothing; mean over the others."""
    return _logits_case(lib, data, lambda z, t: lib.F.cross_entropy(z, t, ignore_index=-100), (8, 5), (8,), -100)


def case_ce_label_smoothing(lib: Any, data: Data) -> dict[str, np.ndarray]:
    """cross_entropy(label_smoothing=0.2)."""
    return _logits_case(lib, data, lambda z, t: lib.F.cross_entropy(z, t, label_smoothing=0.2), (8, 5), (8,))


def case_ce_both_sum(lib: Any, data: Data) -> dict[str, np.ndarray]:
    """ignore_index=3 (a real class) with label_smoothing=0.1 and reduction="sum"."""
    return _logits_case(lib, data, lambda z, t: lib.F.cross_entropy(z, t, ignore_index=3, label_smoothing=0.1,
                                                                    reduction="sum"), (8, 5), (8,))


def case_ce_sequence(lib: Any, data: Data) -> dict[str, np.ndarray]:
    """Logits (N, C, T) against targets (N, T), as a language model's, with ignore_index."""
    return _logits_case(lib, data, lambda z, t: lib.F.cross_entropy(z, t), (3, 5, 4), (3, 4), -100)


def _optimizer_case(lib: Any, data: Data, make: Callable[[Any], Any],
                    schedule: Callable[[Any], Any] | None = None,
                    before_step: Callable[[Any, int], None] | None = None) -> dict[str, np.ndarray]:
    model = _regression_mlp(lib)
    _initialise(lib, model, data)
    rng = np.random.default_rng(5)
    inputs = data("inputs", lambda: rng.normal(size=(BATCHES, 6, 5)))
    targets = data("targets", lambda: rng.normal(size=(BATCHES, 6, 3)))
    optimizer = make(model)
    scheduler = schedule(optimizer) if schedule is not None else None
    return _train(lib, model, optimizer,
                  lambda step: lib.F.mse_loss(model(lib.tensor(inputs[step % BATCHES])), lib.tensor(targets[step % BATCHES])),
                  scheduler=scheduler,
                  before_step=(lambda step: before_step(optimizer, step)) if before_step is not None else None)


def _two_groups(model: Any, **second: Any) -> list[dict[str, Any]]:
    """The first Linear in one group, the second (its own settings) in another."""
    return [{"params": list(model[0].parameters())}, {"params": list(model[2].parameters()), **second}]


def _halve_lr_at_ten(optimizer: Any, step: int) -> None:
    if step == 10:
        for group in optimizer.param_groups:
            group["lr"] = group["lr"] * 0.5


OPTIMIZERS: dict[str, Callable[[Any], Callable[[Any], Any]]] = {
    "sgd_nesterov_wd": lambda lib: lambda model: lib.optim.SGD(model.parameters(), lr=0.05, momentum=0.9,
                                                               nesterov=True, weight_decay=0.01),
    "sgd_dampening": lambda lib: lambda model: lib.optim.SGD(model.parameters(), lr=0.05, momentum=0.5,
                                                             dampening=0.3),
    "adam_wd": lambda lib: lambda model: lib.optim.Adam(model.parameters(), lr=0.01, weight_decay=0.05),
    "adamw": lambda lib: lambda model: lib.optim.AdamW(model.parameters(), lr=0.01, betas=(0.8, 0.99)),
    "rmsprop": lambda lib: lambda model: lib.optim.RMSprop(model.parameters(), lr=0.01),
    "rmsprop_centered_momentum": lambda lib: lambda model: lib.optim.RMSprop(
        model.parameters(), lr=0.005, alpha=0.9, eps=1e-6, weight_decay=0.01, momentum=0.8, centered=True),
    "sgd_groups": lambda lib: lambda model: lib.optim.SGD(_two_groups(model, lr=0.01, momentum=0.0), lr=0.1,
                                                          momentum=0.9),
    "adam_groups": lambda lib: lambda model: lib.optim.Adam(_two_groups(model, lr=0.001, betas=(0.5, 0.9)), lr=0.02),
    "adamw_groups": lambda lib: lambda model: lib.optim.AdamW(_two_groups(model, weight_decay=0.0), lr=0.02),
    "rmsprop_groups": lambda lib: lambda model: lib.optim.RMSprop(_two_groups(model, centered=True), lr=0.01),
}


def _make_optimizer_case(name: str) -> Callable[[Any, Data], dict[str, np.ndarray]]:
    def case(lib: Any, data: Data) -> dict[str, np.ndarray]:
        return _optimizer_case(lib, data, OPTIMIZERS[name](lib))

    case.__doc__ = f"optimizer {name} on a Linear-Tanh-Linear regression."
    return case


def case_lr_changed_between_steps(lib: Any, data: Data) -> dict[str, np.ndarray]:
    """param_groups[i]["lr"] halved by hand at step 10 (Adam with two groups)."""
    return _optimizer_case(lib, data, OPTIMIZERS["adam_groups"](lib), before_step=_halve_lr_at_ten)


SCHEDULES: dict[str, Callable[[Any], Callable[[Any], Any]]] = {
    "step_lr": lambda lib: lambda optimizer: lib.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.5),
    "exponential_lr": lambda lib: lambda optimizer: lib.lr_scheduler.ExponentialLR(optimizer, gamma=0.9),
    "cosine_lr": lambda lib: lambda optimizer: lib.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10,
                                                                                   eta_min=0.001),
    "lambda_lr": lambda lib: lambda optimizer: lib.lr_scheduler.LambdaLR(
        optimizer, [lambda epoch: min(1.0, (epoch + 1) / 5), lambda epoch: 0.95 ** epoch]),
    "cosine_then_step": lambda lib: lambda optimizer: (
        lib.lr_scheduler.CosineAnnealingLR(optimizer, T_max=7), lib.lr_scheduler.StepLR(optimizer, 4, 0.7)),
}


class _Both:
    """Two schedulers stepped together (the chainable form composes them)."""

    def __init__(self, schedulers: tuple[Any, Any]) -> None:
        self.schedulers = schedulers

    def step(self) -> None:
        for scheduler in self.schedulers:
            scheduler.step()

    def get_last_lr(self) -> list[float]:
        return self.schedulers[-1].get_last_lr()


def _make_schedule_case(name: str) -> Callable[[Any, Data], dict[str, np.ndarray]]:
    def case(lib: Any, data: Data) -> dict[str, np.ndarray]:
        def schedule(optimizer: Any) -> Any:
            made = SCHEDULES[name](lib)(optimizer)
            return _Both(made) if isinstance(made, tuple) else made

        make = OPTIMIZERS["sgd_groups"](lib) if name == "lambda_lr" else (
            lambda model: lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.5))
        return _optimizer_case(lib, data, make, schedule=schedule)

    case.__doc__ = f"scheduler {name} driving SGD on a Linear-Tanh-Linear regression."
    return case


def case_functions(lib: Any, data: Data) -> dict[str, np.ndarray]:
    """The functions themselves, value and gradient, over wide ranges (no training)."""
    results: dict[str, np.ndarray] = {}
    grid = data("grid", lambda: np.linspace(-9.0, 9.0, 721))
    weights = data("weights", lambda: np.random.default_rng(6).normal(size=721))
    functions = {"gelu": lambda x: lib.F.gelu(x), "gelu_tanh": lambda x: lib.F.gelu(x, approximate="tanh"),
                 "silu": lambda x: lib.F.silu(x)}
    for name, function in functions.items():
        x = lib.leaf(grid)
        out = function(x)
        (out * lib.tensor(weights)).sum().backward()
        results[f"{name}/value"], results[f"{name}/grad"] = lib.numpy(out), lib.numpy(x.grad)
    rng = np.random.default_rng(7)
    x = lib.leaf(data("norm_input", lambda: rng.normal(2.0, 3.0, size=(4, 3, 5))))
    weight, bias = lib.leaf(data("norm_weight", lambda: rng.normal(size=(3, 5)))), lib.leaf(
        data("norm_bias", lambda: rng.normal(size=(3, 5))))
    out = lib.F.layer_norm(x, (3, 5), weight, bias, eps=1e-3)
    (out * out * lib.tensor(np.arange(15.0).reshape(1, 3, 5) / 15)).sum().backward()
    for name, tensor in (("value", out), ("grad_input", x.grad), ("grad_weight", weight.grad),
                         ("grad_bias", bias.grad)):
        results[f"layer_norm/{name}"] = lib.numpy(tensor)
    indices = data("indices", lambda: rng.integers(0, 6, size=(3, 4)))
    table = lib.leaf(data("table", lambda: rng.normal(size=(6, 2))))
    looked_up = lib.F.embedding(lib.indices(indices), table)
    (looked_up * looked_up).sum().backward()
    results["embedding/value"], results["embedding/grad"] = lib.numpy(looked_up), lib.numpy(table.grad)
    results["one_hot/value"] = lib.numpy(lib.F.one_hot(lib.indices(indices), 7))
    results["one_hot/inferred"] = lib.numpy(lib.F.one_hot(lib.indices(indices)))
    results["losses"] = np.array([0.0])  # no training here; kept so every case has the same keys
    return results


CASES: dict[str, Callable[[Any, Data], dict[str, np.ndarray]]] = {
    "functions": case_functions,
    "char_mlp_sgd": case_char_mlp_sgd,
    "char_mlp_clip": case_char_mlp_clip,
    "char_mlp_clip_inf": case_char_mlp_clip_inf,
    "containers": case_containers,
    "conv_batchnorm": case_conv_batchnorm,
    "ce_ignore_index": case_ce_ignore_index,
    "ce_label_smoothing": case_ce_label_smoothing,
    "ce_both_sum": case_ce_both_sum,
    "ce_sequence": case_ce_sequence,
    "lr_changed_between_steps": case_lr_changed_between_steps,
    **{f"optim_{name}": _make_optimizer_case(name) for name in OPTIMIZERS},
    **{f"sched_{name}": _make_schedule_case(name) for name in SCHEDULES},
}


def run_case(lib: Any, name: str, stored: dict[str, np.ndarray] | None = None
             ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Run case `name`; return (inputs used, results). With `stored`, inputs come from it."""
    inputs: dict[str, np.ndarray] = {}

    def data(key: str, make: Callable[[], np.ndarray]) -> np.ndarray:
        full = f"{name}/data/{key}"
        if stored is not None and full in stored:
            value = stored[full]
        else:
            value = np.asarray(make())
            value = value.astype(np.float32) if value.dtype.kind == "f" else value.astype(np.int8)
        inputs[full] = value
        return value.astype(np.float64 if value.dtype.kind == "f" else np.int64)

    results = CASES[name](lib, data)
    return inputs, {f"{name}/result/{key}": value for key, value in results.items()}
