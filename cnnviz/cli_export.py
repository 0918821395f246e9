"""``cnnviz export``: every figure of a mode and its numbers, written into a folder, headless.

    cnnviz export [IMAGE|VIDEO] [--settings FILE] [settings flags] [--frame N]
                  [--mode pyramid|init|cost|video-net|all] --out DIR [--formats png,svg,pdf,csv,json,npz]
                  [--scale 2] [--overwrite]

``video-net`` (Problem 2's network) reads the T frames ending at ``--frame N`` of a VIDEO (by
default the first full window, frame T - 1); ``all`` includes it for a video and leaves it out,
saying why, for an image.

Everything is checked before anything is computed or written: a bad input, flag or settings
file is one line naming the problem and a non-zero exit, with nothing written. A non-empty
``--out`` folder is refused (naming the first file that would be replaced) unless
``--overwrite``; an output is never one of the inputs. Each file is written atomically and
reported on stderr as it is written. No window and no display: matplotlib draws the figures
and Qt is never loaded, so it runs with DISPLAY and QT_QPA_PLATFORM unset.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import TextIO

import numpy as np

from .cli import _Parser, _settings_flags, settings_from_args
from .errors import ExportError, InputError, SettingsError
from .export.batch import Item, parse_formats, plan, write
from .export.data import has_full_maps
from .export.naming import CLIP_MODES, EXPORT_MODES, FIGURE_FORMATS, FORMATS
from .io.files import check_not_input, same_file
from .scene import Scene, SourceRef, pixel_hash

DEFAULT_FORMATS = "png,svg,pdf,csv,json,npz"
SCALE_RANGE = (0.25, 8.0)


def export_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="cnnviz export",
        parents=[_settings_flags()],
        allow_abbrev=False,
        description=(
            "Write every figure of a mode (PNG, SVG, PDF) and its numbers (CSV, JSON, NPZ) into a folder, "
            "each file stamped with the scene that made it. --settings also takes an exported PNG, SVG or "
            "JSON: the figure is made again from its stamp."
        ),
    )
    p.add_argument("file", nargs="?", help="image or video (default: the stamped input if it exists, else the sample)")
    p.add_argument(
        "--frame",
        type=int,
        metavar="N",
        help="the video frame to export, from 0 (default: the stamped frame, else 0; video-net: the window of "
        "T frames ending at N, by default the first full one)",
    )
    p.add_argument(
        "--mode",
        choices=(*EXPORT_MODES, "all"),
        help="pyramid (Problem 3), init lab (Problems 4, 5), cost (Problem 1), video-net (Problem 2, a VIDEO "
        "only) or all of them (default: the settings' mode, else pyramid)",
    )
    p.add_argument("--out", metavar="DIR", required=True, help="folder to write into (made if missing)")
    p.add_argument(
        "--formats",
        default=None,
        metavar="LIST",
        help=f"comma-separated, from {','.join(FORMATS)} (default: all of them)",
    )
    p.add_argument(
        "--scale",
        type=float,
        default=2.0,
        metavar="X",
        help="PNG pixels per point / 1.39: 1 is 100 dpi, 2 (default) is 200 dpi for slides",
    )
    vn = p.add_argument_group("video network (Problem 2, --mode video-net; also kept in the scene)")
    vn.add_argument("--stride", type=int, metavar="S", help="one stride on space and time (default 2)")
    vn.add_argument("--kernel-t", type=int, metavar="Dt", help="temporal filter size, odd (default 3)")
    vn.add_argument("--window", type=int, metavar="T", help="frames per clip, the T ending at --frame (default 8)")
    mv = p.add_argument_group("movies (MP4, GIF)")
    mv.add_argument("--movie", action="store_true", help="a movie of every frame of the VIDEO (grid and curves)")
    mv.add_argument(
        "--sweep",
        metavar="FIELD=A:B[:log][:N]",
        help="a movie of one setting swept from A to B in N steps, e.g. init=1e-3:10:log:60, depth=1:8, "
        "activation=identity,relu,tanh",
    )
    mv.add_argument("--frame-size", metavar="WxH", default=None, help="movie frame size (default 1280x720)")
    mv.add_argument("--fps", type=float, default=None, help="frames per second (default: 10 for a sweep, the clip's)")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="write into a folder that is not empty, replacing files of the same names (atomically)",
    )
    return p


def _load_frame(path: str | None, settings, frame_index: int | None):
    """(frame float32 [N, N, 3] or None, SourceRef, what was done in words, the input path)."""
    return _load_input(path, settings, frame_index)[:4]


def _load_input(path: str | None, settings, frame_index: int | None, window: int = 0):
    """:func:`_load_frame` and the clip: (frame, SourceRef, what was done, the input path, clip).

    ``window`` > 0 (the video network is exported): ``clip`` is the
    :class:`~cnnviz.core.video_engine.ClipInput` of the ``window`` frames ending at the frame
    (fewer at the start of the clip), and a missing ``frame_index`` means the first full window.
    """
    from .io.images import load_image
    from .io.video import is_video
    from .paths import SAMPLE_IMAGE

    src = Path(path) if path else SAMPLE_IMAGE
    if is_video(src):
        from .io.video import VideoReader

        with VideoReader(src, size=settings.size) as reader:
            clip_info = reader.ensure_index()
            count = clip_info.frame_count
            index = frame_index
            if index is None:
                index = min(window, count) - 1 if window and clip_info.frame_count_exact else 0
            if clip_info.frame_count_exact and index >= count:
                raise InputError(f"{src.name}: --frame {index} is past the last frame ({count - 1})")
            clip = None
            if window:
                from .core.video_engine import ClipInput

                wanted = list(range(max(0, index - window + 1), index + 1))
                got = list(reader.frames_at(wanted))
                if [f.index for f in got] != wanted:
                    raise InputError(reader.problem or f"{src.name}: frames {wanted[0]}-{index} cannot be decoded")
                frame = got[-1]
                clip = ClipInput(np.stack([f.rgb for f in got]), tuple(wanted))
            else:
                frame = reader.seek_frame(index)
        fit = frame.fit.describe() if frame.fit is not None else ""
        rgb, what = frame.rgb, f"frame {index}, {fit}"
        ref = SourceRef(name=src.name, path=str(src.resolve()), pixels=pixel_hash(rgb), frame=index)
        return rgb, ref, what, src, clip
    if frame_index is not None:
        raise SettingsError(f"--frame applies to a video, and {src.name} is an image")
    rgb, info = load_image(src, settings.size)
    ref = SourceRef(name=src.name, path=str(src.resolve()), pixels=pixel_hash(rgb))
    return rgb, ref, info.describe(), src, None


def _stamped_input(stamp: Scene | None) -> str | None:
    """The stamp's input file when it still exists (a figure made again from its own input)."""
    if stamp is None or stamp.source is None or not stamp.source.path:
        return None
    p = Path(stamp.source.path)
    return str(p) if p.is_file() else None


