"""Live cameras in, the newest RGB frame out, fitted to a 2^k square exactly as video frames are.

Qt-free. Two halves:

**Listing** (:func:`probe_cameras`, :func:`list_cameras`). PyAV opens cameras but does not
list them, so each platform is asked in its own way:

- Linux: every ``/dev/video*`` node is opened and asked ``VIDIOC_QUERYCAP``; the nodes whose
  device capabilities include ``V4L2_CAP_VIDEO_CAPTURE`` are cameras (a USB webcam also has
  a metadata node, which is skipped), named by the driver's card name.
- macOS: FFmpeg's ``avfoundation`` input opened with ``list_devices`` logs the devices; the
  log is captured through :mod:`av.logging` and its video section read ("Capture screen"
  entries are screens, not cameras, and are skipped).
- Windows: ``dshow`` with ``list_devices`` likewise (both of FFmpeg's log layouts).

When nothing is found the probe says why (:attr:`CameraProbe.reason`): no device nodes, no
permission, a PyAV build without the platform's input, ... The system calls are module
attributes (``_glob``, ``_os_open``, ``_ioctl``, ``_av_open``) so tests replace them with fakes.

**Capture** (:func:`open_camera`, :func:`open_input`, :func:`paced_clip`). A
:class:`CameraSource` owns one PyAV input container and a capture thread that reads every
frame the device sends but keeps only the newest one (frames are dropped, never queued, so
latency stays at most one frame interval however slow the consumer is), and a converting
thread that turns the newest raw frame into RGB float32 fitted to the square (about 3 ms for
640x480 to 256^2), so the consumer (the window's GUI thread) never pays for it. The converting
thread takes only the newest raw frame: older ones were already replaced, so a slow conversion
never queues frames; a frame the device sends meanwhile waits as the one raw frame, converted
next. ``on_frame`` is called from the converting thread when a converted frame is ready (and with
-1 once, after the last one, when capture fails). The consumer takes frames with
:meth:`CameraSource.newest` (``wait=False``: what is converted now, never converting on the
caller) / :meth:`CameraSource.newest_frame_at` (the interface
:class:`~cnnviz.io.video.VideoReader` gives playback) or waits for the next one with
:meth:`CameraSource.wait_newer`. Each :class:`CameraFrame` carries ``captured``, the
``time.perf_counter()`` instant the capture thread received it, for capture-to-pixels latency.

The capture code takes any PyAV input: :func:`open_input` opens a URL with any FFmpeg
format (``lavfi`` ``testsrc2=size=640x480:rate=30,realtime`` is a camera without hardware),
and :func:`paced_clip` plays a video file at its own frame rate, looping, as a fake camera.

Failures a user can cause are one :class:`~cnnviz.errors.InputError` line: no camera, a busy
camera (another program has it), no permission, a camera that vanished between listing and
opening, one that gives no picture. A camera that disappears or stops mid-stream does not
raise in the consumer: :attr:`CameraSource.problem` says what happened and the last good frame
stays available.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import re
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import av.error
import av.logging
import numpy as np

from ..errors import InputError
from .images import fit_to_size
from .video import MAX_PIXELS, Frame

DEFAULT_SIZE = (640, 480)  # a modest capture resolution keeps capture and conversion cheap
DEFAULT_FPS = 30
DEFAULT_TIMEOUT_S = 5.0  # longest wait for the device to open or for one frame
FPS_WINDOW = 30  # frames over which the capture rate is measured

# -- Linux: V4L2 -------------------------------------------------------------------------
# struct v4l2_capability { u8 driver[16]; u8 card[32]; u8 bus_info[32]; u32 version;
#                          u32 capabilities; u32 device_caps; u32 reserved[3]; }
_V4L2_CAPABILITY = struct.Struct("<16s32s32sIII3I")
VIDIOC_QUERYCAP = 0x80685600  # _IOR('V', 0, struct v4l2_capability)
V4L2_CAP_VIDEO_CAPTURE = 0x00000001
V4L2_CAP_DEVICE_CAPS = 0x80000000
V4L2_GLOB = "/dev/video*"


def _default_ioctl(fd: int, request: int, buf: bytearray) -> Any:
    import fcntl  # not on Windows; only the Linux probe calls this

    return fcntl.ioctl(fd, request, buf, True)


# Replaceable in tests: a fake /dev is a fake glob, open and ioctl.
_glob: Callable[[str], list[str]] = glob.glob
_os_open: Callable[[str, int], int] = os.open
_os_close: Callable[[int], None] = os.close
_ioctl: Callable[[int, int, bytearray], Any] = _default_ioctl
_av_open: Callable[..., Any] = av.open


def _formats_available() -> Iterable[str]:
    return av.formats_available


@dataclass(frozen=True)
class CameraInfo:
    """One camera as listed: ``device`` and ``backend`` (an FFmpeg input format) open it.

    ``index`` is its place in the list (what ``cnnviz --camera N`` and File > Camera use);
    ``device`` is ``/dev/video2`` (v4l2), ``"0"`` (avfoundation), ``video=Name`` (dshow), or
    any URL for other formats (``lavfi``, a file).
    """

    index: int
    name: str
    device: str
    backend: str
    detail: str = ""  # bus or alternative name, to tell identical cameras apart

    def label(self) -> str:
        """What a menu shows, e.g. ``HD Webcam (/dev/video2)``."""
        if self.backend == "v4l2" and self.device not in self.name:
            return f"{self.name} ({self.device})"
        return self.name

    def what(self) -> str:
        """The camera in a message: ``camera "HD Webcam" (/dev/video2)``."""
        if self.backend == "v4l2":
            return f'camera "{self.name}" ({self.device})'
        return f'camera "{self.name}"'


@dataclass(frozen=True)
class CameraProbe:
    """The cameras found, and why there are none (or why some are missing) in words."""

    cameras: tuple[CameraInfo, ...]
    reason: str | None = None

    def describe(self) -> str:
        """One line: the cameras, or ``no camera found (reason)``."""
        if not self.cameras:
            return f"no camera found ({self.reason})" if self.reason else "no camera found"
        names = "; ".join(f"{c.index}: {c.label()}" for c in self.cameras)
        return names + (f" ({self.reason})" if self.reason else "")


def _cstr(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace").strip()


def _natural(path: str) -> tuple[str, int]:
    m = re.search(r"(\d+)$", path)
    return (path[: m.start()], int(m.group(1))) if m else (path, -1)


def _v4l2_probe(pattern: str = V4L2_GLOB) -> CameraProbe:
    """The ``/dev/video*`` nodes that answer VIDIOC_QUERYCAP as video capture devices."""
    nodes = sorted(_glob(pattern), key=_natural)
    cameras: list[CameraInfo] = []
    denied: list[str] = []
    for node in nodes:
        try:
            fd = _os_open(node, os.O_RDWR | getattr(os, "O_NONBLOCK", 0))
        except PermissionError:
            denied.append(node)
            continue
        except OSError:  # gone since the listing (unplugged), or not a device at all
            continue
        try:
            buf = bytearray(_V4L2_CAPABILITY.size)
            _ioctl(fd, VIDIOC_QUERYCAP, buf)
        except OSError:  # not a V4L2 device, or it vanished while being asked
            continue
        finally:
            try:
                _os_close(fd)
            except OSError:
                pass
        driver, card, bus, _version, caps, device_caps, *_ = _V4L2_CAPABILITY.unpack(bytes(buf))
        own = device_caps if caps & V4L2_CAP_DEVICE_CAPS else caps  # this node's, not the whole device's
        if not own & V4L2_CAP_VIDEO_CAPTURE:
            continue
        name = _cstr(card) or _cstr(driver) or Path(node).name
        cameras.append(CameraInfo(index=len(cameras), name=name, device=node, backend="v4l2", detail=_cstr(bus)))
    reason = None
    if denied:
        reason = (
            f"no permission to open {', '.join(denied)}: add yourself to the 'video' group "
            "(sudo usermod -aG video $USER) and log in again"
        )
    elif not cameras:
        reason = f"no capture device among {', '.join(nodes)}" if nodes else "no /dev/video* devices"
    return CameraProbe(tuple(cameras), reason)


# -- macOS and Windows: FFmpeg's own device listing --------------------------------------
@contextlib.contextmanager
def _ffmpeg_log(level: int | None) -> Iterator[list[str]]:
    """FFmpeg's log lines of this thread while the block runs, at ``level`` (None: as it is);
    repeated lines are kept (PyAV drops a line equal to the one before it by default)."""
    old_level, old_skip = av.logging.get_level(), av.logging.get_skip_repeated()
    lines: list[str] = []
    if level is not None:
        av.logging.set_level(level)
    av.logging.set_skip_repeated(False)
    try:
        with av.logging.Capture() as logs:
            try:
                yield lines
            finally:
                lines.extend(entry[2] for entry in logs)
    finally:
        av.logging.set_skip_repeated(old_skip)
        av.logging.set_level(old_level)


def _listing_log(backend: str, url: str) -> list[str]:
    """The lines FFmpeg logs when ``backend`` is opened with ``list_devices`` (the open then fails)."""
    with _ffmpeg_log(av.logging.INFO) as lines:
        try:
            _av_open(url, format=backend, options={"list_devices": "true"}).close()
        except (av.error.FFmpegError, OSError):
            pass  # expected: listing ends the open with an error
    return lines


def parse_avfoundation_list(lines: Iterable[str]) -> list[CameraInfo]:
    """Video devices from avfoundation's ``list_devices`` log, screens left out.

    The log looks like ``AVFoundation video devices:`` / ``[0] FaceTime HD Camera`` /
    ``[1] Capture screen 0`` / ``AVFoundation audio devices:`` / ``[0] MacBook Microphone``.
    """
    cameras: list[CameraInfo] = []
    section = None
    for line in lines:
        text = line.strip()
        low = text.lower()
        if "video devices" in low:
            section = "video"
            continue
        if "audio devices" in low:
            section = "audio"
            continue
        m = re.match(r"^\[(\d+)\]\s+(.+)$", text)
        if section == "video" and m and not m.group(2).startswith("Capture screen"):
            cameras.append(CameraInfo(len(cameras), m.group(2).strip(), m.group(1), "avfoundation"))
    return cameras


def parse_dshow_list(lines: Iterable[str]) -> list[CameraInfo]:
    """Video devices from dshow's ``list_devices`` log, in either of FFmpeg's layouts.

    Newer FFmpeg: ``"Integrated Camera" (video)`` then ``  Alternative name "@device_pnp_..."``.
    Older: a ``DirectShow video devices`` header, then ``"Integrated Camera"`` lines.
    Two cameras with the same name are told apart by their alternative names.
    """
    found: list[list[str]] = []  # [name, alternative]
    section = None
    last: list[str] | None = None
    for line in lines:
        text = line.strip()
        low = text.lower()
        if low.startswith("directshow video devices"):
            section, last = "video", None
            continue
        if low.startswith("directshow audio devices"):
            section, last = "audio", None
            continue
        alt = re.match(r'^Alternative name\s+"(.+)"$', text)
        if alt:
            if last is not None:
                last[1] = alt.group(1)
            continue
        m = re.match(r'^"(.+)"\s*(?:\(([^)]*)\))?$', text)
        if not m:
            continue
        kinds = m.group(2)
        is_video = "video" in kinds if kinds is not None else section == "video"
        last = [m.group(1), ""] if is_video else None
        if last is not None:
            found.append(last)
    names = [n for n, _ in found]
    cameras = []
    for i, (name, alternative) in enumerate(found):
        device = f"video={alternative}" if names.count(name) > 1 and alternative else f"video={name}"
        cameras.append(CameraInfo(i, name, device, "dshow", detail=alternative))
    return cameras


def _listing_probe(backend: str, url: str, parse: Callable[[Iterable[str]], list[CameraInfo]]) -> CameraProbe:
    if backend not in set(_formats_available()):
        return CameraProbe((), f"this PyAV build has no {backend} input, so cameras cannot be listed or opened")
    cameras = parse(_listing_log(backend, url))
    return CameraProbe(tuple(cameras), None if cameras else f"{backend} lists no video device")


def probe_cameras(platform: str | None = None) -> CameraProbe:
    """The cameras on this machine, in a stable order, and a reason when there are none.

    Never raises: a probe that fails is "no camera found" with the failure as its reason.
    """
    platform = platform or sys.platform
    try:
        if platform.startswith("linux"):
            if "video4linux2,v4l2" not in set(_formats_available()):
                return CameraProbe((), "this PyAV build has no v4l2 input, so cameras cannot be opened")
            return _v4l2_probe()
        if platform == "darwin":
            return _listing_probe("avfoundation", "", parse_avfoundation_list)
        if platform.startswith("win"):
            return _listing_probe("dshow", "dummy", parse_dshow_list)
    except Exception as err:  # a probe must not take the window down
        return CameraProbe((), f"listing cameras failed: {_one_line(err)}")
    return CameraProbe((), f"listing cameras is not supported on {platform}")


def list_cameras(platform: str | None = None) -> list[CameraInfo]:
    """The cameras on this machine (empty when none; :func:`probe_cameras` says why)."""
    return list(probe_cameras(platform).cameras)


def find_camera(which: int | str | CameraInfo | None = None, probe: CameraProbe | None = None) -> CameraInfo:
    """The camera ``which`` names: an index into the list (None: the first), a device path or
    name, or a :class:`CameraInfo` as it is. Raises InputError (``no camera found ...``)."""
    if isinstance(which, CameraInfo):
        return which
    if isinstance(which, str) and which.startswith("/dev/"):
        if not Path(which).exists():
            raise InputError(f"no camera at {which}")
        return CameraInfo(0, Path(which).name, which, "v4l2")
    probe = probe if probe is not None else probe_cameras()
    cams = probe.cameras
    if not cams:
        raise InputError(probe.describe())
    if which is None:
        return cams[0]
    if isinstance(which, str) and not which.strip().isdigit():
        for cam in cams:
            if which.lower() in (cam.name.lower(), cam.device.lower()):
                return cam
        raise InputError(f"no camera named {which!r}; there are: {probe.describe()}")
    index = int(which)
    if not 0 <= index < len(cams):
        count = f"{len(cams)} camera{'s' if len(cams) != 1 else ''}"
        raise InputError(f"no camera {index}: there {'is' if len(cams) == 1 else 'are'} {count} ({probe.describe()})")
    return cams[index]


# -- frames and sources ------------------------------------------------------------------
@dataclass(frozen=True)
class CameraFrame(Frame):
    """A :class:`~cnnviz.io.video.Frame` from a camera.

    ``index`` counts frames the device sent since opening (gaps are frames dropped because a
    newer one came first); ``time`` is seconds since the first frame; ``rgb`` float32
    ``[size, size, 3]`` in [0, 1]; ``captured`` the ``time.perf_counter()`` instant the capture
    thread received it (the start of capture-to-pixels latency; the device's own exposure and
    transfer, typically under one frame interval, come before it).
    """

    captured: float = 0.0


@dataclass(frozen=True)
class CaptureInfo:
    """What the device delivers: ``width`` x ``height`` at a nominal ``fps`` (0 when it does not
    say), and what was asked for (the device may give the nearest mode it has)."""

    name: str
    backend: str
    width: int
    height: int
    fps: float
    asked: tuple[int, int, float] | None = None

    def describe(self) -> str:
        """e.g. ``camera "HD Webcam" (/dev/video0): 640x480 at 30 fps``."""
        rate = f" at {self.fps:.3g} fps" if self.fps else ""
        text = f"{self.name}: {self.width}x{self.height}{rate}"
        if self.asked and (self.asked[0], self.asked[1]) != (self.width, self.height):
            text += f" (asked for {self.asked[0]}x{self.asked[1]})"
        return text


def _one_line(err: BaseException) -> str:
    text = str(err).split("; last error log:")[0].strip().splitlines()
    return text[0] if text else type(err).__name__


_GONE = {errno.ENODEV, errno.ENXIO, errno.EIO, errno.ENOENT, getattr(errno, "ESHUTDOWN", -1)}
_DENIED = {errno.EACCES, errno.EPERM}


def failure_message(
    what: str, err: BaseException, *, opening: bool, timeout: float = DEFAULT_TIMEOUT_S, backend: str = ""
) -> str:
    """One line for a camera failure: busy, gone, no permission, no picture, or FFmpeg's own words.

    ``backend`` (the FFmpeg input) picks the platform's wording: FFmpeg reports a camera macOS
    does not let it use (avfoundation), and one another program holds on Windows (dshow), as a
    plain I/O error at opening.
    """
    code = getattr(err, "errno", None)
    system = {"v4l2": "linux", "avfoundation": "darwin", "dshow": "win32"}.get(backend, sys.platform)
    if code == errno.EBUSY or (opening and system == "win32" and code == errno.EIO):
        return f"{what} is busy: another program is using it (close that program, then open the camera again)"
    if code in _DENIED or isinstance(err, PermissionError) or (opening and system == "darwin" and code == errno.EIO):
        if system == "darwin":
            return (
                f"{what} cannot be used: allow this program (or its terminal) in System Settings > "
                "Privacy & Security > Camera, and close any other program using the camera"
            )
        if system.startswith("win"):
            return f"no permission to use {what}: allow desktop apps in Settings > Privacy & security > Camera"
        return f"no permission to open {what}: add yourself to the 'video' group and log in again"
    if code in _GONE or isinstance(err, FileNotFoundError):
        return f"{what} is not there any more (unplugged?)" if opening else f"{what} was disconnected"
    if isinstance(err, (av.error.ExitError, av.error.TimeoutError)) or code == errno.ETIMEDOUT:
        return f"{what} gives no picture (nothing within {timeout:g} s)"
    if isinstance(err, av.error.EOFError):
        return f"{what} stopped sending frames"
    verb = "cannot be opened" if opening else "failed"
    return f"{what} {verb}: {_one_line(err)}"


class _Ended(Exception):
    """The input ended (a clip without looping, or a device that stopped)."""


class CameraSource:
    """A live source: one PyAV input container and a capture thread keeping the newest frame.

    ``size``: the 2^k side frames are fitted to (may be changed while live; the next frame
    taken uses it). ``pace``: release frames at the stream's frame rate (a file played as a
    camera); ``loop``: start the input again at its end instead of ending. ``timeout``: seconds
    without a frame before :attr:`problem` says the camera gives no picture. ``on_frame`` is
    called from the converting thread with each converted frame's index, and with -1 once after
    the last one when capture fails (keep it quick: a Qt signal).

    Thread-safe for one consumer thread; the container is touched only by the capture thread,
    raw frames are converted only by the converting thread (or by :meth:`newest` once closed).
    """

    def __init__(
        self,
        container: Any,
        name: str,
        *,
        size: int = 256,
        backend: str = "input",
        asked: tuple[int, int, float] | None = None,
        pace: bool = False,
        loop: bool = False,
        timeout: float = DEFAULT_TIMEOUT_S,
        on_frame: Callable[[int], None] | None = None,
    ) -> None:
        self.name = name
        self._size: int | None = size
        self.timeout = float(timeout)
        self.on_frame = on_frame
        self._container = container
        try:
            if not container.streams.video:
                raise InputError(f"{name} has no video stream")
            stream = container.streams.video[0]
            cc = stream.codec_context
            width, height = int(cc.width or 0), int(cc.height or 0)
            if width * height > MAX_PIXELS:
                raise InputError(f"{name}: frames of {width}x{height} are over the limit")
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        except BaseException:
            container.close()
            raise
        self._stream = stream
        self.info = CaptureInfo(name, backend, width, height, float(rate) if rate else 0.0, asked)
        self._pace, self._loop = pace, loop
        self._cond = threading.Condition()
        self._raw: Any = None  # newest av.VideoFrame, not yet converted
        self._raw_index = -1
        self._raw_captured = 0.0
        self._frame: CameraFrame | None = None  # newest converted frame
        self._tried: tuple[int, int | None] = (-1, None)  # (index, size) the converter last worked on
        self._bad: tuple[int, InputError] | None = None  # a raw frame the converter refused
        self._handed = -1  # index of the frame the consumer was last given
        self._told_failure = False  # on_frame has been told of a failure (after the last frame)
        self._first_captured: float | None = None
        self._times: deque[float] = deque(maxlen=FPS_WINDOW + 1)
        self._error: InputError | None = None
        self.frames_captured = 0  # frames the device sent
        self.frames_taken = 0  # frames handed to the consumer (the rest were dropped)
        self.frames_converted = 0  # conversions done (a frame refitted after a size change counts again)
        self.converted_on: set[str] = set()  # names of the threads that converted frames (tests, benchmarks)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._capture, name=f"capture {name}", daemon=True)
        self._converter = threading.Thread(target=self._converting, name=f"convert {name}", daemon=True)
        self._converter.start()
        self._thread.start()

    @property
    def size(self) -> int | None:
        """The 2^k side frames are fitted to (None: as captured); a new value reconverts the newest frame."""
        return self._size

    @size.setter
    def size(self, value: int | None) -> None:
        with self._cond:
            if value != self._size:
                self._size = value
                self._cond.notify_all()

    # -- the capture thread --------------------------------------------------------------
    def _capture(self) -> None:
        try:
            self._read()
        except _Ended:
            self._fail(InputError(f"{self.name} stopped sending frames"))
        except InputError as err:
            self._fail(err)
        except (av.error.FFmpegError, OSError) as err:
            self._fail(
                InputError(
                    failure_message(self.name, err, opening=False, timeout=self.timeout, backend=self.info.backend)
                )
            )
        except Exception as err:  # a capture thread must never die silently
            self._fail(InputError(f"{self.name} failed: {_one_line(err)}"))
        finally:
            try:
                self._container.close()
            except Exception:
                pass

    def _read(self) -> None:
        period = 1.0 / self.info.fps if self._pace and self.info.fps > 0 else 0.0
        due: float | None = None
        while not self._stop.is_set():
            got = False
            for packet in self._container.demux(self._stream):
                for raw in packet.decode():
                    got = True
                    if period:
                        now = time.perf_counter()
                        due = now if due is None or due + period < now - period else due + period
                        if due > now and self._stop.wait(due - now):  # late frames do not catch up
                            return
                    self._publish(raw)
                if self._stop.is_set():
                    return
            if not (self._loop and got):
                raise _Ended
            self._container.seek(0)

    def _publish(self, raw: Any) -> None:
        now = time.perf_counter()
        with self._cond:
            self._raw, self._raw_index, self._raw_captured = raw, self.frames_captured, now
            if self._first_captured is None:
                self._first_captured = now
            self.frames_captured += 1
            self._times.append(now)
            self._cond.notify_all()

    def _fail(self, err: InputError) -> None:
        with self._cond:
            if self._error is None and not self._stop.is_set():
                self._error = err
            self._cond.notify_all()  # the converting thread tells on_frame, after the last frame

    # -- the converting thread -----------------------------------------------------------
    def _job(self) -> tuple[Any, int, float, int | None] | None:
        """(raw, index, captured, size) of the newest raw frame when it is not yet converted at
        the current size (with the condition held)."""
        if self._raw is None or self._tried == (self._raw_index, self._size):
            return None
        return self._raw, self._raw_index, self._raw_captured, self._size

    def _converting(self) -> None:
        told = False
        while True:
            with self._cond:
                while True:
                    if self._stop.is_set():
                        return
                    job = self._job()
                    if job is not None:
                        self._tried = (job[1], job[3])
                        break
                    if self._error is not None and not told:
                        break
                    self._cond.wait()
            if job is None:
                told = True
                self._tell(-1)
                with self._cond:
                    self._told_failure = True  # wait_newer gives up only now: on_frame has heard
                    self._cond.notify_all()
                continue
            raw, index, captured, size = job
            try:
                frame = self._convert(raw, index, captured, size)
            except InputError as err:
                with self._cond:
                    self._bad = (index, err)
                    self._cond.notify_all()
                self._tell(index)
                continue
            except Exception as err:  # never die silently: the frame is refused in one line
                with self._cond:
                    self._bad = (index, InputError(f"{self.name}: cannot convert frame {index}: {_one_line(err)}"))
                    self._cond.notify_all()
                self._tell(index)
                continue
            with self._cond:
                self._keep(frame)
            self._tell(index)

    def _keep(self, frame: CameraFrame) -> None:
        """Make ``frame`` the converted one unless a newer one (at the current size) is there (condition held)."""
        old = self._frame
        if old is None or old.index < frame.index or (old.index == frame.index and not _fitted(old, self._size)):
            self._frame = frame
            if self._bad is not None and self._bad[0] <= frame.index:
                self._bad = None
        self._cond.notify_all()

    def _tell(self, index: int) -> None:
        callback = self.on_frame
        if callback is not None and not self._stop.is_set():
            try:
                callback(index)
            except Exception:
                pass

    # -- the consumer --------------------------------------------------------------------
    def _convert(self, raw: Any, index: int, captured: float, size: int | None) -> CameraFrame:
        self.converted_on.add(threading.current_thread().name)
        self.frames_converted += 1
        rgb = raw.to_ndarray(format="rgb24")  # [H, W, 3] uint8
        if size is None:
            out, fit = np.ascontiguousarray(rgb, dtype=np.float32) / np.float32(255), None
        else:
            out, fit = fit_to_size(rgb, size)
        first = self._first_captured if self._first_captured is not None else captured
        return CameraFrame(index=index, time=captured - first, rgb=out, fit=fit, captured=captured)

    def _done(self, target: int) -> bool:
        """A frame at least as new as ``target`` is converted at the current size, or refused (condition held)."""
        frame, bad = self._frame, self._bad
        if bad is not None and bad[0] >= target:
            return True
        return frame is not None and frame.index >= target and _fitted(frame, self._size)

    def newest(self, wait: bool = True) -> CameraFrame | None:
        """The newest frame, RGB float32 ``[size, size, 3]`` fitted to :attr:`size` (None before the first frame).

        ``wait=True``: the newest frame the device had sent when called (or a newer one), waiting
        for the converting thread to finish it (a few ms; converted here only once the source is
        closed). ``wait=False`` (the
        GUI thread): the newest frame converted at the current size now, never waiting nor
        converting on the caller; None when there is none at this size yet (``on_frame`` tells
        when there is). After a failure it is the last good frame. Asking again before a new
        frame arrives returns the same object. Raises InputError when the newest frame could not
        be converted (and no newer one was).
        """
        with self._cond:
            target = self._raw_index
            if wait and self._converter.is_alive() and not self._stop.is_set():
                self._cond.wait_for(lambda: self._done(target) or self._stop.is_set(), self.timeout)
            frame, bad = self._frame, self._bad
            if bad is not None and (frame is None or bad[0] > frame.index) and (wait or bad[0] > self._handed):
                self._handed = max(self._handed, bad[0])
                raise bad[1]
            if frame is not None and not _fitted(frame, self._size):
                frame = None
            job = None
            if wait and self._raw is not None and (frame is None or frame.index < target):
                job = (self._raw, self._raw_index, self._raw_captured, self._size)
        if job is not None:  # closed (or the converter is late): convert here
            converted = self._convert(*job)
            with self._cond:
                self._keep(converted)
                frame = self._frame if self._frame is not None and _fitted(self._frame, self._size) else converted
        if frame is None:
            return None
        with self._cond:
            if frame.index > self._handed:
                self._handed = frame.index
                self.frames_taken += 1
        return frame

    def newest_frame_at(self, t: float | None = None) -> CameraFrame | None:
        """Playback's interface (:meth:`VideoReader.newest_frame_at`): a camera's frame "at" any
        time is its newest one; ``t`` is ignored. None only before the first frame."""
        return self.newest()

    def wait_newer(self, after: int, timeout: float | None = None) -> CameraFrame | None:
        """Block until a frame with index > ``after`` has arrived, then return the newest frame.

        Returns None on timeout, after a failure (see :attr:`problem`) or once closed.
        """
        with self._cond:
            self._cond.wait_for(lambda: self._raw_index > after or self._told_failure or self._stop.is_set(), timeout)
            if self._raw_index <= after or self._stop.is_set():
                return None
        return self.newest()

    def wait_first(self) -> CameraFrame:
        """The first frame, waiting up to :attr:`timeout`; raises InputError (and closes) when
        the device fails or gives nothing in time."""
        frame = self.wait_newer(-1, self.timeout)
        if frame is None:
            err = self.error or InputError(f"{self.name} gives no picture (nothing within {self.timeout:g} s)")
            self.close()
            raise err
        return frame

    @property
    def error(self) -> InputError | None:
        """The failure that stopped capture, or None while it runs."""
        with self._cond:
            return self._error

    @property
    def problem(self) -> str | None:
        """One line when the camera failed, stopped or has sent nothing for :attr:`timeout`."""
        with self._cond:
            err, last = self._error, (self._times[-1] if self._times else None)
        if err is not None:
            return str(err)
        if last is not None and not self._stop.is_set():
            quiet = time.perf_counter() - last
            if quiet > self.timeout:
                return f"{self.name} has given no picture for {quiet:.0f} s"
        return None

    @property
    def fps(self) -> float:
        """Frames per second the device delivered over the last ``FPS_WINDOW`` frames (0 when stalled)."""
        with self._cond:
            times, failed = list(self._times), self._error is not None
        if len(times) < 2 or failed:
            return 0.0
        span = times[-1] - times[0]
        if span <= 0 or time.perf_counter() - times[-1] > max(1.0, 3 * span / (len(times) - 1)):
            return 0.0
        return (len(times) - 1) / span

    @property
    def frames_dropped(self) -> int:
        """Frames the device sent that nobody took (a newer one came first)."""
        with self._cond:
            waiting = 1 if self._raw_index > self._handed else 0  # the newest one may still be taken
            return max(0, self.frames_captured - self.frames_taken - waiting)

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._stop.is_set()

    # -- lifetime ------------------------------------------------------------------------
    def close(self, wait: float = 2.0) -> None:
        """Stop capturing and release the device (the thread closes it; waits up to ``wait`` s)."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        end = time.monotonic() + wait
        for thread in (self._thread, self._converter):
            if thread.is_alive() and threading.current_thread() is not thread:
                thread.join(max(0.0, end - time.monotonic()))

    def __enter__(self) -> CameraSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self._stop.set()
        except Exception:
            pass


