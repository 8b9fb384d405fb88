"""The autograd machinery: graph nodes, grad modes, the backward walk, anomaly checks.

Every differentiable operation is a `Function` subclass.  Calling
``SomeOp.apply(*tensors, **kwargs)`` creates one instance of it, called
``ctx``, which is the node of the computation graph:

* ``forward(ctx, *arrays, **kwargs)`` computes the result on plain NumPy arrays;
* ``backward(ctx, grad_output)`` gets the gradient of the final output with
  respect to this op's output (a Tensor) and returns one gradient per input.

Built-in backward rules are written with Tensor operations, so when
``create_graph=True`` the backward pass is itself recorded and can be
differentiated again; otherwise it runs under ``no_grad`` and records nothing,
and the hot ops run the same rule stated on bare arrays (``backward_arrays``).

``backward()`` walks the nodes in reverse topological order (computed
iteratively, so a chain of a million ops needs no recursion), each node's
gradient complete before its ``backward`` runs, and leaf gradients summed into
``.grad``.  Gradients of broadcast inputs are summed back to the input's shape
in one place: `unbroadcast`.
"""
from __future__ import annotations

import contextlib
import functools
import gc
import linecache
import math
import os
import sys
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, Optional, Sequence, Union

import numpy as np

if TYPE_CHECKING:
    from .tensor import Tensor

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))

# Module-level switches read on every op; plain globals keep the hot path cheap.
_grad_enabled = True
_anomaly_enabled = False


# After backward each node remembers the gradients it received and sent (for drawings and
# traces): in full up to this many elements, as a GradientSummary above it, so that a large
# model's gradients are not kept alive by the graph.
RECORD_LIMIT = 1024


class GradientSummary(NamedTuple):
    """What a graph node remembers of a large gradient after backward: its norm, shape and dtype."""

    norm: float
    shape: tuple
    dtype: np.dtype

    def __repr__(self) -> str:
        return f"GradientSummary(norm={self.norm:.4g}, shape={self.shape}, dtype={self.dtype})"


def _remembered(grad: "Tensor") -> Any:
    """The gradient itself when small, else its summary (RECORD_LIMIT)."""
    data = grad.data
    if data.size <= RECORD_LIMIT:
        return grad
    flat = data.reshape(-1)
    return GradientSummary(math.sqrt(float(np.dot(flat, flat))), data.shape, data.dtype)


class _Freed:
    """Marker left in ``ctx.saved`` once backward has released the node's buffers."""

    def __repr__(self) -> str:
        return "<freed>"


FREED = _Freed()


