"""Problem 2's video network as one run: Settings + the last T frames -> :class:`VideoNetResult`.

The window's fourth mode ("Video CNN · Problem 2") and its screenshots go through
:func:`run_video`, beside (not inside) :func:`cnnviz.core.engine.run`: the pyramid engine is
being tuned on its own, and the two networks share nothing but the statistics code.

Per layer L_l ``[1, J, T_l, H_l, W_l]`` (L_0 is the clip itself, RGB minus 0.5) the result
holds what the window draws and nothing more (no copies of whole layers per frame):

- ``now``: the map at the newest time step ``[C, h, w]`` (average-pooled to at most
  :data:`DISPLAY_SIZE` a side);
- ``strip``: an x-t slice through the middle row ``[C, T_l, w]``, oldest time first;
- the statistics of the whole layer (``LayerStats``: variance, gradient RMS from seeded
  N(0, 1) gradients injected at the top, as the image engine does), its shape (B, C, T, H, W)
  and its multiplies B X Y T dX dY dT I J;
- the mean-field theory beside them (``LayerStats.theory_mean_sq``, ``theory_var``,
  ``theory_grad_rms``: :func:`cnnviz.core.theory.video_net_mean_field` from the measured
  mean square of the clip), as the pyramid mode's curves draw theirs;
- with ``full_maps=True`` (the data export) the whole layer and its gradient, float32
  ``[C, T_l, H_l, W_l]`` (``VideoLayer.full``, ``VideoLayer.grad``; empty arrays otherwise).

Core: torch and numpy only; no Qt, no file reading.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import CnnvizError, SettingsError
from ..settings import Settings
from .cost import video_multiplies_text
from .device import pick_device
from .result import LayerStats, Result
from .scale_net import Cancelled
from .stats import layer_stats
from .theory import video_net_mean_field
from .video_net import VideoNet

DISPLAY_SIZE = 128  # largest side of a map drawn per layer
INPUT_OFFSET = 0.5  # as the image engine: RGB in [0, 1] minus this


@dataclass(frozen=True)
class VideoLayer:
    """One layer L_l of the video network on the current window.

    ``shape`` is (B, C, T, H, W); ``now`` float32 ``[C, h, w]`` the newest time step,
    ``strip`` float32 ``[C, T_l, w]`` the x-t slice at the middle row (time downwards).
    ``full`` and ``grad`` (only with ``run_video(..., full_maps=True)``, else shape ``[0]``):
    the layer at full resolution ``[C, T_l, H_l, W_l]`` float32 (L_0: the clip as the network
    sees it, RGB minus 0.5) and dLoss/dL_l (level >= 1; ``[0]`` at level 0).
    """

    level: int
    shape: tuple[int, ...]
    multiplies: int
    stats: LayerStats
    now: np.ndarray
    strip: np.ndarray
    formula: str = ""  # Problem 2's count written out, B·X·Y·T·dX·dY·dT·I·J ("" for L_0)
    full: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    grad: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))


@dataclass(frozen=True)
class VideoNetResult:
    """Problem 2's network on one window of frames.

    ``frames``: the frame indices of the window, oldest first (``()`` when unknown);
    ``still``: the clip is T copies of one image (no clip was open).
    """

    depth: int
    stride: int
    kernel: int
    kernel_t: int
    window: int  # T actually used (a short clip gives fewer frames)
    init_vars: tuple[float, ...]  # sigma_w^2 of layers 1..L
    layers: tuple[VideoLayer, ...]
    frames: tuple[int, ...] = ()
    still: bool = False

    @property
    def total_multiplies(self) -> int:
        return sum(layer.multiplies for layer in self.layers)

    def series(self, name: str) -> np.ndarray:
        """One LayerStats field per level, float64 ``[L + 1]``."""
        return np.array([getattr(layer.stats, name) for layer in self.layers], dtype=np.float64)


@dataclass(frozen=True)
class ClipInput:
    """What the window hands the video engine: frames ``[T, N, N, 3]`` float32 in [0, 1], oldest
    first, their indices, and whether they are copies of one still image."""

    frames: np.ndarray
    indices: tuple[int, ...] = ()
    still: bool = False


def video_net_for(settings: Settings) -> VideoNet:
    """The :class:`VideoNet` of ``settings`` (J, L, D, D_t, stride, activation, init, seed)."""
    return VideoNet(
        3,
        settings.channels,
        settings.depth,
        settings.kernel,
        settings.video_kernel_t,
        settings.video_stride,
        settings.activation,
        settings.init,
        settings.seed,
    ).requires_grad_(False)


def _pool(m: torch.Tensor, size: int) -> torch.Tensor:
    """``[C, h, w]`` average-pooled by a whole factor so that its larger side is at most ``size``."""
    n = max(m.shape[-1], m.shape[-2])
    if n > size:
        f = -(-n // size)
        m = F.avg_pool2d(m.unsqueeze(0), f, ceil_mode=True)[0]
    return m


def _numpy(t: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(t.detach().to("cpu", torch.float32).numpy())


def as_clip(frames: np.ndarray | ClipInput, window: int) -> ClipInput:
    """A :class:`ClipInput` from frames ``[T, N, N, 3]`` or one image ``[N, N, 3]`` (a still clip of
    ``window`` copies)."""
    if isinstance(frames, ClipInput):
        return frames
    arr = np.asarray(frames, dtype=np.float32)
    if arr.ndim == 3 and arr.shape[-1] == 3:
        return ClipInput(np.broadcast_to(arr, (window, *arr.shape)), (), still=True)
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise SettingsError(f"a clip is [T, N, N, 3] (or one image [N, N, 3]), not an array of shape {arr.shape}")
    return ClipInput(arr)


def run_video(
    settings: Settings,
    clip: np.ndarray | ClipInput,
    *,
    cancel: Callable[[], bool] | None = None,
    source: str = "",
    display_size: int = DISPLAY_SIZE,
    full_maps: bool = False,
) -> Result:
    """Problem 2's network on ``clip`` (frames ``[T, N, N, 3]`` oldest first, or one image
    ``[N, N, 3]`` made a still clip of ``settings.video_window`` copies): a :class:`Result`
    whose ``video`` is a :class:`VideoNetResult`. ``cancel`` is polled between layers.
    ``full_maps``: keep every layer and its gradient at full resolution (the NPZ export)."""
    t0 = time.perf_counter()
    clip = as_clip(clip, settings.video_window)
    frames = clip.frames[-settings.video_window :]
    t_len, n = frames.shape[0], frames.shape[1]
    if frames.shape[1:3] != (settings.size, settings.size):
        raise SettingsError(f"the clip's frames are {n}x{frames.shape[2]}, the settings ask for {settings.size}")
    if t_len < 1:
        raise SettingsError("the clip has no frames")
    device, warnings = pick_device(settings.device)
    try:
        video, timings = _run_on(settings, frames, device, cancel, display_size, full_maps)
    except (Cancelled, CnnvizError):
        raise
    except (RuntimeError, MemoryError) as err:
        if isinstance(err, MemoryError) or "memory" in str(err).lower():
            raise CnnvizError(
                f"out of memory for a clip of {t_len} frames of {n}x{n} with {settings.channels} channels: "
                "choose a shorter window T, a smaller input or fewer channels"
            ) from None
        raise
    bad = [layer.level for layer in video.layers if layer.stats.nonfinite]
    if bad:
        warnings.append(
            f"activations overflowed to inf/NaN from layer {bad[0]} on: the init variance is too large for this depth"
        )
    video = dataclasses.replace(video, frames=tuple(clip.indices[-t_len:]), still=clip.still)
    timings["total"] = (time.perf_counter() - t0) * 1e3
    return Result(
        settings=settings, device=str(device), timings=timings, warnings=tuple(warnings), source=source, video=video
    )


def _run_on(
    settings: Settings,
    frames: np.ndarray,
    device: torch.device,
    cancel: Callable[[], bool] | None,
    display_size: int,
    full_maps: bool = False,
) -> tuple[VideoNetResult, dict[str, float]]:
    timings: dict[str, float] = {}
    t = time.perf_counter()
    net = video_net_for(settings).to(device)
    # the offset in numpy, into a new array: frames may be read-only (torch warns on those)
    shifted = np.empty(frames.shape, np.float32)  # [T, N, N, 3]
    np.subtract(frames, np.float32(INPUT_OFFSET), out=shifted, dtype=np.float32)
    x = torch.from_numpy(shifted).to(device).permute(3, 0, 1, 2).unsqueeze(0).contiguous()  # [1, 3, T, N, N]
    multiplies = net.multiplies(x.shape)
    with torch.enable_grad():
        outs = net(x, cancel, grad_from_level=1)
        timings["forward"] = (time.perf_counter() - t) * 1e3
        t = time.perf_counter()
        if cancel is not None and cancel():
            raise Cancelled
        gen = torch.Generator().manual_seed(int(settings.seed) + 1)
        g_top = torch.randn(outs[-1].shape, generator=gen).to(device)
        grads = torch.autograd.grad(outs[-1], outs[1:], grad_outputs=g_top)
    timings["backward"] = (time.perf_counter() - t) * 1e3
    t = time.perf_counter()
    mf = None
    layers = []
    for level, m in enumerate(outs):
        if cancel is not None and cancel():
            raise Cancelled
        g = grads[level - 1] if level else None
        st = layer_stats(m.detach(), level, 0, g, hist=False, multiplies=multiplies[level])
        if mf is None:  # level 0: the theory starts from the clip's measured mean square
            mf = video_net_mean_field(
                st.mean_sq,
                tuple(x.shape[2:]),
                settings.depth,
                settings.channels,
                settings.kernel,
                settings.video_kernel_t,
                settings.video_stride,
                net.init_vars,
                settings.activation,
            )
        else:
            st = dataclasses.replace(
                st,
                theory_mean_sq=float(mf.q[level]),
                theory_var=float(mf.var[level]),
                theory_grad_rms=float(mf.grad_rms[level]),
            )
        extra = {}
        if full_maps:
            extra["full"] = _numpy(m.detach()[0])
            if g is not None:
                extra["grad"] = _numpy(g[0])
        vol = m.detach()[0]  # [C, T_l, H_l, W_l]
        if level == 0:
            vol = vol + INPUT_OFFSET  # the frames as seen, RGB in [0, 1]
        now = _numpy(_pool(vol[:, -1], display_size))
        mid = vol[:, :, vol.shape[2] // 2, :]  # [C, T_l, W_l]: the middle row over time
        w = vol.shape[-1]
        if w > display_size:
            f = -(-w // display_size)
            mid = F.avg_pool1d(mid, f, ceil_mode=True)
        layers.append(
            VideoLayer(
                level=level,
                shape=tuple(int(d) for d in m.shape),
                multiplies=int(multiplies[level]),
                stats=st,
                now=now,
                strip=_numpy(mid),
                formula=video_multiplies_text(m.shape, outs[level - 1].shape, settings.kernel, settings.video_kernel_t)
                if level
                else "",
                **extra,
            )
        )
    timings["stats"] = (time.perf_counter() - t) * 1e3
    video = VideoNetResult(
        depth=settings.depth,
        stride=settings.video_stride,
        kernel=settings.kernel,
        kernel_t=settings.video_kernel_t,
        window=int(frames.shape[0]),
        init_vars=tuple(float(v) for v in net.init_vars),
        layers=tuple(layers),
    )
    return video, timings


def video_fan_in(settings: Settings) -> int:
    """J D^2 D_t: the fan-in of the video network's layers after the first."""
    return settings.channels * settings.kernel**2 * settings.video_kernel_t


def still_note(result: VideoNetResult) -> str:
    """What the window says when the clip is a still image."""
    if not result.still:
        return ""
    return (
        f"no clip is open: the network sees {result.window} copies of the image (a still clip), so nothing moves "
        "along the time strips; open a video (Ctrl+O or drop one) to see motion"
    )


__all__ = [
    "DISPLAY_SIZE",
    "ClipInput",
    "VideoLayer",
    "VideoNetResult",
    "run_video",
    "video_net_for",
]
