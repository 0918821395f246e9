"""One large convolution computed in pieces, so that a cancel is heard inside it.

A layer of the scale-shared network sums two convolutions (docs/theory.md, Problem 3):

    y = W_<- * x_coarse  (stride 1)  +  W_^ *_2 x_fine  (stride 2)  +  B

with centred D x D filters and zero padding p = D // 2. At 1024^2 with 256 channels and D = 15
one such sum is some 2e12 multiplies (tens of seconds), and torch cannot be interrupted inside
it. :func:`conv_sum` computes the same sum in pieces: blocks of output channels j (each
output channel is its own convolution, so a block costs exactly its share), and, only when a
block of :data:`MIN_CHANNELS` channels is still too large, strips of output rows: output rows
[r0, r1) read input rows [r0 - p, r1 + p) of a stride-1 branch and [2 r0 - p, 2 r1 - 1 + p) of a
stride-2 branch (the D // 2 halo; zero rows stand in for the padding at the image's top and
bottom, the columns are padded by the convolution itself). ``cancel`` is polled between pieces
and :class:`Cancelled` raised; the backward pass (input gradients, and weight gradients when
asked for) runs piece by piece over the output gradient in the same way, with the same polls.

Blocks of channels come first because oneDNN's kernels keep their speed on blocks of 32 output
channels and more (16 ran about 1.5x slower per multiply, and strips of a few rows of a narrow
map 2-3x slower: measured on the 2-core CPU, D = 15, J = 256). Only convolutions above twice :data:`STRIP_MULTIPLIES` are
split (:func:`plan`): below it one call to torch is the fastest and quick enough to wait for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch.nn.grad import conv2d_input, conv2d_weight

# A piece is about this many multiplies (both branches): ~0.05 s on one quiet CPU thread at
# D = 15 (oneDNN reaches ~1e11 multiplies/s there), ~0.3 s on the 2-core machine shared by
# seven processes, so a cancel is heard within a second. A convolution is split only above
# twice this; rows are split too when a block of MIN_CHANNELS output channels is still over
# twice this. (One 4.8e11-multiply layer took 21-25 s in one call and 13-28 s in pieces of
# this size: no slower, within the noise of the shared host.)
STRIP_MULTIPLIES = 5_000_000_000
MIN_CHANNELS = 32

Progress = Callable[[int], None]  # called with multiplies just done


class Cancelled(Exception):
    """Raised between levels, scales or pieces when the caller's cancel token says stop (a newer request came)."""


def sum_multiplies(branches: Sequence[tuple[torch.Tensor, torch.Tensor, int]], out_rows: int, out_cols: int) -> int:
    """Multiplies of ``sum_b conv(x_b, w_b, stride_b)`` for an output of ``out_rows x out_cols``
    (Problem 1's count B X Y D D I J per branch; x_b ``[B, I, H, W]``, w_b ``[J, I, D, D]``)."""
    # B X Y * (J I D D): conv_multiplies' product, without its checks (this runs for every layer)
    return sum(int(x.shape[0]) * out_rows * out_cols * w.numel() for x, w, _stride in branches)


