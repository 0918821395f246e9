#!/usr/bin/env python
"""Benchmark the exports: all figures and data of one mode in process, and the whole command.

Prints a table and writes JSON (default bench-results/export.json). Not a test: figures depend
on the machine (and on what else runs on it), so they are reported, never asserted.

  in process   every figure of the mode in PNG (2x), SVG and PDF plus its CSV, JSON (and NPZ
               when the engine keeps full-resolution maps), from a Result computed beforehand,
               after one warm-up export (fonts, matplotlib's caches); median of --repeat runs,
               with the per-format split of the last run. Target: under 2 s at 256^2.
  command      ``python -m cnnviz export --mode M --out DIR`` in a fresh process, all formats:
               interpreter start, imports, the engine and every file. Target: under 5 s.

``--mode video-net`` exports Problem 2's network on the first window of T frames of the sample
clip (``cnnviz export CLIP --mode video-net``) instead of the sample image.

The two measurements are interleaved, so a busy machine slows both alike. CPU seconds (this
process's, and the command's own) are reported beside wall seconds: on a shared host they say
what the export costs when it has a core to itself.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cnnviz.core.engine import run  # noqa: E402
from cnnviz.export import FORMATS, batch  # noqa: E402
from cnnviz.export.data import has_full_maps  # noqa: E402
from cnnviz.io.images import load_image  # noqa: E402
from cnnviz.paths import SAMPLE_IMAGE, SAMPLE_VIDEO  # noqa: E402
from cnnviz.scene import Scene, SourceRef, pixel_hash  # noqa: E402
from cnnviz.settings import Settings  # noqa: E402


def in_process(mode: str, size: int, out: Path, formats: tuple[str, ...]) -> tuple[float, float, dict[str, float]]:
    """(wall s, CPU s) to write every file of ``mode`` (Result computed before the clock starts), and
    wall s per format."""
    settings = Settings(mode=mode).with_size(size)
    if mode == "video-net":
        result, scene = _video_result(settings, "npz" in formats)
    else:
        frame, _ = load_image(SAMPLE_IMAGE, size)
        kwargs = {"profile": "export"} if "npz" in formats and _has_profile() else {}
        result = run(settings, frame, **kwargs)
        scene = Scene(settings=settings, source=SourceRef(name=SAMPLE_IMAGE.name, pixels=pixel_hash(frame)))
    if "npz" in formats and not has_full_maps(result):
        formats = tuple(f for f in formats if f != "npz")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    items = batch.plan(scene, [mode], formats, out)
    per: dict[str, float] = dict.fromkeys(formats, 0.0)
    last = [time.perf_counter()]

    def report(i: int, n: int, path: Path) -> None:
        now = time.perf_counter()
        per[path.suffix.lstrip(".")] += now - last[0]
        last[0] = now

    t, cpu = time.perf_counter(), time.process_time()
    last[0] = t
    batch.write(items, {mode: result}, scene, scale=2.0, report=report)
    return time.perf_counter() - t, time.process_time() - cpu, per


def _video_result(settings: Settings, full_maps: bool):
    """The video network on the sample clip's first T frames, and its scene (frame T - 1)."""
    import numpy as np

    from cnnviz.core.video_engine import ClipInput, run_video
    from cnnviz.io.video import VideoReader

    wanted = list(range(settings.video_window))
    with VideoReader(SAMPLE_VIDEO, size=settings.size) as reader:
        frames = [f.rgb for f in reader.frames_at(wanted)]
    result = run_video(settings, ClipInput(np.stack(frames), tuple(wanted)), full_maps=full_maps)
    source = SourceRef(name=SAMPLE_VIDEO.name, pixels=pixel_hash(frames[-1]), frame=wanted[-1])
    return result, Scene(settings=settings, source=source)


def _has_profile() -> bool:
    import inspect

    return "profile" in inspect.signature(run).parameters


def command(mode: str, size: int, out: Path) -> tuple[float, float]:
    """(wall s, CPU s of the child process) of the whole command."""
    shutil.rmtree(out, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    argv = [sys.executable, "-m", "cnnviz", "export", "--mode", mode, "--size", str(size), "--out", str(out)]
    if mode == "video-net":
        argv.insert(4, str(SAMPLE_VIDEO))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    elapsed = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"cnnviz export failed: {proc.stderr.strip().splitlines()[-1]}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", default="pyramid", choices=("pyramid", "init", "cost", "video-net"))
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "bench-results" / "export.json"))
    args = ap.parse_args()

    import torch

    from cnnviz.core.device import torch_threads

    torch.set_num_threads(torch_threads())
    tmp = Path(tempfile.mkdtemp(prefix="cnnviz-bench-export-"))
    try:
        in_process(args.mode, args.size, tmp / "warm", FORMATS)  # fonts, caches, the network
        inproc, inproc_cpu, cmd, cmd_cpu, split = [], [], [], [], {}
        for i in range(args.repeat):
            t, c, split = in_process(args.mode, args.size, tmp / f"p{i}", FORMATS)
            inproc.append(t)
            inproc_cpu.append(c)
            t, c = command(args.mode, args.size, tmp / f"c{i}")
            cmd.append(t)
            cmd_cpu.append(c)
        files = sorted(p.name for p in (tmp / "p0").iterdir())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    report = {
        "mode": args.mode,
        "size": args.size,
        "files": len(files),
        "in_process_s": {
            "median": statistics.median(inproc),
            "runs": inproc,
            "cpu_median": statistics.median(inproc_cpu),
            "target": 2.0,
        },
        "per_format_s": split,
        "command_s": {
            "median": statistics.median(cmd),
            "runs": cmd,
            "cpu_median": statistics.median(cmd_cpu),
            "target": 5.0,
        },
        "host": {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
            "note": "shared host: other jobs may have run at the same time; runs are interleaved",
        },
    }
    print(f"export of mode {args.mode} at {args.size}^2: {len(files)} files")
    ip, cm = report["in_process_s"], report["command_s"]
    print(
        f"  in process (after warm-up): median {ip['median']:.2f} s wall, {ip['cpu_median']:.2f} s CPU  (target < 2 s)"
    )
    print("    " + ", ".join(f"{k} {v:.2f} s" for k, v in split.items()))
    print(
        f"  cnnviz export command:      median {cm['median']:.2f} s wall, {cm['cpu_median']:.2f} s CPU  (target < 5 s)"
    )
    print(f"  load average {report['host']['load_average']}, {os.cpu_count()} cpus (shared host)")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