def _fitted(frame: Frame, size: int | None) -> bool:
    return frame.fit is None if size is None else frame.rgb.shape[0] == size


# -- opening -----------------------------------------------------------------------------
_FATAL_AT_OPEN = {errno.EBUSY, errno.EACCES, errno.EPERM} | _GONE


def _mode_options(backend: str, size: tuple[int, int] | None, fps: float | None) -> list[dict[str, str]]:
    """Options to try in order: the mode asked for, then the size alone, then the device's default."""
    if backend not in ("v4l2", "avfoundation", "dshow"):
        return [{}]
    tries: list[dict[str, str]] = []
    if size and fps:
        tries.append({"video_size": f"{size[0]}x{size[1]}", "framerate": f"{fps:g}"})
    if size:
        tries.append({"video_size": f"{size[0]}x{size[1]}"})
    tries.append({})
    return tries


def parse_avfoundation_modes(lines: Iterable[str]) -> list[tuple[int, int, float]]:
    """``(width, height, max fps)`` from avfoundation's "Supported modes" log lines such as
    ``  1280x720@[1.000000 30.000000]fps``."""
    modes = []
    for line in lines:
        m = re.search(r"(\d+)x(\d+)@\[([\d.]+)\s+([\d.]+)\]fps", line)
        if m:
            modes.append((int(m.group(1)), int(m.group(2)), float(m.group(4))))
    return modes