def plan(multiplies: int, channels: int, out_rows: int, limit: int | None = None) -> tuple[int, int]:
    """(output channels per block, output rows per strip) for a convolution of ``multiplies``
    with ``channels`` output channels and ``out_rows`` output rows: ``(channels, out_rows)``
    (no split) unless it is over twice ``limit`` (:data:`STRIP_MULTIPLIES`)."""
    limit = STRIP_MULTIPLIES if limit is None else limit
    if multiplies <= 2 * limit or channels * out_rows <= 1:
        return channels, out_rows
    per_channel = max(1, multiplies // channels)
    block = min(channels, max(MIN_CHANNELS, -(-limit // per_channel)))
    piece = per_channel * block
    if piece <= 2 * limit or out_rows <= 1:
        return block, out_rows
    strips = min(out_rows, max(1, round(piece / limit)))  # strips of about ``limit`` multiplies, of even height
    return block, -(-out_rows // strips)


def _rows(x: torch.Tensor, lo: int, hi: int) -> torch.Tensor:
    """Rows [lo, hi) of ``x`` ``[B, C, H, W]``, with zero rows where lo < 0 or hi > H (the padding)."""
    h = x.shape[2]
    a, b = max(lo, 0), min(hi, h)
    part = x[:, :, a:b]
    if a == lo and b == hi:
        return part
    shape = list(x.shape)
    pieces = []
    if a > lo:
        shape[2] = a - lo
        pieces.append(x.new_zeros(shape))
    pieces.append(part)
    if hi > b:
        shape[2] = hi - b
        pieces.append(x.new_zeros(shape))
    out = torch.cat(pieces, dim=2)
    if x.is_contiguous(memory_format=torch.channels_last):
        out = out.contiguous(memory_format=torch.channels_last)
    return out


def _in_rows(r0: int, r1: int, stride: int, p: int) -> tuple[int, int]:
    """Input rows [lo, hi) that output rows [r0, r1) of a centred, zero-padded convolution read."""
    return stride * r0 - p, stride * (r1 - 1) + p + 1


def _empty_like_layout(like: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
    fmt = torch.channels_last if like.is_contiguous(memory_format=torch.channels_last) else torch.contiguous_format
    return torch.empty(shape, dtype=like.dtype, device=like.device, memory_format=fmt)


def _poll(cancel: Callable[[], bool] | None) -> None:
    if cancel is not None and cancel():
        raise Cancelled


def _pieces(channels: int, out_rows: int, block: int, rows: int) -> list[tuple[int, int, int, int]]:
    """(j0, j1, r0, r1) for every piece: blocks of output channels, each in strips of rows."""
    return [
        (j0, min(channels, j0 + block), r0, min(out_rows, r0 + rows))
        for j0 in range(0, channels, block)
        for r0 in range(0, out_rows, rows)
    ]


def _forward(
    branches: Sequence[tuple[torch.Tensor, torch.Tensor, int]],
    bias: torch.Tensor | None,
    p: int,
    block: int,
    rows: int,
    cancel: Callable[[], bool] | None,
    progress: Progress | None,
) -> torch.Tensor:
    x0, w0, s0 = branches[0]
    channels = w0.shape[0]
    n_out = (x0.shape[2] + 2 * p - w0.shape[2]) // s0 + 1
    m_out = (x0.shape[3] + 2 * p - w0.shape[3]) // s0 + 1
    out = _empty_like_layout(x0, (x0.shape[0], channels, n_out, m_out))
    per_cell = sum_multiplies(branches, 1, m_out) // channels  # one output channel, one row
    last = len(branches) - 1
    for n, (j0, j1, r0, r1) in enumerate(_pieces(channels, n_out, block, rows)):
        if n > 0:
            _poll(cancel)
        y = None
        for i, (x, w, stride) in enumerate(branches):
            b = None if bias is None or i != last else bias[j0:j1]
            if r0 == 0 and r1 == n_out:  # a block of channels over every row: the unsplit call's arithmetic
                part = F.conv2d(x, w[j0:j1], b, stride, p)
            else:
                lo, hi = _in_rows(r0, r1, stride, p)
                part = F.conv2d(_rows(x, lo, hi), w[j0:j1], b, stride, (0, p))
            y = part if y is None else y.add_(part)
        assert y is not None
        out[:, j0:j1, r0:r1] = y
        if progress is not None:
            progress(per_cell * (j1 - j0) * (r1 - r0))
    return out


class _ConvSum(torch.autograd.Function):
    """``sum_b conv2d(x_b, w_b, stride_b, padding p) + bias``, forward and backward in pieces."""

    @staticmethod
    def forward(ctx: Any, meta: dict[str, Any], bias: torch.Tensor | None, *flat: torch.Tensor) -> torch.Tensor:
        strides, p = meta["strides"], meta["p"]
        xs, ws = flat[0::2], flat[1::2]
        ctx.meta = meta
        ctx.has_bias = bias is not None
        ctx.save_for_backward(*flat)
        return _forward(
            list(zip(xs, ws, strides)), bias, p, meta["block"], meta["rows"], meta["cancel"], meta["progress"]
        )

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[Any, ...]:
        meta = ctx.meta
        strides, p, cancel, progress = meta["strides"], meta["p"], meta["cancel"], meta["progress"]
        flat = ctx.saved_tensors
        xs, ws = flat[0::2], flat[1::2]
        need_x = [ctx.needs_input_grad[2 + 2 * i] for i in range(len(xs))]
        need_w = [ctx.needs_input_grad[3 + 2 * i] for i in range(len(xs))]
        channels, n_out, m_out = g.shape[1], g.shape[2], g.shape[3]
        # input gradients are accumulated into row-padded buffers: strip r0..r1 of g spreads to
        # input rows [s r0 - p, s (r1 - 1) + p], whose halos overlap their neighbours'
        grad_pad = [
            _zeros_layout(x, (x.shape[0], x.shape[1], x.shape[2] + 2 * p + s, x.shape[3])) if need else None
            for x, s, need in zip(xs, strides, need_x)
        ]
        grad_w = [torch.zeros_like(w) if need else None for w, need in zip(ws, need_w)]
        per_cell = (
            sum_multiplies(list(zip(xs, ws, strides)), 1, m_out) // channels
        )  # input gradients cost the forward's
        for j0, j1, r0, r1 in _pieces(channels, n_out, meta["block"], meta["rows"]):
            _poll(cancel)
            g_piece = g[:, j0:j1, r0:r1]
            every_row = r0 == 0 and r1 == n_out
            for i, (x, w, s) in enumerate(zip(xs, ws, strides)):
                if every_row:  # the whole input with the convolution's own padding
                    lo, hi, pad, xr = 0, x.shape[2], (p, p), x
                else:  # the strip's input rows with their halo, zero rows beyond the border
                    lo, hi = _in_rows(r0, r1, s, p)
                    pad, xr = (0, p), None
                if need_x[i]:
                    buf = grad_pad[i]
                    assert buf is not None
                    shape = (x.shape[0], x.shape[1], hi - lo, x.shape[3])
                    buf[:, :, lo + p : hi + p] += conv2d_input(shape, w[j0:j1], g_piece, s, pad)  # type: ignore[no-untyped-call]
                if need_w[i]:
                    gw = grad_w[i]
                    assert gw is not None
                    xr = _rows(x, lo, hi) if xr is None else xr
                    gw[j0:j1] += conv2d_weight(xr, w[j0:j1].shape, g_piece, s, pad)  # type: ignore[no-untyped-call]
            if progress is not None:
                progress(per_cell * (j1 - j0) * (r1 - r0))
        grads: list[torch.Tensor | None] = []
        for i, x in enumerate(xs):
            buf = grad_pad[i]
            grads.append(None if buf is None else buf[:, :, p : p + x.shape[2]])
            grads.append(grad_w[i])
        grad_bias = g.sum(dim=(0, 2, 3)) if ctx.has_bias and ctx.needs_input_grad[1] else None
        return (None, grad_bias, *grads)


def _zeros_layout(like: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
    return _empty_like_layout(like, shape).zero_()


# torch sends a 3 x 3 convolution of one image with at most this many input values to its
# im2col kernel rather than oneDNN's; from ONEDNN_FROM values on oneDNN is the faster (1 thread,
# stride 1, forward: 16 x 32 x 32 in 46 us against 83, 3 x 64 x 64 in 45 against 132; 16 x 16 x 16
# 28 against 23), and gives the same floats (bitwise, measured), forward and backward.
TORCH_IM2COL_UPTO = 20_480
ONEDNN_FROM = 8_192


def _onednn_is_faster(x: torch.Tensor, w: torch.Tensor, stride: int) -> bool:
    """Whether to call oneDNN's convolution where torch would pick its im2col kernel."""
    return (
        stride == 1
        and ONEDNN_FROM < x.numel() <= TORCH_IM2COL_UPTO
        and x.shape[0] == 1
        and w.shape[-1] == w.shape[-2] == 3
        and x.device.type == "cpu"
        and x.dtype == torch.float32
        and torch.backends.mkldnn.is_available()  # type: ignore[no-untyped-call]
        and bool(torch.backends.mkldnn.enabled)
    )


def conv_sum(
    branches: Sequence[tuple[torch.Tensor, torch.Tensor, int]],
    bias: torch.Tensor | None,
    padding: int,
    *,
    cancel: Callable[[], bool] | None = None,
    progress: Progress | None = None,
    limit: int | None = None,
    backward_progress: bool = True,
) -> torch.Tensor:
    """``sum_b F.conv2d(x_b, w_b, stride=s_b, padding=padding)`` plus ``bias`` (added once).

    branches: ``(x_b [B, I_b, H_b, W_b], w_b [J, I_b, D, D], s_b)``, all giving the same output
    ``[B, J, n, m]``. Computed in one torch call per branch when small; above twice ``limit``
    multiplies (:data:`STRIP_MULTIPLIES`) in pieces (:func:`plan`), forward and backward,
    polling ``cancel`` between pieces (:class:`Cancelled`) and calling ``progress(multiplies)``
    after each. The result equals the unsplit sum to float rounding, and so do its gradients.
    ``backward_progress=False``: an unsplit sum does not report its backward multiplies (the
    caller reports them with others'; a gradient hook per small map costs more than its work).
    """
    x0, w0, s0 = branches[0]
    n_out = (x0.shape[2] + 2 * padding - w0.shape[2]) // s0 + 1
    m_out = (x0.shape[3] + 2 * padding - w0.shape[3]) // s0 + 1
    total = sum_multiplies(branches, n_out, m_out)
    block, rows = plan(total, w0.shape[0], n_out, limit)
    if block >= w0.shape[0] and rows >= n_out:  # the normal case: torch's own calls, nothing in the way
        y = None
        for i, (x, w, s) in enumerate(branches):
            b = bias if i == len(branches) - 1 else None
            if _onednn_is_faster(x, w, s):
                part = torch.mkldnn_convolution(x, w, b, [padding, padding], [s, s], [1, 1], 1)
            else:
                part = F.conv2d(x, w, b, stride=s, padding=padding)
            y = part if y is None else y.add_(part)
        assert y is not None
        if progress is not None:
            progress(total)
            if (
                backward_progress and y.requires_grad
            ):  # its gradient arriving: the backward of these convolutions is next
                y.register_hook(lambda _g: progress(total))  # type: ignore[no-untyped-call]
        return y
    meta = {
        "strides": tuple(s for _, _, s in branches),
        "p": padding,
        "block": block,
        "rows": rows,
        "cancel": cancel,
        "progress": progress,
    }
    flat = [t for x, w, _ in branches for t in (x, w)]
    if not torch.is_grad_enabled() or not any(t.requires_grad for t in (*flat, *(() if bias is None else (bias,)))):
        return _forward(list(branches), bias, padding, block, rows, cancel, progress)
    out: torch.Tensor = _ConvSum.apply(meta, bias, *flat)  # type: ignore[no-untyped-call]
    return out
