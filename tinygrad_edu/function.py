"""Graph nodes: `Function`, the base class of every operation (built-in or custom), and how ops are recorded.

Calling ``SomeOp.apply(*tensors, **kwargs)`` creates one instance of it, called
``ctx``, which is the node of the computation graph.  A built-in op states its
derivative once, as a vector-Jacobian product::

    def vjp(ctx, xp, g, out, *inputs): ...   # one gradient per input

written against a small array namespace ``xp``: `ArrayOps` (NumPy on bare
arrays, nothing recorded) for an ordinary backward, the Tensor's namespace
under ``create_graph=True``.  Custom ops write ``backward(ctx, grad_output)`` in
Tensor operations instead, as in PyTorch.  This module never imports the
Tensor: it builds tensors through the inputs' own ``_make``.
"""
from __future__ import annotations

import functools
import itertools
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Optional

import numpy as np

from . import anomaly, grad_mode
from .grad_mode import _state

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["ALIKE", "ALWAYS", "FREED", "NEVER", "ArrayOps", "Function"]

# Function.exact_rule: when an op's rule returns gradients already shaped and typed like its inputs.
NEVER, ALWAYS, ALIKE = "never", "always", "alike"

_sequence = itertools.count()  # creation order of nodes: a node is newer than its inputs
_next_sequence = _sequence.__next__


class _Freed:
    """Marker left in ``ctx.saved`` once backward has released the node's buffers."""

    def __repr__(self) -> str:
        return "<freed>"


FREED = _Freed()


_constants: dict = {}  # (value, dtype) -> read-only 0-d array, for the ops' own constants (see constant)


def constant(value: Any, dtype: Any) -> np.ndarray:
    """An op's own constant (the 0 of relu, the 1 of sigmoid) as a shared, read-only 0-d array of ``dtype``.

    Given a Python number, NumPy works out the result's dtype on every call: on a small
    array ``x - 1`` costs twice as much as ``x - one`` with ``one`` a 0-d array of x's dtype.
    Only for the few fixed numbers the ops name (zero included, as the int 0). A user's
    numbers (``0.5 * t``) have their own cache, `tensor._scalar_array`: it is bounded and
    never keeps a zero, because -0.0 and 0.0 are equal dict keys.
    """
    array = _constants.get((value, dtype))
    if array is None:
        array = np.asarray(value, dtype=dtype)
        array.flags.writeable = False
        _constants[value, dtype] = array
    return array


