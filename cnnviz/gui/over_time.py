"""The "Over time" dock: each layer's variance and gradient RMS against the frame index.

Filled in as the clip plays (one point per drawn frame), or for every frame at once by the
whole-clip pass (:class:`ClipPass`, a thread of its own, with a progress bar and Cancel).
In the pyramid mode a level's curve is L_{l,0} (the full-resolution scale); in the video-net
mode it is the layer L_l over the window ending at the frame. A change of the network (any
setting but the view) starts the curves afresh: they would mix two networks otherwise.
"""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QThread, QTimer, Signal
from PySide6.QtWidgets import (
    QDockWidget,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..errors import CnnvizError
from . import theme
from .plots import CurveSet, plain_plot, style_plot

if TYPE_CHECKING:
    from .playback import Playback

CURSOR_INTERVAL_MS = 100  # the cursor's pace while a clip plays
_FIELDS = (("var", "Var(L<sub>l</sub>)"), ("grad_rms", "grad RMS"))


def level_series(result) -> dict[str, np.ndarray] | None:
    """{field: float64 [L + 1]} of a Result: the video network's layers, or the pyramid's scale 0."""
    if result is None:
        return None
    if result.video is not None:
        layers = [layer.stats for layer in result.video.layers]
    elif result.pyramid is not None:
        layers = sorted((st for st in result.pyramid.layers if st.scale == 0), key=lambda st: st.level)
    else:
        return None
    return {name: np.array([getattr(st, name) for st in layers], dtype=np.float64) for name, _ in _FIELDS}


def _network_key(settings) -> tuple:
    d = settings.to_dict()
    d.pop("device", None)
    return tuple(sorted(d.items(), key=lambda kv: kv[0]))


def _style(plot: pg.PlotItem, zoom: float, ylabel: str) -> None:
    """Compact: no title (the dock is short), the statistic on the y axis, frames on x."""
    style_plot(plot, zoom, "", "", ylabel, log_y=True)
    plot.setTitle(None)
    plot.getAxis("bottom").setHeight(int(18 * zoom) + 6)


class ClipPass(QThread):
    """Statistics of every frame of a clip, off the GUI thread; stops between frames on cancel."""

    progress = Signal(int, int, object)  # frames done, total, (frame index, {field: [L + 1]})
    done = Signal(str)  # "" when complete, else why it stopped

    def __init__(self, path: str, settings, count: int) -> None:
        super().__init__()
        self.path, self.settings, self.count = path, settings, count
        self.cancel = threading.Event()

    def run(self) -> None:
        from ..core.video_stats import iter_frame_stats, iter_video_net_stats, window_targets
        from ..io.video import VideoReader
        from .worker import SIDE_THREAD  # the window's runs are serial (see gui/worker.py)

        s = self.settings
        try:
            with VideoReader(self.path, size=s.size, threads=1) as reader:
                if s.mode == "video-net":  # reads its frames on this thread
                    targets = window_targets(self.count, s.video_window, every=1)
                    it = iter_video_net_stats(
                        reader, s, targets, s.video_stride, s.video_kernel_t, s.video_window, self.cancel.is_set
                    )
                else:
                    # One frame per call, each call run to its end: iter_frame_stats decodes on a
                    # thread of its own, and a cancel must never leave that thread inside FFmpeg
                    # while this one closes the reader (a crash, seen when Cancel was pressed).
                    targets = list(range(self.count))
                    it = (
                        fs
                        for i in targets
                        for fs in list(iter_frame_stats(reader, s, [i], self.cancel.is_set, side_thread=SIDE_THREAD))
                    )
                for done, fs in enumerate(it, start=1):
                    if self.cancel.is_set():
                        break
                    layers = sorted((st for st in fs.layers if st.scale == 0), key=lambda st: st.level)
                    row = {n: np.array([getattr(st, n) for st in layers], dtype=np.float64) for n, _ in _FIELDS}
                    self.progress.emit(done, len(targets), (fs.index, row))
                problem = "cancelled" if self.cancel.is_set() else (reader.problem or "")
            self.done.emit(problem)
        except CnnvizError as err:
            self.done.emit(str(err))
        except Exception as err:  # the pass is an extra: never take the window down
            if self.cancel.is_set():
                self.done.emit("cancelled")
            else:
                self.done.emit(f"whole-clip pass failed: {type(err).__name__}: {err}")


class OverTimeView(QWidget):
    def __init__(self, playback: Playback, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.playback = playback
        self.rows: dict[int, dict[str, np.ndarray]] = {}
        self._have = np.zeros(0, dtype=bool)  # frames with a row (see _store)
        self._table: dict[str, np.ndarray] = {name: np.zeros((0, 0)) for name, _ in _FIELDS}
        self._key: tuple | None = None
        self._key_of = None  # the Settings whose network key _key is
        self._shown: dict[str, tuple] = {}  # per plot: (x range, y range, ticks) as set
        self._legend_html = ""
        self._smooth = True  # the curves were last drawn antialiased (not while playing)
        self._drawn: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # per plot: (frames [n], log10 values [n, L + 1])
        self._count = 0
        self._zoom = 1.0
        self._pass: ClipPass | None = None
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(250)
        self._redraw_timer.timeout.connect(self._redraw)
        # While a clip plays the cursor moves ten times a second at most: each move repaints
        # the plots under it (the curves are drawn four times a second, from the same frames).
        self._cursor_index: int | None = None
        self._cursor_timer = QTimer(self)
        self._cursor_timer.setSingleShot(True)
        self._cursor_timer.setInterval(CURSOR_INTERVAL_MS)
        self._cursor_timer.timeout.connect(self._move_cursor)
        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setBackground("w")
        self.plot: dict[str, pg.PlotItem] = {}
        self.cursors: dict[str, pg.InfiniteLine] = {}
        for col, (name, title) in enumerate(_FIELDS):
            p = plain_plot(self.plots, row=0, col=col)
            _style(p, 1.0, title)
            p.setMouseEnabled(x=False, y=False)
            line = pg.InfiniteLine(angle=90, pen=pg.mkPen(theme.SELECT_HEX, width=1.5))
            p.addItem(line)
            self.plot[name], self.cursors[name] = p, line
        self.curves: dict[str, CurveSet] = {}
        for name, _ in _FIELDS:  # every level's curve in one item: a redraw costs about one paint
            self.curves[name] = CurveSet()
            # Kept as a pixmap between data redraws: the moving cursor repaints a strip of the
            # plot, which is then a copy of pixels, not every level's curve stroked again.
            self.curves[name].setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            self.plot[name].addItem(self.curves[name])
        self.legend = QLabel("")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.run_button = QPushButton("Whole clip")
        self.run_button.setToolTip("Statistics of every frame of the clip (runs beside playback; Cancel stops it)")
        self.run_button.clicked.connect(self.start_pass)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_pass)
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("%v / %m frames")
        self.progress.setMaximumWidth(260)
        self.progress.hide()
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 0, 4, 0)
        bar.addWidget(self.legend, 1)
        bar.addWidget(self.progress)
        bar.addWidget(self.run_button)
        bar.addWidget(self.cancel_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addLayout(bar)
        lay.addWidget(self.plots, 1)

    # -- data ------------------------------------------------------------------------------
    def reset(self, count: int) -> None:
        self.cancel_pass()
        self._count = count
        self._clear()
        self._key = self._key_of = None
        self._redraw()

    def _clear(self) -> None:
        self.rows.clear()
        self._have = np.zeros(0, dtype=bool)
        self._table = {name: np.zeros((0, 0)) for name, _ in _FIELDS}

    def _store(self, index: int, row: dict[str, np.ndarray]) -> None:
        """Keep ``row`` in the tables the redraw reads: ``_table[field]`` float64 ``[frames, L + 1]``
        by frame index (NaN where a level has no value), ``_have`` bool ``[frames]``."""
        n_levels = len(row[_FIELDS[0][0]])
        if self._table[_FIELDS[0][0]].shape[1] != n_levels and self._have.any():
            # another number of levels under the same network key: lay the tables out anew
            rows = dict(self.rows)
            self._clear()
            self.rows.update(rows)
            for i, r in rows.items():
                self._store(i, r)
            return
        if index >= self._have.size or self._table[_FIELDS[0][0]].shape[1] != n_levels:
            size = max(index + 1, self._count, 2 * self._have.size)
            have = np.zeros(size, dtype=bool)
            have[: self._have.size] = self._have
            self._have = have
            for name, _ in _FIELDS:
                old = self._table[name]
                table = np.full((size, n_levels), np.nan)
                if old.shape[1] == n_levels:
                    table[: old.shape[0]] = old
                self._table[name] = table
        self._have[index] = True
        for name, _ in _FIELDS:
            v = row[name]
            self._table[name][index, : len(v)] = v

    def add(self, index: int, settings, row: dict[str, np.ndarray]) -> None:
        if settings is not self._key_of:  # every frame of a clip brings the same Settings
            self._key_of = settings
            key = _network_key(settings)
            if key != self._key:
                if self._pass is not None and self._key is not None:
                    self.cancel_pass()
                self._clear()
                self._key = key
        self.rows[int(index)] = row
        self._store(int(index), row)
        if not self.playback.playing:  # a step, a scrub, the first frame: at once
            self._redraw_timer.stop()
            self._redraw()
        elif not self._redraw_timer.isActive():  # at most four redraws a second while a clip plays
            self._redraw_timer.start()

    def paused(self) -> None:
        """The clip stopped playing: the curves and the cursor as they stand, at once and smooth."""
        if self._redraw_timer.isActive() or not self._smooth:
            self._redraw_timer.stop()
            self._redraw()
        if self._cursor_timer.isActive():
            self._cursor_timer.stop()
            self._move_cursor()

    def set_current(self, index: int) -> None:
        """The cursor on frame ``index``: at once when paused (a step, a scrub), else within
        :data:`CURSOR_INTERVAL_MS` (always landing on the newest frame)."""
        self._cursor_index = int(index)
        if not self.playback.playing:
            self._cursor_timer.stop()
            self._move_cursor()
        elif not self._cursor_timer.isActive():
            self._cursor_timer.start()

    @property
    def cursor_index(self) -> float:
        """The frame index the cursor stands on."""
        return self.cursors[_FIELDS[0][0]].value()

    def _move_cursor(self) -> None:
        if self._cursor_index is None:
            return
        for line in self.cursors.values():
            if line.value() != self._cursor_index:
                line.setValue(self._cursor_index)

    def _redraw(self) -> None:
        """Every level's curve against the frame index, from the tables (numpy: a redraw costs
        about the same for a clip of 100 frames or 10,000)."""
        have = self._have
        # While the clip plays, lines without antialiasing: 14 lines of a few hundred frames
        # 2.5 px wide took ~10 ms antialiased, four times a second; paused() draws them smooth.
        smooth = self._smooth = not self.playback.playing
        frames = np.flatnonzero(have)
        n_levels = self._table[_FIELDS[0][0]].shape[1] if frames.size else 0
        colors = theme.scale_colors(max(n_levels, 1))
        pens = [theme.pen(c, self._zoom) for c in colors]
        x = frames.astype(np.float64)
        for name, _ in _FIELDS:
            plot = self.plot[name]
            table = self._table[name][frames]
            with np.errstate(divide="ignore", invalid="ignore"):
                logs = np.where(np.isfinite(table) & (table > 0), np.log10(table), np.nan)  # view coords: log10
            lines = [(x, logs[:, level], pens[level]) for level in range(n_levels)]
            few = len(frames) <= 12  # dots while stepping; lines alone once the clip plays
            dots = [(x, logs[:, level], pg.mkBrush(colors[level])) for level in range(n_levels)] if few else []
            self.curves[name].set_data(lines, dots, 6 * self._zoom, smooth=smooth)
            self._drawn[name] = (x, logs)
            x_range = (0, max(1, self._count - 1))
            y_range = ticks = None
            if np.isfinite(logs).any():
                lo, hi = float(np.nanmin(logs)), float(np.nanmax(logs))
                e0, e1 = math.floor(lo), math.ceil(hi) + (math.ceil(hi) == math.floor(lo))
                y_range = (e0, e1)
                step = max(1, (e1 - e0 + 2) // 3)  # a short plot: two or three labelled decades
                ticks = [[(e, theme.fmt(10.0**e)) for e in range(e0, e1 + 1, step)], []]
            elif not n_levels:  # no numbers on an empty axis
                ticks = [[], []]
            # Ranges and ticks are set only when they change: each setting re-lays out the axis
            # (its tick text), which while a clip plays is the same four times a second.
            shown = self._shown.get(name, (None, None, None))
            if x_range != shown[0]:
                plot.setXRange(*x_range, padding=0.02)
            if y_range is not None and y_range != shown[1]:
                plot.setYRange(*y_range, padding=0.02)
            if ticks is not None and ticks != shown[2]:
                plot.getAxis("left").setTicks(ticks)
            self._shown[name] = (x_range, y_range or shown[1], ticks or shown[2])
        spans = "".join(
            f"<span style='color:{c.name()}'>&#9644; L{level}</span>&nbsp; " for level, c in enumerate(colors)
        )
        hint = "frame index →&nbsp;&nbsp; "
        html = hint + (spans if n_levels else "<i>play the clip, or run the whole clip</i>")
        if html != self._legend_html:
            self._legend_html = html
            self.legend.setText(html)

    def drawn(self, name: str, level: int) -> tuple[np.ndarray, np.ndarray]:
        """(frame indices, values) of level ``level``'s curve of ``name`` ("var", "grad_rms") as
        last drawn: float64 ``[n]`` each, the frames whose value the log axis shows."""
        x, logs = self._drawn.get(name, (np.array([]), np.zeros((0, 0))))
        if level >= logs.shape[1]:
            return np.array([]), np.array([])
        ok = np.isfinite(logs[:, level])
        return x[ok], 10.0 ** logs[ok, level]

    # -- the whole-clip pass ---------------------------------------------------------------------------
    def start_pass(self) -> None:
        pb = self.playback
        if not pb.active or self._pass is not None or pb.source is None or pb.source.path is None:
            return
        settings = pb.window.settings
        if settings.mode not in ("pyramid", "video-net"):
            settings = settings.replace(mode="pyramid")
        self._pass = ClipPass(pb.source.path, settings, pb.count)
        self._pass_settings = settings
        self._pass.progress.connect(self._on_progress)
        self._pass.done.connect(self._on_done)
        self.progress.setRange(0, pb.count)
        self.progress.setValue(0)
        self.progress.show()
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self._pass.start()

    def cancel_pass(self) -> None:
        p = self._pass
        if p is None:
            return
        p.cancel.set()
        p.wait(10000)
        self._finish()

    def _on_progress(self, done: int, total: int, item) -> None:
        if self._pass is None:
            return
        index, row = item
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.add(index, self._pass_settings, row)

    def _on_done(self, message: str) -> None:
        if self._pass is None:
            return
        self._pass.wait(5000)
        self._finish()
        text = "whole-clip statistics: done" if not message else f"whole-clip statistics: {message}"
        self.playback.window.say(text, 8000)

    def _finish(self) -> None:
        self._pass = None
        self.progress.hide()
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def set_zoom(self, zoom: float) -> None:
        self._zoom = zoom
        for name, title in _FIELDS:
            _style(self.plot[name], zoom, title)
        self._shown.clear()  # styling sets the axes anew: ranges and ticks are set again
        self._redraw()


SHOW_FROM_HEIGHT = 800  # window height (px) from which the dock opens with a clip


class OverTimeDock(QDockWidget):
    """The over-time view in a dock under the plots, shown while a clip is open."""

    def __init__(self, playback: Playback, window) -> None:
        super().__init__("Over time (per frame)", window)
        self._window = window
        self.setObjectName("over_time_dock")
        self.view = OverTimeView(playback)
        self.setWidget(self.view)
        self.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self)
        toggle = self.toggleViewAction()  # closed with its X, it comes back from the Video menu
        toggle.setText("Over-time view")
        window.commands.menus["Video"].addAction(toggle)
        self.hide()
        self._sized = False

    def start_clip(self, count: int) -> None:
        self.view.reset(count)
        self.toggleViewAction().setEnabled(True)
        QTimer.singleShot(0, self._show_if_room)  # once the window has its size (a screenshot sets it after)

    def _show_if_room(self) -> None:
        if not self.toggleViewAction().isEnabled() or self._window.height() < SHOW_FROM_HEIGHT:
            return  # a small screen keeps its height for the clip and the grid (Video > Over-time view)
        self.show()
        if not self._sized:  # short: the maps and curves above keep most of the height
            self._sized = True
            QTimer.singleShot(0, lambda: self._window.resizeDocks([self], [170], Qt.Orientation.Vertical))
        self.view.set_current(0)

    def end_clip(self) -> None:
        self.view.cancel_pass()
        self.hide()
        self.toggleViewAction().setEnabled(False)  # nothing to show without a clip

    def set_current(self, index: int) -> None:
        self.view.set_current(index)

    def add_result(self, index: int, result) -> None:
        row = level_series(result)
        if row is not None:
            self.view.add(index, result.settings, row)

    def set_zoom(self, zoom: float) -> None:
        self.view.set_zoom(zoom)
