"""Colour maps and the colouring of feature maps, without Qt: shared by the window and the exports.

Colour maps are perceptually uniform and colour-blind safe: viridis or cividis for layers
whose values have one sign (ReLU, sigmoid), CET-CBD1 (blue - grey - yellow, made for
colour-blind viewers) centred at 0 for signed layers (identity, tanh). Values that are not
finite (NaN, +-inf) are drawn in one marked colour that none of these maps contains.

The tables are read from pyqtgraph's colour-map files (the same files the window's
``pyqtgraph.colormap.get`` reads) without importing pyqtgraph, so a headless export never
loads Qt; matplotlib's copy of a map is the fallback.
"""

from __future__ import annotations

import functools
import importlib.util
import math
from pathlib import Path

import numpy as np

DIVERGING_MAP = "CET-CBD1"
SEQUENTIAL_MAPS = ("viridis", "cividis")
SIGNED_ACTIVATIONS = ("identity", "tanh")

NONFINITE_HEX = "#ff00ff"  # magenta: absent from viridis, cividis and CET-CBD1
NONFINITE_RGBA = (255, 0, 255, 255)


def is_signed(activation: str) -> bool:
    """True for activations whose output takes both signs (drawn with the diverging map)."""
    return activation in SIGNED_ACTIVATIONS


