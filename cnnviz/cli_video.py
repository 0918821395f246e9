"""``cnnviz stats VIDEO``: the per-layer table on each analysed frame and over the whole clip.

    cnnviz stats VIDEO [--frames N | --every K] [settings flags] [--json]
    cnnviz stats VIDEO --video-net [--stride S] [--kernel-t Dt] [--window T] [settings flags] [--json]

:mod:`cnnviz.cli` owns the parser and calls :func:`add_video_arguments` and
:func:`stats_video`. Ctrl+C stops between frames and prints what was analysed, labelled as
partial (exit status 130). A truncated file that still gave frames succeeds and says so.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from typing import Any, TextIO

from .core.video_net import DEFAULT_WINDOW
from .errors import CnnvizError, SettingsError
from .interrupt import exit_code
from .numtext import cell as _g
from .settings import Settings

DEFAULT_STRIDE = Settings().video_stride
DEFAULT_KERNEL_T = Settings().video_kernel_t
_VIDEO_NET_ONLY = ("stride", "kernel_t", "window")


def add_video_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the video flags of ``cnnviz stats`` to ``parser``."""
    g = parser.add_argument_group("video (when FILE is a video)")
    which = g.add_mutually_exclusive_group()
    which.add_argument(
        "--frames",
        type=int,
        metavar="N",
        help="analyse N frames spread evenly over the clip, first and last included (default 16)",
    )
    which.add_argument("--every", type=int, metavar="K", help="analyse every K-th frame: 0, K, 2K, ...")
    g.add_argument(
        "--video-net",
        action="store_true",
        help="Problem 2's video CNN (conv3d over the last T frames) instead of the pyramid network",
    )
    g.add_argument(
        "--stride",
        type=int,
        metavar="S",
        help=f"video network: one stride on space and time (default {DEFAULT_STRIDE})",
    )
    g.add_argument(
        "--kernel-t",
        type=int,
        metavar="Dt",
        help=f"video network: temporal filter size, odd (default {DEFAULT_KERNEL_T})",
    )
    g.add_argument(
        "--window",
        type=int,
        metavar="T",
        help=f"video network: frames per clip, the last T seen (default {DEFAULT_WINDOW})",
    )


_FLAG_FIELDS = {"stride": "video_stride", "kernel_t": "video_kernel_t", "window": "video_window"}


def _video_net_options(args: argparse.Namespace, settings: Settings | None = None) -> tuple[int, int, int]:
    """(stride, temporal kernel, window): ``settings``' video fields with the flags applied.

    The flags map onto :class:`Settings`' ``video_stride``, ``video_kernel_t`` and ``video_window``
    and are validated there: 0 or a negative value is refused, never replaced by a default.
    """
    given = [name for name in _VIDEO_NET_ONLY if getattr(args, name, None) is not None]
    if given and not getattr(args, "video_net", False):
        flags = ", ".join("--" + n.replace("_", "-") for n in given)
        raise SettingsError(f"{flags} apply to --video-net")
    settings = apply_video_flags(args, settings or Settings())
    return settings.video_stride, settings.video_kernel_t, settings.video_window


def apply_video_flags(args: argparse.Namespace, settings: Settings) -> Settings:
    """``settings`` with ``--stride``, ``--kernel-t`` and ``--window`` applied to its video fields
    (validated there; an invalid value is one line naming the flag)."""
    for name, field in _FLAG_FIELDS.items():
        value = getattr(args, name, None)
        if value is None:
            continue
        try:
            settings = settings.replace(**{field: value})
        except SettingsError as err:
            raise SettingsError(f"--{name.replace('_', '-')} {value}: {err}") from None
    return settings


def _check_budget(
    settings: Settings, video_net: bool, stride: int, kernel_t: int, window: int, runs: int, err: TextIO
) -> None:
    """Refuse (one line) what cannot fit in memory; say so first when the whole run will be long."""
    from .cli import check_budget, note_budget
    from .core.budget import video_estimate

    est = video_estimate(settings, stride, kernel_t, window) if video_net else None
    note_budget(check_budget(settings, est), err, runs)


class _Progress:
    """A carriage-return bar on a terminal; elsewhere nothing until one summary line."""

    def __init__(self, err: TextIO, total: int, what: str) -> None:
        self.err, self.total, self.what = err, total, what
        self.tty = bool(getattr(err, "isatty", lambda: False)())
        self.start = time.perf_counter()
        self.done = 0

    def step(self, done: int) -> None:
        self.done = done
        if not self.tty:
            return
        width = 30
        filled = int(width * done / self.total) if self.total else width
        rate = done / max(time.perf_counter() - self.start, 1e-9)
        self.err.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} {self.what} {rate:.1f}/s")
        self.err.flush()

    def finish(self, decode_s: float, compute_s: float, partial: bool) -> None:
        if self.tty:
            self.err.write("\n")
        elapsed = time.perf_counter() - self.start
        state = "PARTIAL (interrupted): " if partial else ""
        self.err.write(
            f"{state}analysed {self.done} of {self.total} {self.what} in {elapsed:.1f} s "
            f"(decode {decode_s:.1f} s, compute {compute_s:.1f} s)\n"
        )
        self.err.flush()


