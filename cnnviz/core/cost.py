"""Problem 1: how many multiplies a convolution costs, per layer of the scale-shared network.

A convolution with output ``B x X x Y x J`` from ``I`` input channels and a ``dX x dY``
filter costs B X Y dX dY I J multiplies; thresholds add and do not count. With stride the
count is the same product over the *output* size, so both branches of L_{l,s} (the <- branch
at stride 1 and the ^ branch at stride 2) cost the same: their outputs are both n_{l,s}^2.

``torch.utils.flop_counter.FlopCounterMode`` counts 2 FLOPs per multiply-add; it is run on the
``meta`` device (shapes only, no arithmetic, no memory), so the cross-check is instant at any
size. The counts and their sums over the pyramid: docs/theory.md, Problem 1.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from collections.abc import Sequence

from ..errors import SettingsError
from .result import CostRow


def conv_multiplies(batch: int, out_h: int, out_w: int, kernel_h: int, kernel_w: int, in_ch: int, out_ch: int) -> int:
    """B X Y dX dY I J for an output ``[B, J, Y, X]`` (Python int: no overflow at any size)."""
    dims = (batch, out_h, out_w, kernel_h, kernel_w, in_ch, out_ch)
    if any(int(d) != d or d < 0 for d in dims):
        raise SettingsError(f"convolution sizes must be whole numbers >= 0, not {dims}")
    total = 1
    for d in dims:
        total *= int(d)
    return total


def _check(k: int, depth: int, channels: int, kernel: int, in_channels: int, batch: int) -> None:
    if not (0 <= depth <= k and channels >= 1 and in_channels >= 1 and batch >= 1):
        raise SettingsError(
            f"costs need 0 <= depth <= k and positive sizes, not k={k}, depth={depth}, "
            f"J={channels}, I={in_channels}, B={batch}"
        )
    if kernel < 1 or kernel % 2 == 0:
        raise SettingsError(f"kernel must be odd (filters are centred), not {kernel}")


def _layers(k: int, depth: int) -> list[tuple[int, int, int]]:
    """(l, s, n) for every computed layer L_{l,s}, l >= 1, of size n = 2^(k-l-s)."""
    return [(lvl, s, 2 ** (k - lvl - s)) for lvl in range(1, depth + 1) for s in range(k - lvl + 1)]


def scale_net_costs(
    k: int, depth: int, channels: int, kernel: int, in_channels: int = 3, batch: int = 1
) -> tuple[CostRow, ...]:
    """One :class:`CostRow` per layer (l, s), l = 1..depth, s = 0..k-l, in that order.

    The output of both branches is ``[batch, channels, n, n]`` with n = 2^(k-l-s); level 1
    reads ``in_channels``, later levels ``channels``. ``torch_flops`` is left at -1 (see
    :func:`with_torch_flops`).
    """
    _check(k, depth, channels, kernel, in_channels, batch)
    rows = []
    for lvl, s, n in _layers(k, depth):
        i = in_channels if lvl == 1 else channels
        mult = conv_multiplies(batch, n, n, kernel, kernel, i, channels)
        rows.append(
            CostRow(
                level=lvl,
                scale=s,
                shape=(batch, channels, n, n),
                multiplies_left=mult,
                multiplies_up=mult,
            )
        )
    return tuple(rows)


def _meta_flops(layers: list[tuple[int, int, int, int, int]]) -> list[int]:
    """FlopCounterMode's count per layer, cached: it depends on shapes only, and counting
    (even on the meta device) took ~0.7 s per network, every time the cost view redrew."""
    return list(_meta_flops_cached(tuple(layers)))


# FlopCounterMode installs process-wide hooks: two threads counting at once (the window's
# worker and a movie's engine thread meeting new shapes together) was seen to crash.
_COUNTING = threading.Lock()


@functools.lru_cache(maxsize=64)
def _meta_flops_cached(layers: tuple[tuple[int, int, int, int, int], ...]) -> tuple[int, ...]:
    """FlopCounterMode's count for the two convolutions that make each layer.

    ``layers``: (batch, in_ch, out_ch, n, kernel) per layer, output n x n. One counter for all
    of them (entering one costs ~30 ms), read before and after each layer.
    """
    import torch
    import torch.nn.functional as F
    from torch.utils.flop_counter import FlopCounterMode

    meta = torch.device("meta")
    out = []
    with _COUNTING, FlopCounterMode(display=False) as counter:
        for batch, in_ch, out_ch, n, kernel in layers:
            before = counter.get_total_flops()
            p = kernel // 2
            w = torch.empty(out_ch, in_ch, kernel, kernel, device=meta)
            coarser = torch.empty(batch, in_ch, n, n, device=meta)  # L_{l-1,s+1}: output size
            same = torch.empty(batch, in_ch, 2 * n, 2 * n, device=meta)  # L_{l-1,s}
            F.conv2d(coarser, w, padding=p)
            F.conv2d(same, w, stride=2, padding=p)
            out.append(int(counter.get_total_flops() - before))
    return tuple(out)


def torch_flops_per_layer(
    k: int, depth: int, channels: int, kernel: int, in_channels: int = 3, batch: int = 1
) -> dict[tuple[int, int], int]:
    """{(l, s): FLOPs of both branch convolutions} as counted by torch (2 per multiply-add)."""
    _check(k, depth, channels, kernel, in_channels, batch)
    layers = _layers(k, depth)
    flops = _meta_flops([(batch, in_channels if lvl == 1 else channels, channels, n, kernel) for lvl, _, n in layers])
    return {(lvl, s): f for (lvl, s, _), f in zip(layers, flops)}


def with_torch_flops(
    rows: tuple[CostRow, ...] | list[CostRow], kernel: int, in_channels: int = 3
) -> tuple[CostRow, ...]:
    """``rows`` with ``torch_flops`` filled in from FlopCounterMode (on the meta device).

    The row's shape gives B, J and n; level 1 reads ``in_channels``, later levels J.
    """
    flops = _meta_flops(
        [
            (row.shape[0], in_channels if row.level == 1 else row.shape[1], row.shape[1], row.shape[2], kernel)
            for row in rows
        ]
    )
    return tuple(dataclasses.replace(row, torch_flops=f) for row, f in zip(rows, flops))


def video_multiplies_text(shape: Sequence[int], in_shape: Sequence[int], kernel: int, kernel_t: int) -> str:
    """Problem 2's count ``B·X·Y·T·dX·dY·dT·I·J`` written out for a video layer with output ``shape``
    (B, J, T, H, W) reading ``in_shape`` (B, I, T, H, W) through a ``kernel_t`` x ``kernel`` x ``kernel`` filter."""
    b, j, t, h, w = shape
    i = in_shape[1]
    return f"{b}·{w}·{h}·{t}·{kernel}·{kernel}·{kernel_t}·{i}·{j}"