def _pyqtgraph_map_file(name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec("pyqtgraph")  # finds the package without importing it
    except (ImportError, ValueError):
        return None
    for root in (spec.submodule_search_locations or []) if spec else []:
        path = Path(root) / "colors" / "maps" / f"{name}.csv"
        if path.is_file():
            return path
    return None


def _read_csv_map(path: Path) -> np.ndarray:
    """pyqtgraph's ``r,g,b`` (0..1) lines, ``;`` comments -> uint8 ``[n, 3]`` rounded as pyqtgraph does."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.split(";", 1)[0].strip()
        if text:
            rows.append([int(255 * float(c) + 0.5) for c in text.split(",")[:3]])
    return np.asarray(rows, dtype=np.float64)


@functools.cache
def lut(name: str) -> np.ndarray:
    """256-entry RGBA lookup table of colour map ``name``, uint8 ``[256, 4]``.

    Sampled like pyqtgraph's ``ColorMap.getLookupTable(0, 1, 256)``: the map's stops spread
    evenly over [0, 1] and interpolated linearly (a 256-stop map is taken as it is).
    """
    path = _pyqtgraph_map_file(name)
    if path is not None:
        stops = _read_csv_map(path)
    else:  # pragma: no cover - pyqtgraph is a dependency; matplotlib knows viridis and cividis
        from matplotlib import colormaps

        stops = np.round(colormaps[name](np.linspace(0, 1, 256))[:, :3] * 255)
    pos = np.linspace(0.0, 1.0, len(stops))
    x = np.linspace(0.0, 1.0, 256)
    rgb = np.stack([np.interp(x, pos, stops[:, i]) for i in range(3)], axis=1)
    out = np.empty((256, 4), dtype=np.uint8)
    out[:, :3] = np.clip(rgb + 0.5, 0, 255).astype(np.uint8)  # round like pyqtgraph's integer tables
    out[:, 3] = 255
    out.flags.writeable = False
    return out


def finite_range(values: list[tuple[float, float]] | tuple[float, float], signed: bool) -> tuple[float, float]:
    """Colour levels from (min, max) pairs of finite values; symmetric about 0 when signed."""
    pairs = [values] if isinstance(values, tuple) else values
    lo = min((p[0] for p in pairs if math.isfinite(p[0])), default=math.nan)
    hi = max((p[1] for p in pairs if math.isfinite(p[1])), default=math.nan)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return (-1.0, 1.0) if signed else (0.0, 1.0)
    if signed:
        m = max(abs(lo), abs(hi))
        m = m if m > 0 else 1.0
        return -m, m
    if hi <= lo:  # one value (or a constant map): centre it in a range a person can read
        eps = abs(hi) * 0.5 if hi != 0 else 1.0
        return lo - eps, hi + eps
    return lo, hi


def data_range(a: np.ndarray) -> tuple[float, float]:
    """(min, max) over the finite values of ``a`` (NaN, NaN when there are none), in float64."""
    if a.size == 0:
        return math.nan, math.nan
    with np.errstate(invalid="ignore"):
        lo, hi = float(np.min(a)), float(np.max(a))
    if math.isfinite(lo) and math.isfinite(hi):
        return lo, hi
    fin = a[np.isfinite(a)]
    if fin.size == 0:
        return math.nan, math.nan
    return float(fin.min()), float(fin.max())


def colorize(
    data: np.ndarray, levels: tuple[float, float], table: np.ndarray, transparent: np.ndarray | None = None
) -> np.ndarray:
    """Map a float image through a colour table.

    data: float ``[H, W]``; levels: (lo, hi) mapped to the ends of ``table`` (uint8
    ``[256, 4]``); ``transparent``: bool ``[H, W]`` drawn fully transparent (mosaic gaps).
    Returns RGBA uint8 ``[H, W, 4]`` with non-finite values in :data:`NONFINITE_RGBA`.
    The arithmetic is float64, so values near the float32 limit cannot overflow.
    """
    return colorize_many([data], [levels], table, [transparent])[0]


def colorize_many(
    datas: list[np.ndarray],
    levels: list[tuple[float, float]],
    table: np.ndarray,
    gaps: list[np.ndarray | None],
) -> list[np.ndarray]:
    """:func:`colorize` of many images, each with its own levels and gaps, in one pass.

    datas: float ``[H_i, W_i]``; gaps: bool ``[H_i, W_i]`` or None. Returns RGBA uint8
    ``[H_i, W_i, 4]`` per image (views into one buffer). A grid has ~40 small maps: one pass
    costs a few numpy calls, not a few hundred (the GUI thread does this for every frame of a clip).
    """
    if not datas:
        return []
    sizes = np.array([d.size for d in datas])
    flat = np.concatenate([d.ravel() for d in datas], dtype=np.float64)
    lo = np.array([float(a) for a, _ in levels])
    hi = np.array([float(b) for _, b in levels])
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        scale = np.where(hi > lo, 255.0 / np.where(hi > lo, hi - lo, 1.0), 0.0)
        idx = (flat - np.repeat(lo, sizes)) * np.repeat(scale, sizes)
        finite = np.isfinite(idx)
        np.clip(idx, 0, 255, out=idx)
        idx[~finite] = 0
    rgba = table[idx.astype(np.uint8)]
    if not finite.all():
        rgba[~np.isfinite(flat)] = NONFINITE_RGBA
    if any(g is not None for g in gaps):
        mask = np.concatenate([g.ravel() if g is not None else np.zeros(d.size, bool) for d, g in zip(datas, gaps)])
        rgba[mask] = 0
    out, start = [], 0
    for d in datas:
        out.append(rgba[start : start + d.size].reshape(*d.shape, 4))
        start += d.size
    return out


def rgb_image(rgb: np.ndarray) -> np.ndarray:
    """float ``[H, W, 3]`` in [0, 1] -> uint8 ``[H, W, 3]`` for display."""
    return (np.clip(rgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def scale_colors(n: int) -> list[str]:
    """One hex colour per scale s = 0..n-1 (viridis from 0 to 0.85: dark for fine, light for coarse)."""
    table = lut("viridis")
    if n <= 1:
        positions = [0.0]
    else:
        positions = [0.85 * i / (n - 1) for i in range(n)]
    out = []
    for p in positions:
        r, g, b = (int(v) for v in table[min(255, int(round(p * 255))), :3])
        out.append(f"#{r:02x}{g:02x}{b:02x}")
    return out
