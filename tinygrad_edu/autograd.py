"""The backward walk: from ``loss.backward()`` (or ``grad()``) through every recorded node to the leaves.

The autograd machinery is a few modules, one idea each:

- `tinygrad_edu.function`: `Function`, the graph node every op is, with its
  derivative stated once as ``vjp(ctx, xp, g, out, *inputs)``, and `ArrayOps`;
- `tinygrad_edu.grad_mode`: ``no_grad`` / ``enable_grad`` / ``set_grad_enabled``;
- `tinygrad_edu.anomaly`: ``detect_anomaly``;
- `tinygrad_edu.in_place`: versions of tensors changed in place, and the error
  when a backward would read a changed value;
- this module: the walk, `grad`, `unbroadcast`, `topological_order`, hooks.

Their public names are importable from here too, as before.

``backward()`` visits the nodes newest first (every node is numbered when it is
created, and an op is always created after its inputs), so each node's
gradient is complete before its rule runs; leaf gradients are summed into
``.grad``.  An ordinary ``backward()`` runs each rule on bare NumPy arrays
(``xp`` is `ArrayOps`, nothing is recorded); ``create_graph=True`` runs the same
rule on Tensors (``xp`` is the Tensor's namespace), so the backward pass is
itself a graph and can be differentiated again.  Gradients of broadcast inputs
are summed back to the input's shape in one place: `unbroadcast`.  This module
never imports the Tensor: it builds tensors through the inputs' own ``_make``
and gets the Tensor namespace from the tensors it is handed.
"""
from __future__ import annotations

import functools
import heapq
import sys
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence, Union

import numpy as np

from . import in_place
from .anomaly import _check_gradients, detect_anomaly
from .function import _SECOND_BACKWARD_MESSAGE, ALIKE, ALWAYS, FREED, ArrayOps, Function, _ndarray
from .grad_mode import _WalkModes, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .in_place import _inputs_as_recorded, mark_changed_in_place, mark_changed_in_place_all
from .in_place import version_of as version_of  # re-exported: importable from here as before
from .leaves import BATCHED_SIZE, FOLD_COUNT, _as_gradient, _run_hooks, deliver_to_leaves, sum_in_order
from .records import GradientSummary, _record_as_sent

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = [
    "FREED", "RECORD_LIMIT", "ArrayOps", "Function", "GradientSummary", "backward", "detect_anomaly",
    "enable_grad", "grad", "hook_on", "is_grad_enabled", "mark_changed_in_place", "mark_changed_in_place_all",
    "no_grad", "record_gradients", "run_backward", "set_grad_enabled", "topological_order", "unbroadcast",
]

# After backward each node remembers the gradients it received and sent (for drawings and
# traces): in full up to this many elements, as a GradientSummary above it, so that a large
# model's gradients are not kept alive by the graph.
RECORD_LIMIT = 1024
_record_gradients = False  # read once per backward: the records above are kept only while this is on
# The test suite turns this on: the walk then checks the gradients of nodes whose rule is declared exact
# (Function.exact_rule) too, and raises if one is not.
_verify_exact_rules = False
# Set for good once a hook or retain_grad() is put on a computed tensor; until then the walk never
# looks for them on its nodes (two lookups per node saved in every program that uses neither).
_nodes_watched = False


def record_gradients(enabled: bool = True) -> bool:
    """Turn on or off the records of what each node received and sent in backward; return the old setting.

    Drawings and traces read them (`Function.grad_output`, `Function.grads_to_inputs`);
    importing `tinygrad_edu.viz` turns them on.  Off (the default), a backward keeps
    nothing for them and costs nothing for them.
    """
    global _record_gradients
    previous, _record_gradients = _record_gradients, bool(enabled)
    return previous


# ---------------------------------------------------------------- the backward walk

def unbroadcast(grad: Any, shape: tuple, xp: Any = None) -> Any:
    """Sum a gradient of a broadcast result back to the shape of the input (an array or a Tensor).

    d(broadcast_to(x, S))/dx routes each output element back to the element it
    copied, so the gradient of x is the sum over the broadcast axes.  This is
    the only place where gradients are unbroadcast.
    """
    if xp is None:
        xp = ArrayOps if isinstance(grad, (_ndarray, np.generic)) else grad._graph_ops
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, size in enumerate(shape) if size == 1 and grad.shape[i + extra] != 1
    )
    if axes:
        grad = xp.sum(grad, axes, keepdims=True)
    if extra or grad.shape != shape:
        grad = grad.reshape(shape)
    return grad


