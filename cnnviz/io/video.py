"""Video in, RGB float [0, 1] frames out, fitted to a 2^k square exactly as images are.

:class:`VideoReader` wraps one PyAV input container (mp4, mkv, webm, avi, mov, animated GIF,
anything FFmpeg demuxes). Frames come out as :class:`Frame` objects holding
``rgb`` float32 ``[size, size, 3]`` in [0, 1], made by :func:`cnnviz.io.images.fit_to_size`
(centre crop to a square, then resize) after the display-matrix rotation a phone writes has
been applied, so a portrait clip looks as it does in a player.

Three ways to read:

- sequential iteration (``for frame in reader``) with FFmpeg's threaded decoding;
- :meth:`VideoReader.seek_frame` / :meth:`VideoReader.seek_time`, which land exactly on the
  requested frame: seek to the keyframe before it, decode forward, compare timestamps;
- :meth:`VideoReader.newest_frame_at` for playback that drops frames instead of queueing
  them: it decodes only what the codec needs and converts only the frame it returns.

Frame indices and times come from an index of packet timestamps (one demux pass, no
decoding), so they are exact for variable frame rate files too. It is built when the file is
opened, or on first need for files over :data:`INDEX_AT_OPEN_BYTES`.

Bad input (missing file, unknown container, no video stream, zero frames, a frame over
:data:`MAX_PIXELS`, a file that stalls the decoder) raises :class:`~cnnviz.errors.InputError`
with one line. A truncated or corrupt file that still gives frames does not raise: the frames
before the damage are returned and :attr:`VideoReader.problem` says what happened.

The time limit: FFmpeg's interrupt callback abandons any file read that blocks for longer
than ``timeout`` seconds, and a reader that goes ``timeout`` seconds between packets without
producing a frame gives up with :class:`InputError`. (One call into a decoder cannot be
interrupted from Python; FFmpeg's decoders return per packet.) Paths that are not regular
files (a FIFO would block in open()) are refused before FFmpeg sees them.

A reader is not thread-safe; use one per thread.
"""

from __future__ import annotations

import math
import os
import stat
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error
import numpy as np

from ..errors import InputError
from .images import FitInfo, fit_to_size

MAX_PIXELS = 64_000_000  # "64 megapixels": one RGB float32 copy of such a frame is 768 MB
DEFAULT_TIMEOUT_S = 10.0  # longest wait for one frame (I/O or decoding) before giving up
INDEX_AT_OPEN_BYTES = 256 * 2**20  # files up to this size are indexed when opened
_MAX_BAD_PACKETS = 50  # undecodable packets in a row before the rest is declared corrupt


@dataclass(frozen=True)
class VideoInfo:
    """What is known about a video stream.

    ``width``/``height`` are as displayed (after ``rotation``); ``coded_width``/``coded_height``
    as stored. ``rotation`` is the display rotation in degrees counter-clockwise (0, 90, 180
    or 270), read from the display-matrix side data. ``frame_count_exact`` says whether
    ``frame_count`` was counted (index of the file, or the container's own sample table) or
    estimated from duration x frame rate. ``indexed`` says whether ``frame_count``,
    ``duration`` and ``variable_frame_rate`` come from a full index of packet timestamps
    (exact) or from the container header (``variable_frame_rate`` is then a guess).
    """

    path: str
    container: str
    codec: str
    width: int
    height: int
    coded_width: int
    coded_height: int
    rotation: int
    fps: float
    variable_frame_rate: bool
    duration: float  # seconds
    frame_count: int
    frame_count_exact: bool
    indexed: bool

    def describe(self) -> str:
        """One line, e.g. ``chelsea_zoom.mp4: h264 512x512, 100 frames, 25 fps (constant), 4.00 s``."""
        count = f"{self.frame_count} frames" if self.frame_count_exact else f"about {self.frame_count} frames"
        rate = "variable" if self.variable_frame_rate else "constant"
        rot = f", rotated {self.rotation} deg" if self.rotation else ""
        return (
            f"{Path(self.path).name}: {self.codec} {self.width}x{self.height}{rot}, {count}, "
            f"{self.fps:.4g} fps ({rate}), {self.duration:.2f} s"
        )


