"""Argument checks: what every public op validates before any NumPy call, with errors that name the values.

Shared by the Tensor methods (``tensor.py``, ``composite.py``) and the reduction
primitives; nothing here knows the Tensor class or the graph.
"""
from __future__ import annotations

import math
from typing import Any, Sequence, Union

import numpy as np

Axis = Union[None, int, Sequence[int]]

__all__ = [
    "Axis", "AxisError", "index_arg", "kept_shape", "normalize_axes", "pair", "reshape_target", "shape_arg",
    "torch_names"]


class AxisError(IndexError, ValueError):
    """An axis out of range for the tensor (both an IndexError and a ValueError, like NumPy's)."""


def normalize_axes(axis, ndim: int, op: str):
    """``axis`` (None, an int or a tuple of ints, negatives from the end) as a sorted tuple, validated."""
    if axis is None:
        return tuple(range(ndim))
    if type(axis) is int and -ndim <= axis < ndim:  # the common cases, checked cheaply
        return (axis % ndim,)
    if type(axis) is tuple and all(type(item) is int and 0 <= item < ndim for item in axis) \
            and list(axis) == sorted(set(axis)):
        return axis
    items = (axis,) if isinstance(axis, (int, np.integer)) else axis
    try:
        items = tuple(items)
    except TypeError:
        raise TypeError(f"{op}: axis must be None, an int or a tuple of ints, got {axis!r}") from None
    axes = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (int, np.integer)):
            raise TypeError(f"{op}: axis must be None, an int or a tuple of ints, got {axis!r}")
        if not -max(ndim, 1) <= item < max(ndim, 1):  # a 0-d tensor takes axis 0 and -1, as in PyTorch
            raise AxisError(
                f"{op}: axis {item} is out of range for a tensor with {ndim} dimension"
                f"{'s' if ndim != 1 else ''} (valid: {-max(ndim, 1)} to {max(ndim, 1) - 1})"
            )
        axes.append(int(item) % ndim if ndim else 0)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: axis {axis!r} repeats an axis")
    return tuple(sorted(axes)) if ndim else ()


def kept_shape(shape: tuple, axes: tuple) -> tuple:
    """The shape of a reduction with keepdim=True."""
    return tuple(1 if i in axes else size for i, size in enumerate(shape))


def shape_arg(shape: tuple, op: str) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for size in shape:
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 0:
            raise ValueError(f"{op}: shape must be non-negative ints, got {shape}")
    return tuple(int(size) for size in shape)


def reshape_target(shape: tuple, current: tuple) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for size in shape:
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < -1:
            raise ValueError(f"reshape: sizes must be ints >= 0 (one -1 allowed), got {shape}")
    shape = tuple(int(size) for size in shape)
    count = math.prod(current)
    if shape.count(-1) > 1:
        raise ValueError(f"reshape: only one -1 is allowed, got {shape}")
    if -1 in shape:
        known = math.prod(size for size in shape if size != -1)
        if known == 0 or count % known:
            raise ValueError(f"reshape: cannot reshape shape {current} ({count} elements) into {shape}")
        shape = tuple(count // known if size == -1 else size for size in shape)
    if math.prod(shape) != count:
        raise ValueError(
            f"reshape: cannot reshape shape {current} ({count} elements) into {shape} ({math.prod(shape)} elements)"
        )
    return shape


def index_arg(index: Any) -> Any:
    items = index if isinstance(index, tuple) else (index,)
    converted = []
    for item in items:
        if hasattr(item, "_graph_ops"):  # a Tensor of indices
            item = item.data
        elif isinstance(item, list):
            item = np.asarray(item)
        if isinstance(item, np.ndarray) and item.dtype.kind not in "biu":
            raise IndexError(f"indices must be integers or booleans, got an array of dtype {item.dtype}; "
                             "cast the index to int64 first (`index.cast(np.int64)`)")
        if isinstance(item, float):
            raise IndexError(f"indices must be integers, got {item!r}")
        converted.append(item)
    return tuple(converted)


def pair(value: Any, name: str, minimum: int) -> tuple:
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum for v in pair):
        raise ValueError(f"{name} must be an int >= {minimum} or a pair of them, got {value!r}")
    return (int(pair[0]), int(pair[1]))


