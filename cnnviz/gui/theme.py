"""Colours, colour maps, fonts and the zoom that scales them for a lecture hall.

Colour maps are perceptually uniform and colour-blind safe: viridis or cividis for layers
whose values have one sign (ReLU, sigmoid), CET-CBD1 (blue - grey - yellow, made for
colour-blind viewers) centred at 0 for signed layers (identity, tanh). Values that are not
finite (NaN, +-inf) are drawn in one marked colour that none of these maps contains.
"""

from __future__ import annotations

import functools

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPen

from ..colours import (  # noqa: F401 - the window reaches these through theme
    DIVERGING_MAP,
    NONFINITE_HEX,
    NONFINITE_RGBA,
    SIGNED_ACTIVATIONS,
    colorize,
    colorize_many,
    data_range,
    finite_range,
    is_signed,
    lut,
    rgb_image,
)
from ..colours import scale_colors as _hex_scale_colors
from ..numtext import human
from ..view_state import ZOOM_STEPS
from .qt import pg

WARN_BG = "#fff1c2"
WARN_FG = "#6b4600"
TEXT = "#202020"
MUTED = "#606060"
SELECT_HEX = "#d62728"  # the selected cell's frame: red on every map above
THEORY_STYLE = Qt.PenStyle.DashLine
LOCAL_STYLE = Qt.PenStyle.DotLine  # the per-position theory, beside the dashed per-map one

BASE_PX = 15.0  # widgets at zoom 1, in logical pixels: larger than a desktop default
MIN_PX = 14.0  # no text is smaller at zoom 1: readable from the back row of a hall on a 1280x720 projector
BASE_POINT_SIZE = BASE_PX * 72 / 96  # the same size in points at 96 dpi (kept for callers that think in points)


def zoom_in(z: float) -> float:
    return next((s for s in ZOOM_STEPS if s > z + 1e-6), ZOOM_STEPS[-1])


def zoom_out(z: float) -> float:
    return next((s for s in reversed(ZOOM_STEPS) if s < z - 1e-6), ZOOM_STEPS[0])


def px(zoom: float, scale: float = 1.0) -> int:
    """The pixel size of text at ``zoom``; ``scale`` < 1 (secondary text) never goes below MIN_PX at zoom 1."""
    return max(1, round(max(BASE_PX * scale, MIN_PX) * zoom))


def font(zoom: float, scale: float = 1.0, bold: bool = False) -> QFont:
    f = QFont()
    f.setPixelSize(px(zoom, scale))
    f.setBold(bold)
    return f


def pt(zoom: float, scale: float = 1.0) -> str:
    """A CSS font size for rich text and pyqtgraph labels (in pixels, like :func:`font`)."""
    return f"{px(zoom, scale)}px"


def line_width(zoom: float) -> float:
    return 2.5 * zoom


def pen(color, zoom: float, theory: bool = False, width: float = 1.0, style: Qt.PenStyle | None = None) -> QPen:
    p = pg.mkPen(color=color, width=line_width(zoom) * width)
    if theory:
        p.setStyle(THEORY_STYLE if style is None else style)
    p.setCosmetic(True)
    return p


@functools.cache
def colormap(name: str) -> pg.ColorMap:
    return pg.colormap.get(name)


def scale_colors(n: int) -> list[QColor]:
    """One colour per scale s = 0..n-1: ordered (dark for fine, light for coarse) and readable on white."""
    return [QColor(c) for c in _scale_colors(n)]  # copies: a caller may change its own


@functools.lru_cache(maxsize=32)
def _scale_colors(n: int) -> tuple[QColor, ...]:
    # the exports draw the same colours (cnnviz.colours); every redraw asks for these
    return tuple(QColor(c) for c in _hex_scale_colors(n))


def fmt(x: float, digits: int = 3) -> str:
    """A number for a person: plain near 1, scientific far from it, 'inf'/'NaN' as they are."""
    return "–" if x is None else human(x, digits)


def power_of_ten(d: int) -> str:
    """10^d as text: '1' for d = 0, '10' for d = 1, else 10 with a superscript exponent ('10⁻³')."""
    if d == 0:
        return "1"
    if d == 1:
        return "10"
    return "10" + str(d).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))


def fmt_int(n: int) -> str:
    """1234567 -> '1.23 M' (multiply counts)."""
    n = int(n)
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= div:
            return f"{n / div:.3g} {unit}"
    return str(n)


def sub(text: str, subscript: str) -> str:
    return f"{text}<sub>{subscript}</sub>"
