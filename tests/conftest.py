"""Every test: no thread it started may outlive it.

A thread left running after its test (the window's compute thread, a video decoder, a camera
capture, a movie's worker) runs on into later tests and can take the process down when Qt or
Python's garbage collector destroys it while it still runs. The autouse fixture below fails the
test that leaves one, naming it, after a short grace for threads that were told to stop. Threads
are counted after every other fixture's teardown (windows closed, workers shut down).

A process forked (a ``multiprocessing`` pool) while a QThread runs copies a lock or a half-done
computation into the child: such forks are recorded and reported as a warning on the test.
"""

from __future__ import annotations

import os
import threading
import time
import warnings

import pytest
from PySide6.QtCore import QThread

GRACE_S = 5.0  # a thread told to stop may take a moment to see it (a convolution finishing)

_started: list[QThread] = []  # every QThread started during the current test
_kept: list[QThread] = []  # leaked QThreads still running: destroyed while running, Qt would abort
_forks: list[str] = []  # the QThreads that ran when this process forked, one line per fork
_original_start = QThread.start


def _recording_start(self: QThread, *args, **kwargs):
    _started.append(self)
    return _original_start(self, *args, **kwargs)


QThread.start = _recording_start  # type: ignore[method-assign]


def _thread_name(thread: QThread) -> str:
    return thread.objectName() or type(thread).__name__


def _running(thread: QThread) -> bool:
    try:
        return thread.isRunning()
    except RuntimeError:  # its C++ object was deleted (by its parent): it had stopped
        return False


def _before_fork() -> None:
    live = [_thread_name(t) for t in (*_kept, *_started) if _running(t)]
    if live:
        _forks.append(", ".join(live))


os.register_at_fork(before=_before_fork)


def _leaked_python_threads(before: set[threading.Thread]) -> list[threading.Thread]:
    deadline = time.monotonic() + GRACE_S
    left = []
    for thread in threading.enumerate():
        if thread in before or thread is threading.current_thread() or isinstance(thread, threading._DummyThread):
            continue  # a dummy: a thread Python did not start (a QThread that ran Python code)
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            left.append(thread)
    return left


def _leaked_qthreads() -> list[QThread]:
    deadline = time.monotonic() + GRACE_S
    left = []
    for thread in _started:
        if _running(thread) and not thread.wait(max(0, int(1000 * (deadline - time.monotonic())))):
            left.append(thread)
    return left


@pytest.fixture(autouse=True)
def no_leaked_threads():
    """Fail a test that leaves a thread running; warn when it forked while a QThread ran."""
    before = set(threading.enumerate())
    _started.clear()
    _forks.clear()
    yield
    qthreads = _leaked_qthreads()
    _kept.extend(qthreads)
    _started.clear()
    threads = _leaked_python_threads(before)
    for forked in _forks:
        warnings.warn(f"forked while QThreads ran: {forked}", pytest.PytestWarning, stacklevel=1)
    _forks.clear()
    names = [f"QThread {_thread_name(t)!r}" for t in qthreads] + [f"thread {t.name!r}" for t in threads]
    if names:
        pytest.fail("left running after the test: " + ", ".join(names), pytrace=False)
