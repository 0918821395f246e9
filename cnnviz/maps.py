"""Display images of feature maps: one channel or the mosaic of all, coloured with explicit levels (no Qt).

Pure numpy on arrays the engine prepared; shared by the grid, the inspector and the exported
figures, so that all of them show a layer the same way.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass

import numpy as np

from . import colours
from .core.result import PyramidResult
from .view_state import LOG_DECADES, ViewState

GAP = 1  # pixels between mosaic tiles
MIN_TILE = 8  # smaller maps are repeated up to this size in a mosaic, so the gaps stay thin


@dataclass(frozen=True)
class MapImage:
    """What one cell shows: ``data`` float ``[H, W]`` (NaN in mosaic gaps), the tiling, the range."""

    data: np.ndarray
    gap_mask: np.ndarray | None  # bool [H, W], True in mosaic gaps
    channels: int
    tile: tuple[int, int]  # (h, w) of one channel
    cols: int  # 1 when a single channel is shown
    channel: int | None  # the channel shown, None for the mosaic
    repeat: int  # each map pixel is repeat x repeat image pixels (tiny maps in a mosaic)
    vrange: tuple[float, float]  # finite (min, max), NaN when nothing is finite

    def channel_at(self, row: int, col: int) -> tuple[int, int, int] | None:
        """(channel, y, x) under image pixel (row, col), None over a gap."""
        h, w = self.tile
        f = self.repeat
        if self.channel is not None:
            return (self.channel, row, col) if 0 <= row < h and 0 <= col < w else None
        tr, y = divmod(row, h * f + GAP)
        tc, x = divmod(col, w * f + GAP)
        c = tr * self.cols + tc
        if y >= h * f or x >= w * f or c >= self.channels or tc >= self.cols:
            return None
        return c, y // f, x // f


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


@functools.lru_cache(maxsize=64)
def _gap_mask(c: int, h: int, w: int, cols: int) -> np.ndarray:
    ones = np.zeros((c, h, w), dtype=np.float32)
    return np.isnan(mosaic(ones, cols=cols, gap=GAP, fill=np.nan))


def map_image(maps: np.ndarray, view: ViewState, vrange: tuple[float, float] | None = None) -> MapImage:
    """maps: float32 ``[C, h, w]`` -> the image a cell shows under ``view``; ``vrange``, where
    the caller has it, is the finite range of what the image shows (else worked out here)."""
    c, h, w = maps.shape
    f = 1
    if view.mosaic and c > 1:
        cols = math.ceil(math.sqrt(c))
        f = max(1, math.ceil(MIN_TILE / max(h, w)))
        tiles = maps if f == 1 else maps.repeat(f, axis=1).repeat(f, axis=2)
        data = mosaic(tiles, cols=cols, gap=GAP, fill=np.nan)
        gaps = _gap_mask(c, h * f, w * f, cols)
        finite_src = maps
        ch = None
    else:
        ch = min(view.channel, c - 1)
        data, gaps, cols, finite_src = maps[ch], None, 1, maps[ch]
    return MapImage(
        data=data,
        gap_mask=gaps,
        channels=c,
        tile=(h, w),
        cols=cols,
        channel=ch,
        repeat=f,
        vrange=colours.data_range(finite_src) if vrange is None else vrange,
    )


def map_images(maps: dict[tuple[int, int], np.ndarray], view: ViewState) -> dict[tuple[int, int], MapImage]:
    """:func:`map_image` of every cell at once: the same images; with one channel shown, every
    cell's finite range comes from two numpy calls over all cells rather than two per cell (the
    grid does this for every frame of a clip). maps: float32 ``[C, h, w]`` per (l, s)."""
    keys = list(maps)
    datas = [maps[key][min(view.channel, maps[key].shape[0] - 1)] for key in keys]
    sizes = [d.size for d in datas]
    if view.mosaic or not maps or 0 in sizes:
        return {key: map_image(m, view) for key, m in maps.items()}
    flat = np.concatenate([d.ravel() for d in datas])
    starts = np.cumsum([0, *sizes[:-1]])
    with np.errstate(invalid="ignore"):
        los = np.minimum.reduceat(flat, starts).tolist()
        his = np.maximum.reduceat(flat, starts).tolist()
    # NaN or inf somewhere: map_image takes the range over the finite values itself
    return {
        key: map_image(maps[key], view, (lo, hi) if math.isfinite(lo) and math.isfinite(hi) else None)
        for key, lo, hi in zip(keys, los, his)
    }


ZERO_LOG = -1e6  # log10 |0|: a finite stand-in below every colour level (drawn in the lowest colour)


def log_image(im: MapImage) -> MapImage:
    """``im`` with log10 |value| in place of the values: exact zeros (dead ReLUs) become a finite
    value below every level (lowest colour), inf stays inf and NaN NaN (the marked colour);
    ``vrange`` is over the finite logs of nonzero values."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        data = np.log10(np.abs(im.data.astype(np.float64)))
    data[im.data == 0] = ZERO_LOG
    real = data[np.isfinite(data) & (data > ZERO_LOG)]
    vrange = (float(real.min()), float(real.max())) if real.size else (math.nan, math.nan)
    return dataclasses.replace(im, data=data, vrange=vrange)


