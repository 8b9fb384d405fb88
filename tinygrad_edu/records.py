"""What a backward pass records on each graph node for drawings and traces, when `autograd.record_gradients` is on.

The walk keeps what each node received and sent: small gradients as they are,
a large one (over ``autograd.RECORD_LIMIT`` elements) as its `GradientSummary`
(norm, shape, dtype), so the graph never holds a large model's gradients.
`Function.grad_output` and `Function.grads_to_inputs` read the records.
"""
import math
import weakref
from typing import TYPE_CHECKING, Any, NamedTuple, Sequence

import numpy as np

if TYPE_CHECKING:
    from .function import Function

__all__ = ["GradientSummary"]

_ndarray = np.ndarray


class GradientSummary(NamedTuple):
    """What a graph node remembers of a large gradient after backward: its norm, shape and dtype."""

    norm: float
    shape: tuple
    dtype: np.dtype

    def __repr__(self) -> str:
        return f"GradientSummary(norm={self.norm:.4g}, shape={self.shape}, dtype={self.dtype})"


def _record_as_sent(node: "Function", g: Any, sent: Sequence[Any], changed: bool, node_inputs: tuple, limit: int,
                    shared: dict) -> None:
    """Keep what a node received and sent for drawings (`Function.grad_output`, `Function.grads_to_inputs`),
    a large gradient into an intermediate as its `GradientSummary`, so the graph holds no large gradients.

    ``changed``: the walk reshaped or cast some of what the rule returned, or some gradient is large;
    otherwise the rule's own values are kept as they are.  A summary sent into a node waits in
    ``shared`` (by a weak reference to the gradient, which it does not keep alive); the node reuses
    it if it received that very gradient.
    """
    if not changed and node.output_data.size <= limit:
        node._grad_output, node._grads_to_inputs = g, sent
        return
    records: list = []
    for tensor, grad in zip(node_inputs, sent):
        if grad is None or not tensor.requires_grad:
            records.append(None)
        elif tensor._ctx is None or tensor._data.size <= limit:
            records.append(grad)
        else:
            summary = _summary(grad)
            shared[tensor._ctx] = (weakref.ref(grad), summary)
            records.append(summary)
    if node.output_data.size <= limit:
        node._grad_output = g
    else:
        waiting = shared.pop(node, None)
        node._grad_output = waiting[1] if waiting is not None and waiting[0]() is g else _summary(g)
    node._grads_to_inputs = tuple(records)


def _summary(value: Any) -> GradientSummary:
    data = value if type(value) is _ndarray else value.data
    flat = data.ravel(order="K")  # a view, no copy, for any permutation of a contiguous array (conv's NHWC gradients)
    return GradientSummary(math.sqrt(float(np.dot(flat, flat))), data.shape, data.dtype)
