"""In-place changes and tensor versions: a backward that would read a value changed in place raises.

Nothing is recorded per op.  An in-place change (``+=`` on a Tensor, an optimizer step) takes a
sequence number and notes it against the array it changed; the walk checks a node only if some
change came after the node was made (one integer comparison per node otherwise), and then raises
PyTorch's "modified by an inplace operation" error if the node's rule reads a changed value.
"""
from __future__ import annotations

import dis
import functools
import inspect
import weakref
from typing import TYPE_CHECKING, Any, Optional, Sequence

import numpy as np

from .function import Function, _ndarray, _next_sequence

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["mark_changed_in_place", "mark_changed_in_place_all", "version_of"]

_last_change = -1     # sequence number of the latest in-place change
_changed: dict = {}   # id of the array that owns the memory -> (sequence number, weak reference, tensor version)
# Both keyed by id(tensor) (a Tensor's == is elementwise), each entry dropped when its tensor dies:
_rebound: dict = {}   # -> [(sequence, ctx, data)] it had before an in-place op in grad mode
_versions: dict = {}  # -> its version, for tensors changed at least once
_values_used_by: dict = {}  # Function class -> (uses its output, which inputs), read from its rule


def _owner(array: np.ndarray) -> np.ndarray:
    while isinstance(array.base, _ndarray):
        array = array.base
    return array


def _forget(key: int, reference: Any) -> None:
    entry = _changed.get(key)
    if entry is not None and entry[1] is reference:
        del _changed[key]


def version_of(tensor: "Tensor") -> int:
    """How many times ``tensor`` was changed in place (``Tensor._version``); kept here, so ops pay nothing for it."""
    return _versions.get(id(tensor), 0)


def _drop_tensor(key: int, _reference: Any) -> None:
    _versions.pop(key, None)
    _rebound.pop(key, None)


def mark_changed_in_place(tensor: "Tensor", previous: Optional[tuple] = None) -> None:
    """Record that ``tensor``'s values were changed in place: bump its version (``tensor._version``).

    A later backward through a node that saved those values (made before the
    change) raises instead of computing with the new ones.  ``previous`` is the
    ``(ctx, data)`` the tensor had when an in-place op in grad mode gave it a new
    node and array: nodes made before still send gradients to the old node.
    """
    global _last_change
    tensor_key = id(tensor)
    if tensor_key not in _versions:
        weakref.finalize(tensor, _drop_tensor, tensor_key, None)
    version = _versions[tensor_key] = _versions.get(tensor_key, 0) + 1
    sequence = _last_change = _next_sequence()
    array = _owner(tensor.data if previous is None else previous[1])
    key = id(array)
    entry = _changed.get(key)
    if entry is not None and entry[1]() is array:  # changed before (each optimizer step): reuse its reference
        reference = entry[1]
    else:
        reference = weakref.ref(array, functools.partial(_forget, key))
    _changed[key] = (sequence, reference, version)
    if previous is not None:
        _rebound.setdefault(tensor_key, []).append((sequence,) + tuple(previous))


def mark_changed_in_place_all(tensors: Sequence["Tensor"]) -> None:
    """`mark_changed_in_place` for the tensors one optimizer step changed, all at one moment.

    The same record at about a third of the cost per tensor: one sequence
    number for the step, the version counter bumped directly.
    """
    global _last_change
    sequence = _last_change = _next_sequence()
    versions, changed = _versions, _changed
    for tensor in tensors:
        tensor_key = id(tensor)
        version = versions.get(tensor_key)
        if version is None:
            weakref.finalize(tensor, _drop_tensor, tensor_key, None)
            version = 0
        version = versions[tensor_key] = version + 1
        array = tensor._data
        if array.base is not None:
            array = _owner(array)
        key = id(array)
        entry = changed.get(key)
        reference = entry[1] if entry is not None and entry[1]() is array else \
            weakref.ref(array, functools.partial(_forget, key))
        changed[key] = (sequence, reference, version)


def _values_used(cls: Any) -> tuple:
    """(uses ``out``, uses each input or None for all) of a built-in rule, read from its code; cached."""
    found = _values_used_by.get(cls)
    if found is None:
        code = cls.vjp.__code__
        loaded: set = set()
        for instruction in dis.get_instructions(code):
            if instruction.opname.startswith(("LOAD_FAST", "LOAD_DEREF", "LOAD_CLOSURE")):
                value = instruction.argval
                loaded.update(value if isinstance(value, tuple) else (value,))
        names = code.co_varnames[:code.co_argcount]
        varargs = code.co_varnames[code.co_argcount] if code.co_flags & inspect.CO_VARARGS else None
        found = _values_used_by[cls] = (len(names) > 3 and names[3] in loaded,
                                        tuple(name in loaded for name in names[4:]),
                                        varargs is not None and varargs in loaded)
    return found


def _changed_since(array: Any, sequence: int) -> Optional[int]:
    """The tensor version after the latest change of ``array`` made after ``sequence``, or None."""
    if type(array) is not _ndarray:
        return None
    owner = _owner(array)
    entry = _changed.get(id(owner))
    if entry is None or entry[0] < sequence or entry[1]() is not owner:
        return None
    return entry[2]


def _modified_error(node: Function, what: str, array: np.ndarray, version: int) -> RuntimeError:
    return RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"{what} of '{node.op_name}' (a {array.dtype} tensor of shape {array.shape}) was changed in place after "
        f"'{node.op_name}' saved it (that tensor is now at version {version}). Hint: make the change after "
        "backward, or on a copy (`x = x + 1` instead of `x += 1`); an optimizer step counts as one."
    )


def _inputs_as_recorded(node: Function) -> tuple:
    """For a node made before some in-place change: raise if its rule needs a changed value; its inputs as it saw them."""
    sequence = node.sequence
    if type(node).vjp is Function.vjp:  # a custom op: what it saved
        saved = node.saved if type(node.saved) is tuple else ()
        for index, value in enumerate(saved):
            version = _changed_since(value, sequence)
            if version is not None:
                raise _modified_error(node, f"saved tensor {index}", value, version)
    else:
        uses_output, uses_inputs, uses_rest = _values_used(type(node))
        version = _changed_since(node.output_data, sequence) if uses_output else None
        if version is not None:
            raise _modified_error(node, "output 0", node.output_data, version)
        for index, data in enumerate(node.input_data):
            if uses_inputs[index] if index < len(uses_inputs) else uses_rest:
                version = _changed_since(data, sequence)
                if version is not None:
                    raise _modified_error(node, f"input {index}", data, version)
    inputs = node.inputs
    if _rebound:
        recorded = list(inputs)
        for index, tensor in enumerate(inputs):
            for changed_at, ctx, data in _rebound.get(id(tensor), ()):
                if changed_at > sequence:  # the first rebinding after the node: what the node was made from
                    recorded[index] = tensor._make(data, ctx, ctx is not None)
                    break
        inputs = tuple(recorded)
    return inputs
