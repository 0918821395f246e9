"""Cameras without hardware: the probe on a fake /dev (and fake avfoundation/dshow logs), and the
capture path fed generated clips paced in real time, a lavfi test pattern, and inputs that fail."""

from __future__ import annotations

import errno
import itertools
import threading
import time
from pathlib import Path

import av
import av.error
import av.logging
import clips
import numpy as np
import pytest

from cnnviz.errors import InputError
from cnnviz.io import camera
from cnnviz.io.camera import (
    V4L2_CAP_DEVICE_CAPS,
    V4L2_CAP_VIDEO_CAPTURE,
    VIDIOC_QUERYCAP,
    CameraInfo,
    CameraProbe,
    find_camera,
    nearest_mode,
    open_camera,
    open_input,
    paced_clip,
    parse_avfoundation_list,
    parse_avfoundation_modes,
    parse_dshow_list,
    probe_cameras,
)

V4L2_CAP_META_CAPTURE = 0x00800000
TEST_PATTERN = "testsrc2=size=160x120:rate=30,realtime"


# -- a fake /dev ---------------------------------------------------------------------------
class FakeDev:
    """Nodes by path: ("capture"|"meta"|"denied"|"gone"|"not-v4l2", card name)."""

    def __init__(self, monkeypatch, nodes: dict[str, tuple[str, str]], device_caps: bool = True) -> None:
        self.nodes = nodes
        self.fds: dict[int, str] = {}
        self.open_now: set[int] = set()
        self.device_caps = device_caps
        monkeypatch.setattr(camera, "_glob", self.glob)
        monkeypatch.setattr(camera, "_os_open", self.open)
        monkeypatch.setattr(camera, "_os_close", self.close)
        monkeypatch.setattr(camera, "_ioctl", self.ioctl)
        monkeypatch.setattr(camera, "_formats_available", lambda: {"video4linux2,v4l2", "lavfi"})

    def glob(self, pattern: str) -> list[str]:
        assert pattern == "/dev/video*"
        return list(self.nodes)  # unsorted on purpose: the probe orders them

    def open(self, path: str, flags: int) -> int:
        kind = self.nodes[path][0]
        if kind == "denied":
            raise PermissionError(errno.EACCES, "Permission denied", path)
        if kind == "gone":
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
        fd = 100 + len(self.fds)
        self.fds[fd] = path
        self.open_now.add(fd)
        return fd

    def close(self, fd: int) -> None:
        self.open_now.discard(fd)

    def ioctl(self, fd: int, request: int, buf: bytearray) -> int:
        assert request == VIDIOC_QUERYCAP
        kind, card = self.nodes[self.fds[fd]]
        if kind == "not-v4l2":
            raise OSError(errno.ENOTTY, "Inappropriate ioctl for device")
        if kind == "vanishes":
            raise OSError(errno.ENODEV, "No such device")
        own = V4L2_CAP_VIDEO_CAPTURE if kind == "capture" else V4L2_CAP_META_CAPTURE
        whole = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_META_CAPTURE
        if self.device_caps:
            caps, dev = whole | V4L2_CAP_DEVICE_CAPS, own
        else:
            caps, dev = own, 0
        buf[:] = camera._V4L2_CAPABILITY.pack(
            b"uvcvideo", card.encode(), b"usb-0000:00:14.0-1", 0x60000, caps, dev, 0, 0, 0
        )
        return 0


def test_no_devices_says_no_camera_found(monkeypatch):
    FakeDev(monkeypatch, {})
    probe = probe_cameras("linux")
    assert probe.cameras == ()
    assert probe.describe() == "no camera found (no /dev/video* devices)"
    with pytest.raises(InputError, match=r"^no camera found"):
        find_camera(None, probe)


