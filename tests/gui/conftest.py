"""Fixtures for the window tests: offscreen, a private config folder, small fast settings."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from cnnviz.settings import Settings

# Small enough that every computation takes milliseconds on two cores.
SMALL = Settings(size=64, depth=3, channels=8)


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
    """Factory: a shown, exposed MainWindow with its first result drawn; closed and its worker
    checked stopped at teardown."""
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


@pytest.fixture
def main_window(make_window):
    return make_window()