def nearest_mode(modes: Iterable[tuple[int, int, float]], size: tuple[int, int], fps: float) -> tuple[int, int, float]:
    """The mode closest to ``size`` in pixel count (then in rate), its rate capped at ``fps``."""
    want = size[0] * size[1]

    def cost(m: tuple[int, int, float]) -> tuple[float, float]:
        return (abs(np.log((m[0] * m[1]) / want)), abs(min(m[2], fps) - fps))

    w, h, top = min(modes, key=cost)
    return w, h, min(top, fps)


def _open_container(cam: CameraInfo, options: dict[str, str], timeout: float) -> Any:
    """av.open with FFmpeg's log kept on the error as ``log_lines`` (avfoundation and dshow say
    there why a mode was refused, and avfoundation which modes it has)."""
    level = av.logging.INFO if cam.backend in ("avfoundation", "dshow") else None
    try:
        with _ffmpeg_log(level) as lines:
            return _av_open(cam.device, format=cam.backend, options=options, timeout=(timeout, timeout))
    except (av.error.FFmpegError, OSError) as err:
        err.log_lines = lines  # type: ignore[union-attr]
        raise


def open_camera(
    camera: int | str | CameraInfo | None = None,
    size: tuple[int, int] = DEFAULT_SIZE,
    fps: float = DEFAULT_FPS,
    *,
    fit: int = 256,
    timeout: float = DEFAULT_TIMEOUT_S,
    probe: CameraProbe | None = None,
    on_frame: Callable[[int], None] | None = None,
) -> CameraSource:
    """Open a camera (see :func:`find_camera` for ``camera``) asking for ``size`` at ``fps``
    (the device may give its nearest mode; :attr:`CameraSource.info` says what it gives) and
    wait for its first frame. Frames are fitted to ``fit``. Raises InputError with one line."""
    cam = find_camera(camera, probe)
    what = cam.what()
    tries = _mode_options(cam.backend, size, fps)
    last: BaseException | None = None
    last_modes: list[tuple[int, int, float]] = []
    container = None
    i = 0
    while i < len(tries):
        try:
            container = _open_container(cam, tries[i], timeout)
            break
        except (av.error.FFmpegError, OSError) as err:
            log = list(getattr(err, "log_lines", ()))
            modes = parse_avfoundation_modes(log) if cam.backend == "avfoundation" else []
            # avfoundation and dshow report a refused mode as an I/O error, as they do a camera they
            # may not use: the log tells them apart.
            refused = bool(modes) or (cam.backend == "dshow" and any("set video options" in x for x in log))
            fatal = getattr(err, "errno", None) in _FATAL_AT_OPEN or isinstance(
                err, (PermissionError, FileNotFoundError)
            )
            if fatal and not refused:
                raise InputError(
                    failure_message(what, err, opening=True, timeout=timeout, backend=cam.backend)
                ) from None
            last = err
            if modes and i == 0:  # avfoundation said which modes it has: the nearest one next
                w, h, f = nearest_mode(modes, size, fps)
                tries.insert(1, {"video_size": f"{w}x{h}", "framerate": f"{f:.6f}"})
            last_modes = modes or last_modes
            i += 1
    if container is None:
        assert last is not None
        if last_modes:
            listed = ", ".join(f"{w}x{h}@{f:g}" for w, h, f in last_modes[:6])
            raise InputError(f"{what} refused every mode asked for (it lists {listed})")
        raise InputError(failure_message(what, last, opening=True, timeout=timeout, backend=cam.backend))
    source = CameraSource(
        container,
        what,
        size=fit,
        backend=cam.backend,
        asked=(size[0], size[1], fps),
        timeout=timeout,
        on_frame=on_frame,
    )
    source.wait_first()
    return source


