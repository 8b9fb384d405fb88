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

from ..autograd import Function
from ..checks import pair
from .window import Fold

__all__ = ["MaxPool2d", "max_pool2d"]


def _at(a: np.ndarray, offset: tuple, stride: tuple, out_shape: tuple) -> np.ndarray:
    """The (N, C, OH, OW) view of `a` holding kernel position `offset` of every window (a strided slice)."""
    (i, j), (stride_h, stride_w), (out_h, out_w) = offset, stride, out_shape
    return a[:, :, i: i + stride_h * (out_h - 1) + 1: stride_h, j: j + stride_w * (out_w - 1) + 1: stride_w]


class MaxPool2d(Function):
    """Max over each (KH, KW) window of an NCHW input, windows `stride` apart.

    d/dx = the output gradient sent to the position(s) of each window's max, split evenly between ties.
    """

    def forward(ctx, a, kernel=(2, 2), stride=(2, 2)):
        ctx.kernel, ctx.stride = kernel, stride
        out_shape = ((a.shape[2] - kernel[0]) // stride[0] + 1, (a.shape[3] - kernel[1]) // stride[1] + 1)
        views = [_at(a, (i, j), stride, out_shape) for i in range(kernel[0]) for j in range(kernel[1])]
        if len(views) == 1:
            return views[0].copy()
        out = np.maximum(views[0], views[1])
        for view in views[2:]:
            np.maximum(out, view, out=out)
        return out

    def vjp(ctx, xp, g, out, a):
        # Where each window's max sat is a constant of the rule (max is piecewise linear), read from the arrays.
        image, maxima = ctx.input_data[0], ctx.output_data
        kernel, stride, out_shape = ctx.kernel, ctx.stride, maxima.shape[2:]
        offsets = [(i, j) for i in range(kernel[0]) for j in range(kernel[1])]
        hits = [np.equal(_at(image, offset, stride, out_shape), maxima) for offset in offsets]
        count = hits[0].astype(maxima.dtype)
        for hit in hits[1:]:
            count += hit
        if xp.records_graph:  # the rule itself, Fold(g * share), on Tensors: it differentiates again
            share = np.stack(hits, axis=-1).reshape(maxima.shape + tuple(kernel)) / count[..., None, None]
            patches = xp.unsqueeze(xp.unsqueeze(g, -1), -1) * ctx.inputs[0]._make(share, None, False)
            return xp.apply(Fold, patches, shape=image.shape, kernel=kernel, stride=stride)
        # The same on arrays without building the patches: each kernel position's share written in place.
        share = np.divide(g, count, out=count)  # in the maxima's memory order, which the views below share
        tiled = tuple(kernel) == tuple(stride) and image.shape[2:] == (out_shape[0] * stride[0], out_shape[1] * stride[1])
        grad = np.empty_like(image) if tiled else np.zeros_like(image)  # the input's memory order (NHWC after a conv)
        for offset, hit in zip(offsets, hits):
            if tiled:  # windows tile the image: each position is written exactly once
                np.multiply(share, hit, out=_at(grad, offset, stride, out_shape))
            else:
                _at(grad, offset, stride, out_shape)[...] += share * hit
        return grad

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