@dataclass(frozen=True)
class Frame:
    """One decoded frame.

    ``index`` counts frames from 0 in presentation order; ``time`` is seconds from the first
    frame. ``rgb`` is float32 ``[size, size, 3]`` in [0, 1], C-contiguous, fitted by
    :func:`~cnnviz.io.images.fit_to_size` (or the whole rotated picture ``[H, W, 3]`` when the
    reader was made with ``size=None``); ``fit`` says what the fit did (None without a size).
    """

    index: int
    time: float
    rgb: np.ndarray
    fit: FitInfo | None


@dataclass(frozen=True)
class _Index:
    """Presentation timestamps of every frame, and the keyframe to start decoding from."""

    pts: np.ndarray  # [n] int64, sorted
    key_before: np.ndarray  # [n] int64: largest keyframe index <= i (0 when none)
    end_pts: int  # pts just past the last frame (last pts + its duration)


def _one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


class _Undecodable(InputError):
    """A frame the index lists but the decoder cannot produce (damaged data)."""


class VideoReader:
    """A video file opened for reading; a context manager.

    ``size``: the 2^k side frames are fitted to (None: return whole RGB frames).
    ``timeout``: seconds without a new frame (reading or decoding) before :class:`InputError`.
    Raises :class:`InputError` when the file cannot be read as a video.
    """

    def __init__(
        self, path: str | Path, size: int | None = 256, *, timeout: float = DEFAULT_TIMEOUT_S, threads: int = 0
    ) -> None:
        self.path = Path(path)
        self.threads = int(threads)  # decoder threads; 0: FFmpeg's choice (one per core)
        self.size = size
        self.timeout = float(timeout)
        self.problem: str | None = None  # one line when the file is truncated or corrupt
        self.frames_read = 0  # frames decoded since opening (for messages)
        self._container: av.container.InputContainer | None = None
        self._index: _Index | None = None
        self._bad_packets = 0
        self._bad_in_a_row = 0
        self._demux_error: str | None = None
        self._last: Frame | None = None
        self._open()

    # -- opening -------------------------------------------------------------------------
    def _open_container(self) -> av.container.InputContainer:
        name = self.path.name
        if not self.path.exists():
            raise InputError(f"no such file: {self.path}")
        if self.path.is_dir():
            raise InputError(f"{name} is a folder, not a video file")
        if not self.path.is_file():
            raise InputError(f"{name}: not a regular file (a pipe or a device cannot be read)")
        try:
            return av.open(str(self.path), mode="r", timeout=(self.timeout, self.timeout))
        except av.error.InvalidDataError:
            raise InputError(f"{name} is not a video cnnviz can read (unknown container or corrupt header)") from None
        except av.error.EOFError:
            raise InputError(f"{name} ends before its header does (truncated or empty file)") from None
        except av.error.FFmpegError as err:
            raise InputError(f"{name} cannot be opened as a video: {_one_line(err)}") from None
        except (OSError, IndexError, ValueError) as err:
            raise InputError(f"{name} cannot be opened as a video: {_one_line(err)}") from None

    def _open(self) -> None:
        name = self.path.name
        container = self._open_container()
        self._container = container
        try:
            if not container.streams.video:
                kinds = sorted({s.type for s in container.streams})
                has = f" (it has only {', '.join(kinds)})" if kinds else ""
                raise InputError(f"{name} has no video stream{has}")
            stream = container.streams.video[0]
            cc = stream.codec_context
            width, height = int(cc.width or 0), int(cc.height or 0)
            if width * height > MAX_PIXELS:
                raise InputError(
                    f"{name}: frames of {width}x{height} are {width * height / 1e6:.0f} megapixels, "
                    f"over the limit of {MAX_PIXELS // 1_000_000}"
                )
            stream.thread_type = "AUTO"  # frame + slice threads: FFmpeg picks per codec
            if self.threads:
                stream.codec_context.thread_count = self.threads  # playback: leave the cores to compute
            self._stream = stream
            self._time_base = stream.time_base or Fraction(1, 1)
            self._reset_decoder(counter=0)
            try:
                if self.path.stat().st_size <= INDEX_AT_OPEN_BYTES:
                    self._build_index()
            except OSError:
                pass
            first = self._next_raw()
            if first is None:
                why = f": {self.problem}" if self.problem else ""
                raise InputError(f"{name} contains no video frames that can be decoded{why}")
            self._lookahead.append(first)
            self._rotation = _quarter_turns(first.rotation) * 90
            self._coded = (int(first.width), int(first.height))
            self.info = self._make_info()
            self._check_index()
        except BaseException:
            self.close()
            raise

    def _make_info(self) -> VideoInfo:
        """Info from the index when there is one, else from the container header."""
        stream, container = self._stream, self._container
        assert container is not None
        rotation = self._rotation
        cw, ch = self._coded
        w, h = (ch, cw) if rotation in (90, 270) else (cw, ch)
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        common: dict[str, Any] = dict(
            path=str(self.path),
            container=container.format.name,
            codec=stream.codec_context.name,
            width=w,
            height=h,
            coded_width=cw,
            coded_height=ch,
            rotation=rotation,
        )
        if self._index is not None:
            idx = self._index
            n = len(idx.pts)
            duration = float((idx.end_pts - idx.pts[0]) * self._time_base)
            deltas = np.diff(idx.pts)
            # Constant rate allows one tick of rounding jitter (29.97 fps in milliseconds).
            variable = bool(len(deltas) > 1 and deltas.max() - deltas.min() > 1 + 0.05 * np.median(deltas))
            if n > 1 and duration > 0:
                fps = n / duration
            return VideoInfo(
                **common,
                fps=fps,
                variable_frame_rate=variable,
                duration=duration,
                frame_count=n,
                frame_count_exact=True,
                indexed=True,
            )
        if stream.duration is not None:
            duration = float(stream.duration * self._time_base)
        elif container.duration is not None:
            duration = container.duration / 1e6
        else:
            duration = math.nan
        count_exact = bool(stream.frames and stream.frames > 0)
        if count_exact:
            count = int(stream.frames)
        elif math.isfinite(duration) and fps > 0:
            count = max(1, round(duration * fps))
        else:
            count = 0
        if not math.isfinite(duration):
            duration = count / fps if fps > 0 else 0.0
        # FFmpeg's guess: the average rate differs from the base (tick) rate when frames are unevenly spaced.
        base = stream.base_rate
        variable = bool(rate and base and abs(float(rate) / float(base) - 1) > 0.01)
        return VideoInfo(
            **common,
            fps=fps,
            variable_frame_rate=variable,
            duration=duration,
            frame_count=count,
            frame_count_exact=count_exact,
            indexed=False,
        )

    def _build_index(self) -> None:
        """One demux pass over a second container: packet timestamps, no decoding."""
        container = self._open_container()
        pts: list[int] = []
        keys: list[bool] = []
        end = None
        started = time.monotonic()
        try:
            stream = container.streams.video[0]
            for packet in container.demux(stream):
                if packet.size == 0 or packet.is_discard:
                    continue
                ts = packet.pts if packet.pts is not None else packet.dts
                if ts is None:  # no timestamps at all: indices come from counting instead
                    return
                pts.append(int(ts))
                keys.append(bool(packet.is_keyframe))
                if packet.duration:
                    end = max(end or ts, ts + int(packet.duration))
                if time.monotonic() - started > 10 * self.timeout:
                    return
        except av.error.FFmpegError as err:
            self._demux_error = _one_line(err)
        finally:
            container.close()
        if not pts:
            return
        order = np.argsort(np.asarray(pts, dtype=np.int64), kind="stable")
        p = np.asarray(pts, dtype=np.int64)[order]
        k = np.asarray(keys, dtype=bool)[order]
        if len(np.unique(p)) != len(p):  # duplicate timestamps cannot name a frame
            return
        key_idx = np.where(k, np.arange(len(p)), 0)
        key_before = np.maximum.accumulate(key_idx)
        if end is None or end <= p[-1]:
            step = int(np.median(np.diff(p))) if len(p) > 1 else 1
            end = int(p[-1]) + max(step, 1)
        self._index = _Index(pts=p, key_before=key_before, end_pts=int(end))
        if hasattr(self, "info"):
            self.info = self._make_info()
            self._check_index()

    def ensure_index(self) -> VideoInfo:
        """Index the file now if it was too large to index at open; returns the exact info."""
        if self._index is None:
            self._build_index()
        if self._index is None:
            raise InputError(f"{self.path.name}: frames have no timestamps, so it cannot be indexed or seeked")
        return self.info

    # -- decoding ------------------------------------------------------------------------
    def _reset_decoder(self, counter: int | None) -> None:
        self._lookahead: list[av.VideoFrame] = []
        assert self._container is not None
        self._packets = self._container.demux(self._stream)
        self._pending: list[av.VideoFrame] = []
        self._counter = counter  # index of the next decoded frame when known by counting
        self._eof = False

    def _next_raw(self) -> av.VideoFrame | None:
        """The next decoded frame in presentation order, or None at the end."""
        if self._lookahead:
            return self._lookahead.pop(0)
        started = time.monotonic()
        while not self._pending:
            if self._eof:
                return None
            if time.monotonic() - started > self.timeout:
                raise InputError(
                    f"{self.path.name}: no frame decoded within {self.timeout:g} s "
                    f"(corrupt file?); read {self.frames_read} frames"
                )
            try:
                packet = next(self._packets)
            except StopIteration:
                self._eof = True
                continue
            except av.error.FFmpegError as err:
                # A read error mid-file: drain what the decoder holds, then stop.
                self._demux_error = _one_line(err)
                self._eof = True
                try:
                    self._pending.extend(self._stream.decode(None))
                except av.error.FFmpegError:
                    pass
                continue
            try:
                self._pending.extend(packet.decode())
                self._bad_in_a_row = 0
            except av.error.FFmpegError:
                self._bad_packets += 1
                self._bad_in_a_row += 1
                if self._bad_in_a_row > _MAX_BAD_PACKETS:
                    self._eof = True
        raw = self._pending.pop(0)
        if raw.width * raw.height > MAX_PIXELS:
            raise InputError(
                f"{self.path.name}: a frame of {raw.width}x{raw.height} is over the limit of "
                f"{MAX_PIXELS // 1_000_000} megapixels"
            )
        self.frames_read += 1
        return raw

    def _index_of(self, raw: av.VideoFrame) -> int | None:
        """The frame index of a decoded frame: by timestamp when indexed, else by counting."""
        idx = None
        if self._index is not None and raw.pts is not None:
            pts = self._index.pts
            j = int(np.searchsorted(pts, raw.pts))
            if j < len(pts) and pts[j] == raw.pts:
                idx = j
        if idx is None:
            idx = self._counter
        self._counter = None if idx is None else idx + 1
        return idx

    def _to_frame(self, raw: av.VideoFrame, index: int) -> Frame:
        rgb = raw.to_ndarray(format="rgb24")  # [H, W, 3] uint8
        turns = _quarter_turns(raw.rotation)
        if turns:
            rgb = np.rot90(rgb, k=turns)  # positive k turns counter-clockwise, as the matrix says
        if self.size is None:
            out, fit = np.ascontiguousarray(rgb, dtype=np.float32) / np.float32(255), None
        else:
            out, fit = fit_to_size(rgb, self.size)
        return Frame(index=index, time=self._time_of(raw, index), rgb=out, fit=fit)

    def _time_of(self, raw: av.VideoFrame, index: int) -> float:
        if self._index is not None and index < len(self._index.pts):
            return float((self._index.pts[index] - self._index.pts[0]) * self._time_base)
        if raw.pts is not None:
            return float((raw.pts - (self._stream.start_time or 0)) * self._time_base)
        return index / self.info.fps if self.info.fps else 0.0

    def _restart(self) -> None:
        """Back to the first frame: seek to the start, or reopen when the demuxer cannot seek."""
        assert self._container is not None
        try:
            self._container.seek(0, backward=True)
        except av.error.FFmpegError:
            self._container.close()
            self._container = self._open_container()
            self._stream = self._container.streams.video[0]
            self._stream.thread_type = "AUTO"
            if self.threads:
                self._stream.codec_context.thread_count = self.threads
        self._reset_decoder(counter=0)

    # -- public reading ------------------------------------------------------------------
    def __iter__(self) -> Iterator[Frame]:
        """Every frame from the first, in order. At the end, :attr:`problem` says whether the
        file was truncated or corrupt (the frames before the damage have been yielded)."""
        if self.frames_read > len(self._lookahead):
            self._restart()
        self._bad_packets = self._bad_in_a_row = 0
        count = 0
        while (raw := self._next_raw()) is not None:
            idx = self._index_of(raw)
            if idx is None:
                idx = count
            count += 1
            yield self._to_frame(raw, idx)
        self._check_complete(count)
        if count == 0:
            raise InputError(f"{self.path.name} contains no video frames that can be decoded")

    def _damage(self, count: int) -> list[str]:
        """Why ``count`` frames look like less than the file promises (empty when they do not)."""
        assert self._container is not None
        header = int(self._stream.frames or 0)  # the container's own count (mp4 sample table)
        listed = len(self._index.pts) if self._index is not None else 0
        reasons = []
        if self._demux_error:
            reasons.append(f"read error: {self._demux_error}")
        if self._bad_packets:
            reasons.append(f"{self._bad_packets} packets could not be decoded")
        if count < max(header, listed):
            reasons.append(f"the file lists {max(header, listed)}")
        promised = self._container.duration / 1e6 if self._container.duration else None
        info = self.info
        if not reasons and promised and info.indexed and info.fps and info.duration < promised - 2.0 / info.fps:
            reasons.append(f"the header promises {promised:.2f} s, the frames last {info.duration:.2f} s")
        return reasons

    def _check_index(self) -> None:
        """The index pass read the whole file: say now if it is shorter than its header."""
        if self._index is not None:
            n = len(self._index.pts)
            reasons = self._damage(n)
            if reasons:
                self.problem = f"{self.path.name} is truncated or corrupt: {n} frames present ({'; '.join(reasons)})"

    def _check_complete(self, count: int) -> None:
        """After a full pass from the start: did we get every frame the file promises?"""
        reasons = self._damage(count)
        if reasons:
            self.problem = f"{self.path.name} is truncated or corrupt: read {count} frames ({'; '.join(reasons)})"

    def _goto(self, index: int) -> av.VideoFrame:
        """Position the decoder on frame ``index`` and return it, decoded but not converted.

        Decodes forward when no keyframe lies between the current position and the target;
        otherwise seeks to the keyframe before the target first.
        """
        idx = self._index
        assert idx is not None
        if not 0 <= index < len(idx.pts):
            raise InputError(f"{self.path.name} has frames 0 to {len(idx.pts) - 1}, not {index}")
        here = self._counter  # index of the next frame the decoder returns, when known
        key = int(idx.key_before[index])
        if here is None or here > index or key > here:
            self._seek_keyframe(key)
        for _attempt in range(2):
            while (raw := self._next_raw()) is not None:
                got = self._index_of(raw)
                if got is None or got > index:
                    break
                if got == index:
                    return raw
            # Landed past the target (a demuxer that seeks loosely) or lost count:
            # decode from the very start, which every container supports.
            self._restart()
        raise _Undecodable(f"{self.path.name}: frame {index} cannot be decoded (truncated or corrupt file)")

    def _seek_keyframe(self, key: int) -> None:
        assert self._container is not None and self._index is not None
        if key == 0:
            self._restart()
            return
        try:
            self._container.seek(int(self._index.pts[key]), backward=True, stream=self._stream)
            self._reset_decoder(counter=None)
        except av.error.FFmpegError:
            self._restart()

    def seek_frame(self, index: int) -> Frame:
        """Frame ``index`` (0-based, presentation order), exactly; reading continues after it."""
        self.ensure_index()
        raw = self._goto(int(index))
        self._last = self._to_frame(raw, int(index))
        return self._last

    def frame_times(self) -> np.ndarray:
        """Seconds from the first frame of every frame, float64 ``[frame_count]`` (exact, from the index)."""
        self.ensure_index()
        idx = self._index
        assert idx is not None
        return (idx.pts - idx.pts[0]).astype(np.float64) * float(self._time_base)

    def frame_index_at(self, t: float) -> int:
        """Index of the frame on screen at ``t`` seconds from the first frame (clamped to the clip)."""
        self.ensure_index()
        idx = self._index
        assert idx is not None
        ticks = idx.pts[0] + t / self._time_base
        return int(min(max(np.searchsorted(idx.pts, ticks, side="right") - 1, 0), len(idx.pts) - 1))

    def seek_time(self, t: float) -> Frame:
        """The frame on screen at ``t`` seconds (the last frame whose time is <= t)."""
        return self.seek_frame(self.frame_index_at(t))

    def newest_frame_at(self, t: float) -> Frame | None:
        """For playback that drops frames: the frame on screen at ``t`` seconds, or None past the end.

        Frames between the previous call and this one are decoded only when the codec needs
        them (no keyframe in between) and are never converted to RGB; when the target is past
        the next keyframe the reader seeks instead. Asking twice for the same frame returns
        the same :class:`Frame` without decoding.
        """
        info = self.ensure_index()
        if t >= info.duration or t < 0:
            return None
        i = self.frame_index_at(t)
        if self._last is not None and self._last.index == i:
            return self._last
        self._last = self._to_frame(self._goto(i), i)
        return self._last

    def frames_at(self, indices: Iterable[int]) -> Iterator[Frame]:
        """The frames with these indices, in increasing order, each exactly once.

        Reads sequentially across short gaps and seeks across long ones; frames in between
        are decoded only as the codec requires and never converted. Frames a damaged file
        cannot give are skipped and named in :attr:`problem`.
        """
        self.ensure_index()
        missing = []
        for i in sorted(set(int(i) for i in indices)):
            try:
                raw = self._goto(i)
            except _Undecodable:
                missing.append(i)
                continue
            self._last = self._to_frame(raw, i)
            yield self._last
        if missing:
            shown = ", ".join(map(str, missing[:5])) + (", ..." if len(missing) > 5 else "")
            lead = f"{self.problem}; " if self.problem else f"{self.path.name} is truncated or corrupt: "
            self.problem = f"{lead}{len(missing)} requested frames could not be decoded ({shown})"

    # -- lifetime ------------------------------------------------------------------------
    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


