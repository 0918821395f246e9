"""Colours, colour maps, fonts and the zoom that scales them for a lecture hall.

Colour maps are perceptually uniform and colour-blind safe: viridis or cividis for layers
whose values have one sign (ReLU, sigmoid), CET-CBD1 (blue - grey - yellow, made for
colour-blind viewers) centred at 0 for signed layers (identity, tanh). Values that are not
finite (NaN, +-inf) are drawn in one marked colour that none of these maps contains.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPen

from ..view_state import ZOOM_STEPS
from .qt import pg

DIVERGING_MAP = "CET-CBD1"
SIGNED_ACTIVATIONS = ("identity", "tanh")

NONFINITE_HEX = "#ff00ff"  # magenta: absent from viridis, cividis and CET-CBD1
NONFINITE_RGBA = (255, 0, 255, 255)
WARN_BG = "#fff1c2"
WARN_FG = "#6b4600"
TEXT = "#202020"
MUTED = "#606060"
SELECT_HEX = "#d62728"  # the selected cell's frame: red on every map above
THEORY_STYLE = Qt.PenStyle.DashLine

BASE_POINT_SIZE = 11.0  # widgets at zoom 1: already larger than a desktop default


def zoom_in(z: float) -> float:
    return next((s for s in ZOOM_STEPS if s > z + 1e-6), ZOOM_STEPS[-1])


def zoom_out(z: float) -> float:
    return next((s for s in reversed(ZOOM_STEPS) if s < z - 1e-6), ZOOM_STEPS[0])


def font(zoom: float, scale: float = 1.0, bold: bool = False) -> QFont:
    f = QFont()
    f.setPointSizeF(BASE_POINT_SIZE * zoom * scale)
    f.setBold(bold)
    return f


def pt(zoom: float, scale: float = 1.0) -> str:
    """A CSS font size for pyqtgraph labels."""
    return f"{BASE_POINT_SIZE * zoom * scale:.1f}pt"


def line_width(zoom: float) -> float:
    return 2.5 * zoom


def pen(color, zoom: float, theory: bool = False, width: float = 1.0) -> QPen:
    p = pg.mkPen(color=color, width=line_width(zoom) * width)
    if theory:
        p.setStyle(THEORY_STYLE)
    p.setCosmetic(True)
    return p


@functools.cache
def colormap(name: str) -> pg.ColorMap:
    return pg.colormap.get(name)


@functools.cache
def lut(name: str) -> np.ndarray:
    """256-entry RGBA lookup table, uint8 ``[256, 4]``."""
    return np.ascontiguousarray(colormap(name).getLookupTable(0.0, 1.0, 256, alpha=True), dtype=np.uint8)


def scale_colors(n: int) -> list[QColor]:
    """One colour per scale s = 0..n-1: ordered (dark for fine, light for coarse) and readable on white."""
    return [QColor(c) for c in _scale_colors(n)]  # copies: a caller may change its own


@functools.lru_cache(maxsize=32)
def _scale_colors(n: int) -> tuple[QColor, ...]:
    # ColorMap.map costs ~0.1 ms a colour, and every redraw asks for these
    cmap = colormap("viridis")
    if n <= 1:
        return (cmap.map(0.0, mode="qcolor"),)
    return tuple(cmap.map(0.85 * i / (n - 1), mode="qcolor") for i in range(n))


def is_signed(activation: str) -> bool:
    return activation in SIGNED_ACTIVATIONS


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
    lo, hi = float(levels[0]), float(levels[1])
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        idx = (data.astype(np.float64) - lo) * scale
        finite = np.isfinite(idx)
        np.clip(idx, 0, 255, out=idx)
        idx[~finite] = 0
    rgba = table[idx.astype(np.uint8)]
    if not finite.all():
        bad = ~np.isfinite(data)
        rgba[bad] = NONFINITE_RGBA
    if transparent is not None:
        rgba[transparent] = 0
    return rgba


def rgb_image(rgb: np.ndarray) -> np.ndarray:
    """float ``[H, W, 3]`` in [0, 1] -> uint8 ``[H, W, 3]`` for display."""
    return (np.clip(rgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def fmt(x: float, digits: int = 3) -> str:
    """A number for a person: plain near 1, scientific far from it, 'inf'/'NaN' as they are."""
    if x is None:
        return "–"
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x == 0:
        return "0"
    a = abs(x)
    if 1e-3 <= a < 1e4:
        return f"{x:.{digits}g}"
    return f"{x:.{max(digits - 1, 1)}e}".replace("e-0", "e-").replace("e+0", "e").replace("e+", "e")


def fmt_int(n: int) -> str:
    """1234567 -> '1.23 M' (multiply counts)."""
    n = int(n)
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= div:
            return f"{n / div:.3g} {unit}"
    return str(n)


def sub(text: str, subscript: str) -> str:
    return f"{text}<sub>{subscript}</sub>"
