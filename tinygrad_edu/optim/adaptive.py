"""The optimizers with per-parameter adaptive step sizes: Adam, AdamW and RMSprop (PyTorch's rules)."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from tinygrad_edu.autograd import mark_changed_in_place_all
from tinygrad_edu.optim.optimizer import Optimizer, _check_non_negative
from tinygrad_edu.tensor import Tensor

__all__ = ["Adam", "AdamW", "RMSprop"]


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

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay})
        self._flat: dict[int, tuple] = {}  # id(group) -> the flat state `step` keeps (see _flat_state)

    def _check_group(self, group: dict[str, Any]) -> dict[str, Any]:
        group = super()._check_group(group)
        try:
            beta1, beta2 = (float(beta) for beta in group["betas"])
        except (TypeError, ValueError):
            raise ValueError(f"betas must be a pair of numbers, got {group['betas']!r}") from None
        for index, beta in enumerate((beta1, beta2)):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"invalid beta parameter at index {index}: {beta} (must be in [0, 1))")
        group["betas"] = (beta1, beta2)
        group["eps"] = _check_non_negative("eps", group["eps"])
        group["weight_decay"] = _check_non_negative("weight_decay", group["weight_decay"])
        return group

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return `closure()` if one is given.

        The same rule as `_update`, run once per group on all its parameters
        together (one flat array each for the gradients, exp_avg and exp_avg_sq,
        as PyTorch's "foreach" Adam): a dozen NumPy calls per group instead of
        per parameter. Each parameter's state arrays are views of the flat ones.
        Groups it cannot treat so (mixed dtypes, parameters at different step
        counts) take the per-parameter loop.
        """
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            params = [param for param in group["params"] if param.grad is not None]
            if not params:
                continue
            flat = self._flat_state(group, params)
            if flat is None:
                for param in params:
                    grad = param.grad.data if isinstance(param.grad, Tensor) else np.asarray(param.grad)
                    self._update(param.data, grad, self.state.setdefault(param, {}), group)
                mark_changed_in_place_all(params)  # bumps each param._version; a retained graph that saved one now raises
                continue
            exp_avg, exp_avg_sq, offsets = flat
            grads = [param.grad.data if isinstance(param.grad, Tensor) else np.asarray(param.grad) for param in params]
            grad = np.concatenate([g.reshape(-1) for g in grads]).astype(exp_avg.dtype, copy=False)
            beta1, beta2 = group["betas"]
            lr, weight_decay = group["lr"], group["weight_decay"]
            for param in params:
                self.state[param]["step"] += 1
            step = self.state[params[0]]["step"]
            if weight_decay and not self.decoupled_weight_decay:
                grad = grad + weight_decay * np.concatenate([param.data.reshape(-1) for param in params])
            exp_avg *= beta1
            exp_avg += (1.0 - beta1) * grad
            exp_avg_sq *= beta2
            exp_avg_sq += (1.0 - beta2) * grad * grad
            denominator = np.sqrt(exp_avg_sq) / np.sqrt(1.0 - beta2 ** step) + group["eps"]
            change = (lr / (1.0 - beta1 ** step)) * exp_avg / denominator
            for param, start, end in zip(params, offsets, offsets[1:]):
                data = param.data
                if weight_decay and self.decoupled_weight_decay:
                    data *= 1.0 - lr * weight_decay
                data -= change[start:end].reshape(data.shape)
            mark_changed_in_place_all(params)  # bumps each param._version; a retained graph that saved one now raises
        return loss

    def _flat_state(self, group: dict[str, Any], params: list) -> tuple | None:
        """(exp_avg, exp_avg_sq, offsets): the group's state as two flat arrays whose slices are the
        parameters' state arrays (made, or remade, when the parameters or their state change); None
        when the parameters differ in dtype or in step count."""
        dtype = params[0].data.dtype
        states = [self.state.get(param) for param in params]
        cached = self._flat.get(id(group))
        if cached is not None and cached[0] == [id(param) for param in params] and all(
                state is not None and state.get("exp_avg") is views[0] and state.get("exp_avg_sq") is views[1]
                for state, views in zip(states, cached[4])):
            return cached[1], cached[2], cached[3]
        if any(param.data.dtype != dtype for param in params):
            return None
        if len({state["step"] if state else 0 for state in states}) != 1:
            return None
        offsets = [0]
        for param in params:
            offsets.append(offsets[-1] + param.data.size)
        exp_avg, exp_avg_sq = np.zeros(offsets[-1], dtype), np.zeros(offsets[-1], dtype)
        views = []
        for param, state, start, end in zip(params, states, offsets, offsets[1:]):
            state = self.state[param] = state or {"step": 0}
            for name, flat in (("exp_avg", exp_avg), ("exp_avg_sq", exp_avg_sq)):
                view = flat[start:end].reshape(param.data.shape)
                if name in state:
                    view[...] = state[name]
                state[name] = view
            views.append((state["exp_avg"], state["exp_avg_sq"]))
        self._flat[id(group)] = ([id(param) for param in params], exp_avg, exp_avg_sq, offsets, views)
        return exp_avg, exp_avg_sq, offsets

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        beta1, beta2 = group["betas"]
        lr, weight_decay = group["lr"], group["weight_decay"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        step, exp_avg, exp_avg_sq = state["step"], state["exp_avg"], state["exp_avg_sq"]
        if weight_decay:
            if self.decoupled_weight_decay:
                param *= 1.0 - lr * weight_decay
            else:
                grad = grad + weight_decay * param
        exp_avg *= beta1
        exp_avg += (1.0 - beta1) * grad
        exp_avg_sq *= beta2
        exp_avg_sq += (1.0 - beta2) * grad * grad
        step_size = lr / (1.0 - beta1 ** step)
        denominator = np.sqrt(exp_avg_sq) / np.sqrt(1.0 - beta2 ** step) + group["eps"]
        param -= step_size * exp_avg / denominator


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): before the Adam
    step, p = p * (1 - lr * weight_decay); the gradient itself is not changed."""

    decoupled_weight_decay = True

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.01) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e) in PyTorch's form, with optional momentum and centering.

    Per step:
        g = grad + weight_decay * p
        v = alpha * v + (1 - alpha) * g^2
        a = alpha * a + (1 - alpha) * g,  d = sqrt(v - a^2) + eps   (centered)
                                          d = sqrt(v) + eps         (otherwise)
        b = momentum * b + g / d,  p = p - lr * b                   (momentum > 0)
        p = p - lr * g / d                                          (otherwise)
    """

    state_keys = ("step", "square_avg", "momentum_buffer", "grad_avg")

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False) -> None:
        super().__init__(params, {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay,
                                  "momentum": momentum, "centered": centered})

    def _check_group(self, group: dict[str, Any]) -> dict[str, Any]:
        group = super()._check_group(group)
        for name in ("alpha", "eps", "weight_decay", "momentum"):
            group[name] = _check_non_negative(name, group[name])
        group["centered"] = bool(group["centered"])
        return group

    def _state_keys(self, group: dict[str, Any]) -> tuple[str, ...]:
        return (("step", "square_avg") + (("momentum_buffer",) if group["momentum"] > 0 else ())
                + (("grad_avg",) if group["centered"] else ()))

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        alpha, momentum = group["alpha"], group["momentum"]
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
            if momentum > 0:
                state["momentum_buffer"] = np.zeros_like(param)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(param)
        state["step"] += 1
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1.0 - alpha) * grad * grad
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg += (1.0 - alpha) * (grad - grad_avg)
            denominator = np.sqrt(square_avg - grad_avg * grad_avg)
        else:
            denominator = np.sqrt(square_avg)
        denominator += group["eps"]
        if momentum > 0:
            buffer = state["momentum_buffer"]
            buffer *= momentum
            buffer += grad / denominator
            param -= group["lr"] * buffer
        else:
            param -= group["lr"] * (grad / denominator)
