"""The Tensor's autograd methods: backward, detach, requires_grad_, retain_grad, hooks.

Each hands its work to the autograd machinery (`tinygrad_edu.autograd`).
"""
from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, Callable, Optional

from . import autograd
from .dtypes import DtypeError

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["AutogradMethods"]


class _HookHandle:
    """Returned by `Tensor.register_hook`; ``remove()`` unregisters the hook."""

    def __init__(self, remove: Callable[[], None]) -> None:
        self.remove = remove


class AutogradMethods:
    """``t.backward()``, ``t.detach()``, ``t.register_hook()``...: Tensor inherits them."""

    __slots__ = ()  # Tensor keeps its fixed slots: no base may add a __dict__
    grad: Optional[Tensor]  # Tensor's slot (declared for the type checker: zero_grad assigns it)

    def backward(self: Tensor, gradient: Any = None, retain_graph: bool = False, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``.grad`` of every leaf with ``requires_grad``.

        Without ``gradient`` the tensor must hold one element.  The graph's saved
        values are freed afterwards unless ``retain_graph``; ``create_graph``
        records the backward pass so the gradients can be differentiated again.
        """
        autograd.backward(self, gradient, retain_graph, create_graph)

    def detach(self: Tensor) -> Tensor:
        """The same values (shared memory), cut from the graph."""
        return self._make(self.data, None, False)

    def requires_grad_(self: Tensor, flag: bool = True) -> Tensor:
        """Set ``requires_grad`` on a leaf in place; returns self."""
        if flag and self.data.dtype.kind != "f":
            raise DtypeError(
                f"only floating-point tensors can require gradients, this one has dtype {self.dtype}; "
                "pass dtype=np.float32 (or float64)"
            )
        if not flag and self._ctx is not None:
            raise RuntimeError("requires_grad_(False) on a computed tensor: use .detach() instead")
        self.requires_grad = bool(flag)
        return self

    def zero_grad(self: Tensor) -> None:
        """Forget the accumulated gradient (sets ``.grad`` to None)."""
        self.grad = None

    def retain_grad(self: Tensor) -> None:
        """Keep ``.grad`` on this intermediate tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        if self._ctx is not None:
            self._ctx.retained = weakref.ref(self)
            autograd.watch_nodes()

    def register_hook(self: Tensor, hook: Callable[[Tensor], Optional[Tensor]]) -> _HookHandle:
        """Call ``hook(grad)`` with the gradient flowing into this tensor; a returned Tensor replaces it."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        return _HookHandle(autograd.hook_on(self, hook))
