#!/usr/bin/env python
"""Benchmark the live camera path over a paced fake camera: latency, frame rate, memory.

Prints a table and writes JSON (default bench-results/camera.json). Not a test: figures
depend on the machine (and on whoever else uses it), so they are reported, never asserted.

The fake camera is :func:`cnnviz.io.camera.paced_clip` on a generated 640x480 MJPEG clip
(what a USB webcam sends at the 640x480 the window asks for): a slow pan over the sample
picture, released at the clip's frame rate and looping, through the same capture thread,
newest-frame dropping, RGB conversion and fit as a real camera. ``--source lavfi`` uses
FFmpeg's ``testsrc2`` pattern paced by its ``realtime`` filter instead.

The consumer is what the window's worker does per frame: take the newest frame (converted to
RGB and fitted to 256^2 by the source's converting thread, the newest raw frame only; before that
change, by the consumer itself), ``engine.run`` with the interactive profile
as for a playing clip (display maps, the selected histogram, theory, the equivariance readout the
scale-sharing lesson needs); ``--profile playback`` leaves the equivariance pass out. Measured
per result:

- capture -> result: from the instant the capture thread received the frame to the Result
  being ready (the window's drawing comes after; it is measured once the window side exists);
- its parts: capture -> taken (conversion, fit, waiting for the consumer) and engine.run;
- results per second against the camera's rate, and frames dropped (never queued).

Targets (issue 14, 2-core CPU): capture-to-pixels under 80 ms at 256^2; the camera's frame rate
held up to 30 fps at 256^2; memory flat over a soak (the issue says 10 minutes; --soak sets it).

The window part (``--window``) also gives the GUI thread's CPU per frame drawn and the longest
GUI stall with the CPU the GUI thread spent inside it; ``--stall-stacks`` samples where the GUI
thread is during stalls; ``--camera-pipeline N`` sets the frames in flight (gui/camera.py). The
window part paints by ``processEvents`` inside ``result_drawn``, which may draw the next result
re-entrantly before this one's latency is taken: that inflates the tail of capture -> pixels,
alike for every variant compared (each latency is that of the frame whose draw took it).

To compare with older code, copy this script into a checkout of it (it uses only
``newest()``, ``wait_newer()`` and the window's camera controller) and run both in turns.

Usage: python scripts/bench_camera.py [--rates 15 25 30] [--seconds 10] [--soak 60] [--threads N]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchutil import rss_bytes  # noqa: E402

from cnnviz.core import engine  # noqa: E402
from cnnviz.core.device import torch_threads  # noqa: E402
from cnnviz.io.camera import CameraSource, open_input, paced_clip  # noqa: E402
from cnnviz.paths import SAMPLE_IMAGE  # noqa: E402
from cnnviz.settings import Settings  # noqa: E402

PROFILE = "interactive"  # what a live frame is computed with, as a playing clip's (equivariance included)


def write_camera_clip(path: Path, rate: int, seconds: float = 4.0, size: tuple[int, int] = (640, 480)) -> Path:
    """A 640x480 MJPEG clip at ``rate`` fps: a slow pan across the sample picture, enlarged."""
    w, h = size
    with Image.open(SAMPLE_IMAGE) as im:
        src = im.convert("RGB")
    big = src.resize((int(src.width * h * 1.25 / src.height), int(h * 1.25)), Image.Resampling.BICUBIC)
    n = max(2, round(seconds * rate))
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mjpeg", rate=rate)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuvj422p"
        stream.time_base = Fraction(1, rate)
        stream.options = {"q:v": "5"}
        for i in range(n):
            x = round((big.width - w) * (0.5 - 0.5 * np.cos(2 * np.pi * i / n)))
            y = round((big.height - h) * 0.5 * (1 + np.sin(2 * np.pi * i / n)) / 2)
            frame = av.VideoFrame.from_image(big.crop((x, y, x + w, y + h)))
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def open_fake(kind: str, rate: int, folder: Path, size: int) -> CameraSource:
    if kind == "lavfi":
        return open_input(f"testsrc2=size=640x480:rate={rate},realtime", "lavfi", fit=size, name=f"testsrc2 {rate} fps")
    clip = folder / f"camera_{rate}fps.avi"
    if not clip.exists():
        write_camera_clip(clip, rate)
    return paced_clip(clip, fit=size)


@dataclasses.dataclass
class Run:
    results: int = 0
    latency_ms: list[float] = dataclasses.field(default_factory=list)
    taken_ms: list[float] = dataclasses.field(default_factory=list)
    engine_ms: list[float] = dataclasses.field(default_factory=list)
    cpu_ms: list[float] = dataclasses.field(default_factory=list)  # consumer thread CPU per result
    alone_ms: list[float] = dataclasses.field(default_factory=list)  # engine.run with no camera running


def consume(source: CameraSource, settings: Settings, seconds: float, run: Run | None = None) -> Run:
    """The window worker's loop: newest frame -> engine.run, for ``seconds``."""
    run = run or Run()
    last = source.newest().index
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        cpu0 = time.thread_time()
        frame = source.wait_newer(last, 2.0)
        if frame is None:
            raise SystemExit(f"fake camera failed: {source.problem}")
        t_taken = time.perf_counter()
        engine.run(settings, frame.rgb, profile=PROFILE)
        t_done = time.perf_counter()
        run.cpu_ms.append((time.thread_time() - cpu0) * 1e3)
        last = frame.index
        run.results += 1
        run.latency_ms.append((t_done - frame.captured) * 1e3)
        run.taken_ms.append((t_taken - frame.captured) * 1e3)
        run.engine_ms.append((t_done - t_taken) * 1e3)
    return run


