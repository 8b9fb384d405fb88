"""Checking gradients against central finite differences, in float64.

``gradcheck`` compares what ``backward`` computes with
(f(x + eps) - f(x - eps)) / (2 eps), element by element, and on failure shows
for each input the worst absolute and relative errors and where they are.
For a non-scalar output it checks the vector-Jacobian product with a fixed
random vector ``v`` (the gradient of sum(f(x) * v)), which involves every entry
of the Jacobian.
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import numpy as np

from .autograd import enable_grad, grad, no_grad
from .tensor import Tensor


class GradcheckError(RuntimeError):
    """Raised by `gradcheck`/`gradgradcheck`; the message holds the per-input error table."""


def _as_tuple(inputs: Any) -> tuple:
    return tuple(inputs) if isinstance(inputs, (list, tuple)) else (inputs,)


def _float64_copies(inputs: tuple) -> tuple:
    """Fresh float64 leaves, so checks never touch the caller's tensors and run at full precision."""
    copies = []
    for item in inputs:
        if isinstance(item, Tensor) and item.dtype.kind == "f":
            copies.append(Tensor(item.data.astype(np.float64), requires_grad=item.requires_grad))
        else:
            copies.append(item)
    return tuple(copies)


def _output(fn: Callable, inputs: tuple, who: str) -> Tensor:
    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"{who}: fn must return a Tensor, got {type(out).__name__}")
    return out


def _projection(shape: tuple) -> np.ndarray:
    """ones for a scalar output, else a fixed random vector (the same on every call)."""
    if int(np.prod(shape)) == 1:
        return np.ones(shape)
    return np.random.default_rng(20240601).standard_normal(shape)


def numerical_grad(fn: Callable[..., Tensor], inputs: Any, eps: float = 1e-6,
                   grad_output: Optional[np.ndarray] = None) -> tuple:
    """Central-difference gradients of sum(fn(*inputs) * grad_output) in float64.

    Returns one float64 array per input (``None`` for inputs that are not
    Tensors requiring grad).  ``grad_output`` defaults to ones.

    >>> from tinygrad_edu import Tensor, numerical_grad
    >>> x = Tensor([1.0, 2.0], requires_grad=True)
    >>> [round(v, 6) for v in numerical_grad(lambda t: (t * t).sum(), [x])[0]]
    [2.0, 4.0]
    """
    inputs = _float64_copies(_as_tuple(inputs))
    with no_grad():
        reference = _output(fn, inputs, "numerical_grad")
    weights = np.ones(reference.shape) if grad_output is None else np.asarray(grad_output, dtype=np.float64)

    def objective() -> float:
        with no_grad():
            return float(np.sum(np.asarray(_output(fn, inputs, "numerical_grad").data, dtype=np.float64) * weights))

    results: list = []
    for item in inputs:
        if not (isinstance(item, Tensor) and item.requires_grad):
            results.append(None)
            continue
        flat = item.data.reshape(-1)  # a view: the copies are contiguous
        gradient = np.zeros(item.data.size)
        for i in range(flat.size):
            original = flat[i]
            flat[i] = original + eps
            plus = objective()
            flat[i] = original - eps
            minus = objective()
            flat[i] = original
            gradient[i] = (plus - minus) / (2 * eps)
        results.append(gradient.reshape(item.shape))
    return tuple(results)


def _analytic(fn: Callable, inputs: tuple, weights_for: Callable[[tuple], np.ndarray], who: str) -> tuple:
    out = _output(fn, inputs, who)
    weights = weights_for(out.shape)
    targets = [item for item in inputs if isinstance(item, Tensor) and item.requires_grad]
    if not targets:
        raise ValueError(f"{who}: no input is a Tensor with requires_grad=True, so there is nothing to check")
    if not out.requires_grad:
        grads: tuple = (None,) * len(targets)
    else:
        grads = grad(out, targets, grad_outputs=Tensor(weights, dtype=out.dtype), allow_unused=True)
    analytic = iter(np.zeros(t.shape) if g is None else np.asarray(g.data, dtype=np.float64) for t, g in zip(targets, grads))
    return tuple(next(analytic) if isinstance(item, Tensor) and item.requires_grad else None for item in inputs), weights


