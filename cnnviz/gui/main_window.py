"""The main window: it owns the state and routes it; it neither computes nor draws maps.

State: the current :class:`Settings`, :class:`ViewState` and :class:`Source`. Every change
of what is computed goes through :meth:`MainWindow.request` (controls, keys, presets, undo all
produce a new Settings); the worker computes off the GUI thread; the latest Result is routed to
the views, which draw it and never reach back into core. Menus and keys come from the key
table (:mod:`.keys`, :mod:`.actions`), the input from :mod:`.source`.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

import numpy as np
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QMainWindow,
    QMessageBox,
    QScrollArea,
)

from ..core.result import Result
from ..errors import InputError, SettingsError
from ..history import History
from ..paths import SAMPLE_IMAGE
from ..scene import Scene
from ..settings import Settings
from ..view_state import ViewState
from . import export_actions, theme
from .actions import Actions, ContextKeys, shortcuts_dialog
from .camera import LiveCamera
from .compare import Compare
from .inspector import LayerInspector
from .layout import PAGE, LayoutMixin
from .lecture import Lecture
from .long_runs import LongRuns
from .pacing import CalmCollector, DragWatch, Pacer, watch_shown
from .playback import Playback, compute
from .source import Source, SourceMixin
from .store import StateStore
from .undo import watch_sliders
from .worker import ComputeWorker, side_thread_for


def for_window(settings: Settings) -> Settings:
    """``residual`` (the CLI's --residual: compute the residual stack) is the init lab here, which
    computes that stack and the single unit; the window keeps one switch for it, the mode."""
    if settings.residual:
        return settings.replace(mode="init", residual=False)
    return settings


class MainWindow(LayoutMixin, SourceMixin, QMainWindow):
    result_drawn = Signal(int, object)  # generation, Result: emitted after a Result is on screen

    def __init__(
        self,
        settings: Settings | None = None,
        view: ViewState | None = None,
        *,
        store: StateStore | None = None,
        file: str | None = None,
        frame: int | None = None,
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
        self.contexts: set[str] = {"always"}  # key contexts live now (see keys.py)
        self._drawn_gen = 0
        self._pending: tuple[int, Result] | None = None
        self._submitted_at: dict[int, float] = {}
        self._closed = False
        self._error_box: QMessageBox | None = None
        self._shortcuts: QDialog | None = None
        self.pacer = Pacer()  # what is computed and drawn per result while frames stream (gui/pacing.py)

        self.worker = ComputeWorker(run=compute, parent=self)  # engine.run, or the video network
        self.worker.result_ready.connect(self._on_result)
        self.worker.failed.connect(self._on_failed)
        self.worker.busy_changed.connect(self._on_busy)
        # Bound methods of this window (never lambdas): PySide6 then delivers the worker's
        # signals on the GUI thread, where this window lives.
        self.worker.devices_ready.connect(self._on_devices)
        self.worker.start()  # torch loads on the worker thread while the window is built

        self._build_views()
        self._build_docks()
        self.commands = Actions(self)
        self.context_keys = ContextKeys(self)
        self._build_status()
        self.long_runs: LongRuns = LongRuns(self)  # estimate, progress bar, cancel (Esc), refusal (gui/long_runs.py)
        self.history = History()  # undo/redo over settings (gui/undo.py)
        self.lecture: Lecture = Lecture(self)  # decks (gui/lecture.py)
        self.compare: Compare = Compare(self)  # A/B (gui/compare.py)
        watch_sliders(self)
        DragWatch(self)  # a held slider paces the drawing like a playing clip (gui/pacing.py)
        CalmCollector(self)  # no full garbage collection of the libraries mid-drag (gui/pacing.py)
        watch_shown(self.curves, self._on_curves_shown)
        export_actions.install(self)  # right-click a plot or the grid: export or copy it
        self.playback = Playback(self)  # a clip's controls, decoding and over-time dock (gui/playback.py)
        self.camera = LiveCamera(self, self.commands.camera_menu)  # File > Camera, the live view (gui/camera.py)
        self.commands.rebuild_recent(self.recent)
        self._default_layout = {"window_state": self.saveState(), "split_pyramid": self.split.saveState()}
        self.resize(1600, 900)
        if store is not None and restore_layout:
            self._restore_layout()
        self._apply_view_state(self.view, redraw=False)
        self._load_initial(file, frame)
        self._update_mode_page()
        self._submit()

    # -- handy names for the actions the tests and features reach ---------------------------------
    @property
    def mode_actions(self):
        return {m: self.commands.by_name[f"mode_{m}"] for m in PAGE}

    @property
    def act_fullscreen(self):
        return self.commands.by_name["full_screen"]

    @property
    def presets_menu(self):
        return self.commands.presets_menu

    @property
    def mosaic_box(self):
        return self.display_bar.mosaic_box

    # == state ===============================================================================
    def say(self, message: str, ms: int = 8000) -> None:
        """One line in the status bar: why a key did nothing, what was loaded."""
        self.statusBar().showMessage(message, ms)

    def change(self, rule: Callable[[Settings], Settings]) -> bool:
        """Apply a Settings rule (a key's step); a refusal is said in the status bar, nothing changes."""
        try:
            settings = rule(self.settings)
        except SettingsError as err:
            self.say(str(err))
            return False
        self.request(settings)
        return True

    def change_view(self, rule: Callable[[ViewState], ViewState]) -> None:
        try:
            self.set_view_state(rule(self.view))
        except SettingsError as err:
            self.say(str(err))

    def request(self, settings: Settings) -> None:
        """The one way to change what is computed: show ``settings`` and queue its computation."""
        settings = for_window(settings)
        if settings == self.settings:
            return
        if not self.long_runs.admit(settings):  # would not fit in memory: said, nothing changes
            self.controls.set_settings(self.settings)
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
        self.history.record(old, settings, now=time.monotonic())
        self.settings = settings
        self.controls.set_settings(settings)
        self.video_view.set_settings(settings)
        if settings.mode != old.mode:
            self._update_mode_page()
        elif settings.residual_input != old.residual_input:
            self._update_source_note()
        self._submit()

    def scene(self) -> Scene:
        """What is on screen now, as a scene (for saving, stamps and decks)."""
        ref = self.source.ref(self.frame) if self.source is not None else None
        view = self.view.replace(selected=self.grid.selected) if self.settings.mode == "pyramid" else self.view
        return Scene(settings=self.settings, view=view, source=ref)

    def set_view_state(self, view: ViewState) -> None:
        if view != self.view:
            self._apply_view_state(view)

    def _apply_view_state(self, view: ViewState, redraw: bool = True) -> None:
        zoom_changed = view.zoom != self.view.zoom or not redraw
        self.view = view
        self.display_bar.show_view(view, self.settings.channels)
        if zoom_changed:
            z = view.zoom
            self.setFont(theme.font(z))
            self.menuBar().setFont(theme.font(z))
            self.commands.set_zoom(z)
            self.controls.set_zoom(z)
            # The controls dock is as wide as its contents need at this zoom: never clipped.
            self.controls.adjustSize()
            scroll = cast(QScrollArea, self.controls_dock.widget())  # layout.py puts the controls in one
            need = self.controls.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 6
            self.controls_dock.setMinimumWidth(need)
            self.source_dock.setMinimumWidth(need)
            for v in (self.grid, self.curves, self.init_lab, self.cost_view, self.source_panel):
                v.set_zoom(z)
            if self.inspector is not None:
                self.inspector.set_zoom(z)
            self.video_view.set_zoom(z)
            self.playback.set_zoom(z)
        if redraw:
            self.grid.set_view_state(view)
            self.video_view.set_view_state(view)
        self.compare.view_changed(view, zoom_changed)

    @property
    def streaming(self) -> bool:
        """A clip plays or the camera is live: results come many times a second (see gui/pacing.py)."""
        return self.playback.playing or (self.camera.active and not self.camera.frozen)

    def equivariance_shown(self) -> bool:
        """The equivariance panel (in the curves) is on the window's page: the engine computes it."""
        return self.settings.mode == "pyramid" and self.curves.isVisibleTo(self)

    def streaming_stopped(self) -> None:
        """Playback paused or the camera frozen or stopped: the result on screen is made whole
        (the curves drawn, the equivariance computed) by asking for it again if it is not."""
        if not (self.streaming or self.pacer.dragging) and (
            self.pacer.stale or self.pacer.incomplete(self.result, self.equivariance_shown())
        ):
            self._submit()

    def _on_curves_shown(self) -> None:
        if self.pacer.incomplete(self.result, self.equivariance_shown()):
            QTimer.singleShot(0, self._submit)

    def _submit(self, cancel_running: bool = True) -> int | None:
        # the frame, or the video network's last T frames (of the clip, or of the live camera)
        data = self.camera.compute_input() if self.camera.active else self.playback.compute_input()
        if data is None and self.playback.active and self.settings.mode == "video-net":
            return None  # the decoder is fetching the frames; it submits them when they arrive
        # Only the selected cell's histogram is computed (the engine's interactive profile);
        # picking another cell asks again (see _on_cell_selected).
        selected = self.grid.selected if self.settings.mode == "pyramid" else None
        gen = self.worker.submit(
            self.settings,
            data,
            self.frame_description_for_engine(),
            selected=selected,
            profile=self.pacer.profile(self.streaming, self.equivariance_shown()),
            cancel_running=cancel_running,
            side_thread=side_thread_for(self.streaming or self.pacer.dragging),
        )
        self._submitted_at[gen] = time.perf_counter()
        self.long_runs.submitted(gen, self.settings)
        return gen

    def _on_cell_selected(self, level: int, scale: int) -> None:
        """A newly selected cell needs its histogram: the same request again, with that cell."""
        if self.grid.selected != (level, scale):
            self.grid.set_selected(level, scale)  # emits selection_changed: we come back here
            if self.grid.selected == (level, scale):
                return
        pyr = self.result.pyramid if self.result is not None else None
        if pyr is None or pyr.layer(level, scale).hist_counts.size == 0:
            self._submit()

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
        self.texts.later("timings", functools.partial(self._show_timings, result.device, self.timings))
        self.result_drawn.emit(generation, result)

    def _draw(self, result: Result) -> None:
        if result.pyramid is not None:
            self.grid.set_result(result, self.view)
            eq_shown = self.equivariance_shown()
            if self.pacer.draw_secondary(result, self.streaming, eq_shown):  # while streaming: 10 a second
                self.curves.set_result(result)
                self.source_panel.set_pyramid(result.pyramid.pyramid)
                if self.inspector is not None and self.inspector.isVisible():
                    self.inspector.set_result(result)
            self.display_bar.show_view(self.view, result.settings.channels, theme.is_signed(result.settings.activation))
            sel = self.grid.selected  # the grid picks another cell when the old one is gone (depth, size)
            if sel is not None and result.pyramid.layer(*sel).hist_counts.size == 0:
                QTimer.singleShot(0, self._submit)
            elif not (self.streaming or self.pacer.dragging) and self.pacer.incomplete(result, eq_shown):
                QTimer.singleShot(0, self._submit)  # a frame computed while playing: now its equivariance
        if result.residual is not None or result.unit is not None:
            self.init_lab.set_result(result)
        if result.costs and result.settings.mode == "cost":
            self.cost_view.set_result(result)
        if result.video is not None:
            self.video_view.set_result(result)
        if result.settings.mode == self.settings.mode:
            self._show_warnings(result)

    def _show_warnings(self, result: Result) -> None:
        if result.warnings:
            self.banner.setText("<br>".join(f"⚠ {w}" for w in result.warnings))
            self.banner.show()
        else:
            self.banner.hide()

    def _on_failed(self, generation: int, message: str) -> None:
        if self._closed or self.worker.is_stale(generation):
            return
        self._drawn_gen = max(self._drawn_gen, generation)
        self.banner.setText(f"⚠ cannot compute: {message}")
        self.banner.show()
        self.say(message, 10000)
        self.result_drawn.emit(generation, None)

    def _on_devices(self, infos) -> None:
        self.controls.set_devices(infos)

    def _on_busy(self, busy: bool) -> None:
        self.texts.later("busy", functools.partial(self.status_busy.setText, "computing…" if busy else ""))

    def show_error(self, title: str, text: str) -> None:
        """One line in a message box that does not block the window (it stays live behind it)."""
        self.last_error = text
        if self._error_box is not None:
            self._error_box.close()
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.open()
        self._error_box = box

    # == window chrome =========================================================================
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
        self.commands.by_name["side_panels"].setChecked(show)

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
        self._shortcuts = shortcuts_dialog(self, self._shortcuts, self.commands.shortcuts_html(), self.view.zoom)

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            "About cnnviz",
            "cnnviz: see inside a scale-shared CNN — feature maps, activation "
            "variance and gradient magnitude, live, beside the theory.",
        )

    # == layout persistence ====================================================================
    def _restore_layout(self) -> None:
        assert self.store is not None
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
        self.playback.close()
        self.camera.close()
        self.worker.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._closed:
            self.save_state()
        self.shutdown()
        if self.inspector is not None:
            self.inspector.close()
        super().closeEvent(event)