def _check_out_dir(out: Path, items: list[Item], overwrite: bool, inputs: list) -> None:
    if out.exists() and not out.is_dir():
        raise ExportError(f"--out {out} is a file, not a folder")
    for item in items:
        check_not_input(item.path, inputs)
    for src in inputs:
        if src is not None and same_file(out, src):
            raise ExportError(f"--out {out} is one of this command's inputs")
    if not out.exists():
        parent = out.parent if str(out.parent) else Path(".")
        if not parent.is_dir():
            raise ExportError(f"cannot make --out {out}: folder {parent} does not exist")
        if not os.access(parent, os.W_OK):
            raise ExportError(f"cannot make --out {out}: folder {parent} is not writable")
        return
    if not os.access(out, os.W_OK | os.X_OK):
        raise ExportError(f"cannot write into --out {out}: the folder is not writable")
    if overwrite:
        return
    try:
        existing = sorted(os.listdir(out))
    except OSError as err:
        raise ExportError(f"cannot read --out {out}: {err.strerror}") from None
    if existing:
        clash = next((item.path for item in items if item.path.exists() or item.path.is_symlink()), None)
        if clash is not None:
            raise ExportError(f"--out {out} is not empty: {clash.name} would be replaced (add --overwrite)")
        raise ExportError(f"--out {out} is not empty (it holds {existing[0]}); add --overwrite to write into it")


