"""How each cell of a traced matrix was computed: the rules that drive the highlighting of the trace page.

`_forward_rule` says how an op's output cells come from its inputs (an
elementwise formula, a row times a column, a sum over axes, ...),
`_backward_rules` how the gradients it sends to its inputs come from the
gradient of its output; `tinygrad_edu.viz.trace_page` describes the rule kinds.
"""
from __future__ import annotations

import itertools
from typing import Any, Optional

import numpy as np

__all__: list = []  # used by tinygrad_edu.viz.trace; nothing here is public


# Elementwise ops: the formula of one output cell from the same position of each input.
_ELEMENTWISE = {
    "add": "{0} + {1}", "sub": "{0} \u2212 {1}", "mul": "{0} \u00d7 {1}", "div": "{0} / {1}",
    "pow": "{0} ^ {1}", "neg": "\u2212{0}", "exp": "exp({0})", "log": "log({0})", "sqrt": "\u221a{0}",
    "abs": "|{0}|", "relu": "max(0, {0})", "sigmoid": "1 / (1 + exp(\u2212{0}))", "tanh": "tanh({0})",
    "softplus": "log(1 + exp({0}))", "maximum": "max({0}, {1})", "minimum": "min({0}, {1})",
    "clip": "clip({0})", "where": "where(condition, {0}, {1})", "cast": "{0}", "expand": "{0}",
    "leakyrelu": "leaky_relu({0})", "gelu": "gelu({0})", "silu": "silu({0})", "sin": "sin({0})",
    "cos": "cos({0})", "erf": "erf({0})", "log1p": "log(1 + {0})", "expm1": "exp({0}) \u2212 1",
}
_REDUCTIONS = {"sum": np.sum, "max": np.max, "min": np.min, "mean": np.mean}
_NUMPY_REDUCE_NAMES = {"sum": "sum", "max": "max", "min": "min", "mean": "mean"}


def _broadcasts_to(shape: tuple, target: tuple) -> bool:
    if len(shape) > len(target):
        return False
    return all(s in (1, t) for s, t in zip(reversed(shape), reversed(target)))


def _reduced_axes(data: np.ndarray, out: np.ndarray, op: str) -> Optional[tuple]:
    """(axes, keepdim) of a reduction, found from the shapes and, when they leave a choice, the values."""
    ndim = data.ndim
    fn: Any = _REDUCTIONS[op]
    candidates = []
    for count in range(1, ndim + 1):
        for axes in itertools.combinations(range(ndim), count):
            for keepdim in (False, True):
                shape = tuple(1 if i in axes else s for i, s in enumerate(data.shape)) if keepdim else \
                    tuple(s for i, s in enumerate(data.shape) if i not in axes)
                if shape == out.shape:
                    candidates.append((axes, keepdim))
    if len(candidates) > 1 and data.size:
        with np.errstate(all="ignore"):
            matching = [c for c in candidates if np.allclose(fn(data, axis=c[0], keepdims=c[1]), out,
                                                             rtol=1e-5, atol=1e-6, equal_nan=True)]
        candidates = matching or candidates
    return candidates[0] if candidates else None


def _permutation(data: np.ndarray, out: np.ndarray) -> Optional[tuple]:
    if data.ndim > 6:
        return None
    for perm in itertools.permutations(range(data.ndim)):
        if tuple(data.shape[p] for p in perm) == out.shape and np.array_equal(np.transpose(data, perm), out,
                                                                               equal_nan=True):
            return perm
    return None


def _matmul_sizes(a_shape: tuple, b_shape: tuple, out_size: int) -> Optional[dict]:
    """M, N, K and batch counts of ``a @ b`` (None when batch axes broadcast partially)."""
    m = 1 if len(a_shape) == 1 else a_shape[-2]
    n = 1 if len(b_shape) == 1 else b_shape[-1]
    k = a_shape[-1]
    batches = out_size // max(1, m * n)
    batch_a = int(np.prod(a_shape[:-2], dtype=np.int64)) if len(a_shape) > 2 else 1
    batch_b = int(np.prod(b_shape[:-2], dtype=np.int64)) if len(b_shape) > 2 else 1
    if batch_a not in (1, batches) or batch_b not in (1, batches):
        return None
    return {"M": m, "N": n, "K": k, "nb": batches, "ba": batch_a, "bb": batch_b}


