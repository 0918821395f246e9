"""A live camera in the window, without hardware: File > Camera lists fake cameras (or says there are
none), the fake camera is a generated clip paced in real time through the camera code's own path,
and the window goes live, freezes with F, reports fps and latency, and survives a lost or busy camera.

Each clip frame carries its index in black/white stripes, so a test reads from the pixels which
frame the window holds."""

from __future__ import annotations

import errno
import re
import threading
from pathlib import Path

import clips
import numpy as np
import pytest
from PySide6.QtCore import Qt

from cnnviz.errors import InputError
from cnnviz.io import camera as cam_io
from cnnviz.io.camera import CameraInfo, CameraProbe, failure_message, paced_clip

BITS = 6  # the index is written modulo 64
WEBCAM = CameraInfo(0, "Test camera", "/dev/video0", "v4l2")


def read_code(rgb: np.ndarray) -> int:
    return clips.read_code(rgb, BITS)


def write_clip(path: Path, n: int = 60, rate: int = 30) -> Path:
    """An MJPEG clip (what webcams send), 80x64, frame i showing i (modulo 64) in stripes."""

    def picture(i: int, width: int, height: int) -> np.ndarray:
        return clips.code_picture(i % 2**BITS, width, height, BITS)

    return clips.write_clip(path, n, 80, 64, "mjpeg", rate, first_pts=0, picture=picture)


@pytest.fixture
def cameras(monkeypatch):
    """``cameras(*infos, reason=None)``: what File > Camera finds."""

    def set_cameras(*found: CameraInfo, reason: str | None = None) -> None:
        monkeypatch.setattr(cam_io, "probe_cameras", lambda platform=None: CameraProbe(found, reason))

    set_cameras()
    return set_cameras


def clip_camera(path: Path, loop: bool = True):
    """An opener for LiveCamera: the clip, paced at its rate, through the camera capture path."""

    def opener(camera: CameraInfo, fit: int, on_frame):
        return paced_clip(path, fit=fit, loop=loop, on_frame=on_frame)

    return opener


def menu_items(window) -> list[tuple[str, bool, bool]]:
    menu = window.commands.camera_menu
    menu.aboutToShow.emit()  # it lists the cameras afresh each time it opens
    return [(a.text(), a.isEnabled(), a.isChecked()) for a in menu.actions() if not a.isSeparator()]


def go_live(window, qtbot, clip: Path, loop: bool = True, frames: int = 3) -> None:
    window.camera.opener = clip_camera(clip, loop)
    menu_items(window)
    window.commands.camera_menu.actions()[0].trigger()
    assert window.camera.active
    qtbot.waitUntil(lambda: window.camera.frames_drawn >= frames, timeout=30_000)


def test_no_camera_says_so_and_nothing_changes(make_window, cameras):
    cameras(reason="no /dev/video* devices")
    w = make_window()
    before = (w.source, w.settings, set(w.contexts))
    assert menu_items(w) == [("no camera found", False, False)]
    assert w.commands.camera_menu.actions()[0].toolTip() == "no /dev/video* devices"
    assert (w.source, w.settings, set(w.contexts)) == before
    assert not w.camera.active and w.camera.status.text() == ""