def cmd_export(argv: list[str], out: TextIO, err: TextIO) -> int:
    t0 = time.perf_counter()
    args = export_parser().parse_args(argv)
    if args.movie or args.sweep:
        from .cli_movie import cmd_movie

        return cmd_movie(args, err)
    if args.frame_size or args.fps is not None:
        raise SettingsError("--frame-size and --fps apply to a movie (--movie or --sweep)")
    formats = parse_formats(args.formats or DEFAULT_FORMATS)
    if not SCALE_RANGE[0] <= args.scale <= SCALE_RANGE[1]:
        raise SettingsError(f"--scale must be from {SCALE_RANGE[0]} to {SCALE_RANGE[1]}, not {args.scale:g}")
    if args.frame is not None and args.frame < 0:
        raise SettingsError(f"--frame must be 0 or more, not {args.frame}")
    stamp = None
    if args.settings:
        from .scene import load_scene

        stamp = load_scene(args.settings)  # the whole scene: settings, view and source
    from .cli_video import apply_video_flags

    settings = apply_video_flags(args, settings_from_args(args))
    mode = args.mode or settings.mode
    modes = list(EXPORT_MODES) if mode == "all" else [mode]
    file = args.file or _stamped_input(stamp)
    if args.file and not Path(args.file).exists():
        raise InputError(f"{args.file}: no such file")
    clip_in = _is_clip(file)
    if not clip_in and any(m in CLIP_MODES for m in modes):
        name = Path(file).name if file else "the sample picture"
        if mode != "all":
            raise SettingsError(
                f"--mode {mode} (Problem 2's video network) reads the last T frames of a video, and {name} is an "
                "image: give a VIDEO"
            )
        err.write(f"cnnviz: note: video-net left out: Problem 2's network needs a video, and {name} is an image\n")
        modes = [m for m in modes if m not in CLIP_MODES]
    frame_index = args.frame
    old_src = stamp.source if stamp is not None else None
    same_input = old_src is not None and file is not None and old_src.name == Path(file).name
    if frame_index is None and same_input and old_src is not None and old_src.frame is not None:
        frame_index = old_src.frame  # the figure made again from its own frame
    window = settings.video_window if any(m in CLIP_MODES for m in modes) else 0
    frame, source, what, src_path, clip = _load_input(file, settings, frame_index, window)
    old = stamp.source if stamp is not None else None
    if old is not None and old.pixels and old.name == source.name and old.pixels != source.pixels:
        err.write(f"cnnviz: warning: {source.name} differs from the stamped input (its pixels changed)\n")
    scene = Scene(settings=settings, view=stamp.view if stamp is not None else Scene().view, source=source)

    out_dir = Path(args.out)
    inputs = [src_path, args.settings]
    items = plan(scene, modes, formats, out_dir)
    _check_out_dir(out_dir, items, args.overwrite, inputs)

    from .core.device import configure_threads
    from .core.engine import run

    configure_threads()  # the one thread policy (torch threads, numpy's BLAS pool)
    needs_npz = "npz" in formats
    results = {}
    for m in modes:
        s = settings.replace(mode=m)
        if m in CLIP_MODES:
            from .core.video_engine import run_video

            results[m] = run_video(s, clip, source=f"{src_path.name}: {what}", full_maps=needs_npz)
            continue
        results[m] = _run(run, s, frame, f"{src_path.name}: {what}", needs_npz)
        if needs_npz and m != "init" and not has_full_maps(results[m]):
            if args.formats:  # asked for by name: refuse before anything is written
                raise ExportError("npz needs the engine's export profile (full-resolution maps), not available here")
            err.write("cnnviz: note: this engine keeps no full-resolution maps; NPZ files are left out\n")
            items = [i for i in items if i.fmt != "npz" or i.mode == "init"]
            needs_npz = False

    try:
        out_dir.mkdir(parents=False, exist_ok=True)
    except OSError as e:
        raise ExportError(f"cannot make --out {out_dir}: {e.strerror or type(e).__name__}") from None
    n_fig = sum(1 for i in items if i.fmt in FIGURE_FORMATS)

    def report(i: int, n: int, path: Path) -> None:
        err.write(f"[{i}/{n}] wrote {path}\n")
        err.flush()

    if len(items) > 1:
        err.write(f"cnnviz: exporting {len(items)} files ({n_fig} figures) into {out_dir}\n")
    written = write(items, results, scene, scale=args.scale, inputs=inputs, report=report)
    err.write(f"cnnviz: exported {len(written)} files in {time.perf_counter() - t0:.1f} s\n")
    return 0


def _is_clip(path: str | None) -> bool:
    """Whether the export's input is a video (no file means the sample picture)."""
    if not path:
        return False
    from .io.video import is_video

    return is_video(path)


def _run(run, settings, frame, source: str, export_profile: bool):
    """engine.run with the export profile when the engine has one (full-resolution maps for NPZ)."""
    import inspect

    if export_profile and "profile" in inspect.signature(run).parameters:
        return run(settings, frame, source=source, profile="export")
    return run(settings, frame, source=source)
