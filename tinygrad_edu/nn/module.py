"""`Module`: the base class of every layer and model, and safe checkpoints.

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

import math
import os
import re
import tempfile
import weakref
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from tinygrad_edu.tensor import Tensor

__all__ = ["CheckpointError", "IncompatibleKeys", "Module", "Parameter", "StateDictKeyError"]


class StateDictKeyError(KeyError):
    """Raised by `load_state_dict(strict=True)` for missing or unexpected names.

    A `KeyError` whose message prints as plain text (KeyError normally shows
    the repr of its argument, which mangles multi-line messages).
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class CheckpointError(ValueError):
    """Raised by `Module.load` when a file is not a readable checkpoint
    (truncated, corrupted, not an `.npz`, or holding pickled objects)."""


class IncompatibleKeys(NamedTuple):
    """What `load_state_dict(strict=False)` skipped, as in PyTorch."""

    missing_keys: list[str]
    unexpected_keys: list[str]


# Which module calls returned which tensor, so that drawings and traces can show each op inside
# the module that ran it. One entry per module call that built a graph (none under no_grad),
# keyed by id() and checked through a weak reference, so it keeps no tensor alive; dead entries
# are swept every _SWEEP_EVERY new entries. Costs nothing per op, about a microsecond per call.
_CALLS: dict = {}  # id(output) -> (weak ref to output, [(module, [(id(arg), id(arg._ctx)), ...])])
_SWEEP_EVERY = 4096
_new_entries = 0


def _record_call(module: Module, args: tuple, output: Tensor) -> None:
    global _new_entries
    entry = _CALLS.get(id(output))
    if entry is None or entry[0]() is not output:
        _new_entries += 1
        if _new_entries % _SWEEP_EVERY == 0:
            for key in [key for key, (ref, _) in _CALLS.items() if ref() is None]:
                del _CALLS[key]
        entry = _CALLS[id(output)] = (weakref.ref(output), [])
    calls: list = entry[1]
    calls.append((module, [(id(a), id(a._ctx)) for a in args if isinstance(a, Tensor)]))


def module_calls(tensor: Tensor) -> list:
    """``[(module, input ids)]`` of the module calls that returned ``tensor``, innermost first.

    ``input ids`` are ``(id(arg), id(arg._ctx))`` for each Tensor argument of
    the call (the ids stay valid while ``tensor`` and its graph are alive).
    Empty for a tensor no module returned (or one made under ``no_grad``).
    """
    entry = _CALLS.get(id(tensor))
    if entry is None or entry[0]() is not tensor:
        return []
    return list(entry[1])


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


def _failure(module: Module, problems: list[str]) -> str:
    return "\n".join([f"load_state_dict for {type(module).__name__} failed (nothing was loaded):"] + problems)


def _check_names(module: Module, own: Mapping[str, Any], given: Iterable[str],
                 strict: bool) -> tuple[list[str], list[str]]:
    """Missing and unexpected names; with `strict`, raise `StateDictKeyError` if there are any."""
    given = list(given)
    missing = [name for name in own if name not in given]
    unexpected = [name for name in given if name not in own]
    if strict and (missing or unexpected):
        lines = []
        if missing:
            lines.append(f"  missing keys: {missing}")
        if unexpected:
            lines.append(f"  unexpected keys: {unexpected}")
        lines.append(f"  the model expects: {list(own)}")
        raise StateDictKeyError(_failure(module, lines))
    return missing, unexpected


def _mismatches(own: Mapping[str, np.ndarray], given: Mapping[str, tuple[tuple[int, ...], np.dtype]]) -> list[str]:
    """One line per entry of `given` whose shape or dtype cannot go into the model's array of that name."""
    problems = []
    for name, (shape, dtype) in given.items():
        target = own[name]
        if tuple(shape) != target.shape:
            problems.append(f"  {name}: checkpoint has shape {tuple(shape)}, model has {target.shape}")
        elif not np.can_cast(dtype, target.dtype, casting="same_kind"):
            problems.append(f"  {name}: cannot cast checkpoint dtype {dtype} to model dtype {target.dtype}")
    return problems


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
        if type(output) is Tensor and output._ctx is not None:
            _record_call(self, args, output)  # for viz: which module made which result
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


_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip archive with members / an empty one