class Function:
    """Base class of every operation; an instance (``ctx``) is one graph node.

    Subclass it to write a custom op, exactly as with ``torch.autograd.Function``:

    >>> import numpy as np
    >>> from tinygrad_edu import Function, Tensor
    >>> class Cube(Function):
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x ** 3
    ...     def backward(ctx, grad_output):
    ...         x, = ctx.saved_tensors
    ...         return grad_output * 3 * x ** 2
    >>> t = Tensor([2.0], requires_grad=True)
    >>> Cube.apply(t).sum().backward(); t.grad.tolist()
    [12.0]

    ``forward`` receives the inputs' NumPy arrays (and keyword arguments) and
    returns an array.  ``backward`` receives the output gradient as a Tensor and
    returns one gradient per input (a Tensor, an array or ``None``), in order.
    A gradient may have the broadcast shape; it is summed back to the input's
    shape by `unbroadcast`.  For a rule that can be differentiated again, write
    it in Tensor operations on ``ctx.inputs`` (the input Tensors) and
    ``ctx.output`` (the output as a Tensor of this node).

    Optionally, ``backward_arrays(ctx, grad_output)`` states the same rule on
    NumPy arrays (``grad_output`` an ndarray; it returns arrays or ``None``).
    When no graph of the backward pass is wanted (``create_graph=False``, the
    usual training step) the walk calls it instead of ``backward``, which saves
    the Tensor wrapping and bookkeeping of every helper op inside the rule.
    ``backward`` stays the definition: it is what ``create_graph=True`` and
    second derivatives use. The built-in hot ops (add, sub, mul, relu, sigmoid,
    tanh, sum, linear, cross_entropy) define both, and the tests check that the
    two agree for every op that has the array form.

    Attributes of a node, used by the graph walk and by ``viz``:
    ``inputs`` (input Tensors in call order, duplicates kept), ``op_name``,
    ``output_data`` (the array produced), ``needs_input_grad``, and after a
    backward pass ``grad_output`` and ``grads_to_inputs`` (one per input; a
    gradient of more than ``RECORD_LIMIT`` elements is kept as a `GradientSummary`).
    """

    # Slots for what every recorded node sets; "__dict__" keeps custom attributes possible
    # (ctx.axes, ...) and is only allocated when an op stores one.
    __slots__ = ("inputs", "needs_input_grad", "output_data", "saved", "grad_output", "grads_to_inputs",
                 "__dict__", "__weakref__")

    op_name = ""  # filled per subclass by __init_subclass__ (class name, lower case)

    inputs: tuple
    needs_input_grad: tuple
    output_data: np.ndarray
    saved: Any                 # () until save_for_backward; FREED after backward
    grad_output: Any           # None until a backward pass reaches the node
    grads_to_inputs: Any
    hooks: Any = None          # hooks registered on the (non-leaf) output Tensor
    retained: Any = None       # weak reference to the output Tensor after retain_grad()
    created_at: Any = None     # (filename, lineno, function) of user code, in detect_anomaly
    backward_arrays: Any = None  # optional: the backward rule on ndarrays (see above); None means use backward

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "op_name" not in cls.__dict__:
            cls.op_name = cls.__name__.lower()
        # A subclass that redefines backward must not inherit an array form of the old rule.
        if "backward" in cls.__dict__ and "backward_arrays" not in cls.__dict__:
            cls.backward_arrays = None

    def forward(ctx, *arrays: np.ndarray, **kwargs: Any) -> np.ndarray:  # noqa: N805
        raise NotImplementedError(f"{type(ctx).__name__} must define forward(ctx, *arrays)")

    def backward(ctx, grad_output: "Tensor") -> Any:  # noqa: N805
        raise NotImplementedError(f"{type(ctx).__name__} must define backward(ctx, grad_output)")

    def save_for_backward(self, *values: Any) -> None:
        """Keep values (arrays, Tensors) that ``backward`` will need."""
        self.saved = values

    @property
    def saved_tensors(self) -> tuple:
        """What ``save_for_backward`` kept; raises once backward has freed it."""
        if self.saved is FREED:
            raise RuntimeError(_SECOND_BACKWARD_MESSAGE.format(op=self.op_name))
        return self.saved

    @property
    def output(self) -> "Tensor":
        """This node's output as a Tensor attached to the node (for differentiable rules)."""
        return _make_tensor(self.output_data, self, True)

    @classmethod
    def apply(cls, *inputs: "Tensor", **kwargs: Any) -> "Tensor":
        """Run the op on Tensors and, if any input needs a gradient, record the node."""
        if _anomaly_enabled:
            return _apply_checked(cls, inputs, kwargs)
        ctx = _new_object(cls)
        ctx.inputs = inputs
        ctx.saved = ()
        try:
            count = len(inputs)
            if count == 2:
                output_data = cls.forward(ctx, inputs[0].data, inputs[1].data, **kwargs)
            elif count == 1:
                output_data = cls.forward(ctx, inputs[0].data, **kwargs)
            else:
                output_data = cls.forward(ctx, *[t.data for t in inputs], **kwargs)
        except (ValueError, IndexError, TypeError) as error:
            if not cls.__module__.startswith(__package__ + ".") or getattr(error, "_named", False):
                raise
            raise _named_error(ctx, error) from None
        if type(output_data) is not _ndarray:  # NumPy returns scalars for 0-d results
            output_data = np.asarray(output_data)
        if _grad_enabled:
            for t in inputs:
                if t.requires_grad:
                    if count == 2:
                        ctx.needs_input_grad = (inputs[0].requires_grad, inputs[1].requires_grad)
                    else:
                        ctx.needs_input_grad = tuple([t.requires_grad for t in inputs])
                    ctx.output_data = output_data
                    ctx.grad_output = ctx.grads_to_inputs = None
                    return _make_tensor(output_data, ctx, True)
        return _make_tensor(output_data, None, False)


_new_object = object.__new__
_ndarray = np.ndarray
_make_tensor: Callable = None  # type: ignore[assignment]  # Tensor._make, bound by tensor.py at import
_Tensor: Any = None  # the Tensor class, bound by tensor.py at import


def _named_error(ctx: Function, error: Exception) -> Exception:
    """NumPy's error from inside a built-in op, re-raised naming the op and its input shapes."""
    shapes = " and ".join(str(t.shape) for t in ctx.inputs)
    message = str(error)
    if "broadcast" in message:
        text = f"{ctx.op_name}: shapes {shapes} do not broadcast (trailing sizes must be equal or 1)"
    elif message.startswith(ctx.op_name + ":"):
        text = message
    else:
        text = f"{ctx.op_name} on shape{'s' if len(ctx.inputs) > 1 else ''} {shapes}: {message}"
    named = type(error)(text)
    named._named = True  # type: ignore[attr-defined]
    return named


