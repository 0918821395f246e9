"""Movies: a slider sweep or a clip's frames, each frame the export's figures, to MP4 or GIF.

A lecture slide cannot hold a slider; a movie of the slider can. Each movie frame is one
``Settings -> engine.run -> Result`` drawn by :mod:`cnnviz.export.figures` (the same figures
as the PNG/SVG exports) and composed into one picture ``[H, W, 3]`` uint8: a banner with the
swept value in large type (for example "σ_w² = 0.0316") and a slider track showing where it is
in the range, then the mode's figures (pyramid: the feature-map grid beside the variance and
gradient curves).

- :func:`parse_sweep`: ``"init=1e-3:10:log:60"``, ``"depth=1:8"``, ``"activation=relu,tanh"``
  into a :class:`Sweep` (every value checked against the settings; one line naming the field).
- :func:`sweep_frames` / :func:`clip_frames`: the frames, one at a time (a generator).
- :func:`write_movie`: MP4 (H.264 through PyAV, yuv420p, even dimensions) or GIF (Pillow),
  written through :func:`cnnviz.io.files.atomic_path`; the scene stamp is the container's
  ``comment`` metadata (MP4) or the GIF comment. A ``progress(i, n)`` callback that raises
  (a cancel, Ctrl+C) leaves no file behind.
- :func:`read_movie_stamp`: the scene back from a movie.

No Qt here; matplotlib and PyAV are imported when a movie is made.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ExportError, SettingsError
from ..scene import Scene
from ..settings import INIT_FIELDS, NOISE_SIZES, SIZES, Settings

MOVIE_FORMATS = ("mp4", "gif")
DEFAULT_FRAME_SIZE = (1280, 720)
FRAME_SIZE_RANGE = (128, 3840)
MAX_STEPS = 1000
DEFAULT_FLOAT_STEPS = 30
DEFAULT_FPS = 10.0
BANNER_FRACTION = 0.12  # of the frame's height

# which mode shows a field (a sweep of a residual_* field in the pyramid mode would show nothing move)
_INIT_LAB_FIELDS = (
    *("residual_depth", "residual_activation", "residual_init", "noise_size", "unit_dim"),
    *("unit_activation", "unit_init", "residual_input"),
)
_PYRAMID_FIELDS = ("init", "depth", "activation", "size", "shared")
_NOT_SWEPT = ("mode", "device", "residual")

# how the banner names a field: mathtext, as on the window's labels
LABELS = {
    "init": r"$\sigma_w^2$",
    "residual_init": r"residual $\sigma_w^2$",
    "unit_init": r"unit $\sigma_w^2$",
    "depth": "depth $L$",
    "residual_depth": "residual depth $L$",
    "channels": "channels $J$",
    "kernel": "kernel $D$",
    "size": "input $N$",
    "unit_dim": "inputs $d$",
    "noise_size": "noise side",
}

# the figures of each mode's movie frame, as columns (top to bottom)
PANELS = {
    "pyramid": (("grid",), ("variance", "gradient")),
    "init": (("residual_variance", "residual_gradient"), ("unit_y", "unit_u")),
    "cost": (("grid",), ("multiplies", "variance")),
}

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Sweep:
    """One settings field stepped through ``values`` (each valid on the base settings)."""

    field: str
    values: tuple[Any, ...]
    log: bool = False

    def settings(self, base: Settings) -> list[Settings]:
        return [base.replace(**{self.field: v}) for v in self.values]

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "values": list(self.values), "log": self.log}


def _fields() -> dict[str, Any]:
    return {f.name: f for f in fields(Settings)}


def sweepable_fields() -> tuple[str, ...]:
    return tuple(name for name in _fields() if name not in _NOT_SWEPT)


def _number(field: str, text: str, integer: bool) -> float:
    try:
        x = float(text)
    except ValueError:
        raise SettingsError(f"--sweep {field}: {text!r} is not a number") from None
    if not math.isfinite(x):
        raise SettingsError(f"--sweep {field}: {text!r} is not a finite number")
    if integer and x != int(x):
        raise SettingsError(f"--sweep {field}: {text!r} is not a whole number ({field} is one)")
    return x


def _ints(field: str, a: int, b: int, steps: int | None, log: bool) -> list[int]:
    lo, hi = min(a, b), max(a, b)
    if steps is None:
        if field in ("size", "noise_size"):
            pool = SIZES if field == "size" else NOISE_SIZES
            vals = [v for v in pool if lo <= v <= hi]
        elif field in ("kernel", "video_kernel_t"):
            vals = [v for v in range(lo, hi + 1) if v % 2 == 1]
        elif field == "unit_dim" and log:
            vals = sorted({round(v) for v in np.geomspace(lo, hi, DEFAULT_FLOAT_STEPS)})
        else:
            vals = list(range(lo, hi + 1))
    else:
        space = np.geomspace(lo, hi, steps) if log else np.linspace(lo, hi, steps)
        vals = sorted({int(round(v)) for v in space})
    return vals if a <= b else vals[::-1]


def parse_sweep(spec: str, base: Settings) -> Sweep:
    """``FIELD=START:STOP[:lin|log][:STEPS]`` or ``FIELD=V1,V2,...`` into a Sweep.

    Whole-number fields without STEPS take every value between (kernel: the odd ones, size:
    the powers of two); the init fields take 30 steps, logarithmic unless a bound is 0. Every
    value is checked on ``base``: SettingsError in one line naming the field otherwise.
    """
    if "=" not in spec:
        raise SettingsError(f"--sweep {spec!r}: write FIELD=START:STOP[:log][:STEPS], e.g. init=1e-3:10:log:60")
    field, _, body = spec.partition("=")
    field, body = field.strip().replace("-", "_"), body.strip()
    known = _fields()
    if field not in known or field in _NOT_SWEPT:
        raise SettingsError(f"--sweep: unknown setting {field!r} (one of {', '.join(sweepable_fields())})")
    kind = known[field].type
    integer = kind == "int"
    values: list[Any]
    log = False
    if "," in body or kind in ("str", "bool"):
        parts = [p.strip() for p in body.split(",") if p.strip()]
        if kind == "bool":
            truth = {"true": True, "on": True, "1": True, "false": False, "off": False, "0": False}
            bad = [p for p in parts if p.lower() not in truth]
            if bad or not parts:
                raise SettingsError(f"--sweep {field}: values are true,false, not {body!r}")
            values = [truth[p.lower()] for p in parts]
        elif integer:
            values = [int(_number(field, p, True)) for p in parts]
        elif field in INIT_FIELDS:
            values = [p if p.isalpha() else _number(field, p, False) for p in parts]
        else:
            values = parts
    else:
        parts = body.split(":")
        if len(parts) < 2 or len(parts) > 4 or not all(parts[:2]):
            raise SettingsError(f"--sweep {field}: the range must be START:STOP[:lin|log][:STEPS], not {body!r}")
        a, b = (_number(field, p, integer) for p in parts[:2])
        steps: int | None = None
        scale: str | None = None
        for extra in parts[2:]:
            if extra in ("lin", "log"):
                scale = extra
            else:
                n = _number(field, extra, True)
                if not 2 <= n <= MAX_STEPS:
                    raise SettingsError(f"--sweep {field}: steps must be from 2 to {MAX_STEPS}, not {extra}")
                steps = int(n)
        if a == b:
            raise SettingsError(f"--sweep {field}: the range {body!r} is empty (START equals STOP)")
        log = scale == "log" or (scale is None and field in INIT_FIELDS and min(a, b) > 0)
        if log and min(a, b) <= 0:
            raise SettingsError(f"--sweep {field}: a log range needs START and STOP > 0, not {body!r}")
        if integer:
            values = _ints(field, int(a), int(b), steps, log)
        else:
            n = steps or DEFAULT_FLOAT_STEPS
            values = [float(v) for v in (np.geomspace(a, b, n) if log else np.linspace(a, b, n))]
    if len(values) < 2:
        raise SettingsError(f"--sweep {field}: {body!r} gives fewer than two values")
    if len(values) > MAX_STEPS:
        raise SettingsError(f"--sweep {field}: {len(values)} values, at most {MAX_STEPS}")
    for v in values:
        try:
            base.replace(**{field: v})
        except SettingsError as err:
            raise SettingsError(f"--sweep {field}: {v!r} cannot be used: {err}") from None
    return Sweep(field, tuple(values), log)


def mode_for(field: str, settings: Settings) -> str:
    """The mode whose figures show ``field`` changing (the settings' own when it shows it)."""
    if field in _INIT_LAB_FIELDS and settings.mode != "init":
        return "init"
    if field in _PYRAMID_FIELDS and settings.mode == "init":
        return "pyramid"
    return settings.mode


def value_text(field: str, value: Any, result: Any = None) -> str:
    """The swept value for the banner: ``σ_w² = 0.0316`` (mathtext), ``depth L = 5``."""
    from .figures import fmt

    label = LABELS.get(field, field.replace("_", " "))
    if field in INIT_FIELDS and isinstance(value, (int, float)):
        return f"{label} = {fmt(value)}"
    if field in INIT_FIELDS and result is not None:  # a rule: say what it resolved to
        var = _resolved_init(field, result)
        return f"{label} = {value} ({fmt(var)})" if var is not None else f"{label} = {value}"
    if field == "size":
        return f"{label} = {value}×{value}"
    if isinstance(value, bool):
        return f"{label}: {'on' if value else 'off'}"
    return f"{label} = {value}"


def _resolved_init(field: str, result: Any) -> float | None:
    part = {"init": result.pyramid, "residual_init": result.residual, "unit_init": result.unit}[field]
    return None if part is None else float(part.init_var)


def parse_frame_size(text: str) -> tuple[int, int]:
    """``"1280x720"`` -> (1280, 720), rounded down to even numbers (H.264 in yuv420p needs them)."""
    try:
        w, h = (int(p) for p in text.lower().replace("×", "x").split("x"))
    except ValueError:
        raise SettingsError(f"--frame-size must be WIDTHxHEIGHT, e.g. 1280x720, not {text!r}") from None
    lo, hi = FRAME_SIZE_RANGE
    if not (lo <= w <= hi and lo <= h <= hi):
        raise SettingsError(f"--frame-size sides must be from {lo} to {hi} pixels, not {text}")
    return w - w % 2, h - h % 2


# -- drawing one frame ----------------------------------------------------------------------
def _rgba(fig: Any, dpi: float) -> np.ndarray:
    """``fig`` drawn by Agg at ``dpi``: uint8 ``[h, w, 4]``."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from .figures import STYLE

    fig.set_dpi(dpi)
    canvas = FigureCanvasAgg(fig)
    with matplotlib.rc_context(STYLE):
        canvas.draw()
    return np.asarray(canvas.buffer_rgba())


def _banner(width: int, height: int, text: str, note: str, position: float | None) -> np.ndarray:
    """The banner ``[height, width, 4]``: the value in large type, a note, a slider track."""
    import matplotlib
    from matplotlib.figure import Figure

    from .figures import MUTED, SELECT, STYLE, TEXT

    dpi = 100.0
    fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi, facecolor="white")
    big = max(10.0, 0.42 * height * 72 / dpi)  # points: 42 % of the banner's height
    with matplotlib.rc_context(STYLE):
        fig.text(0.015, 0.55, text, fontsize=big, color=TEXT, ha="left", va="center")
        fig.text(0.985, 0.80, note, fontsize=big * 0.36, color=MUTED, ha="right", va="center")
        if position is not None:  # the slider: where this value sits in the swept range
            ax = fig.add_axes((0.55, 0.22, 0.43, 0.3))
            ax.set_xlim(-0.02, 1.02)
            ax.set_ylim(-1, 1)
            ax.axis("off")
            ax.plot([0, 1], [0, 0], color="#c8c8c8", lw=max(2.0, height * 0.05), solid_capstyle="round")
            ax.plot([0, position], [0, 0], color=MUTED, lw=max(2.0, height * 0.05), solid_capstyle="round")
            ax.plot([position], [0], "o", color=SELECT, ms=max(6.0, height * 0.16))
    return _rgba(fig, dpi)


def _paste(canvas: np.ndarray, tile: np.ndarray, top: int, left: int) -> None:
    h = min(tile.shape[0], canvas.shape[0] - top)
    w = min(tile.shape[1], canvas.shape[1] - left)
    canvas[top : top + h, left : left + w] = tile[:h, :w, :3]


def compose(
    result: Any,
    scene: Scene,
    size: tuple[int, int] = DEFAULT_FRAME_SIZE,
    *,
    text: str = "",
    note: str = "",
    position: float | None = None,
    ylims: dict[str, tuple[float, float]] | None = None,
) -> np.ndarray:
    """One movie frame, uint8 ``[H, W, 3]`` with ``(W, H) = size``: banner over the mode's figures.

    ``ylims``: fixed y limits for figures by name (a sweep keeps its curves' axes still, so
    the curves move and the axes do not). Each figure is drawn by Agg straight at the
    resolution it occupies (no resampling)."""
    from .figures import _log_ticks, render

    width, height = size
    mode = result.settings.mode
    columns = [[render(result, scene, f) for f in col] for col in PANELS[mode]]
    for col, names in zip(columns, PANELS[mode]):
        for fig, name in zip(col, names):
            if ylims and name in ylims and fig.axes and fig.axes[0].get_yscale() == "log":
                fig.axes[0].set_ylim(*ylims[name])
                _log_ticks(fig.axes[0])
    banner_h = max(40, int(height * BANNER_FRACTION)) if text or note else 0
    room_h = height - banner_h
    # inches of each column: widest figure x stacked heights; one dpi per column fits the height
    col_in = [(max(f.get_size_inches()[0] for f in col), sum(f.get_size_inches()[1] for f in col)) for col in columns]
    dpis = [room_h / h for _, h in col_in]
    total_w = sum(w * d for (w, _), d in zip(col_in, dpis))
    if total_w > width:
        dpis = [d * width / total_w for d in dpis]
        total_w = width
    canvas = np.full((height, width, 3), 255, np.uint8)
    if banner_h:
        _paste(canvas, _banner(width, banner_h, text, note, position), 0, 0)
    left = int((width - total_w) / 2)
    for col, (cw, ch), dpi in zip(columns, col_in, dpis):
        top = banner_h + int((room_h - ch * dpi) / 2)
        for fig in col:
            tile = _rgba(fig, dpi)
            _paste(canvas, tile, top, left + int((cw * dpi - tile.shape[1]) / 2))
            top += tile.shape[0]
        left += int(round(cw * dpi))
    return canvas


# -- the frames of a sweep and of a clip ---------------------------------------------------------
def _run(settings: Settings, frame: np.ndarray | None, source: str) -> Any:
    from ..core.engine import run

    if frame is not None and frame.shape[:2] != (settings.size, settings.size):  # a sweep of the size
        from ..io.images import fit_to_size

        frame = fit_to_size(frame, settings.size)[0]
    # the equivariance readout is not drawn in a movie frame and costs a second pass of the network
    return run(settings, frame, source=source, equivariance=False)


def _position(sweep: Sweep, i: int) -> float:
    vals = sweep.values
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
        lo, hi, v = float(vals[0]), float(vals[-1]), float(vals[i])
        if sweep.log and lo > 0 and hi > 0 and v > 0:
            lo, hi, v = math.log(lo), math.log(hi), math.log(v)
        return 0.5 if hi == lo else (v - lo) / (hi - lo)
    return i / max(1, len(vals) - 1)


# -- drawing frames in worker processes ------------------------------------------------------------
# Drawing a frame is matplotlib (Python, one core); a pool of forked processes draws several at once.
# The job is a module global set before the fork, so each task is only an index (or a clip frame).
_JOB: dict[str, Any] = {}


def _child_init() -> None:
    import signal

    import torch

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's to handle (it ends the pool)
    torch.set_num_threads(1)


def _sweep_frame(i: int) -> np.ndarray:
    job = _JOB
    sweep: Sweep = job["sweep"]
    scene: Scene = job["scene"]
    settings = scene.settings.replace(**{sweep.field: sweep.values[i]})
    result = _run(settings, job["frame"], job["source"])
    note = f"{i + 1}/{len(sweep.values)}   {fmt_range(sweep)}"
    text = value_text(sweep.field, sweep.values[i], result)
    here = scene.replace(settings=settings)
    return compose(
        result, here, job["size"], text=text, note=note, position=_position(sweep, i), ylims=job.get("ylims")
    )


def _clip_frame(task: tuple[int, int, float, np.ndarray]) -> np.ndarray:
    from ..scene import SourceRef, pixel_hash

    k, index, t, rgb = task
    job = _JOB
    scene: Scene = job["scene"]
    name, n = job["name"], job["n"]
    ref = SourceRef(name=name, path=job["path"], pixels=pixel_hash(rgb), frame=index)
    result = _run(scene.settings, rgb, f"{name}: frame {index}")
    text = f"frame {index}   t = {t:.2f} s"
    note = f"{name}   {k + 1}/{n}"
    return compose(result, scene.replace(source=ref), job["size"], text=text, note=note, position=k / max(1, n - 1))


def default_workers() -> int:
    """Processes that draw frames: every core, at most 4 (``CNNVIZ_MOVIE_WORKERS`` overrides)."""
    import os

    env = os.environ.get("CNNVIZ_MOVIE_WORKERS", "")
    if env.isdigit() and int(env) >= 1:
        return int(env)
    return max(1, min(4, os.cpu_count() or 1))


def _mapped(
    fn: Callable[[Any], np.ndarray], tasks: Iterable[Any], job: dict[str, Any], workers: int
) -> Iterator[np.ndarray]:
    """``fn`` over ``tasks`` in order, in ``workers`` forked processes (1: here, in this thread)."""
    global _JOB
    _JOB = job
    if workers <= 1:
        for t in tasks:
            yield fn(t)
        return
    import multiprocessing

    pool = multiprocessing.get_context("fork").Pool(workers, initializer=_child_init)
    try:
        yield from pool.imap(fn, tasks, chunksize=1)
        pool.close()
    finally:
        pool.terminate()  # a cancel, Ctrl+C or an error: the frames still being drawn are dropped
        pool.join()


def sweep_frames(
    scene: Scene,
    sweep: Sweep,
    frame: np.ndarray | None,
    size: tuple[int, int] = DEFAULT_FRAME_SIZE,
    source: str = "",
    workers: int = 1,
    fixed_axes: bool = True,
) -> Iterator[np.ndarray]:
    """One composed frame ``[H, W, 3]`` uint8 per value of ``sweep`` on ``scene``'s settings.

    ``fixed_axes``: the curves' y axes hold the whole sweep (:func:`sweep_limits`), so what
    moves is the curves, as when the slider is dragged in the window with the axes locked.

    ``workers`` > 1 draws frames in that many forked processes (the command line; a window's
    process must not fork)."""
    job = {"scene": scene, "sweep": sweep, "frame": frame, "size": size, "source": source}
    if fixed_axes:
        job["ylims"] = sweep_limits(scene, sweep, frame, source)
    return _mapped(_sweep_frame, range(len(sweep.values)), job, workers)


def sweep_limits(scene: Scene, sweep: Sweep, frame: np.ndarray | None, source: str = "") -> dict[str, tuple]:
    """The y limits that hold every value of the sweep, for the variance and gradient curves.

    A quick pass first (numbers only: no display maps, no equivariance); the pyramid mode only."""
    from ..core.engine import run
    from .figures import _log_limits

    if scene.settings.mode not in ("pyramid", "cost"):
        return {}
    series: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {"variance": ([], []), "gradient": ([], [])}
    for settings in sweep.settings(scene.settings):
        if frame is not None and frame.shape[:2] != (settings.size, settings.size):
            from ..io.images import fit_to_size

            pyr = run(settings, fit_to_size(frame, settings.size)[0], display_size=0, equivariance=False).pyramid
        else:
            pyr = run(settings, frame, source=source, display_size=0, equivariance=False).pyramid
        if pyr is None:
            return {}
        series["variance"][0].append(pyr.grid("var"))
        series["variance"][1].append(pyr.grid("theory_var"))
        series["gradient"][0].append(pyr.grid("grad_rms")[1:])
        series["gradient"][1].append(pyr.grid("theory_grad_rms")[1:])
    out = {}
    for name, (measured, theory) in series.items():
        lim = _log_limits(measured, theory)
        if lim is not None:
            out[name] = lim
    return out


def fmt_range(sweep: Sweep) -> str:
    from .figures import fmt

    a, b = sweep.values[0], sweep.values[-1]
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return f"{fmt(a)} → {fmt(b)}{' (log)' if sweep.log else ''}"
    return ", ".join(map(str, sweep.values))


def clip_frames(
    scene: Scene,
    video: str | Path,
    size: tuple[int, int] = DEFAULT_FRAME_SIZE,
    indices: Sequence[int] | None = None,
    workers: int = 1,
) -> tuple[int, float, Iterator[np.ndarray]]:
    """(frame count, fps, frames): one composed frame ``[H, W, 3]`` uint8 per frame of the clip ``video``.

    The clip is decoded here, in order; ``workers`` > 1 draws frames in forked processes."""
    from ..io.video import VideoReader

    reader = VideoReader(video, size=scene.settings.size)
    info = reader.ensure_index()
    todo = list(range(info.frame_count)) if indices is None else list(indices)
    fps = info.fps if info.fps and math.isfinite(info.fps) and info.fps > 0 else DEFAULT_FPS
    job = {"scene": scene, "size": size, "name": Path(video).name, "path": str(Path(video).resolve()), "n": len(todo)}

    def decoded() -> Iterator[tuple[int, int, float, np.ndarray]]:
        try:
            for k, f in enumerate(reader.frames_at(todo)):
                yield k, f.index, f.time, f.rgb
        finally:
            reader.close()

    return len(todo), fps, _mapped(_clip_frame, decoded(), job, workers)


# -- writing -------------------------------------------------------------------------------------
def movie_format(path: str | Path, fmt: str | None = None) -> str:
    f = (fmt or Path(path).suffix.lstrip(".")).lower()
    if f not in MOVIE_FORMATS:
        raise ExportError(f"a movie is written as {' or '.join(MOVIE_FORMATS)}, not {f or 'no extension'!r}")
    return f


def write_movie(
    path: str | Path,
    frames: Iterable[np.ndarray],
    n: int,
    scene: Scene,
    *,
    fps: float = DEFAULT_FPS,
    fmt: str | None = None,
    about: dict[str, Any] | None = None,
    progress: Progress | None = None,
    inputs: Iterable[str | Path | None] = (),
) -> Path:
    """Write ``n`` frames (uint8 ``[H, W, 3]``, all one size) as an MP4 or GIF at ``path``, atomically.

    The scene stamp goes into the container (MP4 ``comment``; GIF comment) and ``about`` (what
    was swept, or the clip) into the MP4 ``description``. ``progress(i, n)`` is called after
    each frame; if it (or anything) raises, no file is left behind and ``path`` is untouched.
    """
    from ..io.files import atomic_path
    from .stamp import stamp_text

    p = Path(path)
    fmt = movie_format(p, fmt)
    if not (0.1 <= fps <= 120):
        raise ExportError(f"fps must be from 0.1 to 120, not {fps:g}")
    stamp = stamp_text(scene)
    with atomic_path(p, inputs=inputs, what=f"{fmt.upper()} movie") as tmp:
        if fmt == "mp4":
            _write_mp4(tmp, frames, n, fps, stamp, about, progress)
        else:
            _write_gif(tmp, frames, n, fps, stamp, progress)
    return p


def _write_mp4(tmp: Path, frames: Iterable[np.ndarray], n: int, fps: float, stamp: str, about, progress) -> None:
    import av

    rate = Fraction(fps).limit_denominator(1001)
    done = 0
    with av.open(str(tmp), mode="w", format="mp4") as container:
        container.metadata["comment"] = stamp
        if about is not None:
            container.metadata["description"] = json.dumps(about, separators=(",", ":"), ensure_ascii=False)
        stream = None
        for rgb in frames:
            if stream is None:
                h, w = rgb.shape[:2]
                if w % 2 or h % 2:
                    raise ExportError(f"an H.264 movie needs even dimensions, not {w}x{h}")
                stream = container.add_stream("libx264", rate=rate)
                stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
                # crf 18: visually lossless feature maps; the pixel-sharp maps suffer most from compression
                stream.options = {"crf": "18", "preset": "veryfast", "tune": "stillimage"}
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
            done += 1
            if progress is not None:
                progress(done, n)
        if stream is None:
            raise ExportError("a movie needs at least one frame")
        for packet in stream.encode():
            container.mux(packet)


def _write_gif(tmp: Path, frames: Iterable[np.ndarray], n: int, fps: float, stamp: str, progress) -> None:
    from PIL import Image

    images = []
    for rgb in frames:
        # one adaptive palette per frame (the maps' colours and the curves' differ between frames)
        images.append(Image.fromarray(rgb, "RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT))
        if progress is not None:
            progress(len(images), n)
    if not images:
        raise ExportError("a movie needs at least one frame")
    duration = max(20, int(round(1000 / fps)))  # ms; browsers treat < 20 ms as 100 ms
    with open(tmp, "wb") as f:
        images[0].save(
            f,
            format="GIF",
            save_all=True,
            append_images=images[1:],
            duration=duration,
            loop=0,
            comment=stamp.encode("utf-8"),
            optimize=False,
        )


def read_movie_stamp(path: str | Path) -> Scene:
    """The scene stamped in a movie cnnviz wrote (MP4 comment, GIF comment)."""
    p = Path(path)
    text: str | None = None
    if p.suffix.lower() == ".gif":
        from PIL import Image

        try:
            with Image.open(p) as im:
                raw = im.info.get("comment")
        except OSError as err:
            raise SettingsError(f"{p.name}: not a GIF cnnviz can read ({err})") from None
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    else:
        import av

        try:
            with av.open(str(p)) as container:
                text = container.metadata.get("comment")
        except av.error.FFmpegError as err:
            raise SettingsError(f"{p.name}: not a movie cnnviz can read ({err})") from None
    if not text:
        raise SettingsError(f"{p.name}: this movie has no cnnviz stamp")
    from ..scene import parse_json

    return Scene.from_dict(parse_json(text, "the stamp"))
