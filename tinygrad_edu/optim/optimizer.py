"""The optimizer base class (parameter groups, the step loop, state_dict) and SGD; see `tinygrad_edu.optim`."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from tinygrad_edu.autograd import mark_changed_in_place_all
from tinygrad_edu.optim.state import flatten_state_dict, is_nested_state_dict
from tinygrad_edu.tensor import Tensor

__all__ = ["SGD", "Optimizer"]

def _check_non_negative(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not value >= 0.0:  # also rejects NaN
        raise ValueError(f"invalid {name}: {value} (must be >= 0)")
    return float(value)


def _check_params(params: Any, where: str) -> list[Tensor]:
    """The parameters of one group as a list of distinct floating Tensors, or a clear error."""
    if isinstance(params, Tensor):
        raise TypeError(f"{where}params must be an iterable of Tensors, got a single Tensor; pass [tensor]")
    if hasattr(params, "named_parameters"):
        raise TypeError(f"{where}params must be an iterable of Tensors, got a {type(params).__name__} module; "
                        "pass model.parameters()")
    try:
        candidates = list(params)  # materialise: a generator would be used up after one pass
    except TypeError:
        raise TypeError(f"{where}params must be an iterable of Tensors, got {type(params).__name__}") from None
    checked: list[Tensor] = []
    seen: set[int] = set()
    for index, param in enumerate(candidates):
        if not isinstance(param, Tensor):
            raise TypeError(f"{where}optimizer params must be Tensors, but item {index} is a {type(param).__name__}")
        if not np.issubdtype(param.data.dtype, np.floating):
            raise TypeError(f"{where}optimizer params must be floating point, "
                            f"but item {index} has dtype {param.data.dtype}")
        if not param.is_leaf:
            raise ValueError(f"{where}can't optimize a non-leaf Tensor (item {index} was computed by an op); "
                             "optimize the leaf it came from, or pass tensor.detach().requires_grad_()")
        if id(param) not in seen:  # a parameter listed twice is updated once
            seen.add(id(param))
            checked.append(param)
    return checked


def _listed(params: Any) -> list[Any]:
    try:
        return list(params)  # materialise: a generator would be used up after one pass
    except TypeError:
        raise TypeError(f"params must be an iterable of Tensors, got {type(params).__name__}") from None


def _copied(value: Any) -> Any:
    """An array copied (the optimizer keeps updating its own in place); numbers and tuples as they are."""
    return value.copy() if isinstance(value, np.ndarray) else value


class Optimizer:
    """Base class: holds the parameter groups and per-parameter state, runs the update loop.

    A subclass passes its settings as `defaults` (every group gets those it does
    not set itself), checks a group's settings in `_check_group`, names the
    state it keeps in `_state_keys` and writes its formula in `_update`.
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], defaults: dict[str, Any] | float
                 ) -> None:
        if not isinstance(defaults, dict):  # the older form Optimizer(params, lr)
            defaults = {"lr": defaults}
        self.defaults = self._check_group(dict(defaults))
        self.param_groups: list[dict[str, Any]] = []
        self.params: list[Tensor] = []  # every parameter, group after group (state_dict numbers them so)
        # Per-parameter state, keyed by the parameter (Tensors hash by identity), filled lazily by _update.
        self.state: dict[Tensor, dict[str, Any]] = {}
        if isinstance(params, dict):
            groups: list[Any] = [params]
        else:
            groups = _check_params(params, "") if isinstance(params, Tensor) or hasattr(params, "named_parameters") \
                else _listed(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list (did the model define any parameters?)")
        if any(isinstance(group, dict) for group in groups):
            if not all(isinstance(group, dict) for group in groups):
                raise TypeError("params must be all Tensors or all parameter-group dicts ({'params': [...], ...}), "
                                "not a mixture")
            for group in groups:
                self.add_param_group(group)
        else:
            self._add_group({"params": groups}, where="")

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group `{"params": [...], setting: value, ...}`; missing settings come from the defaults."""
        self._add_group(param_group, where=f"parameter group {len(self.param_groups)}: ")

    def _add_group(self, param_group: dict[str, Any], where: str) -> None:
        if not isinstance(param_group, dict) or "params" not in param_group:
            raise TypeError(f"{where}a parameter group must be a dict with a 'params' entry, got {param_group!r}")
        params = param_group["params"]
        params = _check_params([params] if isinstance(params, Tensor) else params, where)
        if not params:
            raise ValueError(f"{where}optimizer got an empty parameter list (did the model define any parameters?)")
        known = {id(param) for param in self.params}
        if any(id(param) in known for param in params):
            raise ValueError(f"{where}some parameters appear in more than one parameter group")
        group = {key: value for key, value in param_group.items() if key != "params"}
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        try:
            group = self._check_group(group)
        except (TypeError, ValueError) as error:
            raise type(error)(f"{where}{error}") from None
        self.param_groups.append({"params": params, **group})
        self.params.extend(params)

    def __getattr__(self, name: str) -> Any:
        """A setting shared by every group, read as an attribute (`optimizer.momentum`)."""
        groups = self.__dict__.get("param_groups")
        if groups and name != "params" and name in groups[0]:
            return self._shared_setting(name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _shared_setting(self, name: str) -> Any:
        values = [group.get(name) for group in self.param_groups]
        if any(value != values[0] for value in values):
            # A ValueError, not AttributeError: Python would retry an AttributeError through __getattr__.
            raise ValueError(f"the {len(values)} parameter groups have different {name} values {values}; "
                             f"read optimizer.param_groups[i][{name!r}]")
        return values[0]

    def _check_group(self, group: dict[str, Any]) -> dict[str, Any]:
        """Validate (and normalise) one group's settings; subclasses extend it."""
        group["lr"] = _check_non_negative("learning rate", group["lr"])
        return group

    @property
    def lr(self) -> float:
        """The learning rate, when every group has the same one (else read `param_groups[i]["lr"]`)."""
        return self._shared_setting("lr")

    @lr.setter
    def lr(self, value: float) -> None:
        """Set the learning rate of every group."""
        rate = _check_non_negative("learning rate", value)
        for group in self.param_groups:
            group["lr"] = rate

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients: `.grad = None` (PyTorch's default), or zeros in place."""
        if set_to_none:
            for param in self.params:
                param.grad = None
            return
        for param in self.params:
            if param.grad is not None:
                param.grad.data[...] = 0

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return `closure()` if one is given."""
        loss = closure() if closure is not None else None
        changed: list[Tensor] = []
        states, update = self.state, self._update
        try:
            for group in self.param_groups:
                lr = self._plain_rate(group)
                if lr is not None:  # p -= lr * g: the formula inline, no _update call; the arrays read from the
                    # `_data` slot (what the `.data` property returns; the property call cost ~500 instructions)
                    rate = None  # lr as a 0-d array of the gradients' dtype: NumPy takes it in half the time of a float
                    for param in group["params"]:
                        grad = param.grad
                        if grad is not None:
                            if param not in states:
                                states[param] = {}
                            changed.append(param)
                            data, values = param._data, (grad._data if isinstance(grad, Tensor) else np.asarray(grad))
                            if rate is None or rate.dtype is not values.dtype:
                                rate = np.asarray(lr, values.dtype if values.dtype.kind == "f" else None)
                            data -= rate * values
                    continue
                for param in group["params"]:
                    grad = param.grad
                    if grad is not None:
                        state = states.get(param)
                        if state is None:
                            state = states[param] = {}
                        changed.append(param)
                        update(param.data, grad.data if isinstance(grad, Tensor) else np.asarray(grad), state, group)
        finally:
            mark_changed_in_place_all(changed)  # bumps each param._version; a retained graph that saved one now raises
        return loss

    def _plain_rate(self, group: dict[str, Any]) -> float | None:
        """The learning rate if `_update` is plain `param -= lr * grad` for this group (step then runs it inline), else None."""
        return None

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Change `param` in place given its gradient and its group's settings; subclasses write their formula here."""
        raise NotImplementedError

    # The per-parameter state a subclass keeps (all of these, or none before the first step).
    state_keys: tuple[str, ...] = ()

    def _state_keys(self, group: dict[str, Any]) -> tuple[str, ...]:
        """The state kept for a parameter of `group` (RMSprop's depends on its settings)."""
        return self.state_keys

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state in PyTorch's layout, as copies, to resume training later.

        `{"state": {index: {key: value}}, "param_groups": [{setting: value, ..., "params": [indices]}]}`:
        each group's settings (lr, momentum, betas, ..., and "initial_lr" once a
        scheduler has set it) with the indices of its parameters, and each
        parameter's state by index (SGD: momentum_buffer; Adam/AdamW: step,
        exp_avg, exp_avg_sq; RMSprop: step, square_avg, momentum_buffer,
        grad_avg), for the parameters that have any. Parameters are numbered group
        after group, as PyTorch numbers them. To store it without pickle:
        `np.savez(path, **optim.flatten_state_dict(optimizer.state_dict()))`
        (see `optim.state`).
        """
        groups: list[dict[str, Any]] = []
        position = 0
        for group in self.param_groups:
            settings = {key: _copied(value) for key, value in group.items() if key != "params"}
            settings["params"] = list(range(position, position + len(group["params"])))
            position += len(group["params"])
            groups.append(settings)
        state = {index: {key: _copied(value) for key, value in self.state[param].items()}
                 for index, param in enumerate(self.params) if param in self.state}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore what `state_dict()` returned, for the same parameter groups in the same order.

        Takes PyTorch's nested layout or its flat form (`optim.flatten_state_dict`,
        what `np.load` gives back, and what `state_dict()` returned before), whose
        names the error messages use. Every entry is checked first (names, group
        sizes, parameter indices, shapes, complete per-parameter state); on any
        problem `ValueError` lists them all and the optimizer is unchanged. A lone
        "lr" entry (the format before parameter groups) sets every group's learning rate.
        """
        if is_nested_state_dict(state_dict):
            state_dict = flatten_state_dict(state_dict)
        problems: list[str] = []
        settings: list[dict[str, Any]] = [{} for _ in self.param_groups]
        new_state: list[dict[str, Any]] = [{} for _ in self.params]
        for name, value in state_dict.items():
            array = np.asarray(value)
            parts = name.split(".")
            if name == "lr":  # written before parameter groups existed: one rate for every group
                for loaded in settings:
                    loaded.setdefault("lr", _setting_from_array(array, 0.0))
            elif len(parts) == 3 and parts[0] == "param_groups" and parts[1].isdigit() \
                    and int(parts[1]) < len(self.param_groups):
                group_index, key = int(parts[1]), parts[2]
                if key == "params":
                    if array.shape != (len(self.param_groups[group_index]["params"]),):
                        problems.append(f"  {name}: the checkpoint's group {group_index} has {array.size} parameters, "
                                        f"this one has {len(self.param_groups[group_index]['params'])}")
                else:
                    settings[group_index][key] = _setting_from_array(array, self.param_groups[group_index].get(key))
            elif (len(parts) != 3 or parts[0] != "state" or not parts[1].isdigit()
                  or int(parts[1]) >= len(self.params) or parts[2] not in self.state_keys):
                problems.append(f"  unexpected entry {name!r} (this {type(self).__name__} has "
                                f"{len(self.param_groups)} parameter groups, {len(self.params)} parameters, and keeps "
                                f"{list(self.state_keys)} per parameter)")
            elif parts[2] == "step":
                new_state[int(parts[1])]["step"] = int(array)
            elif array.shape != self.params[int(parts[1])].data.shape:
                problems.append(f"  {name}: shape {array.shape}, but parameter {parts[1]} has shape "
                                f"{self.params[int(parts[1])].data.shape}")
            else:
                new_state[int(parts[1])][parts[2]] = array.astype(self.params[int(parts[1])].data.dtype, copy=True)
        checked: list[dict[str, Any]] = []
        for group_index, (group, loaded) in enumerate(zip(self.param_groups, settings)):
            merged = {key: value for key, value in group.items() if key != "params"}
            merged.update(loaded)
            try:
                merged = self._check_group(merged)
            except (TypeError, ValueError) as error:
                problems.append(f"  param_groups.{group_index}: {error}")
            checked.append(merged)
        group_index_of = [index for index, group in enumerate(self.param_groups) for _ in group["params"]]
        for index, state in enumerate(new_state):
            needed = self._state_keys(checked[group_index_of[index]])
            if state and set(state) != set(needed):
                problems.append(f"  parameter {index}: has {sorted(state)}, needs all of {sorted(needed)}")
        if problems:
            raise ValueError("\n".join([f"{type(self).__name__}.load_state_dict failed (nothing was loaded):"]
                                       + problems))
        for group, loaded in zip(self.param_groups, checked):
            group.update(loaded)
        self.state = {param: state for param, state in zip(self.params, new_state) if state}

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for index, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {index}")
            lines.append(f"    params: {len(group['params'])} tensors")
            lines.extend(f"    {key}: {group[key]}" for key in sorted(group) if key != "params")
        lines.append(")")
        return "\n".join(lines)


