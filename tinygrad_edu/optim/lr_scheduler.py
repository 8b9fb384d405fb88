"""Learning-rate schedules: StepLR, ExponentialLR, CosineAnnealingLR and LambdaLR, as PyTorch computes them.

A scheduler changes `optimizer.param_groups[i]["lr"]`. Creating it records each
group's starting rate as `group["initial_lr"]` (its `base_lrs`) and sets
`last_epoch = 0`; call `scheduler.step()` once per epoch (or per batch), after
`optimizer.step()`; `get_last_lr()` gives the rates it last set.

Like PyTorch, StepLR, ExponentialLR and CosineAnnealingLR update the current
rate from the previous one (the "chainable" form, so two schedulers on one
optimizer compose), and LambdaLR sets `base_lr * lr_lambda(last_epoch)`.

>>> import tinygrad_edu as tg, tinygrad_edu.optim as optim
>>> from tinygrad_edu.optim import lr_scheduler
>>> opt = optim.SGD([tg.Tensor([1.0], requires_grad=True)], lr=1.0)
>>> schedule = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
>>> rates = []
>>> for epoch in range(5):
...     opt.step()                      # train one epoch
...     schedule.step()
...     rates.append(schedule.get_last_lr()[0])
>>> rates
[1.0, 0.5, 0.5, 0.25, 0.25]
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tinygrad_edu.optim.optimizer import Optimizer

__all__ = ["LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR"]


def _check_positive_int(scheduler: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{scheduler}: {name} must be a positive int, got {value!r}")
    return int(value)


def _check_number(scheduler: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{scheduler}: {name} must be a number, got {type(value).__name__}")
    return float(value)


class LRScheduler:
    """Base class: `step()` advances `last_epoch` and writes `get_lr()` into the groups.

    `last_epoch=-1` (the default) starts a new schedule; a larger value resumes
    one, which needs `"initial_lr"` in every group (as left by a previous
    scheduler and restored by `optimizer.load_state_dict`).
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__} expects an optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for index, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"{type(self).__name__}: param_groups[{index}] has no 'initial_lr', which "
                                   f"resuming with last_epoch={last_epoch} needs; load the optimizer's state first "
                                   "or start with last_epoch=-1")
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = int(last_epoch)
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()  # sets last_epoch to 0 (or one past the resumed epoch) and _last_lr
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The rates for the current `last_epoch` (each subclass's formula)."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and set every group's learning rate."""
        self._step_count += 1
        self.last_epoch += 1
        for group, rate in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = rate
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rates the last `step()` set, one per parameter group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's counters and settings (everything but the optimizer and functions)."""
        return {key: value for key, value in vars(self).items() if key not in ("optimizer", "lr_lambdas")}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what `state_dict()` returned."""
        unexpected = [key for key in state_dict if key not in vars(self)]
        if unexpected:
            raise KeyError(f"{type(self).__name__}.load_state_dict: unexpected entries {unexpected}")
        self.__dict__.update(state_dict)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, last_lr={self._last_lr})"


class StepLR(LRScheduler):
    """Multiply the learning rate by `gamma` every `step_size` epochs.

    lr(epoch) = initial_lr * gamma ** (epoch // step_size), computed step by step.
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        self.step_size = _check_positive_int("StepLR", "step_size", step_size)
        self.gamma = _check_number("StepLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """Unchanged, except every step_size-th epoch: times gamma."""
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by `gamma` every epoch: lr(epoch) = initial_lr * gamma ** epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = _check_number("ExponentialLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """The previous rate times gamma (unchanged at creation)."""
        if self._is_initial:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]


class CosineAnnealingLR(LRScheduler):
    """Anneal from the initial rate to `eta_min` along half a cosine over `T_max` epochs.

    lr(epoch) = eta_min + (initial_lr - eta_min) (1 + cos(pi epoch / T_max)) / 2,
    computed as PyTorch does, from the previous rate (the ratio of consecutive
    cosine terms), so after T_max epochs it climbs back (SGDR without restarts).
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,  # noqa: N803 (PyTorch's name)
                 last_epoch: int = -1) -> None:
        self.T_max = _check_positive_int("CosineAnnealingLR", "T_max", T_max)
        self.eta_min = _check_number("CosineAnnealingLR", "eta_min", eta_min)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """PyTorch's recursive form (see the class docstring for the closed form it follows)."""
        groups = self.optimizer.param_groups
        if self._is_initial:
            return [group["lr"] for group in groups]
        if self._step_count == 1 and self.last_epoch > 0:
            return [self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(self.last_epoch * math.pi / self.T_max)) / 2
                    for base_lr in self.base_lrs]
        if (self.last_epoch - 1 - self.T_max) % (2 * self.T_max) == 0:
            return [group["lr"] + (base_lr - self.eta_min) * (1 - math.cos(math.pi / self.T_max)) / 2
                    for base_lr, group in zip(self.base_lrs, groups)]
        return [(1 + math.cos(math.pi * self.last_epoch / self.T_max))
                / (1 + math.cos(math.pi * (self.last_epoch - 1) / self.T_max))
                * (group["lr"] - self.eta_min) + self.eta_min
                for group in groups]


class LambdaLR(LRScheduler):
    """lr(epoch) = initial_lr * lr_lambda(epoch): one function, or a list with one per parameter group.

    >>> import tinygrad_edu as tg, tinygrad_edu.optim as optim
    >>> opt = optim.SGD([tg.Tensor([1.0], requires_grad=True)], lr=0.1)
    >>> warmup = LambdaLR(opt, lambda epoch: min(1.0, (epoch + 1) / 4))
    >>> round(opt.param_groups[0]["lr"], 6)
    0.025
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
                 last_epoch: int = -1) -> None:
        groups = len(optimizer.param_groups) if isinstance(optimizer, Optimizer) else 0
        if callable(lr_lambda):
            self.lr_lambdas = [lr_lambda] * groups
        else:
            functions = list(lr_lambda)
            if len(functions) != groups:
                raise ValueError(f"LambdaLR: expected {groups} lr_lambdas (one per parameter group), "
                                 f"got {len(functions)}")
            if not all(callable(function) for function in functions):
                raise TypeError("LambdaLR: lr_lambda must be a function or a list of functions")
            self.lr_lambdas = functions
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """base_lr * lr_lambda(last_epoch) for each group."""
        return [base_lr * function(self.last_epoch) for function, base_lr in zip(self.lr_lambdas, self.base_lrs)]
