"""Settings -> Result: the one path the window, the CLI and the exports share.

``run(settings, frame)`` builds the network the settings describe, runs it forward and
backward on ``frame``, and returns a :class:`~cnnviz.core.result.Result` of plain numpy
arrays: display maps, float64 statistics, gradient statistics, the closed-form theory beside
them, multiply counts and timings. It never touches Qt and never reads live widgets.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import CnnvizError, SettingsError
from ..settings import SATURATION, Settings
from . import budget, cost, theory
from .device import available_cores, pick_device
from .frame_cache import FrameWork, work_for
from .init import resolve_init_var, scale_net_fan_in
from .progress import Tracker, pyramid_total, residual_total
from .residual import ResidualStack
from .result import DISPLAY_SIZE, CostRow, LayerStats, Profile, PyramidResult, ResidualResult, Result
from .result import profile as make_profile
from .scale_net import Cancelled, ScaleSharedNet
from .single_unit import sample_unit
from .stats import cpu_values, grad_stats_batch, layer_stats, layer_stats_batch

__all__ = ["DISPLAY_SIZE", "INPUT_OFFSET", "Cancelled", "EngineError", "Profile", "run", "to_network_input"]

INPUT_OFFSET = 0.5  # the network sees RGB in [0, 1] minus this, the same at every scale (docs/theory.md)


class EngineError(CnnvizError):
    """A computation that cannot be done here (e.g. out of memory); the message says what to change."""


def to_network_input(frame: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """frame: float32 ``[N, N, 3]`` in [0, 1] -> ``[1, 3, N, N]`` minus :data:`INPUT_OFFSET`."""
    return _network_input_nhwc(frame, device).contiguous()


def _network_input_nhwc(frame: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """:func:`to_network_input` in the channels_last layout the engine's convolutions want: the
    frame's own ``[N, N, 3]`` memory order, so no layout copy is made (same values)."""
    # the offset in numpy, into a new array: the frame may be read-only (torch warns on those)
    x = np.empty(frame.shape, np.float32)
    np.subtract(frame, np.float32(INPUT_OFFSET), out=x, dtype=np.float32)
    t = torch.from_numpy(x)
    if torch.device(device).type != "cpu":
        t = t.to(device)
    # [1, 3, N, N] with the strides torch's own permute gives (which pick the convolutions'
    # layout for weights that are not channels_last, the unshared ones)
    return t.permute(2, 0, 1).unsqueeze(0)


_TORCH_COPY = 65_536  # from this many values on, torch makes the copy where it has threads to spare


def _numpy(t: torch.Tensor) -> np.ndarray:
    """``t[0]`` of a batch ``[1, ...]`` as a fresh C-contiguous float32 numpy copy (one copy,
    whatever t's layout).

    On the CPU it takes no torch call but numpy's view (``numpy(force=True)`` detaches in C++):
    each torch call from Python lets go of the GIL and waits to take it back, which beside a busy
    GUI thread cost more than the small maps' copies themselves."""
    if t.device.type != "cpu" or t.dtype != torch.float32:
        t = t.detach().to("cpu", torch.float32)
    if t.numel() >= _TORCH_COPY and torch.get_num_threads() > 1:
        # numpy's transposing copy of a channels_last map is one thread; torch's uses them all
        # (at 2 threads 69 us for 16x128x128 against 119; at one thread numpy's is the faster)
        return t.detach()[0].clone(memory_format=torch.contiguous_format).numpy()
    return np.array(t.numpy(force=True)[0], dtype=np.float32, order="C", copy=True)


def _hwc(p: torch.Tensor) -> np.ndarray:
    """A pyramid level ``[1, 3, n, n]`` (network input) -> a fresh float32 ``[n, n, 3]`` RGB image in
    [0, 1]: one pass, since the engine's channels_last pyramid already has that memory order."""
    if p.device.type != "cpu" or p.dtype != torch.float32:
        p = p.detach().to("cpu", torch.float32)
    return np.ascontiguousarray(p.numpy(force=True)[0].transpose(1, 2, 0) + np.float32(INPUT_OFFSET))


