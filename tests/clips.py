"""Clips for the tests, written with PyAV: one writer for every codec, size, rate and timing a test
needs, and pictures that carry their frame's index so a test can read back which frame it holds.

``from clips import write_clip, code_picture, read_code`` (tests/ is on ``sys.path`` through
tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

BITS = 8  # a frame's index is written as 8 black/white stripes (robust to lossy coding)

Picture = Callable[[int, int, int], np.ndarray]  # (index, width, height) -> uint8 [H, W, 3]

# The pixel format each codec is written in (yuv420p for the rest).
PIX_FMT = {"ffv1": "bgr0", "gif": "rgb8", "mjpeg": "yuvj420p"}


def code_picture(index: int, width: int = 64, height: int = 64, bits: int = BITS) -> np.ndarray:
    """uint8 ``[H, W, 3]``: the central square carries ``index`` in binary, one stripe per bit."""
    img = np.zeros((height, width, 3), np.uint8)
    side = min(width, height)
    left = (width - side) // 2
    stripe = side // bits
    for b in range(bits):
        if index >> b & 1:
            img[:, left + b * stripe : left + (b + 1) * stripe] = 255
    return img


def read_code(rgb: np.ndarray, bits: int = BITS) -> int:
    """The index written by :func:`code_picture`, from a fitted frame ``[N, N, 3]`` in [0, 1]."""
    n = rgb.shape[1]
    stripe = n / bits
    value = 0
    for b in range(bits):
        lo, hi = int(b * stripe + stripe / 4), int((b + 1) * stripe - stripe / 4)
        if rgb[n // 4 : 3 * n // 4, lo:hi].mean() > 0.5:
            value |= 1 << b
    return value


def noise(index: int, width: int, height: int) -> np.ndarray:
    """uint8 ``[H, W, 3]`` noise seeded by the frame's index (hard to compress: large files)."""
    return np.random.default_rng(index).integers(0, 256, (height, width, 3), dtype=np.uint8)


def noise_stream(seed: int) -> Picture:
    """Noise pictures drawn one after the other from one generator seeded ``seed``."""
    rng = np.random.default_rng(seed)
    return lambda index, width, height: rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def grey(index: int, width: int, height: int) -> np.ndarray:
    """uint8 ``[H, W, 3]``: frame ``index`` uniformly grey ``16 * index`` (255 at most)."""
    return np.full((height, width, 3), min(255, index * 16), np.uint8)


def write_clip(
    path: Path,
    n: int = 12,
    width: int = 64,
    height: int = 64,
    codec: str = "libx264",
    rate: int = 25,
    *,
    picture: Picture = code_picture,
    fmt: str | None = None,
    pts_ms: list[int] | None = None,
    first_pts: int | None = None,
    rotation: int | None = None,
    gop: int | None = None,
    options: dict | None = None,
    container_options: dict | None = None,
) -> Path:
    """Encode ``n`` frames ``picture(i, width, height)`` into ``path`` (its container from its
    extension, or ``fmt``); ``pts_ms`` gives variable timestamps in milliseconds, ``first_pts``
    numbers frames ``first_pts + i`` in units of ``1 / rate``; ``gop`` sets the keyframe interval."""
    with av.open(str(path), "w", format=fmt, options=container_options or {}) as c:
        opts = dict(options or {})
        if gop:
            opts.update(g=str(gop), keyint_min=str(gop)) if codec == "libx264" else opts.update(g=str(gop))
        stream = c.add_stream(codec, rate=rate, options=opts)
        stream.width, stream.height = width, height
        stream.pix_fmt = PIX_FMT.get(codec, "yuv420p")
        if pts_ms is not None:
            stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
        elif first_pts is not None:
            stream.time_base = Fraction(1, rate)
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for i in range(n):
            frame = av.VideoFrame.from_ndarray(picture(i, width, height), format="rgb24")
            if pts_ms is not None:
                frame.pts, frame.time_base = pts_ms[i], Fraction(1, 1000)
            elif first_pts is not None:
                frame.pts, frame.time_base = first_pts + i, Fraction(1, rate)
            for packet in stream.encode(frame):
                c.mux(packet)
        for packet in stream.encode():
            c.mux(packet)
    return path


def write_audio_only(path: Path, frames: int = 5) -> Path:
    """A file with one AAC stream of silence and no video (its container from its extension)."""
    with av.open(str(path), "w") as c:
        stream = c.add_stream("aac", rate=44100)
        for i in range(frames):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 44100, i * 1024
            for packet in stream.encode(frame):
                c.mux(packet)
        for packet in stream.encode():
            c.mux(packet)
    return path
