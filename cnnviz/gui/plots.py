"""Plot helpers shared by the curves, the initialisation lab, the inspector and the cost view.

Every plot gets named axes, fonts scaled by the zoom, and - on log axes - values that stay
readable when a layer overflows: non-finite values are never drawn as lines, they are marked
with a cross at the top edge, and the axis range is taken from the finite values only.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPainterPath, QPen, QPicture, QPixmap, QTransform
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QGraphicsTextItem

from . import theme
from .qt import pg

LOG_FLOOR, LOG_CEIL = 1e-45, 1e80  # the widest range a log axis will show


class PlainAxis(pg.AxisItem):
    """An axis that always shows the data's own numbers: never an SI prefix or a hidden scale.

    pyqtgraph 0.14's ``updateAutoSIPrefix`` ignores ``enableAutoSIPrefix(False)``: every change
    of label or range re-derives a scale (x1000 for values of 0.01-0.1 with a label), which then
    multiplies every tick. Here the scale is 1 and the prefix empty, whatever happens. Every axis
    of the window is one of these (plots via :func:`style_plot`, colour bars via :class:`ColorBar`).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.autoSIPrefix = False

    def updateAutoSIPrefix(self) -> None:
        self.autoSIPrefix = False
        self.autoSIPrefixScale = 1.0
        self.labelUnitPrefix = ""
        self._updateLabel()

    def logTickValues(self, minVal, maxVal, size, stdTicks):
        """Log axes: as many labels as fit (one per ~2.2 lines of text up an axis, ~4.5 text
        heights along one): 1-2-5 steps, else 1-5, else decades, else every n-th decade with
        the skipped decades as unlabelled ticks."""
        font = self.style.get("tickFont")
        font_px = font.pixelSize() if font is not None and font.pixelSize() > 0 else 14
        room = max(2.0, size / (2.2 * font_px) if self.orientation in ("left", "right") else size / (4.5 * font_px))
        first, last = math.floor(minVal), math.ceil(maxVal)
        for mults in ((1, 2, 5), (1, 5)):
            values = [d + math.log10(m) for d in range(first, last + 1) for m in mults]
            values = [v for v in values if minVal - 1e-9 <= v <= maxVal + 1e-9]
            if 2 <= len(values) <= room:
                return [(None, values)]
        decades = list(range(math.ceil(minVal - 1e-9), math.floor(maxVal + 1e-9) + 1))
        step = max(1, math.ceil(len(decades) / room))
        major = [float(d) for d in decades if d % step == 0]
        minor = [float(d) for d in decades if d % step != 0]
        return [(float(step), major), (None, minor)]

    def logTickStrings(self, values, scale, spacing):
        """10^v as a person writes it: 0.01 .. 1000 plainly, 10⁻⁵ beyond, 2 and 5 steps as 0.2, 50."""
        out = []
        for v in values:
            d = round(v)
            if abs(v - d) < 1e-6:
                out.append(f"{10.0**d:g}" if -3 <= d <= 3 else theme.power_of_ten(d))
            else:  # a 2 or 5 step: 500, not 5e+02
                x = float(f"{10.0**v:.2g}")
                e = math.floor(math.log10(x))
                out.append(f"{x:g}" if -3 <= e <= 3 else f"{x / 10.0**e:g}·{theme.power_of_ten(e)}")
        return out


class ColorBar(pg.ColorBarItem):
    """pyqtgraph's colour bar with :class:`PlainAxis` frames and value axis."""

    def setAxisItems(self, axisItems=None) -> None:
        items = dict(axisItems or {})
        for side in ("left", "right", "top", "bottom"):
            items.setdefault(side, PlainAxis(side))
        super().setAxisItems(items)


class TitleLabel(pg.LabelItem):
    """A plot title that asks for its height only: the plot's width comes from its axes and its
    data. pyqtgraph's title sets the plot's least width to the text's, so in a narrow panel
    (1280x720 after A+) the plots overflowed it and were cut off at its right edge."""

    def updateMin(self) -> None:
        super().updateMin()
        self.setMinimumWidth(0)
        self._sizeHint[Qt.SizeHint.MinimumSize] = (0, self._sizeHint[Qt.SizeHint.MinimumSize][1])


