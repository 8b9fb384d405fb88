"""An optimizer's state in two layouts: PyTorch's nested dict, and flat arrays for `np.savez`.

`optimizer.state_dict()` returns PyTorch's layout::

    {"state": {0: {"step": 3, "exp_avg": array, ...}, 1: {...}},      # by parameter index
     "param_groups": [{"lr": 0.01, "betas": (0.9, 0.999), ..., "params": [0, 1]}]}

Parameters are numbered group after group, as PyTorch numbers them. NumPy stores
only flat name -> array archives without pickle, so to save one to disk::

    np.savez("opt.npz", **optim.flatten_state_dict(optimizer.state_dict()))
    optimizer.load_state_dict(dict(np.load("opt.npz")))    # takes either layout

The flat names are "param_groups.<g>.<setting>" and "state.<i>.<key>" (what
`state_dict()` returned before it took PyTorch's layout, so older files load too).

>>> import numpy as np
>>> flat = flatten_state_dict({"state": {0: {"step": 2}}, "param_groups": [{"lr": 0.1, "params": [0]}]})
>>> sorted(flat)
['param_groups.0.lr', 'param_groups.0.params', 'state.0.step']
>>> unflatten_state_dict(flat)
{'state': {0: {'step': 2}}, 'param_groups': [{'lr': 0.1, 'params': [0]}]}
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["flatten_state_dict", "is_nested_state_dict", "unflatten_state_dict"]


def is_nested_state_dict(state_dict: Any) -> bool:
    """True for PyTorch's layout (a mapping with "state" and "param_groups"), False for flat names."""
    return isinstance(state_dict, Mapping) and "state" in state_dict and "param_groups" in state_dict


def flatten_state_dict(state_dict: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """PyTorch's nested optimizer state as flat `{name: array}` copies, which `np.savez` stores without pickle."""
    if not is_nested_state_dict(state_dict):
        raise TypeError("flatten_state_dict expects an optimizer's state_dict(), a dict with 'state' and "
                        f"'param_groups', got {type(state_dict).__name__} with keys {list(state_dict)[:5]}")
    flat: dict[str, np.ndarray] = {}
    for group_index, group in enumerate(state_dict["param_groups"]):
        for key, value in group.items():
            flat[f"param_groups.{group_index}.{key}"] = np.array(value, copy=True)
    for index, state in state_dict["state"].items():
        for key, value in state.items():
            flat[f"state.{int(index)}.{key}"] = np.array(value, copy=True)
    return flat


def _setting(key: str, array: np.ndarray) -> Any:
    """A group setting back in the Python type the optimizers keep it in."""
    if key == "params":
        return [int(index) for index in array.reshape(-1)]
    if array.dtype == np.bool_ and array.ndim == 0:
        return bool(array)
    if array.ndim == 1:  # betas
        return tuple(float(value) for value in array)
    if array.ndim == 0 and np.issubdtype(array.dtype, np.number):
        return float(array)
    return array.copy()


def unflatten_state_dict(flat: Mapping[str, Any]) -> dict[str, Any]:
    """The flat names of `flatten_state_dict` (or of `np.load`) back in PyTorch's nested layout."""
    groups: dict[int, dict[str, Any]] = {}
    state: dict[int, dict[str, Any]] = {}
    for name, value in flat.items():
        parts = name.split(".")
        if len(parts) != 3 or parts[0] not in ("param_groups", "state") or not parts[1].isdigit():
            raise ValueError(f"unflatten_state_dict: unexpected entry {name!r}; flat names are "
                             "'param_groups.<g>.<setting>' and 'state.<parameter index>.<key>'")
        array = np.asarray(value)
        index, key = int(parts[1]), parts[2]
        if parts[0] == "param_groups":
            groups.setdefault(index, {})[key] = _setting(key, array)
        else:
            state.setdefault(index, {})[key] = int(array) if key == "step" else array.copy()
    if sorted(groups) != list(range(len(groups))):
        raise ValueError(f"unflatten_state_dict: parameter groups {sorted(groups)} are not numbered 0, 1, ...")
    return {"state": dict(sorted(state.items())), "param_groups": [groups[index] for index in sorted(groups)]}