def _forward_rule(ctx: Any, labels: list) -> dict:
    """How each cell of ``ctx``'s output comes from its inputs (labels name the step's input matrices)."""
    op = ctx.op_name
    inputs = [t.data for t in ctx.inputs]
    out = np.asarray(ctx.output_data)
    if op == "matmul" and len(inputs) == 2 and inputs[0].ndim and inputs[1].ndim:
        sizes = _matmul_sizes(inputs[0].shape, inputs[1].shape, out.size)
        if sizes is not None:
            return {"kind": "matmul", "a": labels[0], "b": labels[1], "ta": False, "tb": False, **sizes}
    if op == "linear" and len(inputs) in (2, 3):
        x, weight = inputs[0], inputs[1]
        rule = {"kind": "matmul", "a": labels[0], "b": labels[1], "ta": False, "tb": True,
                "M": x.size // max(1, x.shape[-1]), "N": weight.shape[0], "K": weight.shape[1],
                "nb": 1, "ba": 1, "bb": 1}
        if len(inputs) == 3:
            rule["c"] = labels[2]
        return rule
    if op in _REDUCTIONS and len(inputs) == 1:
        found = _reduced_axes(inputs[0], out, op)
        if found is not None:
            return {"kind": "reduce", "src": labels[:1], "axes": list(found[0]), "keepdim": found[1],
                    "fn": _NUMPY_REDUCE_NAMES[op]}
    if op == "reshape" and len(inputs) == 1:
        return {"kind": "reshape", "src": labels[:1]}
    if op in ("permute", "transpose") and len(inputs) == 1:
        perm = _permutation(inputs[0], out)
        if perm is not None:
            return {"kind": "permute", "src": labels[:1], "perm": list(perm)}
    if op in _ELEMENTWISE and all(_broadcasts_to(x.shape, out.shape) for x in inputs):
        return {"kind": "elementwise", "src": labels, "expr": _ELEMENTWISE[op]}
    return {"kind": "all", "src": labels, "expr": f"{op}({', '.join(labels)})"}


def _backward_rules(ctx: Any, grad_label: str, labels: list, grad_labels: list) -> dict:
    """How each cell of the gradient sent to each input comes from dL/d output and the inputs."""
    op = ctx.op_name
    inputs = [t.data for t in ctx.inputs]
    out_shape = np.asarray(ctx.output_data).shape
    rules: dict = {}
    for position, target in enumerate(grad_labels):
        if target is None:
            continue
        rule: Optional[dict] = None
        if op == "matmul" and len(inputs) == 2 and inputs[0].ndim >= 2 and inputs[1].ndim >= 2:
            sizes = _matmul_sizes(inputs[0].shape, inputs[1].shape, int(np.prod(out_shape)))
            if sizes is not None:
                m, n, k, nb = sizes["M"], sizes["N"], sizes["K"], sizes["nb"]
                if position == 0 and sizes["ba"] == nb:     # dA = G @ B^T
                    rule = {"kind": "matmul", "a": grad_label, "b": labels[1], "ta": False, "tb": True,
                            "M": m, "N": k, "K": n, "nb": nb, "ba": nb, "bb": sizes["bb"]}
                elif position == 1 and sizes["bb"] == nb:   # dB = A^T @ G
                    rule = {"kind": "matmul", "a": labels[0], "b": grad_label, "ta": True, "tb": False,
                            "M": k, "N": n, "K": m, "nb": nb, "ba": sizes["ba"], "bb": nb}
                elif position == 1 and sizes["bb"] == 1 and sizes["ba"] == nb:  # shared B: sum over batches
                    rule = {"kind": "matmul", "a": labels[0], "b": grad_label, "ta": True, "tb": False,
                            "M": k, "N": n, "K": m * nb, "nb": 1, "ba": 1, "bb": 1}
        elif op == "linear":
            x, weight = inputs[0], inputs[1]
            rows, n_out, n_in = x.size // max(1, x.shape[-1]), weight.shape[0], weight.shape[1]
            if position == 0:    # dx = G @ W
                rule = {"kind": "matmul", "a": grad_label, "b": labels[1], "ta": False, "tb": False,
                        "M": rows, "N": n_in, "K": n_out, "nb": 1, "ba": 1, "bb": 1}
            elif position == 1:  # dW = G^T @ x
                rule = {"kind": "matmul", "a": grad_label, "b": labels[0], "ta": True, "tb": False,
                        "M": n_out, "N": n_in, "K": rows, "nb": 1, "ba": 1, "bb": 1}
            else:                # db = G summed over the batch
                rule = {"kind": "reduce", "src": [grad_label], "axes": list(range(len(out_shape) - 1)),
                        "keepdim": False, "fn": "sum"}
        elif op in ("sum", "max", "min") and len(inputs) == 1:
            found = _reduced_axes(inputs[0], np.asarray(ctx.output_data), op)
            if found is not None:
                rule = {"kind": "spread", "src": [grad_label], "axes": list(found[0]), "keepdim": found[1]}
        elif op == "reshape":
            rule = {"kind": "reshape", "src": [grad_label]}
        elif op in ("permute", "transpose"):
            perm = _permutation(inputs[0], np.asarray(ctx.output_data))
            if perm is not None:
                rule = {"kind": "permute", "src": [grad_label], "perm": [int(i) for i in np.argsort(perm)]}
        elif op in _ELEMENTWISE and all(_broadcasts_to(x.shape, out_shape) for x in inputs):
            rule = {"kind": "grad_elementwise", "grad": grad_label, "src": [labels[position]],
                    "outname": grad_label[4:] if grad_label.startswith("dL/d") else "out",
                    "inname": labels[position]}
        if rule is None:
            rule = {"kind": "all", "src": [grad_label, *labels], "expr": f"backward of {op}"}
        rules[target] = rule
    return rules
