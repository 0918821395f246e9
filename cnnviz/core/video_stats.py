"""Statistics over a video: the image engine on each analysed frame, and Problem 2's network.

Both are generators, so a caller (the CLI, a worker thread) can stop between frames and keep
what it has: :func:`iter_frame_stats` runs ``engine.run(settings, frame)`` on the frames it
is asked for (every frame goes through the same Settings -> Result path as an image);
:func:`iter_video_net_stats` slides a window of the last T frames along the clip and runs
:class:`~cnnviz.core.video_net.VideoNet` on each window. :func:`aggregate` turns any list of
per-frame layer statistics into the mean and spread of each statistic over the clip.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from ..errors import SettingsError
from ..settings import Settings
from . import engine
from .device import pick_device
from .result import LayerStats
from .stats import layer_stats
from .video_net import DEFAULT_WINDOW, ClipWindow, VideoNet, clip_bytes


class FrameSource(Protocol):
    """What the clip statistics read frames from: :class:`cnnviz.io.video.VideoReader`, opened
    by the caller (core never opens a file). ``frames_at`` yields objects with ``index``,
    ``time`` and ``rgb`` (float32 ``[size, size, 3]`` in [0, 1])."""

    size: int | None
    path: Path

    def frames_at(self, indices: Sequence[int]) -> Iterator[Any]: ...

    def ensure_index(self) -> Any: ...


DEFAULT_FRAMES = 16  # analysed frames when neither --frames nor --every is given
STAT_FIELDS = ("mean", "var", "mean_sq", "zero_frac", "grad_var", "grad_rms")


@dataclass(frozen=True)
class FrameStats:
    """Per-layer statistics of one analysed frame (or, for the video network, of the window
    ending at frame ``index``). ``decode_ms`` is reading + fitting, ``compute_ms`` the network."""

    index: int
    time: float
    layers: tuple[LayerStats, ...]
    decode_ms: float
    compute_ms: float
    frames: tuple[int, ...] = ()  # the window's frame indices (video network only)


@dataclass(frozen=True)
class LayerAggregate:
    """One layer's statistics over the analysed frames: mean and standard deviation
    (over frames, ddof 0) of each field in :data:`STAT_FIELDS`; NaN where undefined."""

    level: int
    scale: int
    shape: tuple[int, ...]
    count: int
    multiplies: int
    mean: dict[str, float] = field(default_factory=dict)
    std: dict[str, float] = field(default_factory=dict)


def select_frames(count: int, frames: int | None = None, every: int | None = None, first: int = 0) -> list[int]:
    """Indices to analyse among ``first .. count - 1``.

    ``frames`` N: N indices spread evenly, both ends included; ``every`` K: first, first + K, ...;
    neither: :data:`DEFAULT_FRAMES` spread evenly (every frame of a shorter clip).
    """
    if frames is not None and every is not None:
        raise SettingsError("choose --frames or --every, not both")
    if frames is not None and (isinstance(frames, bool) or frames < 1):
        raise SettingsError(f"--frames must be at least 1, not {frames}")
    if every is not None and (isinstance(every, bool) or every < 1):
        raise SettingsError(f"--every must be at least 1, not {every}")
    first = max(0, min(first, count - 1))
    if count <= 0:
        return []
    if every is not None:
        return list(range(first, count, every))
    n = DEFAULT_FRAMES if frames is None else frames
    span = count - first
    if n >= span:
        return list(range(first, count))
    return sorted({int(round(v)) for v in np.linspace(first, count - 1, n)})


def pyramid_settings(settings: Settings) -> Settings:
    """The settings with the pyramid network chosen: a video is analysed by Problem 3's network."""
    if settings.mode == "pyramid" and not settings.residual:
        return settings
    return settings.replace(mode="pyramid", residual=False)


