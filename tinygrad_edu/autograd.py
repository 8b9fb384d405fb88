"""The autograd machinery: graph nodes, grad modes, the backward walk, anomaly checks.

Every differentiable operation is a `Function` subclass.  Calling
``SomeOp.apply(*tensors, **kwargs)`` creates one instance of it, called
``ctx``, which is the node of the computation graph.  A built-in op states its
derivative once, as a vector-Jacobian product::

    def vjp(ctx, xp, g, out, *inputs): ...   # one gradient per input

written against a small array namespace ``xp``.  An ordinary ``backward()``
runs the rule on bare NumPy arrays (``xp`` is `ArrayOps`, nothing is
recorded); ``create_graph=True`` runs the same rule on Tensors (``xp`` is the
Tensor's namespace), so the backward pass is itself a graph and can be
differentiated again.  Custom ops write ``backward(ctx, grad_output)`` in
Tensor operations instead, as in PyTorch.

``backward()`` visits the nodes newest first (every node is numbered when it is
created, and an op is always created after its inputs), so each node's
gradient is complete before its rule runs; leaf gradients are summed into
``.grad``.  Gradients of broadcast inputs are summed back to the input's shape
in one place: `unbroadcast`.  This module never imports the Tensor: it builds
tensors through the inputs' own ``_make`` and gets the Tensor namespace from
the tensors it is handed.
"""
from __future__ import annotations

import contextlib
import dis
import functools
import gc
import heapq
import inspect
import itertools
import linecache
import math
import os
import sys
import threading
import weakref
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, Optional, Sequence, Union

import numpy as np

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = [
    "FREED", "RECORD_LIMIT", "ArrayOps", "Function", "GradientSummary", "backward", "detect_anomaly",
    "enable_grad", "grad", "hook_on", "is_grad_enabled", "mark_changed_in_place", "mark_changed_in_place_all",
    "no_grad", "run_backward", "set_grad_enabled", "topological_order", "unbroadcast",
]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))

# Switches read on every op, each in exactly one place per op (Function.apply).  Grad mode is per
# thread, as in PyTorch (a thread-local read costs about 0.1 us); anomaly mode is one global.
class _ThreadState(threading.local):
    grad_enabled = True  # the default every new thread starts from


_state = _ThreadState()
_anomaly_enabled = False
# How many threads have recording off right now.  While none has (the usual case), an op needs only
# this global, not the thread-local read; `_set_grad_mode` keeps it right.
_threads_without_grad = 0
_mode_lock = threading.Lock()


def _set_grad_mode(enabled: bool) -> None:
    """Set this thread's grad mode (and the count of threads with it off)."""
    global _threads_without_grad
    state = _state
    if state.grad_enabled is enabled:
        return
    with _mode_lock:  # += on a global is not atomic between threads
        _threads_without_grad += -1 if enabled else 1
    state.grad_enabled = enabled
_next_sequence = itertools.count().__next__  # creation order of nodes: a node is newer than its inputs

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


class _Freed:
    """Marker left in ``ctx.saved`` once backward has released the node's buffers."""

    def __repr__(self) -> str:
        return "<freed>"


FREED = _Freed()


