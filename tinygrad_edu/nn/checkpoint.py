"""Safe checkpoints: the `.npz` files `Module.save` writes and `Module.load` reads, and the checks on them.

Every check runs before anything is loaded (names, shapes, dtypes, each
member's declared size), so a bad file or state dict leaves the module as it
was; files are written atomically and never hold pickled objects.
"""
from __future__ import annotations

import math
import os
import re
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

__all__ = ["CheckpointError", "StateDictKeyError"]


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



def _failure(module: Any, problems: list[str]) -> str:
    return "\n".join([f"load_state_dict for {type(module).__name__} failed (nothing was loaded):"] + problems)


def _check_names(module: Any, own: Mapping[str, Any], given: Iterable[str],
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


_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip archive with members / an empty one


def _read_checkpoint(path: str, module: Any, own: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
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


def _read_members(archive: zipfile.ZipFile, path: str, module: Any,
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
