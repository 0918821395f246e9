"""The fourth mode, "Video CNN · Problem 2": each layer of the video network at the current time.

Left, one column per layer L_l: the map at the newest time step (one channel, the view's
channel; L_0 is the frame itself) and under it the x-t strip, the middle row of the layer at
each of its T_l time steps (oldest at the top), so motion shows as slanted lines. Right, the
variance and gradient RMS of each layer against l, measured (solid) and the mean-field theory
(dashed, :func:`cnnviz.core.theory.video_net_mean_field`), and Problem 2's cost per layer
(B X Y T dX dY dT I J multiplies). Top, the network's controls: depth, stride, kernel in space
and in time, window T and the init variance. The view draws a Result; it never computes.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRect, QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QImage, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.result import Result
from ..errors import SettingsError
from ..settings import KERNEL_MAX, VIDEO_KERNEL_T_MAX, VIDEO_STRIDE_MAX, VIDEO_WINDOW_MAX, Settings
from ..view_state import ViewState
from . import theme
from .plots import plain_plot, style_plot
from .wrap_row import WrapRow

MEASURED = "#31688e"  # as the exported figures: blue measured, orange theory
THEORY = "#d95f02"
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _sub(n: int) -> str:
    return str(n).translate(_SUB)


class LayerColumns(QWidget):
    """L_0 .. L_L side by side (wrapping to two rows when narrow): map now, x-t strip under it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._cols: list[tuple[str, QImage, QImage, str]] = []
        self._zoom = 1.0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 200)

    def sizeHint(self) -> QSize:
        return QSize(720, 520)

    def set_columns(self, cols: list[tuple[str, QImage, QImage, str]]) -> None:
        self._cols = cols
        self.update()

    def set_zoom(self, zoom: float) -> None:
        self._zoom = zoom
        self.update()

    def _grid(self) -> tuple[int, int, int, int]:
        """(columns, rows, cell side, strip height) that fit the widget."""
        n = max(len(self._cols), 1)
        text_h, title_h = self._text_heights()
        best = (n, 1, 16, 8)
        for rows in (1, 2, 3):
            cols = math.ceil(n / rows)
            w = (self.width() - 8 * (cols - 1)) / cols
            h = (self.height() - 10 * (rows - 1)) / rows - text_h - title_h
            side = int(min(w, h / 1.45))
            if side > best[2]:
                best = (cols, rows, side, int(side * 0.45))
        return best

    def _text_heights(self) -> tuple[int, int]:
        """(two lines under a map, the title above it) in pixels (fonts are sized in pixels)."""
        text = QFontMetrics(theme.font(self._zoom, 0.85)).height()
        title = QFontMetrics(theme.font(self._zoom, 1.0, bold=True)).height()
        return 2 * text + 4, title + 4

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("white"))
        if not self._cols:
            p.setPen(QColor(theme.MUTED))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "computing…")
            p.end()
            return
        cols, _rows, side, strip_h = self._grid()
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        title_font, text_font = theme.font(self._zoom, 1.0, bold=True), theme.font(self._zoom, 0.85)
        text_h, title_h = self._text_heights()
        block_h = title_h + side + 4 + strip_h + text_h
        for i, (title, now, strip, text) in enumerate(self._cols):
            r, c = divmod(i, cols)
            x, y = c * (side + 8), r * (block_h + 10)
            p.setFont(title_font)
            p.setPen(QColor(theme.TEXT))
            p.drawText(QRect(x, y, side, title_h), Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom, title)
            y += title_h
            p.drawImage(QRect(x, y, side, side), now)
            y += side + 4
            p.drawImage(QRect(x, y, side, strip_h), strip)
            p.setPen(QColor(theme.MUTED))
            p.drawRect(QRect(x, y, side - 1, strip_h - 1))
            y += strip_h
            p.setFont(text_font)
            p.drawText(
                QRect(x - 4, y, side + 8, text_h), Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, text
            )
        p.end()