class ArrayOps:
    """The array namespace ``xp`` of a backward rule when nothing is recorded: NumPy on bare arrays.

    Rules use Python operators (``+ - * / @``, indexing, ``.reshape``, ``.T``) where arrays and
    Tensors agree, and these functions where they differ; the Tensor namespace
    (``tensor.TensorOps``) has the same names.
    """

    records_graph = False
    exp = np.exp
    log = np.log
    where = np.where
    swapaxes = np.swapaxes
    unsqueeze = np.expand_dims
    squeeze = np.squeeze
    permute = np.transpose

    @staticmethod
    def sum(x: np.ndarray, axis: Any, keepdims: bool = False) -> Any:
        return np.add.reduce(x, axis=axis, keepdims=keepdims)  # type: ignore[call-overload]

    @staticmethod
    def softmax(x: np.ndarray, axis: int, cached: Optional[np.ndarray] = None) -> np.ndarray:
        """softmax(x) along ``axis``; ``cached`` is that value if the forward already computed it."""
        if cached is not None:
            return cached
        exps = np.exp(x - x.max(axis=axis, keepdims=True))
        return exps / exps.sum(axis=axis, keepdims=True)

    @staticmethod
    def apply(function: Any, *arrays: np.ndarray, **kwargs: Any) -> np.ndarray:
        """Another primitive's forward on arrays (the adjoint ops: Expand, ScatterAdd, Fold, ...)."""
        return function.forward(_new_object(function), *arrays, **kwargs)


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
    Both may be plain methods or ``@staticmethod``s taking ``ctx`` (PyTorch's
    form).  Arguments of ``apply`` that are not Tensors (numbers, tuples, None)
    reach ``forward`` unchanged and get ``None`` from ``backward``;
    ``ctx.needs_input_grad`` has one bool per argument.  Under
    ``create_graph=True``, ``ctx.saved_tensors`` gives the saved inputs and
    output as the graph's Tensors, so a ``backward`` in Tensor operations is
    recorded and can be differentiated again.
    A gradient may have the broadcast shape; it is summed back to the input's
    shape by `unbroadcast`.  For a rule that can be differentiated again, write
    it in Tensor operations on ``ctx.inputs`` (the input Tensors) and
    ``ctx.output`` (the output as a Tensor of this node).

    Built-in ops define ``vjp(ctx, xp, g, out, *inputs)`` instead: the same
    rule written once against the namespace ``xp``, so it runs on arrays (``g``,
    ``out`` and ``inputs`` NumPy arrays) or on Tensors under ``create_graph``.

    Attributes of a node, used by the graph walk and by ``viz``:
    ``inputs`` (input Tensors in call order, duplicates kept), ``op_name``,
    ``output_data`` (the array produced), ``needs_input_grad``, and after a
    backward pass ``grad_output`` and ``grads_to_inputs`` (one per input; a
    gradient of more than ``RECORD_LIMIT`` elements is kept as a `GradientSummary`).
    """

    # Slots for what every recorded node sets; "__dict__" keeps custom attributes possible
    # (ctx.axes, ...) and is only allocated when an op stores one.
    __slots__ = ("inputs", "input_data", "needs_input_grad", "output_data", "saved", "sequence", "_grad_output",
                 "_grads_to_inputs", "__dict__", "__weakref__")

    op_name = ""  # filled per subclass by __init_subclass__ (class name, lower case)

    inputs: tuple
    input_data: tuple          # the inputs' arrays as the forward saw them
    needs_input_grad: tuple
    output_data: np.ndarray
    saved: Any                 # () until save_for_backward; FREED after backward
    sequence: int              # creation number: larger than every input's node
    _grad_output: Any          # what backward recorded (see the properties below)
    _grads_to_inputs: Any
    hooks: Any = None          # hooks registered on the (non-leaf) output Tensor
    retained: Any = None       # weak reference to the output Tensor after retain_grad()
    created_at: Any = None     # (filename, lineno, function) of user code, in detect_anomaly

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "op_name" not in cls.__dict__:
            cls.op_name = cls.__name__.lower()

    def forward(ctx, *arrays: np.ndarray, **kwargs: Any) -> np.ndarray:  # noqa: N805
        raise NotImplementedError(f"{type(ctx).__name__} must define forward(ctx, *arrays)")

    def backward(ctx, grad_output: "Tensor") -> Any:  # noqa: N805
        raise NotImplementedError(f"{type(ctx).__name__} must define backward(ctx, grad_output)")

    def vjp(ctx, xp: Any, g: Any, out: Any, *inputs: Any) -> Any:  # noqa: N805
        """The rule of an op that defines ``backward(ctx, grad_output)`` on Tensors (custom ops).

        ``backward`` may be a plain method or a ``@staticmethod`` (PyTorch's form).  Under
        ``create_graph`` the saved inputs and output come back from ``saved_tensors`` as the
        graph's Tensors, so a rule written in Tensor operations is recorded.
        """
        backward = type(ctx).backward
        if not xp.records_graph:
            grads = backward(ctx, ctx.inputs[0]._make(g, None, False))
        else:
            saved = ctx.saved
            ctx.saved = tuple(_saved_as_tensor(ctx, value) for value in saved) if type(saved) is tuple else saved
            try:
                grads = backward(ctx, g)
            finally:
                ctx.saved = saved
        positions = ctx.__dict__.get("tensor_positions")
        if positions is None:
            return grads
        # apply() was given non-Tensor arguments too: backward answers for every argument, the graph
        # keeps the gradients of the Tensor ones.
        grads = grads if type(grads) is tuple else tuple(grads) if isinstance(grads, list) else (grads,)
        if len(grads) != len(ctx.needs_input_grad):
            raise RuntimeError(
                f"function {type(ctx).__name__} returned an incorrect number of gradients "
                f"(expected {len(ctx.needs_input_grad)}, one per argument of apply(), got {len(grads)})"
            )
        return tuple(grads[position] for position in positions)

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
        return self.inputs[0]._make(self.output_data, self, True)

    # What backward recorded for drawings. The walk stores bare arrays (cheap); they become
    # Tensors when first read, and stay the same objects on every later read.
    @property
    def grad_output(self) -> Any:
        """The gradient this node's output received in the last backward (None before)."""
        value = self._grad_output
        if type(value) is _ndarray:
            value = self._grad_output = self.inputs[0]._make(value, None, False)
        return value

    @grad_output.setter
    def grad_output(self, value: Any) -> None:
        self._grad_output = value

    @property
    def grads_to_inputs(self) -> Optional[tuple]:
        """The gradient sent to each input in the last backward (None for an input that got none)."""
        grads = self._grads_to_inputs
        if type(grads) is tuple:  # as the walk kept it: arrays, and what went to inputs without grad
            make = self.inputs[0]._make
            grads = self._grads_to_inputs = _Shown(
                None if grad is None or not tensor.requires_grad else make(grad, None, False)
                if type(grad) is _ndarray else grad for tensor, grad in zip(self.inputs, grads))
        return grads

    @grads_to_inputs.setter
    def grads_to_inputs(self, value: Any) -> None:
        self._grads_to_inputs = value

    @classmethod
    def apply(cls, *inputs: "Tensor", **kwargs: Any) -> "Tensor":
        """Run the op on Tensors and, if any input needs a gradient, record the node.

        A custom op may also be given non-Tensor arguments (numbers, tuples, None): they reach
        ``forward`` unchanged, and ``backward`` returns None for them.
        """
        if _anomaly_enabled:
            return _apply_checked(cls, inputs, kwargs)
        ctx = _new_object(cls)
        ctx.inputs = inputs
        ctx.saved = ()
        count = len(inputs)
        try:
            if count == 2:
                arrays: tuple = (inputs[0]._data, inputs[1]._data)
            elif count == 1:
                arrays = (inputs[0]._data,)
            else:
                arrays = tuple([t._data for t in inputs])
        except AttributeError:
            return _apply_with_constants(cls, inputs, kwargs)
        try:
            output_data = cls.forward(ctx, *arrays, **kwargs)
        except (ValueError, IndexError, TypeError) as error:
            if not cls.__module__.startswith(__package__ + ".") or getattr(error, "_named", False):
                raise
            raise _named_error(ctx, error) from None
        if type(output_data) is not _ndarray:  # NumPy returns scalars for 0-d results
            output_data = np.asarray(output_data)
        make = inputs[0]._make
        if _threads_without_grad == 0 or _state.grad_enabled:
            for t in inputs:
                if t.requires_grad:
                    if count == 2:
                        ctx.needs_input_grad = (inputs[0].requires_grad, inputs[1].requires_grad)
                    else:
                        ctx.needs_input_grad = tuple([t.requires_grad for t in inputs])
                    ctx.input_data = arrays
                    ctx.output_data = output_data
                    ctx.sequence = _next_sequence()
                    ctx._grad_output = None
                    ctx._grads_to_inputs = None
                    return make(output_data, ctx, True)
        return make(output_data, None, False)


_new_object = object.__new__
_ndarray = np.ndarray


class _Shown(tuple):
    """``Function.grads_to_inputs`` once read: the gradients as Tensors (a tuple, told apart from the walk's)."""


def _is_tensor_like(value: Any) -> bool:
    return hasattr(value, "_make") and hasattr(value, "requires_grad")


def _apply_with_constants(cls: Any, arguments: tuple, kwargs: dict) -> "Tensor":
    """``apply`` given some non-Tensor arguments: forward sees them as given, the graph only the Tensors."""
    positions = tuple(index for index, value in enumerate(arguments) if _is_tensor_like(value))
    if not positions:
        raise TypeError(f"{cls.__name__}.apply(): needs at least one Tensor argument, got "
                        f"{', '.join(type(value).__name__ for value in arguments) or 'none'}")
    tensors = tuple(arguments[index] for index in positions)
    ctx = _new_object(cls)
    ctx.inputs = tensors
    ctx.saved = ()
    ctx.tensor_positions = positions
    output_data = cls.forward(ctx, *[value.data if _is_tensor_like(value) else value for value in arguments],
                              **kwargs)
    if type(output_data) is not _ndarray:
        output_data = np.asarray(output_data)
    make = tensors[0]._make
    if _state.grad_enabled and any(t.requires_grad for t in tensors):
        ctx.needs_input_grad = tuple(_is_tensor_like(value) and value.requires_grad for value in arguments)
        ctx.input_data = tuple(t.data for t in tensors)
        ctx.output_data = output_data
        ctx.sequence = _next_sequence()
        ctx._grad_output = ctx._grads_to_inputs = None
        return make(output_data, ctx, True)
    return make(output_data, None, False)


def _saved_as_tensor(ctx: Function, value: Any) -> Any:
    """Under create_graph: a saved input or output array as the graph's Tensor, another array as a constant."""
    if type(value) is not _ndarray:
        return value
    for tensor, data in zip(ctx.inputs, ctx.input_data):
        if value is data:
            return tensor
    if value is ctx.output_data:
        return ctx.output
    return ctx.inputs[0]._make(value, None, False)


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
    """Context manager (and decorator) that sets whether ops record the graph, in this thread."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = bool(enabled)  # a bool: _set_grad_mode compares by identity
        self._previous: list = []

    def __enter__(self) -> None:
        self._previous.append(_state.grad_enabled)
        _set_grad_mode(self.enabled)

    def __exit__(self, *exc: Any) -> None:
        _set_grad_mode(self._previous.pop())

    def _recreate_cm(self) -> "_GradMode":
        return _GradMode(self.enabled)  # a fresh one per decorated call: calls in several threads do not share it

    def __call__(self, function: Callable) -> Callable:  # type: ignore[override]
        """Decorate ``function``; a generator function runs each step of its body in this mode."""
        if not inspect.isgeneratorfunction(function):
            return super().__call__(function)
        enabled = self.enabled

        @functools.wraps(function)
        def generator(*args: Any, **kwargs: Any) -> Any:
            steps = function(*args, **kwargs)
            with _GradMode(enabled):
                value = next(steps)  # StopIteration ends this generator too
            while True:
                try:
                    sent = yield value
                except GeneratorExit:
                    steps.close()
                    raise
                except BaseException as error:  # thrown in by the caller: into the body, in this mode
                    with _GradMode(enabled):
                        try:
                            value = steps.throw(error)
                        except StopIteration as stop:
                            return stop.value
                else:
                    with _GradMode(enabled):
                        try:
                            value = steps.send(sent)
                        except StopIteration as stop:
                            return stop.value

        return generator


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


class set_grad_enabled(_GradMode):  # noqa: N801 (PyTorch's name)
    """Turn recording on or off: at once when called, and back to the previous mode when used as a block.

    >>> from tinygrad_edu import is_grad_enabled, set_grad_enabled
    >>> with set_grad_enabled(False):
    ...     is_grad_enabled()
    False
    >>> is_grad_enabled()
    True
    """

    def __init__(self, mode: bool) -> None:
        super().__init__(bool(mode))  # a bool: the mode is compared by identity
        self._previous.append(_state.grad_enabled)
        _set_grad_mode(self.enabled)

    def __enter__(self) -> None:
        pass  # the mode was set by the call

    def __call__(self, function: Callable) -> Callable:  # type: ignore[override]
        _set_grad_mode(self._previous.pop())  # used as a decorator: only the decorated calls change the mode
        return _GradMode(self.enabled)(function)


def is_grad_enabled() -> bool:
    """Whether operations are currently being recorded (in this thread)."""
    return _state.grad_enabled


# ---------------------------------------------------------------- anomaly detection

class detect_anomaly(contextlib.ContextDecorator):  # noqa: N801 (PyTorch's name)
    """Raise ``FloatingPointError`` at the first op whose forward or backward gives NaN/inf.

    The message names the op and the line of user code that created it.  Slower:
    every op checks its result, so use it while debugging.
    """

    def __enter__(self) -> "detect_anomaly":
        global _anomaly_enabled
        self.__dict__.setdefault("_previous", []).append(_anomaly_enabled)  # a stack: the object may be re-entered
        _anomaly_enabled = True
        return self

    def __exit__(self, *exc: Any) -> None:
        global _anomaly_enabled
        _anomaly_enabled = self.__dict__["_previous"].pop()


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


def _check_gradients(node: Function, grads: Sequence[Any]) -> None:
    """Under detect_anomaly: blame a non-finite gradient on the node whose rule produced it."""
    for grad in grads:
        if grad is not None:
            _check_finite(node.op_name, node.created_at, getattr(grad, "data", grad),
                          "backward (gradient for one of its inputs)")


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


# ---------------------------------------------------------------- in-place changes and versions
#
# Nothing is recorded per op.  An in-place change (``+=`` on a Tensor, an optimizer step) takes a
# sequence number and notes it against the array it changed; the walk checks a node only if some
# change came after the node was made (one integer comparison per node otherwise).

_last_change = -1     # sequence number of the latest in-place change
_changed: dict = {}   # id of the array that owns the memory -> (sequence number, weak reference, tensor version)
# Both keyed by id(tensor) (a Tensor's == is elementwise), each entry dropped when its tensor dies:
_rebound: dict = {}   # -> [(sequence, ctx, data)] it had before an in-place op in grad mode
_versions: dict = {}  # -> its version, for tensors changed at least once
_values_used_by: dict = {}  # Function class -> (uses its output, which inputs), read from its rule


def _owner(array: np.ndarray) -> np.ndarray:
    while isinstance(array.base, _ndarray):
        array = array.base
    return array


def _forget(key: int, reference: Any) -> None:
    entry = _changed.get(key)
    if entry is not None and entry[1] is reference:
        del _changed[key]


def version_of(tensor: "Tensor") -> int:
    """How many times ``tensor`` was changed in place (``Tensor._version``); kept here, so ops pay nothing for it."""
    return _versions.get(id(tensor), 0)


def _drop_tensor(key: int, _reference: Any) -> None:
    _versions.pop(key, None)
    _rebound.pop(key, None)


def mark_changed_in_place(tensor: "Tensor", previous: Optional[tuple] = None) -> None:
    """Record that ``tensor``'s values were changed in place: bump its version (``tensor._version``).

    A later backward through a node that saved those values (made before the
    change) raises instead of computing with the new ones.  ``previous`` is the
    ``(ctx, data)`` the tensor had when an in-place op in grad mode gave it a new
    node and array: nodes made before still send gradients to the old node.
    """
    global _last_change
    tensor_key = id(tensor)
    if tensor_key not in _versions:
        weakref.finalize(tensor, _drop_tensor, tensor_key, None)
    version = _versions[tensor_key] = _versions.get(tensor_key, 0) + 1
    sequence = _last_change = _next_sequence()
    array = _owner(tensor.data if previous is None else previous[1])
    key = id(array)
    entry = _changed.get(key)
    if entry is not None and entry[1]() is array:  # changed before (each optimizer step): reuse its reference
        reference = entry[1]
    else:
        reference = weakref.ref(array, functools.partial(_forget, key))
    _changed[key] = (sequence, reference, version)
    if previous is not None:
        _rebound.setdefault(tensor_key, []).append((sequence,) + tuple(previous))


def mark_changed_in_place_all(tensors: Sequence["Tensor"]) -> None:
    """`mark_changed_in_place` for the tensors one optimizer step changed, all at one moment.

    The same record at about a third of the cost per tensor: one sequence
    number for the step, the version counter bumped directly.
    """
    global _last_change
    sequence = _last_change = _next_sequence()
    versions, changed = _versions, _changed
    for tensor in tensors:
        tensor_key = id(tensor)
        version = versions.get(tensor_key)
        if version is None:
            weakref.finalize(tensor, _drop_tensor, tensor_key, None)
            version = 0
        version = versions[tensor_key] = version + 1
        array = tensor._data
        if array.base is not None:
            array = _owner(array)
        key = id(array)
        entry = changed.get(key)
        reference = entry[1] if entry is not None and entry[1]() is array else \
            weakref.ref(array, functools.partial(_forget, key))
        changed[key] = (sequence, reference, version)


def _values_used(cls: Any) -> tuple:
    """(uses ``out``, uses each input or None for all) of a built-in rule, read from its code; cached."""
    found = _values_used_by.get(cls)
    if found is None:
        code = cls.vjp.__code__
        loaded: set = set()
        for instruction in dis.get_instructions(code):
            if instruction.opname.startswith(("LOAD_FAST", "LOAD_DEREF", "LOAD_CLOSURE")):
                value = instruction.argval
                loaded.update(value if isinstance(value, tuple) else (value,))
        names = code.co_varnames[:code.co_argcount]
        varargs = code.co_varnames[code.co_argcount] if code.co_flags & inspect.CO_VARARGS else None
        found = _values_used_by[cls] = (len(names) > 3 and names[3] in loaded,
                                        tuple(name in loaded for name in names[4:]),
                                        varargs is not None and varargs in loaded)
    return found


def _changed_since(array: Any, sequence: int) -> Optional[int]:
    """The tensor version after the latest change of ``array`` made after ``sequence``, or None."""
    if type(array) is not _ndarray:
        return None
    owner = _owner(array)
    entry = _changed.get(id(owner))
    if entry is None or entry[0] < sequence or entry[1]() is not owner:
        return None
    return entry[2]


def _modified_error(node: Function, what: str, array: np.ndarray, version: int) -> RuntimeError:
    return RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"{what} of '{node.op_name}' (a {array.dtype} tensor of shape {array.shape}) was changed in place after "
        f"'{node.op_name}' saved it (that tensor is now at version {version}). Hint: make the change after "
        "backward, or on a copy (`x = x + 1` instead of `x += 1`); an optimizer step counts as one."
    )


def _inputs_as_recorded(node: Function) -> tuple:
    """For a node made before some in-place change: raise if its rule needs a changed value; its inputs as it saw them."""
    sequence = node.sequence
    if type(node).vjp is Function.vjp:  # a custom op: what it saved
        saved = node.saved if type(node.saved) is tuple else ()
        for index, value in enumerate(saved):
            version = _changed_since(value, sequence)
            if version is not None:
                raise _modified_error(node, f"saved tensor {index}", value, version)
    else:
        uses_output, uses_inputs, uses_rest = _values_used(type(node))
        version = _changed_since(node.output_data, sequence) if uses_output else None
        if version is not None:
            raise _modified_error(node, "output 0", node.output_data, version)
        for index, data in enumerate(node.input_data):
            if uses_inputs[index] if index < len(uses_inputs) else uses_rest:
                version = _changed_since(data, sequence)
                if version is not None:
                    raise _modified_error(node, f"input {index}", data, version)
    inputs = node.inputs
    if _rebound:
        recorded = list(inputs)
        for index, tensor in enumerate(inputs):
            for changed_at, ctx, data in _rebound.get(id(tensor), ()):
                if changed_at > sequence:  # the first rebinding after the node: what the node was made from
                    recorded[index] = tensor._make(data, ctx, ctx is not None)
                    break
        inputs = tuple(recorded)
    return inputs


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

    Gradients wait in ``pending`` (keyed by node, or by the Tensor for a leaf)
    until the walk reaches their node; nodes are visited newest first from a
    heap, so every consumer of a node has run before it.  Under
    ``create_graph`` gradients are Tensors and ``xp`` records; otherwise both
    are bare NumPy.  The core (pop, run the rule, free, send each input its
    gradient) is this loop; around it: `_WalkModes` (grad mode, gc pause,
    anomaly mode), `_visit_tensor` (hooks, ``retain_grad``, what ``grad()``
    asked for), `_call_rule` (with the anomaly check), the records drawings
    read, and `_deliver_to_leaf` (``.grad``).
    """
    xp = roots[0]._graph_ops if create_graph else ArrayOps
    grad_type = type(roots[0]) if create_graph else _ndarray
    wanted, results = _wanted_by_grad(inputs), [None] * len(inputs or ())
    handed_out = {id(root_grad._data) for root_grad in root_grads}  # arrays the caller may still hold
    pending, heap = _start(roots, root_grads, create_graph)
    floor, last_change, limit = _pruning_floor(wanted), _last_change, RECORD_LIMIT
    with _WalkModes(create_graph) as check_anomaly:
        while heap:
            sequence, node = heappop(heap)  # the newest node waiting: all its consumers have run
            g = pending.pop(node)
            if node.saved is FREED:
                raise RuntimeError(_SECOND_BACKWARD_MESSAGE.format(op=node.op_name))
            if node.hooks is not None or node.retained is not None or node in wanted:
                g = _visit_tensor(node, g, wanted, results, create_graph, handed_out)
            if -sequence <= floor:
                continue  # grad(): nothing it was asked for lies behind this node: it is neither run nor freed
            node_inputs = node.inputs if -sequence > last_change else _inputs_as_recorded(node)
            grads = _call_rule(node, xp, g, create_graph, check_anomaly)
            if not retain_graph:
                node.saved, node.input_data = FREED, ()  # free what the rule used
            sent = None  # the gradients as sent, once one differs from what the rule returned
            for tensor, grad, index in zip(node_inputs, grads, _POSITIONS):
                if grad is None or not tensor.requires_grad:
                    continue
                data = tensor._data
                # dtypes by identity: NumPy's built-in dtypes are singletons, anything else takes the slow path
                if type(grad) is not grad_type or grad.shape != data.shape or grad.dtype is not data.dtype \
                        or data.size > limit:  # to reshape or cast, or too large to record as it is
                    grad = _to_input_gradient(grad, tensor, node, xp)
                    sent = sent or list(grads)
                    sent[index] = grad
                key = tensor._ctx or tensor
                previous = pending.get(key)
                if previous is None:
                    pending[key] = grad
                    if key is not tensor:
                        heappush(heap, (-key.sequence, key))
                else:  # never in place: either may also be a record or another edge's gradient
                    total = previous + grad
                    pending[key] = total if type(total) is grad_type else np.asarray(total)  # 0-d sums give scalars
            if sent is None and node.output_data.size <= limit:  # what drawings read: the rule's own values
                node._grad_output, node._grads_to_inputs = g, grads
            else:
                _record_as_sent(node, g, sent or grads, node_inputs, limit)
        for tensor, grad in pending.items():  # what is left are the leaves (and roots that are leaves)
            _deliver_to_leaf(tensor, grad, wanted, results, inputs is None, create_graph, handed_out)
    return results if inputs is not None else None


def _start(roots: Sequence["Tensor"], root_grads: Sequence["Tensor"], create_graph: bool) -> tuple:
    """The walk's ``pending`` gradients and its heap of nodes, holding the roots' gradients."""
    pending: dict = {}
    heap: list = []
    for root, root_grad in zip(roots, root_grads):
        _add_pending(pending, heap, root, root_grad if create_graph else root_grad.data)
    return pending, heap


def _call_rule(node: Function, xp: Any, g: Any, create_graph: bool, check_anomaly: bool) -> tuple:
    """The node's rule on its output gradient: one gradient per input (None for none)."""
    if create_graph:
        grads = node.vjp(xp, g, node.output, *node.inputs)
    else:
        grads = node.vjp(xp, g, node.output_data, *node.input_data)
    if type(grads) is not tuple or len(grads) != len(node.inputs):
        grads = _as_tuple(node, grads)
    if check_anomaly:
        _check_gradients(node, grads)
    return grads


def _record_as_sent(node: Function, g: Any, sent: Sequence[Any], node_inputs: tuple, limit: int) -> None:
    """Keep what a node received and sent for drawings (`Function.grad_output`, `Function.grads_to_inputs`),
    a large gradient into an intermediate as its `GradientSummary`, so the graph holds no large gradients."""
    records: list = []
    for tensor, grad in zip(node_inputs, sent):
        if grad is None or not tensor.requires_grad:
            records.append(None)
        else:
            records.append(grad if tensor._ctx is None or tensor._data.size <= limit else _summary(grad))
    node._grad_output = g if node.output_data.size <= limit else _summary(g)
    node._grads_to_inputs = tuple(records)


_POSITIONS = range(sys.maxsize)  # zipped with a node's inputs to number them at no cost
heappop, heappush = heapq.heappop, heapq.heappush


def _pruning_floor(wanted: dict) -> int:
    """For grad() asked only for intermediate tensors: nodes this old or older lead to none of them, so are not walked.

    (A node leading to a wanted node is newer than it.)  When a leaf is wanted,
    or for backward(), everything is walked: -1.
    """
    if not wanted or not all(isinstance(key, Function) for key in wanted):
        return -1
    return min(key.sequence for key in wanted)


def _add_pending(pending: dict, heap: list, tensor: "Tensor", grad: Any) -> None:
    key: Any = tensor._ctx or tensor
    if key in pending:
        total = pending[key] + grad
        pending[key] = total if type(total) is type(grad) else np.asarray(total)
    else:
        pending[key] = grad
        if key is not tensor:
            heappush(heap, (-key.sequence, key))


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


class _WalkModes:
    """The switches a backward pass runs under, restored afterwards; entering gives whether to check for anomalies.

    Grad mode is ``create_graph``.  Under detect_anomaly a non-finite gradient is
    blamed on the node whose rule made it, so the helper ops inside the rule skip
    their own forward check.  The walk makes no reference cycles (refcounting
    frees everything), so the cyclic collector's scans of a large graph would be
    pure overhead.  A 0 * inf in a rule is a convention here, not a warning.
    """

    __slots__ = ("create_graph", "previous_mode", "check_anomaly", "collector_was_enabled", "quiet")

    def __init__(self, create_graph: bool) -> None:
        self.create_graph = bool(create_graph)

    def __enter__(self) -> bool:
        global _anomaly_enabled
        self.previous_mode, self.check_anomaly = _state.grad_enabled, _anomaly_enabled
        _anomaly_enabled = False
        _set_grad_mode(self.create_graph)
        self.collector_was_enabled = gc.isenabled()
        gc.disable()
        self.quiet = np.errstate(divide="ignore", invalid="ignore", over="ignore")
        self.quiet.__enter__()
        return self.check_anomaly

    def __exit__(self, *exc: Any) -> None:
        global _anomaly_enabled
        self.quiet.__exit__(*exc)
        _anomaly_enabled = self.check_anomaly
        _set_grad_mode(self.previous_mode)
        if self.collector_was_enabled:
            gc.enable()


def _summary(value: Any) -> GradientSummary:
    data = value if type(value) is _ndarray else value.data
    flat = data.reshape(-1)
    return GradientSummary(math.sqrt(float(np.dot(flat, flat))), data.shape, data.dtype)


def _wanted_by_grad(inputs: Optional[Sequence["Tensor"]]) -> dict:
    """For grad(): node (or leaf Tensor) -> the positions in ``inputs`` that want its gradient."""
    wanted: dict = {}
    for index, tensor in enumerate(inputs or ()):
        wanted.setdefault(tensor._ctx if tensor._ctx is not None else tensor, []).append(index)
    return wanted


def _as_gradient(value: Any, like: "Tensor", name: str) -> "Tensor":
    grad = value if isinstance(value, type(like)) else type(like)(value, dtype=like.dtype)
    if grad.shape != like.shape:
        raise ValueError(f"{name} has shape {grad.shape} but the output has shape {like.shape}")
    return grad


def _run_hooks(hooks: list, like: "Tensor", grad: Any, create_graph: bool) -> Any:
    """Call each hook with the gradient as a Tensor; a returned value replaces it."""
    tensor = grad if create_graph else like._make(grad, None, False)
    for hook in hooks:
        replaced = hook(tensor)
        if replaced is not None:
            tensor = _as_gradient(replaced, tensor, "a hook's return value")
    return tensor if create_graph else tensor.data


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


def _to_input_gradient(grad: Any, tensor: "Tensor", node: Function, xp: Any) -> Any:
    """Turn what a rule returned into a gradient of the input's shape and dtype (an array, or a Tensor under xp)."""
    if xp.records_graph:
        if not isinstance(grad, type(tensor)):
            grad = tensor._make(np.asarray(grad, dtype=tensor.dtype), None, False)
    elif type(grad) is not _ndarray:
        grad = np.asarray(getattr(grad, "data", grad))
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


def _deliver_to_leaf(tensor: Any, grad: Any, wanted: dict, results: list, accumulate: bool, create_graph: bool,
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
        flags = grad.flags
        if not (flags.owndata and flags.writeable) or id(grad) in handed_out or grad.dtype != tensor._data.dtype:
            grad = np.array(grad, dtype=tensor._data.dtype, copy=True)
        handed_out.add(id(grad))
        tensor.grad = tensor._make(grad, None, False)
    else:
        tensor.grad = tensor._make(tensor.grad._data + grad, None, False)


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
    ones = np.empty(output.shape, dtype=output.dtype)
    ones.fill(1)
    return output._make(ones, None, False)


def _is_tensor(value: Any) -> bool:
    """Whether ``value`` is a Tensor (anything with the graph attributes the walk uses)."""
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
    hooks.append(hook)
    return functools.partial(_remove_hook, hooks, hook)


def _remove_hook(hooks: list, hook: Callable) -> None:
    if hook in hooks:
        hooks.remove(hook)