def _setting_from_array(array: np.ndarray, current: Any) -> Any:
    """A group setting read back from its array, in the type the optimizer keeps it in."""
    if isinstance(current, bool) or array.dtype == np.bool_:
        return bool(array)
    if isinstance(current, tuple) or array.ndim == 1:
        return tuple(float(value) for value in array)
    if array.ndim == 0 and np.issubdtype(array.dtype, np.number):
        return float(array)
    return array


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay.

    PyTorch's rule, per step t:
        g = grad + weight_decay * p
        b = g                                   (t = 1)
        b = momentum * b + (1 - dampening) * g  (t > 1)
        g = g + momentum * b  if nesterov  else  b      (only when momentum != 0)
        p = p - lr * g
    """

    state_keys = ("momentum_buffer",)

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], lr: float, momentum: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, dampening: float = 0.0) -> None:
        super().__init__(params, {"lr": lr, "momentum": momentum, "dampening": dampening,
                                  "weight_decay": weight_decay, "nesterov": nesterov})

    def _check_group(self, group: dict[str, Any]) -> dict[str, Any]:
        group = super()._check_group(group)
        for name in ("momentum", "weight_decay", "dampening"):
            group[name] = _check_non_negative(name, group[name])
        group["nesterov"] = bool(group["nesterov"])
        if group["nesterov"] and (group["momentum"] <= 0.0 or group["dampening"] != 0.0):
            raise ValueError(f"Nesterov momentum requires momentum > 0 and dampening = 0, "
                             f"got momentum={group['momentum']}, dampening={group['dampening']}")
        return group

    def _plain_rate(self, group: dict[str, Any]) -> float | None:
        # No momentum, no weight decay, and the formula below not overridden: _update is param -= lr * grad.
        if group["momentum"] or group["weight_decay"] or type(self)._update is not SGD._update:
            return None
        return group["lr"]

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        momentum, weight_decay = group["momentum"], group["weight_decay"]
        if weight_decay:
            grad = grad + weight_decay * param
        if momentum:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = np.array(grad, dtype=param.dtype, copy=True)
            else:
                buffer *= momentum
                buffer += (1.0 - group["dampening"]) * grad
            grad = grad + momentum * buffer if group["nesterov"] else buffer
        param -= group["lr"] * grad
