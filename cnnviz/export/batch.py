"""Many files at once: what an export of some modes and formats writes, and writing it.

Shared by ``cnnviz export`` and the window's export dialog: :func:`plan` names every file
before anything is computed or written (so a non-empty folder can be refused naming the file
that would be replaced), and :func:`write` renders each figure once and saves it in every
figure format asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..core.result import Result
from ..errors import ExportError
from ..scene import Scene
from .naming import DATA_FORMATS, FIGURE_FORMATS, FIGURES, FORMATS, file_name


@dataclass(frozen=True)
class Item:
    """One file of an export: ``figure`` is None for the data files (CSV, JSON, NPZ)."""

    path: Path
    mode: str
    fmt: str
    figure: str | None = None


def parse_formats(text: str) -> tuple[str, ...]:
    """``"png,svg"`` -> ``("png", "svg")`` in :data:`FORMATS` order; ExportError names an unknown one."""
    asked = [t.strip().lower().lstrip(".") for t in text.split(",") if t.strip()]
    if not asked:
        raise ExportError(f"--formats needs at least one of {','.join(FORMATS)}")
    for f in asked:
        if f not in FORMATS:
            raise ExportError(f"unknown format {f!r} in --formats (choose from {','.join(FORMATS)})")
    return tuple(f for f in FORMATS if f in asked)


def plan(
    scene: Scene,
    modes: Sequence[str],
    formats: Sequence[str],
    out_dir: str | Path,
    figures: dict[str, Sequence[str]] | None = None,
    base: str | None = None,
) -> list[Item]:
    """Every file an export writes, in the order it writes them (figures first, then data).

    ``figures`` limits the figures per mode (default: all of :data:`FIGURES`). ``base`` replaces
    the stem of the names (one mode only): ``<base>_<figure>.<fmt>`` and ``<base>.<fmt>``.
    """
    out = Path(out_dir)
    items: list[Item] = []
    if base is not None:
        if len(modes) != 1:
            raise ExportError("a chosen file name applies to one mode's export")
        if not base or any(c in base for c in "/\\\0") or base in (".", ".."):
            raise ExportError(f"{base!r} cannot be a file name")
        mode = modes[0]
        for figure in (figures or FIGURES).get(mode, ()):
            items += [Item(out / f"{base}_{figure}.{f}", mode, f, figure) for f in formats if f in FIGURE_FORMATS]
        items += [Item(out / f"{base}.{f}", mode, f) for f in formats if f in DATA_FORMATS]
        return items
    for mode in modes:
        settings = scene.settings.replace(mode=mode)
        for figure in (figures or FIGURES).get(mode, ()):
            items += [
                Item(out / file_name(settings, f, figure, mode), mode, f, figure)
                for f in formats
                if f in FIGURE_FORMATS
            ]
        items += [Item(out / file_name(settings, f, None, mode), mode, f) for f in formats if f in DATA_FORMATS]
    return items


def write(
    items: Sequence[Item],
    results: dict[str, Result],
    scene: Scene,
    *,
    scale: float = 2.0,
    inputs: Iterable[str | Path | None] = (),
    report: Callable[[int, int, Path], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> list[Path]:
    """Write ``items`` from ``results[mode]``, each atomically; ``report(i, n, path)`` after each file.

    The stamp of each file is ``scene`` with the settings of its mode's Result.
    """
    from . import data

    inputs = list(inputs)
    written: list[Path] = []
    figure_cache: dict[tuple[str, str], object] = {}
    writers = {"csv": data.write_csv, "json": data.write_json, "npz": data.write_npz}
    for i, item in enumerate(items):
        if cancel is not None and cancel():
            break
        result = results[item.mode]
        stamp = scene.replace(settings=result.settings)
        try:
            _write_one(item, result, stamp, writers, figure_cache, scale, inputs)
        except OSError as err:  # e.g. no room for the temporary file: one line, never a traceback
            raise ExportError(f"cannot write {item.path}: {err.strerror or type(err).__name__}") from None
        written.append(item.path)
        if report is not None:
            report(i + 1, len(items), item.path)
    return written


def _write_one(item: Item, result: Result, stamp: Scene, writers, figure_cache: dict, scale: float, inputs) -> None:
    from . import figures

    if item.figure is None:
        writers[item.fmt](result, stamp, item.path, inputs)
    else:
        key = (item.mode, item.figure)
        if key not in figure_cache:
            figure_cache.clear()  # one figure alive at a time: they hold their images
            figure_cache[key] = figures.render(result, stamp, item.figure)
        figures.save_figure(
            figure_cache[key],
            item.path,
            stamp,
            fmt=item.fmt,
            scale=scale,
            title=f"cnnviz: {figures.TITLES[item.figure]}",
            inputs=inputs,
        )