def decode_ahead(frames: Iterator, depth: int = 2) -> Iterator:
    """Run ``frames`` (a decoding iterator) on a thread, ``depth`` items ahead of the caller.

    Decoding (PyAV) and fitting (numpy) mostly release the GIL, so the next frame is ready
    while torch works on this one. Exceptions from the decoder are raised in the caller, in
    order; when the caller stops early (Ctrl+C, break) the thread stops at its next frame.
    """
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def produce() -> None:
        try:
            for item in frames:
                while not stop.is_set():
                    try:
                        q.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put((end, None))
        except BaseException as err:  # handed to the caller, who raises it
            q.put((end, err))

    thread = threading.Thread(target=produce, name="cnnviz-decode", daemon=True)
    thread.start()
    try:
        while True:
            item, err = q.get()
            if err is not None:
                raise err
            if item is end:
                return
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


def iter_frame_stats(
    reader: FrameSource,
    settings: Settings,
    indices: Sequence[int],
    cancel: Callable[[], bool] | None = None,
    side_thread: bool | None = None,
) -> Iterator[FrameStats]:
    """``engine.run`` on each frame in ``indices`` (increasing); yields one :class:`FrameStats` each.

    The reader must fit frames to ``settings.size``. The layers are those of
    ``Result.pyramid.layers``: L_{l,s} ``[1, C, n, n]``. Frames are decoded one step ahead on
    a thread (:func:`decode_ahead`), so ``decode_ms`` is the time spent waiting for a frame.
    ``side_thread`` is passed to ``engine.run`` (the window's passes run serially).
    """
    settings = pyramid_settings(settings)
    if reader.size != settings.size:
        raise SettingsError(f"the reader fits frames to {reader.size}, the settings ask for {settings.size}")
    frames = decode_ahead(reader.frames_at(indices))
    name = reader.path.name
    while True:
        t0 = time.perf_counter()
        frame = next(frames, None)
        if frame is None:
            return
        t1 = time.perf_counter()
        result = engine.run(
            settings,
            frame.rgb,
            profile="stats",
            cancel=cancel,
            source=f"{name} frame {frame.index}",
            side_thread=side_thread,
        )  # the per-frame table shows numbers only
        t2 = time.perf_counter()
        assert result.pyramid is not None
        yield FrameStats(
            index=frame.index,
            time=frame.time,
            layers=result.pyramid.layers,
            decode_ms=(t1 - t0) * 1e3,
            compute_ms=(t2 - t1) * 1e3,
        )


def aggregate(per_frame: Sequence[FrameStats]) -> tuple[LayerAggregate, ...]:
    """Mean and spread (std over frames) of every statistic of every layer.

    Layers are matched by (level, scale); all frames of one run have the same layers.
    """
    if not per_frame:
        return ()
    out = []
    for pos, first in enumerate(per_frame[0].layers):
        rows = [fs.layers[pos] for fs in per_frame]
        mean, std = {}, {}
        for name in STAT_FIELDS:
            values = np.array([getattr(st, name) for st in rows], dtype=np.float64)
            finite = values[np.isfinite(values)]
            mean[name] = float(finite.mean()) if finite.size else math.nan
            std[name] = float(finite.std()) if finite.size else math.nan
        out.append(
            LayerAggregate(
                level=first.level,
                scale=first.scale,
                shape=first.shape,
                count=len(rows),
                multiplies=first.multiplies,
                mean=mean,
                std=std,
            )
        )
    return tuple(out)


# -- Problem 2: the video network -------------------------------------------------------
@dataclass(frozen=True)
class VideoNetSpec:
    """What the video network of a run is: its hyper-parameters and the memory it needs."""

    channels: int
    depth: int
    kernel: int
    kernel_t: int
    stride: int
    window: int
    size: int
    activation: str
    init_vars: tuple[float, ...]
    shapes: tuple[tuple[int, ...], ...]  # (B, C, T, H, W) of L_0..L_L
    multiplies: tuple[int, ...]  # per layer, 0 for L_0
    clip_bytes: int  # the frame window
    activation_bytes: int  # L_1..L_L for one clip (gradients as much again)


