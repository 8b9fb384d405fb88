"""Optimizers: SGD, Adam and AdamW, with PyTorch's update rules step for step.

An optimizer holds a list of parameters. `step()` reads each parameter's
`.grad` and updates `param.data` in place with plain NumPy, outside the
autograd graph (so no graph is built and the Tensor objects keep their
identity); parameters whose `.grad` is None are skipped. `zero_grad()` sets
the gradients to None. The loop lives once, in `Optimizer.step`; each
subclass only writes its formula in `_update`.

>>> import tinygrad_edu as tg, tinygrad_edu.optim as optim
>>> w = tg.Tensor([1.0, -2.0], requires_grad=True)
>>> opt = optim.SGD([w], lr=0.1)
>>> (w * w).sum().backward(); opt.step(); w.tolist()   # w -= 0.1 * 2w
[0.800000011920929, -1.600000023841858]
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from tinygrad_edu.tensor import Tensor

__all__ = ["Adam", "AdamW", "Optimizer", "SGD"]


def _check_non_negative(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not value >= 0.0:  # also rejects NaN
        raise ValueError(f"invalid {name}: {value} (must be >= 0)")
    return float(value)


class Optimizer:
    """Base class: holds the parameters and per-parameter state, runs the update loop."""

    def __init__(self, params: Iterable[Tensor], lr: float) -> None:
        if isinstance(params, Tensor):
            raise TypeError("params must be an iterable of Tensors, got a single Tensor; pass [tensor]")
        if hasattr(params, "named_parameters"):
            raise TypeError(f"params must be an iterable of Tensors, got a {type(params).__name__} module; "
                            "pass model.parameters()")
        try:
            candidates = list(params)  # materialise: a generator would be used up after one pass
        except TypeError:
            raise TypeError(f"params must be an iterable of Tensors, got {type(params).__name__}") from None
        if not candidates:
            raise ValueError("optimizer got an empty parameter list (did the model define any parameters?)")
        self.params: list[Tensor] = []
        seen: set[int] = set()
        for index, param in enumerate(candidates):
            if not isinstance(param, Tensor):
                raise TypeError(f"optimizer params must be Tensors, but item {index} is a {type(param).__name__}")
            if not np.issubdtype(param.data.dtype, np.floating):
                raise TypeError(f"optimizer params must be floating point, "
                                f"but item {index} has dtype {param.data.dtype}")
            if id(param) not in seen:  # a parameter listed twice is updated once
                seen.add(id(param))
                self.params.append(param)
        self.lr = _check_non_negative("learning rate", lr)
        # One dict per parameter (aligned with self.params), filled lazily by _update.
        self.state: list[dict[str, Any]] = [{} for _ in self.params]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients: `.grad = None` (PyTorch's default), or zeros in place."""
        for param in self.params:
            if set_to_none or param.grad is None:
                param.grad = None
            else:
                param.grad.data[...] = 0

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return `closure()` if one is given."""
        loss = closure() if closure is not None else None
        for param, state in zip(self.params, self.state):
            if param.grad is not None:
                grad = param.grad.data if isinstance(param.grad, Tensor) else np.asarray(param.grad)
                self._update(param.data, grad, state)
        return loss

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> None:
        """Change `param` in place given its gradient; subclasses write their formula here."""
        raise NotImplementedError

    # The per-parameter state a subclass keeps (all of these, or none before the first step).
    state_keys: tuple[str, ...] = ()

    def state_dict(self) -> dict[str, np.ndarray]:
        """The optimizer's state as flat `{name: array}` copies, to resume training later.

        Names: "lr" and "state.<parameter index>.<key>" (SGD: momentum_buffer;
        Adam/AdamW: step, exp_avg, exp_avg_sq). Flat arrays, so
        `np.savez(path, **optimizer.state_dict())` stores it without pickle.
        """
        arrays = {"lr": np.array(self.lr)}
        for index, state in enumerate(self.state):
            for key, value in state.items():
                arrays[f"state.{index}.{key}"] = np.array(value, copy=True)
        return arrays

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore what `state_dict()` returned, for the same parameters in the same order.

        Every entry is checked first (names, parameter indices, shapes, complete
        per-parameter state); on any problem `ValueError` lists them all and the
        optimizer is unchanged.
        """
        new_state: list[dict[str, Any]] = [{} for _ in self.params]
        lr, problems = self.lr, []
        for name, value in state_dict.items():
            array = np.asarray(value)
            parts = name.split(".")
            if name == "lr":
                if array.shape == () and np.issubdtype(array.dtype, np.number) and array >= 0:
                    lr = float(array)
                else:
                    problems.append(f"  lr: expected a non-negative number, got {array!r}")
            elif (len(parts) != 3 or parts[0] != "state" or not parts[1].isdigit()
                  or int(parts[1]) >= len(self.params) or parts[2] not in self.state_keys):
                problems.append(f"  unexpected entry {name!r} (this {type(self).__name__} has {len(self.params)} "
                                f"parameters and keeps {list(self.state_keys)})")
            elif parts[2] == "step":
                new_state[int(parts[1])]["step"] = int(array)
            elif array.shape != self.params[int(parts[1])].data.shape:
                problems.append(f"  {name}: shape {array.shape}, but parameter {parts[1]} has shape "
                                f"{self.params[int(parts[1])].data.shape}")
            else:
                new_state[int(parts[1])][parts[2]] = array.astype(self.params[int(parts[1])].data.dtype, copy=True)
        for index, state in enumerate(new_state):
            if state and set(state) != set(self.state_keys):
                problems.append(f"  parameter {index}: has {sorted(state)}, needs all of {sorted(self.state_keys)}")
        if problems:
            raise ValueError("\n".join([f"{type(self).__name__}.load_state_dict failed (nothing was loaded):"]
                                       + problems))
        self.lr, self.state = lr, new_state

    def __repr__(self) -> str:
        settings = ", ".join(f"{key}={value}" for key, value in vars(self).items() if key not in ("params", "state"))
        return f"{type(self).__name__}({len(self.params)} parameters, {settings})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay.

    PyTorch's rule, per step t:
        g = grad + weight_decay * p
        b = g                                   (t = 1)
        b = momentum * b + (1 - dampening) * g  (t > 1)
        g = g + momentum * b  if nesterov  else  b      (only when momentum != 0)
        p = p - lr * g
    """

    def __init__(self, params: Iterable[Tensor], lr: float, momentum: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False, dampening: float = 0.0) -> None:
        super().__init__(params, lr)
        self.momentum = _check_non_negative("momentum", momentum)
        self.weight_decay = _check_non_negative("weight_decay", weight_decay)
        self.dampening = _check_non_negative("dampening", dampening)
        self.nesterov = bool(nesterov)
        if self.nesterov and (self.momentum <= 0.0 or self.dampening != 0.0):
            raise ValueError(f"Nesterov momentum requires momentum > 0 and dampening = 0, "
                             f"got momentum={momentum}, dampening={dampening}")

    state_keys = ("momentum_buffer",)

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> None:
        if self.weight_decay:
            grad = grad + self.weight_decay * param
        if self.momentum:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = np.array(grad, dtype=param.dtype, copy=True)
            else:
                buffer *= self.momentum
                buffer += (1.0 - self.dampening) * grad
            grad = grad + self.momentum * buffer if self.nesterov else buffer
        param -= self.lr * grad


class Adam(Optimizer):
    """Adam (Kingma & Ba) with PyTorch's bias correction and optional L2 weight decay.

    Per step t (starting at 1):
        g = grad + weight_decay * p                 (Adam; AdamW decays p directly instead)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        p = p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
    """

    decoupled_weight_decay = False
    state_keys = ("step", "exp_avg", "exp_avg_sq")

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        try:
            beta1, beta2 = (float(beta) for beta in betas)
        except (TypeError, ValueError):
            raise ValueError(f"betas must be a pair of numbers, got {betas!r}") from None
        for index, beta in enumerate((beta1, beta2)):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"invalid beta parameter at index {index}: {beta} (must be in [0, 1))")
        self.betas = (beta1, beta2)
        self.eps = _check_non_negative("eps", eps)
        self.weight_decay = _check_non_negative("weight_decay", weight_decay)

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> None:
        beta1, beta2 = self.betas
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        step, exp_avg, exp_avg_sq = state["step"], state["exp_avg"], state["exp_avg_sq"]
        if self.weight_decay:
            if self.decoupled_weight_decay:
                param *= 1.0 - self.lr * self.weight_decay
            else:
                grad = grad + self.weight_decay * param
        exp_avg *= beta1
        exp_avg += (1.0 - beta1) * grad
        exp_avg_sq *= beta2
        exp_avg_sq += (1.0 - beta2) * grad * grad
        step_size = self.lr / (1.0 - beta1 ** step)
        denominator = np.sqrt(exp_avg_sq) / np.sqrt(1.0 - beta2 ** step) + self.eps
        param -= step_size * exp_avg / denominator


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): before the Adam
    step, p = p * (1 - lr * weight_decay); the gradient itself is not changed."""

    decoupled_weight_decay = True

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.01) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)
