"""Sliding windows (im2col) and their adjoint, the primitives behind conv2d and pooling."""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..autograd import Function

__all__ = ["Fold", "Windows"]


class Windows(Function):
    """(N, C, H, W) -> (N, C, OH, OW, KH, KW) patches; d/da sums each patch gradient back where the patch was read (`Fold`)."""

    def forward(ctx, a, kernel=(1, 1), stride=(1, 1)):
        ctx.kernel, ctx.stride = kernel, stride
        view = sliding_window_view(a, kernel, axis=(2, 3))
        return view[:, :, :: stride[0], :: stride[1]]

    def vjp(ctx, xp, g, out, a):
        return xp.apply(Fold, g, shape=ctx.inputs[0].shape, kernel=ctx.kernel, stride=ctx.stride)


class Fold(Function):
    """Patches (N, C, OH, OW, KH, KW) summed into an (N, C, H, W) image; the adjoint of `Windows`, so d/dg = Windows(grad)."""

    def forward(ctx, g, shape=(), kernel=(1, 1), stride=(1, 1)):
        ctx.kernel, ctx.stride = kernel, stride
        out_h, out_w = g.shape[2], g.shape[3]
        stride_h, stride_w = stride
        if tuple(kernel) == tuple(stride) and shape[2] == out_h * stride_h and shape[3] == out_w * stride_w:
            # windows that tile the image exactly (pooling): every position is written once, a single copy
            return g.transpose(0, 1, 2, 4, 3, 5).reshape(shape)
        out = np.zeros(shape, dtype=g.dtype)
        for i in range(kernel[0]):
            for j in range(kernel[1]):
                out[:, :, i: i + stride_h * out_h: stride_h, j: j + stride_w * out_w: stride_w] += g[:, :, :, :, i, j]
        return out

    def vjp(ctx, xp, g, out, a):
        return xp.apply(Windows, g, kernel=ctx.kernel, stride=ctx.stride)
