"""A live camera in the window: File > Camera, the live view, freeze, fps and latency in the status bar.

:class:`LiveCamera` is the Qt side of :mod:`cnnviz.io.camera`. The capture thread keeps only
the newest frame and the source's converting thread turns it into the fitted RGB square, so
the GUI thread only hands frames on (it never converts). This controller sends frames without
cancelling anything, up to :data:`PIPELINE` in flight; every frame the camera sent meanwhile is
dropped, never queued. So the view runs at the camera's rate when computing keeps up, and
otherwise at the computing rate with the freshest picture.

One frame in flight (the next sent when the previous result arrives, before it is drawn) is
the default. Playback's two (:mod:`.playback`: one computing, one queued) is here too
(``PIPELINE = 2``), with the queued frame kept fresh: a newer frame that arrives while it still
waits in the worker's queue takes its place there (the worker drops the old one unseen). It did
not pay for a camera: latency counts from capture, the queued frame still waits a compute time,
and a worker never idle slows the drawing it shares two cores with. Interleaved on a shared
2-core host (scripts/bench_camera.py --camera-pipeline), capture -> pixels medians over 8 runs
each were 38 ms with one in flight and 62 ms with two, at the same frames drawn per second.

- File > Camera lists the cameras each time it opens (one plugged in later shows up), the live
  one ticked, "Stop camera" below; with none, one disabled "no camera found" item (its tip says
  why) and nothing else changes.
- F (in the ``video`` key context, live while the camera is) freezes the current frame: the
  controls stay live and recompute on it; F again goes back to the live picture.
- The status bar shows the rate of results drawn, the camera's own rate, the latency from
  capture (the instant the capture thread received the frame) to the result drawn (median of
  the last frames), and the dropped count.
- A camera that is busy or cannot be opened: one message box, nothing changes. One that
  disappears or stops mid-stream: one line in the status bar (kept in the camera's status
  field); the last good frame stays and the controls keep working on it.
"""

from __future__ import annotations

import math
import time
from collections import deque
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMenu

from ..errors import InputError
from ..io import camera as cam_io
from ..io.camera import CameraFrame, CameraInfo, CameraSource
from .pacing import achieved_fps
from .source import Source
from .steady import SteadyLabel

if TYPE_CHECKING:
    from .main_window import MainWindow

# Frames in flight while live: 1, the next frame sent when the previous result has come back;
# 2, one computing and one queued behind it, kept fresh (see the module docstring: it measured worse).
PIPELINE = 1
LATENCY_FRAMES = 15  # the latency shown is the median over this many drawn frames


class _Bridge(QObject):
    """Carries the capture thread's "a frame arrived" (index, or -1 on failure) to the GUI thread."""

    arrived = Signal(int)