def open_input(
    url: str,
    format: str | None = None,
    options: dict[str, str] | None = None,
    *,
    fit: int = 256,
    name: str | None = None,
    pace: bool = False,
    loop: bool = False,
    timeout: float = DEFAULT_TIMEOUT_S,
    on_frame: Callable[[int], None] | None = None,
) -> CameraSource:
    """Any PyAV input as a live source, through the same capture path as a camera, e.g.
    ``open_input("testsrc2=size=640x480:rate=30,realtime", "lavfi")``. Waits for the first frame."""
    what = name or f"input {url!r}"
    try:
        container = _av_open(url, format=format, options=options or {}, timeout=(timeout, timeout))
    except (av.error.FFmpegError, OSError) as err:
        raise InputError(failure_message(what, err, opening=True, timeout=timeout)) from None
    source = CameraSource(
        container, what, size=fit, backend=format or "input", pace=pace, loop=loop, timeout=timeout, on_frame=on_frame
    )
    source.wait_first()
    return source


def paced_clip(
    path: str | Path,
    *,
    fit: int = 256,
    loop: bool = True,
    timeout: float = DEFAULT_TIMEOUT_S,
    on_frame: Callable[[int], None] | None = None,
) -> CameraSource:
    """A video file played as a camera: frames released at the clip's own rate, looping
    (``loop=False``: it "stops sending frames" at the end, as an unplugged camera)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no such file: {path}")
    return open_input(
        str(path), fit=fit, name=f'clip "{path.name}"', pace=True, loop=loop, timeout=timeout, on_frame=on_frame
    )


__all__ = [
    "DEFAULT_FPS",
    "DEFAULT_SIZE",
    "CameraFrame",
    "CameraInfo",
    "CameraProbe",
    "CameraSource",
    "CaptureInfo",
    "failure_message",
    "find_camera",
    "list_cameras",
    "nearest_mode",
    "open_camera",
    "open_input",
    "paced_clip",
    "parse_avfoundation_list",
    "parse_avfoundation_modes",
    "parse_dshow_list",
    "probe_cameras",
]
