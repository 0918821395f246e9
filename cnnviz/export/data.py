"""A Result's numbers as CSV, JSON and NPZ, each stamped with the scene that made them.

- CSV: one row per layer (level l, scale s, shape, mean, variance, gradient RMS, fraction of
  exact zeros, multiplies) with the theory beside each measured value (the video network:
  section ``video``, layer l, shape BxCxTxHxW, scale 0); the stamp and a key to
  the columns in leading ``#`` lines (``pandas.read_csv(path, comment="#")`` reads it).
  Numbers are written exactly (shortest round-trip form); ``nan`` where a value is undefined.
- JSON: everything numeric the Result holds (:func:`cnnviz.report.result_to_dict`, histograms
  included) plus the settings, strict (NaN and inf become null), with the stamp as ``scene``.
- NPZ: the full-resolution feature maps ``map_l{l}_s{s}`` float32 ``[J, H, W]`` (level 0: the input
  pyramid I_s as the network sees it, ``[3, H, W]``, RGB minus 0.5) and gradients
  ``grad_l{l}_s{s}`` of every layer (the engine's export profile), the input image, the single
  unit's samples; for the video network ``video_map_l{l}`` float32 ``[C, T, H, W]`` (level 0: the
  clip minus 0.5), ``video_grad_l{l}`` (l >= 1) and ``video_frames`` (the window's frame
  indices); and the stamp as a one-element string array ``scene``; loads with
  ``numpy.load(path)`` (no pickles).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .. import __version__
from ..core.result import LayerStats, Result
from ..errors import ExportError
from ..io.files import atomic_write
from ..report import result_to_dict, strict_json
from ..scene import EXPORT_FORMAT, Scene
from .stamp import stamp_text

CSV_COLUMNS = (
    "section",
    "level",
    "scale",
    "shape",
    "mean",
    "var",
    "theory_var",
    "mean_sq",
    "theory_mean_sq",
    "grad_var",
    "theory_grad_var",
    "grad_rms",
    "theory_grad_rms",
    "dead_fraction",
    "nonfinite",
    "grad_nonfinite",
    "multiplies",
    "multiplies_left",
    "multiplies_up",
    "torch_flops",
)
CSV_KEY = (
    "# columns: section (pyramid: the scale-shared network; residual: Problem 5's stack; video: Problem 2's "
    "network, scale 0, shape BxCxTxHxW), level l, scale s, shape BxCxHxW; measured mean, var, mean_sq, grad_var, grad_rms (of d/dL for N(0,1) gradients at the top) "
    "with theory_* beside each (nan: no closed form or not defined); dead_fraction: fraction of units exactly 0; "
    "nonfinite: inf/NaN count; multiplies: Problem 1's count for this layer (left + up branches); "
    "torch_flops: torch's FlopCounterMode count (2 per multiply), empty if not measured"
)
UNIT_BINS = 80


def _num(x: Any) -> str:
    """A number exactly as Python reads it back: shortest round-trip float, nan, inf, -inf."""
    if isinstance(x, (bool, np.bool_)):
        return str(int(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    v = float(x)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return repr(v)


def _row(section: str, st: LayerStats, **extra: Any) -> list[str]:
    values: dict[str, Any] = {
        "section": section,
        "level": st.level,
        "scale": st.scale,
        "shape": "x".join(map(str, st.shape)),
        "mean": st.mean,
        "var": st.var,
        "theory_var": st.theory_var,
        "mean_sq": st.mean_sq,
        "theory_mean_sq": st.theory_mean_sq,
        "grad_var": st.grad_var,
        "theory_grad_var": math.nan,
        "grad_rms": st.grad_rms,
        "theory_grad_rms": st.theory_grad_rms,
        "dead_fraction": st.zero_frac,
        "nonfinite": st.nonfinite,
        "grad_nonfinite": st.grad_nonfinite,
        "multiplies": st.multiplies,
        "multiplies_left": "",
        "multiplies_up": "",
        "torch_flops": "",
    }
    values.update(extra)
    return [v if isinstance(v, str) else _num(v) for v in (values[c] for c in CSV_COLUMNS)]


def csv_text(result: Result, scene: Scene) -> str:
    """The CSV: ``#`` lines (what it is, the stamp, a key to the columns), a header, one row per layer."""
    buf = io.StringIO()
    buf.write(f"# cnnviz {__version__} export: one row per layer, the theory beside each measured value\n")
    buf.write(f"# scene: {stamp_text(scene)}\n")
    buf.write(CSV_KEY + "\n")
    if result.source:
        buf.write(f"# input: {result.source}\n")
    if result.unit is not None:
        u = result.unit
        buf.write(
            f"# single unit (Problem 4): d={u.dim} activation={u.activation} init_var={_num(u.init_var)} "
            f"samples={u.u.size} var_y={_num(np.var(u.y))} var_y_theory={_num(u.var_y_theory)} "
            f"mean_u={_num(np.mean(u.u))} mean_u_theory={_num(u.mean_u_theory)} var_u={_num(np.var(u.u))} "
            f"var_u_bound={_num(u.var_u_bound)}\n"
        )
    if result.video is not None:
        v = result.video
        frames = f"frames {v.frames[0]}-{v.frames[-1]}" if v.frames else f"{v.window} frames"
        buf.write(
            f"# video network (Problem 2): {frames}, T={v.window} stride={v.stride} D={v.kernel} D_t={v.kernel_t} "
            f"init_vars={' '.join(_num(x) for x in v.init_vars)} still={int(v.still)} "
            f"total_multiplies={v.total_multiplies}\n"
        )
    for w in result.warnings:
        buf.write(f"# warning: {w}\n")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    costs = {(c.level, c.scale): c for c in result.costs}
    if result.pyramid is not None:
        for st in result.pyramid.layers:
            c = costs.get((st.level, st.scale))
            extra: dict[str, Any] = {}
            if c is not None:
                extra = {
                    "multiplies_left": c.multiplies_left,
                    "multiplies_up": c.multiplies_up,
                    "torch_flops": c.torch_flops if c.torch_flops >= 0 else "",
                }
            writer.writerow(_row("pyramid", st, **extra))
    if result.residual is not None:
        r = result.residual
        for st, tv, tg in zip(r.layers, r.theory_var, r.theory_grad_var):
            writer.writerow(_row("residual", st, theory_var=float(tv), theory_grad_var=float(tg)))
    if result.video is not None:
        for layer in result.video.layers:
            writer.writerow(_row("video", layer.stats, theory_grad_var=layer.stats.theory_grad_rms**2))
    return buf.getvalue()