# ---------------------------------------------------------------- PyTorch's and NumPy's argument names

def torch_names(function: Any) -> Any:
    """Let ``function`` also answer to PyTorch's/NumPy's names: ``dim`` <-> ``axis``, ``keepdims`` for
    ``keepdim``, ``unbiased`` (True = ``correction=1``) for ``correction``.

    The one place these aliases live.  Giving both names of one argument raises
    TypeError.  The wrapper is generated with the function's own parameters plus
    ``**aliases``, so a call that uses no alias costs one extra call and one
    test per aliased parameter (about 0.1 us; the op itself costs 5-20 us).
    """
    import functools
    import inspect

    params = inspect.signature(function).parameters
    renames = {}
    if "axis" in params:
        renames["dim"] = "axis"
    elif "dim" in params:
        renames["axis"] = "dim"
    if "keepdim" in params:
        renames["keepdims"] = "keepdim"
    if "correction" in params:
        renames["unbiased"] = "correction"
    names = list(params)
    if any(param.kind is not param.POSITIONAL_OR_KEYWORD for param in params.values()) \
            or any(alias in params for alias in renames):
        return _renaming_wrapper(function, renames)
    aliased = [name for name in names if name in renames.values()]
    defaults = {name: param.default for name, param in params.items()}
    # Aliased parameters default to _UNSET, so that "given both names" is told apart from "given the default".
    header = ", ".join(f"{name}=_UNSET" if name in aliased else
                       name if defaults[name] is inspect.Parameter.empty else f"{name}=_defaults[{name!r}]"
                       for name in names)
    passed = ", ".join(f"(_defaults[{name!r}] if {name} is _UNSET else {name})" if name in aliased else name
                       for name in names)
    required = [name for name in aliased if defaults[name] is inspect.Parameter.empty]  # unsqueeze(dim=0)
    test = " or ".join(["aliases"] + [f"{name} is _UNSET" for name in required])
    source = (f"def {function.__name__}({header}, **aliases):\n"
              f"    if {test}:\n"
              f"        {', '.join(names)}, = _translate(aliases, ({', '.join(names)},))\n"
              f"    return _function({passed})\n")
    names_tuple = tuple(names)

    def translate(aliases: dict, values: tuple) -> tuple:
        given = dict(zip(names_tuple, values))
        for alias, value in aliases.items():
            canonical = renames.get(alias)
            if canonical is None:
                raise TypeError(f"{function.__name__}() got an unexpected keyword argument {alias!r}")
            if given[canonical] is not _UNSET:
                raise TypeError(f"{function.__name__}() got both {canonical!r} and its alias {alias!r}; give one")
            given[canonical] = (1 if value else 0) if alias == "unbiased" else value
        for name in required:
            if given[name] is _UNSET:
                raise TypeError(f"{function.__name__}() missing 1 required argument: {name!r}")
        return tuple(given.values())

    namespace = {"_UNSET": _UNSET, "_defaults": defaults, "_translate": translate, "_function": function}
    exec(source, namespace)  # noqa: S102 (generated from the function's own signature)
    return functools.wraps(function)(namespace[function.__name__])


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


_UNSET = _Unset()


def _renaming_wrapper(function: Any, renames: dict) -> Any:
    """`torch_names` for a function with ``*args``/``**kwargs`` or taking an alias itself: a plain wrapper."""
    import functools

    name = function.__name__
    aliases = frozenset(renames)

    def translate(kwargs: dict) -> None:
        for alias, canonical in renames.items():
            if alias in kwargs:
                if canonical in kwargs:
                    raise TypeError(f"{name}() got both {canonical!r} and its alias {alias!r}; give one")
                value = kwargs.pop(alias)
                kwargs[canonical] = (1 if value else 0) if alias == "unbiased" else value

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if kwargs and not aliases.isdisjoint(kwargs):
            translate(kwargs)
        return function(*args, **kwargs)

    return wrapper