def _quarter_turns(degrees: float | int | None) -> int:
    """Display rotation (degrees counter-clockwise) as a number of quarter turns, 0..3."""
    if not degrees:
        return 0
    return int(round(float(degrees) / 90.0)) % 4


def probe(path: str | Path) -> VideoInfo:
    """Open ``path``, index it when it can be, and return its :class:`VideoInfo` (raises InputError)."""
    with VideoReader(path, size=None) as reader:
        if reader._index is None:
            reader._build_index()
        return reader.info


__all__ = [
    "DEFAULT_TIMEOUT_S",
    "INDEX_AT_OPEN_BYTES",
    "MAX_PIXELS",
    "Frame",
    "VideoInfo",
    "VideoReader",
    "probe",
]


VIDEO_EXTENSIONS = {".mp4", ".m4v", ".mkv", ".webm", ".avi", ".mov", ".mpg", ".mpeg", ".ogv"}


def is_video(path: str | Path) -> bool:
    """A video container by its extension, or a GIF with more than one frame."""
    suffix = Path(path).suffix.lower()
    if suffix == ".gif":
        try:
            if not stat.S_ISREG(os.stat(path).st_mode):
                return False  # a pipe would block Pillow's open; the image loader says "not a regular file"
        except (OSError, ValueError):
            return False
        try:
            from PIL import Image

            with Image.open(path) as im:
                return getattr(im, "n_frames", 1) > 1
        except Exception:  # unreadable: let the image loader say what is wrong
            return False
    return suffix in VIDEO_EXTENSIONS


def first_frame(path: str | Path, size: int, index: int = 0) -> tuple[np.ndarray, str]:
    """Frame ``index`` (default 0) of a video fitted to ``size`` (float32 ``[size, size, 3]``), and
    what was done, in words."""
    with VideoReader(path, size=size) as reader:
        frame = reader.seek_frame(index)
        return frame.rgb, describe_frame(reader.info, frame)


def describe_frame(info: VideoInfo, frame: Frame) -> str:
    """``frame 12 of 100 (0.48 s of 4.0 s), 512x512, resized to 256x256``."""
    count = info.frame_count if info.frame_count_exact else f"~{info.frame_count}"
    fit = f", {frame.fit.describe()}" if frame.fit is not None else ", as decoded"  # a size always fits
    return f"frame {frame.index} of {count} ({frame.time:.2f} s of {info.duration:.1f} s){fit}"
