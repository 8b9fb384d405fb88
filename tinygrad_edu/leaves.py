"""The end of a backward pass: each leaf's gradients added up, its hooks run, the sum put into ``.grad``.

A leaf (a Tensor made by the user, such as a weight) may be used by many ops, and so
receive many gradients.  From a leaf's second gradient on, the walk (`autograd.run_backward`)
keeps its small gradients in a list as they come and adds them up here, after the walk, in one
NumPy call (`sum_in_order`): one call per leaf instead of one per use, and
the same bits as adding them one at a time.  Large gradients are added as they
come (so a weight used many times never holds more than one extra copy).
Then `deliver_to_leaves` runs the leaf's hooks and adds the sum into
``.grad`` (or hands it to ``grad()``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .grad_mode import user_code_mode

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["BATCHED_SIZE", "FOLD_COUNT", "deliver_to_leaves", "sum_in_order"]

_ndarray = np.ndarray
# Leaf gradients of at most this many elements wait in a list and are summed once; larger ones are added as
# they come.  At most FOLD_COUNT wait at once: then they are summed into one, which goes on waiting.
BATCHED_SIZE = 4096
FOLD_COUNT = 256


def sum_in_order(parts: list) -> Any:
    """``((parts[0] + parts[1]) + parts[2]) + ...``: gradients of one shape and dtype, in the order they came.

    Three or more are stacked and summed in one call to ``np.add.accumulate`` (a running
    sum, left to right by definition), which gives the same bits as adding them one at a
    time (``np.add.reduce`` would not for one-element parts: it sums those pairwise).
    """
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2 or type(parts[0]) is not _ndarray:  # two, or Tensors (create_graph): one by one
        total = parts[0]
        for part in parts[1:]:
            total = total + part
        return np.asarray(total) if isinstance(total, np.generic) else total  # 0-d sums give NumPy scalars
    return np.add.accumulate(np.array(parts), axis=0)[-1, ...].copy()


def _as_gradient(value: Any, like: "Tensor", name: str) -> "Tensor":
    grad = value if isinstance(value, type(like)) else type(like)(value, dtype=like.dtype)
    if grad.shape != like.shape:
        raise ValueError(f"{name} has shape {grad.shape} but the output has shape {like.shape}")
    return grad


def _run_hooks(hooks: list, like: "Tensor", grad: Any, create_graph: bool) -> Any:
    """Call each hook with the gradient as a Tensor; a returned value replaces it."""
    tensor = grad if create_graph else like._make(grad, None, False)
    with user_code_mode(create_graph):
        for hook in hooks:
            replaced = hook(tensor)
            if replaced is not None:
                tensor = _as_gradient(replaced, tensor, "a hook's return value")
    return tensor if create_graph else tensor.data


def deliver_to_leaves(pending: dict, waiting: dict, wanted: dict, results: list, accumulate: bool,
                      create_graph: bool, handed_out: set) -> None:
    """After the walk: ``pending`` holds each leaf's gradient, or ``waiting`` the list of its small ones."""
    for tensor, parts in waiting.items():
        pending[tensor] = sum_in_order(parts)  # a leaf is in one of the two
    for tensor, grad in pending.items():
        if tensor in wanted or tensor._hooks is not None or create_graph:
            deliver_to_leaf(tensor, grad, wanted, results, accumulate, create_graph, handed_out)
        elif accumulate and tensor.requires_grad:  # tensor.grad += grad, the common case inline
            old = tensor.grad
            if old is not None:
                tensor.grad = tensor._make(old._data + grad, None, False)
            else:
                tensor.grad = tensor._make(_adoptable(grad, tensor._data.dtype, handed_out), None, False)


def deliver_to_leaf(tensor: Any, grad: Any, wanted: dict, results: list, accumulate: bool, create_graph: bool,
                     handed_out: set) -> None:
    """A leaf's gradient is complete: hand it to grad(), or add it into ``.grad``."""
    if tensor in wanted:
        if tensor._hooks:  # leaf hooks run under grad() as under backward()
            grad = _run_hooks(tensor._hooks, tensor, grad, create_graph)
        value = grad if create_graph else tensor._make(grad, None, False)
        for index in wanted[tensor]:
            results[index] = value
    elif accumulate and tensor.requires_grad:
        _accumulate_leaf(tensor, grad, create_graph, handed_out)


def _accumulate_leaf(tensor: "Tensor", grad: Any, create_graph: bool, handed_out: set) -> None:
    """``tensor.grad += grad`` after the tensor's hooks.

    A first gradient is adopted without a copy when nothing else can see its
    memory (a writable array of its own, not given to another leaf or passed
    in by the caller); otherwise it is copied, so that changing one ``.grad``
    in place never changes another.
    """
    if tensor._hooks:
        grad = _run_hooks(tensor._hooks, tensor, grad, create_graph)
    if create_graph:
        tensor.grad = grad if tensor.grad is None else tensor.grad + grad
    elif tensor.grad is None:
        tensor.grad = tensor._make(_adoptable(grad, tensor._data.dtype, handed_out), None, False)
    else:
        tensor.grad = tensor._make(tensor.grad._data + grad, None, False)


def _adoptable(grad: np.ndarray, dtype: np.dtype, handed_out: set) -> np.ndarray:
    """``grad`` itself if a leaf's ``.grad`` may own it, else a copy (in ``dtype``); remembered in ``handed_out``."""
    flags = grad.flags
    if not (flags.owndata and flags.writeable) or id(grad) in handed_out or grad.dtype != dtype:
        grad = np.array(grad, dtype=dtype, copy=True)
    handed_out.add(id(grad))
    return grad