def plain_plot(glw: pg.GraphicsLayoutWidget, **kwargs) -> pg.PlotItem:
    """``glw.addPlot`` with :class:`PlainAxis` on every side (grid lines stamped on the bottom)
    and a :class:`TitleLabel` centred over the whole plot, axis included."""
    axes = {side: PlainAxis(side) for side in ("left", "right", "top")}
    axes["bottom"] = GridAxis("bottom")
    plot = glw.addPlot(axisItems=axes, **kwargs)
    plot.hideAxis("right")
    plot.hideAxis("top")
    old = plot.titleLabel
    plot.layout.removeItem(old)
    old.setParentItem(None)
    plot.titleLabel = TitleLabel("", size="11pt", parent=plot)
    plot.layout.addItem(plot.titleLabel, 0, 0, 1, 3)  # over the left axis, the data and the right axis
    plot.setTitle(None)
    return plot


class GridAxis(PlainAxis):
    """An axis whose vertical grid lines are stamped as one image, pixel for pixel the lines.

    Qt's raster engine blends a translucent vertical line one scanline at a time, at a cost
    per scanline: a plot's forty grid lines took ~2 ms whenever the axis range changed (the
    histogram's, on every slider step); one image of them blends in ~0.2 ms. The columns
    and rows are those the lines would cover (an aliased cosmetic line covers pixel
    floor(device x)); under any transform but a translation the lines are drawn as lines.
    """

    _columns: list | None = None  # the vertical grid lines (pen, a, b) of the current picture
    _axis_line: tuple | None = None  # (pen, a, b)

    def paint(self, p: QPainter, opt, widget) -> None:
        if self.picture is None:
            self._make_pictures()
        if self._columns is not None and self._axis_line is not None:  # both set together
            # pyqtgraph's order: the axis line, the ticks (here the grid), then the labels
            pen, a, b = self._axis_line
            p.save()
            p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            p.setPen(pen)
            p.drawLine(a, b)
            if not _stamp_columns(p, self._columns):
                for pen, a, b in self._columns:
                    p.setPen(pen)
                    p.drawLine(a, b)
            p.restore()
        self.picture.play(p)

    def _make_pictures(self) -> None:
        self._columns = None
        picture = QPicture()
        painter = QPainter(picture)
        try:
            if self.style["tickFont"]:
                painter.setFont(self.style["tickFont"])
            specs = self.generateDrawSpecs(painter)
            if specs is not None:
                axis_spec, tick_specs, text_specs = specs
                is_vertical = [t[1].x() == t[2].x() and t[1].y() != t[2].y() for t in tick_specs]
                vertical = [t for t, v in zip(tick_specs, is_vertical) if v]
                if self.grid is False or len(vertical) < 2:
                    self.drawPicture(painter, *specs)
                else:
                    rest = [t for t, v in zip(tick_specs, is_vertical) if not v]
                    self.drawPicture(painter, (QPen(Qt.PenStyle.NoPen), axis_spec[1], axis_spec[2]), rest, text_specs)
                    self._columns, self._axis_line = vertical, axis_spec
        finally:
            painter.end()
        self.picture = picture


def _stamp_columns(p: QPainter, lines: list) -> bool:
    """Draw vertical aliased 1-pixel lines ``(pen, a, b)`` as one premultiplied ARGB image, on
    the pixels the lines would cover. False (nothing drawn) unless ``p`` only translates."""
    tr = p.transform()
    device = p.device()
    if (
        tr.type().value > QTransform.TransformationType.TxTranslate.value
        or p.deviceTransform() != tr
        or device is None
        or device.devicePixelRatioF() != 1.0
    ):
        return False
    for pen, _, _ in lines:
        if pen.widthF() > 1 or pen.style() != Qt.PenStyle.SolidLine or not pen.isSolid():
            return False
    dx, dy = tr.dx(), tr.dy()
    xs = [math.floor(a.x() + dx) for _, a, _ in lines]
    tops = [math.floor(min(a.y(), b.y()) + dy) for _, a, b in lines]
    bottoms = [math.floor(max(a.y(), b.y()) + dy) for _, a, b in lines]
    x0, y0 = min(xs), min(tops)
    w, h = max(xs) - x0 + 1, max(bottoms) - y0 + 1
    img = np.zeros((h, w), dtype=np.uint32)
    for (pen, _, _), x, top, bottom in zip(lines, xs, tops, bottoms):
        c = pen.color()
        a = c.alpha()
        k = a / 255.0
        argb = (a << 24) | (int(c.red() * k + 0.5) << 16) | (int(c.green() * k + 0.5) << 8) | int(c.blue() * k + 0.5)
        img[top - y0 : bottom - y0 + 1, x - x0] = argb
    p.save()
    p.resetTransform()
    p.drawImage(QPoint(x0, y0), QImage(img.data, w, h, 4 * w, QImage.Format.Format_ARGB32_Premultiplied))
    p.restore()
    return True