def test_one_webcam_with_its_metadata_node(monkeypatch):
    dev = FakeDev(monkeypatch, {"/dev/video1": ("meta", "HD Webcam"), "/dev/video0": ("capture", "HD Webcam")})
    probe = probe_cameras("linux")
    assert [(c.index, c.name, c.device, c.backend) for c in probe.cameras] == [(0, "HD Webcam", "/dev/video0", "v4l2")]
    assert probe.cameras[0].label() == "HD Webcam (/dev/video0)"
    assert probe.reason is None
    assert not dev.open_now  # every node it opened was closed again
    assert find_camera(None, probe).device == "/dev/video0"
    assert find_camera("0", probe).device == "/dev/video0"
    with pytest.raises(InputError, match="no camera 1: there is 1 camera"):
        find_camera(1, probe)


def test_old_kernels_without_device_caps_use_the_capabilities(monkeypatch):
    FakeDev(monkeypatch, {"/dev/video0": ("capture", "Old Cam"), "/dev/video1": ("meta", "Old Cam")}, device_caps=False)
    assert [c.device for c in probe_cameras("linux").cameras] == ["/dev/video0"]


def test_nodes_in_numeric_order_and_non_cameras_skipped(monkeypatch):
    FakeDev(
        monkeypatch,
        {
            "/dev/video10": ("capture", "Document camera"),
            "/dev/video2": ("capture", "USB Camera"),
            "/dev/video0": ("capture", "Integrated Camera"),
            "/dev/video3": ("not-v4l2", ""),
        },
    )
    cams = probe_cameras("linux").cameras
    assert [c.device for c in cams] == ["/dev/video0", "/dev/video2", "/dev/video10"]
    assert [c.index for c in cams] == [0, 1, 2]
    assert find_camera("usb camera", CameraProbe(cams)).device == "/dev/video2"


def test_a_node_that_vanishes_while_probed_is_skipped(monkeypatch):
    FakeDev(
        monkeypatch,
        {
            "/dev/video0": ("gone", "Unplugged"),  # listed, then gone before open
            "/dev/video2": ("vanishes", "Unplugged too"),  # opened, gone before the ioctl answered
            "/dev/video4": ("capture", "Still here"),
        },
    )
    probe = probe_cameras("linux")
    assert [c.name for c in probe.cameras] == ["Still here"]
    assert probe.cameras[0].index == 0


def test_a_camera_that_vanished_after_listing_is_one_line(monkeypatch):
    FakeDev(monkeypatch, {"/dev/video0": ("capture", "HD Webcam")})
    cam = probe_cameras("linux").cameras[0]

    def gone(*args, **kwargs):
        raise av.error.FileNotFoundError(errno.ENOENT, "No such file or directory", "/dev/video0")

    monkeypatch.setattr(camera, "_av_open", gone)
    with pytest.raises(InputError) as info:
        open_camera(cam)
    assert str(info.value) == 'camera "HD Webcam" (/dev/video0) is not there any more (unplugged?)'


def test_no_permission_is_named(monkeypatch):
    FakeDev(monkeypatch, {"/dev/video0": ("denied", "")})
    probe = probe_cameras("linux")
    assert probe.cameras == ()
    assert "no permission to open /dev/video0" in probe.describe()
    assert "'video' group" in probe.describe()


def test_pyav_without_the_platform_input(monkeypatch):
    monkeypatch.setattr(camera, "_formats_available", lambda: {"lavfi"})
    assert "no v4l2 input" in probe_cameras("linux").reason
    assert "no avfoundation input" in probe_cameras("darwin").reason
    assert "no dshow input" in probe_cameras("win32").reason
    assert probe_cameras("sunos5").describe() == "no camera found (listing cameras is not supported on sunos5)"


# -- macOS and Windows listings ------------------------------------------------------------
AVFOUNDATION_LOG = [
    "AVFoundation video devices:\n",
    "[0] FaceTime HD Camera\n",
    "[1] OBS Virtual Camera\n",
    "[2] Capture screen 0\n",
    "AVFoundation audio devices:\n",
    "[0] MacBook Pro Microphone\n",
]


