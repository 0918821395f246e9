"""The window's widgets and where they sit: the central stack of mode pages, the docks, the status bar.

Mixed into :class:`~cnnviz.gui.main_window.MainWindow`; it builds and places widgets and wires
their signals to the window's routing methods, and holds no state of its own.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QLabel, QScrollArea, QSplitter, QStackedWidget, QVBoxLayout, QWidget

from . import theme
from .controls import ControlsPanel
from .cost_view import CostView
from .curves import CurvesView
from .display_bar import DisplayBar
from .grid_view import FeatureGridView
from .init_lab import InitLabView
from .inspector import LayerInspector
from .pacing import TextPacer
from .source_panel import SourcePanel
from .steady import SteadyLabel
from .video_view import VideoNetView
from .window_api import MixinBase

PAGE = {"pyramid": 0, "init": 1, "cost": 2, "video-net": 3}  # the mode's page in the central stack


class LayoutMixin(MixinBase):
    """Builds the views (``grid``, ``curves``, ``init_lab``, ``cost_view``), docks and status bar."""

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
        self.grid.streaming = lambda: self.streaming or self.pacer.dragging  # numbers paced (grid_view.py)
        self.curves = CurvesView()
        self.grid.cell_clicked.connect(self._open_inspector)
        self.grid.selection_changed.connect(self.curves.set_selected)
        self.grid.cell_clicked.connect(self.curves.set_selected)
        self.grid.selection_changed.connect(self._on_cell_selected)
        self.grid.cell_clicked.connect(self._on_cell_selected)
        self.display_bar = DisplayBar(self.view)
        self.display_bar.view_requested.connect(self.set_view_state)
        self.display_bar.note.connect(self.say)
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
        self.video_view = VideoNetView(self.settings)  # Problem 2 (gui/video_view.py)
        self.video_view.settings_requested.connect(self.request)
        self.video_view.error.connect(self.say)
        self.video_view.view_requested.connect(self.set_view_state)
        self.stack = QStackedWidget()
        for page in (self.split, self.init_lab, self.cost_view, self.video_view):
            self.stack.addWidget(page)
        central = QWidget()
        cv = QVBoxLayout(central)
        cv.setContentsMargins(4, 2, 4, 2)
        cv.setSpacing(2)
        cv.addWidget(self.banner)
        cv.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.inspector: LayerInspector | None = None

    def _build_docks(self) -> None:
        self.source_panel = SourcePanel()
        self.source_dock = QDockWidget("Source image", self)
        self.source_dock.setObjectName("source_dock")
        self.source_dock.setWidget(self.source_panel)
        self.controls = ControlsPanel(self.settings)
        self.controls.settings_requested.connect(self.request)
        self.controls.error.connect(self.say)
        self.controls.reroll.clicked.connect(lambda: self.commands.by_name["reroll"].trigger())
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

    def _build_status(self) -> None:
        sb = self.statusBar()
        # Texts that change with every result: fixed-size labels, so a new text repaints the label
        # and does not lay out the window again (gui/steady.py).
        self.status_device = SteadyLabel("device: –")
        self.status_compute = SteadyLabel("compute: – ms")
        self.status_draw = SteadyLabel("draw: – ms")
        self.status_busy = SteadyLabel("computing…")
        self.status_busy.setText("")  # room kept for "computing…", which comes and goes with every result
        for w in (self.status_busy, self.status_device, self.status_compute, self.status_draw):
            sb.addPermanentWidget(w)
        # while frames stream, these texts and the source's caption change ten times a second (gui/pacing.py)
        self.texts = TextPacer(self, lambda: self.streaming or self.pacer.dragging)
        self.source_panel.texts = self.texts

    def _show_timings(self, device: str, timings: dict[str, float]) -> None:
        self.status_device.setText(f"device: {device}")
        self.status_compute.setText(f"compute: {timings['compute_ms']:.0f} ms")
        self.status_draw.setText(f"draw: {timings['draw_ms']:.0f} ms")