def _pm(mean: float, std: float) -> str:
    if math.isnan(mean):
        return "-".rjust(21)
    return f"{mean:.4g} ± {std:.2g}".rjust(21)


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))


def _frame_table(fs: Any, video_net: bool) -> list[str]:
    what = f"window of frames {fs.frames[0]}-{fs.frames[-1]}" if video_net and fs.frames else f"frame {fs.index}"
    lines = [f"{what} (t = {fs.time:.3f} s)"]
    sc = "" if video_net else f" {'s':>2}"
    head = (
        f"{'l':>2}{sc} {'shape':>18} {'mean':>10} {'var':>10} {'mean sq':>10} {'grad var':>10} "
        f"{'gradRMS':>10} {'zeros':>6} {'multiplies':>14}"
    )
    lines += [head, "-" * len(head)]
    for st in fs.layers:
        s = "" if video_net else f" {st.scale:>2}"
        lines.append(
            f"{st.level:>2}{s} {_shape(st.shape):>18} {_g(st.mean)} {_g(st.var)} {_g(st.mean_sq)} "
            f"{_g(st.grad_var)} {_g(st.grad_rms)} {st.zero_frac:>6.1%} {st.multiplies:>14,}"
        )
    return lines


def _aggregate_table(aggs: Any, n: int, video_net: bool) -> list[str]:
    what = "windows" if video_net else "frames"
    lines = [f"over {n} {what}: mean ± std over {what}"]
    sc = "" if video_net else f" {'s':>2}"
    head = (
        f"{'l':>2}{sc} {'shape':>18} {'mean':>21} {'var':>21} {'grad var':>21} {'gradRMS':>21} "
        f"{'zeros':>21} {'multiplies':>14}"
    )
    lines += [head, "-" * len(head)]
    for a in aggs:
        s = "" if video_net else f" {a.scale:>2}"
        m, d = a.mean, a.std
        lines.append(
            f"{a.level:>2}{s} {_shape(a.shape):>18} {_pm(m['mean'], d['mean'])} {_pm(m['var'], d['var'])} "
            f"{_pm(m['grad_var'], d['grad_var'])} {_pm(m['grad_rms'], d['grad_rms'])} "
            f"{_pm(m['zero_frac'], d['zero_frac'])} {a.multiplies:>14,}"
        )
    return lines


def _layer_dict(st: Any) -> dict[str, Any]:
    keys = (
        "level",
        "scale",
        "mean",
        "var",
        "mean_sq",
        "zero_frac",
        "nonfinite",
        "grad_var",
        "grad_rms",
        "grad_nonfinite",
        "multiplies",
        "theory_mean_sq",
        "theory_var",
        "theory_grad_rms",
    )
    d = {k: getattr(st, k) for k in keys}
    d["shape"] = list(st.shape)
    return d