def json_dict(result: Result, scene: Scene) -> dict[str, Any]:
    """Everything numeric ``result`` holds (histograms included) plus the settings and the stamp."""
    out: dict[str, Any] = {"format": EXPORT_FORMAT, "cnnviz": __version__, "scene": scene.to_dict()}
    out.update(result_to_dict(result, with_hist=True))
    if result.unit is not None:
        u = result.unit
        for name, samples in (("y", u.y), ("u", u.u)):
            fin = samples[np.isfinite(samples)]
            if fin.size:
                counts, edges = np.histogram(fin, bins=UNIT_BINS)
                out["unit"][f"hist_{name}_counts"] = counts
                out["unit"][f"hist_{name}_edges"] = edges
    return out


def json_text(result: Result, scene: Scene) -> str:
    """Strict JSON (NaN and inf as null, their count in ``nonfinite_replaced``)."""
    return strict_json(json_dict(result, scene)) + "\n"


def npz_arrays(result: Result, scene: Scene) -> dict[str, np.ndarray]:
    """The arrays of the NPZ (see the module's docstring); ExportError without full-resolution maps."""
    arrays: dict[str, np.ndarray] = {
        "scene": np.array([stamp_text(scene)]),
        "format": np.array([EXPORT_FORMAT]),
    }
    wrote_maps = False
    for section, part in (("", result.pyramid), ("residual_", result.residual)):
        if part is None:
            continue
        maps_full = getattr(part, "maps_full", None)
        grads_full = getattr(part, "grads_full", None)
        if not maps_full:
            if section == "":
                raise ExportError(
                    "NPZ needs the full-resolution maps of the engine's export profile, which this run did not keep"
                )
            continue
        keys = sorted(maps_full)
        arrays[f"{section}layers"] = np.array(keys, dtype=np.int32).reshape(-1, 2)
        for l, s in keys:
            arrays[f"{section}map_l{l}_s{s}"] = np.asarray(maps_full[l, s], dtype=np.float32)
        for (l, s), g in sorted((grads_full or {}).items()):
            arrays[f"{section}grad_l{l}_s{s}"] = np.asarray(g, dtype=np.float32)
        wrote_maps = True
    if result.video is not None and has_full_maps(result):
        v = result.video
        arrays["video_frames"] = np.asarray(v.frames, dtype=np.int64)
        for layer in v.layers:
            arrays[f"video_map_l{layer.level}"] = np.asarray(layer.full, dtype=np.float32)
            if layer.grad.size:
                arrays[f"video_grad_l{layer.level}"] = np.asarray(layer.grad, dtype=np.float32)
        wrote_maps = True
    if result.pyramid is not None:
        arrays["image"] = np.asarray(result.pyramid.image, dtype=np.float32)
        arrays["equivariance"] = np.asarray(result.pyramid.equivariance, dtype=np.float64)
    if result.unit is not None:
        arrays["unit_y"] = np.asarray(result.unit.y, dtype=np.float64)
        arrays["unit_u"] = np.asarray(result.unit.u, dtype=np.float64)
    if not wrote_maps and result.unit is None:
        raise ExportError("NPZ needs feature maps, which this run did not keep")
    return arrays


def has_full_maps(result: Result) -> bool:
    """Whether ``result`` holds what an NPZ needs: full-resolution maps (the engine's export
    profile, ``run_video(..., full_maps=True)``) or the single unit's samples."""
    if result.video is not None:
        return all(layer.full.size for layer in result.video.layers)
    return bool(getattr(result.pyramid, "maps_full", None)) or result.unit is not None


def write_csv(result: Result, scene: Scene, path: str | Path, inputs: Iterable[str | Path | None] = ()) -> Path:
    return atomic_write(path, csv_text(result, scene), inputs=inputs, what="CSV")


def write_json(result: Result, scene: Scene, path: str | Path, inputs: Iterable[str | Path | None] = ()) -> Path:
    return atomic_write(path, json_text(result, scene), inputs=inputs, what="JSON")


def write_npz(result: Result, scene: Scene, path: str | Path, inputs: Iterable[str | Path | None] = ()) -> Path:
    arrays = npz_arrays(result, scene)

    def save(f: BinaryIO) -> None:
        np.savez(f, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as allow_pickle

    return atomic_write(path, save, inputs=inputs, what="NPZ")


def read_npz_scene(path: str | Path) -> Scene:
    """The stamp of an exported NPZ (for scripts; ``--settings`` takes PNG, SVG and JSON)."""
    with np.load(path, allow_pickle=False) as z:
        return Scene.from_dict(json.loads(str(z["scene"][0])))