def _display(m: torch.Tensor, size: int) -> np.ndarray:
    """``[1, C, n, n]`` -> float32 ``[C, min(n, size), ...]``, average-pooled when larger.

    On the CPU a read-only view of the layer's memory (of the pooled copy's where it was
    pooled), in the layer's channels_last order: the window reads one channel of each map,
    and a transposing copy of every map cost 0.7 ms of a 512^2 run (``_numpy`` elsewhere)."""
    n = m.shape[-1]
    if n > size:
        m = F.avg_pool2d(m.detach(), n // size)
    if m.device.type != "cpu" or m.dtype != torch.float32:
        return _numpy(m)
    view: np.ndarray = m.numpy(force=True)[0]  # detached: the view holds the memory, not the autograd graph
    view.flags.writeable = False  # nothing may write into the run's layers through a Result
    return view


class Lap:
    """Stage timer: ``lap(name)`` adds the milliseconds since the previous lap to ``timings[name]``."""

    def __init__(self) -> None:
        self._t = time.perf_counter()
        self.timings: dict[str, float] = {}

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = self.timings.get(name, 0.0) + (now - self._t) * 1e3
        self._t = now

    def skip(self) -> None:
        """Start the next lap now: the time since the previous one is counted elsewhere."""
        self(".skipped")
        del self.timings[".skipped"]


@functools.lru_cache(maxsize=4)
def _scale_net(
    channels: int,
    depth: int,
    kernel: int,
    activation: str,
    init: str | float,
    shared: bool,
    seed: int,
    max_scales: int,
    device: str,
) -> ScaleSharedNet:
    """The network for these settings, built once: video frames and slider drags that keep the
    weights (size, display) reuse it. It is never modified after it is built."""
    net = ScaleSharedNet(
        3, channels, depth, kernel, activation, init, shared, seed, max_scales=max_scales
    ).requires_grad_(False)
    if shared:  # 4-D weights in the activations' layout (torch's stubs lack memory_format here)
        return net.to(device, memory_format=torch.channels_last)  # type: ignore[call-overload,no-any-return]
    return net.to(device)


def _cancel_hook(cancel: Callable[[], bool]) -> Callable[[torch.Tensor], None]:
    """A gradient hook that raises :class:`Cancelled` (autograd passes it through) when asked to stop."""

    def hook(_grad: torch.Tensor) -> None:
        if cancel():
            raise Cancelled

    return hook


def _pyramid_result(
    settings: Settings,
    frame: np.ndarray,
    device: torch.device,
    cancel: Callable[[], bool] | None,
    prof: Profile,
    lap: Lap,
    progress: Callable[[float], None] | None = None,
    side_thread: bool | None = None,
) -> tuple[PyramidResult, tuple[CostRow, ...]]:
    k, depth, J, D = settings.k, settings.depth, settings.channels, settings.kernel
    # channels_last (NHWC) runs the small-channel convolutions ~1.6x faster on the CPU,
    # forward and backward (measured in scripts/bench.py).
    # the pyramid and level 0's numbers depend on the frame only: kept while the same frame
    # comes back (a slider drag; see frame_cache)
    work = work_for(frame, device, _network_input_nhwc)
    pyr = work.pyr
    # max_scales only shapes unshared weights; shared ones keep one network across input sizes
    net = _scale_net(
        J,
        depth,
        D,
        settings.activation,
        settings.init,
        settings.shared,
        settings.seed,
        12 if settings.shared else k + 1,
        str(device),
    )
    lap("build")
    with torch.enable_grad():
        # Level 1 is computed without autograd: gradients are wanted with respect to the
        # layer outputs L_{l,s}, l >= 1, never the image or the weights, so no backward
        # pass runs through the first (most expensive) level.
        track = None if progress is None else Tracker(pyramid_total(k, depth, J, D), progress)
        layers = net(pyr, cancel, grad_from_level=1, progress=track)
    lap("forward")
    if cancel is not None and cancel():
        raise Cancelled
    costs = _costs(k, depth, J, D)
    # What needs no gradient (level 0's statistics and the theory they start, display maps,
    # the equivariance pass, the pyramid strip) runs beside the backward pass on a spare
    # core, or before it where there is none (see _side_thread).
    side = _Side(settings, work, net, layers, prof, cancel, _side_thread(side_thread))
    job = _Job(side.run, side.threaded)
    if job.done():  # run here, now: a failure or a cancel stops the run before the backward pass
        job.result()
        lap.skip()  # its stages are timed by its own clock, added below
    try:
        with torch.enable_grad():
            g_top = _top_gradient(tuple(m.shape for m in layers[depth]), settings.seed, device)
            inputs = [m for level in layers[1:] for m in level]
            if cancel is not None:  # the backward pass stops at the next layer once a newer request came:
                for level in layers[1:depth]:  # asked as a level's finest map's gradient is complete, before
                    level[0].register_hook(_cancel_hook(cancel))  # its largest convolution (a hook per map cost more)
            grads = _grad(list(layers[depth]), inputs, g_top)
        lap("backward")
        grad_of = {}
        it = iter(grads)
        for level in range(1, depth + 1):
            for s in range(len(layers[level])):
                grad_of[level, s] = next(it)
        side.theory_ready.wait()
        lap("wait")
        mf = side.mf
        if mf is None:  # the side job failed before the theory: its exception is raised below
            job.result()
            raise AssertionError("unreachable")
        mult = side.mult
        if side.acts_too:  # the side job summarises the activations; here only their gradients
            keys = list(grad_of)
            fields_of = grad_stats_batch([grad_of[key] for key in keys])
            lap("stats")
            side.acts_ready.wait()
            lap("wait")
            if len(side.acts) != len(keys):  # the side job failed: its exception is raised below
                job.result()
            stats = side.stats0 + [dataclasses.replace(st, **f) for st, f in zip(side.acts, fields_of)]
        else:
            stats = side.stats0 + layer_stats_batch(_upper_layers(layers, prof, mf, mult, grad_of), side.saturation)
        lap("stats")
        grads_full = {key: _numpy(g) for key, g in grad_of.items()} if prof.full_maps else {}
        lap("maps")
    except BaseException:
        side.stop = True  # a failure or a cancel here: the side job stops at its next step,
        job.wait()  # and is never left running (it holds the layers)
        raise
    fields = job.result()
    lap("wait")
    # the side job's stages, on its own clock: "side ..." where they overlapped the backward pass
    prefix = "side " if side.threaded else ""
    for name, ms in side.timings.items():
        lap.timings[prefix + name] = lap.timings.get(prefix + name, 0.0) + ms
    result = PyramidResult(
        k=k,
        depth=depth,
        init_var=float(net.init_vars[-1]),
        fan_in=scale_net_fan_in(2, 3, J, D),
        layers=tuple(stats),
        grads_full=grads_full,
        **fields,
    )
    return result, costs


def _upper_layers(
    layers: list[list[torch.Tensor]],
    prof: Profile,
    mf: theory.MeanField,
    mult: dict[tuple[int, int], int],
    grad_of: dict[tuple[int, int], torch.Tensor] | None,
) -> list[tuple[torch.Tensor, int, int, torch.Tensor | None, bool, dict[str, Any]]]:
    """:func:`layer_stats_batch`'s input for levels >= 1, with their gradients where given."""
    return [
        (
            m,
            level,
            s,
            None if grad_of is None else grad_of[level, s],
            prof.wants_histogram(level, s),
            dict(
                multiplies=mult[level, s],
                theory_mean_sq=float(mf.q[level, s]),
                theory_var=float(mf.var[level, s]),
                theory_grad_rms=float(mf.grad_rms[level, s]),
            ),
        )
        for level, maps_l in enumerate(layers[1:], start=1)
        for s, m in enumerate(maps_l)
    ]


class _Side:
    """The part of one run that needs no gradient; :meth:`run` returns PyramidResult fields.

    ``theory_ready`` is set once ``stats0`` (level 0's statistics) and ``mf`` (the per-map mean
    field they start) are there, which the main thread's statistics of levels >= 1 need. With
    ``acts_too`` (a side thread with no equivariance pass to do: room to spare) it also
    summarises the activations of levels >= 1 (``acts``, without their gradient fields, then
    ``acts_ready``), leaving the main thread only the gradients after its backward pass."""

    def __init__(
        self,
        settings: Settings,
        work: FrameWork,
        net: ScaleSharedNet,
        layers: list[list[torch.Tensor]],
        prof: Profile,
        cancel: Callable[[], bool] | None,
        threaded: bool,
    ) -> None:
        self.settings, self.work, self.net, self.layers = settings, work, net, layers
        self.prof, self.cancel = prof, cancel
        self.threads = torch.get_num_threads()
        self.theory_ready = threading.Event()
        self.stats0: list[LayerStats] = []
        self.mf: theory.MeanField | None = None
        self.stop = False
        self.timings: dict[str, float] = {}
        self.threaded = threaded  # on the side thread beside the backward pass, else before it
        self.acts_too = self.threaded and not prof.equivariance
        self.acts_ready = threading.Event()
        self.acts: list[LayerStats] = []
        self.saturation = SATURATION.get(settings.activation)
        self.mult = {
            (row.level, row.scale): row.multiplies
            for row in _costs(settings.k, settings.depth, settings.channels, settings.kernel)
        }

    def _check(self) -> None:
        if self.stop or (self.cancel is not None and self.cancel()):
            raise Cancelled

    def run(self) -> dict[str, Any]:
        try:
            return self._run()
        finally:
            self.theory_ready.set()  # never leave the main thread waiting
            self.acts_ready.set()

    def _run(self) -> dict[str, Any]:
        if torch.get_num_threads() != self.threads:  # a fresh thread may start with torch's default
            torch.set_num_threads(self.threads)
        lap = Lap()
        settings, layers, work, prof = self.settings, self.layers, self.work, self.prof
        k, depth = settings.k, settings.depth
        # Level 0 first: its measured mean squares q_{0,s} start the mean-field recursion.
        hist0 = tuple(prof.wants_histogram(0, s) for s in range(len(layers[0])))
        self.stats0 = work.stats0(
            hist0, lambda: layer_stats_batch([(m, 0, s, None, hist0[s], {}) for s, m in enumerate(layers[0])])
        )
        lap("stats")
        args = (
            tuple(st.mean_sq for st in self.stats0),
            k,
            depth,
            settings.channels,
            settings.kernel,
            tuple(self.net.init_vars),
            settings.activation,
        )
        self.mf = _mean_field(*args)
        self.theory_ready.set()
        if self.acts_too:
            self.acts = layer_stats_batch(_upper_layers(layers, prof, self.mf, self.mult, None), self.saturation)
            self.acts_ready.set()
            lap("stats")
        local = _mean_field(*args, per_position=True) if prof.local_theory else None
        lap("theory")
        self._check()
        size = prof.display_size
        maps = {}
        strip: tuple[np.ndarray, ...] = (work.image,)
        if size > 0:
            maps0, strip = work.display(size, lambda: _level0_display(work, size))
            maps.update(maps0)
            maps.update(
                {
                    (level, s): _display(m, size)
                    for level, maps_l in enumerate(layers[1:], start=1)
                    for s, m in enumerate(maps_l)
                }
            )
        maps_full = {}
        if prof.full_maps:
            maps_full = {(level, s): _numpy(m) for level, maps_l in enumerate(layers) for s, m in enumerate(maps_l)}
        image = work.image
        lap("maps")
        self._check()
        if prof.equivariance:
            readout = _equivariance(self.net, layers)
            lap("equivariance")
        else:
            readout = np.full(depth + 1, np.nan)
        self.timings = lap.timings
        return dict(
            image=image,
            pyramid=strip,
            maps=maps,
            equivariance=readout,
            maps_full=maps_full,
            theory_var_local=None if local is None else local.var,
            theory_grad_rms_local=None if local is None else local.grad_rms,
        )


def _level0_display(work: FrameWork, size: int) -> tuple[dict[tuple[int, int], np.ndarray], tuple[np.ndarray, ...]]:
    """Level 0's display maps ``[3, n, n]`` (n at most ``size``) and the pyramid strip (``work.image``,
    then each level ``[n, n, 3]`` RGB in [0, 1]) of one frame."""
    pyr = work.pyr
    k = len(pyr) - 1
    maps = {}
    for s in range(k + 1):  # a pyramid level shrunk by 2^j is the level j scales coarser
        j = max(0, (k - s) - (size.bit_length() - 1))
        maps[0, s] = _numpy(pyr[s + j])
    return maps, (work.image, *(_hwc(p) for p in pyr[1:]))


def _side_thread(requested: bool | None) -> bool:
    """Whether a run's gradient-free work goes to a second thread: where the caller asks for it
    (None: :data:`OVERLAP`) and torch leaves a core idle (the app's policy on a 2-core machine:
    1 torch thread). There it overlaps the backward pass; with every core busy it would only
    steal torch's (issue 16's oversubscription)."""
    wanted = OVERLAP if requested is None else requested
    return wanted and torch.get_num_threads() < available_cores()


# The process's default for engine.run(side_thread=None). False (or CNNVIZ_SIDE_THREAD=0):
# every stage on the calling thread, one after another
OVERLAP = os.environ.get("CNNVIZ_SIDE_THREAD", "1").strip() != "0"


class _Job:
    """``fn()`` on a thread of its own for this run (started here, joined by :meth:`result`), or
    here and now. A thread per run (about 0.1 ms) rather than a pool: nothing outlives the run,
    so nothing is left to a forked child or to the end of the process."""

    def __init__(self, fn: Callable[[], dict[str, Any]], threaded: bool) -> None:
        self._fn = fn
        self._value: dict[str, Any] = {}
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if threaded:
            self._thread = threading.Thread(target=self._run, name="cnnviz-side", daemon=True)
            self._thread.start()
        else:
            self._run()

    def _run(self) -> None:
        try:
            self._value = self._fn()
        except BaseException as err:  # raised where the result is asked for
            self._error = err

    def done(self) -> bool:
        return self._thread is None or not self._thread.is_alive()

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def result(self) -> dict[str, Any]:
        self.wait()
        if self._error is not None:
            raise self._error
        return self._value


SCALAR_TOP_UPTO = 65_536  # top-level values up to which _grad injects them through a scalar


def _grad(
    outputs: list[torch.Tensor], inputs: list[torch.Tensor], g_top: tuple[torch.Tensor, ...], retain_graph: bool = False
) -> tuple[torch.Tensor, ...]:
    """``torch.autograd.grad(outputs, inputs, grad_outputs=g_top)``, the same floats.

    Tensor ``grad_outputs`` make torch import its symbolic-shapes module (and sympy) at the
    first call, about 0.2 s of the first result on the thread the window draws beside; a small
    top level injects them as the gradient of the scalar sum(outputs * g_top) instead, whose
    gradient with respect to each output is g_top exactly (1.0 * g)."""
    if sum(o.numel() for o in outputs) > SCALAR_TOP_UPTO:
        return torch.autograd.grad(outputs, inputs, grad_outputs=g_top, retain_graph=retain_graph)
    total = sum(((o * g).sum() for o, g in zip(outputs, g_top)), torch.zeros((), device=outputs[0].device))
    return torch.autograd.grad(total, inputs, retain_graph=retain_graph)


@functools.lru_cache(maxsize=8)
def _top_gradient(shapes: tuple[torch.Size, ...], seed: int, device: torch.device) -> tuple[torch.Tensor, ...]:
    """The seeded N(0, 1) injected at every scale of the top level, drawn on the CPU so every
    device gets the same numbers; drawn once per shapes and seed (autograd only reads them)."""
    gen = torch.Generator().manual_seed(int(seed) + 1)
    return tuple(torch.randn(shape, generator=gen).to(device) for shape in shapes)


@functools.lru_cache(maxsize=16)
def _costs(k: int, depth: int, J: int, D: int) -> tuple[CostRow, ...]:
    """Problem 1's counts depend on the shapes only (CostRow is frozen)."""
    return cost.scale_net_costs(k, depth, J, D)


@functools.lru_cache(maxsize=64)
def _mean_field(
    q0: tuple[float, ...],
    k: int,
    depth: int,
    J: int,
    D: int,
    init_vars: tuple[float, ...],
    activation: str,
    per_position: bool = False,
) -> theory.MeanField:
    """The mean field depends only on these numbers: a video frame or a redraw that keeps them
    (same image and weights) reuses it. MeanField's arrays are never modified."""
    mf = theory.scale_net_mean_field(np.array(q0), k, depth, J, D, init_vars, activation, per_position=per_position)
    for a in (mf.v, mf.q, mf.mean, mf.var, mf.r, mf.grad_rms):
        a.flags.writeable = False  # shared by every Result that reuses it
    return mf


@torch.no_grad()
def _equivariance(net: ScaleSharedNet, layers: list[list[torch.Tensor]]) -> np.ndarray:
    """max_s |L'_{l,s} - L_{l,s+1}| / max_s |L_{l,s+1}| per level l, L' on the image shrunk by 2.

    ``layers``: the run's L_{l,s} (``[B, C, n, n]``, levels >= 1 channels_last); returns float64
    ``[len(layers)]``, NaN for levels with no pair. A NaN anywhere in a level's maps gives NaN
    (or inf where the reference is NaN and the difference is not 0), as the maxima do."""
    out = np.full(len(layers), np.nan)
    # The image shrunk by 2x2 averaging has the pyramid I_1 .. I_k: the same floats as
    # avg_pool2d (checked bitwise), already computed, in the full-size run's layout, so both
    # runs go through identical kernels.
    maps = list(layers[0][1:])
    last = min(net.depth, len(layers) - 1, len(maps) - 1)  # the shrunk run has one scale fewer
    found: list[list[tuple[float, float]]] = [[] for _ in range(last + 1)]  # (max |a - b|, max |b|) per map
    small: list[tuple[int, np.ndarray, np.ndarray]] = []  # (level, a, b) as flat views, compared together
    for level in range(last + 1):
        nxt = net.level(level, maps) if level < last else []  # before this level is overwritten
        for s, a in enumerate(maps):
            b = layers[level][s + 1]
            if a is b:  # level 0: the shrunk image's pyramid is the run's own (the same tensors)
                ref = _max_abs(b)
                found[level].append((0.0 if math.isfinite(ref) else math.nan, ref))  # x - x: 0, or NaN off the finite
                continue
            pair = _flat_pair(a, b) if a.numel() <= BATCH_DIFF else None
            if pair is not None:
                small.append((level, *pair))
            else:  # levels >= 1 of the shrunk run are ours to overwrite
                found[level].append(_max_abs_diff(a, b, in_place=level > 0))
        maps = nxt
    if small:
        for level, d, r in zip((lv for lv, _a, _b in small), *_batch_max_abs_diff(small)):
            found[level].append((d, r))
    for level, pairs in enumerate(found):
        diff, ref = _nan_max([d for d, _r in pairs]), _nan_max([r for _d, r in pairs])
        out[level] = diff / ref if ref > 0 else (0.0 if diff == 0 else np.inf)
    return out


BATCH_DIFF = 16_384  # maps of at most this many values are compared together (_batch_max_abs_diff)


def _flat_pair(a: torch.Tensor, b: torch.Tensor) -> tuple[np.ndarray, np.ndarray] | None:
    """Flat numpy views of two CPU float32 tensors of one shape and one memory order (element i
    of each is the same position), or None where numpy cannot view them alike."""
    if not (a.device.type == b.device.type == "cpu" and a.dtype == b.dtype == torch.float32):
        return None
    if a.shape != b.shape or a.stride() != b.stride():  # one memory order: element i matches
        return None
    av, bv = cpu_values(a), cpu_values(b)
    return None if av is None or bv is None else (av, bv)


def _batch_max_abs_diff(pairs: list[tuple[int, np.ndarray, np.ndarray]]) -> tuple[list[float], list[float]]:
    """(max |a - b|, max |b|) of each ``(level, a, b)`` by a handful of numpy calls for all of
    them (per map, the calls cost more than these small maps' values); NaN propagates as in
    :func:`_max_abs_diff` (numpy's maximum keeps it)."""
    lens = np.fromiter((a.size for _l, a, _b in pairs), np.intp, len(pairs))
    offs = np.zeros(len(pairs), np.intp)
    np.cumsum(lens[:-1], out=offs[1:])
    cat_a = np.concatenate([a for _l, a, _b in pairs])
    cat_b = np.concatenate([b for _l, _a, b in pairs])
    with np.errstate(invalid="ignore"):  # inf - inf: NaN, as in torch
        np.subtract(cat_a, cat_b, out=cat_a)
    np.abs(cat_a, out=cat_a)
    np.abs(cat_b, out=cat_b)
    return np.maximum.reduceat(cat_a, offs).tolist(), np.maximum.reduceat(cat_b, offs).tolist()


def _max_abs_diff(a: torch.Tensor, b: torch.Tensor, in_place: bool) -> tuple[float, float]:
    """(max |a - b|, max |b|) of two tensors of one shape, NaN if either has a NaN (inf - inf
    too). On the CPU by numpy over views of their memory (a's overwritten when ``in_place``):
    about 8 us a map where torch's calls and its aminmax took 15-20, with no per-map sync."""
    if a.device.type == b.device.type == "cpu" and a.dtype == b.dtype and a.dtype in (torch.float32, torch.float64):
        av, bv = a.numpy(force=True), b.numpy(force=True)  # numpy follows any strides, channels_last too
        with np.errstate(invalid="ignore"):  # inf - inf: NaN, as in torch
            d = np.subtract(av, bv, out=av if in_place else None)
            return _np_max_abs(d), _np_max_abs(bv)
    d = a.sub_(b) if in_place else a - b
    found = torch.stack([d.amax(), -d.amin(), b.amax(), -b.amin()]).tolist()
    return _nan_max(found[:2]), _nan_max(found[2:])


def _max_abs(b: torch.Tensor) -> float:
    """max |b| (NaN if b has a NaN), by numpy over a view of b's memory on the CPU."""
    if b.device.type == "cpu" and b.dtype in (torch.float32, torch.float64):
        return _np_max_abs(b.numpy(force=True))
    return _nan_max(torch.stack([b.amax(), -b.amin()]).tolist())


def _np_max_abs(a: np.ndarray) -> float:
    """max |a| in two passes and no temporary (NaN if a has a NaN: both maxima are NaN then)."""
    return max(float(a.max()), -float(a.min()))


def _nan_max(values: list[float]) -> float:
    """max() where a NaN anywhere gives NaN (as numpy's and torch's maxima do)."""
    return float("nan") if any(v != v for v in values) else max(values)


def _residual_input(settings: Settings, frame: np.ndarray | None, device: torch.device) -> torch.Tensor:
    """L_0 ``[1, J, n, n]`` with unit variance: seeded noise, or the image lifted to J channels."""
    J = settings.channels
    gen = torch.Generator().manual_seed(int(settings.seed))
    if settings.residual_input == "noise":
        n = settings.noise_size
        return torch.randn(1, J, n, n, generator=gen).to(device)
    if frame is None:
        raise SettingsError("the residual stack on the image needs an image")
    x = to_network_input(frame, device)
    # A fixed random 1x1 map lifts RGB to J channels; standardising each channel afterwards
    # gives the seed's assumption Var(L_0) = 1 on a real picture.
    lift = torch.randn(J, 3, 1, 1, generator=gen).to(device)
    y = F.conv2d(x, lift)
    mean = y.mean(dim=(0, 2, 3), keepdim=True)
    std = y.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-12)
    return ((y - mean) / std).contiguous()