def topological_order(*roots: "Tensor") -> list:
    """The graph nodes behind the ``roots`` in forward order (inputs before their users), each once.

    Collects the nodes with an explicit stack (no recursion, so graph depth is
    limited only by memory) and sorts them by creation number: an op is always
    created after the ops that made its inputs.
    """
    found: dict = {}
    stack = [root._ctx for root in roots if root._ctx is not None]
    while stack:
        node = stack.pop()
        if node in found:
            continue
        found[node] = node.sequence
        for tensor in node.inputs:
            parent = tensor._ctx
            if parent is not None and parent not in found:
                stack.append(parent)
    return sorted(found, key=found.__getitem__)


def run_backward(
    roots: Sequence["Tensor"],
    root_grads: Sequence["Tensor"],
    retain_graph: bool,
    create_graph: bool,
    inputs: Optional[Sequence["Tensor"]] = None,
) -> Optional[list]:
    """Backpropagate from ``roots``; accumulate into leaves' ``.grad`` or, given ``inputs``, return their gradients.

    Gradients wait in ``pending`` (keyed by node, or by the Tensor for a leaf) until the walk
    reaches their node; nodes are visited newest first (from a heap, and one ``newest`` node kept
    beside it with its gradient: a chain uses neither heap nor dict), so every consumer of a node
    has run before it.  Under ``create_graph`` gradients are Tensors and ``xp`` records; otherwise
    both are bare NumPy.  The core (pop, run the rule, free, send each input its gradient) is this
    loop; around it: `_WalkModes` (grad mode, gc pause, anomaly mode), `_visit_tensor` (hooks,
    ``retain_grad``, what ``grad()`` asked for), `_call_rule` (``create_graph``, the anomaly check),
    the records drawings read, `_deliver_to_leaf` (``.grad``).
    """
    xp = roots[0]._graph_ops if create_graph else ArrayOps
    grad_type = type(roots[0]) if create_graph else _ndarray
    wanted, results = _wanted_by_grad(inputs), [None] * len(inputs or ())
    handed_out = {id(root_grad._data) for root_grad in root_grads}  # arrays the caller may still hold
    pending, heap = _start(roots, root_grads, create_graph)
    waiting: dict = {}  # leaf -> its small gradients, once it has two (see leaves.py)
    floor, last_change, limit = _pruning_floor(wanted), in_place._last_change, RECORD_LIMIT
    record, visit = _record_gradients, bool(wanted) or _nodes_watched
    trusted = not _verify_exact_rules
    newest = newest_grad = None  # a waiting node and its gradient kept beside heap and dict: a chain uses neither
    shared: dict = {}  # summaries of large gradients sent into nodes (see _record_as_sent)
    with _WalkModes(create_graph) as check_anomaly:
        plain = not (create_graph or check_anomaly)
        while newest is not None or heap:
            if newest is None or (heap and heap[0][0] < -newest.sequence):
                node = heappop(heap)[1]  # the newest node waiting: all its consumers have run
                g = pending.pop(node)
            else:
                node, g, newest = newest, newest_grad, None
            sequence, data = node.sequence, node.input_data
            if data is FREED:
                raise RuntimeError(_SECOND_BACKWARD_MESSAGE.format(op=node.op_name))
            if visit and (wanted or node.hooks is not None or node.retained is not None):
                g = _visit_tensor(node, g, wanted, results, create_graph, handed_out)
                if sequence <= floor:
                    continue  # grad(): nothing it was asked for lies behind this node: it is neither run nor freed
            node_inputs = node.inputs if sequence > last_change else _inputs_as_recorded(node)
            if plain:  # the usual case, without a function call: the rule on bare arrays
                if len(data) == 2:
                    grads = node.vjp(xp, g, node.output_data, data[0], data[1])
                elif len(data) == 1:
                    grads = node.vjp(xp, g, node.output_data, data[0])
                else:
                    grads = node.vjp(xp, g, node.output_data, *data)
                if type(grads) is not tuple:
                    grads = (grads,) if len(node_inputs) == 1 and type(grads) is _ndarray else _as_tuple(node, grads)
                elif len(grads) != len(node_inputs):
                    grads = _as_tuple(node, grads)
            else:
                grads = _call_rule(node, xp, g, create_graph, check_anomaly)
            if not retain_graph:
                node.saved = node.input_data = FREED  # free what the rule used
            sent = None  # the gradients as sent, once one differs from what the rule returned
            rule = node.exact_rule  # whether the rule's gradients need no check (Function.exact_rule)
            declared = rule is ALWAYS or rule is ALIKE and data[0].shape == data[1].shape and data[0].dtype is data[1].dtype
            exact = declared and trusted
            for tensor, grad, index in zip(node_inputs, grads, _POSITIONS):
                if grad is None or not tensor.requires_grad:
                    continue
                data = tensor._data
                # dtypes by identity: NumPy's built-in dtypes are singletons, anything else takes the slow path
                if type(grad) is not grad_type or not exact and (grad.shape != data.shape or grad.dtype is not data.dtype):
                    grad = _to_input_gradient(grad, tensor, node, xp, declared)  # to reshape or cast
                    sent = sent or list(grads)
                    sent[index] = grad
                elif record and data.size > limit:  # too large to record as it is
                    sent = sent or list(grads)
                key = tensor._ctx
                if key is None:  # a leaf
                    parts = waiting.get(tensor)
                    if parts is not None:  # its small gradients wait in a list, summed once after the walk (leaves.py)
                        parts.append(grad)
                        if len(parts) == FOLD_COUNT:
                            parts[:] = [sum_in_order(parts)]
                        continue
                    key = tensor
                previous = newest_grad if key is newest else pending.get(key)
                if previous is not None:  # never in place: either may also be a record or another edge's gradient
                    if key is tensor and type(grad) is _ndarray and grad.size <= BATCHED_SIZE:  # a leaf's second
                        waiting[tensor] = [pending.pop(tensor), grad]
                        continue
                    total = previous + grad
                    grad = total if type(total) is grad_type else np.asarray(total)  # 0-d sums give scalars
                    if key is newest:
                        newest_grad = grad
                        continue
                elif key is not tensor:  # a node's first gradient: it waits beside the heap, or in it
                    if newest is None:
                        newest, newest_grad = key, grad
                        continue
                    heappush(heap, (-key.sequence, key))
                pending[key] = grad
            if record:  # what drawings read
                _record_as_sent(node, g, sent or grads, sent is not None, node_inputs, limit, shared)
        deliver_to_leaves(pending, waiting, wanted, results, inputs is None, create_graph, handed_out)
    return results if inputs is not None else None