def test_avfoundation_listing_through_the_ffmpeg_log(monkeypatch):
    calls = []

    def fake_open(url, format=None, options=None, **kwargs):
        calls.append((url, format, options))
        for line in AVFOUNDATION_LOG:  # what FFmpeg's avfoundation input logs, through the same log path
            av.logging.log(av.logging.INFO, "AVFoundation indev", line)
        raise av.error.ExitError(-1414092869, "Immediate exit requested")

    monkeypatch.setattr(camera, "_formats_available", lambda: {"avfoundation"})
    monkeypatch.setattr(camera, "_av_open", fake_open)
    probe = probe_cameras("darwin")
    assert calls == [("", "avfoundation", {"list_devices": "true"})]
    assert [(c.index, c.name, c.device) for c in probe.cameras] == [
        (0, "FaceTime HD Camera", "0"),
        (1, "OBS Virtual Camera", "1"),
    ]
    assert probe.cameras[0].what() == 'camera "FaceTime HD Camera"'
    assert av.logging.get_level() is None  # the log level is put back


def test_avfoundation_with_only_screens_finds_none(monkeypatch):
    def fake_open(url, format=None, options=None, **kwargs):
        for line in ("AVFoundation video devices:", "[0] Capture screen 0", "AVFoundation audio devices:"):
            av.logging.log(av.logging.INFO, "AVFoundation indev", line)
        raise av.error.ExitError(-1414092869, "Immediate exit requested")

    monkeypatch.setattr(camera, "_formats_available", lambda: {"avfoundation"})
    monkeypatch.setattr(camera, "_av_open", fake_open)
    assert probe_cameras("darwin").describe() == "no camera found (avfoundation lists no video device)"


def test_dshow_listing_new_layout_with_duplicate_names():
    log = [
        '"Integrated Camera" (video)',
        '  Alternative name "@device_pnp_\\\\?\\usb#vid_0001"',
        '"USB Camera" (video)',
        '  Alternative name "@device_pnp_\\\\?\\usb#vid_0002"',
        '"USB Camera" (video)',
        '  Alternative name "@device_pnp_\\\\?\\usb#vid_0003"',
        '"Microphone (Realtek Audio)" (audio)',
        '  Alternative name "@device_cm_{33D9A762}"',
    ]
    cams = parse_dshow_list(log)
    assert [c.name for c in cams] == ["Integrated Camera", "USB Camera", "USB Camera"]
    assert cams[0].device == "video=Integrated Camera"
    assert cams[1].device.startswith("video=@device_pnp_") and cams[1].device != cams[2].device


def test_dshow_listing_old_layout():
    log = [
        "DirectShow video devices (some may be both video and audio devices)",
        ' "Logitech HD Webcam C270"',
        '    Alternative name "@device_pnp_\\\\?\\usb#vid_046d"',
        "DirectShow audio devices",
        ' "Microphone (HD Webcam C270)"',
    ]
    assert [(c.name, c.device) for c in parse_dshow_list(log)] == [
        ("Logitech HD Webcam C270", "video=Logitech HD Webcam C270")
    ]


def test_avfoundation_parse_and_nearest_mode():
    assert parse_avfoundation_list(AVFOUNDATION_LOG)[1].name == "OBS Virtual Camera"
    log = [
        "Selected video size (640x480) is not supported by the device.",
        "Supported modes:",
        "  1920x1080@[1.000000 30.000000]fps",
        "  1280x720@[1.000000 60.000000]fps",
        "  640x360@[15.000000 30.000000]fps",
    ]
    modes = parse_avfoundation_modes(log)
    assert modes == [(1920, 1080, 30.0), (1280, 720, 60.0), (640, 360, 30.0)]
    assert nearest_mode(modes, (640, 480), 30) == (640, 360, 30.0)


# -- opening: busy, modes ------------------------------------------------------------------
ONE_CAMERA = CameraProbe((CameraInfo(0, "HD Webcam", "/dev/video0", "v4l2"),))


def test_a_busy_camera_is_one_line(monkeypatch):
    def busy(*args, **kwargs):
        raise av.error.FFmpegError(errno.EBUSY, "Device or resource busy")

    monkeypatch.setattr(camera, "_av_open", busy)
    with pytest.raises(InputError) as info:
        open_camera(0, probe=ONE_CAMERA)
    assert str(info.value) == (
        'camera "HD Webcam" (/dev/video0) is busy: another program is using it '
        "(close that program, then open the camera again)"
    )


