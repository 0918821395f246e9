"""Display arrays prepared in core, so a view does one ``setImage`` per map."""

from __future__ import annotations

import math

import numpy as np


def mosaic(maps: np.ndarray, cols: int | None = None, gap: int = 1, fill: float = np.nan) -> np.ndarray:
    """Tile channels into one image.

    maps: float32 ``[C, h, w]``. Returns float32 ``[rows*(h+gap)-gap, cols*(w+gap)-gap]``,
    C-contiguous; the gaps and unused tiles hold ``fill``.
    """
    c, h, w = maps.shape
    if cols is None:
        cols = math.ceil(math.sqrt(c))
    rows = math.ceil(c / cols)
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), fill, dtype=np.float32)
    for i in range(c):
        r, q = divmod(i, cols)
        out[r * (h + gap) : r * (h + gap) + h, q * (w + gap) : q * (w + gap) + w] = maps[i]
    return out