def _start(roots: Sequence["Tensor"], root_grads: Sequence["Tensor"], create_graph: bool) -> tuple:
    """The walk's ``pending`` gradients and its heap of nodes, holding the roots' gradients."""
    pending: dict = {}
    heap: list = []
    for root, root_grad in zip(roots, root_grads):
        key: Any = root._ctx or root
        grad = root_grad if create_graph else root_grad._data
        if key in pending:
            total = pending[key] + grad
            pending[key] = total if type(total) is type(grad) else np.asarray(total)
        else:
            pending[key] = grad
            if key is not root:
                heappush(heap, (-key.sequence, key))
    return pending, heap


def _call_rule(node: Function, xp: Any, g: Any, create_graph: bool, check_anomaly: bool) -> tuple:
    """The node's rule on its output gradient: one gradient per input (None for none)."""
    rule_inputs = node.inputs if create_graph else node.input_data
    grads = node.vjp(xp, g, node.output if create_graph else node.output_data, *rule_inputs)
    if type(grads) is not tuple or len(grads) != len(node.inputs):
        grads = _as_tuple(node, grads)
    if check_anomaly:
        _check_gradients(node, grads)
    return grads


_POSITIONS = range(sys.maxsize)  # zipped with a node's inputs to number them at no cost
heappop, heappush = heapq.heappop, heapq.heappush


