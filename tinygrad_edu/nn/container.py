"""Containers: Sequential, ModuleList, ModuleDict, and Lambda (a plain function as a module).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from tinygrad_edu.nn.module import Module, call_with_one_input

__all__ = ["Lambda", "ModuleDict", "ModuleList", "Sequential"]

_INDEX_NAMES = tuple(str(index) for index in range(64))  # Sequential.forward's attribute names (longer: str())


class Lambda(Module):
    """Wrap a plain function (e.g. `F.relu`) as a module."""

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: Any) -> Any:
        """Return fn(x)."""
        return self.fn(x)

    def extra_repr(self) -> str:
        return getattr(self.fn, "__name__", repr(self.fn))


class Sequential(Module):
    """Apply modules in order; indexable, iterable, and named "0", "1", ... in state dicts.

    >>> model = Sequential(Linear(2, 8), ReLU(), Linear(8, 1))
    >>> [name for name, _ in model.named_parameters()]
    ['0.weight', '0.bias', '2.weight', '2.bias']
    """

    def __init__(self, *layers: Module) -> None:
        super().__init__()
        self._length = 0
        for layer in layers:
            self.append(layer)

    def append(self, layer: Module) -> Sequential:
        """Add a module at the end; return self."""
        if not isinstance(layer, Module):
            raise TypeError(f"Sequential takes Modules, got {type(layer).__name__} at position {self._length}; "
                            "wrap a function with nn.Lambda(fn)")
        setattr(self, str(self._length), layer)
        self._length += 1
        return self

    def forward(self, x: Any) -> Any:
        """Feed x through every layer in turn."""
        length = self._length  # the names "0", "1", ...: as __iter__, without a generator or str() per layer
        names = _INDEX_NAMES[:length] if length <= len(_INDEX_NAMES) else [str(index) for index in range(length)]
        for name in names:
            x = call_with_one_input(getattr(self, name), x)
        return x

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[Module]:
        return (getattr(self, str(index)) for index in range(self._length))

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return Sequential(*list(self)[index])
        if not -self._length <= index < self._length:
            raise IndexError(f"index {index} is out of range for a Sequential of length {self._length}")
        return getattr(self, str(index % self._length))


def _collapsed_child_lines(children: Sequence[tuple[str, Module]]) -> list[str]:
    """PyTorch's ModuleList printing: runs of equal reprs become `(0-1): 2 x Linear(...)`."""
    lines: list[str] = []
    index = 0
    while index < len(children):
        text = repr(children[index][1])
        end = index
        while end + 1 < len(children) and repr(children[end + 1][1]) == text:
            end += 1
        text = text.replace("\n", "\n  ")
        if end == index:
            lines.append(f"  ({children[index][0]}): {text}")
        else:
            lines.append(f"  ({children[index][0]}-{children[end][0]}): {end - index + 1} x {text}")
        index = end + 1
    return lines