def style_plot(plot: pg.PlotItem, zoom: float, title: str, xlabel: str, ylabel: str, log_y: bool = False) -> None:
    if not isinstance(plot.getAxis("bottom"), GridAxis) or not isinstance(plot.getAxis("left"), PlainAxis):
        plot.setAxisItems({"bottom": GridAxis("bottom"), "left": PlainAxis("left")})
    plot.setTitle(title, size=theme.pt(zoom, 1.05), color=theme.TEXT)
    for name, text in (("bottom", xlabel), ("left", ylabel)):
        axis = plot.getAxis(name)
        axis.setLabel(text, **{"font-size": theme.pt(zoom, 0.95), "color": theme.TEXT})
        # Edge labels (a decade at the end of a log range) may reach half a line past the axis
        # rather than vanish.
        axis.setStyle(
            tickFont=theme.font(zoom, 0.85), tickTextOffset=int(4 * zoom), hideOverlappingLabels=theme.px(zoom) // 2 + 1
        )
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


class CurveSet(pg.GraphicsObject):
    """Several polylines and round dots in one plot, painted by one item.

    The curves view draws up to 2 (k + 1) curves per plot on every slider step; as
    PlotDataItems each costs a fraction of a millisecond in Python (data bounds, log mapping,
    signals, its own paint call), here a whole plot costs about one. Coordinates are the
    view's own: on a log axis the caller passes log10 of the values. NaN breaks a line.
    Lines are cosmetic pens, dots are ``size`` device pixels across whatever the view's scale.
    """

    def __init__(self) -> None:
        super().__init__()
        self._paths: list[tuple[QPainterPath, QPen]] = []
        self._dots: list[tuple[np.ndarray, np.ndarray, QBrush]] = []
        self._dot_size = 7.0
        self._smooth = True  # antialiased lines (set_data)
        self._bounds: tuple[float, float, float, float] | None = None  # x0, x1, y0, y1 of the finite data

    def set_data(
        self,
        lines: list[tuple[np.ndarray, np.ndarray, QPen]],
        dots: list[tuple[np.ndarray, np.ndarray, QBrush]],
        dot_size: float,
        smooth: bool = True,
    ) -> None:
        """lines: (x, y, pen), drawn in order; dots: (x, y, brush) drawn above every line.

        ``smooth``: False draws the lines without antialiasing, for data that streams in (a clip
        playing): a line 2.5 px wide costs about five times as much antialiased (Qt's
        rasteriser), on the GUI thread the compute thread waits for. The window draws every
        streamed view again, smooth, when the stream stops."""
        self.prepareGeometryChange()
        self._smooth = smooth
        self._paths = []
        lo_x = lo_y = math.inf
        hi_x = hi_y = -math.inf
        for x, y, pen in lines:
            x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
            if x.size > LONG_LINE:  # a curve over the frames of a clip: built in numpy
                ok = np.isfinite(x) & np.isfinite(y)
                if not ok.any():
                    continue
                path = _finite_path(x, y, ok)
                xs, ys = x[ok], y[ok]
                lo_x, hi_x = min(lo_x, float(xs.min())), max(hi_x, float(xs.max()))
                lo_y, hi_y = min(lo_y, float(ys.min())), max(hi_y, float(ys.max()))
                self._paths.append((path, pen))
                continue
            # A curve has a point per level (a few dozen at most): a Python loop beats numpy here.
            path = QPainterPath()
            down = False
            fx, fy = [], []  # the finite points, for the bounds
            for xi, yi in zip(x.tolist(), y.tolist()):
                if math.isfinite(xi) and math.isfinite(yi):
                    (path.lineTo if down else path.moveTo)(xi, yi)
                    down = True
                    fx.append(xi)
                    fy.append(yi)
                else:
                    down = False
            if fx:
                lo_x, hi_x, lo_y, hi_y = min(lo_x, *fx), max(hi_x, *fx), min(lo_y, *fy), max(hi_y, *fy)
            if not path.isEmpty():
                self._paths.append((path, pen))
        self._dots = []
        for x, y, brush in dots:
            x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
            ok = np.isfinite(x) & np.isfinite(y)
            if ok.any():
                x, y = x[ok], y[ok]
                self._dots.append((x, y, brush))
                lo_x, hi_x = min(lo_x, float(x.min())), max(hi_x, float(x.max()))
                lo_y, hi_y = min(lo_y, float(y.min())), max(hi_y, float(y.max()))
        self._dot_size = float(dot_size)
        self._bounds = (lo_x, hi_x, lo_y, hi_y) if lo_x <= hi_x else None
        self.update()

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):
        if self._bounds is None:
            return None, None
        return self._bounds[2 * ax : 2 * ax + 2]

    def viewTransformChanged(self) -> None:
        # the padding for dots and pen widths is in pixels: it changes with the view's scale
        self.prepareGeometryChange()
        super().viewTransformChanged()

    def boundingRect(self) -> QRectF:
        if self._bounds is None:
            return QRectF()
        x0, x1, y0, y1 = self._bounds
        px, py = self.pixelVectors()
        pad = self._dot_size / 2 + 4  # half a dot, and a thick pen
        try:
            dx = 0.0 if px is None else px.length() * pad
            dy = 0.0 if py is None else py.length() * pad
        except OverflowError:
            dx = dy = 0.0
        return QRectF(x0 - dx, y0 - dy, x1 - x0 + 2 * dx, y1 - y0 + 2 * dy)

    def paint(self, p: QPainter, *args) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing, self._smooth and bool(pg.getConfigOption("antialias")))
        p.setBrush(Qt.BrushStyle.NoBrush)
        for path, pen in self._paths:
            p.setPen(pen)
            p.drawPath(path)
        if not self._dots:
            return
        # Dots in device pixels: map the centres, then stamp one pre-drawn dot per point
        # (as pyqtgraph's scatter does: far cheaper than an antialiased ellipse each).
        tr = p.transform()
        p.resetTransform()
        dpr = p.device().devicePixelRatioF() if p.device() is not None else 1.0
        for x, y, brush in self._dots:
            dot = _dot_pixmap(brush.color().rgba(), self._dot_size, dpr)
            half = dot.width() / dpr / 2
            dx = tr.m11() * x + tr.m21() * y + tr.m31() - half
            dy = tr.m12() * x + tr.m22() * y + tr.m32() - half
            for cx, cy in zip(dx.tolist(), dy.tolist()):
                p.drawPixmap(QPointF(cx, cy), dot)
        p.setTransform(tr)