class LiveCamera(QObject):
    """The window's camera, when one is live."""

    def __init__(self, window: MainWindow, menu: QMenu | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.source: CameraSource | None = None
        self.camera: CameraInfo | None = None
        self.frozen = False
        self.problem = ""
        self.opener = cam_io.open_camera  # tests hand it any PyAV input (a paced clip)
        self.last_index = -1
        self.frames_drawn = 0
        self.last_captured = math.nan  # capture instant (perf_counter) of the frame drawn last
        self._inflight: list[int] = []  # generations of the frames sent whose results have not come
        self._captured: dict[int, float] = {}  # generation -> capture instant
        self._panel: dict[int, tuple[np.ndarray, str]] = {}  # generation -> frame, description
        self._latency: deque[float] = deque(maxlen=LATENCY_FRAMES)
        self._drawn_at: deque[float] = deque(maxlen=240)
        self._clip: deque[tuple[int, np.ndarray]] = deque(maxlen=64)  # the video network's window
        self._bridge = _Bridge(self)
        self._bridge.arrived.connect(self._on_arrived, Qt.ConnectionType.QueuedConnection)
        self._watch = QTimer(self)  # a result that never comes (cancelled, failed) must not stall the view
        self._watch.setInterval(250)
        self._watch.timeout.connect(self._watchdog)
        self.status = SteadyLabel("")  # a new text every frame: fixed size, no relayout
        self.status.setObjectName("camera_status")
        window.statusBar().addPermanentWidget(self.status)
        window.worker.result_ready.connect(self._on_result)
        window.worker.failed.connect(self._on_result)
        window.result_drawn.connect(self._on_drawn)
        self.menu = menu
        if menu is not None:  # listed when it opens, not at start-up (macOS's listing takes a moment)
            menu.aboutToShow.connect(self.rebuild_menu)
            menu.addAction("looking for cameras…").setEnabled(False)

    @property
    def active(self) -> bool:
        return self.source is not None

    # -- File > Camera --------------------------------------------------------------------
    def rebuild_menu(self) -> None:
        """The cameras there are now, the live one ticked; "no camera found" when there are none."""
        menu = self.menu
        if menu is None:
            return
        menu.clear()
        probe = cam_io.probe_cameras()
        if not probe.cameras:
            act = menu.addAction("no camera found")
            act.setEnabled(False)
            if probe.reason:
                act.setToolTip(probe.reason)
                act.setStatusTip(probe.reason)
            menu.setToolTipsVisible(True)
        for info in probe.cameras:
            act = menu.addAction(info.label())
            act.setCheckable(True)
            act.setChecked(self.camera is not None and self.camera.device == info.device and self.active)
            act.triggered.connect(lambda _=False, c=info: self.open(c))
        if self.active:
            menu.addSeparator()
            menu.addAction("Stop camera").triggered.connect(self.stop)

    # -- open / close ---------------------------------------------------------------------
    def open(self, camera: CameraInfo) -> bool:
        """Go live on ``camera``; on failure one message box and nothing changes."""
        w = self.window
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            source = self.opener(camera, fit=w.settings.size, on_frame=self._bridge.arrived.emit)
        except InputError as err:
            w.show_error("Cannot open camera", str(err))
            return False
        finally:
            QGuiApplication.restoreOverrideCursor()
        self.close()
        w.playback.close()  # a clip that was playing stops
        self.source, self.camera = source, camera
        self.frozen, self.problem, self.last_index = False, "", -1
        self.frames_drawn = 0
        self._latency.clear()
        self._drawn_at.clear()
        self._clip.clear()
        w.contexts.add("video")
        self._sync_freeze_action()
        self._watch.start()
        w.say(f"live: {source.info.describe()}", 5000)
        self._take()
        self._status()
        return True

    def stop(self) -> None:
        """Stop the camera; its last frame stays as the window's image."""
        if self.active:
            self.close()
            self.window.say("camera stopped; its last frame stays", 5000)
            self.window.streaming_stopped()

    def close(self) -> None:
        """Release the camera (another source was opened, or the window closes)."""
        if self.source is not None:
            self.source.on_frame = None
            self.source.close()
            self.source = None
        self._watch.stop()
        self._inflight.clear()
        self._captured.clear()
        self._panel.clear()
        self.frozen = False
        if not self.window.playback.active:
            self.window.contexts.discard("video")
        self._sync_freeze_action()
        self.status.setText("")
        self.status.release()

    # -- freeze ---------------------------------------------------------------------------
    def toggle_freeze(self) -> None:
        if not self.active:
            return
        self.frozen = not self.frozen
        self._sync_freeze_action()
        if not self.frozen:
            self._take()
        else:
            self.window.streaming_stopped()  # the frozen frame gets its curves and equivariance
        self._status()

    def _sync_freeze_action(self) -> None:
        act = self.window.commands.by_name.get("freeze")
        if act is not None:
            act.setChecked(self.frozen)
            act.setEnabled(self.active)

    # -- the live loop --------------------------------------------------------------------
    def _on_arrived(self, index: int) -> None:
        if self.source is None:
            return
        if index < 0:
            self._lost()
            return
        self._take()

    def _take(self) -> None:
        """Send the newest converted frame when fewer than :data:`PIPELINE` are in flight, or in
        place of the one still queued in the worker (frames in between are dropped)."""
        source, w = self.source, self.window
        if source is None or self.frozen:
            return
        replace = None
        if len(self._inflight) >= PIPELINE:
            last = self._inflight[-1]
            if len(self._inflight) < 2 or not w.worker.is_queued(last):
                return
            replace = last
        source.size = w.settings.size  # a new size: the converting thread fits the newest frame anew
        try:
            frame = source.newest(wait=False)  # converted on the camera's own thread: never here
        except InputError as err:  # a frame the converter refuses: keep the last good one
            self._say_problem(str(err))
            return
        if frame is None or frame.index <= self.last_index:
            return
        self.last_index = frame.index
        self._show(frame)
        gen = w._submit(cancel_running=False)
        if gen is not None:
            if replace is not None and w.worker.is_queued(gen):  # it took the old one's place, unseen
                self._inflight.remove(replace)
                self._captured.pop(replace, None)
                self._panel.pop(replace, None)
            self._inflight.append(gen)
            self._captured[gen] = frame.captured
            self._panel[gen] = (frame.rgb, w.frame_description)

    def _show(self, frame: CameraFrame) -> None:
        w, camera = self.window, self.camera
        assert camera is not None
        w.source = Source(camera.label(), rgb=frame.rgb)
        w.frame = frame.rgb
        fit = f", {frame.fit.describe()}" if frame.fit is not None else ""
        w.frame_description = f"live, frame {frame.index}{fit}"
        # The source panel shows the frame when its result is drawn (_on_drawn): the picture
        # beside the maps is the one they were computed from, and it is painted with them.
        self._clip.append((frame.index, frame.rgb))

    def compute_input(self) -> Any:
        """What the window computes while the camera is live: the frame, or in the video-net mode
        the last T frames taken (oldest first) as one clip."""
        w = self.window
        if w.settings.mode != "video-net" or not self._clip:
            return w.frame
        from ..core.video_engine import ClipInput

        n, t = w.settings.size, w.settings.video_window
        recent = [(i, f) for i, f in self._clip if f.shape[0] == n][-t:]
        if not recent:
            return w.frame
        return ClipInput(np.stack([f for _, f in recent]), tuple(i for i, _ in recent))

    def _on_result(self, generation: int, _result: object) -> None:
        if self._inflight and generation >= self._inflight[0]:
            self._inflight = [g for g in self._inflight if g > generation]
            self._take()  # before this result is drawn: the worker has the next frame at once

    def _watchdog(self) -> None:
        if self._inflight and self.window.worker.is_idle():
            self._inflight.clear()
        if self.source is not None:
            if self.source.problem and not self.problem:
                self._lost()
            self._take()
        self._status()

    def _on_drawn(self, generation: int, result: object) -> None:
        captured = self._captured.pop(generation, None)
        panel = self._panel.pop(generation, None)
        for g in [g for g in self._captured if g < generation]:
            del self._captured[g]
            self._panel.pop(g, None)
        if panel is not None and self.camera is not None:
            self.window.source_panel.set_frame(panel[0], self.camera.label(), panel[1])
        if captured is None or result is None or not self.active:
            return
        now = time.perf_counter()
        self.last_captured = captured  # for scripts/bench_camera.py, which adds the paint after this
        self._latency.append((now - captured) * 1e3)
        self._drawn_at.append(time.monotonic())
        self.frames_drawn += 1
        self._status()

    def _lost(self) -> None:
        source = self.source
        if source is None:
            return
        problem = source.problem or f"{source.name} stopped"
        self._say_problem(f"{problem}; the last frame stays")

    def _say_problem(self, text: str) -> None:
        if text == self.problem:
            return
        self.problem = text
        self.window.say(text, 15000)
        self._status()

    # -- status -----------------------------------------------------------------------------
    def achieved_fps(self) -> float:
        return achieved_fps(self._drawn_at, time.monotonic())

    def latency_ms(self) -> float:
        """Median capture-to-pixels latency over the last frames drawn (NaN before the first)."""
        return float(np.median(self._latency)) if self._latency else math.nan

    def _status(self) -> None:
        source = self.source
        if source is None:
            self.status.setText("")
            return
        if self.problem:
            self.status.setText("⚠ camera lost · last frame shown")
            return
        if self.frozen:
            self.status.setText("❄ frozen (F: live)")
            return
        latency = self.latency_ms()
        lat = f" · capture→pixels {latency:.0f} ms" if math.isfinite(latency) else ""
        self.status.setText(
            f"● live {self.achieved_fps():.1f} fps (camera {source.fps:.0f}){lat} · dropped {source.frames_dropped}"
        )
