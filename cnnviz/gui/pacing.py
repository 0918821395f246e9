"""What the window draws, and asks the engine for, while frames stream in.

While a clip plays or the camera is live ("streaming"), results come 25-60 times a second. The
feature maps (the grid) and the source picture are drawn for every one of them. The secondary
views - the curves (variance, gradient, zeros, equivariance, histogram), the pyramid strip and
the layer inspector - change little from one frame to the next and cost about as much to draw
and paint as the maps, so while streaming they are drawn at most every
:data:`SECONDARY_INTERVAL_S` (ten times a second), always from a whole Result.

A held slider of the controls (a drag) is paced the same way: the maps follow every result, the
secondary views at most ten times a second, the equivariance pass is asked for once per
:data:`EQUIVARIANCE_INTERVAL_S`; the profile stays ``interactive`` (the per-position theory is
kept). When the slider is let go, the result on screen is made whole (drawn and computed again
where it is not).

The equivariance readout is a second forward pass of the network (about a quarter of a frame's
compute at 256^2). The window asks the engine for it only while its panel is shown, and while
streaming for one frame per :data:`EQUIVARIANCE_INTERVAL_S` (twice a second; the curves are
drawn from the frames between, keeping the last readout). A result drawn without it while nothing streams (playback was
paused with such frames in flight, the panel was shown again) is asked for again, whole.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QAbstractSlider, QWidget

from ..core.result import Profile, Result
from ..core.result import profile as make_profile

if TYPE_CHECKING:
    from .main_window import MainWindow

FPS_WINDOW_S = 2.0  # achieved fps over the last two seconds
SECONDARY_INTERVAL_S = 0.1  # the curves, the pyramid strip and the inspector: ten times a second at most
TEXT_INTERVAL_S = 0.1  # texts that change with every frame (timings, fps, frame number, caption) while streaming
# The equivariance pass while frames stream or a slider is held: twice a second. Its readout does
# not move between frames (0 with shared weights), and a frame that carries the pass arrives late:
# asked for every 100 ms it cost a 60 fps clip at 256^2 3-6 fps (52 -> 56 fps, paired 10 s runs).
EQUIVARIANCE_INTERVAL_S = 0.5


def achieved_fps(drawn_at: Iterable[float], now: float) -> float:
    """Frames drawn per second over the last :data:`FPS_WINDOW_S` (``drawn_at``: monotonic
    times, oldest first); 0 with fewer than two frames in that window."""
    recent = [t for t in drawn_at if now - t <= FPS_WINDOW_S]
    if len(recent) < 2:
        return 0.0
    return (len(recent) - 1) / max(recent[-1] - recent[0], 1e-6)


def shown_fps(achieved: float, target: float) -> float:
    """The rate a player shows: the achieved rate, never above the rate asked for (``target``:
    the clip's frame rate times the speed; 0 for none). Over a two-second window, frames drawn
    late after a stall and the next ones on time again read as more than the clip's rate ("26.1
    fps (clip 25 fps)"), though a paced player draws no frame before its time."""
    return min(achieved, target) if target > 0 else achieved


class Pacer:
    """Decides, per request and per result, what is computed and drawn (see the module docstring)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._asked = -math.inf  # when the equivariance pass was last asked for while streaming
        self._drawn = -math.inf  # when the secondary views were last drawn while streaming
        self.stale = False  # the secondary views show an older result than the maps
        self.skipped = 0  # results whose secondary views were not drawn (for tests and benchmarks)
        self.dragging = False  # a slider of the controls is held down (:class:`DragWatch`)

    def profile(self, streaming: bool, equivariance_shown: bool) -> Profile:
        """The engine profile of the next request: ``interactive``; while streaming ``playback``,
        with the equivariance pass for one frame per :data:`EQUIVARIANCE_INTERVAL_S`."""
        if not streaming and not self.dragging:
            return make_profile("interactive", equivariance=equivariance_shown)
        now = self._clock()
        want = equivariance_shown and now - self._asked >= EQUIVARIANCE_INTERVAL_S
        if want:
            self._asked = now
        return make_profile("playback" if streaming else "interactive", equivariance=want)

    def draw_secondary(self, result: Result, streaming: bool, equivariance_shown: bool) -> bool:
        """True when the secondary views should be drawn for ``result`` (False: only the maps)."""
        now = self._clock()
        if streaming or self.dragging:
            complete = result.profile.equivariance or not equivariance_shown
            due = now - self._drawn >= (SECONDARY_INTERVAL_S / 2 if complete else 2 * SECONDARY_INTERVAL_S)
            if not due:
                self.stale = True
                self.skipped += 1
                return False
            self._drawn = now
        else:
            self._drawn = -math.inf
            self._asked = -math.inf
        self.stale = False
        return True

    @staticmethod
    def incomplete(result: Result | None, equivariance_shown: bool) -> bool:
        """True for a pyramid result that lacks what its shown curves need: the equivariance
        readout, or the per-position theory (the playback profile leaves both out)."""
        return (
            result is not None
            and result.pyramid is not None
            and equivariance_shown
            and not (result.profile.equivariance and result.profile.local_theory)
        )


class TextPacer(QObject):
    """Texts that change with every result - the status bar's timings, "computing…", the achieved
    fps, the frame number and time, the source's caption. Each new text lays out and repaints its
    label on the GUI thread, which holds the interpreter's lock meanwhile: 60 times a second
    that delays the compute thread. While frames stream (or a slider is held) each text is
    applied at most every :data:`TEXT_INTERVAL_S`, always the newest; otherwise at once.

    ``later(key, apply)``: ``apply()`` sets one text; a newer call with the same key replaces
    a waiting one."""

    def __init__(self, parent: QObject, streaming: Callable[[], bool]) -> None:
        super().__init__(parent)
        self._streaming = streaming
        self._waiting: dict[str, Callable[[], None]] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(round(TEXT_INTERVAL_S * 1e3))
        self._timer.timeout.connect(self.flush)

    def later(self, key: str, apply: Callable[[], None]) -> None:
        if not self._streaming():
            self._waiting.pop(key, None)
            apply()
            return
        self._waiting[key] = apply
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Apply every waiting text now."""
        self._timer.stop()
        waiting, self._waiting = self._waiting, {}
        for apply in waiting.values():
            apply()


class DragWatch(QObject):
    """Tells the window's :class:`Pacer` while a slider of the controls is held down, and calls
    ``window.streaming_stopped`` when the last one is let go (the result is then made whole)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self._sliders = window.controls.findChildren(QAbstractSlider)
        for slider in self._sliders:  # bound methods of this GUI-thread object
            slider.sliderPressed.connect(self._pressed)
            slider.sliderReleased.connect(self._released)

    def _pressed(self) -> None:
        self._window.pacer.dragging = True

    def _released(self) -> None:
        window = self._window
        window.pacer.dragging = any(s.isSliderDown() for s in self._sliders)
        if not window.pacer.dragging:
            window.streaming_stopped()


class CalmCollector(QObject):
    """Python's full garbage collection walks every object the process holds (torch, Qt, numpy,
    pyqtgraph: over a million), 50-160 ms on a 2-core host, on whichever thread allocates at that
    moment: on the GUI thread, a freeze in the middle of a drag. Once the window has drawn its
    first result, every object alive then (the libraries, the window) is moved out of the
    collector's sight (``gc.freeze``, once per process); objects made later are collected as before."""

    frozen = False

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        if not CalmCollector.frozen:
            window.result_drawn.connect(self._drawn)

    def _drawn(self, *_) -> None:
        self._window.result_drawn.disconnect(self._drawn)
        if not CalmCollector.frozen:
            CalmCollector.frozen = True
            # No gc.collect() first: it is itself such a pause. Garbage alive now stays (a few
            # cycles of the start, once); gc.freeze() only moves a list, in microseconds.
            gc.freeze()


class _ShowWatcher(QObject):
    def __init__(self, widget: QWidget, callback: Callable[[], None]) -> None:
        super().__init__(widget)
        self._callback = callback
        widget.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Show:
            self._callback()
        return False


def watch_shown(widget: QWidget, callback: Callable[[], None]) -> None:
    """Call ``callback`` whenever ``widget`` is shown (e.g. the curves' page comes back)."""
    _ShowWatcher(widget, callback)