def stats_video(
    path: str, settings: Settings, args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    """Run ``cnnviz stats`` on the video at ``path``; returns the exit status.

    0: done (a truncated file that still gave frames says so); 1: the video or a flag cannot
    be used (one line on ``err``); 130: interrupted with Ctrl+C, the partial result printed.
    """
    try:
        return _stats_video(path, settings, args, out, err)
    except CnnvizError as e:
        err.write(f"cnnviz: error: {e}\n")
        return 1


def _stats_video(path: str, settings: Settings, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .core import video_stats as vs
    from .io.video import VideoReader
    from .report import strict_json

    video_net = bool(getattr(args, "video_net", False))
    stride, kernel_t, window = _video_net_options(args, settings)
    frames_n, every = getattr(args, "frames", None), getattr(args, "every", None)
    if settings.residual:
        raise SettingsError("--residual runs on noise or one image, not on a video")
    settings = vs.pyramid_settings(settings)

    with VideoReader(path, settings.size) as reader:
        info = reader.ensure_index()
        warnings: list[str] = []
        spec = None
        if video_net:
            if info.frame_count < window:
                warnings.append(
                    f"the video has {info.frame_count} frames, fewer than the window of {window}: "
                    f"one clip of {info.frame_count} frames"
                )
            targets = vs.window_targets(info.frame_count, window, frames_n, every)
            _, spec = vs.make_video_net(settings, stride, kernel_t, min(window, info.frame_count))
            stream = vs.iter_video_net_stats(reader, settings, targets, stride, kernel_t, window)
        else:
            targets = vs.select_frames(info.frame_count, frames_n, every)
            stream = vs.iter_frame_stats(reader, settings, targets)
        _check_budget(settings, video_net, stride, kernel_t, min(window, info.frame_count), len(targets), err)
        progress = _Progress(err, len(targets), "windows" if video_net else "frames")
        done: list[vs.FrameStats] = []
        partial = False
        interrupted = 0
        try:
            for fs in stream:  # Ctrl+C stops between windows (the decoder thread must end before the reader)
                done.append(fs)
                progress.step(len(done))
        except KeyboardInterrupt as stop:  # Ctrl+C or SIGTERM
            partial = True
            interrupted = exit_code(stop)
        except (RuntimeError, MemoryError) as oom:
            if not isinstance(oom, MemoryError) and "memory" not in str(oom).lower():
                raise
            what = "window, input size" if video_net else "input size"
            raise CnnvizError(
                f"out of memory after {len(done)} {progress.what}: choose a smaller {what} or fewer channels"
            ) from None
        finally:
            stream.close()
        decode_s = sum(fs.decode_ms for fs in done) / 1e3
        compute_s = sum(fs.compute_ms for fs in done) / 1e3
        progress.finish(decode_s, compute_s, partial)
        if reader.problem:
            warnings.append(reader.problem)
        if not done:
            if partial:
                err.write("cnnviz: interrupted before the first frame was analysed\n")
                return interrupted
            raise CnnvizError(f"{info.describe()}: none of the requested frames could be read")
        aggs = vs.aggregate(done)

    if getattr(args, "json", False):
        data: dict[str, Any] = {
            "video": dataclasses.asdict(info),
            "network": "video_net" if video_net else "pyramid",
            "settings": settings.to_dict(),
            "partial": partial,
            "frames_requested": len(targets),
            "frames_analysed": len(done),
            "warnings": warnings,
            "timings_s": {"decode": decode_s, "compute": compute_s},
            "frames": [
                {
                    "index": fs.index,
                    "time": fs.time,
                    "decode_ms": fs.decode_ms,
                    "compute_ms": fs.compute_ms,
                    **({"window": list(fs.frames)} if video_net else {}),
                    "layers": [_layer_dict(st) for st in fs.layers],
                }
                for fs in done
            ],
            "aggregate": [
                {
                    "level": a.level,
                    "scale": a.scale,
                    "shape": list(a.shape),
                    "count": a.count,
                    "multiplies": a.multiplies,
                    "mean": a.mean,
                    "std": a.std,
                }
                for a in aggs
            ],
        }
        if spec is not None:
            data["video_net"] = {
                **dataclasses.asdict(spec),
                "padding": "centred, zero padding (Dt//2, D//2, D//2): each length becomes ceil(n / s)",
            }
        out.write(strict_json(data) + "\n")
    else:
        lines = [f"video: {info.describe()}"]
        side = min(info.width, info.height)
        steps = [f"centre-cropped to {side}x{side}"] if info.width != info.height else []
        if side != settings.size:
            steps.append(f"resized to {settings.size}x{settings.size}")
        lines.append(f"frames fitted as images are: {', '.join(steps) or 'used as they are'}")
        if partial:
            lines.append(
                f"PARTIAL RESULT: interrupted after {len(done)} of {len(targets)} "
                f"{'windows' if video_net else 'frames'}"
            )
        s = settings
        if spec is not None:
            lines.append(
                f"video network (Problem 2): L={spec.depth} J={spec.channels} D={spec.kernel} Dt={spec.kernel_t} "
                f"stride {spec.stride} on space and time, {spec.activation}, no bias, seed {s.seed}; "
                f"sigma_w^2 = {', '.join(f'{v:.4g}' for v in spec.init_vars)}"
            )
            lines.append(
                f"clips of the last {spec.shapes[0][2]} frames fitted to {s.size}x{s.size}: window memory "
                f"{spec.clip_bytes / 2**20:.1f} MiB, activations {spec.activation_bytes / 2**20:.1f} MiB per clip "
                f"(gradients as much again)"
            )
            lines.append(
                "shapes are B x C x T x H x W; centred filters with zero padding in space and time "
                "(the seed's offsets start at 0), so each length becomes ceil(n / s)"
            )
            lines.append(f"multiplies per clip (B X Y T dX dY dT I J): {sum(spec.multiplies):,}")
        else:
            lines.append(
                f"scale-shared network: size {s.size} depth {s.depth} J={s.channels} D={s.kernel} {s.activation}, "
                f"init {s.init}, {'shared' if s.shared else 'UNSHARED'} weights, seed {s.seed}"
            )
        lines.append("")
        for fs in done:
            lines += _frame_table(fs, video_net)
            lines.append("")
        lines += _aggregate_table(aggs, len(done), video_net)
        for w in warnings:
            lines.append(f"warning: {w}")
        lines.append(f"time: decode {decode_s * 1e3:.0f} ms, compute {compute_s * 1e3:.0f} ms")
        out.write("\n".join(lines) + "\n")
    for w in warnings:
        err.write(f"cnnviz: warning: {w}\n")
    return interrupted if partial else 0