def test_the_fake_camera_live_end_to_end(make_window, cameras, qtbot, tmp_path):
    cameras(WEBCAM)
    w = make_window()
    assert menu_items(w) == [("Test camera (/dev/video0)", True, False)]
    go_live(w, qtbot, write_clip(tmp_path / "cam.avi"), frames=4)
    assert "video" in w.contexts
    assert w.source.name == "Test camera (/dev/video0)"
    assert w.frame.shape == (64, 64, 3) and w.frame.dtype == np.float32
    assert w.frame_description.startswith("live, frame ")
    assert w.result is not None and w.result.settings.size == 64
    qtbot.waitUntil(lambda: "capture→pixels" in w.camera.status.text(), timeout=10_000)
    status = w.camera.status.text()
    # e.g. "● live 12.5 fps (camera 30) · capture→pixels 61 ms · dropped 40" (the rates are measured)
    assert re.fullmatch(r"● live \d+\.\d fps \(camera \d+\) · capture→pixels \d+ ms · dropped \d+", status), status
    assert w.camera.latency_ms() > 0
    # The menu ticks the live camera and offers to stop it.
    assert menu_items(w) == [("Test camera (/dev/video0)", True, True), ("Stop camera", True, False)]
    # Frames keep coming: the window shows newer ones as results arrive.
    seen = w.camera.last_index
    qtbot.waitUntil(lambda: w.camera.last_index > seen + 2, timeout=30_000)
    w.camera.stop()
    assert not w.camera.active and "video" not in w.contexts
    assert w.frame is not None  # the last frame stays as the image


def test_freeze_holds_the_frame_and_the_controls_stay_live(make_window, cameras, qtbot, tmp_path, settle):
    cameras(WEBCAM)
    w = make_window()
    go_live(w, qtbot, write_clip(tmp_path / "cam.avi"))
    w.activateWindow()
    qtbot.keyClick(w, Qt.Key.Key_F)
    assert w.camera.frozen and w.commands.by_name["freeze"].isChecked()
    settle(w)
    held, code = w.frame, read_code(w.frame)
    captured = w.camera.source.frames_captured
    qtbot.waitUntil(lambda: w.camera.source.frames_captured >= captured + 5, timeout=30_000)
    assert w.frame is held and w.camera.status.text() == "❄ frozen (F: live)"
    # A control still recomputes, on the frozen frame.
    depth = w.settings.depth
    assert w.change(lambda s: s.stepped("depth", -1))
    settle(w)
    assert w.result.settings.depth == depth - 1 and w.frame is held and read_code(w.frame) == code
    qtbot.keyClick(w, Qt.Key.Key_F)
    assert not w.camera.frozen
    qtbot.waitUntil(lambda: w.frame is not held, timeout=30_000)


def test_frames_are_converted_off_the_gui_thread_and_freeze_still_holds(make_window, cameras, qtbot, tmp_path, settle):
    """The GUI thread only hands frames on: RGB conversion and fitting run on the camera's
    converting thread, live and frozen alike; frozen, the window keeps its frame."""
    cameras(WEBCAM)
    w = make_window()
    go_live(w, qtbot, write_clip(tmp_path / "cam.avi"), frames=4)
    source = w.camera.source
    gui = threading.current_thread().name
    assert source.converted_on == {f"convert {source.name}"} and gui not in source.converted_on
    w.camera.toggle_freeze()
    settle(w)
    held, converted = w.frame, source.frames_converted
    qtbot.waitUntil(lambda: source.frames_converted >= converted + 5, timeout=30_000)
    settle(w)
    assert w.camera.frozen and w.frame is held and read_code(held) == w.camera.last_index % 2**BITS
    assert w.camera.status.text() == "❄ frozen (F: live)" and gui not in source.converted_on
    w.camera.toggle_freeze()
    qtbot.waitUntil(lambda: w.frame is not held, timeout=30_000)
    assert gui not in source.converted_on


def test_a_camera_that_disappears_keeps_the_last_frame(make_window, cameras, qtbot, tmp_path, settle):
    cameras(WEBCAM)
    w = make_window()
    go_live(w, qtbot, write_clip(tmp_path / "cam.avi", n=12), loop=False, frames=1)
    qtbot.waitUntil(lambda: bool(w.camera.problem), timeout=30_000)
    assert w.camera.problem == 'clip "cam.avi" stopped sending frames; the last frame stays'
    assert w.statusBar().currentMessage() == w.camera.problem  # one message
    assert w.camera.status.text() == "⚠ camera lost · last frame shown"
    settle(w)
    last = w.frame
    assert last is not None and read_code(last) == w.camera.last_index
    assert w.change(lambda s: s.stepped("depth", -1))  # the window keeps working on it
    settle(w)
    assert w.frame is last and w.result.settings.depth == w.settings.depth
    assert w.last_error is None  # no dialog for a lost camera: the status bar says it once