class ArrayOps:
    """The array namespace ``xp`` of a backward rule when nothing is recorded: NumPy on bare arrays.

    Rules use Python operators (``+ - * / @``, indexing, ``.reshape``, ``.T``) where arrays and
    Tensors agree, and these functions where they differ; the Tensor namespace
    (``tensor.TensorOps``) has the same names.
    """

    records_graph = False
    constant = staticmethod(constant)
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
    def expand(array: np.ndarray, shape: tuple) -> np.ndarray:
        """``np.broadcast_to(array, shape)`` (a read-only view, no copy), built directly when ``array`` is contiguous.

        NumPy's broadcast_to costs about 5 us whatever the size; a strided view costs
        under 1 us, and this sits on the backward path of every sum and mean.
        """
        if not array.flags.c_contiguous:
            return np.broadcast_to(array, shape)
        extra = len(shape) - array.ndim
        strides = (0,) * extra if not array.ndim else (0,) * extra + tuple(  # a 0-d array: every stride 0
            0 if size == 1 and target != 1 else stride
            for size, stride, target in zip(array.shape, array.strides, shape[extra:])
        )
        view = np.ndarray(shape, array.dtype, array, 0, strides)
        view.flags.writeable = False
        return view

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
    returns an array.  A built-in op whose forward is one NumPy ufunc on its
    inputs names it instead (``forward = np.tanh``): ``apply`` then calls the
    ufunc directly, without a Python frame (about 4% of a small op).  ``backward`` receives the output gradient as a Tensor and
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
    # Whether the op's rule returns each input's gradient already in that input's shape and dtype, so the
    # walk need not check each one (checking costs about 7% of a small op): NEVER (custom ops, and rules
    # that leave broadcasting to the walk), ALWAYS (one-input ops such as exp), or ALIKE (two-input
    # elementwise ops, when both inputs have one shape and dtype: the walk compares them once per node).
    exact_rule = NEVER

    inputs: tuple
    input_data: tuple          # the inputs' arrays as the forward saw them; FREED once a backward freed the node
    needs_input_grad: tuple
    output_data: np.ndarray
    saved: Any                 # () until save_for_backward; FREED after backward
    sequence: int              # creation number: larger than every input's node
    _grad_output: Any          # what backward recorded (see the properties below)
    _grads_to_inputs: Any
    _ufunc: Any = None         # the NumPy ufunc that is the forward, for ops that say ``forward = np.some_ufunc``
    hooks: Any = None          # hooks registered on the (non-leaf) output Tensor
    retained: Any = None       # weak reference to the output Tensor after retain_grad()
    created_at: Any = None     # (filename, lineno, function) of user code, in detect_anomaly

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "op_name" not in cls.__dict__:
            cls.op_name = cls.__name__.lower()
        if "exact_rule" not in cls.__dict__ and not {"forward", "vjp", "backward"}.isdisjoint(cls.__dict__):
            cls.exact_rule = NEVER  # a subclass with a forward or rule of its own is checked unless it says otherwise
        forward = cls.__dict__.get("forward")
        if isinstance(forward, np.ufunc):  # forward = np.tanh: what apply calls, and a method for everyone else
            cls._ufunc = forward
            cls.forward = _ufunc_forward(forward)
        elif forward is not None:
            cls._ufunc = None  # a forward of its own, so not the ufunc of a class it extends
        if "apply" not in cls.__dict__:
            cls.apply = _apply_for(cls)

    def _no_forward(ctx, *arrays: np.ndarray, **kwargs: Any) -> np.ndarray:  # noqa: N805
        raise NotImplementedError(f"{type(ctx).__name__} must define forward(ctx, *arrays)")

    forward: Any = _no_forward  # a method forward(ctx, *arrays, **kwargs), or a NumPy ufunc (see above)

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
            with grad_mode.user_code_mode(False):  # the walk leaves the mode as it was: user code runs with it off
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
        value = getattr(self, "_grad_output", None)  # unset until a recorded backward
        if type(value) is _ndarray:
            value = self._grad_output = self.inputs[0]._make(value, None, False)
        return value

    @grad_output.setter
    def grad_output(self, value: Any) -> None:
        self._grad_output = value

    @property
    def grads_to_inputs(self) -> Optional[tuple]:
        """The gradient sent to each input in the last backward (None for an input that got none)."""
        grads = getattr(self, "_grads_to_inputs", None)
        if type(grads) is tuple:  # as the walk kept it: arrays, and what went to inputs without grad
            make = self.inputs[0]._make
            grads = self._grads_to_inputs = _Shown(
                None if grad is None or not tensor.requires_grad else make(grad, None, False)
                if type(grad) is _ndarray else grad for tensor, grad in zip(self.inputs, grads))
        return grads

    @grads_to_inputs.setter
    def grads_to_inputs(self, value: Any) -> None:
        self._grads_to_inputs = value

    # ``SomeOp.apply(*inputs, **kwargs)``: run the op and record the node. Each subclass gets its own
    # copy (`_apply_for`), so the per-op path is specialized for one class.
    apply: ClassVar[Callable[..., "Tensor"]]


_new_object = object.__new__
_ndarray = np.ndarray


