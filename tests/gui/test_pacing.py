"""What the window computes and draws per result while frames stream (gui/pacing.py), and the
labels whose text changes every frame without re-laying out the window (gui/steady.py)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
from clips import read_code
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget
from test_playback import _shown

from cnnviz.core.result import profile
from cnnviz.gui.pacing import EQUIVARIANCE_INTERVAL_S, SECONDARY_INTERVAL_S, Pacer, achieved_fps, shown_fps
from cnnviz.gui.steady import SteadyLabel, SteadyText


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def _result(equivariance: bool):  # a whole result (interactive), or one streamed without equivariance
    return SimpleNamespace(pyramid=object(), profile=profile("interactive" if equivariance else "playback"))


def test_while_streaming_the_equivariance_pass_is_asked_for_once_an_interval():
    clock = Clock()
    pacer = Pacer(clock)
    assert pacer.profile(False, True).equivariance and pacer.profile(False, True).name == "interactive"
    assert not pacer.profile(False, False).equivariance  # its panel hidden: never computed
    asked = []
    frames = round(2.2 * EQUIVARIANCE_INTERVAL_S / 0.01)
    for _ in range(frames):  # frames 10 ms apart for 2.2 intervals
        p = pacer.profile(True, True)
        assert p.name == "playback"
        asked.append(p.equivariance)
        clock.t += 0.01
    assert asked[0] and sum(asked) == 3  # one frame in EQUIVARIANCE_INTERVAL_S, the first at once
    assert not any(pacer.profile(True, False).equivariance for _ in range(5))


def test_while_streaming_the_secondary_views_are_drawn_ten_times_a_second_from_whole_results():
    clock = Clock()
    pacer = Pacer(clock)
    drawn = []
    for i in range(40):
        drawn.append(pacer.draw_secondary(_result(i % 10 == 0), True, True))  # as asked: one a 100 ms
        clock.t += 0.01
    assert drawn[0] and 3 <= sum(drawn) <= 5 and pacer.stale == (not drawn[-1]) and pacer.skipped == 40 - sum(drawn)
    # Results without the readout are drawn too when none with it came for two intervals.
    late = [pacer.draw_secondary(_result(False), True, True) for _ in range(1)]
    clock.t += 2.01 * SECONDARY_INTERVAL_S
    assert late == [False] and pacer.draw_secondary(_result(False), True, True)
    # Nothing streams: every result is drawn whole.
    assert all(pacer.draw_secondary(_result(True), False, True) for _ in range(5)) and not pacer.stale
    assert Pacer.incomplete(_result(False), True) and not Pacer.incomplete(_result(False), False)
    assert not Pacer.incomplete(_result(True), True) and not Pacer.incomplete(None, True)
    # a streamed frame with the equivariance pass still lacks the per-position theory
    streamed = SimpleNamespace(pyramid=object(), profile=profile("playback", equivariance=True))
    assert Pacer.incomplete(streamed, True)


class _LayoutRequests(QObject):
    def __init__(self, widget: QWidget) -> None:
        super().__init__()
        self.count = 0
        widget.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:
            self.count += 1
        return False


@pytest.mark.parametrize("kind", [SteadyLabel, SteadyText])
def test_a_new_text_of_the_same_size_does_not_lay_out_the_window_again(qtbot, kind):
    top = QWidget()
    lay = QVBoxLayout(top)
    label = kind("frame 10 / 99 · 0:00.40")
    lay.addWidget(label)
    top.resize(400, 100)
    top.show()
    qtbot.waitExposed(top)
    QApplication.processEvents()
    spy = _LayoutRequests(top)
    size = label.size()
    for i in range(11, 30):
        label.setText(f"frame {i} / 99 · 0:00.{i + 40}")
        QApplication.processEvents()
    assert spy.count == 0 and label.size() == size and label.text() == "frame 29 / 99 · 0:00.69"
    label.setText("a much longer text, far wider than the frame number was, " * (3 if kind is SteadyText else 1))
    QApplication.processEvents()
    assert spy.count >= 1  # more room: laid out once
    if kind is SteadyLabel:
        assert label.width() > size.width()
        label.setText("x")  # shorter: the room stays (no relayout per frame) ...
        QApplication.processEvents()
        assert label.width() > size.width()
        label.release()  # ... until released
        QApplication.processEvents()
        assert label.width() < size.width()
    else:
        assert label.height() > size.height()  # more wrapped lines, all shown
        assert label.label.geometry() == label.rect()


def test_the_equivariance_pass_is_skipped_while_its_panel_is_hidden_and_comes_back(qtbot, make_window, settle):
    w = make_window()
    assert w.result.profile.equivariance and math.isfinite(w.curves.equivariance_error)
    readout = w.curves.readout.text()
    w.curves.hide()
    w.change(lambda s: s.replace(init=s.init * 1.5 if isinstance(s.init, float) else 2.5))
    settle(w)
    assert not w.result.profile.equivariance and all(math.isnan(e) for e in w.result.pyramid.equivariance)
    w.curves.show()  # shown again: the result on screen is asked for again, whole
    qtbot.waitUntil(lambda: w.result.profile.equivariance, timeout=30_000)
    settle(w)
    assert math.isfinite(w.curves.equivariance_error) and w.curves.readout.text()
    assert "scale-equivariant" in readout


def test_a_playing_clip_draws_maps_every_frame_and_curves_less_often_then_whole_on_pause(
    qtbot, make_window, clip, capfd
):
    w = make_window()
    assert w.open_file(str(clip))
    _shown(qtbot, w, 0)
    profiles: list = []
    w.result_drawn.connect(lambda _g, r: profiles.append(r.profile) if r is not None else None)
    curves_drawn = []
    real = w.curves.set_result
    w.curves.set_result = lambda r: (curves_drawn.append(r), real(r))[-1]
    w.playback.speed = 2.0
    w.playback.play()
    qtbot.waitUntil(lambda: len(profiles) >= 8, timeout=60_000)
    w.playback.pause()
    qtbot.waitUntil(lambda: not w.playback._fetching and w.worker.is_idle(), timeout=30_000)
    _shown(qtbot, w, w.playback.index)
    qtbot.waitUntil(lambda: w.result.profile.equivariance and w.worker.is_idle(), timeout=30_000)
    assert any(p.name == "playback" for p in profiles)  # frames computed with the playback profile
    assert w.result.profile.name == "interactive" and w.result.profile.equivariance  # paused: whole
    assert curves_drawn[-1] is w.result  # the curves show the result on screen
    assert read_code(w.result.pyramid.image) == w.playback.index
    assert math.isfinite(w.curves.equivariance_error)
    assert "Traceback" not in "".join(capfd.readouterr())


def test_a_bigger_window_font_widens_a_steady_label_so_no_text_is_cut(qtbot):
    """A+ sets the window's font; it reaches the labels by propagation, not by their setFont."""
    from PySide6.QtGui import QFontMetrics

    top = QWidget()
    lay = QVBoxLayout(top)
    label = SteadyLabel("device: cpu  compute: 26 ms  draw: 36 ms")
    text = SteadyText("frame 29 of 100 (1.16 s of 4.0 s), 512x512, resized to 256x256 " * 2)
    lay.addWidget(label)
    lay.addWidget(text)
    top.resize(300, 200)
    top.show()
    qtbot.waitExposed(top)
    QApplication.processEvents()
    before_w, before_h = label.width(), text.height()
    font = top.font()
    font.setPointSizeF(font.pointSizeF() * 1.6)
    top.setFont(font)
    QApplication.processEvents()
    needed = QFontMetrics(label.font()).horizontalAdvance(label.text())
    assert label.width() >= needed > before_w
    assert text.height() > before_h  # the same words take more wrapped lines