def _read_checkpoint(path: str, module: Module, own: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Read the arrays of an `.npz` file for `module`, or raise one `CheckpointError` naming the file."""
    try:
        # Open the file ourselves: np.load(path) leaks its handle when the zip is unreadable.
        with open(path, "rb") as file:
            magic = file.read(4)
            if magic in _ZIP_MAGIC:
                file.seek(0)
                with zipfile.ZipFile(file) as archive:
                    return _read_members(archive, path, module, own)
    except FileNotFoundError:
        raise FileNotFoundError(f"no checkpoint at {path!r}") from None
    except (CheckpointError, StateDictKeyError):
        raise
    except (zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError, KeyError, RuntimeError,
            NotImplementedError) as error:
        raise CheckpointError(f"could not read checkpoint {path!r} (truncated or corrupted?): "
                              f"{type(error).__name__}: {error}") from error
    # np.load would call any non-zip file "pickled data"; say what it really is.
    what = "a single .npy array" if magic.startswith(b"\x93NUM") else f"not a zip archive (starts with {magic!r})"
    raise CheckpointError(f"could not read checkpoint {path!r}: it is {what}, not an .npz archive "
                          "of named arrays as written by Module.save")


def _read_members(archive: zipfile.ZipFile, path: str, module: Module,
                  own: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Check everything the archive declares (names, shapes, dtypes, sizes), then read the data.

    Only the zip directory and each member's small `.npy` header are read
    before the checks; a member's data is decompressed only once its size is
    known to equal what the model holds, and zipfile stops at the declared size.
    """
    members: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        name = info.filename.removesuffix(".npy")
        if name == info.filename:
            raise CheckpointError(f"checkpoint {path!r}: member {info.filename!r} is not an .npy array")
        if name in members:
            raise CheckpointError(f"checkpoint {path!r}: array {name!r} appears twice")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise CheckpointError(f"checkpoint {path!r}: member {info.filename!r} uses zip compression method "
                                  f"{info.compress_type}; only stored and deflated members are read")
        members[name] = info
    declared = {name: _declared_array(archive, info, path) for name, info in members.items()}
    _check_names(module, own, declared, strict=True)
    problems = _mismatches(own, declared)
    if problems:
        raise CheckpointError("\n".join([f"checkpoint {path!r} does not fit {type(module).__name__} "
                                         "(nothing was loaded, no array data was read):"] + problems))
    arrays = {}
    for name, info in members.items():
        with archive.open(info) as member:
            arrays[name] = np.lib.format.read_array(member, allow_pickle=False)
    return arrays


def _declared_array(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: str) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) from a member's `.npy` header, checked against the member's declared size."""
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(member)
        elif version in ((2, 0), (3, 0)):
            shape, _, dtype = np.lib.format.read_array_header_2_0(member)
        else:
            raise CheckpointError(f"checkpoint {path!r}: {info.filename} has unknown .npy format version {version}")
        header_size = member.tell()
    if dtype.kind not in "biufc":
        raise CheckpointError(f"checkpoint {path!r}: {info.filename} holds dtype {dtype}; "
                              "a checkpoint holds only numeric arrays (bool, int, float, complex)")
    if any(size < 0 for size in shape):
        raise CheckpointError(f"checkpoint {path!r}: {info.filename} declares a negative shape {shape}")
    data_size = math.prod(shape) * dtype.itemsize
    if info.file_size != header_size + data_size:
        raise CheckpointError(f"checkpoint {path!r}: {info.filename} declares an array of shape {shape} and dtype "
                              f"{dtype} ({data_size} bytes) but holds {info.file_size - header_size} bytes of data")
    return shape, dtype


def _write_npz(file: Any, arrays: Mapping[str, np.ndarray]) -> None:
    """Write arrays into an open binary file in NumPy's `.npz` layout.

    Done by hand rather than with `np.savez(file, **arrays)` because a
    parameter named `file` or `allow_pickle` would collide with savez's own
    arguments; the bytes are the same layout `np.load` reads.
    """
    with zipfile.ZipFile(file, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(name + ".npy", mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def _remove_stale_temporaries(target: str) -> None:
    """Delete `.NAME.PID.XXXXXXXX.tmp` files that `save` left when process PID was killed mid-write."""
    directory, name = os.path.split(target)
    pattern = re.compile(re.escape(f".{name}.") + r"(\d+)\.[a-z0-9_]+\.tmp")
    for entry in os.scandir(directory):
        match = pattern.fullmatch(entry.name)
        if match and not _process_alive(int(match.group(1))) and entry.is_file(follow_symlinks=False):
            try:
                os.unlink(entry.path)
            except OSError:
                pass  # someone else removed it, or we may not: it only costs disk space


def _process_alive(pid: int) -> bool:
    """True unless `pid` surely runs no longer (signal 0 probes without signalling; POSIX only)."""
    if os.name != "posix" or pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # e.g. PermissionError: it exists, owned by another user
    return True


def _default_file_mode(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o777  # keep an existing file's permissions
    except FileNotFoundError:
        return 0o644


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); best effort elsewhere."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