def engine_alone(settings: Settings, rgb: np.ndarray, count: int, run: Run) -> None:
    """engine.run on one frame with the camera closed: the engine's own time in the same minute."""
    for _ in range(count):
        t0 = time.perf_counter()
        engine.run(settings, rgb, profile=PROFILE)
        run.alone_ms.append((time.perf_counter() - t0) * 1e3)


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def rate_run(kind: str, rate: int, settings: Settings, seconds: float, folder: Path, block: float = 2.5) -> dict:
    """Live blocks of ``block`` seconds interleaved with engine-alone blocks (camera closed)."""
    run = Run()
    elapsed = captured = taken = cpu_total = 0.0
    camera_fps: list[float] = []
    while elapsed < seconds:
        with open_fake(kind, rate, folder, settings.size) as source:
            for _ in range(2):  # warm up autograd and the allocator
                engine.run(settings, source.newest().rgb, profile=PROFILE)
            c0, k0, p0, t0 = source.frames_captured, source.frames_taken, time.process_time(), time.perf_counter()
            n0 = run.results
            consume(source, settings, min(block, seconds - elapsed), run)
            dt = time.perf_counter() - t0
            cpu_total += time.process_time() - p0
            elapsed += dt
            captured += source.frames_captured - c0
            taken += source.frames_taken - k0
            camera_fps.append(source.fps)
            rgb = source.newest().rgb
        engine_alone(settings, rgb, max(3, (run.results - n0) // 2), run)
    return {
        "camera_fps_nominal": rate,
        "camera_fps_measured": float(np.median(camera_fps)),
        "results_per_s": run.results / elapsed,
        "held": run.results / elapsed >= 0.95 * rate,
        "frames_captured": int(captured),
        "frames_dropped": int(max(0, captured - taken)),
        "latency_ms_median": pct(run.latency_ms, 50),
        "latency_ms_p95": pct(run.latency_ms, 95),
        "latency_ms_min": min(run.latency_ms),
        "latency_ms_max": max(run.latency_ms),
        "capture_to_taken_ms_median": pct(run.taken_ms, 50),
        "engine_ms_median": pct(run.engine_ms, 50),
        "engine_alone_ms_median": pct(run.alone_ms, 50),
        "consumer_cpu_ms_median": pct(run.cpu_ms, 50),
        "process_cores_busy": cpu_total / elapsed,
        "results": run.results,
        "seconds": elapsed,
    }


def soak(kind: str, rate: int, settings: Settings, seconds: float, folder: Path, every: float = 5.0) -> dict:
    samples: list[tuple[float, int]] = []
    with open_fake(kind, rate, folder, settings.size) as source:
        run = Run()
        t0 = time.perf_counter()
        while (elapsed := time.perf_counter() - t0) < seconds:
            consume(source, settings, min(every, seconds - elapsed), run)
            samples.append((time.perf_counter() - t0, rss_bytes()))
    mb = [s[1] / 2**20 for s in samples]
    times = [s[0] for s in samples]
    after_warm = next((i for i, t in enumerate(times) if t >= min(10.0, seconds / 3)), 0)
    tail_t, tail_mb = np.array(times[after_warm:]), np.array(mb[after_warm:])
    slope = float(np.polyfit(tail_t, tail_mb, 1)[0] * 60) if len(tail_t) >= 3 else float("nan")
    return {
        "seconds": times[-1] if times else 0.0,
        "camera_fps_nominal": rate,
        "results": run.results,
        "results_per_s": run.results / times[-1] if times else 0.0,
        "latency_ms_median": pct(run.latency_ms, 50),
        "latency_ms_p95": pct(run.latency_ms, 95),
        "rss_mb_first": mb[0] if mb else float("nan"),
        "rss_mb_after_warmup": mb[after_warm] if mb else float("nan"),
        "rss_mb_last": mb[-1] if mb else float("nan"),
        "rss_mb_max": max(mb) if mb else float("nan"),
        "rss_mb_per_min_after_warmup": slope,
        "samples": [[round(t, 1), round(m, 1)] for t, m in zip(times, mb, strict=True)],
    }


class StallSampler:
    """A thread that, while the GUI thread has missed its heartbeat for over ``after_s``, samples
    where it is (its Python stack) every ``every_s``: what the longest stalls are made of."""

    def __init__(self, state: dict, after_s: float = 0.05, every_s: float = 0.01) -> None:
        import collections
        import threading

        self.state, self.after_s, self.every_s = state, after_s, every_s
        self.counts: collections.Counter[str] = collections.Counter()
        self.main = threading.main_thread().ident
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stall sampler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import traceback

        while not self._stop.wait(self.every_s):
            if not self.state["counting"] or time.perf_counter() - self.state["last"] < self.after_s:
                continue
            frame = sys._current_frames().get(self.main)
            if frame is None:
                continue
            stack = traceback.extract_stack(frame)[-6:]
            self.counts[" <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(stack))] += 1

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(1.0)
        total = sum(self.counts.values())
        print(f"    where the GUI thread was during stalls (>{self.after_s * 1e3:.0f} ms), {total} samples:")
        for stack, n in self.counts.most_common(8):
            print(f"    {n:>4}  {stack}")


def window_run(
    rate: int,
    size: int,
    seconds: float,
    folder: Path,
    threads: int,
    pipeline: int | None = None,
    stall_stacks: bool = False,
) -> dict:
    """The window offscreen at 1600x900, live on the paced clip: capture -> result drawn -> painted.

    Also measured: the GUI thread's CPU per frame drawn (``time.thread_time`` of this thread, which
    runs the window), and the longest stall (the longest gap between 5 ms heartbeats) with the
    GUI thread's CPU inside that gap: a stall whose CPU is near its length is work on the GUI
    thread (a draw, a collection); one with little CPU is the thread waiting (a lock, a join) or
    not scheduled (a loaded host). ``pipeline`` sets gui/camera.py's PIPELINE (frames in flight)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("CNNVIZ_CONFIG_DIR", str(folder / "config"))
    os.environ["CNNVIZ_TORCH_THREADS"] = str(threads)
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from cnnviz.gui import camera as gui_camera
    from cnnviz.gui.main_window import MainWindow
    from cnnviz.io.camera import CameraInfo

    if pipeline is not None and hasattr(gui_camera, "PIPELINE"):
        gui_camera.PIPELINE = pipeline

    app = QApplication.instance() or QApplication([])
    clip = folder / f"camera_{rate}fps.avi"
    if not clip.exists():
        write_camera_clip(clip, rate)
    w = MainWindow(Settings(size=size, device="cpu"), store=None)
    w.resize(1600, 900)
    w.show()
    latencies: list[float] = []
    draws: list[float] = []
    stalls: list[tuple[float, float]] = []  # (wall ms, GUI thread CPU ms) between heartbeats
    state = {"last": time.perf_counter(), "cpu": time.thread_time(), "counting": False}

    def drawn(_gen: int, result: object) -> None:
        if result is None or not state["counting"] or not math.isfinite(w.camera.last_captured):
            return
        captured = w.camera.last_captured  # this frame's: a result drawn inside the paint below sets a newer one
        app.processEvents()  # the paint
        latencies.append((time.perf_counter() - captured) * 1e3)
        draws.append(w.timings.get("draw_ms", math.nan))

    def beat() -> None:  # the longest the GUI thread went without handling events
        now, cpu = time.perf_counter(), time.thread_time()
        if state["counting"]:
            stalls.append(((now - state["last"]) * 1e3, (cpu - state["cpu"]) * 1e3))
        state["last"], state["cpu"] = now, cpu

    w.result_drawn.connect(drawn)
    sampler = StallSampler(state) if stall_stacks else None
    heart = QTimer()
    heart.timeout.connect(beat)
    heart.start(5)
    w.camera.opener = lambda camera, fit, on_frame: paced_clip(clip, fit=fit, on_frame=on_frame)
    assert w.camera.open(CameraInfo(0, "paced clip", str(clip), "file"))
    end = time.perf_counter() + 3.0  # warm-up
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)
    state["counting"] = True
    drawn0, captured0 = w.camera.frames_drawn, w.camera.source.frames_captured
    gui_cpu0, proc_cpu0 = time.thread_time(), time.process_time()
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        app.processEvents()
        time.sleep(0.001)
    elapsed = time.perf_counter() - t0
    gui_cpu, proc_cpu = time.thread_time() - gui_cpu0, time.process_time() - proc_cpu0
    state["counting"] = False
    frames = w.camera.frames_drawn - drawn0
    converted_on = sorted(getattr(w.camera.source, "converted_on", ()))
    captured = w.camera.source.frames_captured - captured0
    status = w.camera.status.text()
    heart.stop()
    if sampler is not None:
        sampler.stop()
    w.close()
    w.deleteLater()
    app.processEvents()
    return {
        "camera_fps_nominal": rate,
        "drawn_per_s": frames / elapsed,
        "held": frames / elapsed >= 0.95 * rate,
        "frames_captured": captured,
        "frames_dropped": max(0, captured - frames),
        "capture_to_pixels_ms_median": pct(latencies, 50),
        "capture_to_pixels_ms_p95": pct(latencies, 95),
        "draw_ms_median": pct(draws, 50),
        "gui_cpu_ms_per_frame": gui_cpu * 1e3 / max(frames, 1),
        "process_cores_busy": proc_cpu / elapsed,
        "longest_gui_stall_ms": max(stalls)[0] if stalls else math.nan,
        "longest_gui_stall_cpu_ms": max(stalls)[1] if stalls else math.nan,
        "gui_stalls_over_100ms": sum(1 for wall, _ in stalls if wall > 100),
        "gui_stalls_over_100ms_cpu_ms_median": pct([c for wall, c in stalls if wall > 100], 50),
        "converted_on": converted_on,
        "pipeline": getattr(gui_camera, "PIPELINE", 1),
        "status_bar": status,
        "seconds": elapsed,
    }


def main() -> int:
    global PROFILE
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rates", type=int, nargs="+", default=[15, 25, 30], help="fake camera rates, fps")
    p.add_argument("--seconds", type=float, default=10.0, help="seconds per rate")
    p.add_argument("--soak", type=float, default=60.0, help="soak seconds at the highest rate (0: skip)")
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: the window's policy)")
    p.add_argument("--source", choices=("clip", "lavfi"), default="clip")
    p.add_argument("--profile", default=PROFILE, help="engine profile per frame (playback: no equivariance pass)")
    p.add_argument("--window", type=float, default=10.0, help="seconds of the window live per rate (0: skip)")
    p.add_argument("--camera-pipeline", type=int, default=None, help="frames in flight in the window (gui/camera.py)")
    p.add_argument("--stall-stacks", action="store_true", help="sample where the GUI thread is during stalls")
    p.add_argument("--json", type=Path, default=ROOT / "bench-results" / "camera.json")
    args = p.parse_args()

    PROFILE = args.profile
    threads = args.threads or torch_threads()
    torch.set_num_threads(threads)
    settings = Settings(size=args.size, device="cpu")
    cores = os.cpu_count()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    loadtext = f"; load average before {load[0]:.2f}" if load else ""
    print(
        f"camera bench: {args.source} fake camera 640x480, network {settings.size}^2 depth {settings.depth} "
        f"J {settings.channels} D {settings.kernel}, engine profile {PROFILE}; torch threads {threads} of {cores} cores{loadtext} (shared host)"
    )
    out: dict = {
        "machine": {
            "platform": platform.platform(),
            "cores": cores,
            "torch_threads": threads,
            "torch": torch.__version__,
            "loadavg_before": load,
            "note": "shared host (other agents running); figures are noisy",
        },
        "settings": settings.to_dict(),
        "source": args.source,
        "profile": PROFILE,
        "rates": [],
    }
    with tempfile.TemporaryDirectory(prefix="cnnviz-bench-camera-") as tmp:
        folder = Path(tmp)
        print(
            f"{'camera':>7} {'measured':>8} {'results/s':>9} {'held':>4} {'dropped':>7} {'lat med':>7} {'p95':>6} "
            f"{'min':>5} {'cap->taken':>10} {'engine':>6} {'alone':>5} {'cpu/res':>7} {'cores':>5}  (ms)"
        )
        for rate in args.rates:
            r = rate_run(args.source, rate, settings, args.seconds, folder)
            out["rates"].append(r)
            print(
                f"{rate:>5}fps {r['camera_fps_measured']:>8.1f} {r['results_per_s']:>9.1f} "
                f"{'yes' if r['held'] else 'no':>4} {r['frames_dropped']:>7} {r['latency_ms_median']:>7.1f} "
                f"{r['latency_ms_p95']:>6.1f} {r['latency_ms_min']:>5.1f} {r['capture_to_taken_ms_median']:>10.1f} "
                f"{r['engine_ms_median']:>6.1f} {r['engine_alone_ms_median']:>5.1f} "
                f"{r['consumer_cpu_ms_median']:>7.1f} {r['process_cores_busy']:>5.2f}",
                flush=True,
            )
        if args.window > 0 and args.source == "clip":
            out["window"] = []
            print(
                f"{'window':>7} {'drawn/s':>8} {'held':>4} {'dropped':>7} {'cap->pixels med':>15} {'p95':>6} "
                f"{'draw':>5} {'GUI cpu/fr':>10} {'GUI stall':>9} {'its cpu':>7} {'>100ms':>6}  (ms; offscreen 1600x900)"
            )
            for rate in args.rates:
                r = window_run(rate, args.size, args.window, folder, threads, args.camera_pipeline, args.stall_stacks)
                out["window"].append(r)
                print(
                    f"{rate:>5}fps {r['drawn_per_s']:>8.1f} {'yes' if r['held'] else 'no':>4} "
                    f"{r['frames_dropped']:>7} {r['capture_to_pixels_ms_median']:>15.1f} "
                    f"{r['capture_to_pixels_ms_p95']:>6.1f} {r['draw_ms_median']:>5.1f} "
                    f"{r['gui_cpu_ms_per_frame']:>10.1f} {r['longest_gui_stall_ms']:>9.0f} "
                    f"{r['longest_gui_stall_cpu_ms']:>7.0f} {r['gui_stalls_over_100ms']:>6}   "
                    f"[{r['status_bar']}] pipeline {r['pipeline']}, converted on {r['converted_on'] or 'the GUI thread'}",
                    flush=True,
                )
        if args.soak > 0:
            rate = max(args.rates)
            s = soak(args.source, rate, settings, args.soak, folder)
            out["soak"] = s
            print(
                f"soak {s['seconds']:.0f} s at {rate} fps: {s['results']} results ({s['results_per_s']:.1f}/s), "
                f"latency median {s['latency_ms_median']:.1f} ms p95 {s['latency_ms_p95']:.1f} ms; RSS "
                f"{s['rss_mb_first']:.0f} -> {s['rss_mb_after_warmup']:.0f} (after warm-up) -> "
                f"{s['rss_mb_last']:.0f} MB, max {s['rss_mb_max']:.0f}, "
                f"slope {s['rss_mb_per_min_after_warmup']:+.2f} MB/min"
            )
    load_after = os.getloadavg() if hasattr(os, "getloadavg") else None
    out["machine"]["loadavg_after"] = load_after
    args.json.parent.mkdir(parents=True, exist_ok=True)
    from cnnviz.io.files import atomic_write

    atomic_write(args.json, json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
