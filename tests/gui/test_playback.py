"""Video in the window: play, pause, step and scrub land on exact frames; frames are dropped (never
queued) when computing is slow; Problem 2's network as the fourth mode; every kind of bad clip.

Clips are written here with PyAV; each frame carries its index in black/white stripes, so a
test can read which frame was shown and computed from the pixels themselves."""

from __future__ import annotations

import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from clips import noise, read_code, write_audio_only, write_clip
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from cnnviz.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _active(qtbot, window) -> None:
    """Keys of the video context go to the active window."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)


def _shown(qtbot, window, index: int, timeout: int = 30_000) -> None:
    """Wait until frame ``index`` is in the window and its result is drawn."""

    def done():
        r = window.result
        if r is None or window.playback.index != index or not window.worker.is_idle():
            return False
        image = r.pyramid.image if r.pyramid is not None else r.video.layers[0].now.transpose(1, 2, 0)
        return read_code(image) == index and window.drawn_generation >= window.worker.latest_generation

    qtbot.waitUntil(done, timeout=timeout)


def _playing(qtbot, window, clip, frames: int, timeout: int = 60_000):
    """Open ``clip`` in ``window``, wait for frame 0, play, and wait until ``frames`` frames are drawn."""
    assert window.open_file(str(clip))
    _shown(qtbot, window, 0)
    window.playback.play()
    qtbot.waitUntil(lambda: window.playback.frames_drawn >= frames, timeout=timeout)
    return window


def test_space_plays_with_focus_on_a_combo_box_of_a_window_not_made_active(qtbot, make_window, clip, no_traceback):
    """After a file dialog closes, the focus may sit on the colour map's combo box and (under X
    without a window manager) no window is active again: Space must still play the clip, and not
    open the combo box."""
    w = make_window()
    assert w.open_file(str(clip))
    _shown(qtbot, w, 0)
    other = QWidget()  # some other window is the active one, as far as Qt knows
    qtbot.addWidget(other)
    other.show()
    other.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is other)
    combo = w.display_bar.cmap_box
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Space)
    assert w.playback.playing
    assert not combo.view().isVisible()
    w.playback.pause()


def test_a_clip_plays_frames_advance_and_results_are_drawn(qtbot, make_window, clip, no_traceback):
    w = make_window()
    assert w.open_file(str(clip))
    assert w.playback.active and "video" in w.contexts and w.playback.controls.isVisible()
    _shown(qtbot, w, 0)
    _active(qtbot, w)
    drawn: list[int] = []
    w.result_drawn.connect(lambda _g, r: drawn.append(read_code(r.pyramid.image)) if r is not None else None)
    qtbot.keyClick(w, Qt.Key.Key_Space)
    assert w.playback.playing
    qtbot.waitUntil(lambda: len(drawn) >= 4 and w.playback.index >= 4, timeout=30_000)
    assert drawn == sorted(drawn) or drawn[-1] < drawn[0]  # forward (or wrapped round by the loop)
    assert len(set(drawn)) >= 3
    assert "fps" in w.playback.status.text() and "dropped" in w.playback.status.text()
    qtbot.keyClick(w, Qt.Key.Key_Space)
    assert not w.playback.playing


def test_pause_step_and_scrub_land_on_the_exact_frame(qtbot, make_window, clip, no_traceback):
    w = make_window()
    assert w.open_file(str(clip))
    _shown(qtbot, w, 0)
    _active(qtbot, w)
    qtbot.keyClick(w, Qt.Key.Key_Right)
    _shown(qtbot, w, 1)
    qtbot.keyClick(w, Qt.Key.Key_Period)
    _shown(qtbot, w, 2)
    qtbot.keyClick(w, Qt.Key.Key_Comma)
    _shown(qtbot, w, 1)
    w.playback.controls.slider.setValue(17)  # the scrubber
    _shown(qtbot, w, 17)
    assert "frame 17 / 29" in w.playback.controls.position.text()
    assert read_code(w.frame) == 17 and w.source.frame_index == 17
    assert w.scene().source.frame == 17  # the scene records the frame
    qtbot.keyClick(w, Qt.Key.Key_Left)
    _shown(qtbot, w, 16)
    qtbot.keyClick(w, Qt.Key.Key_End)
    _shown(qtbot, w, 29)
    qtbot.keyClick(w, Qt.Key.Key_Home)
    _shown(qtbot, w, 0)
    # Play then pause: the frame on screen is the one computed.
    w.playback.play()
    qtbot.waitUntil(lambda: w.playback.index >= 2, timeout=30_000)
    w.playback.pause()
    qtbot.waitUntil(lambda: not w.playback._fetching and w.worker.is_idle(), timeout=30_000)
    _shown(qtbot, w, w.playback.index)  # the frame on screen is the one computed
    assert not w.playback.playing


def test_slow_compute_drops_frames_and_still_draws(qtbot, make_window, tmp_path, monkeypatch, no_traceback):
    import cnnviz.gui.main_window as mw
    from cnnviz.gui.playback import compute

    def slow(settings, data, **kw):
        time.sleep(0.25)  # four results a second, the clip runs at 25
        return compute(settings, data, **kw)

    monkeypatch.setattr(mw, "compute", slow)
    path = write_clip(tmp_path / "long.mkv", n=50)
    w = make_window()
    assert w.open_file(str(path))
    _shown(qtbot, w, 0)
    w.playback.set_loop(False)
    drawn: list[int] = []
    w.result_drawn.connect(lambda _g, r: drawn.append(read_code(r.pyramid.image)) if r is not None else None)
    w.playback.play()
    qtbot.waitUntil(lambda: not w.playback.playing, timeout=60_000)  # stops at the end (loop off)
    qtbot.waitUntil(w.worker.is_idle, timeout=30_000)
    assert len(drawn) >= 3, "results are drawn although computing cannot keep up"
    assert w.playback.dropped > 10, "frames are dropped, not queued"
    assert drawn == sorted(drawn)
    assert w.playback.frames_drawn + w.playback.dropped >= 30
    assert "dropped" in w.playback.status.text()


def test_a_settings_change_during_playback_cancels_and_is_drawn(qtbot, make_window, clip, no_traceback):
    w = _playing(qtbot, make_window(), clip, 2)
    w.change(lambda s: s.replace(init=0.5))
    qtbot.waitUntil(lambda: w.result is not None and w.result.settings.init == 0.5, timeout=30_000)
    w.playback.pause()


def _explicit_layer(prev: np.ndarray, weight: np.ndarray, stride: int) -> np.ndarray:
    """relu(sum_{dx, dy, dt, i} W[j, i, dt, dy, dx] L[i, s t + dt, s y + dy, s x + dx]), centred offsets,
    zeros outside: a loop over the offsets and channels, no convolution routine.

    prev ``[I, T, H, W]``, weight ``[J, I, Dt, D, D]`` -> ``[J, ceil(T/s), ceil(H/s), ceil(W/s)]``."""
    n_in, t_len, h, w = prev.shape
    n_out, _, dt_len, d, _ = weight.shape
    p, pt = d // 2, dt_len // 2
    pad = np.zeros((n_in, t_len + 2 * pt, h + 2 * p, w + 2 * p))
    pad[:, pt : pt + t_len, p : p + h, p : p + w] = prev
    to, ho, wo = (math.ceil(t_len / stride), math.ceil(h / stride), math.ceil(w / stride))
    out = np.zeros((n_out, to, ho, wo))
    for j in range(n_out):
        for i in range(n_in):
            for dt in range(dt_len):
                for dy in range(d):
                    for dx in range(d):
                        window = pad[i, dt : dt + stride * to : stride, dy : dy + stride * ho : stride]
                        out[j] += weight[j, i, dt, dy, dx] * window[:, :, dx : dx + stride * wo : stride]
    return np.maximum(out, 0)


@pytest.mark.parametrize("stride", [1, 2])
def test_video_net_mode_is_problem_2s_network_on_the_last_t_frames(qtbot, make_window, clip, stride, no_traceback):
    from cnnviz.core.video_engine import video_net_for

    s = Settings(mode="video-net", size=32, depth=2, channels=3, video_window=4, video_stride=stride)
    w = make_window(s)
    assert w.open_file(str(clip))
    w.playback.seek(9)
    qtbot.waitUntil(
        lambda: w.result is not None and w.result.video is not None and w.result.video.frames == (6, 7, 8, 9),
        timeout=30_000,
    )
    v = w.result.video
    assert w.stack.currentWidget() is w.video_view and v.window == 4 and not v.still
    clip_frames = w.playback.clip_frames  # [T, N, N, 3]
    assert [read_code(f) for f in clip_frames] == [6, 7, 8, 9]
    net = video_net_for(w.result.settings)
    layer = clip_frames.transpose(3, 0, 1, 2).astype(np.float64) - 0.5  # [3, T, N, N]
    for level in (1, 2):
        layer = _explicit_layer(layer, net.weight[level - 1].detach().double().numpy(), stride)
        got = w.result.video.layers[level]
        assert got.shape == (1, 3, *layer.shape[1:])
        np.testing.assert_allclose(got.now, layer[:, -1], rtol=1e-4, atol=1e-5)  # the newest time step
        np.testing.assert_allclose(got.strip, layer[:, :, layer.shape[2] // 2, :], rtol=1e-4, atol=1e-5)
        assert got.stats.var == pytest.approx(float(layer.var()), rel=1e-4)
        assert got.multiplies == net.multiplies((1, 3, 4, 32, 32))[level]
    assert w.video_view.table.rowCount() == 4  # L0, L1, L2, total
    assert "·" in w.video_view.table.item(1, 2).text()


def test_video_net_mode_on_an_image_uses_a_still_clip(qtbot, make_window, settle, no_traceback):
    w = make_window(Settings(mode="video-net", size=32, depth=2, channels=4, video_window=3))
    settle(w)
    assert w.result.video is not None and w.result.video.still and w.result.video.window == 3
    assert "still image" in w.video_view.heading.text()
    assert not w.playback.active and not w.playback.controls.isVisible()


def test_video_net_controls_change_the_settings(qtbot, make_window, settle, no_traceback):
    w = make_window(Settings(mode="video-net", size=32, depth=2, channels=4, video_window=3))
    w.video_view.window_box.setValue(5)
    w.video_view.stride_box.setValue(1)
    w.video_view.kernel_t_box.setValue(5)
    settle(w)
    assert (w.settings.video_window, w.settings.video_stride, w.settings.video_kernel_t) == (5, 1, 5)
    assert w.result.video.window == 5 and w.result.video.kernel_t == 5
    w.video_view.channel_box.setValue(2)  # the channel every map and strip shows
    assert w.view.channel == 2 and "ch 2" in w.video_view.columns._cols[1][0]


def test_a_clip_opens_on_frame_n_from_the_start(qtbot, make_window, clip, no_traceback):
    w = make_window(file=str(clip), frame=12)
    _shown(qtbot, w, 12)
    assert "frame 12 of 30" in w.frame_description


def test_screenshot_of_frame_n_in_the_video_net_mode(tmp_path, clip):
    out = tmp_path / "shot.png"
    args = [sys.executable, "-m", "cnnviz", "--screenshot", str(out), str(clip), "--frame", "7"]
    args += ["--mode", "video-net", "--size", "32", "--depth", "2", "--channels", "4", "--window-size", "900x600"]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert out.stat().st_size > 10_000
    bad = subprocess.run(
        [sys.executable, "-m", "cnnviz", "--screenshot", str(out), str(clip), "--frame", "99"],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    assert bad.returncode == 1 and len(bad.stderr.strip().splitlines()) == 1 and "99" in bad.stderr


# -- bad input --------------------------------------------------------------------------------
def test_truncated_clip_keeps_the_last_good_frame(qtbot, make_window, tmp_path, no_traceback):
    full = write_clip(tmp_path / "full.mkv", n=30, width=128, height=96, picture=noise)
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(full.read_bytes()[: len(full.read_bytes()) * 6 // 10])
    w = make_window()
    assert w.open_file(str(cut))
    qtbot.waitUntil(lambda: "truncated" in w.playback.problem, timeout=10_000)
    assert w.playback.controls.problem.isVisible() or not w.isVisible()
    last = w.playback.count - 1
    w.playback.set_loop(False)
    w.playback.play()
    qtbot.waitUntil(lambda: not w.playback.playing, timeout=60_000)
    qtbot.waitUntil(w.worker.is_idle, timeout=30_000)
    assert 0 < w.playback.index <= last and w.frame is not None
    assert w.result is not None and w.isVisible()


def test_frames_that_change_size_are_told_once_and_fitted(qtbot, make_window, tmp_path, no_traceback):
    a = write_clip(tmp_path / "a.mpg", n=10, width=64, height=64, fmt="mpegts")
    b = write_clip(tmp_path / "b.mpg", n=10, width=96, height=48, fmt="mpegts", first_pts=12)
    both = tmp_path / "both.mpg"
    both.write_bytes(a.read_bytes() + b.read_bytes())
    w = make_window()
    assert w.open_file(str(both))
    w.playback.seek(w.playback.count - 1)
    qtbot.waitUntil(lambda: "change size" in w.playback.problem, timeout=30_000)
    qtbot.waitUntil(w.worker.is_idle, timeout=30_000)
    assert w.frame.shape == (64, 64, 3)


def test_audio_only_file_is_one_line_and_the_picture_stays(qtbot, make_window, tmp_path, no_traceback):
    path = write_audio_only(tmp_path / "voice.m4a")
    w = make_window()
    before = w.frame.copy()
    path = path.rename(tmp_path / "voice.mp4")  # a video's extension, audio inside
    assert not w.open_file(str(path))
    assert "no video stream" in w.last_error and "\n" not in w.last_error
    np.testing.assert_array_equal(w.frame, before)
    assert not w.playback.active
    w._error_box.close()


def test_one_pixel_clip_plays(qtbot, make_window, tmp_path, no_traceback):
    path = write_clip(tmp_path / "dot.mkv", n=5, width=1, height=1, codec="ffv1", picture=noise)
    w = make_window()
    assert w.open_file(str(path))
    w.playback.seek(3)
    qtbot.waitUntil(lambda: w.playback.index == 3 and w.worker.is_idle(), timeout=30_000)
    assert w.frame.shape == (64, 64, 3) and np.ptp(w.frame, axis=(0, 1)).max() < 1e-6  # one colour


def test_rotated_phone_clip_is_shown_upright(qtbot, make_window, tmp_path, no_traceback):
    def top_bar(i, w, h):
        img = np.zeros((h, w, 3), np.uint8)
        img[: h // 4] = 255
        return img

    path = write_clip(tmp_path / "phone.mp4", n=3, width=322, height=242, rotation=90, picture=top_bar)
    w = make_window()
    assert w.open_file(str(path))
    assert w.frame[:, :8].mean() > 0.9 and w.frame[:, -16:].mean() < 0.1  # the bar is on the left


def test_variable_frame_rate_clip_steps_and_scrubs_exactly(qtbot, make_window, tmp_path, no_traceback):
    pts = [0, 40, 80, 200, 240, 400, 420, 440, 460, 700]
    path = write_clip(tmp_path / "vfr.mkv", n=10, pts_ms=pts)
    w = make_window()
    assert w.open_file(str(path))
    assert w.playback.times == pytest.approx([p / 1000 for p in pts], abs=1e-3)
    w.playback.seek(7)
    _shown(qtbot, w, 7)
    assert "0:00.44" in w.playback.controls.position.text()
    w.playback.set_loop(False)
    w.playback.seek(0)
    _shown(qtbot, w, 0)
    w.playback.play()
    qtbot.waitUntil(lambda: not w.playback.playing, timeout=30_000)
    qtbot.waitUntil(lambda: w.playback.index == 9, timeout=10_000)  # the clip ends on its last frame


def test_an_image_after_a_clip_hides_the_controls(qtbot, make_window, clip, no_traceback):
    from cnnviz.paths import SAMPLE_IMAGE

    w = make_window()
    assert w.open_file(str(clip))
    qtbot.waitUntil(w.playback.over_time.isVisible)  # a window of 850 px has room for it
    assert w.playback.controls.isVisible()
    assert w.open_file(str(SAMPLE_IMAGE))
    assert not w.playback.active and not w.playback.controls.isVisible() and "video" not in w.contexts
    assert not w.playback.over_time.isVisible()


def test_over_time_fills_and_the_whole_clip_pass_runs_and_cancels(qtbot, make_window, clip, no_traceback):
    w = make_window()
    assert w.open_file(str(clip))
    _shown(qtbot, w, 0)
    view = w.playback.over_time.view
    assert 0 in view.rows and len(view.rows[0]["var"]) == w.settings.depth + 1
    view.start_pass()
    assert view.progress.isVisible() or not w.isVisible()
    qtbot.waitUntil(lambda: view._pass is None, timeout=120_000)
    assert sorted(view.rows) == list(range(30))
    w.change(lambda s: s.replace(seed=5))  # a new network: the curves start afresh
    qtbot.waitUntil(lambda: w.result.settings.seed == 5 and len(view.rows) == 1, timeout=30_000)
    view.start_pass()
    qtbot.waitUntil(lambda: view.progress.value() >= 2, timeout=60_000)
    view.cancel_pass()  # mid-pass: stops between frames; the window stays usable
    assert view._pass is None and view.run_button.isEnabled()
    assert 2 <= len(view.rows) < 30


def test_a_dropped_clip_and_the_recent_menu_open_it_with_its_controls(qtbot, make_window, clip, no_traceback):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    from cnnviz.paths import SAMPLE_IMAGE

    w = make_window()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(clip))])
    pos = QPointF(w.width() / 2, w.height() / 2)
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime, buttons, mods)
    QApplication.sendEvent(w, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(w, QDropEvent(pos, Qt.DropAction.CopyAction, mime, buttons, mods))
    assert w.playback.active and w.playback.controls.isVisible()
    _shown(qtbot, w, 0)
    assert w.open_file(str(SAMPLE_IMAGE)) and not w.playback.active
    recent = [a for a in w.commands.recent_menu.actions() if a.text() == str(clip.resolve())]
    assert recent, "the clip is in the recent-files menu"
    recent[0].trigger()
    assert w.playback.active and w.source.name == clip.name


def test_the_over_time_cursor_stands_on_the_frame_shown(qtbot, make_window, clip, no_traceback):
    w = make_window()
    assert w.open_file(str(clip))
    _shown(qtbot, w, 0)
    view = w.playback.over_time.view
    w.playback.seek(7)
    _shown(qtbot, w, 7)
    assert view.cursor_index == 7  # paused: a scrub moves it at once
    w.playback.play()
    qtbot.waitUntil(lambda: w.playback.index >= 10, timeout=30_000)
    qtbot.waitUntil(lambda: view.cursor_index >= 10, timeout=5_000)  # it follows while playing
    w.playback.pause()
    qtbot.waitUntil(lambda: w.worker.is_idle() and view.cursor_index == w.playback.index, timeout=10_000)