def _residual_result(
    settings: Settings,
    frame: np.ndarray | None,
    device: torch.device,
    cancel: Callable[[], bool] | None,
    prof: Profile,
    lap: Lap,
    progress: Callable[[float], None] | None = None,
) -> ResidualResult:
    J, D, L = settings.channels, settings.kernel, settings.residual_depth
    x0 = _residual_input(settings, frame, device)
    stack = (
        ResidualStack(J, L, D, settings.residual_init, settings.residual_activation, settings.seed)
        .to(device)
        .requires_grad_(False)
    )
    lap("build")
    with torch.enable_grad():
        x0.requires_grad_()
        n = x0.shape[-1]
        outs = stack(x0, cancel, None if progress is None else Tracker(residual_total(n, J, D, L), progress))
        lap("forward")
        gen = torch.Generator().manual_seed(int(settings.seed) + 1)
        g_top = torch.randn(outs[-1].shape, generator=gen).to(device)
        if cancel is not None:
            for m in outs[:-1]:
                if m.requires_grad:
                    m.register_hook(_cancel_hook(cancel))
        grads = _grad([outs[-1]], outs, (g_top,))
    lap("backward")
    stats = [
        layer_stats(m, level, 0, g, hist=prof.histograms != "none") for level, (m, g) in enumerate(zip(outs, grads))
    ]
    var0 = stats[0].var
    init_var = stack.init_var
    result = ResidualResult(
        depth=L,
        init_var=init_var,
        input_kind=settings.residual_input,
        layers=tuple(stats),
        theory_var=theory.residual_forward_var(var0, L, D, J, init_var),
        theory_grad_var=theory.residual_backward_var(L, D, J, init_var),
    )
    lap("stats")
    return result