def test_a_refused_mode_falls_back_to_what_the_device_has(monkeypatch):
    asked = []

    def picky(url, format=None, options=None, timeout=None):
        asked.append(dict(options))
        if "framerate" in options:
            raise av.error.ArgumentError(errno.EINVAL, "Invalid argument")
        return av.open(TEST_PATTERN, format="lavfi")  # the device, in its own mode

    monkeypatch.setattr(camera, "_av_open", picky)
    with open_camera(0, probe=ONE_CAMERA, fit=64) as source:
        assert asked == [{"video_size": "640x480", "framerate": "30"}, {"video_size": "640x480"}]
        assert (source.info.width, source.info.height) == (160, 120)
        assert source.info.describe() == 'camera "HD Webcam" (/dev/video0): 160x120 at 30 fps (asked for 640x480)'
        assert source.newest().rgb.shape == (64, 64, 3)


def test_a_camera_that_opens_but_gives_no_picture(monkeypatch):
    stop = threading.Event()

    class Silent:
        """A device that opens and then never delivers a frame."""

        def __init__(self):
            self.inner = av.open(TEST_PATTERN, format="lavfi")
            self.streams = self.inner.streams

        def demux(self, stream):
            stop.wait()
            return iter(())

        def close(self):
            self.inner.close()

    monkeypatch.setattr(camera, "_av_open", lambda *a, **k: Silent())
    try:
        with pytest.raises(InputError, match=r'^camera "HD Webcam" \(/dev/video0\) gives no picture'):
            open_camera(0, probe=ONE_CAMERA, timeout=0.3)
    finally:
        stop.set()


# -- capture through the same path: generated clips paced in real time ----------------------
def write_clip(path: Path, n: int = 15, rate: int = 30, width: int = 80, height: int = 60) -> Path:
    """A small MJPEG clip (what most webcams send): frame i is uniformly grey i * 16."""
    return clips.write_clip(path, n, width, height, "mjpeg", rate, first_pts=0, picture=clips.grey)


def collect(source, count: int, timeout: float = 10.0) -> list:
    frames, last = [], -1
    while len(frames) < count:
        frame = source.wait_newer(last, timeout)
        if frame is None:
            break
        frames.append(frame)
        last = frame.index
    return frames


def test_a_paced_clip_gives_fitted_frames_with_capture_times(tmp_path):
    clip = write_clip(tmp_path / "clip.avi")
    with paced_clip(clip, fit=32) as source:
        assert source.info.describe() == 'clip "clip.avi": 80x60 at 30 fps'
        frames = collect(source, 5)
        assert len(frames) == 5
        for f in frames:
            assert f.rgb.shape == (32, 32, 3) and f.rgb.dtype == np.float32 and f.rgb.flags.c_contiguous
            assert 0.0 <= f.rgb.min() <= f.rgb.max() <= 1.0
            assert f.fit.describe() == "80x60, centre-cropped to 60x60, resized to 32x32"
        indices = [f.index for f in frames]
        assert indices == sorted(set(indices))
        assert all(a.captured < b.captured for a, b in itertools.pairwise(frames))
        assert frames[0].time >= 0.0
        assert source.newest_frame_at(123.0) is source.newest()  # playback's interface; t means nothing live


def test_the_newest_frame_wins_and_the_rest_are_dropped(tmp_path):
    clip = write_clip(tmp_path / "clip.avi", n=8)
    with paced_clip(clip, fit=32, loop=False) as source:  # open_camera/open_input take the first frame
        # A consumer too slow for the camera: it takes nothing more until the clip has ended.
        while source.problem is None:
            time.sleep(0.02)
        newest = source.newest()
        assert newest.index == 7 == source.frames_captured - 1  # the newest, not the next in a queue
        assert source.frames_taken == 2 and source.frames_dropped == 6
        assert newest.rgb.mean() == pytest.approx(7 * 16 / 255, abs=0.03)