def test_while_a_slider_is_held_the_equivariance_pass_is_paced_and_the_theory_kept():
    clock = Clock()
    pacer = Pacer(clock)
    pacer.dragging = True
    asked = []
    for _ in range(round(2.2 * EQUIVARIANCE_INTERVAL_S / 0.01)):  # a drag: steps 10 ms apart
        p = pacer.profile(False, True)
        assert p.name == "interactive"  # the per-position theory stays on the curves
        asked.append(p.equivariance)
        clock.t += 0.01
    assert asked[0] and sum(asked) == 3
    drawn = [pacer.draw_secondary(_result(i % 10 == 0), False, True) for i in range(3)]
    assert drawn == [True, False, False] and pacer.stale
    pacer.dragging = False  # let go: everything is drawn and computed again
    assert pacer.profile(False, True).equivariance and pacer.draw_secondary(_result(True), False, True)


def test_a_drag_draws_every_result_and_ends_whole_when_the_slider_is_let_go(qtbot, make_window, settle):
    w = make_window()
    w.pacer._clock = Clock()  # time stands still: only the drag's first result is due for the curves
    slider = w.controls.init.slider
    maps_drawn, curves_drawn = [], []
    w.result_drawn.connect(lambda _g, r: maps_drawn.append(r) if r is not None else None)
    real = w.curves.set_result
    w.curves.set_result = lambda r: (curves_drawn.append(r), real(r))[-1]
    slider.setSliderDown(True)  # the mouse holds the slider
    assert w.pacer.dragging
    for _ in range(6):
        slider.setValue(slider.value() + 1)
        settle(w)
    assert maps_drawn[-1].settings == w.settings  # the maps follow the drag
    assert len(maps_drawn) == 6 and len(curves_drawn) == 1  # the curves at most ten times a second
    slider.setSliderDown(False)
    assert not w.pacer.dragging
    qtbot.waitUntil(lambda: w.worker.is_idle() and w.result.profile.equivariance, timeout=30_000)
    settle(w)
    assert w.result.settings == w.settings and w.result.profile.name == "interactive"
    assert curves_drawn[-1] is w.result and math.isfinite(w.curves.equivariance_error)  # whole again


def test_once_a_result_is_drawn_the_libraries_are_out_of_the_collectors_sight(qtbot, make_window):
    """A full garbage collection of torch's and Qt's objects froze the GUI for 50-160 ms mid-drag."""
    import gc

    make_window()
    qtbot.waitUntil(lambda: gc.get_freeze_count() > 0, timeout=5_000)


def test_the_shown_frame_rate_never_reads_above_the_clips():
    """A 25 fps clip whose frames 1-3 were drawn late, back to back after a stall, measures 26 fps
    over the last two seconds; the status shows 25, and a slower player what it achieved."""
    drawn = [0.12, 0.125, 0.13] + [i / 25 for i in range(4, 51)]  # then every frame on time
    now = drawn[-1]
    measured = achieved_fps(drawn, now)
    assert measured > 25.5
    assert shown_fps(measured, 25.0) == 25.0
    assert shown_fps(measured, 2 * 25.0) == measured  # at 2x the clip asks for 50 fps
    assert shown_fps(12.5, 25.0) == 12.5
    assert shown_fps(measured, 0.0) == measured  # no rate known