def _report(title: str, inputs: tuple, analytic: tuple, numeric: tuple, atol: float, rtol: float) -> Optional[str]:
    rows = []
    failed = 0
    for index, (item, a, n) in enumerate(zip(inputs, analytic, numeric)):
        if a is None:
            continue
        error = np.abs(a - n)
        bad = error > atol + rtol * np.abs(n)
        relative = error / np.maximum(np.abs(n), 1e-12)
        if a.size == 0:
            rows.append(f"  input {index} {item.shape}: empty")
            continue
        worst = np.unravel_index(np.argmax(error), a.shape)
        worst_relative = np.unravel_index(np.argmax(np.where(error > atol, relative, 0)), a.shape)
        status = f"FAILED at {int(bad.sum())} of {a.size} elements" if bad.any() else "ok"
        failed += bool(bad.any())
        rows.append(
            f"  input {index} shape {item.shape}: {status}\n"
            f"    max abs error {error[worst]:.3e} at index {tuple(int(i) for i in worst)}: "
            f"backward {a[worst]:.6e}, finite differences {n[worst]:.6e}\n"
            f"    max rel error {relative[worst_relative]:.3e} at index {tuple(int(i) for i in worst_relative)}"
        )
    if not failed:
        return None
    return f"{title} failed for {failed} input(s) (atol={atol}, rtol={rtol}):\n" + "\n".join(rows)


def gradcheck(fn: Callable[..., Tensor], inputs: Any, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True) -> bool:
    """Check ``backward`` against central finite differences in float64.

    ``inputs`` is a Tensor or a sequence (non-Tensors are passed through);
    the Tensors with ``requires_grad`` are checked, as float64 copies.  Returns
    True, or False / raises `GradcheckError` with a per-input table of the
    worst errors.

    >>> from tinygrad_edu import Tensor, gradcheck
    >>> gradcheck(lambda x: x.tanh() * x, [Tensor([0.3, -1.2], requires_grad=True)])
    True
    """
    inputs = _float64_copies(_as_tuple(inputs))
    analytic, weights = _analytic(fn, inputs, _projection, "gradcheck")
    numeric = numerical_grad(fn, inputs, eps, grad_output=weights)
    return _verdict(_report("Gradient check", inputs, analytic, numeric, atol, rtol), raise_exception)


def gradgradcheck(fn: Callable[..., Tensor], inputs: Any, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, raise_exception: bool = True) -> bool:
    """Check second derivatives: the gradient of <grad(fn)(x), w> (backward run with create_graph) against finite differences of it."""
    inputs = _float64_copies(_as_tuple(inputs))
    targets = [item for item in inputs if isinstance(item, Tensor) and item.requires_grad]
    if not targets:
        raise ValueError("gradgradcheck: no input is a Tensor with requires_grad=True, so there is nothing to check")
    with no_grad():
        output_shape = _output(fn, inputs, "gradgradcheck").shape
    output_weights = Tensor(_projection(output_shape), dtype=np.float64)
    rng = np.random.default_rng(7)
    input_weights = [Tensor(rng.standard_normal(t.shape)) for t in targets]
    input_weights = [w.double() for w in input_weights]

    def first_derivative(*xs: Any) -> Tensor:
        with enable_grad():
            out = _output(fn, xs, "gradgradcheck")
            wrt = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
            if not out.requires_grad:
                return Tensor(0.0, dtype=np.float64)
            grads = grad(out, wrt, grad_outputs=output_weights, create_graph=True, allow_unused=True)
            total = Tensor(0.0, dtype=np.float64)
            for g, w in zip(grads, input_weights):
                if g is not None:
                    total = total + (g * w).sum()
            return total

    analytic, _ = _analytic(first_derivative, inputs, lambda shape: np.ones(shape), "gradgradcheck")
    numeric = numerical_grad(first_derivative, inputs, eps)
    return _verdict(_report("Second-derivative check", inputs, analytic, numeric, atol, rtol), raise_exception)


def _verdict(report: Optional[str], raise_exception: bool) -> bool:
    if report is None:
        return True
    if raise_exception:
        raise GradcheckError(report)
    return False


__all__: Sequence[str] = ["GradcheckError", "gradcheck", "gradgradcheck", "numerical_grad"]