def test_the_fit_size_can_change_while_live(tmp_path):
    clip = write_clip(tmp_path / "clip.avi")
    with paced_clip(clip, fit=32) as source:
        assert source.newest().rgb.shape == (32, 32, 3)
        source.size = 64
        assert source.newest().rgb.shape == (64, 64, 3)  # even before a new frame arrives


def test_a_clip_that_ends_is_a_camera_that_stopped_and_the_last_frame_stays(tmp_path):
    clip = write_clip(tmp_path / "clip.avi", n=6)
    with paced_clip(clip, fit=32, loop=False) as source:
        frames = collect(source, 100)
        assert source.problem == 'clip "clip.avi" stopped sending frames'
        assert isinstance(source.error, InputError)
        last = source.newest()
        assert last is not None and last.index == frames[-1].index == source.frames_captured - 1
        assert last.rgb.mean() == pytest.approx(5 * 16 / 255, abs=0.03)
        assert source.wait_newer(last.index, 0.5) is None
        assert source.fps == 0.0


def test_a_looping_clip_keeps_going(tmp_path):
    clip = write_clip(tmp_path / "clip.avi", n=4)
    with paced_clip(clip, fit=32) as source:
        frames = collect(source, 10)
        assert len(frames) == 10 and source.problem is None


class Unplugged:
    """A real input whose device disappears after ``after`` packets (read error ENODEV)."""

    def __init__(self, url: str, fmt: str | None, after: int) -> None:
        self.inner = av.open(url, format=fmt)
        self.streams = self.inner.streams
        self.after = after

    def demux(self, stream):
        for i, packet in enumerate(self.inner.demux(stream)):
            if i == self.after:
                raise av.error.OSError(errno.ENODEV, "No such device")
            yield packet

    def close(self):
        self.inner.close()


def test_a_camera_unplugged_mid_stream_is_one_message_and_the_last_frame_stays(monkeypatch):
    monkeypatch.setattr(camera, "_av_open", lambda *a, **k: Unplugged(TEST_PATTERN, "lavfi", after=4))
    events = []
    source = open_camera(0, probe=ONE_CAMERA, fit=32, on_frame=events.append)
    try:
        frames = collect(source, 100)
        assert source.problem == 'camera "HD Webcam" (/dev/video0) was disconnected'
        assert frames and source.newest().index == 3 == frames[-1].index
        assert events[-1] == -1  # the listener hears of the failure too
        assert not source.running or source.error is not None
    finally:
        source.close()


def test_any_pyav_input_goes_through_the_same_path():
    with open_input(TEST_PATTERN, "lavfi", fit=64, name="test pattern") as source:
        frames = collect(source, 3)
        assert [f.rgb.shape for f in frames] == [(64, 64, 3)] * 3
        assert source.info.fps == 30.0
    assert not source.running
    assert source.wait_newer(frames[-1].index, 0.1) is None


def test_a_bad_input_is_one_line():
    with pytest.raises(InputError, match=r"^input 'nosuchfilter' cannot be opened: "):
        open_input("nosuchfilter", "lavfi")
    with pytest.raises(InputError, match=r"^no such file"):
        paced_clip("/nonexistent/clip.mp4")


# -- macOS and Windows opening: FFmpeg says "I/O error" for several things; the log tells them apart
FACETIME = CameraProbe((CameraInfo(0, "FaceTime HD Camera", "0", "avfoundation"),))
USB_DSHOW = CameraProbe((CameraInfo(0, "USB Camera", "video=USB Camera", "dshow"),))


def eio(*log: str):
    for line in log:
        av.logging.log(av.logging.ERROR, "indev", line)
    return av.error.FFmpegError(errno.EIO, "Input/output error")