def _rgba_image(rgba: np.ndarray) -> QImage:
    h, w, _ = rgba.shape
    a = np.ascontiguousarray(rgba)
    return QImage(a.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()


def _rgb_image(rgb: np.ndarray) -> QImage:
    a = np.ascontiguousarray(theme.rgb_image(rgb))
    h, w, _ = a.shape
    return QImage(a.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def _colour(data: np.ndarray, table: np.ndarray, signed: bool) -> QImage:
    lo, hi = theme.finite_range(theme.data_range(data), signed)
    return _rgba_image(theme.colorize(data, (lo, hi), table))


class VideoNetView(QWidget):
    """The page of the video-net mode; ``settings_requested`` carries a new Settings."""

    settings_requested = Signal(object)
    view_requested = Signal(object)  # a ViewState (the channel shown)
    error = Signal(str)

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self._result: Result | None = None
        self._view = ViewState()
        self._zoom = 1.0

        def spin(lo: int, hi: int, step: int, tip: str) -> QSpinBox:
            s = QSpinBox()
            s.setRange(lo, hi)
            s.setSingleStep(step)
            s.setToolTip(tip)
            s.setKeyboardTracking(False)
            s.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # keys stay with the window until clicked
            return s

        self.depth_box = spin(1, 11, 1, "Depth L: layers of the video network  [D / Shift+D]")
        self.stride_box = spin(1, VIDEO_STRIDE_MAX, 1, "Stride s, on space and time alike")
        self.kernel_box = spin(1, KERNEL_MAX, 2, "Filter size D in space (odd)  [K / Shift+K]")
        self.kernel_t_box = spin(1, VIDEO_KERNEL_T_MAX, 2, "Filter size Dₜ in time (odd)")
        self.window_box = spin(1, VIDEO_WINDOW_MAX, 1, "Window T: the network sees the last T frames")
        self.channel_box = spin(0, 255, 1, "The channel shown in every layer's map and strip")
        self.channel_box.valueChanged.connect(self._channel)
        self.init_box = QLineEdit()
        self.init_box.setMinimumWidth(self.init_box.fontMetrics().horizontalAdvance("0.000000") + 14)
        self.init_box.setMaximumWidth(120)
        self.init_box.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.init_box.setToolTip("Init variance σ_w² of layers 2..L (layer 1 gets the same gain); Enter to apply")
        self.init_info = QLabel("")
        self.init_info.setTextFormat(Qt.TextFormat.RichText)
        # the network's shape, its init, the channel shown: one row, or two where one would make
        # the window wider than a 1280-pixel screen (after A+ twice)
        groups = [QWidget(), QWidget(), QWidget()]
        shape_row, init_row, channel_row = (QHBoxLayout(g) for g in groups)
        for r in (shape_row, init_row, channel_row):
            r.setContentsMargins(2, 2, 2, 2)
            r.setSpacing(6)
        for label, w in (
            ("L", self.depth_box),
            ("s", self.stride_box),
            ("D", self.kernel_box),
            ("Dₜ", self.kernel_t_box),
            ("T", self.window_box),
            ("σ<sub>w</sub>²", self.init_box),
        ):
            lab = QLabel(label)
            lab.setTextFormat(Qt.TextFormat.RichText)
            target = init_row if w is self.init_box else shape_row
            target.addWidget(lab)
            target.addWidget(w)
        for text, tip, slot in (
            ("×0.1", "σ_w² × 0.1", lambda: self._scale_init(0.1)),
            ("×10", "σ_w² × 10", lambda: self._scale_init(10.0)),
            ("He", "σ_w² = 2/fan-in, fan-in J·D²·Dₜ", lambda: self._request(init="he")),
        ):
            b = QToolButton()
            b.setText(text)
            b.setToolTip(tip)
            b.clicked.connect(slot)
            init_row.addWidget(b)
        init_row.addWidget(self.init_info)
        channel_row.addWidget(QLabel("ch"))
        channel_row.addWidget(self.channel_box)
        for r in (shape_row, init_row):
            r.addStretch(1)  # a group wider than its boxes (two rows share columns) keeps them together
        self.controls_row = WrapRow(groups, split=1, stretch_after=1)
        self.depth_box.valueChanged.connect(lambda v: self._request(depth=int(v)))
        self.stride_box.valueChanged.connect(lambda v: self._request(video_stride=int(v)))
        self.kernel_box.valueChanged.connect(lambda v: self._request(kernel=int(v) | 1))
        self.kernel_t_box.valueChanged.connect(lambda v: self._request(video_kernel_t=int(v) | 1))
        self.window_box.valueChanged.connect(lambda v: self._request(video_window=int(v)))
        self.init_box.editingFinished.connect(self._init_typed)

        self.heading = QLabel("")
        self.heading.setTextFormat(Qt.TextFormat.RichText)
        self.heading.setWordWrap(True)
        self.columns = LayerColumns()

        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setBackground("w")
        self.glw = self.plots  # as every view's plot widget is called (the right-click export finds it)
        self.var_plot = plain_plot(self.plots, row=0, col=0)
        self.grad_plot = plain_plot(self.plots, row=0, col=1)
        self.var_curve = self.var_plot.plot([], [])
        self.grad_curve = self.grad_plot.plot([], [])
        self.var_theory = self.var_plot.plot([], [])  # dashed, the mean field (docs/theory.md)
        self.grad_theory = self.grad_plot.plot([], [])
        for plot in (self.var_plot, self.grad_plot):
            plot.setToolTip("solid: measured · dashed: mean-field theory (docs/theory.md, Problem 2)")
        for plot in (self.var_plot, self.grad_plot):
            plot.setMouseEnabled(x=False, y=False)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["layer", "B×J×T×H×W", "multiplies B·X·Y·T·dX·dY·dT·I·J"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.plots)
        right.addWidget(self.table)
        right.setStretchFactor(0, 1)
        right.setStretchFactor(1, 1)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.heading)
        lv.addWidget(self.columns, 1)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(left)
        self.split.addWidget(right)
        self.split.setStretchFactor(0, 1)
        self.split.setStretchFactor(1, 1)
        self.split.setChildrenCollapsible(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.controls_row)
        lay.addWidget(self.split, 1)
        self.set_zoom(1.0)
        self.set_settings(settings)

    # -- controls -------------------------------------------------------------------------
    def _request(self, **changes) -> None:
        try:
            new = self._settings.replace(**changes)
        except SettingsError as err:
            self.error.emit(str(err))
            self.set_settings(self._settings)
            return
        if new != self._settings:
            self.settings_requested.emit(new)

    def _channel(self, value: int) -> None:
        if value != self._view.channel:
            self.view_requested.emit(self._view.replace(channel=int(value), mosaic=False))

    def _scale_init(self, factor: float) -> None:
        try:
            self.settings_requested.emit(self._settings.scaled_init(factor, "init"))
        except SettingsError as err:
            self.error.emit(str(err))

    def _init_typed(self) -> None:
        try:
            value = float(self.init_box.text())
        except ValueError:
            self.error.emit(f"σ_w² must be a number, not {self.init_box.text()!r}")
            return
        if value != self._settings.init_var("init"):
            self._request(init=value)

    def set_settings(self, s: Settings) -> None:
        self._settings = s
        for w, v, hi in (
            (self.depth_box, s.depth, s.k),
            (self.stride_box, s.video_stride, None),
            (self.kernel_box, s.kernel, None),
            (self.kernel_t_box, s.video_kernel_t, None),
            (self.window_box, s.video_window, None),
        ):
            with QSignalBlocker(w):
                if hi is not None:
                    w.setMaximum(hi)
                w.setValue(v)
        with QSignalBlocker(self.channel_box):
            self.channel_box.setMaximum(s.channels - 1)
        var = s.replace(mode="video-net").init_var("init")
        fan = s.channels * s.kernel**2 * s.video_kernel_t
        if not self.init_box.hasFocus():
            self.init_box.setText(theme.fmt(var, 3))
        rule = f" ({s.init})" if isinstance(s.init, str) else ""
        self.init_info.setText(f"gain <b>{theme.fmt(var * fan)}</b>{rule}")
        self.init_info.setToolTip(f"gain σ_w²·J·D²·Dₜ = {theme.fmt(var * fan)}: 2 keeps a ReLU layer's mean square")

    def set_view_state(self, view: ViewState) -> None:
        self._view = view
        with QSignalBlocker(self.channel_box):
            self.channel_box.setValue(view.channel)
        if self._result is not None:
            self.set_result(self._result)

    # -- drawing ----------------------------------------------------------------------------------
    def set_result(self, result: Result) -> None:
        v = result.video
        if v is None:
            return
        self._result = result
        s = result.settings
        signed = theme.is_signed(s.activation)
        table = theme.lut(theme.DIVERGING_MAP if signed else self._view.colormap)
        cols = []
        for layer in v.layers:
            if layer.level == 0:
                now = _rgb_image(np.moveaxis(layer.now, 0, -1))
                strip = _rgb_image(np.moveaxis(layer.strip, 0, -1))
                title = "L₀  input"
            else:
                ch = min(self._view.channel, layer.now.shape[0] - 1)
                now = _colour(layer.now[ch], table, signed)
                strip = _colour(layer.strip[ch], table, signed)
                title = f"L{_sub(layer.level)}  ch {ch}"
            _b, c, t, h, w = layer.shape
            space = f"{h}²" if h == w else f"{h}×{w}"
            text = f"{c}×{t}×{space}\nVar {theme.fmt(layer.stats.var)}"
            cols.append((title, now, strip, text))
        self.columns.set_columns(cols)
        frames = f"frames {v.frames[0]}–{v.frames[-1]}" if v.frames else f"{v.window} frames"
        still = (
            f"<br><span style='color:{theme.WARN_FG}'>a still image: the clip is {v.window} copies of it, so nothing "
            "moves along the time strips. Open a video (Ctrl+O, or drop one) to see motion.</span>"
            if v.still
            else ""
        )
        self.heading.setText(
            f"<b>Video CNN · Problem 2</b> — {frames}, stride {v.stride}, D {v.kernel}, D<sub>t</sub> {v.kernel_t}, "
            f"{s.activation}. Under each map: its x–t strip (middle row, time ↓).{still}"
        )
        self._draw_curves(v)
        self._draw_table(v)

    def _draw_curves(self, v) -> None:
        x = np.arange(len(v.layers), dtype=np.float64)
        pen = theme.pen(QColor(MEASURED), self._zoom, width=1.5)
        dashed = theme.pen(QColor(THEORY), self._zoom, theory=True, width=1.2)
        for curve, theory, name in (
            (self.var_curve, self.var_theory, "var"),
            (self.grad_curve, self.grad_theory, "grad_rms"),
        ):
            y = v.series(name)
            ok = np.isfinite(y) & (y > 0)
            if ok.any():
                curve.setData(x[ok], y[ok], pen=pen, symbol="o", symbolSize=7, symbolBrush=MEASURED, symbolPen=None)
            else:
                curve.setData([], [])
            t = v.series(f"theory_{name}")
            ok = np.isfinite(t) & (t > 0)
            if ok.any():
                theory.setData(x[ok], t[ok], pen=dashed)
            else:
                theory.setData([], [])
        for plot in (self.var_plot, self.grad_plot):
            plot.setXRange(-0.3, len(v.layers) - 0.7, padding=0)
            plot.getAxis("bottom").setTicks([[(i, str(i)) for i in range(len(v.layers))], []])

    def _draw_table(self, v) -> None:
        self.table.setRowCount(len(v.layers) + 1)
        for r, layer in enumerate(v.layers):
            b, c, t, h, w = layer.shape
            if layer.level == 0:
                mult = "–"
            else:
                mult = f"{layer.formula} = {theme.fmt_int(layer.multiplies)}"
            for col, text in enumerate((f"L{_sub(layer.level)}", f"{b}×{c}×{t}×{h}×{w}", mult)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(r, col, item)
        last = len(v.layers)
        self.table.setItem(last, 0, QTableWidgetItem("total"))
        self.table.setItem(last, 1, QTableWidgetItem(""))
        self.table.setItem(last, 2, QTableWidgetItem(theme.fmt_int(v.total_multiplies)))

    def set_zoom(self, zoom: float) -> None:
        self._zoom = zoom
        style_plot(self.var_plot, zoom, "Variance of L<sub>l</sub>", "layer l", "", log_y=True)
        style_plot(self.grad_plot, zoom, "Gradient RMS ∂E/∂L<sub>l</sub>", "layer l", "", log_y=True)
        f = theme.font(zoom, 0.9)
        self.heading.setFont(f)
        self.table.setFont(f)
        self.columns.set_zoom(zoom)
