"""The compute worker: one thread runs ``engine.run``, the latest request wins.

``submit`` never blocks. The worker holds at most one queued job: a newer request replaces a
queued one, which is dropped unseen. Each request gets a generation number. A running job is
left to finish when the new request differs from it only in a weight variance (a slider being
dragged), so a drag still shows a result every compute time; any other change (new image,
size, depth, mode, ...) makes the running job useless, so its cancel token is set, the engine
stops at the next level, and any result it still delivers is stale. The GUI asks
:meth:`ComputeWorker.is_stale` before drawing.

Signals are emitted from the worker thread and delivered to the GUI thread (queued), carrying
frozen :class:`~cnnviz.core.result.Result` objects of numpy copies: nothing is shared.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import traceback
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal

from ..core.result import Profile
from ..errors import CnnvizError
from ..settings import Settings

# Fields a slider changes continuously: a new value does not cancel the running job.
# engine.run's side thread for the window's runs: "1" always, "0" never; unset, a request says
# (side_thread_for: on while the GUI thread is idle, off while frames stream or a slider is held)
_SIDE_ENV = os.environ.get("CNNVIZ_SIDE_THREAD", "").strip()
SIDE_THREAD = _SIDE_ENV == "1"  # for runs no request decides (the warm-up, the over-time pass)


def side_thread_for(streaming: bool) -> bool:
    """Whether a window request runs engine.run's gradient-free work on a second thread.

    While frames stream or a slider is held the GUI thread draws on the other core, and the side
    thread took it (playback at 2x 41.6 -> 33.6 fps at 256^2, longest stall in a drag 23 -> 169 ms,
    quiet 2-core host): serial then. A single step, a click or an idle request leaves that core
    idle while the window waits for the result: the side thread cuts it (engine.run 1.56x -> 1.31x
    its own forward + backward at 512^2, depth 8). CNNVIZ_SIDE_THREAD=1 or 0 overrides both."""
    if _SIDE_ENV in ("0", "1"):
        return _SIDE_ENV == "1"
    return not streaming


# the GIL hand-over between this thread and the GUI thread (see _load_engine); CNNVIZ_SWITCH_MS
# sets it for a benchmark
SWITCH_INTERVAL_S = float(os.environ.get("CNNVIZ_SWITCH_MS", "0.2")) / 1e3

SOFT_FIELDS = frozenset({"init", "residual_init", "unit_init"})

RunFn = Callable[..., object]

# Threads that did not stop in time are kept here rather than destroyed while running
# (which would abort the process); they end with it.
_ORPHANS: list[QThread] = []


@dataclass
class Job:
    generation: int
    settings: Settings
    frame: np.ndarray | None
    source: str
    selected: tuple[int, int] | None = None  # the cell whose histogram is computed (None: every cell's)
    profile: str | Profile = "interactive"
    side_thread: bool | None = None  # engine.run's side thread (None: SIDE_THREAD)
    cancel: threading.Event = field(default_factory=threading.Event)


def _only_soft_changes(a: Settings, b: Settings) -> bool:
    da, db = a.to_dict(), b.to_dict()
    return all(da[k] == db[k] for k in da if k not in SOFT_FIELDS)


def _warm_up(engine, settings: Settings | None) -> None:
    """Pay torch's one-time costs (autograd start-up, convolution kernels made for these
    channel and filter sizes: some 100s of ms) on a 32x32 miniature of the first request,
    while the window is still being built, rather than inside the first result a user waits for."""
    if settings is None or settings.device not in ("auto", "cpu"):
        return
    try:
        tiny = settings.replace(mode="pyramid", size=32, depth=min(settings.depth, 5), residual=False)
        engine.run(tiny, np.zeros((32, 32, 3), np.float32), side_thread=SIDE_THREAD)
    except Exception:  # a warm-up must never cost the real request anything
        pass


class _Thread(QThread):
    # A weak reference: with a strong one the worker and its thread form a cycle that only the
    # garbage collector frees, on whichever thread it happens to run (a Qt object must die on
    # its own thread); weakly held, the worker dies with its owner's last reference.
    def __init__(self, worker: ComputeWorker) -> None:
        super().__init__()
        self._worker = weakref.ref(worker)

    def run(self) -> None:  # the worker thread
        worker = self._worker()
        if worker is not None:
            worker._loop()


class ComputeWorker(QObject):
    """Runs ``engine.run(settings, frame, cancel=..., source=..., progress=..., side_thread=...,
    selected=..., profile=...)`` off the GUI thread (``selected`` and ``profile`` are passed only
    when a request sets them; ``side_thread`` is the request's, else :data:`SIDE_THREAD`);
    ``progress(fraction)`` is re-emitted as the :attr:`progress` signal with the job's generation."""

    result_ready = Signal(int, object)  # generation, Result
    failed = Signal(int, str)  # generation, one line for the user
    busy_changed = Signal(bool)
    progress = Signal(int, float)  # generation, fraction of the run done (engine.run's progress callback)
    devices_ready = Signal(object)  # list[cnnviz.core.device.DeviceInfo], once torch is loaded

    def __init__(self, run: RunFn | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._run = run
        self._cond = threading.Condition()
        self._pending: Job | None = None
        self._running: Job | None = None
        self._generation = 0
        self._min_valid = 0
        self._stop = False
        self._thread = _Thread(self)
        self._thread.setObjectName("cnnviz-compute")

    # -- GUI thread -----------------------------------------------------------------------
    def start(self) -> None:
        """Start the thread; connect the signals first, or early ones (devices_ready) are lost."""
        if not self._thread.isRunning() and not self._stop:
            self._thread.start()

    def submit(
        self,
        settings: Settings,
        frame: np.ndarray | None,
        source: str = "",
        *,
        selected: tuple[int, int] | None = None,
        profile: str | Profile = "interactive",
        cancel_running: bool = True,
        side_thread: bool | None = None,
    ) -> int:
        """Queue a job (replacing any queued one) and return its generation number.

        ``selected`` is the (level, scale) whose histogram the engine computes (None: every
        layer's); a click on another cell submits the same settings with the new cell, which
        does not cancel a running job. ``profile`` is the engine's run profile, a name or a
        :class:`~cnnviz.core.result.Profile` (e.g. ``profile("interactive", equivariance=False)``
        while the equivariance panel is hidden). ``cancel_running=False`` (a video frame during
        playback) lets the running job finish and be drawn: under load a stream of frames would
        otherwise cancel every job and draw nothing. ``side_thread``: engine.run's side thread
        for this job (:func:`side_thread_for`; None: :data:`SIDE_THREAD`).
        """
        with self._cond:
            self._generation += 1
            job = Job(self._generation, settings, frame, source, selected, profile, side_thread)
            self._pending = job
            running = self._running
            soft = (
                running is not None
                and running.frame is frame
                and running.profile == profile
                and _only_soft_changes(running.settings, settings)
            )
            if cancel_running and running is not None and not soft:
                running.cancel.set()
                self._min_valid = job.generation
            self._cond.notify()
            return job.generation

    @property
    def latest_generation(self) -> int:
        return self._generation

    def is_stale(self, generation: int) -> bool:
        """True for a result that a later request has made pointless (see module docstring)."""
        with self._cond:
            return generation < self._min_valid

    def cancel_running(self) -> bool:
        """Stop the running job and drop a queued one; none of their results is drawn (they are
        stale). True when there was one. The engine stops at its next poll (within a second)."""
        with self._cond:
            had = self._running is not None or self._pending is not None
            self._pending = None
            if self._running is not None:
                self._running.cancel.set()
            self._min_valid = self._generation + 1
            return had

    def is_queued(self, generation: int) -> bool:
        """True while job ``generation`` waits behind the running one (a newer submit would replace it unseen)."""
        with self._cond:
            return self._pending is not None and self._pending.generation == generation

    def is_idle(self) -> bool:
        with self._cond:
            return self._pending is None and self._running is None

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel everything and stop the thread; True when it has ended."""
        if not self._thread.isRunning():
            self._stop = True
            return True
        with self._cond:
            self._stop = True
            self._pending = None
            if self._running is not None:
                self._running.cancel.set()
            self._cond.notify()
        if self._thread.wait(timeout_ms):
            return True
        _ORPHANS.append(self._thread)
        return False

    # -- worker thread --------------------------------------------------------------------
    def _load_engine(self) -> tuple[RunFn, type[BaseException]]:
        # torch is imported here, on the worker thread, never at module load: the window is
        # drawn while torch loads (about 1.5 s of a cold start).
        from ..core import engine
        from ..core.device import available_devices, configure_threads

        configure_threads()
        # The GIL: after each torch operator this thread waits for it while the GUI thread runs
        # Python (drawing, painting), by default up to 5 ms per hand-over. At 1 ms, playback at 2x
        # in the window went from 31-34 to 36-37 fps at 256^2 (quiet 2-core host, paired runs);
        # at 0.2 ms a 60 fps clip at 2x from 74-76 to 83-85 fps (session 5, paired runs; slider
        # steps and drags the same within noise, the longest stall in a drag 17-21 -> 13-18 ms).
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        self.devices_ready.emit(available_devices())
        with self._cond:
            first = self._pending
        _warm_up(engine, first.settings if first is not None else None)
        return (self._run or engine.run), engine.Cancelled

    def _loop(self) -> None:
        try:
            run, cancelled = self._load_engine()
        except Exception as err:  # torch missing or broken: say so once, on every request
            message = f"cannot start the computation: {err}"
            run, cancelled = None, Exception
        while True:
            with self._cond:
                while self._pending is None and not self._stop:
                    self._cond.wait()
                if self._stop or self._pending is None:
                    return
                job, self._pending = self._pending, None
                self._running = job
            self.busy_changed.emit(True)
            try:
                if run is None:
                    self.failed.emit(job.generation, message)
                    continue
                # the request's side thread (side_thread_for); exports and movies made in the same
                # process keep the engine's default
                side = SIDE_THREAD if job.side_thread is None else job.side_thread
                extra: dict[str, object] = {"side_thread": side}
                if job.selected is not None:
                    extra["selected"] = job.selected
                if job.profile != "interactive":
                    extra["profile"] = job.profile
                # inf/NaN are expected (an exploding stack): the Result counts them and the
                # window marks them; numpy's RuntimeWarnings on the console would only alarm.
                with np.errstate(all="ignore"):
                    result = run(
                        job.settings,
                        job.frame,
                        cancel=job.cancel.is_set,
                        source=job.source,
                        progress=functools.partial(self.progress.emit, job.generation),
                        **extra,
                    )
                if not job.cancel.is_set():
                    self.result_ready.emit(job.generation, result)
            except cancelled:
                pass
            except CnnvizError as err:
                self.failed.emit(job.generation, str(err))
            except Exception as err:  # a bug: keep the window alive, say what happened
                traceback.print_exc()
                self.failed.emit(job.generation, f"internal error ({type(err).__name__}: {err})")
            finally:
                with self._cond:
                    self._running = None
                    idle = self._pending is None
                if idle:
                    self.busy_changed.emit(False)