def test_avfoundation_refusing_640x480_gets_its_nearest_mode(monkeypatch):
    asked = []

    def mac(url, format=None, options=None, timeout=None):
        asked.append(dict(options))
        if options != {"video_size": "640x360", "framerate": "30.000000"}:
            raise eio(
                "Selected video size (640x480) is not supported by the device.",
                "Supported modes:",
                "  1280x720@[1.000000 30.000000]fps",
                "  640x360@[1.000000 30.000000]fps",
            )
        return av.open(TEST_PATTERN, format="lavfi")

    monkeypatch.setattr(camera, "_av_open", mac)
    with open_camera(0, probe=FACETIME, fit=32) as source:
        assert asked[:2] == [
            {"video_size": "640x480", "framerate": "30"},
            {"video_size": "640x360", "framerate": "30.000000"},
        ]
        assert source.newest() is not None
    assert av.logging.get_level() is None


def test_avfoundation_every_mode_refused_lists_the_modes(monkeypatch):
    def mac(url, format=None, options=None, timeout=None):
        raise eio("Supported modes:", "  1280x720@[1.000000 30.000000]fps")

    monkeypatch.setattr(camera, "_av_open", mac)
    with pytest.raises(InputError) as info:
        open_camera(0, probe=FACETIME)
    assert str(info.value) == 'camera "FaceTime HD Camera" refused every mode asked for (it lists 1280x720@30)'


def test_avfoundation_io_error_without_modes_is_the_privacy_setting(monkeypatch):
    monkeypatch.setattr(camera, "_av_open", lambda *a, **k: (_ for _ in ()).throw(eio("Failed to create input")))
    with pytest.raises(InputError, match=r"Privacy & Security > Camera"):
        open_camera(0, probe=FACETIME)


def test_dshow_busy_and_refused_mode(monkeypatch):
    def in_use(url, format=None, options=None, timeout=None):
        raise eio("Could not run graph (sometimes caused by a device already in use by other application)")

    monkeypatch.setattr(camera, "_av_open", in_use)
    with pytest.raises(InputError, match=r'^camera "USB Camera" is busy: another program is using it'):
        open_camera(0, probe=USB_DSHOW)

    asked = []

    def no_640(url, format=None, options=None, timeout=None):
        asked.append(dict(options))
        if options:
            raise eio("Could not set video options")
        return av.open(TEST_PATTERN, format="lavfi")

    monkeypatch.setattr(camera, "_av_open", no_640)
    with open_camera(0, probe=USB_DSHOW, fit=32) as source:
        assert asked[-1] == {} and len(asked) == 3
        assert source.info.describe() == 'camera "USB Camera": 160x120 at 30 fps (asked for 640x480)'


def test_frames_are_converted_on_the_sources_own_thread_newest_first(tmp_path, monkeypatch):
    """A conversion slower than the camera never queues frames: the converting thread takes the
    newest raw frame each time (the ones in between are dropped), and the consumer never converts."""
    slow = camera.fit_to_size

    def slow_fit(rgb, size):
        time.sleep(0.1)  # three frame intervals at 30 fps
        return slow(rgb, size)

    monkeypatch.setattr(camera, "fit_to_size", slow_fit)
    told = []
    clip = write_clip(tmp_path / "clip.avi", n=30)
    with paced_clip(clip, fit=32, on_frame=told.append) as source:
        while source.frames_captured < 20:
            assert source.newest(wait=False) is None or source.newest(wait=False).rgb.shape == (32, 32, 3)
            time.sleep(0.01)
        assert source.converted_on == {f"convert {source.name}"}
        assert threading.current_thread().name not in source.converted_on
        assert source.frames_converted < source.frames_captured - 3  # the rest were dropped, not queued
        assert any(b - a > 1 for a, b in itertools.pairwise(told))  # each time the newest, skipping some
        assert told == sorted(told)


def test_newest_without_waiting_never_converts_on_the_caller(tmp_path):
    clip = write_clip(tmp_path / "clip.avi")
    with paced_clip(clip, fit=32) as source:
        source.size = 64
        got = source.newest(wait=False)  # what is converted at 64 now: none yet, or one from the converter
        assert got is None or got.rgb.shape == (64, 64, 3)
        assert source.newest().rgb.shape == (64, 64, 3)
        assert threading.current_thread().name not in source.converted_on
