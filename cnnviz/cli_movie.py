"""``cnnviz export VIDEO --movie`` and ``cnnviz export [IMAGE] --sweep FIELD=A:B[:log][:N]``: movies.

    cnnviz export clip.mp4 --movie --out DIR|FILE.mp4 [--formats mp4,gif] [--frame-size 1280x720] [--fps F]
    cnnviz export [IMAGE|VIDEO] --sweep init=1e-3:10:log:60 --out DIR|FILE.gif [--frame N] [settings flags]

Everything is checked before anything is computed: a bad sweep names its field in one line.
``--out`` is a movie file (its extension is the format) or a folder, where the name comes from
the settings (``pyramid_he_d6_J16_s0_sweep-init.mp4``). A progress line on stderr; Ctrl+C
leaves no partial file (the movie is written beside its target and renamed when complete).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TextIO

from .cli import settings_from_args
from .cli_export import _load_frame, _stamped_input
from .errors import ExportError, InputError, SettingsError
from .export import movie
from .export.naming import stem
from .io.files import check_not_input, check_writable_target
from .scene import Scene, SourceRef


def _formats(args: argparse.Namespace, out: Path) -> list[str]:
    suffix = out.suffix.lower().lstrip(".")
    asked = [f.strip().lower() for f in args.formats.split(",") if f.strip()] if args.formats else []
    bad = [f for f in asked if f not in movie.MOVIE_FORMATS]
    if bad:
        raise SettingsError(f"--formats for a movie are {' and '.join(movie.MOVIE_FORMATS)}, not {bad[0]}")
    if suffix in movie.MOVIE_FORMATS:
        if asked and asked != [suffix]:
            raise SettingsError(f"--out {out.name} is a {suffix.upper()} file but --formats asks for {args.formats}")
        return [suffix]
    if suffix and not out.is_dir():
        raise SettingsError(f"--out {out.name}: a movie is written as .mp4 or .gif, or into a folder")
    return list(dict.fromkeys(asked)) or ["mp4"]


def _targets(out: Path, formats: list[str], name: str, overwrite: bool, inputs: list) -> list[Path]:
    if out.suffix.lower().lstrip(".") in movie.MOVIE_FORMATS:
        paths = [out]
    else:
        if out.exists() and not out.is_dir():
            raise ExportError(f"--out {out} is a file, not a folder")
        if not out.exists():
            parent = out.parent if str(out.parent) else Path(".")
            if not parent.is_dir():
                raise ExportError(f"cannot make --out {out}: folder {parent} does not exist")
        paths = [out / f"{name}.{f}" for f in formats]
    for p in paths:
        check_not_input(p, inputs)
        if p.exists() and not overwrite:
            raise ExportError(f"{p} exists; add --overwrite to replace it")
        if p.parent.is_dir() or p == out:  # a folder --out is made later; a file's folder must exist
            check_writable_target(p, "movie")
    return paths


class _Line:
    """One progress line on stderr, rewritten in place: ``[12/60] name.mp4  3.1 s``."""

    def __init__(self, err: TextIO, what: str) -> None:
        self.err, self.what, self.t0 = err, what, time.perf_counter()
        self.tty = bool(getattr(err, "isatty", lambda: False)())

    def __call__(self, i: int, n: int) -> None:
        line = f"[{i}/{n}] {self.what}  {time.perf_counter() - self.t0:.1f} s"
        if self.tty:
            self.err.write("\r" + line + ("\n" if i == n else ""))
        elif i == n or i == 1 or i % 10 == 0:
            self.err.write(line + "\n")
        self.err.flush()


def cmd_movie(args: argparse.Namespace, err: TextIO) -> int:
    t0 = time.perf_counter()
    if args.movie and args.sweep:
        raise SettingsError("--movie (a clip's frames) and --sweep (one setting swept) are two movies: choose one")
    if args.mode == "all":
        raise SettingsError("--mode all does not apply to a movie: choose pyramid, init or cost")
    size = movie.parse_frame_size(args.frame_size) if args.frame_size else movie.DEFAULT_FRAME_SIZE
    stamp = None
    if args.settings:
        from .scene import load_scene

        stamp = load_scene(args.settings)
    settings = settings_from_args(args)
    file = args.file or _stamped_input(stamp)
    if args.file and not Path(args.file).exists():
        raise InputError(f"{args.file}: no such file")
    out = Path(args.out)
    formats = _formats(args, out)
    view = stamp.view if stamp is not None else Scene().view

    if args.sweep:
        field = args.sweep.partition("=")[0].strip().replace("-", "_")
        mode = args.mode or movie.mode_for(field, settings)
        settings = settings.replace(mode=mode)
        sweep = movie.parse_sweep(args.sweep, settings)
        load_at = settings
        if sweep.field == "size":  # fitted once at the largest size; the engine fits it down
            load_at = settings.replace(size=max(sweep.values))
        frame, source, what, src_path = _load_frame(file, load_at, args.frame)
        scene = Scene(settings=settings, view=view, source=source)
        name = f"{stem(scene)}_sweep-{sweep.field}"
        inputs = [src_path, args.settings]
        targets = _targets(out, formats, name, args.overwrite, inputs)
        n, fps = len(sweep.values), args.fps or movie.DEFAULT_FPS
        about = {"sweep": sweep.to_dict()}

        def frames():
            return movie.sweep_frames(scene, sweep, frame, size, f"{src_path.name}: {what}")

        err.write(f"cnnviz: sweeping {sweep.field} over {n} values ({movie.fmt_range(sweep)}), {size[0]}x{size[1]}\n")
    else:
        from .io.video import is_video

        if file is None or not is_video(file):
            shown = Path(file).name if file else "the sample image"
            raise SettingsError(f"--movie needs a video, and {shown} is an image (for an image, use --sweep)")
        if args.frame is not None:
            raise SettingsError("--frame picks one frame; --movie uses them all")
        settings = settings.replace(mode=args.mode or settings.mode)
        src_path = Path(file)
        ref = SourceRef(name=src_path.name, path=str(src_path.resolve()))
        scene = Scene(settings=settings, view=view, source=ref)
        name = f"{stem(scene)}_clip-{src_path.stem}"
        inputs = [src_path, args.settings]
        targets = _targets(out, formats, name, args.overwrite, inputs)
        n, clip_fps, clip = movie.clip_frames(scene, src_path, size)
        fps = args.fps or clip_fps
        about = {"clip": {"file": src_path.name, "frames": n}}

        def frames():
            return clip

        err.write(f"cnnviz: {n} frames of {src_path.name}, {size[0]}x{size[1]} at {fps:g} fps\n")

    import torch

    from .core.device import torch_threads

    torch.set_num_threads(torch_threads())
    if out.suffix.lower().lstrip(".") not in movie.MOVIE_FORMATS:
        try:
            out.mkdir(exist_ok=True)
        except OSError as e:
            raise ExportError(f"cannot make --out {out}: {e.strerror or type(e).__name__}") from None
    rendered = None
    if len(targets) > 1:  # one rendering for both formats
        line = _Line(err, "drawing frames")
        rendered = []
        for i, f in enumerate(frames(), start=1):
            rendered.append(f)
            line(i, n)
    for path in targets:
        movie.write_movie(
            path,
            iter(rendered) if rendered is not None else frames(),
            n,
            scene,
            fps=fps,
            about=about,
            progress=_Line(err, path.name),
            inputs=inputs,
        )
        err.write(f"cnnviz: wrote {path}\n")
    err.write(f"cnnviz: {len(targets)} movie(s) in {time.perf_counter() - t0:.1f} s\n")
    return 0
