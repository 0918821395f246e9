"""Long runs in the window: the estimate is said, progress advances, Esc cancels and keeps the
picture, and settings that would not fit in memory are refused without changing anything."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt

from cnnviz.core import budget
from cnnviz.gui import long_runs

SLOW_CHANNELS = 24  # the fake engine below blocks on these settings until it is cancelled


@pytest.fixture
def everything_is_long(monkeypatch):
    """Every request counts as long (the real threshold is 2 s), so the tests run fast."""
    monkeypatch.setattr(long_runs, "WARN_SECONDS", -1.0)


@pytest.fixture
def slow_engine(monkeypatch):
    """The window's run function, except that settings with SLOW_CHANNELS report 30 % and then
    wait for their cancel (as the engine does between strips of a huge convolution)."""
    import cnnviz.gui.main_window as mw
    from cnnviz.core.strips import Cancelled
    from cnnviz.gui.playback import compute

    started = threading.Event()

    def run(settings, data, **kw):
        if settings.channels != SLOW_CHANNELS:
            return compute(settings, data, **kw)
        kw["progress"](0.1)
        kw["progress"](0.3)
        started.set()
        while not kw["cancel"]():
            threading.Event().wait(0.01)
        raise Cancelled

    monkeypatch.setattr(mw, "compute", run)
    return started


def test_a_long_request_says_its_estimate_and_shows_its_progress(qtbot, settle, make_window, small, everything_is_long):
    w = make_window(small)
    seen: dict[int, list[float]] = {}
    w.worker.progress.connect(lambda g, f: seen.setdefault(g, []).append(f))
    target = small.replace(channels=small.channels * 2)
    w.request(target)
    message = w.statusBar().currentMessage()
    est = long_runs.estimate_of(target)
    assert message.startswith("Esc cancels · about ") and budget.format_bytes(est.bytes) in message
    assert "smaller input size or fewer channels" in message and "Esc" in message
    assert w.long_runs.bar.isVisibleTo(w) and w.long_runs.cancel_button.isVisibleTo(w)
    settle(w)
    gen = w.drawn_generation
    qtbot.waitUntil(lambda: seen.get(gen, [0])[-1] == pytest.approx(1.0), timeout=10_000)
    assert seen[gen] == sorted(seen[gen]) and len(seen[gen]) >= 3  # per scale, forward and backward
    assert w.result.settings == target
    assert not w.long_runs.bar.isVisibleTo(w)  # done: the bar goes away


def test_short_requests_show_no_estimate_and_no_bar(settle, make_window, small):
    w = make_window(small)
    w.request(small.replace(depth=small.depth - 1))
    assert not w.long_runs.bar.isVisibleTo(w)
    assert "about " not in w.statusBar().currentMessage()
    settle(w)


@pytest.mark.parametrize("how", ["esc", "button"])
def test_cancel_stops_the_run_and_keeps_the_previous_result(
    qtbot, make_window, small, everything_is_long, slow_engine, how
):
    w = make_window(small)
    before, shown = w.settings, w.result
    w.request(small.replace(channels=SLOW_CHANNELS, size=128))
    assert w.settings.channels == SLOW_CHANNELS
    assert slow_engine.wait(30)
    qtbot.waitUntil(lambda: w.long_runs.bar.value() == 300, timeout=10_000)  # 30 %, as reported
    if how == "esc":
        w.activateWindow()
        qtbot.keyClick(w, Qt.Key.Key_Escape)
    else:
        qtbot.mouseClick(w.long_runs.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(w.worker.is_idle, timeout=5_000)  # the run stopped
    assert w.result is shown  # the previous picture stays ...
    assert w.settings == before  # ... with the settings it was computed with
    assert w.frame.shape[0] == before.size
    assert w.controls._settings == before  # the controls show them too
    assert not w.long_runs.bar.isVisibleTo(w)
    assert "cancelled" in w.statusBar().currentMessage()
    assert w.drawn_generation >= w.worker.latest_generation
    # and the next request is computed as usual
    w.request(small.replace(depth=small.depth - 1))
    qtbot.waitUntil(lambda: w.result is not shown, timeout=30_000)


def test_settings_that_would_not_fit_are_refused_and_nothing_changes(qtbot, settle, make_window, small, monkeypatch):
    w = make_window(small)
    before, shown, gen = w.settings, w.result, w.worker.latest_generation
    est = long_runs.estimate_of(small.replace(size=128))
    monkeypatch.setattr(budget, "available_memory", lambda device="cpu": est.bytes // 2)
    w.request(small.replace(size=128))
    message = w.statusBar().currentMessage()
    assert "needs about" in message and "choose a smaller input size" in message
    assert "\n" not in message
    assert (w.settings, w.result, w.worker.latest_generation) == (before, shown, gen)  # nothing submitted
    assert w.frame.shape[0] == before.size
    assert not w.long_runs.bar.isVisibleTo(w)


def test_esc_with_nothing_running_says_so(settle, make_window, small):
    w = make_window(small)
    w.long_runs.cancel()
    assert w.statusBar().currentMessage() == "nothing is being computed"
    assert w.result is not None


def test_cancelling_the_first_request_says_nothing_was_computed(qtbot, small, everything_is_long, slow_engine):
    """Started on settings too heavy to wait for: Esc says what to change, not that a previous
    result (there is none) stays on screen."""
    from cnnviz.gui.main_window import MainWindow

    w = MainWindow(small.replace(channels=SLOW_CHANNELS, size=128), store=None)
    w.resize(1400, 850)
    w.show()
    try:
        qtbot.waitExposed(w)
        assert slow_engine.wait(30)
        assert w.long_runs.running
        w.commands.by_name["cancel_run"].trigger()  # what Esc does
        qtbot.waitUntil(w.worker.is_idle, timeout=5_000)
        message = w.statusBar().currentMessage()
        assert message.startswith("cancelled: nothing computed yet") and "fewer channels" in message
        assert w.result is None
    finally:
        w.close()
        assert w.worker.shutdown(30_000)
        w.deleteLater()