def _pruning_floor(wanted: dict) -> int:
    """For grad() asked only for intermediate tensors: nodes this old or older lead to none of them (a node
    leading to a wanted node is newer than it), so are not walked; -1 (walk everything) otherwise."""
    if not wanted or not all(isinstance(key, Function) for key in wanted):
        return -1
    return min(key.sequence for key in wanted)


def _as_tuple(node: Function, grads: Any) -> tuple:
    """A rule's return value as one gradient per input, or a clear error."""
    if type(grads) is not tuple:
        grads = tuple(grads) if isinstance(grads, list) else (grads,)
    if len(grads) != len(node.inputs):
        raise RuntimeError(
            f"function {type(node).__name__} returned an incorrect number of gradients (expected "
            f"{len(node.inputs)}, got {len(grads)}): backward of '{node.op_name}' returned {len(grads)} gradients "
            f"for {len(node.inputs)} inputs"
        )
    return grads


def _wanted_by_grad(inputs: Optional[Sequence["Tensor"]]) -> dict:
    """For grad(): node (or leaf Tensor) -> the positions in ``inputs`` that want its gradient."""
    wanted: dict = {}
    for index, tensor in enumerate(inputs or ()):
        wanted.setdefault(tensor._ctx if tensor._ctx is not None else tensor, []).append(index)
    return wanted


def _visit_tensor(node: Function, grad_output: Any, wanted: dict, results: list, create_graph: bool,
                  handed_out: set) -> Any:
    """The gradient of a node's output is complete: run its tensor hooks, retain it, hand it to grad()."""
    like = node.inputs[0]
    if node.hooks:
        grad_output = _run_hooks(node.hooks, like, grad_output, create_graph)
    if node.retained is not None:
        tensor = node.retained()
        if tensor is not None:
            value = grad_output if create_graph else like._make(grad_output, None, False)
            handed_out.add(id(value.data))
            tensor.grad = value if tensor.grad is None else tensor.grad + value
    for index in wanted.get(node, ()):
        results[index] = grad_output if create_graph else like._make(grad_output, None, False)
    return grad_output


def _to_input_gradient(grad: Any, tensor: "Tensor", node: Function, xp: Any, declared: bool = False) -> Any:
    """What a rule returned as a gradient of the input's shape and dtype (an array, or a Tensor under xp);
    ``declared``: the rule says it returns just that (`Function.exact_rule`), so a mismatch is its bug."""
    if xp.records_graph:
        if not isinstance(grad, type(tensor)):
            grad = tensor._make(np.asarray(grad, dtype=tensor.dtype), None, False)
    elif type(grad) is not _ndarray:
        grad = np.asarray(grad if isinstance(grad, np.generic) else getattr(grad, "data", grad))  # 0-d results are scalars
    if declared and (grad.shape != tensor.shape or grad.dtype != tensor.dtype):
        raise AssertionError(
            f"{type(node).__name__}.exact_rule is {type(node).exact_rule!r}, but its rule returned a gradient of shape "
            f"{grad.shape} and dtype {grad.dtype} for an input of shape {tensor.shape} and dtype {tensor.dtype}"
        )
    if grad.shape != tensor.shape:
        try:
            grad = unbroadcast(grad, tensor.shape, xp)
        except ValueError:
            index = next((i for i, t in enumerate(node.inputs) if t is tensor), 0)
            raise RuntimeError(
                f"function {type(node).__name__} returned an invalid gradient for input {index}: backward of "
                f"'{node.op_name}' returned a gradient of shape {grad.shape} for an input of shape {tensor.shape}"
            ) from None
    if grad.dtype != tensor.dtype:
        grad = grad.cast(tensor.dtype) if xp.records_graph else grad.astype(tensor.dtype)
    return grad


def backward(
    tensor: "Tensor",
    gradient: Any = None,
    retain_graph: bool = False,
    create_graph: bool = False,
) -> None:
    """Implementation of ``Tensor.backward``: see there."""
    if not tensor.requires_grad:
        raise RuntimeError(
            "backward() called on a tensor that does not require grad: none of the tensors "
            "it was computed from has requires_grad=True (or it was computed under no_grad())"
        )
    run_backward([tensor], [_root_gradient(tensor, gradient, "gradient")], retain_graph or create_graph, create_graph)