_SECOND_BACKWARD_MESSAGE = (
    "Trying to backward through the graph a second time (through '{op}'): its saved "
    "values were freed after the first backward. Pass retain_graph=True to the first "
    "backward() (or grad()) if you need to backward through it again."
)


# ---------------------------------------------------------------- grad modes

class _GradMode(contextlib.ContextDecorator):
    """Context manager (and decorator) that sets whether ops record the graph."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._previous: list = []

    def __enter__(self) -> None:
        global _grad_enabled
        self._previous.append(_grad_enabled)
        _grad_enabled = self.enabled

    def __exit__(self, *exc: Any) -> None:
        global _grad_enabled
        _grad_enabled = self._previous.pop()


def no_grad() -> _GradMode:
    """Record nothing inside the block (or the decorated function).

    >>> from tinygrad_edu import Tensor, no_grad
    >>> w = Tensor([1.0], requires_grad=True)
    >>> with no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """
    return _GradMode(False)


def enable_grad() -> _GradMode:
    """Record the graph again inside the block, even within ``no_grad``."""
    return _GradMode(True)


def is_grad_enabled() -> bool:
    """Whether operations are currently being recorded."""
    return _grad_enabled


# ---------------------------------------------------------------- anomaly detection

class detect_anomaly(contextlib.ContextDecorator):  # noqa: N801 (PyTorch's name)
    """Raise ``FloatingPointError`` at the first op whose forward or backward gives NaN/inf.

    The message names the op and the line of user code that created it.  Slower:
    every op checks its result, so use it while debugging.
    """

    def __enter__(self) -> "detect_anomaly":
        global _anomaly_enabled
        self._previous = _anomaly_enabled
        _anomaly_enabled = True
        return self

    def __exit__(self, *exc: Any) -> None:
        global _anomaly_enabled
        _anomaly_enabled = self._previous


def _user_frame() -> Optional[tuple]:
    """The innermost stack frame outside this package: where the user created the op."""
    frame: Any = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return None
    return (frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)


def _describe_origin(origin: Optional[tuple]) -> str:
    if origin is None:
        return "created outside detect_anomaly(), so its line is unknown"
    filename, lineno, function = origin
    code = linecache.getline(filename, lineno).strip()
    return f"created at {filename}:{lineno} in {function}: {code}"


def _check_finite(op_name: str, origin: Optional[tuple], array: Any, what: str) -> None:
    array = np.asarray(array)
    if np.issubdtype(array.dtype, np.inexact) and not np.isfinite(array).all():
        kind = "nan" if np.isnan(array).any() else "inf"
        raise FloatingPointError(
            f"detect_anomaly: '{op_name}' produced {kind} in its {what}; the op was {_describe_origin(origin)}"
        )


def _apply_checked(cls: Any, inputs: tuple, kwargs: dict) -> "Tensor":
    """``Function.apply`` under detect_anomaly: remember the user's line, report NaN/inf ourselves."""
    global _anomaly_enabled
    origin = _user_frame()
    _anomaly_enabled = False  # the plain path, once
    try:
        with np.errstate(all="ignore"):  # the FloatingPointError below says more than NumPy's warning
            output = cls.apply(*inputs, **kwargs)
    finally:
        _anomaly_enabled = True
    if output._ctx is not None:
        output._ctx.created_at = origin
    _check_finite(cls.op_name, origin, output.data, "forward output")
    return output


# ---------------------------------------------------------------- the backward walk

def unbroadcast(grad: "Tensor", shape: tuple) -> "Tensor":
    """Sum a gradient of a broadcast result back to the shape of the input.

    d(broadcast_to(x, S))/dx routes each output element back to the element it
    copied, so the gradient of x is the sum over the broadcast axes.  This is
    the only place where gradients are unbroadcast.
    """
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, size in enumerate(shape) if size == 1 and grad.shape[i + extra] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdim=True)
    if extra or grad.shape != shape:
        grad = grad.reshape(shape)
    return grad


