"""Max pooling as one graph node.

Composed, max pooling is `Windows`, a reshape that copies every window and a
max over a short last axis (slow in NumPy: one tiny reduction per output).
Fused here for speed: the forward takes the elementwise maximum of the KH*KW
strided views of the input, one pass each; the backward sends each output's
gradient to the window positions that held the maximum (split evenly between
ties, as the composed max did) and sums the windows back with `Fold`.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..autograd import Function
from ..checks import pair
from .window import Fold

__all__ = ["MaxPool2d", "max_pool2d"]


def _windows(a: np.ndarray, kernel: tuple, stride: tuple, writeable: bool = False) -> np.ndarray:
    """(N, C, H, W) -> a view (N, C, OH, OW, KH, KW)."""
    return sliding_window_view(a, kernel, axis=(2, 3), writeable=writeable)[:, :, :: stride[0], :: stride[1]]


class MaxPool2d(Function):
    """Max over each (KH, KW) window of an NCHW input, windows `stride` apart.

    d/dx = the output gradient sent to the position(s) of each window's max, split evenly between ties.
    """

    def forward(ctx, a, kernel=(2, 2), stride=(2, 2)):
        ctx.kernel, ctx.stride = kernel, stride
        windows = _windows(a, kernel, stride)
        offsets = [(i, j) for i in range(kernel[0]) for j in range(kernel[1])]
        if len(offsets) == 1:
            return windows[..., 0, 0].copy()
        out = np.maximum(windows[..., 0, 0], windows[..., offsets[1][0], offsets[1][1]])
        for i, j in offsets[2:]:
            np.maximum(out, windows[..., i, j], out=out)
        return out

    def vjp(ctx, xp, g, out, a):
        # Where each window's max sat is a constant of the rule (max is piecewise linear), read from the arrays.
        windows = _windows(ctx.input_data[0], ctx.kernel, ctx.stride)
        offsets = [(i, j) for i in range(ctx.kernel[0]) for j in range(ctx.kernel[1])]
        hits = [np.equal(windows[..., i, j], ctx.output_data) for i, j in offsets]
        count = hits[0].astype(ctx.output_data.dtype)
        for hit in hits[1:]:
            count += hit
        if xp.records_graph:  # the rule itself, Fold(g * share), on Tensors: it differentiates again
            share = np.stack(hits, axis=-1).reshape(windows.shape) / count[..., None, None]
            patches = xp.unsqueeze(xp.unsqueeze(g, -1), -1) * ctx.inputs[0]._make(share, None, False)
            return xp.apply(Fold, patches, shape=ctx.inputs[0].shape, kernel=ctx.kernel, stride=ctx.stride)
        # The same on arrays without building the patches: one strided add per window position.
        share = g / count
        image = np.zeros_like(ctx.input_data[0])  # same memory order as the input (NHWC after a conv)
        targets = _windows(image, ctx.kernel, ctx.stride, writeable=True)  # one offset's view: a strided slice
        for (i, j), hit in zip(offsets, hits):
            targets[..., i, j] += share * hit
        return image


def max_pool2d(x: Any, kernel_size: Any, stride: Any = None) -> Any:
    """`MaxPool2d` of NCHW `x`, checked (stride defaults to kernel_size)."""
    if x.ndim != 4:
        raise ValueError(f"max_pool2d: expects input of shape (N, C, H, W), got {x.shape}")
    kernel = pair(kernel_size, "kernel_size", minimum=1)
    steps = kernel if stride is None else pair(stride, "stride", minimum=1)
    if kernel[0] > x.shape[2] or kernel[1] > x.shape[3]:
        raise ValueError(f"max_pool2d: kernel {kernel} is larger than the (padded) input's "
                         f"{x.shape[2]}x{x.shape[3]} image")
    return MaxPool2d.apply(x, kernel=kernel, stride=steps)