LONG_LINE = 64  # points from which CurveSet builds a line in numpy (the frames of a clip, over time)


def _finite_path(x: np.ndarray, y: np.ndarray, ok: np.ndarray) -> QPainterPath:
    """The polyline through the points where ``ok`` (bool ``[N]``) holds, broken where it does not:
    what CurveSet's loop draws, as one numpy pass (pyqtgraph's arrayToQPath with a connect mask).
    x, y: float64 ``[N]``."""
    xs, ys = x[ok], y[ok]
    # kept point i joins kept point i + 1 when no dropped point lies between them (pyqtgraph's
    # connect array: entry i says whether point i is joined to the next)
    connect = np.zeros(xs.size, dtype=np.int32)
    connect[:-1] = np.diff(np.flatnonzero(ok)) == 1
    return pg.arrayToQPath(xs, ys, connect=connect, finiteCheck=False)


@functools.lru_cache(maxsize=128)
def _dot_pixmap(rgba: int, size: float, dpr: float) -> QPixmap:
    """A filled antialiased circle ``size`` pixels across, centred in a transparent square."""
    n = int(math.ceil(size * dpr)) + 2
    pm = QPixmap(n, n)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor.fromRgba(rgba))
    r = size * dpr / 2
    p.drawEllipse(QPointF(n / 2, n / 2), r, r)
    p.end()
    pm.setDevicePixelRatio(dpr)
    return pm


def runs(xs: list[float]) -> list[tuple[float, float]]:
    """Sorted levels grouped into runs of consecutive whole numbers: [0, 1, 2, 5] -> [(0, 2), (5, 5)]."""
    out: list[tuple[float, float]] = []
    for x in sorted(xs):
        if out and x - out[-1][1] <= 1:
            out[-1] = (out[-1][0], x)
        else:
            out.append((x, x))
    return out