def topological_order(*roots: "Tensor") -> list:
    """The graph nodes behind the ``roots`` in forward order (inputs before their users), each once.

    An iterative depth-first search with an explicit stack, so graph depth is
    limited only by memory.
    """
    order: list = []
    visited: set = set()
    for root in roots:
        start = root._ctx
        if start is None or start in visited:
            continue
        stack: list = [(start, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if node in visited:
                continue
            visited.add(node)
            stack.append((node, True))
            for tensor in node.inputs:
                parent = tensor._ctx
                if parent is not None and parent not in visited:
                    stack.append((parent, False))
    return order


def _as_gradient(value: Any, like: "Tensor", name: str) -> "Tensor":
    from .tensor import Tensor
    grad = value if isinstance(value, Tensor) else Tensor(value, dtype=like.dtype)
    if grad.shape != like.shape:
        raise ValueError(f"{name} has shape {grad.shape} but the output has shape {like.shape}")
    return grad


def run_backward(
    roots: Sequence["Tensor"],
    root_grads: Sequence["Tensor"],
    retain_graph: bool,
    create_graph: bool,
    inputs: Optional[Sequence["Tensor"]] = None,
) -> Optional[list]:
    """Backpropagate from ``roots``; accumulate into leaves' ``.grad`` or, given ``inputs``, return their gradients."""
    global _grad_enabled, _anomaly_enabled
    # Gradients are keyed by node for intermediate tensors and by the Tensor for leaves.
    pending: dict = {}
    wanted: dict = {}
    if inputs is not None:
        for index, tensor in enumerate(inputs):
            wanted.setdefault(tensor._ctx if tensor._ctx is not None else tensor, []).append(index)
    handed_out = {id(grad.data) for grad in root_grads}  # arrays the caller may still hold
    for root, grad in zip(roots, root_grads):
        key = root._ctx if root._ctx is not None else root
        pending[key] = pending[key] + grad if key in pending else grad
    order = topological_order(*roots)
    results: list = [None] * (len(inputs) if inputs is not None else 0)

    previous_mode = _grad_enabled
    _grad_enabled = create_graph
    # Under detect_anomaly, a non-finite gradient is blamed on the node whose backward made it
    # (below), not on the helper ops inside its rule, so those skip their own forward check.
    check_anomaly = _anomaly_enabled
    _anomaly_enabled = False
    # The walk makes no reference cycles (refcounting frees everything), so the cyclic
    # collector's repeated scans of a large graph would be pure overhead.
    collector_was_enabled = gc.isenabled()
    gc.disable()
    try:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for node in reversed(order):
                grad_output = pending.pop(node, None)
                if grad_output is None:
                    continue
                if node.saved is FREED:
                    raise RuntimeError(_SECOND_BACKWARD_MESSAGE.format(op=node.op_name))
                if node.hooks is not None or node.retained is not None or node in wanted:
                    grad_output = _visit_tensor(node, grad_output, wanted, results, create_graph, handed_out)
                node.grad_output = grad_output if grad_output.data.size <= RECORD_LIMIT else _remembered(grad_output)
                if create_graph or node.backward_arrays is None:
                    grads = node.backward(grad_output)
                else:  # the same rule on bare arrays: nothing of it is recorded anyway
                    grads = node.backward_arrays(grad_output.data)
                if type(grads) is not tuple:
                    grads = tuple(grads) if isinstance(grads, list) else (grads,)
                if not retain_graph:
                    node.saved = FREED
                inputs_of_node = node.inputs
                if len(grads) != len(inputs_of_node):
                    raise RuntimeError(
                        f"backward of '{node.op_name}' returned {len(grads)} gradients "
                        f"for {len(inputs_of_node)} inputs"
                    )
                delivered: list = []
                for tensor, grad in zip(inputs_of_node, grads):
                    if grad is None or not tensor.requires_grad:
                        delivered.append(None)
                        continue
                    data = tensor.data
                    # dtypes by identity: NumPy's built-in dtypes are singletons, anything else takes the slow path
                    if type(grad) is _ndarray and grad.shape == data.shape and grad.dtype is data.dtype:
                        grad = _make_tensor(grad, None, False)  # from backward_arrays, already in shape
                    elif type(grad) is not _Tensor or grad.data.shape != data.shape or grad.data.dtype is not data.dtype:
                        grad = _to_input_gradient(grad, tensor, node)
                    if check_anomaly:
                        _check_finite(node.op_name, node.created_at, grad.data, "backward (gradient for one of its inputs)")
                    # An edge into a leaf keeps its gradient whole: the leaf adopts that array as .grad.
                    delivered.append(grad if tensor._ctx is None or grad.data.size <= RECORD_LIMIT
                                     else _remembered(grad))
                    key = tensor._ctx or tensor
                    previous = pending.get(key)
                    if previous is None:
                        pending[key] = grad
                    elif create_graph:
                        pending[key] = previous + grad
                    else:  # nothing to record: add the arrays directly
                        pending[key] = _make_tensor(previous.data + grad.data, None, False)
                node.grads_to_inputs = tuple(delivered)
            # What is left in ``pending`` are the leaves (and roots that are leaves).
            for tensor, grad in pending.items():
                if isinstance(tensor, Function):
                    continue
                if tensor in wanted:
                    for index in wanted[tensor]:
                        results[index] = grad
                    continue
                if inputs is None and tensor.requires_grad:
                    _accumulate_leaf(tensor, grad, create_graph, handed_out)
    finally:
        _grad_enabled = previous_mode
        _anomaly_enabled = check_anomaly
        if collector_was_enabled:
            gc.enable()
    return results if inputs is not None else None


def _visit_tensor(node: Function, grad_output: "Tensor", wanted: dict, results: list, create_graph: bool,
                  handed_out: set) -> "Tensor":
    """The gradient of a node's output is complete: run its tensor hooks, retain it, hand it to grad()."""
    if node.hooks:
        for hook in node.hooks:
            replaced = hook(grad_output)
            if replaced is not None:
                grad_output = _as_gradient(replaced, grad_output, "a hook's return value")
    if node.retained is not None:
        tensor = node.retained()
        if tensor is not None:
            value = grad_output if create_graph else grad_output.detach()
            handed_out.add(id(value.data))
            tensor.grad = value if tensor.grad is None else tensor.grad + value
    for index in wanted.get(node, ()):
        results[index] = grad_output
    return grad_output


def _to_input_gradient(grad: Any, tensor: "Tensor", node: Function) -> "Tensor":
    """Turn what a backward rule returned into a Tensor of the input's shape and dtype."""
    if type(grad) is not _Tensor:
        grad = _make_tensor(np.asarray(grad, dtype=tensor.dtype), None, False)
    if grad.shape != tensor.shape:
        try:
            grad = unbroadcast(grad, tensor.shape)
        except ValueError:
            raise RuntimeError(
                f"backward of '{node.op_name}' returned a gradient of shape {grad.shape} "
                f"for an input of shape {tensor.shape}"
            ) from None
    if grad.dtype != tensor.dtype:
        grad = grad.cast(tensor.dtype)
    return grad


def _accumulate_leaf(tensor: "Tensor", grad: "Tensor", create_graph: bool, handed_out: set) -> None:
    """``tensor.grad += grad`` after the tensor's hooks.

    A first gradient is adopted without a copy when nothing else can see its
    memory (a writable array of its own, not given to another leaf or passed
    in by the caller); otherwise it is copied, so that changing one ``.grad``
    in place never changes another.
    """
    if tensor._hooks:
        for hook in tensor._hooks:
            replaced = hook(grad)
            if replaced is not None:
                grad = _as_gradient(replaced, grad, "a hook's return value")
    if create_graph:
        tensor.grad = grad if tensor.grad is None else tensor.grad + grad
    elif tensor.grad is None:
        data = grad.data
        flags = data.flags
        if not (flags.owndata and flags.writeable) or id(data) in handed_out or data.dtype != tensor.data.dtype:
            data = np.array(data, dtype=tensor.data.dtype, copy=True)
        handed_out.add(id(data))
        tensor.grad = _make_tensor(data, None, False)
    else:
        tensor.grad = _make_tensor(tensor.grad.data + grad.data, None, False)


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
    if output.data.size != 1:
        raise RuntimeError(
            f"grad can be implicitly created only for scalar outputs, but the output has shape {output.shape}; "
            f"call .sum() or .mean() first, or pass {name}= of that shape"
        )
    return _make_tensor(np.ones(output.shape, dtype=output.dtype), None, False)


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
    from .tensor import Tensor
    output_list = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    input_list = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    for name, items in (("outputs", output_list), ("inputs", input_list)):
        for item in items:
            if not isinstance(item, Tensor):
                raise TypeError(f"grad(): {name} must be Tensors, got {type(item).__name__}")
    for index, tensor in enumerate(input_list):
        if not tensor.requires_grad:
            raise RuntimeError(f"grad(): input {index} (shape {tensor.shape}) does not require grad")
    if grad_outputs is None:
        grad_outputs = [None] * len(output_list)
    elif isinstance(grad_outputs, Tensor) or not isinstance(grad_outputs, (list, tuple)):
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
    hooks.append(hook)
    return functools.partial(_remove_hook, hooks, hook)


def _remove_hook(hooks: list, hook: Callable) -> None:
    if hook in hooks:
        hooks.remove(hook)
