"""Will these settings finish? Memory and multiplies, estimated before anything is allocated.

Problem 1's count (:mod:`cnnviz.core.cost`) gives the multiplies of every layer; the memory is
the float32 maps the run keeps at once. For the scale-shared network on an N x N image with
k = log2 N, level l holds J * sum_s 4^(k-l-s) ~ (4/3) J (N / 2^l)^2 values; the run keeps every
level (autograd saves each convolution's input and each activation's output for the backward
pass), one gradient per map (``torch.autograd.grad`` returns them all), the seeded gradient at
the top, the equivariance readout's network on the image shrunk by 2 (a quarter as much), and
a float64 copy of the largest map for its statistics. The residual stack keeps its L + 1 maps
``[J, n, n]`` and as many gradients; the video network its clip ``[3, T, N, N]``, every layer
and as many gradients.

:func:`check` refuses (:class:`BudgetError`, one line saying how much is needed, how much
there is and what to lower) what would not fit in the memory available: the cgroup's limit
where there is one (a container), else ``MemAvailable`` of ``/proc/meminfo``, or the GPU's
free memory on cuda. The time estimate (multiplies at a measured rate) lets a front end warn
before a long run. No Qt, no torch needed (torch is asked only about a GPU when it is loaded).
"""

from __future__ import annotations

import functools
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import CnnvizError
from ..settings import Settings
from .cost import conv_multiplies, scale_net_costs

FLOAT32 = 4
# Multiplies per second on one CPU thread, measured with engine.run (forward and backward) on
# the 2-core development machine: about 3e10 at J >= 16 (mkldnn); used only to warn.
# Measured rates vary about 3x with J and D (larger filters run faster per multiply); conv3d
# is slower (about 3e9 to 9e9 on one thread).
CPU_RATE = 2e10
VIDEO_RATE = 4e9
OVERHEAD = 1.25  # allocator slack and small temporaries, measured against peak RSS (within 20 %)
VIDEO_OVERHEAD = 1.5  # conv3d's working buffers (measured: 116 MB estimated without it, 175 MB used)
LONG_RUN_S = 10.0  # a front end warns when the estimate is longer than this


class BudgetError(CnnvizError):
    """Settings that would not fit in the memory available; the message says what to lower."""


@dataclass(frozen=True)
class Estimate:
    """What one computation of some settings needs: bytes at its peak, multiplies (forward and
    backward), a rough time on this machine, and the settings that matter most, in words."""

    bytes: int
    multiplies: int
    seconds: float
    what: str  # e.g. "the pyramid network at size 2048 with 256 channels"
    lower: str  # e.g. "a smaller input size or fewer channels"

    @property
    def long(self) -> bool:
        return self.seconds > LONG_RUN_S

    def describe(self) -> str:
        return (
            f"about {format_bytes(self.bytes)} of memory and {self.multiplies:.2g} multiplies (~{_time(self.seconds)})"
        )


