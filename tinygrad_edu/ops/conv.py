"""2-D convolution as one graph node, and the im2col pair it is built on.

`conv2d` could be composed from pad, `Windows`, permute, reshape, matmul and an
added bias (and once was): seven nodes, each with its own copy and its own
gradient to keep. Fused here for speed, as PyTorch does: the forward copies the
input's patches once into rows (`im2col`) and multiplies them by the weight;
the backward multiplies the output gradient back and sums it into the image
(`col2im`). `Im2Col` and `Col2Im` are each other's adjoint, so the derivative
of every op here is written in these ops and matmuls, and differentiates again.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..autograd import ArrayOps, Function
from ..checks import pair

__all__ = ["Col2Im", "Conv2d", "Im2Col", "add_blocks", "col2im", "conv2d", "flat_weight", "im2col", "output_size"]


def output_size(height: int, width: int, kernel: tuple, stride: tuple, padding: tuple) -> tuple:
    """(out_h, out_w) of a window sliding over a (height, width) image padded on each side."""
    return ((height + 2 * padding[0] - kernel[0]) // stride[0] + 1,
            (width + 2 * padding[1] - kernel[1]) // stride[1] + 1)


def im2col(a: np.ndarray, kernel: tuple, stride: tuple, padding: tuple) -> np.ndarray:
    """(N, C, H, W) -> rows (N * OH * OW, KH * KW * C): one row per output position, its patch flattened.

    The patch is flattened channels last, (KH, KW, C): the copy then moves runs of C
    contiguous numbers (NumPy is slow on short inner loops), and the weight is
    flattened the same way (`flat_weight`).
    """
    batch, channels, height, width = a.shape
    pad_h, pad_w = padding
    last = a.transpose(0, 2, 3, 1)  # NHWC: free when `a` came from a conv (whose output is NHWC in memory)
    if pad_h or pad_w:  # a zero canvas and one copy: cheaper than np.pad
        padded = np.zeros((batch, height + 2 * pad_h, width + 2 * pad_w, channels), dtype=a.dtype)
        padded[:, pad_h: pad_h + height, pad_w: pad_w + width] = last
        last = padded
    if channels > 1:  # one copy of all the windows, moving runs of C numbers
        patches = sliding_window_view(last, kernel, axis=(1, 2))[:, :: stride[0], :: stride[1]]  # (N, OH, OW, C, KH, KW)
        out_h, out_w = patches.shape[1], patches.shape[2]
        return patches.transpose(0, 1, 2, 4, 5, 3).reshape(batch * out_h * out_w, kernel[0] * kernel[1] * channels)
    # one channel: runs of one number, so copy per kernel offset instead (whole rows of the image at a time)
    out_h, out_w = output_size(height, width, kernel, stride, padding)
    (kernel_h, kernel_w), (stride_h, stride_w) = kernel, stride
    rows = np.empty((batch, out_h, out_w, kernel_h, kernel_w), dtype=a.dtype)
    for i in range(kernel_h):
        for j in range(kernel_w):
            rows[:, :, :, i, j] = last[:, i: i + stride_h * out_h: stride_h, j: j + stride_w * out_w: stride_w, 0]
    return rows.reshape(batch * out_h * out_w, kernel_h * kernel_w)


def col2im(rows: np.ndarray, shape: tuple, kernel: tuple, stride: tuple, padding: tuple) -> np.ndarray:
    """The adjoint of `im2col`: each row's patch added back where it was read, into an image of `shape`."""
    blocks = rows.reshape(rows.shape[0], kernel[0] * kernel[1], shape[1]).transpose(1, 0, 2)
    return add_blocks(np.ascontiguousarray(blocks), shape, kernel, stride, padding)


def add_blocks(blocks: np.ndarray, shape: tuple, kernel: tuple, stride: tuple, padding: tuple) -> np.ndarray:
    """`col2im` of rows given as blocks (KH * KW, N * OH * OW, C): block k holds kernel offset k of every patch.

    In this layout each offset's share of the image is contiguous, so the adds run over long inner loops.
    """
    batch, channels, height, width = shape
    (kernel_h, kernel_w), (stride_h, stride_w), (pad_h, pad_w) = kernel, stride, padding
    out_h, out_w = output_size(height, width, kernel, stride, padding)
    blocks = blocks.reshape(kernel_h, kernel_w, batch, out_h, out_w, channels)
    image = np.zeros((batch, height + 2 * pad_h, width + 2 * pad_w, channels), dtype=blocks.dtype)  # NHWC
    for i in range(kernel_h):
        for j in range(kernel_w):
            image[:, i: i + stride_h * out_h: stride_h, j: j + stride_w * out_w: stride_w] += blocks[i, j]
    return image[:, pad_h: pad_h + height, pad_w: pad_w + width].transpose(0, 3, 1, 2)


def flat_weight(xp: Any, weight: Any) -> Any:
    """(O, C, KH, KW) -> (O, KH * KW * C), flattened in `im2col`'s order (arrays or Tensors, by `xp`)."""
    return xp.permute(weight, (0, 2, 3, 1)).reshape(weight.shape[0], -1)


