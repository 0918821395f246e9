"""Fixtures for the window tests: offscreen, a private config folder, small fast settings."""

from __future__ import annotations

import gc
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
import shiboken6
from clips import write_clip
from PySide6.QtCore import QCoreApplication, QEvent

from cnnviz.settings import Settings

# Small enough that every computation takes milliseconds on two cores.
SMALL = Settings(size=64, depth=3, channels=8)


def _delete_now() -> None:
    """Destroy the widgets closed with ``deleteLater`` now, on this (the GUI) thread: outside an
    event loop Qt would keep them until a later test runs one (while that test's threads work),
    or until the garbage collector frees them on whatever thread it happens to run in (a collection
    may start on any thread that runs Python, a compute worker's too; Qt objects die on theirs)."""
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture(autouse=True)
def deleted_at_teardown(qapp):
    """What a test closed (its windows, pytest-qt's ``qtbot.addWidget`` widgets) is destroyed at
    the end of that test, and its garbage (Qt wrappers in reference cycles: a worker and its
    thread) is collected here, on the GUI thread, never later by a collection that another test's
    thread happens to start. What survives is frozen out of later collections, which stay cheap
    (some 20 ms instead of the 0.5 s of a full collection with torch and Qt loaded)."""
    yield
    _delete_now()
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def private_config(tmp_path, monkeypatch):
    """Saved window state goes to a temporary folder, never the user's real one."""
    folder = tmp_path / "config"
    monkeypatch.setenv("CNNVIZ_CONFIG_DIR", str(folder))
    return folder


def _settle(qtbot, window, timeout: int = 30_000) -> None:
    """Wait until the newest request has been computed and drawn (or has failed)."""
    qtbot.waitUntil(lambda: window.drawn_generation >= window.worker.latest_generation, timeout=timeout)


@pytest.fixture
def settle(qtbot):
    """``settle(window)``: wait until the window shows the result of its newest request."""
    return lambda window, timeout=30_000: _settle(qtbot, window, timeout)


@pytest.fixture
def small():
    return SMALL


@pytest.fixture
def make_window(qtbot):
    """Factory: a shown, exposed MainWindow with its first result drawn; at teardown closed, its
    worker checked stopped and the window destroyed."""
    from cnnviz.gui.main_window import MainWindow
    from cnnviz.gui.store import StateStore

    windows = []

    def make(settings: Settings = SMALL, view=None, store: bool = True, **kw):
        window = MainWindow(settings, view, store=StateStore() if store else None, **kw)
        windows.append(window)
        window.resize(1400, 850)
        window.show()
        qtbot.waitExposed(window)
        _settle(qtbot, window)
        return window

    yield make
    for window in windows:
        window.close()
        assert window.worker._thread.isFinished(), "the compute thread did not stop"
        window.deleteLater()
    _delete_now()
    assert not any(shiboken6.isValid(window) for window in windows), "a window outlived its test"


@pytest.fixture
def main_window(make_window):
    return make_window()


@pytest.fixture
def clip(tmp_path):
    """A 30-frame clip whose frames carry their own index (tests/clips.py)."""
    return write_clip(tmp_path / "count.mp4", n=30)


@pytest.fixture
def no_traceback(capfd):
    """Nothing the user did may print a traceback."""
    yield
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err
