"""The main window: controls -> Settings -> worker -> Result -> views.

The window owns the current :class:`Settings`, :class:`ViewState` and source image. Controls
and keyboard actions only produce a new Settings (:meth:`MainWindow.request`); the worker
computes off the GUI thread; views draw the latest Result and never reach back into core.
"""

from __future__ import annotations

import math
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QGuiApplication, QImage, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTextBrowser,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from ..core.result import Result
from ..errors import InputError, SettingsError
from ..io.images import as_rgb, fit_to_size, load_image, supported_extensions, supported_formats_text
from ..io.video import VIDEO_EXTENSIONS, first_frame, is_video
from ..paths import PRESETS, SAMPLE_IMAGE
from ..settings import ACTIVATIONS, CHANNELS_MAX, KERNEL_MAX, RESIDUAL_DEPTH_MAX, SIZE_MAX, SIZE_MIN, Settings
from ..view_state import NORMALISATION_LABELS, NORMALISATIONS, SEQUENTIAL_MAPS, ViewState
from . import theme
from .controls import NOISE_SIZES, SIZES, ControlsPanel, resolved_init
from .cost_view import CostView
from .curves import CurvesView
from .grid_view import FeatureGridView
from .init_lab import InitLabView
from .inspector import LayerInspector
from .source_panel import SourcePanel
from .store import MAX_RECENT, StateStore
from .worker import ComputeWorker

MODES = (
    ("pyramid", "Pyramid · Problem 3", "Ctrl+1"),
    ("init", "Init lab · Problems 4, 5", "Ctrl+2"),
    ("cost", "Cost · Problem 1", "Ctrl+3"),
)
PAGE = {"pyramid": 0, "init": 1, "cost": 2}
QUARTER_DECADE = 10**0.25


@dataclass(frozen=True)
class Source:
    """Where the image came from: a file (re-read when the size changes) or pixels (pasted)."""

    name: str
    path: str | None = None
    rgb: np.ndarray | None = None  # float32 [H, W, 3] in [0, 1], for sources without a file

    def fit(self, size: int) -> tuple[np.ndarray, str]:
        """The image fitted to ``size``: float32 ``[size, size, 3]``, and what was done, in words."""
        if self.path is not None and is_video(self.path):
            # Playback in the window comes with a later version; until then a video opens on its first frame.
            return first_frame(self.path, size)
        if self.path is not None:
            frame, info = load_image(self.path, size)
        else:
            frame, info = fit_to_size(self.rgb, size)
        return frame, info.describe()


def qimage_to_rgb(image: QImage) -> np.ndarray:
    """A QImage (any format) -> float32 ``[H, W, 3]`` in [0, 1], alpha composited on white."""
    img = image.convertToFormat(QImage.Format.Format_RGBA8888)
    w, h, bpl = img.width(), img.height(), img.bytesPerLine()
    if w < 1 or h < 1:
        raise InputError("clipboard: the picture is empty")
    buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=h * bpl).reshape(h, bpl)
    return as_rgb(buf[:, : 4 * w].reshape(h, w, 4).copy(), "clipboard")


def for_window(settings: Settings) -> Settings:
    """``residual`` (the CLI's --residual: compute the residual stack) is the init lab here, which
    computes that stack and the single unit; the window keeps one switch for it, the mode."""
    if settings.residual:
        return settings.replace(mode="init", residual=False)
    return settings


def preset_files() -> list[Path]:
    """The bundled lecture presets: Settings JSON files (the format of ``cnnviz --settings``)."""
    return sorted(PRESETS.glob("*.json")) if PRESETS.is_dir() else []


def preset_label(path: Path) -> str:
    """``03_huge_init_overflows.json`` -> ``Huge init overflows``."""
    words = path.stem.split("_")
    if words and words[0].isdigit():
        words = words[1:]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _cycle(options, current, step: int):
    options = list(options)
    i = options.index(current) if current in options else 0
    return options[(i + step) % len(options)]


def _step_in(options, current, step: int):
    """The neighbour of ``current`` in the sorted ``options``, clamped at the ends."""
    options = sorted(options)
    if step > 0:
        return next((o for o in options if o > current), options[-1])
    return next((o for o in reversed(options) if o < current), options[0])


