"""The compute worker with the real engine: latest request wins, nothing piles up."""

from __future__ import annotations

import pytest

from cnnviz.gui.worker import ComputeWorker
from cnnviz.io.images import load_image
from cnnviz.paths import SAMPLE_IMAGE
from cnnviz.settings import Settings


@pytest.fixture
def worker():
    w = ComputeWorker()
    w.start()
    yield w
    assert w.shutdown(30_000)


@pytest.fixture(scope="module")
def frame():
    return load_image(SAMPLE_IMAGE, 512)[0]  # fitted to the size the tests ask for


def collect(worker):
    got = []
    worker.result_ready.connect(lambda g, r: got.append((g, r)))
    return got


def test_a_burst_of_changes_computes_only_the_newest(qtbot, worker, frame):
    got = collect(worker)
    base = Settings(size=512, depth=9, channels=16)
    with qtbot.waitSignal(worker.busy_changed, timeout=60_000):  # the first job is now running
        first = worker.submit(base, frame)
    burst = [base.replace(depth=d, seed=i) for i, d in enumerate((6, 5, 4, 6, 5, 4, 3), start=1)]
    # A burst of key presses arrives within one pass of the event loop; holding the worker's
    # (re-entrant) lock makes it so here too, however loaded the host is.
    with worker._cond:
        gens = [worker.submit(s, frame) for s in burst]
    qtbot.waitUntil(lambda: worker.is_idle() and any(g == gens[-1] for g, _ in got), timeout=60_000)
    # Queued requests were replaced, not queued up: only the newest was computed after the first,
    # and the first - made pointless by a new depth - was cancelled or, if it got through, is stale.
    assert [g for g, _ in got if g != first] == [gens[-1]]
    assert got[-1][1].settings == burst[-1]
    assert all(worker.is_stale(g) for g, _ in got[:-1])
    assert worker.is_stale(first) and not worker.is_stale(gens[-1])


def test_a_dragged_slider_still_shows_results_while_it_moves(qtbot, worker, frame):
    got = collect(worker)
    base = Settings(size=512, depth=9, channels=16)
    with qtbot.waitSignal(worker.busy_changed, timeout=60_000):
        first = worker.submit(base.replace(init=0.001), frame)
    with worker._cond:  # one burst, as above
        gens = [worker.submit(base.replace(init=0.001 * (2 + i)), frame) for i in range(7)]
    qtbot.waitUntil(lambda: worker.is_idle() and any(g == gens[-1] for g, _ in got), timeout=60_000)
    # Only the weight variance changed: the running job was not thrown away, and its result is
    # worth drawing (a drag shows intermediate results); the queued ones were replaced.
    assert [g for g, _ in got] == [first, gens[-1]]
    assert not any(worker.is_stale(g) for g, _ in got)
    assert got[-1][1].settings.init == pytest.approx(0.008)


def test_errors_a_user_can_cause_come_back_as_one_line(qtbot, worker):
    failures = []
    worker.failed.connect(lambda g, msg: failures.append((g, msg)))
    gen = worker.submit(Settings(size=64, depth=3), None)  # the pyramid needs an image
    qtbot.waitUntil(lambda: bool(failures), timeout=60_000)
    assert failures[0][0] == gen and "\n" not in failures[0][1] and "image" in failures[0][1]


def test_a_click_on_another_cell_is_a_new_request_for_its_histogram(qtbot, worker, frame):
    got = collect(worker)
    s = Settings(size=64, depth=3, channels=4)
    small = frame[::8, ::8].copy()
    gen = worker.submit(s, small, selected=(2, 1))
    qtbot.waitUntil(lambda: any(g == gen for g, _ in got), timeout=60_000)
    result = dict(got)[gen]
    assert result.profile.selected == (2, 1)
    assert [(st.level, st.scale) for st in result.pyramid.layers if st.hist_counts.size] == [(2, 1)]


@pytest.mark.parametrize("expected", [False, True])
def test_a_request_that_does_not_say_runs_with_the_workers_default(qtbot, monkeypatch, frame, expected):
    """A job with no side-thread choice of its own (the warm-up, another caller) runs serial
    unless CNNVIZ_SIDE_THREAD=1, and the engine's default (exports and movies made in the same
    process) is left as it was."""
    import torch

    from cnnviz.core import engine
    from cnnviz.gui import worker as worker_module

    default = engine.OVERLAP
    monkeypatch.setattr(worker_module, "SIDE_THREAD", expected)
    monkeypatch.setattr(engine, "available_cores", lambda: torch.get_num_threads() + 1)  # a core to spare
    w = ComputeWorker()
    got = collect(w)
    w.start()
    try:
        w.submit(Settings(size=64, depth=3, channels=4), frame[:64, :64])
        qtbot.waitUntil(lambda: bool(got), timeout=60_000)
        result = got[-1][1]
        assert any(k.startswith("side ") for k in result.timings) is expected
        assert engine.OVERLAP is default  # the process's default is not the window's to change
    finally:
        assert w.shutdown(30_000)


@pytest.mark.parametrize("side_thread", [False, True])
def test_a_request_says_whether_the_engine_uses_its_side_thread(qtbot, monkeypatch, frame, side_thread):
    import torch

    from cnnviz.core import engine

    monkeypatch.setattr(engine, "available_cores", lambda: torch.get_num_threads() + 1)  # a core to spare
    w = ComputeWorker()
    got = collect(w)
    w.start()
    try:
        w.submit(Settings(size=64, depth=3, channels=4), frame[:64, :64], side_thread=side_thread)
        qtbot.waitUntil(lambda: bool(got), timeout=60_000)
        assert any(k.startswith("side ") for k in got[-1][1].timings) is side_thread
    finally:
        assert w.shutdown(30_000)


def test_the_side_thread_only_while_the_gui_thread_is_idle(monkeypatch):
    """Streaming frames or a held slider: the GUI thread draws on the other core, so serial; a
    single step or an idle request: the side thread. CNNVIZ_SIDE_THREAD=0 or 1 decides both."""
    from cnnviz.gui import worker as worker_module

    monkeypatch.setattr(worker_module, "_SIDE_ENV", "")
    assert worker_module.side_thread_for(streaming=False) is True
    assert worker_module.side_thread_for(streaming=True) is False
    for env, want in (("0", False), ("1", True)):
        monkeypatch.setattr(worker_module, "_SIDE_ENV", env)
        assert worker_module.side_thread_for(streaming=False) is want
        assert worker_module.side_thread_for(streaming=True) is want
