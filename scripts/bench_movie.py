#!/usr/bin/env python
"""Benchmark the movies: a 60-step sweep and a 100-frame clip at 256^2, to MP4.

Prints a table and writes JSON (default bench-results/movie.json). Not a test: figures depend on
the machine and on what else runs on it, so they are reported, never asserted.

  sweep   ``init`` swept 1e-3 -> 10, log, 60 steps, on the sample image at 256^2 (pyramid mode,
          depth 6, J = 16): 60 engine runs, 60 composed frames (grid, variance, gradient and the
          banner), H.264. Target: under 10 s on 2 cores.
  clip    every frame of the bundled 100-frame clip at 256^2, the same frame. Target: under 10 s.

One process (a movie never forks): the engine and the clip's decoder run in a helper thread one
frame ahead of the drawing, the encoder in its own threads. Each run reports wall seconds, the
process's CPU seconds, and CPU seconds split into engine (``engine.run``, in the helper thread),
drawing (:class:`cnnviz.export.live.FrameDrawer`, the main thread) and the rest of the main thread
(encoding, handing frames over); ``builds`` counts figures built again (a changed background).
On a host shared with other jobs the CPU seconds say what the movie costs with the cores to
itself; wall seconds there are only comparable between interleaved runs (``--repeat``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cnnviz.export import live, movie  # noqa: E402
from cnnviz.io.images import load_image  # noqa: E402
from cnnviz.paths import SAMPLE_IMAGE, SAMPLE_VIDEO  # noqa: E402
from cnnviz.scene import Scene, SourceRef, pixel_hash  # noqa: E402
from cnnviz.settings import Settings  # noqa: E402


class Split:
    """CPU seconds of the thread that ran them, spent in engine.run and in drawing frames, by wrapping
    the movie module's steps; and the figures the drawers built."""

    def __init__(self) -> None:
        self.engine = self.draw = 0.0
        self.builds = 0
        self._run, self._draw = movie._run, live.FrameDrawer.draw
        split = self

        def run(*a, **k):
            t = time.thread_time()
            try:
                return split._run(*a, **k)
            finally:
                split.engine += time.thread_time() - t

        def draw(drawer, *a, **k):
            t = time.thread_time()
            try:
                return split._draw(drawer, *a, **k)
            finally:
                split.draw += time.thread_time() - t
                split.builds = max(split.builds, drawer.builds)

        movie._run, live.FrameDrawer.draw = run, draw

    def restore(self) -> None:
        movie._run, live.FrameDrawer.draw = self._run, self._draw


def _timed(make, path: Path) -> dict[str, float]:
    split = Split()
    c0, m0, t0 = time.process_time(), time.thread_time(), time.perf_counter()
    try:
        n = make(path)
    finally:
        split.restore()
    wall, cpu, main_cpu = time.perf_counter() - t0, time.process_time() - c0, time.thread_time() - m0
    return {
        "frames": n,
        "wall_s": wall,
        "cpu_s": cpu,
        "main_thread_cpu_s": main_cpu,
        "engine_cpu_s": split.engine,
        "draw_cpu_s": split.draw,
        "rest_main_cpu_s": main_cpu - split.draw,
        "builds": split.builds,
        "ms_per_frame": 1e3 * wall / n,
        "bytes": path.stat().st_size,
    }


def sweep(size: int, frame_size: tuple[int, int], steps: int):
    settings = Settings().with_size(size)
    frame, _ = load_image(SAMPLE_IMAGE, size)
    scene = Scene(settings=settings, source=SourceRef(name=SAMPLE_IMAGE.name, pixels=pixel_hash(frame)))
    sw = movie.parse_sweep(f"init=1e-3:10:log:{steps}", settings)

    def make(path: Path) -> int:
        movie.write_movie(path, movie.sweep_frames(scene, sw, frame, frame_size), len(sw.values), scene)
        return len(sw.values)

    return make


def clip(size: int, frame_size: tuple[int, int], frames: int | None):
    settings = Settings().with_size(size)
    scene = Scene(settings=settings, source=SourceRef(name=SAMPLE_VIDEO.name))

    def make(path: Path) -> int:
        n, fps, gen = movie.clip_frames(scene, SAMPLE_VIDEO, frame_size, None if frames is None else range(frames))
        movie.write_movie(path, gen, n, scene, fps=fps)
        return n

    return make


def _strict(x):
    """NaN (a split not measured) as null: the JSON stays strict."""
    if isinstance(x, float) and x != x:
        return None
    if isinstance(x, dict):
        return {k: _strict(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_strict(v) for v in x]
    return x


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", type=int, default=256, help="network input side (default 256)")
    p.add_argument("--frame-size", default="1280x720", help="movie frame size (default 1280x720)")
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--clip-frames", type=int, default=None, help="first N frames of the clip (default all 100)")
    p.add_argument("--repeat", type=int, default=1, help="interleaved sweep/clip pairs (default 1)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: cnnviz's choice)")
    p.add_argument("--out", default=str(ROOT / "bench-results" / "movie.json"))
    args = p.parse_args()

    import torch

    from cnnviz.core.device import torch_threads

    torch.set_num_threads(args.threads or torch_threads())
    frame_size = movie.parse_frame_size(args.frame_size)
    jobs = {"sweep": sweep(args.size, frame_size, args.steps), "clip": clip(args.size, frame_size, args.clip_frames)}
    runs: dict[str, list[dict[str, float]]] = {k: [] for k in jobs}
    with tempfile.TemporaryDirectory() as tmp:
        # warm-up: fonts, matplotlib's caches, torch's kernels, the encoder
        warm = Settings().with_size(args.size)
        image, _ = load_image(SAMPLE_IMAGE, args.size)
        movie.write_movie(
            Path(tmp) / "warm.mp4",
            movie.sweep_frames(Scene(settings=warm), movie.parse_sweep("seed=0:1", warm), image, frame_size),
            2,
            Scene(settings=warm),
        )
        for _ in range(args.repeat):
            for name, make in jobs.items():
                r = _timed(make, Path(tmp) / "movie.mp4")
                runs[name].append(r)
                print(
                    f"{name:5s} {r['frames']:4d} frames  {r['wall_s']:5.1f} s wall  {r['cpu_s']:5.1f} s CPU: "
                    f"engine {r['engine_cpu_s']:4.1f} s, drawing {r['draw_cpu_s']:4.1f} s, "
                    f"rest of main thread {r['rest_main_cpu_s']:4.1f} s  "
                    f"({r['ms_per_frame']:.0f} ms/frame, {r['builds']} builds, {r['bytes'] / 1e6:.1f} MB)",
                    flush=True,
                )
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    summary = {name: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for name, rs in runs.items() if rs}
    report = {
        "what": "movie export: 60-step init sweep and 100-frame clip, MP4",
        "size": args.size,
        "frame_size": list(frame_size),
        "torch_threads": torch.get_num_threads(),
        "processes": 1,
        "cpus": os.cpu_count(),
        "load_average": load,
        "shared_host": "the host is shared with other jobs: compare CPU seconds, and interleaved runs",
        "machine": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "median": summary,
        "runs": runs,
        "targets_s": {"sweep": 10.0, "clip": 10.0},
        "note": "one process; engine and decoding in a helper thread ahead of the drawing; CPU seconds by thread",
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(_strict(report), indent=2, allow_nan=False))
    print(f"load average {load}; wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
