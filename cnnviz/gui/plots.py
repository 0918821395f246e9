"""Plot helpers shared by the curves, the initialisation lab, the inspector and the cost view.

Every plot gets named axes, fonts scaled by the zoom, and - on log axes - values that stay
readable when a layer overflows: non-finite values are never drawn as lines, they are marked
with a cross at the top edge, and the axis range is taken from the finite values only.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QGraphicsTextItem

from . import theme
from .qt import pg

LOG_FLOOR, LOG_CEIL = 1e-45, 1e80  # the widest range a log axis will show


def style_plot(plot: pg.PlotItem, zoom: float, title: str, xlabel: str, ylabel: str,
               log_y: bool = False) -> None:
    plot.setTitle(title, size=theme.pt(zoom, 1.05), color=theme.TEXT)
    for name, text in (("bottom", xlabel), ("left", ylabel)):
        axis = plot.getAxis(name)
        axis.setLabel(text, **{"font-size": theme.pt(zoom, 0.95), "color": theme.TEXT})
        axis.setStyle(tickFont=theme.font(zoom, 0.85), tickTextOffset=int(4 * zoom))
        axis.enableAutoSIPrefix(False)
        axis.setPen(pg.mkPen(theme.MUTED, width=1))
        axis.setTextPen(pg.mkPen(theme.TEXT))
        # Tick labels are text, slow to paint: keep each axis (and its grid lines) as a pixmap
        # until its range or ticks change.
        axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    plot.titleLabel.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    plot.getAxis("left").setWidth(int(46 * zoom) + 18)
    plot.getAxis("bottom").setHeight(int(30 * zoom) + 14)
    plot.setLogMode(x=False, y=log_y)
    # Label decades only: ranges span whole decades (log_range), so there are always two.
    plot.getAxis("left").setStyle(maxTextLevel=0 if log_y else 1)
    plot.showGrid(x=True, y=True, alpha=0.25)
    plot.setMenuEnabled(False)
    plot.hideButtons()


def level_ticks(plot: pg.PlotItem, levels: range | list[int]) -> None:
    """Integer ticks for the levels; untouched when unchanged (new ticks repaint the axis)."""
    levels = list(levels)
    step = next(st for st in (1, 2, 5, 10, 20, 25, 50, 100) if st >= len(levels) / 12)
    ticks = [[(l, str(l)) for l in levels if l % step == 0], []]
    axis = plot.getAxis("bottom")
    if getattr(axis, "_cnnviz_ticks", None) != ticks:
        axis._cnnviz_ticks = ticks
        axis.setTicks(ticks)


def set_range(plot: pg.PlotItem, x: tuple[float, float] | None = None, y: tuple[float, float] | None = None) -> None:
    """Set the view range only where it changed, without padding: an unchanged range keeps
    the axes' cached pictures (a redraw then costs no tick text)."""
    (x0, x1), (y0, y1) = plot.viewRange()
    vb = plot.getViewBox()
    if x is not None and (abs(x0 - x[0]) > 1e-9 * max(1.0, abs(x[0])) or abs(x1 - x[1]) > 1e-9 * max(1.0, abs(x[1]))):
        vb.setXRange(*x, padding=0)
    if y is not None and (abs(y0 - y[0]) > 1e-9 * max(1.0, abs(y[0])) or abs(y1 - y[1]) > 1e-9 * max(1.0, abs(y[1]))):
        vb.setYRange(*y, padding=0)