def _apply_for(cls: Any) -> Any:
    """``cls.apply``: the op's forward on Tensors, recording the node; a function of its own for each class.

    It is the same code for every op, but a copy per class: Python 3.11 specializes attribute
    reads and writes per code object, and on one shared copy the node's attributes (a different
    class at every call) would never be specialized.  A staticmethod rather than a classmethod:
    the call then runs in the caller's frame loop, without a bound method object.
    """
    def apply(*inputs: "Tensor", **kwargs: Any) -> "Tensor":
        """Run the op on Tensors and, if any input needs a gradient, record the node.

        A custom op may also be given non-Tensor arguments (numbers, tuples, None): they reach
        ``forward`` unchanged, and ``backward`` returns None for them.
        """
        if anomaly._anomaly_enabled:
            return anomaly._apply_checked(cls, inputs, kwargs)
        ctx = new_node()
        ctx.inputs = inputs
        ctx.saved = ()
        count = len(inputs)
        try:  # one to three inputs spelled out: no tuple built to be unpacked again (the per-op path)
            if count == 2:
                first, second = inputs[0]._data, inputs[1]._data
                arrays: tuple = (first, second)
            elif count == 1:
                first = inputs[0]._data
                arrays = (first,)
            elif count == 3:  # Linear with a bias, attention's q, k, v...
                arrays = (inputs[0]._data, inputs[1]._data, inputs[2]._data)
            else:
                arrays = tuple([t._data for t in inputs])
        except AttributeError:
            return _apply_with_constants(cls, inputs, kwargs)
        try:
            if kwargs:
                output_data = cls.forward(ctx, *arrays, **kwargs)
            elif count == 2:
                output_data = cls.forward(ctx, first, second) if ufunc is None else ufunc(first, second)
            elif count == 1:
                output_data = cls.forward(ctx, first) if ufunc is None else ufunc(first)
            else:
                output_data = cls.forward(ctx, *arrays)
        except (ValueError, IndexError, TypeError) as error:
            if not cls.__module__.startswith(__package__ + ".") or getattr(error, "_named", False):
                raise
            raise _named_error(ctx, error) from None
        if type(output_data) is not _ndarray:  # NumPy returns scalars for 0-d results
            output_data = np.asarray(output_data)
        if not grad_mode._threads_without_grad or _state.grad_enabled:
            # For one or two inputs needs_input_grad is a constant tuple, shared by the nodes: one object
            # fewer to allocate, free and have the garbage collector look at per node. () records nothing.
            if count == 2:
                if inputs[0].requires_grad:
                    needs: tuple = (True, True) if inputs[1].requires_grad else (True, False)
                else:
                    needs = (False, True) if inputs[1].requires_grad else ()
            elif count == 1:
                needs = (True,) if inputs[0].requires_grad else ()
            else:
                needs = (inputs[0].requires_grad, inputs[1].requires_grad, inputs[2].requires_grad) if count == 3 \
                    else tuple([t.requires_grad for t in inputs])
                if True not in needs:
                    needs = ()
            if needs:
                ctx.needs_input_grad = needs
                ctx.input_data = arrays
                ctx.output_data = output_data
                ctx.sequence = next(_sequence)
                return inputs[0]._output(output_data, ctx)
        return inputs[0]._make(output_data, None, False)

    ufunc = cls._ufunc
    # Calling the class makes a node faster than object.__new__(cls) does, where the class has no __new__ or
    # __init__ of its own (a custom op may have one that wants arguments).
    new_node = cls if cls.__new__ is object.__new__ and cls.__init__ is object.__init__ else \
        functools.partial(_new_object, cls)
    apply.__code__ = apply.__code__.replace()  # a copy: its own specialization caches
    apply.__qualname__ = f"{cls.__qualname__}.apply"
    return staticmethod(apply)


Function.apply = _apply_for(Function)


def _ufunc_forward(ufunc: np.ufunc) -> Any:
    """``forward(ctx, *arrays)`` of an op that says ``forward = ufunc``, for the callers other than ``apply``."""
    def forward(ctx: Function, *arrays: np.ndarray) -> np.ndarray:
        return ufunc(*arrays)

    forward.__qualname__ = forward.__name__ = ufunc.__name__
    return forward


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