class ModuleList(Module):
    """A list of modules whose parameters belong to the owner, named `<attribute>.0.weight`, ...

    Unlike Sequential it has no `forward`: the owner decides how to call them.

    >>> class Net(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.blocks = ModuleList([Linear(2, 2) for _ in range(2)])
    >>> [name for name, _ in Net().named_parameters()]
    ['blocks.0.weight', 'blocks.0.bias', 'blocks.1.weight', 'blocks.1.bias']
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        # The modules live only in attributes "0", "1", ... (a list attribute would be walked
        # first and name the parameters after it).
        self._length = 0
        if modules is not None:
            self.extend(modules)

    @staticmethod
    def _check(module: Any, position: int) -> Module:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList holds Modules, got {type(module).__name__} at position {position}")
        return module

    def _position(self, index: int) -> int:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"ModuleList indices must be integers or slices, got {type(index).__name__}")
        if not -self._length <= index < self._length:
            raise IndexError(f"index {index} is out of range for a ModuleList of length {self._length}")
        return int(index) % self._length

    def _reset(self, modules: list[Module]) -> None:
        """Store `modules` as attributes "0", "1", ... (the names state_dict uses)."""
        for index in range(self._length):
            delattr(self, str(index))
        self._length = 0
        for module in modules:
            self.append(module)

    def append(self, module: Module) -> ModuleList:
        """Add a module at the end; return self."""
        setattr(self, str(self._length), self._check(module, self._length))
        self._length += 1
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Append each module in turn; return self."""
        if isinstance(modules, Module) and not isinstance(modules, ModuleList):
            raise TypeError(f"ModuleList.extend takes an iterable of Modules, got a {type(modules).__name__}")
        for module in list(modules):
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert a module before position `index`."""
        modules = list(self)
        modules.insert(index, self._check(module, index))
        self._reset(modules)

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[Module]:
        return iter([getattr(self, str(index)) for index in range(self._length)])

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return ModuleList(list(self)[index])
        return getattr(self, str(self._position(index)))

    def __setitem__(self, index: int, module: Module) -> None:
        setattr(self, str(self._position(index)), self._check(module, index))

    def __delitem__(self, index: int | slice) -> None:
        modules = list(self)
        del modules[index if isinstance(index, slice) else self._position(index)]
        self._reset(modules)

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ModuleList has no forward(): iterate over it and call each module")

    def __repr__(self) -> str:
        children = [(str(index), module) for index, module in enumerate(self)]
        if not children:
            return "ModuleList()"
        return "\n".join(["ModuleList("] + _collapsed_child_lines(children) + [")"])


class ModuleDict(Module):
    """Modules by name, in insertion order; their parameters are named `<attribute>.<key>.weight`.

    Keys must be strings that are not already attributes of a Module (such as
    "forward" or "training") and contain no ".".

    >>> heads = ModuleDict({"mean": Linear(4, 1), "scale": Linear(4, 1)})
    >>> [name for name, _ in heads.named_parameters()]
    ['mean.weight', 'mean.bias', 'scale.weight', 'scale.bias']
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        super().__init__()
        self._keys: list[str] = []
        if modules is not None:
            self.update(modules)

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(key, str):
            raise TypeError(f"ModuleDict keys must be strings, got {type(key).__name__} {key!r}")
        if not key or "." in key:
            raise KeyError(f"ModuleDict key {key!r} must be a non-empty string without '.'")
        if key not in self._keys and hasattr(self, key):
            raise KeyError(f"ModuleDict key {key!r} clashes with an attribute of Module; choose another name")
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict holds Modules, got {type(module).__name__} for key {key!r}")
        setattr(self, key, module)
        if key not in self._keys:
            self._keys.append(key)

    def __getitem__(self, key: str) -> Module:
        if key not in self._keys:
            raise KeyError(f"ModuleDict has no key {key!r}; keys: {self._keys}")
        return getattr(self, key)

    def __delitem__(self, key: str) -> None:
        self[key]  # noqa: B018 (raises the KeyError above for a missing key)
        delattr(self, key)
        self._keys.remove(key)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._keys))

    def keys(self) -> list[str]:
        """The keys, in insertion order."""
        return list(self._keys)

    def values(self) -> list[Module]:
        """The modules, in insertion order."""
        return [getattr(self, key) for key in self._keys]

    def items(self) -> list[tuple[str, Module]]:
        """(key, module) pairs, in insertion order."""
        return [(key, getattr(self, key)) for key in self._keys]

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add or replace modules from a mapping or from (key, module) pairs."""
        pairs = modules.items() if isinstance(modules, (Mapping, ModuleDict)) else modules
        for key, module in pairs:
            self[key] = module

    def pop(self, key: str) -> Module:
        """Remove `key` and return its module."""
        module = self[key]
        del self[key]
        return module

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ModuleDict has no forward(): index it by key and call the module")
