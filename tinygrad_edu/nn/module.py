"""`Module`: the base class of every layer and model (its checkpoint files: `nn.checkpoint`).

A module is any object whose attributes hold its parameters and sub-modules.
There is no registration step: a *leaf* `Tensor` with `requires_grad=True`
found in an attribute (directly, or inside a list, tuple or dict, or inside a
nested module) **is** a parameter. Tensors that are state but not trained
(BatchNorm's running statistics) are declared with `register_buffer`; they go
into `state_dict()` but not `parameters()`.

Consequence worth knowing: `p.requires_grad_(False)` makes `p` stop being a
parameter (it leaves `parameters()` and `state_dict()`); to keep a frozen
tensor in checkpoints, register it as a buffer.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from tinygrad_edu.nn import calls as _calls
from tinygrad_edu.nn.calls import module_calls  # noqa: F401 (drawings read the records here too)
from tinygrad_edu.nn.checkpoint import (  # the module's names, so tests can patch how save writes
    CheckpointError,
    StateDictKeyError,
    _check_names,
    _default_file_mode,
    _failure,
    _fsync_directory,
    _mismatches,
    _read_checkpoint,
    _remove_stale_temporaries,
    _write_npz,
)
from tinygrad_edu.tensor import Tensor

__all__ = ["CheckpointError", "IncompatibleKeys", "Module", "Parameter", "StateDictKeyError"]


class IncompatibleKeys(NamedTuple):
    """What `load_state_dict(strict=False)` skipped, as in PyTorch."""

    missing_keys: list[str]
    unexpected_keys: list[str]


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _walk(value: Any, name: str, seen: set[int], owner: Module | None,
          attribute: str | None) -> Iterator[tuple[str, str, Any]]:
    """Depth-first walk in attribute insertion order, each object once.

    Yields `(kind, dotted_name, object)` with kind "module", "parameter" or
    "buffer". `owner`/`attribute` say where a tensor was found, because only
    a tensor stored directly in a module attribute can be a registered buffer.
    """
    if id(value) in seen:
        return
    if isinstance(value, Tensor):
        if value.requires_grad and value.is_leaf:
            kind = "parameter"
        elif owner is not None and attribute in owner._buffer_names:
            kind = "buffer"
        else:
            return
        seen.add(id(value))
        yield kind, name, value
    elif isinstance(value, Module):
        seen.add(id(value))
        yield "module", name, value
        for child_name, child in vars(value).items():
            yield from _walk(child, _join(name, child_name), seen, value, child_name)
    elif isinstance(value, (list, tuple)):
        seen.add(id(value))
        for index, item in enumerate(value):
            yield from _walk(item, _join(name, str(index)), seen, owner, None)
    elif isinstance(value, dict):
        seen.add(id(value))
        for key, item in value.items():
            yield from _walk(item, _join(name, str(key)), seen, owner, None)


class Module:
    """Base class for layers and models: subclass it and write `forward`.

    >>> import numpy as np
    >>> from tinygrad_edu import Tensor
    >>> class Scale(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.factor = Tensor([2.0], requires_grad=True)   # a parameter
    ...     def forward(self, x):
    ...         return x * self.factor
    >>> [name for name, _ in Scale().named_parameters()]
    ['factor']
    """

    # Class-level defaults, so a subclass that forgets super().__init__() still works.
    training: bool = True
    _buffer_names: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.training = True

    # ----- calling -------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Compute the module's output; subclasses must override it."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        output = self.forward(*args, **kwargs)
        if _calls.recording and type(output) is Tensor and output._ctx is not None:
            _calls.record_call(self, args, output)  # for drawings: which module made which result
        return output

    # ----- discovery -----------------------------------------------------------
    def register_buffer(self, name: str, tensor: Tensor) -> None:
        """Store `tensor` as attribute `name`: saved in `state_dict()`, not trained.

        Used for state such as BatchNorm's `running_mean`.
        """
        if not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer('{name}'): expected a Tensor, got {type(tensor).__name__}")
        setattr(self, name, tensor)
        if name not in self._buffer_names:
            self._buffer_names = self._buffer_names + (name,)

    def _members(self, kind: str) -> Iterator[tuple[str, Any]]:
        for found_kind, name, value in _walk(self, "", set(), None, None):
            if found_kind == kind:
                yield name, value

    def named_parameters(self) -> Iterator[tuple[str, Tensor]]:
        """Yield `(dotted_name, parameter)` pairs, e.g. `("layers.0.weight", w)`.

        Order is attribute insertion order, depth first; a parameter shared by
        two attributes appears once, under the first name found.
        """
        return self._members("parameter")

    def parameters(self) -> Iterator[Tensor]:
        """Yield every parameter once (see `named_parameters` for the order)."""
        return (param for _, param in self.named_parameters())

    def named_buffers(self) -> Iterator[tuple[str, Tensor]]:
        """Yield `(dotted_name, buffer)` for the tensors registered as buffers."""
        return self._members("buffer")

    def buffers(self) -> Iterator[Tensor]:
        """Yield every buffer once."""
        return (buffer for _, buffer in self.named_buffers())

    def named_modules(self) -> Iterator[tuple[str, Module]]:
        """Yield `(dotted_name, module)` for this module (name "") and all below it."""
        return self._members("module")

    def modules(self) -> Iterator[Module]:
        """Yield this module and every module below it, each once."""
        return (module for _, module in self.named_modules())

    def children(self) -> Iterator[Module]:
        """Yield the modules one level below this one."""
        return (module for name, module in self.named_modules() if name and "." not in name)

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call `fn(module)` on every module (e.g. custom initialisation); return self."""
        for module in self.modules():
            fn(module)
        return self

    # ----- training helpers ----------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient: `.grad = None` (PyTorch's default), or zeros in place."""
        for param in self.parameters():
            if set_to_none or param.grad is None:
                param.grad = None
            else:
                param.grad.data[...] = 0

    def train(self, mode: bool = True) -> Module:
        """Put this module and all below it in training mode (or eval mode if `mode` is False)."""
        for module in self.modules():
            module.training = bool(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: Dropout is the identity, BatchNorm uses its running statistics."""
        return self.train(False)

    def to(self, dtype: Any) -> Module:
        """Cast every floating parameter and buffer to `dtype` in place; return self.

        The Tensor objects stay the same (optimizers holding them keep working);
        gradients are dropped. `model.to(np.float64)` is handy for gradcheck.
        """
        dtype = np.dtype(dtype)
        if not np.issubdtype(dtype, np.floating):
            raise TypeError(f"Module.to expects a floating dtype, got {dtype}")
        for _, tensor in self._state_tensors():
            if np.issubdtype(tensor.data.dtype, np.floating):
                tensor.data = tensor.data.astype(dtype)
                tensor.grad = None
        return self

    def double(self) -> Module:
        """Cast floating parameters and buffers to float64 (see `to`)."""
        return self.to(np.float64)

    def float(self) -> Module:
        """Cast floating parameters and buffers to float32 (see `to`)."""
        return self.to(np.float32)

    # ----- state ---------------------------------------------------------------
    def _state_tensors(self) -> Iterator[tuple[str, Tensor]]:
        for kind, name, value in _walk(self, "", set(), None, None):
            if kind != "module":
                yield name, value

    def state_dict(self) -> dict[str, np.ndarray]:
        """Return `{dotted_name: copy of the array}` for every parameter and buffer."""
        return {name: tensor.data.copy() for name, tensor in self._state_tensors()}

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy arrays from `state_dict` into this module's parameters and buffers.

        Everything is validated before anything changes: with `strict=True` a
        missing or unexpected name raises `StateDictKeyError` (a `KeyError`);
        a shape mismatch or a dtype that cannot be cast (`same_kind`) raises
        `ValueError`; on error the module is left exactly as it was. Values are
        copied into the existing arrays, so tensors keep their identity and dtype.
        Returns the `(missing_keys, unexpected_keys)` that were skipped.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict expects a mapping of name -> array, got {type(state_dict).__name__}")
        own = {name: tensor.data for name, tensor in self._state_tensors()}
        missing, unexpected = _check_names(self, own, state_dict, strict)
        arrays = {name: np.asarray(state_dict[name]) for name in own if name in state_dict}
        problems = _mismatches(own, {name: (array.shape, array.dtype) for name, array in arrays.items()})
        if problems:
            raise ValueError(_failure(self, problems))
        for name, array in arrays.items():
            own[name][...] = array
        return IncompatibleKeys(missing, unexpected)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write `state_dict()` to `path` as an `.npz` archive, atomically, without pickle.

        The file is exactly `path` (no `.npz` is appended, unlike `np.savez`
        given a name). It is first written to a temporary file in the same
        directory, flushed to disk, then renamed over `path` with `os.replace`,
        so a crash mid-save leaves any previous file whole. If `path` is a
        symbolic link, the file it points to is replaced and the link stays.
        Temporaries left behind by a save that was killed (named
        `.NAME.PID.XXXXXXXX.tmp`, whose process PID is gone) are removed by
        the next save to the same path. Read the file back with `load`, or
        with `np.load(path, allow_pickle=False)`.
        """
        path = os.fspath(path)
        target = os.path.realpath(path)  # follow symlinks: replace the file, keep the link
        directory = os.path.dirname(target)
        if not os.path.isdir(directory):
            raise FileNotFoundError(f"cannot save to {path!r}: directory {directory!r} does not exist")
        if os.path.isdir(target):
            raise IsADirectoryError(f"cannot save to {path!r}: it is a directory; give a file name such as "
                                    f"{os.path.join(path, 'model.npz')!r}")
        state = self.state_dict()
        _remove_stale_temporaries(target)
        descriptor, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.{os.getpid()}.",
                                                 suffix=".tmp", dir=directory)
        try:
            with os.fdopen(descriptor, "wb") as file:
                _write_npz(file, state)
                file.flush()
                os.fsync(file.fileno())
            # mkstemp creates the file 0600; give it the mode a plain open() would.
            os.chmod(temporary, _default_file_mode(target))
            os.replace(temporary, target)
        except BaseException:
            try:
                os.unlink(temporary)
            except FileNotFoundError:
                pass
            raise
        _fsync_directory(directory)

    def load(self, path: str | os.PathLike[str]) -> Module:
        """Load a checkpoint written by `save` into this module and return the module.

        A missing file raises `FileNotFoundError`; a truncated, corrupted or
        foreign file raises `CheckpointError` (a `ValueError`) naming the file;
        mismatched names raise `StateDictKeyError` as in `load_state_dict`.
        Names, shapes and dtypes are checked from each array's `.npy` header,
        and each member's declared size against them, *before* any array data
        is read or decompressed, so a small file declaring a huge array (or a
        zip bomb) raises `CheckpointError` using a few kilobytes of memory.
        In every error case the module is unchanged.
        """
        own = {name: tensor.data for name, tensor in self._state_tensors()}
        state = _read_checkpoint(os.fspath(path), self, own)
        self.load_state_dict(state)
        return self

    # ----- printing ------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr (override it)."""
        return ""

    def __repr__(self) -> str:
        children = [(name, value) for name, value in vars(self).items() if isinstance(value, Module)]
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, child in children:
            child_text = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child_text}")
        lines.append(")")
        return "\n".join(lines)


def Parameter(data: Any, dtype: Any = None) -> Tensor:
    """A trainable tensor: `Tensor(data, requires_grad=True)`.

    There is no separate Parameter class; this helper only exists so code
    written for PyTorch (`nn.Parameter(...)`) reads the same.
    """
    return Tensor(data, requires_grad=True, dtype=dtype)


def call_with_one_input(module: Module, x: Any) -> Any:
    """``module(x)``; a plain function, which Python calls more cheaply than a module (the containers' per-layer path).

    A module whose class replaces ``__call__`` is called as it is; otherwise this is
    `Module.__call__` for one input: ``forward``, and the record drawings read.
    """
    if type(module).__call__ is not _module_call:
        return module(x)
    output = module.forward(x)
    if _calls.recording and type(output) is Tensor and output._ctx is not None:
        _calls.record_call(module, (x,), output)
    return output


_module_call = Module.__call__