class MainWindow(QMainWindow):
    result_drawn = Signal(int, object)  # generation, Result: emitted after a Result is on screen

    def __init__(
        self,
        settings: Settings | None = None,
        view: ViewState | None = None,
        *,
        store: StateStore | None = None,
        file: str | None = None,
        restore_layout: bool = True,
    ) -> None:
        super().__init__()
        self.setWindowTitle("cnnviz — inside a scale-shared CNN")
        self.setAcceptDrops(True)
        self.store = store
        self.settings = for_window(settings or Settings())
        self.view = view or ViewState()
        self.source: Source | None = None
        self.frame: np.ndarray | None = None
        self.frame_description = ""
        self.result: Result | None = None
        self.results: dict[str, Result] = {}  # the latest drawn result of each mode
        self.recent: list[str] = store.recent_files() if store else []
        self.last_error: str | None = None
        self.timings: dict[str, float] = {}
        self._drawn_gen = 0
        self._pending: tuple[int, Result] | None = None
        self._submitted_at: dict[int, float] = {}
        self._closed = False
        self._error_box: QMessageBox | None = None
        self._shortcuts: QDialog | None = None

        self.worker = ComputeWorker(parent=self)
        self.worker.result_ready.connect(self._on_result)
        self.worker.failed.connect(self._on_failed)
        self.worker.busy_changed.connect(self._on_busy)
        # Bound methods of this window (never lambdas): PySide6 then delivers the worker's
        # signals on the GUI thread, where this window lives.
        self.worker.devices_ready.connect(self._on_devices)
        self.worker.start()  # torch loads on the worker thread while the window is built

        self._build_views()
        self._build_docks()
        self._build_actions()
        self._build_status()
        self._default_layout = {"window_state": self.saveState(), "split_pyramid": self.split.saveState()}
        self.resize(1600, 900)
        if store is not None and restore_layout:
            self._restore_layout()
        self._apply_view_state(self.view, redraw=False)
        self._load_initial(file)
        self._update_mode_page()
        self._submit()

    # == construction ========================================================================
    def _build_views(self) -> None:
        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.setTextFormat(Qt.TextFormat.RichText)
        self.banner.setStyleSheet(
            f"QLabel#banner {{ background: {theme.WARN_BG}; color: {theme.WARN_FG}; "
            "padding: 6px; border-bottom: 2px solid #e0b000; }"
        )
        self.banner.hide()

        self.grid = FeatureGridView()
        self.curves = CurvesView()
        self.grid.cell_clicked.connect(self._open_inspector)
        self.grid.selection_changed.connect(self.curves.set_selected)
        self.grid.cell_clicked.connect(self.curves.set_selected)
        self.display_bar = self._build_display_bar()
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.setSpacing(2)
        lv.addWidget(self.display_bar)
        lv.addWidget(self.grid, 1)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(left)
        self.split.addWidget(self.curves)
        self.split.setStretchFactor(0, 6)
        self.split.setStretchFactor(1, 5)
        self.split.setSizes([700, 580])
        self.split.setChildrenCollapsible(False)

        self.init_lab = InitLabView()
        self.cost_view = CostView()
        self.stack = QStackedWidget()
        for page in (self.split, self.init_lab, self.cost_view):
            self.stack.addWidget(page)
        central = QWidget()
        cv = QVBoxLayout(central)
        cv.setContentsMargins(4, 2, 4, 2)
        cv.setSpacing(2)
        cv.addWidget(self.banner)
        cv.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.inspector: LayerInspector | None = None

    def _build_display_bar(self) -> QWidget:
        bar = QWidget()
        h = QHBoxLayout(bar)
        h.setContentsMargins(2, 0, 2, 0)
        self.cmap_box = QComboBox()
        for name in SEQUENTIAL_MAPS:
            self.cmap_box.addItem(name, name)
        self.cmap_box.setToolTip(
            "Colour map for one-signed layers (ReLU, sigmoid); signed layers use a diverging map centred at 0  [C]"
        )
        self.norm_box = QComboBox()
        for n in NORMALISATIONS:
            self.norm_box.addItem(NORMALISATION_LABELS[n], n)
        self.norm_box.setToolTip("Colour range per map, shared by all scales of a level, or global  [L]")
        self.mosaic_box = QCheckBox("mosaic")
        self.mosaic_box.setToolTip("Show every channel as a mosaic, or one channel  [M]")
        self.channel_box = QSpinBox()
        self.channel_box.setPrefix("channel ")
        self.channel_box.setMinimumWidth(self.channel_box.sizeHint().width())
        self.channel_box.setToolTip("The channel shown in every cell  [. next, , previous]")
        for w in (self.cmap_box, self.norm_box, self.mosaic_box, self.channel_box):
            h.addWidget(w)
        for c in (self.cmap_box, self.norm_box):
            c.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        h.addStretch(1)
        bar.setToolTip("Hover a map for values, click it to inspect, scroll to zoom, drag to pan")
        self.cmap_box.currentIndexChanged.connect(
            lambda _i: self.set_view_state(self.view.replace(colormap=self.cmap_box.currentData()))
        )
        self.norm_box.currentIndexChanged.connect(
            lambda _i: self.set_view_state(self.view.replace(normalisation=self.norm_box.currentData()))
        )
        self.mosaic_box.toggled.connect(lambda on: self.set_view_state(self.view.replace(mosaic=bool(on))))
        self.channel_box.valueChanged.connect(lambda c: self.set_view_state(self.view.replace(channel=int(c))))
        return bar

    def _build_docks(self) -> None:
        self.source_panel = SourcePanel()
        self.source_dock = QDockWidget("Source image", self)
        self.source_dock.setObjectName("source_dock")
        self.source_dock.setWidget(self.source_panel)
        self.controls = ControlsPanel(self.settings)
        self.controls.settings_requested.connect(self.request)
        self.controls.error.connect(lambda msg: self.statusBar().showMessage(msg, 8000))
        self.controls.reroll.clicked.connect(self.reroll)
        scroll = QScrollArea()
        scroll.setWidget(self.controls)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.controls_dock = QDockWidget("Controls", self)
        self.controls_dock.setObjectName("controls_dock")
        self.controls_dock.setWidget(scroll)
        for dock in (self.source_dock, self.controls_dock):
            dock.setFeatures(
                QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            )
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.source_dock)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.controls_dock)
        self.splitDockWidget(self.source_dock, self.controls_dock, Qt.Orientation.Vertical)
        self.resizeDocks([self.source_dock, self.controls_dock], [330, 330], Qt.Orientation.Horizontal)
        self.resizeDocks([self.source_dock, self.controls_dock], [300, 600], Qt.Orientation.Vertical)

    def _action(
        self, text: str, keys: str | list[str] | None, slot, menu=None, checkable: bool = False, tip: str | None = None
    ) -> QAction:
        act = QAction(text, self)
        if keys:
            seqs = [QKeySequence(k) for k in ([keys] if isinstance(keys, str) else keys)]
            act.setShortcuts(seqs)
        act.setCheckable(checkable)
        if tip:
            act.setToolTip(tip)
        act.triggered.connect(slot)
        self.addAction(act)  # shortcuts work with the menu bar hidden (full screen) too
        if menu is not None:
            menu.addAction(act)
        return act

    def _build_actions(self) -> None:
        mb = self.menuBar()
        # Menu titles carry no '&' mnemonics: Alt+letter belongs to the controls.
        m_file = mb.addMenu("File")
        self.act_open = self._action("Open image…", "Ctrl+O", self.open_dialog, m_file)
        self.recent_menu = m_file.addMenu("Open recent")
        self.act_paste = self._action("Paste image", "Ctrl+V", self.paste, m_file)
        m_file.addSeparator()
        self.presets_menu = m_file.addMenu("Lecture presets")
        for path in preset_files():
            act = self.presets_menu.addAction(preset_label(path))
            act.triggered.connect(lambda _=False, p=path: self.load_settings(p))
        self.presets_menu.setEnabled(bool(self.presets_menu.actions()))
        self._action("Load settings…", None, self.load_settings_dialog, m_file)
        m_file.addSeparator()
        self._action("Quit", "Ctrl+Q", self.close, m_file)

        m_view = mb.addMenu("View")
        self.mode_group = QActionGroup(self)
        self.mode_actions: dict[str, QAction] = {}
        for mode, label, keys in MODES:
            act = self._action(
                label, keys, lambda _=False, m=mode: self.request(self.settings.replace(mode=m)), m_view, checkable=True
            )
            self.mode_group.addAction(act)
            self.mode_actions[mode] = act
        m_view.addSeparator()
        self._action("Zoom in (fonts, lines)", ["Ctrl+=", "Ctrl++"], lambda: self.zoom(+1), m_view)
        self._action("Zoom out", "Ctrl+-", lambda: self.zoom(-1), m_view)
        self._action("Normal size", "Ctrl+0", lambda: self.set_view_state(self.view.replace(zoom=1.0)), m_view)
        self.act_fullscreen = self._action("Full screen", "F11", self.toggle_full_screen, m_view, checkable=True)
        self.act_panels = self._action(
            "Side panels (source, controls)", "F9", self.toggle_side_panels, m_view, checkable=True
        )
        self.act_panels.setChecked(True)
        m_view.addSeparator()
        self._action(
            "Next colour map",
            "C",
            lambda: self.set_view_state(self.view.replace(colormap=_cycle(SEQUENTIAL_MAPS, self.view.colormap, 1))),
            m_view,
        )
        self._action(
            "Colour normalisation: map / level / global",
            "L",
            lambda: self.set_view_state(
                self.view.replace(normalisation=_cycle(NORMALISATIONS, self.view.normalisation, 1))
            ),
            m_view,
        )
        self._action(
            "Mosaic of all channels on/off",
            "M",
            lambda: self.set_view_state(self.view.replace(mosaic=not self.view.mosaic)),
            m_view,
        )
        self._action("Next channel", ".", lambda: self._step_channel(+1), m_view)
        self._action("Previous channel", ",", lambda: self._step_channel(-1), m_view)
        m_view.addSeparator()
        self._action("Reset to defaults", "Ctrl+Shift+R", self.reset_to_defaults, m_view)

        m_net = mb.addMenu("Network")
        self._action("Raise init variance (¼ decade)", "V", lambda: self._nudge_init(QUARTER_DECADE), m_net)
        self._action("Lower init variance (¼ decade)", "Shift+V", lambda: self._nudge_init(1 / QUARTER_DECADE), m_net)
        self._action("Init variance ×10", "Alt+=", lambda: self._nudge_init(10.0), m_net)
        self._action("Init variance ×0.1", "Alt+-", lambda: self._nudge_init(0.1), m_net)
        self._action("Init rule 1/fan-in", "Alt+1", lambda: self._set_init("lecun"), m_net)
        self._action("Init rule 2/fan-in", "Alt+2", lambda: self._set_init("he"), m_net)
        self._action("Init rule ln2/(L·D²·J)", "Alt+3", lambda: self._set_init("residual"), m_net)
        m_net.addSeparator()
        self._action("Deeper (L + 1)", "D", lambda: self._step_depth(+1), m_net)
        self._action("Shallower (L − 1)", "Shift+D", lambda: self._step_depth(-1), m_net)
        self._action("Next activation", "A", lambda: self._step_activation(+1), m_net)
        self._action("Previous activation", "Shift+A", lambda: self._step_activation(-1), m_net)
        self._action("More channels (J × 2)", "J", lambda: self._step_channels(2.0), m_net)
        self._action("Fewer channels (J ÷ 2)", "Shift+J", lambda: self._step_channels(0.5), m_net)
        self._action("Larger kernel (D + 2)", "K", lambda: self._step_kernel(+2), m_net)
        self._action("Smaller kernel (D − 2)", "Shift+K", lambda: self._step_kernel(-2), m_net)
        self._action("Larger input (size × 2)", "N", lambda: self._step_size(+1), m_net)
        self._action("Smaller input (size ÷ 2)", "Shift+N", lambda: self._step_size(-1), m_net)
        self._action(
            "Weights shared across scales on/off",
            "S",
            lambda: self.request(self.settings.replace(shared=not self.settings.shared)),
            m_net,
        )
        self._action(
            "Residual stack input: noise / image",
            "T",
            lambda: self.request(
                self.settings.replace(residual_input=_cycle(("noise", "image"), self.settings.residual_input, 1))
            ),
            m_net,
        )
        self.act_reroll = self._action(
            "Re-roll weights", "E", self.reroll, m_net, tip="Draw new weights: a new random seed  [E]"
        )
        self._action("Next device", "Ctrl+D", self._step_device, m_net)
        m_net.addSeparator()
        self._action("Unit: raise init variance", "Alt+V", lambda: self._nudge_init(QUARTER_DECADE, "unit_init"), m_net)
        self._action(
            "Unit: lower init variance", "Alt+Shift+V", lambda: self._nudge_init(1 / QUARTER_DECADE, "unit_init"), m_net
        )
        self._action("Unit: more inputs (d × 10)", "Alt+D", lambda: self._step_unit_dim(10), m_net)
        self._action("Unit: fewer inputs (d ÷ 10)", "Alt+Shift+D", lambda: self._step_unit_dim(0.1), m_net)
        self._action("Unit: next activation", "Alt+A", lambda: self._step_activation(+1, "unit_activation"), m_net)
        self._action(
            "Unit: previous activation", "Alt+Shift+A", lambda: self._step_activation(-1, "unit_activation"), m_net
        )

        m_help = mb.addMenu("Help")
        self._action("Keyboard shortcuts", "F1", self.show_shortcuts, m_help)
        self._action("About cnnviz", None, self._about, m_help)

        tb = QToolBar("Main")
        tb.setObjectName("main_toolbar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        tb.setStyleSheet(
            "QToolButton { padding: 3px 8px; } "
            "QToolButton:checked { background: #31688e; color: white; border-radius: 3px; }"
        )
        tb.addAction(self.act_open)
        tb.addAction(self.act_paste)
        tb.addSeparator()
        for mode, _, _ in MODES:
            tb.addAction(self.mode_actions[mode])
        tb.addSeparator()
        tb.addAction(self.act_reroll)
        tb.addSeparator()
        for text, step in (("A−", -1), ("A+", +1)):
            act = QAction(text, self)
            act.setToolTip("Smaller / larger fonts and lines for a lecture hall  [Ctrl+- / Ctrl++]")
            act.triggered.connect(lambda _=False, st=step: self.zoom(st))
            tb.addAction(act)
        tb.addAction(self.act_fullscreen)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
        self.toolbar = tb
        self._rebuild_recent_menu()

    def _build_status(self) -> None:
        sb = self.statusBar()
        self.status_device = QLabel("device: –")
        self.status_compute = QLabel("compute: – ms")
        self.status_draw = QLabel("draw: – ms")
        self.status_busy = QLabel("")
        for w in (self.status_busy, self.status_device, self.status_compute, self.status_draw):
            sb.addPermanentWidget(w)

    # == state ===============================================================================
    def request(self, settings: Settings) -> None:
        """The one way to change what is computed: show ``settings`` and queue its computation."""
        settings = for_window(settings)
        if settings == self.settings:
            return
        old = self.settings
        if settings.size != old.size and self.source is not None:
            try:
                self.frame, self.frame_description = self.source.fit(settings.size)
            except InputError as err:
                self.show_error("Cannot resize the image", str(err))
                self.controls.set_settings(old)
                return
            self.source_panel.set_frame(self.frame, self.source.name, self.frame_description)
        self.settings = settings
        self.controls.set_settings(settings)
        if settings.mode != old.mode:
            self._update_mode_page()
        elif settings.residual_input != old.residual_input:
            self._update_source_note()
        self._submit()

    def set_view_state(self, view: ViewState) -> None:
        if view != self.view:
            self._apply_view_state(view)

    def _apply_view_state(self, view: ViewState, redraw: bool = True) -> None:
        zoom_changed = view.zoom != self.view.zoom or not redraw
        self.view = view
        for box, value in ((self.cmap_box, view.colormap), (self.norm_box, view.normalisation)):
            box.blockSignals(True)
            box.setCurrentIndex(max(0, box.findData(value)))
            box.blockSignals(False)
        self.mosaic_box.blockSignals(True)
        self.mosaic_box.setChecked(view.mosaic)
        self.mosaic_box.blockSignals(False)
        self.channel_box.blockSignals(True)
        self.channel_box.setRange(0, max(0, self.settings.channels - 1))
        self.channel_box.setValue(min(view.channel, self.settings.channels - 1))
        self.channel_box.setEnabled(not view.mosaic)
        self.channel_box.blockSignals(False)
        if zoom_changed:
            z = view.zoom
            self.setFont(theme.font(z))
            self.menuBar().setFont(theme.font(z))
            # The controls dock is as wide as its contents need at this zoom: never clipped.
            self.controls.adjustSize()
            scroll = self.controls_dock.widget()
            need = self.controls.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 6
            self.controls_dock.setMinimumWidth(need)
            self.source_dock.setMinimumWidth(need)
            for v in (self.grid, self.curves, self.init_lab, self.cost_view, self.source_panel):
                v.set_zoom(z)
            if self.inspector is not None:
                self.inspector.set_zoom(z)
        if redraw:
            self.grid.set_view_state(view)

    def _submit(self) -> None:
        gen = self.worker.submit(self.settings, self.frame, self.frame_description_for_engine())
        self._submitted_at[gen] = time.perf_counter()

    def frame_description_for_engine(self) -> str:
        if self.source is None:
            return ""
        return f"{self.source.name}, {self.frame_description}"

    def _update_mode_page(self) -> None:
        mode = self.settings.mode
        self.stack.setCurrentIndex(PAGE[mode])
        self.mode_actions[mode].setChecked(True)
        self.display_bar.setVisible(mode == "pyramid")
        self._update_source_note()
        done = self.results.get(mode)
        if done is not None:
            self._show_warnings(done)

    def _update_source_note(self) -> None:
        s = self.settings
        unused = s.mode == "init" and s.residual_input == "noise"
        self.source_panel.set_note(
            "not used now: the residual stack runs on noise (input L₀ in the controls)" if unused else ""
        )

    # == results =============================================================================
    @property
    def drawn_generation(self) -> int:
        """The newest request whose result is on screen (or whose failure is shown)."""
        return self._drawn_gen

    def _on_result(self, generation: int, result: Result) -> None:
        if self._closed or self.worker.is_stale(generation) or generation <= self._drawn_gen:
            return
        # Coalesce: if results arrive faster than we draw, only the newest is drawn.
        first = self._pending is None
        self._pending = (generation, result)
        if first:
            QTimer.singleShot(0, self._draw_pending)

    def _draw_pending(self) -> None:
        if self._pending is None or self._closed:
            return
        generation, result = self._pending
        self._pending = None
        if self.worker.is_stale(generation) or generation <= self._drawn_gen:
            return
        t0 = time.perf_counter()
        self._draw(result)
        draw_ms = (time.perf_counter() - t0) * 1e3
        self._drawn_gen = generation
        self.result = result
        self.results[result.settings.mode] = result
        submitted = self._submitted_at.pop(generation, None)
        for g in [g for g in self._submitted_at if g < generation]:
            self._submitted_at.pop(g, None)
        self.timings = {
            "compute_ms": result.timings.get("total", math.nan),
            "draw_ms": draw_ms,
            "latency_ms": (time.perf_counter() - submitted) * 1e3 if submitted else math.nan,
        }
        self.status_device.setText(f"device: {result.device}")
        self.status_compute.setText(f"compute: {self.timings['compute_ms']:.0f} ms")
        self.status_draw.setText(f"draw: {draw_ms:.0f} ms")
        self.result_drawn.emit(generation, result)

    def _draw(self, result: Result) -> None:
        if result.pyramid is not None:
            self.grid.set_result(result, self.view)
            self.curves.set_result(result)
            self.source_panel.set_pyramid(result.pyramid.pyramid)
            if self.inspector is not None and self.inspector.isVisible():
                self.inspector.set_result(result)
            self.channel_box.setRange(0, max(0, result.settings.channels - 1))
        if result.residual is not None or result.unit is not None:
            self.init_lab.set_result(result)
        if result.costs and result.settings.mode == "cost":
            self.cost_view.set_result(result)
        if result.settings.mode == self.settings.mode:
            self._show_warnings(result)

    def _show_warnings(self, result: Result) -> None:
        if result.warnings:
            lines = "<br>".join(f"⚠ {w}" for w in result.warnings)
            self.banner.setText(lines)
            self.banner.show()
        else:
            self.banner.hide()

    def _on_failed(self, generation: int, message: str) -> None:
        if self._closed or self.worker.is_stale(generation):
            return
        self._drawn_gen = max(self._drawn_gen, generation)
        self.banner.setText(f"⚠ cannot compute: {message}")
        self.banner.show()
        self.statusBar().showMessage(message, 10000)
        self.result_drawn.emit(generation, None)

    def _on_devices(self, infos) -> None:
        self.controls.set_devices(infos)

    def _on_busy(self, busy: bool) -> None:
        self.status_busy.setText("computing…" if busy else "")

    # == sources =============================================================================
    def _load_initial(self, file: str | None) -> None:
        candidates = []
        if file:
            candidates.append((file, True))
        elif self.store is not None and self.store.last_file():
            candidates.append((self.store.last_file(), False))
        candidates.append((str(SAMPLE_IMAGE), True))
        for path, loud in candidates:
            try:
                self._set_source(Source(Path(path).name, path=str(path)))
                return
            except InputError as err:
                if loud:
                    QTimer.singleShot(0, lambda e=str(err): self.show_error("Cannot open image", e))
        # no image at all: the init lab on noise still works

    def _set_source(self, source: Source) -> None:
        """Fit ``source`` to the current size (raises InputError, changing nothing) and use it."""
        frame, description = source.fit(self.settings.size)
        self.source, self.frame, self.frame_description = source, frame, description
        self.source_panel.set_frame(frame, source.name, description)

    def open_file(self, path: str) -> bool:
        """Use the image at ``path``; on failure show one line and keep the previous image."""
        try:
            self._set_source(Source(Path(path).name, path=str(path)))
        except InputError as err:
            self.show_error("Cannot open image", str(err))
            return False
        self._remember(str(path))
        self._submit()
        return True

    def open_dialog(self) -> None:
        exts = " ".join(f"*{e}" for e in (*supported_extensions(), *sorted(VIDEO_EXTENSIONS)))
        start = str(Path(self.source.path).parent) if self.source and self.source.path else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Open image", start, f"Images and videos ({exts});;All files (*)")
        if path:
            self.open_file(path)

    def load_settings(self, path: str | Path) -> bool:
        """Every setting from a JSON file (a preset or a saved session); one line if it is bad."""
        try:
            settings = Settings.load(path)
        except SettingsError as err:
            self.show_error("Cannot load settings", str(err))
            return False
        self.request(settings)
        self.statusBar().showMessage(f"settings from {Path(path).name}", 5000)
        return True

    def load_settings_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load settings", str(PRESETS), "Settings (*.json)")
        if path:
            self.load_settings(path)

    def paste(self) -> None:
        mime = QGuiApplication.clipboard().mimeData()
        try:
            if mime is not None and mime.hasImage():
                rgb = qimage_to_rgb(QImage(mime.imageData()))
                self._set_source(Source("pasted image", rgb=rgb))
                self._submit()
                return
            if mime is not None and mime.hasUrls():
                local = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
                if local:
                    self.open_file(local[0])
                    return
            if mime is not None and mime.hasText() and os.path.isfile(mime.text().strip()):
                self.open_file(mime.text().strip())
                return
        except InputError as err:
            self.show_error("Cannot paste image", str(err))
            return
        self.show_error("Cannot paste image", f"the clipboard holds no picture (accepted: {supported_formats_text()})")

    def _remember(self, path: str) -> None:
        path = str(Path(path).resolve())
        self.recent = [path] + [p for p in self.recent if p != path]
        self.recent = self.recent[:MAX_RECENT]
        self._rebuild_recent_menu()

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        for p in self.recent:
            act = self.recent_menu.addAction(p)
            act.triggered.connect(lambda _=False, path=p: self.open_file(path))
        self.recent_menu.setEnabled(bool(self.recent))

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        mime = event.mimeData()
        local = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()] if mime.hasUrls() else []
        if local:
            self.open_file(local[0])
        elif mime.hasImage():
            try:
                self._set_source(Source("dropped image", rgb=qimage_to_rgb(QImage(mime.imageData()))))
                self._submit()
            except InputError as err:
                self.show_error("Cannot open image", str(err))
        event.acceptProposedAction()

    def show_error(self, title: str, text: str) -> None:
        """One line in a message box that does not block the window (it stays live behind it)."""
        self.last_error = text
        if self._error_box is not None:
            self._error_box.close()
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.open()
        self._error_box = box

    # == keyboard helpers ======================================================================
    def _init_target(self) -> str:
        return "residual_init" if self.settings.mode == "init" else "init"

    def _try(self, **changes) -> None:
        try:
            self.request(self.settings.replace(**changes))
        except SettingsError as err:
            self.statusBar().showMessage(str(err), 8000)

    def _nudge_init(self, factor: float, target: str | None = None) -> None:
        target = target or self._init_target()
        value = resolved_init(self.settings, target)
        value = value * factor if value > 0 else 1e-6
        self._try(**{target: float(f"{value:.3g}")})

    def _set_init(self, rule: str) -> None:
        self._try(**{self._init_target(): rule})

    def _step_depth(self, step: int) -> None:
        if self.settings.mode == "init":
            d = min(max(self.settings.residual_depth + step, 1), RESIDUAL_DEPTH_MAX)
            self._try(residual_depth=d)
        else:
            self._try(depth=min(max(self.settings.depth + step, 1), self.settings.k))

    def _step_activation(self, step: int, field: str | None = None) -> None:
        field = field or ("residual_activation" if self.settings.mode == "init" else "activation")
        self._try(**{field: _cycle(ACTIVATIONS, getattr(self.settings, field), step)})

    def _step_channels(self, factor: float) -> None:
        self._try(channels=int(min(max(round(self.settings.channels * factor), 1), CHANNELS_MAX)))

    def _step_kernel(self, step: int) -> None:
        self._try(kernel=min(max(self.settings.kernel + step, 1), KERNEL_MAX))

    def _step_size(self, step: int) -> None:
        if self.settings.mode == "init" and self.settings.residual_input == "noise":
            self._try(noise_size=_step_in(NOISE_SIZES, self.settings.noise_size, step))
            return
        size = _step_in(SIZES, self.settings.size, step)
        size = min(max(size, SIZE_MIN), SIZE_MAX)
        self._try(size=size, depth=min(self.settings.depth, int(math.log2(size))))

    def _step_unit_dim(self, factor: float) -> None:
        self._try(unit_dim=int(min(max(round(self.settings.unit_dim * factor), 1), 100_000)))

    def _step_device(self) -> None:
        names = [self.controls.device.itemData(i) for i in range(self.controls.device.count())]
        self._try(device=_cycle(names, self.settings.device, 1))

    def _step_channel(self, step: int) -> None:
        c = (self.view.channel + step) % max(1, self.settings.channels)
        self.set_view_state(self.view.replace(channel=c, mosaic=False))

    def reroll(self) -> None:
        seed = random.Random(self.settings.seed * 7919 + time.time_ns()).randrange(1_000_000)
        self._try(seed=seed)

    def zoom(self, step: int) -> None:
        z = theme.zoom_in(self.view.zoom) if step > 0 else theme.zoom_out(self.view.zoom)
        self.set_view_state(self.view.replace(zoom=z))

    def toggle_full_screen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()

    def toggle_side_panels(self) -> None:
        """Hide or show the source and controls docks: the whole screen for the plots on stage."""
        show = not (self.source_dock.isVisible() or self.controls_dock.isVisible())
        self.source_dock.setVisible(show)
        self.controls_dock.setVisible(show)
        self.act_panels.setChecked(show)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.WindowStateChange:
            self.act_fullscreen.setChecked(self.isFullScreen())
            self.menuBar().setVisible(not self.isFullScreen())
        super().changeEvent(event)

    def reset_to_defaults(self) -> None:
        """Every setting, the view state and the layout back to a first launch's (the image stays)."""
        self.restoreState(self._default_layout["window_state"])
        self.split.restoreState(self._default_layout["split_pyramid"])
        self._apply_view_state(ViewState())
        self.request(Settings())

    def _open_inspector(self, level: int, scale: int) -> None:
        if self.result is None or self.result.pyramid is None:
            return
        if self.inspector is None:
            self.inspector = LayerInspector(self)
            self.inspector.set_zoom(self.view.zoom)
        self.inspector.show_layer(self.result, level, scale, self.view)
        self.inspector.show()
        if QGuiApplication.platformName() != "offscreen":  # nothing to raise above there
            self.inspector.raise_()

    def show_shortcuts(self) -> None:
        rows = []
        for act in self.actions():
            keys = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in act.shortcuts())
            if keys:
                rows.append(f"<tr><td><b>{keys}</b></td><td>&nbsp;&nbsp;{act.text()}</td></tr>")
        if self._shortcuts is None:
            self._shortcuts = QDialog(self)
            self._shortcuts.setWindowTitle("Keyboard shortcuts")
            text = QTextBrowser(self._shortcuts)
            QVBoxLayout(self._shortcuts).addWidget(text)
            self._shortcuts.resize(560, 640)
        browser = self._shortcuts.findChild(QTextBrowser)
        browser.setHtml(
            "<p>Every control has a key. Letters change the view in front of you: in the init lab "
            "V, D, A and N act on the residual stack.</p><table>" + "".join(rows) + "</table>"
        )
        self._shortcuts.setFont(theme.font(self.view.zoom))
        self._shortcuts.show()

    def _about(self) -> None:
        QMessageBox.about(
            self,
            "About cnnviz",
            "cnnviz: see inside a scale-shared CNN — feature maps, activation "
            "variance and gradient magnitude, live, beside the theory.",
        )

    # == layout persistence ====================================================================
    def _restore_layout(self) -> None:
        geo = self.store.bytes("geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        state = self.store.bytes("window_state")
        if state is not None:
            self.restoreState(state)
        split = self.store.bytes("split_pyramid")
        if split is not None:
            self.split.restoreState(split)

    def save_state(self) -> None:
        if self.store is None:
            return
        last = self.source.path if self.source is not None and self.source.path else None
        if last is not None and Path(last).resolve() == SAMPLE_IMAGE.resolve():
            last = None
        self.store.save(
            settings=self.settings,
            view=self.view,
            last_file=last,
            recent=self.recent,
            layout={
                "geometry": self.saveGeometry(),
                "window_state": self.saveState(),
                "split_pyramid": self.split.saveState(),
            },
        )

    def shutdown(self) -> None:
        """Stop the worker; safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        self.worker.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._closed:
            self.save_state()
        self.shutdown()
        if self.inspector is not None:
            self.inspector.close()
        super().closeEvent(event)