def test_a_busy_camera_is_one_message_and_nothing_changes(make_window, cameras):
    cameras(WEBCAM)
    w = make_window()
    before = (w.source, w.frame)

    def busy(camera, fit, on_frame):
        raise InputError(failure_message(camera.what(), OSError(errno.EBUSY, "busy"), opening=True))

    w.camera.opener = busy
    menu_items(w)
    w.commands.camera_menu.actions()[0].trigger()
    assert w.last_error == (
        'camera "Test camera" (/dev/video0) is busy: another program is using it '
        "(close that program, then open the camera again)"
    )
    assert not w.camera.active and (w.source, w.frame) == before and "video" not in w.contexts


def test_opening_an_image_stops_the_camera(make_window, cameras, qtbot, tmp_path):
    from cnnviz.paths import SAMPLE_IMAGE

    cameras(WEBCAM)
    w = make_window()
    go_live(w, qtbot, write_clip(tmp_path / "cam.avi"), frames=1)
    source = w.camera.source
    assert w.open_file(str(SAMPLE_IMAGE))
    assert not w.camera.active and not source.running
    assert w.source.name == SAMPLE_IMAGE.name and "video" not in w.contexts


def test_any_pyav_input_through_open_camera(make_window, cameras, qtbot):
    """The real open_camera path, with FFmpeg's test pattern (paced by its realtime filter) as the device."""
    pattern = CameraInfo(0, "Test pattern", "testsrc2=size=160x120:rate=30,realtime", "lavfi")
    cameras(pattern)
    w = make_window()
    assert menu_items(w) == [("Test pattern", True, False)]
    w.commands.camera_menu.actions()[0].trigger()
    qtbot.waitUntil(lambda: w.camera.frames_drawn >= 2, timeout=30_000)
    assert w.source.name == "Test pattern" and w.frame.shape == (64, 64, 3)
    assert w.camera.source.info.describe() == 'camera "Test pattern": 160x120 at 30 fps (asked for 640x480)'


def test_the_video_network_sees_the_last_live_frames(make_window, cameras, qtbot, small, tmp_path):
    cameras(WEBCAM)
    w = make_window(small.replace(mode="video-net", video_window=4))
    go_live(w, qtbot, write_clip(tmp_path / "cam.avi"), frames=5)
    qtbot.waitUntil(lambda: w.result is not None and w.result.video is not None and len(w.result.video.frames) == 4)
    video = w.result.video
    assert not video.still
    assert list(video.frames) == sorted(video.frames) and video.frames[-1] <= w.camera.last_index


def test_two_frames_in_flight_keep_the_queued_one_fresh(make_window, cameras, qtbot, tmp_path, monkeypatch):
    """PIPELINE = 2 (playback's rule, measured and not the default): one computing, one queued;
    never more in flight, and the window still goes through newer frames."""
    from cnnviz.gui import camera as gui_camera

    monkeypatch.setattr(gui_camera, "PIPELINE", 2)
    cameras(WEBCAM)
    w = make_window()
    sizes = []
    take = w.camera._take

    def counting_take():
        take()
        sizes.append(len(w.camera._inflight))

    monkeypatch.setattr(w.camera, "_take", counting_take)
    go_live(w, qtbot, write_clip(tmp_path / "cam.avi"), frames=4)
    seen = w.camera.last_index
    qtbot.waitUntil(lambda: w.camera.last_index > seen + 2, timeout=30_000)
    assert sizes and max(sizes) <= 2
    assert gui_camera.PIPELINE == 2 and w.camera.frames_drawn >= 4
