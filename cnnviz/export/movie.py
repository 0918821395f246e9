"""Movies: a slider sweep or a clip's frames, each frame the export's figures, to MP4 or GIF.

A lecture slide cannot hold a slider; a movie of the slider can. Each movie frame is one
``Settings -> engine.run -> Result`` drawn by :mod:`cnnviz.export.figures` (the same figures
as the PNG/SVG exports) and composed into one picture ``[H, W, 3]`` uint8: a banner with the
swept value in large type (for example "σ_w² = 0.0316") and a slider track showing where it is
in the range, then the mode's figures (pyramid: the feature-map grid beside the variance and
gradient curves).

- :func:`parse_sweep`: ``"init=1e-3:10:log:60"``, ``"depth=1:8"``, ``"activation=relu,tanh"``
  into a :class:`Sweep` (every value checked against the settings; one line naming the field).
- :func:`sweep_frames` / :func:`clip_frames`: the frames, one at a time (a generator). The figures
  are built once per movie and only what moves is drawn again (:mod:`cnnviz.export.live`); the
  engine runs in a helper thread ahead of the drawing. One process: nothing forks.
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

from ..core.result import profile
from ..errors import ExportError, SettingsError
from ..scene import Scene
from ..settings import INIT_FIELDS, NOISE_SIZES, SIZES, Settings

MOVIE_FORMATS = ("mp4", "gif")
DEFAULT_FRAME_SIZE = (1280, 720)
FRAME_SIZE_RANGE = (128, 3840)
MAX_STEPS = 1000
DEFAULT_FLOAT_STEPS = 30
DEFAULT_FPS = 10.0

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

Progress = Callable[[int, int], None]
# the engine's profile for a movie frame: display maps and statistics, nothing the frame does not draw
MOVIE_PROFILE = profile("playback", histograms="none", equivariance=False)


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
    """One movie frame, uint8 ``[H, W, 3]`` with ``(W, H) = size``: banner over the mode's figures,
    built from scratch (a movie keeps one :class:`~cnnviz.export.live.FrameDrawer` for all its frames).

    ``ylims``: fixed y limits for figures by name (a sweep keeps its curves' axes still, so
    the curves move and the axes do not)."""
    from .live import FrameDrawer

    return FrameDrawer(size, ylims).draw(result, scene, text=text, note=note, position=position)


# -- the frames of a sweep and of a clip ---------------------------------------------------------
def _run(settings: Settings, frame: np.ndarray | None, source: str) -> Any:
    from ..core.engine import run

    if frame is not None and frame.shape[:2] != (settings.size, settings.size):  # a sweep of the size
        from ..io.images import fit_to_size

        frame = fit_to_size(frame, settings.size)[0]
    # only what a movie frame draws: no equivariance readout (a second pass of the network), no histograms
    return run(settings, frame, source=source, profile=MOVIE_PROFILE)


def _position(sweep: Sweep, i: int) -> float:
    vals = sweep.values
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
        lo, hi, v = float(vals[0]), float(vals[-1]), float(vals[i])
        if sweep.log and lo > 0 and hi > 0 and v > 0:
            lo, hi, v = math.log(lo), math.log(hi), math.log(v)
        return 0.5 if hi == lo else (v - lo) / (hi - lo)
    return i / max(1, len(vals) - 1)


# -- computing and drawing frames ----------------------------------------------------------------
# One process: a movie never forks (a window's process holds Qt threads). The engine (torch, which
# releases the GIL) and the clip's decoder run one thread ahead of the drawing (matplotlib), so on two
# cores a frame costs about its drawing; the encoder runs in its own threads.
AHEAD = 2  # frames computed ahead of the one being drawn


@dataclass
class _Job:
    """What every frame of one movie shares; ``drawer`` keeps the figures between frames."""

    scene: Scene
    size: tuple[int, int]
    drawer: Any
    sweep: Sweep | None = None
    frame: np.ndarray | None = None
    source: str = ""
    name: str = ""
    path: str = ""
    n: int = 0


def _sweep_compute(job: _Job, i: int) -> tuple[Any, Scene, str, str, float]:
    sweep = job.sweep
    assert sweep is not None
    settings = job.scene.settings.replace(**{sweep.field: sweep.values[i]})
    result = _run(settings, job.frame, job.source)
    note = f"{i + 1}/{len(sweep.values)}   {fmt_range(sweep)}"
    text = value_text(sweep.field, sweep.values[i], result)
    return result, job.scene.replace(settings=settings), text, note, _position(sweep, i)


def _clip_compute(job: _Job, task: tuple[int, int, float, np.ndarray]) -> tuple[Any, Scene, str, str, float]:
    from ..scene import SourceRef, pixel_hash

    k, index, t, rgb = task
    ref = SourceRef(name=job.name, path=job.path, pixels=pixel_hash(rgb), frame=index)
    result = _run(job.scene.settings, rgb, f"{job.name}: frame {index}")
    text = f"frame {index}   t = {t:.2f} s"
    note = f"{job.name}   {k + 1}/{job.n}"
    return result, job.scene.replace(source=ref), text, note, k / max(1, job.n - 1)


def _draw(job: _Job, computed: tuple[Any, Scene, str, str, float]) -> np.ndarray:
    result, scene, text, note, position = computed
    return job.drawer.draw(result, scene, text=text, note=note, position=position)


_END = object()


def _frames(job: _Job, compute: Callable[[_Job, Any], tuple], tasks: Iterable[Any]) -> Iterator[np.ndarray]:
    """The frames of ``tasks`` in order: ``compute`` (engine, and the decoder pulling ``tasks``) runs in
    one helper thread up to :data:`AHEAD` frames ahead; drawing happens here. Closing the generator
    (a cancel) stops the helper after the frame it is computing."""
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    it = iter(tasks)

    def step() -> Any:  # in the helper thread, one call at a time: the tasks are pulled in order
        task = next(it, _END)
        return _END if task is _END else compute(job, task)

    pool = ThreadPoolExecutor(1, thread_name_prefix="cnnviz-movie")
    pending = deque(pool.submit(step) for _ in range(AHEAD))
    try:
        while True:
            done = pending.popleft().result()
            if done is _END:
                return
            pending.append(pool.submit(step))
            yield _draw(job, done)
    finally:
        for f in pending:
            f.cancel()
        pool.shutdown(wait=True)
        close = getattr(it, "close", None)
        if close is not None:
            close()  # the clip's reader


def sweep_frames(
    scene: Scene,
    sweep: Sweep,
    frame: np.ndarray | None,
    size: tuple[int, int] = DEFAULT_FRAME_SIZE,
    source: str = "",
    fixed_axes: bool = True,
) -> Iterator[np.ndarray]:
    """One composed frame ``[H, W, 3]`` uint8 per value of ``sweep`` on ``scene``'s settings.

    ``fixed_axes``: the curves' y axes hold the whole sweep (:func:`sweep_limits`), so what
    moves is the curves, as when the slider is dragged in the window with the axes locked.
    The figures are built once and only what moves is drawn again (:mod:`cnnviz.export.live`)."""
    from .live import FrameDrawer

    ylims = sweep_limits(scene, sweep, frame, source) if fixed_axes else None
    job = _Job(scene, size, FrameDrawer(size, ylims), sweep=sweep, frame=frame, source=source)
    return _frames(job, _sweep_compute, range(len(sweep.values)))


def sweep_limits(scene: Scene, sweep: Sweep, frame: np.ndarray | None, source: str = "") -> dict[str, tuple]:
    """The y limits that hold every value of the sweep, for the variance and gradient curves.

    A quick pass first (numbers only: no display maps, no equivariance); the pyramid mode only."""
    from ..core.engine import run
    from .figures import _log_limits

    if scene.settings.mode not in ("pyramid", "cost"):
        return {}

    def numbers(settings: Settings) -> Any:
        here = frame
        if frame is not None and frame.shape[:2] != (settings.size, settings.size):
            from ..io.images import fit_to_size

            here = fit_to_size(frame, settings.size)[0]
        return run(settings, here, source=source, profile="stats").pyramid

    # one thread: the engine's multiply count (torch's FlopCounterMode, global hooks) is not thread-safe
    pyramids = [numbers(settings) for settings in sweep.settings(scene.settings)]
    series: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {"variance": ([], []), "gradient": ([], [])}
    for pyr in pyramids:
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
) -> tuple[int, float, Iterator[np.ndarray]]:
    """(frame count, fps, frames): one composed frame ``[H, W, 3]`` uint8 per frame of the clip ``video``.

    The clip is decoded in order, ahead of the drawing. The curves keep their y limits while
    the curves fit in them (a quarter decade of room each side), so the axes do not jump."""
    from ..io.video import VideoReader
    from .live import FrameDrawer

    reader = VideoReader(video, size=scene.settings.size)
    info = reader.ensure_index()
    todo = list(range(info.frame_count)) if indices is None else list(indices)
    fps = info.fps if info.fps and math.isfinite(info.fps) and info.fps > 0 else DEFAULT_FPS
    job = _Job(scene, size, FrameDrawer(size, hold=True), name=Path(video).name, path=str(Path(video).resolve()))
    job.n = len(todo)

    def decoded() -> Iterator[tuple[int, int, float, np.ndarray]]:
        try:
            for k, f in enumerate(reader.frames_at(todo)):
                yield k, f.index, f.time, f.rgb
        finally:
            reader.close()

    return len(todo), fps, _frames(job, _clip_compute, decoded())


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
    try:
        with atomic_path(p, inputs=inputs, what=f"{fmt.upper()} movie") as tmp:
            if fmt == "mp4":
                _write_mp4(tmp, frames, n, fps, stamp, about, progress)
            else:
                _write_gif(tmp, frames, n, fps, stamp, progress)
    finally:
        close = getattr(frames, "close", None)
        if close is not None:  # a generator of frames: its helper thread and the clip's reader stop now
            close()
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
        # one adaptive palette per frame (the maps' colours and the curves' differ between frames); the
        # fast octree: about 9 ms a 1280x720 frame where median cut takes 60 ms, as long as drawing the frame
        images.append(Image.fromarray(rgb, "RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE))
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