def _add_to_rows(rows: np.ndarray, bias: np.ndarray) -> None:
    """rows += bias for C-contiguous rows (M, O), in place.

    With few columns NumPy's inner loop is only O long; adding the bias tiled
    over several rows at once, seen as one longer row, makes it 64 long.
    """
    per_row = max(1, 64 // rows.shape[1])
    if rows.flags.c_contiguous and rows.shape[0] % per_row == 0:
        rows.reshape(-1, per_row * rows.shape[1])[...] += np.concatenate([bias] * per_row)
    else:
        rows += bias


class Im2Col(Function):
    """(N, C, H, W) -> (N * OH * OW, KH * KW * C) patch rows; linear, so d/da = Col2Im(grad)."""

    def forward(ctx, a, kernel=(1, 1), stride=(1, 1), padding=(0, 0)):
        ctx.kernel, ctx.stride, ctx.padding = kernel, stride, padding
        return im2col(a, kernel, stride, padding)

    def vjp(ctx, xp, g, out, a):
        return xp.apply(Col2Im, g, shape=ctx.inputs[0].shape, kernel=ctx.kernel, stride=ctx.stride,
                        padding=ctx.padding)


class Col2Im(Function):
    """Patch rows summed back into an image of ``shape``; the adjoint of `Im2Col`, so d/dg = Im2Col(grad)."""

    def forward(ctx, g, shape=(), kernel=(1, 1), stride=(1, 1), padding=(0, 0)):
        ctx.kernel, ctx.stride, ctx.padding = kernel, stride, padding
        return col2im(g, shape, kernel, stride, padding)

    def vjp(ctx, xp, g, out, rows):
        return xp.apply(Im2Col, g, kernel=ctx.kernel, stride=ctx.stride, padding=ctx.padding)


class Conv2d(Function):
    """out = im2col(x) @ W^T + b, as (N, O, OH, OW), with W the (O, C, KH, KW) weight flattened to (O, KH*KW*C).

    With G the output gradient as rows (N*OH*OW, O): d/dx = col2im(G W), d/dW = G^T im2col(x), d/db = sum(G).
    One node instead of seven (fused for speed); the patch rows are kept from the forward for d/dW.
    """

    def forward(ctx, x, weight, bias=None, stride=(1, 1), padding=(0, 0)):
        ctx.stride, ctx.padding = stride, padding
        out_channels = weight.shape[0]
        cols = ctx.cols = im2col(x, weight.shape[2:], stride, padding)
        out = np.matmul(cols, flat_weight(ArrayOps, weight).T)
        if bias is not None:
            _add_to_rows(out, bias)
        out_h, out_w = output_size(x.shape[2], x.shape[3], weight.shape[2:], stride, padding)
        # NCHW as PyTorch shows it; the memory stays NHWC, which the backward reads back without a copy
        return out.reshape(x.shape[0], out_h, out_w, out_channels).transpose(0, 3, 1, 2)

    def vjp(ctx, xp, g, out, x, weight, bias=None):
        needs = ctx.needs_input_grad
        out_channels, kernel = weight.shape[0], weight.shape[2:]
        rows = xp.permute(g, (0, 2, 3, 1)).reshape(-1, out_channels)
        grad_x = grad_weight = None
        if needs[0] and xp.records_graph:
            grad_x = xp.apply(Col2Im, rows @ flat_weight(xp, weight), shape=x.shape, kernel=kernel,
                              stride=ctx.stride, padding=ctx.padding)
        elif needs[0]:  # the same on arrays, the product made straight in `add_blocks`' layout (one batched matmul)
            per_offset = weight.transpose(2, 3, 0, 1).reshape(kernel[0] * kernel[1], out_channels, -1)
            grad_x = add_blocks(np.matmul(rows, per_offset), x.shape, kernel, ctx.stride, ctx.padding)
        if needs[1]:
            cols = (xp.apply(Im2Col, x, kernel=kernel, stride=ctx.stride, padding=ctx.padding) if xp.records_graph
                    else ctx.cols)
            grad_weight = xp.permute((xp.swapaxes(rows, 0, 1) @ cols).reshape(out_channels, kernel[0], kernel[1], -1),
                                     (0, 3, 1, 2))
        if len(needs) == 2:
            return grad_x, grad_weight
        if not needs[2]:
            return grad_x, grad_weight, None
        # d/db = sum(G) over the rows; on arrays as a product with ones (NumPy sums down a column slowly)
        return grad_x, grad_weight, (xp.sum(rows, 0) if xp.records_graph else np.ones(len(rows), rows.dtype) @ rows)


def conv2d(x: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0) -> Any:
    """2-D cross-correlation of NCHW input `x` with OIHW `weight` (and a bias per output channel), checked."""
    weight = weight if isinstance(weight, type(x)) else type(x)(weight)
    if x.ndim != 4 or weight.ndim != 4:
        raise ValueError(
            f"conv2d: expects input (N, C, H, W) and weight (O, C, KH, KW), got shapes {x.shape} and {weight.shape}"
        )
    out_channels, in_channels, kernel_h, kernel_w = weight.shape
    if x.shape[1] != in_channels:
        raise ValueError(
            f"conv2d: input has {x.shape[1]} channels (shape {x.shape}) but the weight expects "
            f"{in_channels} (shape {weight.shape})"
        )
    if bias is not None and (not isinstance(bias, type(x)) or bias.shape != (out_channels,)):
        raise ValueError(f"conv2d: bias must be a Tensor of shape ({out_channels},), got {getattr(bias, 'shape', bias)}")
    padding = pair(padding, "padding", minimum=0)
    stride = pair(stride, "stride", minimum=1)
    height, width = x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1]
    if kernel_h > height or kernel_w > width:
        raise ValueError(f"conv2d: kernel {(kernel_h, kernel_w)} is larger than the (padded) input's "
                         f"{height}x{width} image")
    if bias is None:
        return Conv2d.apply(x, weight, stride=stride, padding=padding)
    return Conv2d.apply(x, weight, bias, stride=stride, padding=padding)