class OverflowMarks:
    """Where a layer's value is inf/NaN (or the layer overflowed): crosses at the top of the
    plot for a few levels, a shaded band over each long run of them (a deep residual stack),
    never over the levels between runs, and one label inside the plot saying which levels."""

    MAX_CROSSES = 12
    MAX_BANDS = 4

    def __init__(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        self.item = pg.ScatterPlotItem(
            symbol="x", size=14, pen=pg.mkPen(theme.NONFINITE_HEX, width=2), brush=pg.mkBrush(theme.NONFINITE_HEX)
        )
        self.item.setZValue(30)
        plot.addItem(self.item, ignoreBounds=True)
        self.bands = []
        for _ in range(self.MAX_BANDS):
            band = pg.LinearRegionItem(
                movable=False, brush=pg.mkBrush(255, 0, 255, 40), pen=pg.mkPen(theme.NONFINITE_HEX, width=1)
            )
            band.setZValue(-5)
            band.hide()
            plot.addItem(band, ignoreBounds=True)
            self.bands.append(band)
        self.label = pg.TextItem(anchor=(0, 0), color=theme.NONFINITE_HEX, fill=pg.mkBrush(255, 255, 255, 215))
        self.label.setZValue(31)
        self.label.hide()
        plot.addItem(self.label, ignoreBounds=True)
        self._count = 0
        self._shown: tuple | None = None
        self._zoom = 1.0

    @property
    def band(self):
        """The first band (the one a single run uses)."""
        return self.bands[0]

    def set_zoom(self, zoom: float) -> None:
        self._zoom = zoom
        self.label.setFont(theme.font(zoom, 0.9))
        self.item.setSize(14 * zoom)

    def set(self, xs: list[float], y_top: float | None) -> None:
        self._count = len(xs) if y_top is not None else 0
        shown = (tuple(xs), y_top if xs else None, tuple(self.plot.viewRange()[0]))
        if shown == self._shown:  # the usual case while a slider moves: nothing to redo
            return
        self._shown = shown
        for band in self.bands:
            band.hide()
        if not xs or y_top is None:
            self.item.setData([], [])
            self.label.hide()
            return
        if len(xs) <= self.MAX_CROSSES:
            self.item.setData(xs, [y_top] * len(xs))
            self.label.hide()
            return
        self.item.setData([], [])
        groups = runs(xs)
        if len(groups) > self.MAX_BANDS:  # scattered: crosses say it best
            self.item.setData(xs, [y_top] * len(xs))
        else:
            for band, (lo, hi) in zip(self.bands, groups):
                band.setRegion((lo - 0.5, hi + 0.5))
                band.show()
        where = ", ".join(f"{lo:g}–{hi:g}" if hi > lo else f"{lo:g}" for lo, hi in groups[: self.MAX_BANDS])
        more = "…" if len(groups) > self.MAX_BANDS else ""
        self.label.setText(f"inf/NaN at l = {where}{more}")
        # Inside the plot: from the left edge of the widest run, or ending at its right edge
        # when that run lies in the right half of the view.
        (x0, x1), _ = self.plot.viewRange()
        lo, hi = max(groups, key=lambda g: g[1] - g[0])
        if (lo + hi) / 2 > (x0 + x1) / 2:
            self.label.setAnchor((1, 0))
            self.label.setPos(min(hi + 0.5, x1), y_top)
        else:
            self.label.setAnchor((0, 0))
            self.label.setPos(max(lo - 0.5, x0), y_top)
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


def legend_html(n_scales: int, extra: str = "", local: str = "") -> str:
    """The key to the per-scale curves, for a word-wrapping QLabel; ``local`` names the dotted
    per-position theory line (left out when empty)."""
    colors = theme.scale_colors(n_scales)
    sw = " ".join(f"<span style='color:{c.name()}'>■</span>{s}" for s, c in enumerate(colors))

    def key(text: str) -> str:  # a symbol and its words never wrap apart
        return text.replace(" ", "&nbsp;")

    dotted = f"{key(f'┈ theory{local}')} &nbsp; " if local else ""
    return (
        f"{key('scale s:')} {sw} &nbsp; {key('━ measured')} &nbsp; {key(f'╍ theory{extra}')} &nbsp; {dotted}"
        f"<span style='color:{theme.NONFINITE_HEX}'>✕</span>&nbsp;inf/NaN"
    )
