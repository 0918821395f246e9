"""Video in the window: a clip plays, steps and scrubs; what is computed follows the frame shown.

- :class:`Decoder`: a thread that owns the clip's :class:`~cnnviz.io.video.VideoReader` (one
  FFmpeg thread, so decoding leaves the cores to torch); it decodes the frame asked for (and,
  in the video-net mode, the T frames before it), then the frame it expects to be asked for
  next: one frame ahead.
- :class:`Playback`: the Qt-side controller. While playing, frames are sent without cancelling
  anything, two at a time (:data:`PIPELINE`): the worker computes frame n+1 while the GUI
  thread draws frame n, and never waits for the GUI thread to hand it the next one. Each frame
  is chosen by the clock at the time its result will be drawn; frames the clock passed
  meanwhile are dropped (never queued: at most one frame waits behind the running one) and
  counted. The picture in the source panel changes with the result drawn, not when its frame
  is sent. A settings change still cancels the running job (latest wins). The status bar
  shows the achieved fps beside the clip's own and the dropped count.
- :class:`VideoControls` (in the source panel while a clip is open) and the "Over time" dock
  (:mod:`.over_time`).

Bad input never stops the window: a frame that cannot be decoded, a clip whose frames change
size, a truncated file: one line in the status bar and under the controls, the last good
frame stays.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QSignalBlocker, Qt, QThread, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..errors import CnnvizError, InputError
from ..io.video import Frame, VideoReader, describe_frame
from . import theme
from .pacing import achieved_fps, shown_fps
from .steady import SteadyLabel

if TYPE_CHECKING:
    from .main_window import MainWindow
    from .source import Source

SPEEDS = (0.25, 0.5, 1.0, 1.5, 2.0)
DECODE_THREADS = 1  # FFmpeg threads for playback: the cores belong to the computation
# Frames in flight while playing: one computing and one queued behind it, so the worker starts
# the next frame the moment it finishes one (rather than when the GUI thread, busy drawing and
# painting, gets round to sending it). More would only add latency: the worker's queue holds one.
PIPELINE = 2


def compute(settings, data, **kwargs):
    """The worker's run function: the video network for mode ``video-net``, the engine otherwise.

    ``data`` is a frame ``[N, N, 3]`` or, in the video-net mode, a
    :class:`~cnnviz.core.video_engine.ClipInput` (or one image, which becomes a still clip)."""
    if settings.mode == "video-net":
        from ..core.video_engine import run_video

        return run_video(settings, data, cancel=kwargs.get("cancel"), source=kwargs.get("source", ""))
    from ..core import engine

    if data is not None and getattr(data, "ndim", 3) != 3:  # a clip sent to the image engine: its newest frame
        data = getattr(data, "frames", data)[-1]
    return engine.run(settings, data, **kwargs)


# == decoding thread ===========================================================================
@dataclass(frozen=True)
class _Want:
    rid: int
    index: int
    size: int
    window: int  # frames ending at ``index`` (1 outside the video-net mode)
    ahead: int | None  # the frame to decode next, when known: sent as ``prefetched``
    prefetch: bool = False  # ``index`` itself is a guess of the next frame: sent as ``prefetched``


DECODE_NICE = 4  # the decoding thread's niceness above the window's (Linux): compute and drawing come first


def _lower_priority(nice: int) -> None:
    """Lower the calling thread's scheduling priority (Linux threads have their own nice value;
    elsewhere, or where it is refused, nothing changes). Decoding one frame ahead has time to
    spare; the compute and GUI threads, on the same two cores, do not."""
    setpriority = getattr(os, "setpriority", None)
    if setpriority is None or not sys.platform.startswith("linux"):
        return
    try:
        tid = threading.get_native_id()
        setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + nice)
    except OSError:
        pass


class _DecodeThread(QThread):
    def __init__(self, decoder: Decoder) -> None:
        super().__init__()
        self._decoder = decoder

    def run(self) -> None:
        _lower_priority(DECODE_NICE)
        self._decoder._loop()


class Decoder(QObject):
    """Decodes on its own thread, the newest request only; frames come back by signal."""

    frame_ready = Signal(int, object, object)  # request id, Frame, frames [T, N, N, 3] or None
    prefetched = Signal(int, object, object)  # the same, for the frame expected to be asked for next
    failed = Signal(int, str)  # request id, one line
    notice = Signal(str)  # something about the clip a user should know (frames change size)

    def __init__(self, reader: VideoReader, first: Frame | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.reader = reader
        self._cond = threading.Condition()
        self._want: _Want | None = None
        self._stop = False
        self._cache: dict[int, Frame] = {}
        self._first_size = first.fit.original if first is not None and first.fit is not None else None
        self._size_told = False
        self._thread = _DecodeThread(self)
        self._thread.setObjectName("cnnviz-decode")
        self._thread.start()

    def request(self, want: _Want) -> None:
        with self._cond:
            self._want = want  # a newer request replaces one not yet started
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._want = None
            self._cond.notify()
        if self._thread.wait(5000):
            self.reader.close()
        else:  # stuck in a decoder call: the reader stays open with the thread (closing it would crash)
            from .worker import _ORPHANS

            _ORPHANS.append(self._thread)

    # -- decoding thread ------------------------------------------------------------------
    def _get(self, index: int, size: int) -> Frame:
        got = self._cache.get(index)
        if got is not None and got.rgb.shape[0] == size:
            return got
        if self.reader.size != size:
            self.reader.size = size
            self._cache.clear()
        frame = self.reader.seek_frame(index)
        self._check_size(frame)
        self._cache[index] = frame
        return frame

    def _check_size(self, frame: Frame) -> None:
        if frame.fit is None:
            return
        if self._first_size is None:
            self._first_size = frame.fit.original
        elif frame.fit.original != self._first_size and not self._size_told:
            self._size_told = True
            (w0, h0), (w1, h1) = self._first_size, frame.fit.original
            self.notice.emit(
                f"{self.reader.path.name}: frames change size at frame {frame.index} ({w0}x{h0} -> {w1}x{h1}); "
                "each frame is fitted to the square on its own"
            )

    def _trim(self, keep: int, newest: int) -> None:
        for i in [i for i in self._cache if i > newest + 2 or i < newest - keep]:
            del self._cache[i]

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._want is None and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                want, self._want = self._want, None
            if want is None:
                continue
            try:
                frame, clip = self._window(want.index, want.size, want.window)
            except CnnvizError as err:
                if not want.prefetch:  # a guess that fails is told when the frame is asked for
                    self.failed.emit(want.rid, str(err))
                continue
            except Exception as err:  # a decoder bug: one line, the window keeps its last frame
                if not want.prefetch:
                    self.failed.emit(want.rid, f"cannot decode frame {want.index}: {type(err).__name__}: {err}")
                continue
            (self.prefetched if want.prefetch else self.frame_ready).emit(want.rid, frame, clip)
            with self._cond:
                idle = self._want is None and not self._stop
            if idle and want.ahead is not None and want.ahead > want.index:
                try:  # one frame ahead
                    frame, clip = self._window(want.ahead, want.size, want.window)
                    self.prefetched.emit(want.rid, frame, clip)
                except Exception:
                    pass

    def _window(self, index: int, size: int, window: int) -> tuple[Frame, np.ndarray | None]:
        """Frame ``index`` and, when ``window`` > 1, the frames ``[T, N, N, 3]`` ending at it."""
        frames = [self._get(i, size) for i in range(max(0, index - window + 1), index + 1)]
        self._trim(window, index)
        return frames[-1], (np.stack([f.rgb for f in frames]) if window > 1 else None)


# == controls ==================================================================================
class VideoControls(QWidget):
    """Play/pause, step, first/last, the scrubber with time and frame number, loop, speed."""

    def __init__(self, playback: Playback, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.playback = playback

        def button(text: str, tip: str, slot) -> QToolButton:
            b = QToolButton()
            b.setText(text)
            b.setToolTip(tip)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space stays play/pause
            b.clicked.connect(slot)
            b.setMinimumWidth(34)
            return b

        self.first = button("|◀◀", "First frame  [Home]", lambda: playback.seek(0))
        self.back = button("◀|", "One frame back  [Left or ,]", lambda: playback.step(-1))
        self.play = button("▶", "Play / pause  [Space]", playback.toggle)
        self.fwd = button("|▶", "One frame forward  [Right or .]", lambda: playback.step(+1))
        self.last = button("▶▶|", "Last frame  [End]", lambda: playback.seek(playback.count - 1))
        self.play.setMinimumWidth(48)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slider.setToolTip("Scrub: the frame shown and computed")
        self.slider.valueChanged.connect(self._slid)
        self.position = SteadyLabel("–")  # a new text every frame: fixed size, no relayout
        self.position.setToolTip("time / duration and frame number")
        self.loop = QCheckBox("Loop")
        self.loop.setChecked(True)
        self.loop.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.loop.setToolTip("Start again at the end")
        self.loop.toggled.connect(playback.set_loop)
        self.speed = QComboBox()
        self.speed.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for s in SPEEDS:
            self.speed.addItem(f"{s:g}×", s)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.speed.setToolTip("Playback speed  [ [ and ] ]")
        self.speed.currentIndexChanged.connect(lambda i: playback.set_speed(SPEEDS[i]))
        self.problem = QLabel("")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(f"color: {theme.WARN_FG}; background: {theme.WARN_BG}; padding: 2px;")
        self.problem.hide()

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        for b in (self.first, self.back, self.play, self.fwd, self.last):
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(self.loop)
        row.addWidget(self.speed)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 2, 0, 2)
        lay.setSpacing(2)
        top = QHBoxLayout()  # the scrubber and where it is, on one line: the picture keeps the height
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.slider, 1)
        top.addWidget(self.position)
        lay.addLayout(top)
        lay.addLayout(row)
        lay.addWidget(self.problem)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def _slid(self, value: int) -> None:
        self.playback.seek(int(value), from_slider=True)

    def show_clip(self, count: int) -> None:
        with QSignalBlocker(self.slider):
            self.slider.setRange(0, max(0, count - 1))
        self.problem.hide()

    def show_position(self, index: int, t: float, duration: float, count: int) -> None:
        with QSignalBlocker(self.slider):
            self.slider.setValue(index)
        # the text while a clip plays: ten times a second (gui/pacing.py), the scrubber every frame
        self.playback.window.texts.later("position", lambda: self._position_text(index, t, duration, count))

    def _position_text(self, index: int, t: float, duration: float, count: int) -> None:
        self.position.setText(f"frame {index} / {count - 1} · {_clock(t)}")
        self.position.setToolTip(f"frame {index} of 0..{count - 1}, {_clock(t)} of {_clock(duration)}")

    def show_playing(self, playing: bool) -> None:
        self.play.setText("❚❚" if playing else "▶")

    def show_problem(self, text: str) -> None:
        self.problem.setText(f"⚠ {text}" if text else "")
        self.problem.setVisible(bool(text))

    def set_zoom(self, zoom: float) -> None:
        for w in (self.position, self.loop, self.speed, self.problem):
            w.setFont(theme.font(zoom, 0.9))
        for b in (self.first, self.back, self.play, self.fwd, self.last):
            b.setFont(theme.font(zoom, 1.1))


def _clock(t: float) -> str:
    if not math.isfinite(t):
        return "–"
    m, s = divmod(max(t, 0.0), 60)
    return f"{int(m)}:{s:05.2f}"


# == the controller ============================================================================
class Playback(QObject):
    """The clip of the window (when one is open): what frame is shown, playing, stepping, scrubbing."""

    frame_shown = Signal(int)  # frame index now in window.frame

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.decoder: Decoder | None = None
        self.source: Source | None = None
        self.times = np.zeros(0)
        self.duration = 0.0
        self.fps = 0.0
        self.index = 0
        self.playing = False
        self.loop = True
        self.speed = 1.0
        self.dropped = 0
        self.frames_drawn = 0
        self.problem = ""
        self.clip_frames: np.ndarray | None = None  # [T, N, N, 3] ending at ``index`` (video-net mode)
        self._rid = 0
        self._fetching = False  # a decoder request is out
        self._ready: tuple[Frame, np.ndarray | None] | None = None  # decoded ahead, not yet shown
        self._inflight: deque[int] = deque()  # generations sent while playing whose results have not come
        self._gen_index: dict[int, int] = {}
        # generation -> frame, its description, index and time
        self._panel: dict[int, tuple[np.ndarray, str, int, float]] = {}
        self._last_result = 0.0  # when the previous result came, while playing
        self._interval_s: float | None = None  # seconds between results while playing (smoothed)
        self._drawn_at: deque[float] = deque(maxlen=240)
        self._anchor = (0.0, 0.0)  # (wall clock, clip time) when playing started
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._tick)
        self._watch = QTimer(self)  # a result that never comes (cancelled, failed) must not stall playback
        self._watch.setInterval(250)
        self._watch.timeout.connect(self._watchdog)

        self.controls = VideoControls(self)
        self.controls.hide()
        panel = window.source_panel
        lay = panel.layout()
        assert isinstance(lay, QVBoxLayout)
        lay.insertWidget(1, self.controls)  # under the picture, above its caption
        self.status = SteadyLabel("")  # a new text every frame: fixed size, no relayout
        window.statusBar().addPermanentWidget(self.status)
        self.set_loop(True)
        from .over_time import OverTimeDock

        self.over_time = OverTimeDock(self, window)
        window.worker.result_ready.connect(self._on_result)
        window.worker.failed.connect(self._on_result)
        window.result_drawn.connect(self._on_drawn)

    # -- open / close ---------------------------------------------------------------------
    @property
    def active(self) -> bool:
        return self.decoder is not None

    @property
    def count(self) -> int:
        return len(self.times)

    def _window_length(self) -> int:
        s = self.window.settings
        return s.video_window if s.mode == "video-net" else 1

    def open(self, source: Source, size: int) -> tuple[Source, np.ndarray, str]:
        """Open ``source`` (a video; raises InputError, changing nothing) at its ``frame_index``;
        returns the source, frame ``index`` ``[size, size, 3]`` and its description."""
        if source.path is None:
            raise InputError(f"{source.name} is not a file")
        reader = VideoReader(source.path, size=size, threads=DECODE_THREADS)
        try:
            info = reader.ensure_index()
            times = reader.frame_times()
            index = int(source.frame_index or 0)
            if not 0 <= index < len(times):
                raise InputError(f"{source.name} has frames 0 to {len(times) - 1}, not {index}")
            t = self._window_length()
            frames = [reader.seek_frame(i) for i in range(max(0, index - t + 1), index + 1)]
        except BaseException:
            reader.close()
            raise
        self.close()
        frame = frames[-1]
        self.source = dataclasses.replace(source, frame_index=index)
        self.times, self.duration, self.fps, self.index = times, info.duration, info.fps, index
        self.clip_frames = np.stack([f.rgb for f in frames]) if t > 1 else None
        self.dropped = self.frames_drawn = 0
        self._drawn_at.clear()
        self.decoder = Decoder(reader, frame, self)
        self.decoder.frame_ready.connect(self._on_frame)
        self.decoder.prefetched.connect(self._on_prefetched)
        self.decoder.failed.connect(self._on_decode_failed)
        self.decoder.notice.connect(self._say_problem)
        self.controls.show_clip(self.count)
        self.controls.show_position(index, frame.time, self.duration, self.count)
        self.controls.show_playing(False)
        self.controls.show()
        self.window.contexts.add("video")
        self.over_time.start_clip(self.count)
        self.over_time.set_current(index)
        self.problem = ""
        if reader.problem:
            QTimer.singleShot(0, lambda p=reader.problem: self._say_problem(p))
        self._status()
        self._watch.start()
        return self.source, frame.rgb, describe_frame(info, frame)

    def close(self) -> None:
        """Forget the clip (an image was opened, or the window closes)."""
        self.playing = False
        self._timer.stop()
        self._watch.stop()
        if self.decoder is not None:
            self.decoder.stop()
            self.decoder = None
        self.source = None
        self.clip_frames = None
        self._inflight.clear()
        self._panel.clear()
        self._fetching = False
        self.controls.hide()
        self.window.contexts.discard("video")
        self.over_time.end_clip()
        self._status()  # empty: no clip (a paced fps text waiting is dropped)
        self.status.release()

    # -- what the worker computes -----------------------------------------------------------
    def compute_input(self):
        """What the window sends with its settings: the frame, or in the video-net mode the window
        of the last T frames (None when the decoder must fetch them first: it sends them)."""
        w = self.window
        if w.settings.mode != "video-net":
            return w.frame
        if not self.active:
            return w.frame  # an image: the video engine makes a still clip of it
        from ..core.video_engine import ClipInput

        t, n = w.settings.video_window, w.settings.size
        want = min(t, self.index + 1)
        c = self.clip_frames
        if c is None or c.shape[0] != want or c.shape[1] != n:
            self._fetch(self.index)
            return None
        return ClipInput(c, tuple(range(self.index - want + 1, self.index + 1)))

    # -- commands (keys, buttons) --------------------------------------------------------------
    def toggle(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def play(self) -> None:
        if not self.active:
            return
        self.playing = True
        self._interval_s, self._last_result = None, 0.0
        self.controls.show_playing(True)
        if self.index >= self.count - 1 and self.count > 1:  # at the end: play from the start
            self._anchor = (time.monotonic(), 0.0)
            self._fetch(0)
        else:
            self._anchor = (time.monotonic(), float(self.times[self.index]))
            self._tick()
        self._status()

    def pause(self) -> None:
        was = self.playing
        self.playing = False
        self._timer.stop()
        self.controls.show_playing(False)
        self._status()
        if was:
            self.over_time.view.paused()
            self.window.streaming_stopped()  # the frame on screen gets its curves and equivariance

    def step(self, delta: int) -> None:
        if not self.active:
            return
        self.pause()
        self.seek(self.index + delta)

    def seek(self, index: int, from_slider: bool = False) -> None:
        """Show frame ``index`` (clamped), exactly."""
        if not self.active:
            return
        index = int(min(max(index, 0), self.count - 1))
        if not from_slider:
            self.pause()
        if self.playing:
            self._anchor = (time.monotonic(), float(self.times[index]))
        self._fetch(index)

    def set_loop(self, on: bool) -> None:
        self.loop = bool(on)
        with QSignalBlocker(self.controls.loop):
            self.controls.loop.setChecked(self.loop)
        act = self.window.commands.by_name.get("loop")
        if act is not None:
            act.setChecked(self.loop)

    def set_speed(self, speed: float) -> None:
        if self.playing:  # keep the clip time where it is
            self._anchor = (time.monotonic(), self._clip_time())
        self.speed = float(speed)
        with QSignalBlocker(self.controls.speed):
            self.controls.speed.setCurrentIndex(SPEEDS.index(self.speed) if self.speed in SPEEDS else 2)
        self._status()

    def faster(self, step: int) -> None:
        i = SPEEDS.index(self.speed) if self.speed in SPEEDS else 2
        self.set_speed(SPEEDS[min(max(i + step, 0), len(SPEEDS) - 1)])
        self.window.say(f"playback speed {self.speed:g}×", 2000)

    # -- the playing loop -------------------------------------------------------------------------
    def _clip_time(self) -> float:
        wall, t0 = self._anchor
        return t0 + (time.monotonic() - wall) * self.speed

    def _index_at(self, t: float) -> int:
        i = int(np.searchsorted(self.times, t, side="right")) - 1
        return min(max(i, 0), self.count - 1)

    def _tick(self) -> None:
        """While playing: when fewer than :data:`PIPELINE` frames are in flight, send the frame the
        clock will be at when its result is drawn (after the results of those in flight)."""
        if not self.playing or not self.active or self._fetching or len(self._inflight) >= PIPELINE:
            return
        now = self._clip_time()
        # Results come one interval apart: the frame sent now is drawn after those in flight.
        ahead = len(self._inflight) * (self._interval_s if self._interval_s is not None else 0.0) * self.speed
        t = now + ahead
        if t >= self.duration:
            if self._inflight and now < self.duration:
                return  # the frames in flight reach the clip's end: their results come first
            if not self.loop:
                if self.index < self.count - 1:  # end on the last frame, whatever the clock skipped
                    self.dropped += self.count - 2 - self.index
                    self._fetch(self.count - 1)
                self.pause()
                return
            self.dropped += max(0, self.count - 1 - self.index)  # the end the clock passed
            self._anchor = (time.monotonic(), 0.0)
            self._request(0, ahead=1 if self.count > 1 else None)
            return
        target = self._index_at(t)
        # One cycle (a frame sent, its result back) of clip time: the next frame should be where the
        # clock will be when this one's result arrives, and a frame decoded ahead is current enough
        # while it is less than a cycle behind the clock.
        lead = (self._interval_s if self._interval_s is not None else 1.0 / max(self.fps, 1.0)) * self.speed
        behind = self._index_at(t - lead)
        nxt = min(self.count - 1, max(target + 1, self._index_at(t + lead)))
        ready = self._usable_ready()
        if ready is not None:
            frame, clip = ready
            if frame.index > target:  # decoded ahead of the clock: show it at its time
                self._wait_until(frame.index, t)
                return
            if frame.index >= behind:  # current enough: show it now, no decoding in the way
                self._ready = None
                self.dropped += frame.index - self.index - 1
                self._show(frame, clip)
                self._prefetch(nxt)
                return
        if target <= self.index:  # early: wait for the next frame's time
            self._wait_until(self.index + 1, t)
            return
        self.dropped += target - self.index - 1
        # Nothing decoded ahead fits: the frame the clock is at now, and then the one it will be at.
        self._request(target, ahead=nxt)

    def _wait_until(self, index: int, t: float) -> None:
        """Tick again when the clock reaches frame ``index``'s time (``t``: the clock as _tick saw it)."""
        due = self.times[index] if index < self.count else self.duration
        self._timer.start(max(1, int((due - t) / self.speed * 1000)))

    def _usable_ready(self) -> tuple[Frame, np.ndarray | None] | None:
        """The frame decoded ahead, if it is after the one shown and fits the current settings."""
        if self._ready is None:
            return None
        frame, clip = self._ready
        s = self.window.settings
        t = self._window_length()
        fits = frame.rgb.shape[0] == s.size and (
            clip is None if t == 1 else clip is not None and clip.shape[0] == min(t, frame.index + 1)
        )
        if frame.index <= self.index or not fits:
            self._ready = None
            return None
        return self._ready

    def _prefetch(self, index: int) -> None:
        if self.decoder is None or index <= self.index:
            return
        self._rid += 1
        s = self.window.settings
        self.decoder.request(_Want(self._rid, index, s.size, self._window_length(), None, prefetch=True))

    def _on_prefetched(self, rid: int, frame: Frame, clip: np.ndarray | None) -> None:
        if rid != self._rid or self.decoder is None:
            return
        self._ready = (frame, clip)
        if self.playing and self._inflight and len(self._inflight) < PIPELINE:
            self._tick()  # the frame to queue behind the one computing has been decoded

    def _fetch(self, index: int) -> None:
        self._request(index, ahead=index + 1 if index + 1 < self.count else None)

    def _request(self, index: int, ahead: int | None) -> None:
        if self.decoder is None:
            return
        self._rid += 1
        self._fetching = True
        self._ready = None
        s = self.window.settings
        self.decoder.request(_Want(self._rid, index, s.size, self._window_length(), ahead))

    def _on_frame(self, rid: int, frame: Frame, clip: np.ndarray | None) -> None:
        if rid != self._rid or self.decoder is None:
            return  # a newer request is out
        self._fetching = False
        self._show(frame, clip)

    def _show(self, frame: Frame, clip: np.ndarray | None) -> None:
        """Make ``frame`` the window's input and send it (and the T frames before it) to the worker."""
        w = self.window
        assert self.source is not None and self.decoder is not None
        self.index = frame.index
        self.clip_frames = clip
        self.source = dataclasses.replace(self.source, frame_index=frame.index)
        w.source = self.source
        w.frame = frame.rgb
        w.frame_description = describe_frame(self.decoder.reader.info, frame)
        if not self.playing:  # a step, a scrub, a seek: at once (playing: with the result, _on_drawn)
            self.controls.show_position(frame.index, frame.time, self.duration, self.count)
        self.over_time.set_current(frame.index)
        # A frame never cancels the running job: its result is drawn, and while playing the next
        # frame waits behind it. The source panel shows the frame when its result is drawn
        # (_on_drawn): the picture beside the maps is the one they were computed from.
        gen = w._submit(cancel_running=False)
        if gen is not None:
            self._gen_index[gen] = frame.index
            self._panel[gen] = (frame.rgb, w.frame_description, frame.index, frame.time)
            if self.playing:
                self._inflight.append(gen)
        else:  # nothing sent (the video network's frames are on their way): show the frame now
            w.source_panel.set_frame(frame.rgb, self.source.name, w.frame_description)
            if self.playing:
                self.controls.show_position(frame.index, frame.time, self.duration, self.count)
        self.frame_shown.emit(frame.index)

    def _on_decode_failed(self, rid: int, message: str) -> None:
        if rid != self._rid:
            return
        self._fetching = False
        self.pause()
        self._say_problem(f"{message} (showing the last good frame, {self.index})")

    def _say_problem(self, text: str) -> None:
        if text == self.problem:
            return
        self.problem = text
        self.controls.show_problem(text)
        self.window.say(text, 15000)

    def _on_result(self, generation: int, _result) -> None:
        if not self._inflight or generation < self._inflight[0]:
            return
        while self._inflight and self._inflight[0] <= generation:
            self._inflight.popleft()
        now = time.monotonic()
        if self._last_result:
            dt = now - self._last_result
            self._interval_s = dt if self._interval_s is None else 0.7 * self._interval_s + 0.3 * dt
        self._last_result = now
        if self.playing:
            self._tick()  # before this result is drawn: the worker has the next frame at once

    def _watchdog(self) -> None:
        if self._inflight and self.window.worker.is_idle():
            self._inflight.clear()
            self._tick()
        elif self.playing and not self._timer.isActive():
            self._tick()
        self._status()

    def _on_drawn(self, generation: int, result) -> None:
        if not self.active:
            return
        index = self._gen_index.pop(generation, self.index)
        panel = self._panel.pop(generation, None)
        for g in [g for g in self._gen_index if g < generation]:
            del self._gen_index[g]
        for g in [g for g in self._panel if g < generation]:
            del self._panel[g]
        if panel is not None and self.source is not None:
            self.window.source_panel.set_frame(panel[0], self.source.name, panel[1])
            if self.playing or panel[2] == self.index:
                # The scrubber moves with the picture and the maps: one repaint of the window per
                # frame, not a second one for the scrubber when the frame is sent to compute; and
                # a frame in flight when the clip was paused lands with its own number
                self.controls.show_position(panel[2], panel[3], self.duration, self.count)
        if result is None:
            return
        now = time.monotonic()
        self._drawn_at.append(now)
        self.frames_drawn += 1
        self.over_time.add_result(index, result)
        self._status()

    # -- status ----------------------------------------------------------------------------------
    def achieved_fps(self) -> float:
        return achieved_fps(self._drawn_at, time.monotonic())

    def _status(self) -> None:
        if not self.active:
            text = ""
        else:
            state = "▶" if self.playing else "❚❚"
            fps = shown_fps(self.achieved_fps(), self.fps * self.speed) if self.playing else 0.0
            shown = f"{fps:.1f} fps" if self.playing else "paused"
            speed = f" at {self.speed:g}×" if self.speed != 1.0 else ""
            text = f"{state} {shown} (clip {self.fps:.3g} fps{speed}) · dropped {self.dropped}"
        self.window.texts.later("playback", lambda: self.status.setText(text))  # paced while playing

    def set_zoom(self, zoom: float) -> None:
        self.controls.set_zoom(zoom)
        self.over_time.set_zoom(zoom)
