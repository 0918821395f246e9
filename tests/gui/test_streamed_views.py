"""What the secondary views and texts show while a clip plays and once it is paused: the curves
and the over-time view draw the values of the result they were given (lines without
antialiasing while streaming, smooth again on pause), and the paced texts (status bar, frame
number, caption) land on the paused frame."""

from __future__ import annotations

import numpy as np
import pytest
from clips import read_code
from PySide6.QtGui import QPen
from test_playback import _playing, _shown

from cnnviz.gui.pacing import TextPacer
from cnnviz.gui.plots import LONG_LINE, CurveSet


def _curves_match(w, result) -> None:
    """The curves view shows ``result``'s variance and gradient RMS per scale s."""
    pyr = result.pyramid
    for name, field, first in (("var", "var", 0), ("grad", "grad_rms", 1)):
        grid = pyr.grid(field)
        for s in range(pyr.k + 1):
            levels, values = w.curves.measured(name, s)
            want = np.arange(first, min(pyr.depth, pyr.k - s) + 1)
            shown = np.where(grid[want, s] > 0, grid[want, s], np.nan)  # a log axis: positive values
            if np.isnan(shown).all():
                assert levels.size == 0
                continue
            assert levels.tolist() == want.tolist()
            np.testing.assert_array_equal(values, shown)


def test_curves_show_the_streamed_frame_then_the_whole_result_on_pause(qtbot, make_window, clip, no_traceback):
    w = make_window()
    assert w.open_file(str(clip))
    _shown(qtbot, w, 0)
    streamed = []
    real = w.curves.set_result
    w.curves.set_result = lambda r: (real(r), streamed.append(r) if r.profile.name == "playback" else None)[0]
    w.playback.play()
    qtbot.waitUntil(lambda: len(streamed) >= 2, timeout=60_000)
    w.playback.pause()
    # the last streamed frame the curves drew: its own numbers, lines drawn without antialiasing
    assert w.curves._result is streamed[-1] or w.curves._result.profile.name != "playback"
    if w.curves._result is streamed[-1]:
        _curves_match(w, streamed[-1])
        assert not w.curves._sets["var"]._smooth
    _shown(qtbot, w, w.playback.index)
    qtbot.waitUntil(lambda: w.result.profile.name == "interactive" and w.worker.is_idle(), timeout=30_000)
    assert w.curves._result is w.result and read_code(w.result.pyramid.image) == w.playback.index
    _curves_match(w, w.result)
    assert all(w.curves._sets[n]._smooth for n in ("var", "grad", "zero"))  # paused: smooth lines


def test_over_time_draws_every_frame_shown_and_is_smooth_once_paused(qtbot, make_window, clip, no_traceback):
    w = make_window()
    assert w.open_file(str(clip))
    _shown(qtbot, w, 0)
    view = w.playback.over_time.view
    w.playback.play()
    qtbot.waitUntil(lambda: len(view.rows) >= 6, timeout=60_000)
    w.playback.pause()
    qtbot.waitUntil(lambda: w.worker.is_idle() and not w.playback._fetching, timeout=30_000)
    _shown(qtbot, w, w.playback.index)
    assert view.curves["var"]._smooth and view.curves["grad_rms"]._smooth
    frames = sorted(view.rows)
    for name in ("var", "grad_rms"):
        for level in range(w.settings.depth + 1):
            x, values = view.drawn(name, level)
            want = [(f, view.rows[f][name][level]) for f in frames if view.rows[f][name][level] > 0]
            assert x.tolist() == [f for f, _ in want]
            np.testing.assert_allclose(values, [v for _, v in want], rtol=1e-12)
    assert view.cursor_index == w.playback.index


def test_paced_texts_show_the_paused_frame(qtbot, make_window, clip, no_traceback):
    w = _playing(qtbot, make_window(), clip, 5)
    assert "fps" in w.playback.status.text()
    w.playback.pause()
    _shown(qtbot, w, w.playback.index)
    # paused: every text at once, for the frame on screen (no paced text of an earlier frame later)
    qtbot.wait(250)
    i = w.playback.index
    assert "paused" in w.playback.status.text()
    assert f"frame {i} / 29" in w.playback.controls.position.text()
    assert f"frame {i} of" in w.source_panel.caption.text()
    assert w.status_compute.text().endswith(" ms") and w.status_draw.text().endswith(" ms")