def nice_range(lo: float, hi: float) -> tuple[float, float]:
    """(lo, hi) widened to multiples of a 1-2-5 step, so a range that drifts a little stays put."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return lo, hi
    raw = (hi - lo) / 4
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    return math.floor(lo / step) * step, math.ceil(hi / step) * step


def positive(values: np.ndarray) -> np.ndarray:
    """Values a log axis can draw; others (<= 0, inf, NaN) become NaN."""
    v = np.asarray(values, dtype=np.float64).copy()
    with np.errstate(invalid="ignore"):
        v[~(np.isfinite(v) & (v > 0))] = np.nan
    return v


def log_range(*arrays: np.ndarray) -> tuple[float, float] | None:
    """(lo, hi) in log10 units covering the finite positive values, padded, clamped."""
    vals = np.concatenate([positive(a).ravel() for a in arrays]) if arrays else np.array([])
    vals = vals[np.isfinite(vals)]
    if vals.size == 0:
        return None
    lo = max(float(vals.min()), LOG_FLOOR)
    hi = min(float(vals.max()), LOG_CEIL)
    llo, lhi = math.log10(lo), math.log10(max(hi, lo))
    # Whole decades: the axis stays still while a slider is dragged (calm to watch, and
    # pyqtgraph keeps its cached tick pictures), and moves only when the data crosses one.
    flo, fhi = math.floor(llo - 0.1), math.ceil(lhi + 0.1)
    return float(flo), float(max(fhi, flo + 1))


class OverflowMarks:
    """Where a layer's value is inf/NaN (or the layer overflowed): crosses at the top of the
    plot for a few levels, a shaded band over a long run of them (a deep residual stack)."""

    MAX_CROSSES = 12

    def __init__(self, plot: pg.PlotItem) -> None:
        self.item = pg.ScatterPlotItem(symbol="x", size=14, pen=pg.mkPen(theme.NONFINITE_HEX, width=2),
                                       brush=pg.mkBrush(theme.NONFINITE_HEX))
        self.item.setZValue(30)
        plot.addItem(self.item, ignoreBounds=True)
        self.band = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(255, 0, 255, 40),
                                        pen=pg.mkPen(theme.NONFINITE_HEX, width=1))
        self.band.setZValue(-5)
        self.band.hide()
        plot.addItem(self.band, ignoreBounds=True)
        self.label = pg.TextItem(anchor=(0, 0), color=theme.NONFINITE_HEX)
        self.label.setZValue(31)
        self.label.hide()
        plot.addItem(self.label, ignoreBounds=True)
        self._count = 0

    def set(self, xs: list[float], y_top: float | None) -> None:
        self._count = len(xs) if y_top is not None else 0
        if not xs or y_top is None:
            self.item.setData([], [])
            self.band.hide()
            self.label.hide()
            return
        if len(xs) <= self.MAX_CROSSES:
            self.item.setData(xs, [y_top] * len(xs))
            self.band.hide()
            self.label.hide()
            return
        self.item.setData([], [])
        lo, hi = min(xs), max(xs)
        self.band.setRegion((lo - 0.5, hi + 0.5))
        self.band.show()
        text = f"inf/NaN at l = {lo:g}–{hi:g}" if len(xs) == hi - lo + 1 else f"inf/NaN at {len(xs)} levels"
        self.label.setText(text)
        self.label.setPos(lo - 0.5, y_top)
        self.label.show()

    @property
    def count(self) -> int:
        """How many levels are marked."""
        return self._count


class CornerText:
    """Text pinned to the top-right corner of a plot's data area, outside the layout, so a long
    line never widens the plot (pyqtgraph's titles set a minimum width)."""

    # A plain QGraphicsTextItem in the ViewBox's pixel coordinates: pyqtgraph's TextItem
    # re-places itself while painting, which costs a second paint of the plot per update.

    def __init__(self, plot: pg.PlotItem) -> None:
        self.vb = plot.getViewBox()
        self.box = QGraphicsRectItem(self.vb)
        self.box.setBrush(pg.mkBrush(255, 255, 255, 215))
        self.box.setPen(pg.mkPen(None))
        self.box.setZValue(40)
        self.item = QGraphicsTextItem(self.box)
        self.vb.sigResized.connect(self._place)

    def set_html(self, html: str) -> None:
        if html != getattr(self, "_html", None):
            self._html = html
            self.item.setHtml(html)
            self._place()

    def _place(self, *_) -> None:
        r = self.item.boundingRect()
        self.box.setRect(0, 0, r.width(), r.height())
        self.box.setPos(self.vb.width() - r.width() - 2, 2)


def legend_html(n_scales: int, extra: str = "") -> str:
    """The key to the per-scale curves, for a word-wrapping QLabel."""
    colors = theme.scale_colors(n_scales)
    sw = " ".join(f"<span style='color:{c.name()}'>■</span>{s}" for s, c in enumerate(colors))
    return (f"scale s: {sw} &nbsp; ━ measured &nbsp; ╍ theory{extra} &nbsp; "
            f"<span style='color:{theme.NONFINITE_HEX}'>✕</span> inf/NaN")


def hex_color(c: QColor) -> str:
    return c.name()