def format_bytes(n: float) -> str:
    for unit, size in (("GB", 2**30), ("MB", 2**20), ("kB", 2**10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"


def format_seconds(seconds: float) -> str:
    """A duration in words: "under a second", "40 s", "7 min", "1.5 h"."""
    return _time(seconds)


def _time(seconds: float) -> str:
    if seconds < 1:
        return "under a second"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _threads() -> int:
    from .device import torch_threads  # torch-free at import: the thread policy, clamped to the cores

    return torch_threads()


def _level_values(k: int, level: int, channels: int) -> int:
    """Values in all maps of one level: channels * sum_s 4^(k-l-s)."""
    return channels * sum(1 << (2 * (k - level - s)) for s in range(k - level + 1))


def pyramid_estimate(settings: Settings) -> Estimate:
    """The scale-shared network (Problem 3) on a ``size`` x ``size`` image, forward and backward."""
    return _pyramid_estimate(settings.size, settings.k, settings.depth, settings.channels, settings.kernel, _threads())


@functools.lru_cache(maxsize=32)
def _pyramid_estimate(size: int, k: int, depth: int, J: int, D: int, threads: int) -> Estimate:
    """The estimate depends on these numbers only (every video frame and redraw repeats them)."""
    pyramid = _level_values(k, 0, 3)
    maps = [_level_values(k, level, J) for level in range(1, depth + 1)]
    kept = pyramid + 2 * sum(maps) + maps[-1] + sum(maps) // 4
    largest = max(maps[0], pyramid)
    peak = int((kept * FLOAT32 + largest * 8) * OVERHEAD)
    rows = scale_net_costs(k, depth, J, D)
    forward = sum(r.multiplies for r in rows)
    level1 = sum(r.multiplies for r in rows if r.level == 1)
    total = forward + (forward - level1) * 2 + forward // 4  # backward: input and weight-free grads
    what = f"the pyramid network at size {size} with {J} channels, depth {depth}, kernel {D}"
    return Estimate(peak, total, total / (CPU_RATE * threads), what, "a smaller input size or fewer channels")


def residual_estimate(settings: Settings) -> Estimate:
    """Problem 5's residual stack: L + 1 maps ``[J, n, n]`` and their gradients."""
    n = settings.noise_size if settings.residual_input == "noise" else settings.size
    J, D, L = settings.channels, settings.kernel, settings.residual_depth
    per_map = J * n * n
    peak = int(
        ((2 * (L + 1) + 2) * per_map * FLOAT32 + (settings.size**2 * 3 * FLOAT32 if n != settings.size else 0))
        * OVERHEAD
    )
    forward = L * conv_multiplies(1, n, n, D, D, J, J)
    total = 3 * forward
    side = "noise size" if settings.residual_input == "noise" else "input size"
    what = f"the residual stack on {n}x{n} with {J} channels, depth {L}"
    return Estimate(
        peak, total, total / (CPU_RATE * _threads()), what, f"a smaller {side}, fewer channels or a smaller depth"
    )


def video_estimate(
    settings: Settings, stride: int | None = None, kernel_t: int | None = None, window: int | None = None
) -> Estimate:
    """Problem 2's video network on a clip of ``window`` frames of ``size`` x ``size``."""
    s = settings.video_stride if stride is None else stride
    dt = settings.video_kernel_t if kernel_t is None else kernel_t
    t = settings.video_window if window is None else window
    n, J, D = settings.size, settings.channels, settings.kernel
    clip = 3 * t * n * n
    values, mults, i_ch = [], 0, 3
    tt, hh = t, n
    for _ in range(settings.depth):
        tt, hh = -(-tt // s), -(-hh // s)
        values.append(J * tt * hh * hh)
        mults += conv_multiplies(1, hh, hh, D, D, i_ch, J) * tt * dt
        i_ch = J
    # the clip window and its tensor copy, every layer and its gradient, the top's seeded gradient
    peak = int(((2 * clip + 2 * sum(values) + values[-1]) * FLOAT32 + max(values) * 8) * OVERHEAD)
    total = 3 * mults
    what = f"the video network on {t} frames of {n}x{n} with {J} channels"
    return Estimate(
        peak, total, total / (CPU_RATE * _threads()), what, "a smaller window, input size or fewer channels"
    )


def estimate(settings: Settings) -> Estimate:
    """The estimate of what ``engine.run(settings, ...)`` computes (the pyramid network, or the
    residual stack in the initialisation lab and with ``residual``)."""
    if settings.mode == "init" or settings.residual:
        return residual_estimate(settings)
    return pyramid_estimate(settings)


# -- memory available --------------------------------------------------------------------


def _read_int(path: str) -> int | None:
    try:
        text = Path(path).read_text().strip()
    except (OSError, ValueError):
        return None
    return int(text) if text.isdigit() else None


def cgroup_limit() -> int | None:
    """Bytes this process's cgroup may still use (v2 ``memory.max``, or v1), or None without a limit."""
    for limit_file, used_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
    ):
        limit = _read_int(limit_file)
        if limit is not None and limit < 2**60:
            used = _read_int(used_file) or 0
            return max(0, limit - used)
    return None


def meminfo_available() -> int | None:
    """``MemAvailable`` of /proc/meminfo in bytes (None where there is no /proc)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


# The host's reading is reused for this long: every engine.run (each video frame, each slider
# step) asks, and reading the cgroup's and /proc's files took about half a millisecond.
HOST_MEMORY_FRESH_S = 1.0
_host_memory: tuple[float, int | None] | None = None  # (time.monotonic() of the reading, bytes)
_host_lock = threading.Lock()


def host_memory() -> int | None:
    """The smaller of :func:`cgroup_limit` and :func:`meminfo_available` (None if neither is
    known), read again when the last reading is older than :data:`HOST_MEMORY_FRESH_S`."""
    global _host_memory
    now = time.monotonic()
    with _host_lock:  # the GUI thread (long-run estimates) and the worker both ask
        cached = _host_memory
        if cached is not None and 0 <= now - cached[0] < HOST_MEMORY_FRESH_S:
            return cached[1]
        found = [v for v in (cgroup_limit(), meminfo_available()) if v is not None]
        value = min(found) if found else None
        _host_memory = (now, value)
        return value


def available_memory(device: str = "cpu") -> int | None:
    """Bytes a computation on ``device`` may allocate now, or None when this cannot be known
    (the host's memory as read at most :data:`HOST_MEMORY_FRESH_S` ago)."""
    if device.startswith("cuda") and "torch" in sys.modules:
        try:
            import torch

            if torch.cuda.is_available():
                return int(torch.cuda.mem_get_info()[0])
        except Exception:  # a broken driver: fall back to the host's memory
            pass
    return host_memory()


def check(settings: Settings, device: str = "cpu", est: Estimate | None = None) -> Estimate:
    """The estimate for ``settings``; BudgetError in one line when it cannot fit on ``device``."""
    est = est or estimate(settings)
    free = available_memory(str(device))
    if free is not None and est.bytes > free:
        where = "GPU memory" if str(device).startswith("cuda") else "memory"
        raise BudgetError(
            f"{est.what} needs about {format_bytes(est.bytes)} of {where}, and {format_bytes(free)} "
            f"is available: choose {est.lower}"
        )
    return est