def _run_on(
    settings: Settings,
    frame: np.ndarray | None,
    device: torch.device,
    cancel: Callable[[], bool] | None,
    prof: Profile,
    progress: Callable[[float], None] | None = None,
    side_thread: bool | None = None,
) -> dict[str, Any]:
    lap = Lap()
    out: dict[str, Any] = {}
    residual_mode = settings.mode == "init" or settings.residual
    if not residual_mode:
        if frame is None:
            raise SettingsError("no image to run the network on")
        out["pyramid"], costs = _pyramid_result(settings, frame, device, cancel, prof, lap, progress, side_thread)
        out["costs"] = cost.with_torch_flops(costs, settings.kernel) if settings.mode == "cost" else costs
        lap("cost")
    else:
        out["residual"] = _residual_result(settings, frame, device, cancel, prof, lap, progress)
        if settings.mode == "init":
            d = settings.unit_dim
            unit_var = resolve_init_var(settings.unit_init, d, 1, 1, d, default="lecun")
            out["unit"] = sample_unit(d, unit_var, settings.unit_activation, seed=settings.seed)
            lap("unit")
    out["timings"] = lap.timings
    return out


def run(
    settings: Settings,
    frame: np.ndarray | None = None,
    *,
    profile: str | Profile = "interactive",
    selected: tuple[int, int] | None = None,
    cancel: Callable[[], bool] | None = None,
    source: str = "",
    display_size: int | None = None,
    equivariance: bool | None = None,
    progress: Callable[[float], None] | None = None,
    side_thread: bool | None = None,
) -> Result:
    """Compute what ``settings`` and ``profile`` ask for on ``frame``.

    frame: float32 ``[N, N, 3]`` RGB in [0, 1] with N = ``settings.size``, already fitted
    (``cnnviz.io.images.fit_to_size`` or ``load_image``); another size raises SettingsError.
    It may be None in the initialisation lab on noise.

    profile: ``"interactive"`` (default), ``"playback"``, ``"export"`` or ``"stats"``, or a
    :class:`~cnnviz.core.result.Profile`; it is recorded as ``Result.profile``. Every profile
    gives the same statistics for every layer; see :class:`Profile` for what each adds.
    selected: the ``(level, scale)`` whose histogram the interactive and playback profiles
    compute (None: every layer's). The window asks for another cell's histogram with a new
    request carrying that cell. ``display_size`` (0: no display maps, no histograms, as
    the stats profile) and ``equivariance`` override the profile's fields.

    Where torch leaves a core idle (its thread count below the cores available: the app's
    policy on a 2-core machine), what needs no gradient (level 0's statistics and the theory,
    display maps, the equivariance pass, the pyramid strip) runs on a second thread beside
    the backward pass; the numbers are the same either way. Its stages are timed as
    ``"side stats"``, ``"side theory"``, ``"side maps"``, ``"side equivariance"`` in
    ``Result.timings`` (they overlap the others; ``"total"`` is the wall time).
    ``side_thread=False`` keeps every stage on the calling thread (the window: its GUI thread
    draws on that idle core); None follows :data:`OVERLAP` (on unless CNNVIZ_SIDE_THREAD=0).

    ``cancel`` is polled between levels; when it returns True, :class:`Cancelled` is raised
    (a newer request won); inside a convolution too large to wait for it is polled between row
    strips (:mod:`cnnviz.core.strips`). ``progress(fraction)`` hears how far the network's
    forward and backward passes are (per scale, and per strip), fraction in [0, 1]. A device that fails falls back to the CPU with a warning in the
    result; running out of memory raises :class:`EngineError` with one line saying what to reduce.
    """
    t0 = time.perf_counter()
    changes: dict[str, Any] = {}
    if selected is not None:
        changes["selected"] = selected
    if display_size == 0:
        changes.update(display_size=0, histograms="none")
    elif display_size is not None:
        changes["display_size"] = display_size
    if equivariance is not None:
        changes["equivariance"] = equivariance
    try:
        prof = make_profile(profile, **changes)
    except (ValueError, TypeError) as err:
        raise SettingsError(str(err)) from None
    if frame is not None and frame.shape != (settings.size, settings.size, 3):
        raise SettingsError(
            f"the engine needs a frame fitted to {settings.size}x{settings.size} RGB, got shape {tuple(frame.shape)}: "
            "fit it first (cnnviz.io.images.fit_to_size)"
        )
    device, warnings = pick_device(settings.device)
    budget.check(settings, str(device))  # refuse what cannot fit, before allocating (one line)
    try:
        out = _run_on(settings, frame, device, cancel, prof, progress, side_thread)
    except Cancelled:
        raise
    except CnnvizError:
        raise
    except (RuntimeError, MemoryError) as err:
        oom = isinstance(err, MemoryError) or "memory" in str(err).lower()
        if device.type != "cpu":
            warnings.append(f"{device.type} failed ({str(err).splitlines()[0][:120]}); ran on the CPU instead")
            device = torch.device("cpu")
            try:
                out = _run_on(settings, frame, device, cancel, prof, progress, side_thread)
            except (RuntimeError, MemoryError) as err2:
                raise EngineError(
                    _memory_message(settings) if _is_oom(err2) else f"computation failed: {str(err2).splitlines()[0]}"
                ) from None
        elif oom:
            raise EngineError(_memory_message(settings)) from None
        else:
            raise
    warnings += _overflow_warnings(out)
    timings = out.pop("timings")
    timings["total"] = (time.perf_counter() - t0) * 1e3
    return Result(
        settings=settings,
        device=str(device),
        timings=timings,
        warnings=tuple(warnings),
        source=source,
        profile=prof,
        **out,
    )


