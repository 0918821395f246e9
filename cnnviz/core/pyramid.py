"""Problem 3's image pyramid: I_0 = I, I_{s+1} = the 2x2 average of I_s (docs/theory.md)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from ..errors import SettingsError

# From this side down avg_pool2d makes a level: one torch call where the formula makes eight
# (2 us against 15 at 16^2; each call also hands the GIL over to a busy GUI thread and back).
POOL_UPTO = 32


def _mean2x2(i: torch.Tensor) -> torch.Tensor:
    # The seed's formula term by term: on the CPU this is ~3x faster than avg_pool2d for large
    # 3-channel images, and gives the same floats (checked bitwise, tests/core/test_scale_net.py).
    if i.shape[-1] <= POOL_UPTO and not (i.requires_grad and torch.is_grad_enabled()):
        out = F.avg_pool2d(i, 2)
        # avg_pool2d may answer a channels_last level in NCHW (it reads the size-1 batch's
        # stride); the formula keeps the input's layout, which the convolutions' choice follows
        if i.is_contiguous(memory_format=torch.channels_last) and not out.is_contiguous(
            memory_format=torch.channels_last
        ):
            out = out.contiguous(memory_format=torch.channels_last)
        return out
    return (i[..., ::2, ::2] + i[..., ::2, 1::2] + i[..., 1::2, ::2] + i[..., 1::2, 1::2]) * 0.25


class _Mean2x2(torch.autograd.Function):
    """The 2x2 mean with its adjoint as the backward: each input pixel receives a quarter of
    its block's gradient. Autograd's own backward of the four strided slices zero-fills and
    adds four full-size tensors per level (a fifth of a notebook's forward + backward)."""

    @staticmethod
    def forward(ctx: Any, i: torch.Tensor) -> torch.Tensor:
        return _mean2x2(i)

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> torch.Tensor:
        q = g * 0.25
        *lead, h, w = q.shape
        return q[..., :, None, :, None].expand(*lead, h, 2, w, 2).reshape(*lead, 2 * h, 2 * w)


def image_pyramid(x: torch.Tensor) -> list[torch.Tensor]:
    """The pyramid I_0 .. I_k of a square batch.

    x: ``[B, C, 2^k, 2^k]``. Returns k + 1 tensors, ``pyr[s]`` of shape ``[B, C, 2^(k-s), 2^(k-s)]``;
    ``pyr[s+1][b, c, y, x]`` is exactly the mean of the 2x2 block of ``pyr[s]`` at (2y, 2x)
    (non-overlapping 2x2 average pooling).
    """
    if x.ndim != 4:
        raise SettingsError(f"the pyramid needs a batch [B, C, H, W], got shape {tuple(x.shape)}")
    h, w = x.shape[-2:]
    if h != w or h < 1 or (h & (h - 1)) != 0:
        raise SettingsError(f"the pyramid needs a square power-of-two image, got {w}x{h}")
    pyr = [x]
    while pyr[-1].shape[-1] > 1:
        i = pyr[-1]
        grad = i.requires_grad and torch.is_grad_enabled()
        pyr.append(_Mean2x2.apply(i) if grad else _mean2x2(i))  # type: ignore[no-untyped-call]
    return pyr
