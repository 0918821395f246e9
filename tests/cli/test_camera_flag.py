"""`cnnviz --camera [N]`: the camera is found before any window opens, or one line says why not."""

from __future__ import annotations

import io

import pytest

import cnnviz.gui.app
from cnnviz.cli import main
from cnnviz.io import camera
from cnnviz.io.camera import CameraInfo, CameraProbe

WEBCAM = CameraInfo(0, "HD Webcam", "/dev/video0", "v4l2")


@pytest.fixture
def launched(monkeypatch):
    calls = []

    def fake_launch(**kwargs):
        calls.append(kwargs)
        return 0

    monkeypatch.setattr(cnnviz.gui.app, "launch", fake_launch)
    return calls


def cameras(monkeypatch, *found: CameraInfo, reason: str | None = None) -> None:
    monkeypatch.setattr(camera, "probe_cameras", lambda platform=None: CameraProbe(found, reason))


def run(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    code = main(list(argv), out=io.StringIO(), err=err)
    return code, err.getvalue()


def test_no_camera_is_one_line_and_no_window(monkeypatch, launched):
    cameras(monkeypatch, reason="no /dev/video* devices")
    assert run("--camera") == (1, "cnnviz: error: no camera found (no /dev/video* devices)\n")
    assert launched == []


def test_the_first_camera_by_default_and_the_saved_state_is_kept(monkeypatch, launched):
    cameras(monkeypatch, WEBCAM)
    assert run("--camera") == (0, "")
    assert launched[0]["camera"] == WEBCAM
    assert launched[0]["settings"] is None  # --camera alone restores the saved settings


def test_camera_by_number(monkeypatch, launched):
    usb = CameraInfo(1, "USB Camera", "/dev/video2", "v4l2")
    cameras(monkeypatch, WEBCAM, usb)
    assert run("--camera", "1", "--size", "128") == (0, "")
    assert launched[0]["camera"] == usb
    assert launched[0]["settings"].size == 128


def test_a_camera_number_that_is_not_there(monkeypatch, launched):
    cameras(monkeypatch, WEBCAM)
    code, err = run("--camera", "3")
    assert code == 1
    assert err == "cnnviz: error: no camera 3: there is 1 camera (0: HD Webcam (/dev/video0))\n"
    assert launched == []


def test_a_file_and_a_camera_are_refused(monkeypatch, launched, tmp_path):
    cameras(monkeypatch, WEBCAM)
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"")
    code, err = run(str(photo), "--camera")
    assert code == 1 and err == "cnnviz: error: give a file or --camera, not both\n"
    code, err = run("--camera", "--screenshot", str(tmp_path / "out.png"))
    assert code == 1 and "not a live camera" in err
    code, err = run("--camera", "--lecture")
    assert code == 1 and "--camera cannot be combined with a lecture deck" in err
    assert launched == []


def test_without_camera_the_window_is_launched_as_before(launched):
    assert run() == (0, "")
    assert launched[0]["camera"] is None