def make_video_net(
    settings: Settings, stride: int = 2, kernel_t: int = 3, window: int = DEFAULT_WINDOW
) -> tuple[VideoNet, VideoNetSpec]:
    """The :class:`VideoNet` the settings describe (J, L, D, activation, init, seed)."""
    net = VideoNet(
        3,
        settings.channels,
        settings.depth,
        settings.kernel,
        kernel_t,
        stride,
        settings.activation,
        settings.init,
        settings.seed,
    ).requires_grad_(False)
    shape = (1, 3, window, settings.size, settings.size)
    spec = VideoNetSpec(
        channels=settings.channels,
        depth=settings.depth,
        kernel=settings.kernel,
        kernel_t=kernel_t,
        stride=stride,
        window=window,
        size=settings.size,
        activation=settings.activation,
        init_vars=tuple(net.init_vars),
        shapes=tuple(net.output_shapes(shape)),
        multiplies=tuple(net.multiplies(shape)),
        clip_bytes=clip_bytes(window, settings.size),
        activation_bytes=net.activation_bytes(shape),
    )
    return net, spec


def video_net_layer_stats(
    net: VideoNet, clip: torch.Tensor, seed: int, cancel: Callable[[], bool] | None = None
) -> tuple[LayerStats, ...]:
    """Forward ``clip`` ``[B, 3, T, H, W]`` and back-propagate seeded N(0, 1) gradients injected
    at the top layer, as the image engine does; statistics of L_0..L_L (scale 0), gradients
    with respect to the layer outputs L_1..L_L (NaN for L_0)."""
    multiplies = net.multiplies(clip.shape)
    with torch.enable_grad():
        outs = net(clip, cancel, grad_from_level=1)
        gen = torch.Generator().manual_seed(int(seed) + 1)
        g_top = torch.randn(outs[-1].shape, generator=gen).to(clip.device)
        grads = torch.autograd.grad(outs[-1], outs[1:], grad_outputs=g_top)
    stats = [layer_stats(outs[0], 0, 0)]
    for level, (m, g) in enumerate(zip(outs[1:], grads), start=1):
        stats.append(layer_stats(m, level, 0, g, multiplies=multiplies[level]))
    return tuple(stats)


def window_targets(count: int, window: int, frames: int | None = None, every: int | None = None) -> list[int]:
    """Last-frame indices of the analysed windows: each window holds frames i - T + 1 .. i."""
    return select_frames(count, frames, every, first=min(window, count) - 1)


def iter_video_net_stats(
    reader: FrameSource,
    settings: Settings,
    targets: Sequence[int],
    stride: int = 2,
    kernel_t: int = 3,
    window: int = DEFAULT_WINDOW,
    cancel: Callable[[], bool] | None = None,
) -> Iterator[FrameStats]:
    """Problem 2's network on the window of the last ``window`` frames ending at each target.

    Only the frames the windows need are decoded and converted; the window is a bounded deque
    (:class:`ClipWindow`), so memory stays at :func:`clip_bytes` however long the video.
    A video shorter than the window gives one shorter clip.
    """
    count = reader.ensure_index().frame_count
    length = min(window, count)
    net, _ = make_video_net(settings, stride, kernel_t, length)
    device, _ = pick_device(settings.device)
    net = net.to(device)
    wanted = sorted({j for i in targets for j in range(max(0, i - length + 1), i + 1)})
    targets_set = set(targets)
    buf = ClipWindow(length)
    frames = reader.frames_at(wanted)
    decode_ms = 0.0
    while True:
        t0 = time.perf_counter()
        frame = next(frames, None)
        decode_ms += (time.perf_counter() - t0) * 1e3
        if frame is None:
            return
        buf.push(frame.index, frame.rgb)
        if frame.index in targets_set and buf.full:
            t1 = time.perf_counter()
            layers = video_net_layer_stats(net, buf.clip(engine.INPUT_OFFSET, device), settings.seed, cancel)
            t2 = time.perf_counter()
            yield FrameStats(
                index=frame.index,
                time=frame.time,
                layers=layers,
                decode_ms=decode_ms,
                compute_ms=(t2 - t1) * 1e3,
                frames=tuple(buf.indices),
            )
            decode_ms = 0.0