def test_a_text_pacer_applies_the_newest_text_later_while_streaming_and_at_once_otherwise(qtbot):
    from PySide6.QtCore import QObject

    streaming = [True]
    owner = QObject()
    pacer = TextPacer(owner, lambda: streaming[0])
    shown: list[str] = []
    for text in ("a", "b", "c"):
        pacer.later("k", lambda t=text: shown.append(t))
    assert shown == []  # waiting
    qtbot.waitUntil(lambda: shown == ["c"], timeout=2_000)  # the newest only
    pacer.later("k", lambda: shown.append("d"))
    streaming[0] = False
    pacer.later("k", lambda: shown.append("e"))  # not streaming: at once, and "d" is dropped
    assert shown == ["c", "e"]
    qtbot.wait(200)
    assert shown == ["c", "e"]


def _segments(cs: CurveSet) -> list[tuple[float, float, float, float]]:
    out = []
    for path, _ in cs._paths:
        for i in range(1, path.elementCount()):
            a, b = path.elementAt(i - 1), path.elementAt(i)
            if b.isLineTo():
                out.append((a.x, a.y, b.x, b.y))
    return out


@pytest.mark.parametrize("n", [LONG_LINE - 1, LONG_LINE + 1, 500])
def test_a_long_curve_breaks_at_missing_values_as_a_short_one_does(qapp, n):
    """The over-time lines (hundreds of frames) are built in numpy, the curves' (a few levels) in a
    loop: both join consecutive finite points and break at NaN/inf."""
    rng = np.random.default_rng(n)
    x = np.arange(n, dtype=float)
    y = rng.normal(size=n)
    y[rng.random(n) < 0.2] = np.nan
    y[5] = np.inf
    cs = CurveSet()
    cs.set_data([(x, y, QPen())], [], 6)
    ok = np.isfinite(y)
    want = [(x[i], y[i], x[i + 1], y[i + 1]) for i in range(n - 1) if ok[i] and ok[i + 1]]
    assert _segments(cs) == want
    assert cs.dataBounds(1) == (y[ok].min(), y[ok].max()) and cs.dataBounds(0) == (x[ok].min(), x[ok].max())


def test_while_playing_the_scrubber_stands_on_the_frame_whose_maps_are_drawn(qtbot, make_window, clip, no_traceback):
    w = make_window()
    assert w.open_file(str(clip))
    _shown(qtbot, w, 0)
    pairs: list[tuple[int, int]] = []
    slider = w.playback.controls.slider
    w.result_drawn.connect(lambda _g, r: pairs.append((slider.value(), read_code(r.pyramid.image))) if r else None)
    w.playback.play()
    qtbot.waitUntil(lambda: len(pairs) >= 5, timeout=60_000)
    w.playback.pause()
    assert all(shown == drawn for shown, drawn in pairs[1:]), pairs


def test_the_window_asks_for_the_side_thread_only_while_nothing_streams(qtbot, make_window, clip, monkeypatch):
    """A single change: engine.run's side thread uses the core the idle GUI thread leaves; while
    a clip plays, serial (the GUI thread draws on that core)."""
    from cnnviz.gui import worker as worker_module

    monkeypatch.setattr(worker_module, "_SIDE_ENV", "")
    w = make_window()
    asked: list[tuple[bool, bool | None]] = []
    submit = w.worker.submit

    def spy(*args, **kwargs):
        asked.append((w.playback.playing, kwargs.get("side_thread")))
        return submit(*args, **kwargs)

    monkeypatch.setattr(w.worker, "submit", spy)
    w.change(lambda s: s.replace(init=0.5))
    assert asked[-1] == (False, True)
    _playing(qtbot, w, clip, 3)
    w.playback.pause()
    while_playing = [side for playing, side in asked if playing]
    assert while_playing and not any(while_playing)