def _root_gradient(output: "Tensor", given: Any, name: str) -> "Tensor":
    """The gradient a backward pass starts from: the one given, or ones for a one-element output."""
    if given is not None:
        return _as_gradient(given, output, name)
    data = output._data
    if data.size != 1:
        raise RuntimeError(
            f"grad can be implicitly created only for scalar outputs, but the output has shape {data.shape}; "
            f"call .sum() or .mean() first, or pass {name}= of that shape"
        )
    ones = np.empty(data.shape, dtype=data.dtype)
    ones.fill(1)
    return output._make(ones, None, False)


def _is_tensor(value: Any) -> bool:  # a Tensor: anything with the graph attributes the walk uses
    return hasattr(value, "_ctx") and hasattr(value, "_graph_ops")


def grad(
    outputs: Union["Tensor", Sequence["Tensor"]],
    inputs: Union["Tensor", Sequence["Tensor"]],
    grad_outputs: Any = None,
    retain_graph: Optional[bool] = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple:
    """Gradients of ``outputs`` with respect to ``inputs``, returned instead of accumulated.

    >>> from tinygrad_edu import Tensor, grad
    >>> x = Tensor([3.0], requires_grad=True)
    >>> (dx,) = grad((x ** 2).sum(), x, create_graph=True)
    >>> (d2x,) = grad(dx.sum(), x)
    >>> dx.tolist(), d2x.tolist()
    ([6.0], [2.0])

    An input that ``outputs`` does not depend on raises, unless
    ``allow_unused=True`` (then its gradient is ``None``), as in PyTorch.
    """
    output_list: list = [outputs] if _is_tensor(outputs) else list(outputs)  # type: ignore[arg-type]
    input_list: list = [inputs] if _is_tensor(inputs) else list(inputs)  # type: ignore[arg-type]
    for name, items in (("outputs", output_list), ("inputs", input_list)):
        for item in items:
            if not _is_tensor(item):
                raise TypeError(f"grad(): {name} must be Tensors, got {type(item).__name__}")
    for index, tensor in enumerate(input_list):
        if not tensor.requires_grad:
            raise RuntimeError(f"grad(): input {index} (shape {tensor.shape}) does not require grad")
    if grad_outputs is None:
        grad_outputs = [None] * len(output_list)
    elif _is_tensor(grad_outputs) or not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(output_list):
        raise ValueError(f"grad(): {len(grad_outputs)} grad_outputs for {len(output_list)} outputs")
    root_grads = []
    for output, given in zip(output_list, grad_outputs):
        if not output.requires_grad:
            raise RuntimeError(f"grad(): an output of shape {output.shape} does not require grad")
        root_grads.append(_root_gradient(output, given, "grad_outputs"))
    keep = create_graph if retain_graph is None else retain_graph
    results = run_backward(output_list, root_grads, keep, create_graph, inputs=input_list)
    assert results is not None
    for index, result in enumerate(results):
        if result is None and not allow_unused:
            raise RuntimeError(
                f"grad(): input {index} (shape {input_list[index].shape}) was not used to compute "
                "the outputs; pass allow_unused=True to get None for it"
            )
    return tuple(results)


def hook_on(tensor: "Tensor", hook: Callable) -> Callable[[], None]:
    """Register ``hook`` on a tensor's gradient; returns a function that removes it."""
    hooks: list
    if tensor._ctx is None:
        if tensor._hooks is None:
            tensor._hooks = []
        hooks = tensor._hooks
    else:
        if tensor._ctx.hooks is None:
            tensor._ctx.hooks = []
        hooks = tensor._ctx.hooks
        watch_nodes()
    hooks.append(hook)
    return functools.partial(_remove_hook, hooks, hook)


def watch_nodes() -> None:
    """From now on the walk looks at every node for hooks and ``retain_grad`` (called when one is set on a node)."""
    global _nodes_watched
    _nodes_watched = True


def _remove_hook(hooks: list, hook: Callable) -> None:
    if hook in hooks:
        hooks.remove(hook)