def _is_oom(err: BaseException) -> bool:
    return isinstance(err, MemoryError) or "memory" in str(err).lower()


def _memory_message(settings: Settings) -> str:
    return (
        f"out of memory at size {settings.size} with {settings.channels} channels: "
        "choose a smaller input size or fewer channels"
    )


def _overflow_warnings(out: dict[str, Any]) -> list[str]:
    warnings = []
    pyr: PyramidResult | None = out.get("pyramid")
    if pyr is not None:
        bad = [st for st in pyr.layers if st.nonfinite]
        if bad:
            first = min(bad, key=lambda st: (st.level, st.scale))
            warnings.append(
                f"activations overflowed to inf/NaN in {len(bad)} layer(s), first at level {first.level} "
                f"(scale {first.scale}): the init variance is too large for this depth"
            )
        gbad = [st for st in pyr.layers if st.grad_nonfinite]
        if gbad and not bad:
            warnings.append(f"gradients overflowed to inf/NaN in {len(gbad)} layer(s)")
    res: ResidualResult | None = out.get("residual")
    if res is not None:
        rbad = [st.level for st in res.layers if st.nonfinite]
        if rbad:
            warnings.append(
                f"the residual stack overflowed to inf/NaN from level {rbad[0]} on: "
                "the init variance is too large for this depth"
            )
        elif any(st.grad_nonfinite for st in res.layers):
            warnings.append("the residual stack's gradients overflowed to inf/NaN")
    return warnings