def same_arrays(a: tuple[np.ndarray, ...] | list[np.ndarray], b: tuple[np.ndarray, ...] | list[np.ndarray]) -> bool:
    """True when ``a`` and ``b`` hold equal arrays (shape and every value, NaN equal to NaN).

    Compared from the last (for a pyramid, the smallest) array: a new video frame differs already
    in its coarsest levels, so telling it apart costs microseconds, not a pass over 512^2 pixels."""
    return len(a) == len(b) and all(
        x is y
        or (
            x.shape == y.shape and x.dtype == y.dtype and (np.array_equal(x, y) or np.array_equal(x, y, equal_nan=True))
        )  # NaN: rare, slower
        for x, y in zip(reversed(a), reversed(b))
    )


def grid_keys(k: int, depth: int) -> list[tuple[int, int]]:
    """Every (l, s) with l <= depth and l + s <= k, in level-major order."""
    return [(l, s) for l in range(depth + 1) for s in range(k - l + 1)]


def levels_for(
    images: dict[tuple[int, int], MapImage], key: tuple[int, int], normalisation: str, signed: bool
) -> tuple[float, float]:
    """The colour levels of cell ``key`` under per-map, per-level, global or global-log
    normalisation (l >= 1). For "log" the images hold log10 |value| (:func:`log_image`) and the
    levels span at most LOG_DECADES decades below the largest."""
    if normalisation == "log":
        pairs = [im.vrange for (l, _), im in images.items() if l >= 1]
        lo, hi = colours.finite_range(pairs, False)
        return max(lo, hi - LOG_DECADES), hi
    if normalisation == "map":
        pairs = [images[key].vrange]
    elif normalisation == "level":
        pairs = [im.vrange for (l, _), im in images.items() if l == key[0]]
    else:
        pairs = [im.vrange for (l, _), im in images.items() if l >= 1]
    return colours.finite_range(pairs, signed)


def levels_by_key(
    images: dict[tuple[int, int], MapImage], normalisation: str, signed: bool
) -> dict[tuple[int, int], tuple[float, float]]:
    """:func:`levels_for` of every cell l >= 1 of ``images``, each scope (the map, its level,
    every level) worked out once: a grid redrawn for every frame of a clip has ~40 cells."""
    memo: dict[object, tuple[float, float]] = {}
    out = {}
    for key in images:
        if key[0] < 1:
            continue
        scope = key if normalisation == "map" else key[0] if normalisation == "level" else None
        if scope not in memo:
            memo[scope] = levels_for(images, key, normalisation, signed)
        out[key] = memo[scope]
    return out


def pyramid_rgb(pyr: PyramidResult, scale: int, max_size: int = 128) -> np.ndarray:
    """The input image at scale s as uint8 ``[n, n, 3]``, taken from a coarser pyramid level when
    I_s is larger than ``max_size`` (2x2 averaging: an antialiased thumbnail for free)."""
    s = scale
    while s < len(pyr.pyramid) - 1 and pyr.pyramid[s].shape[0] > max_size:
        s += 1
    return colours.rgb_image(pyr.pyramid[s])
