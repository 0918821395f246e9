#!/usr/bin/env python
"""Benchmark video: decode -> fit -> engine.run per frame, and resident memory over a loop.

Prints a table and writes JSON (default bench-results/video.json). Not a test: figures
depend on the machine, so they are reported, never asserted.

1. Throughput, for each size (256, 512), depth 6, J 16, D 3, on the sample clip
   (cnnviz/resources/chelsea_zoom.mp4, 512x512 H.264): every frame read in order
   (demux + threaded decode + RGB conversion + fit_to_size = "decode") and run through
   engine.run, the full per-frame Result: forward, backward, float64 statistics, theory,
   equivariance readout and display maps ("compute"). Frames per second end to end, and
   each stage on its own. Targets (issue 5, 2-core CPU): 60 fps at 256^2, 20 fps at 512^2.
   "stats-only" is what `cnnviz stats VIDEO` computes per frame: forward, backward,
   statistics and theory, without display maps or the equivariance readout.
2. Problem 2's video network: one window of 8 frames at 256^2, stride 2, forward + backward.
3. Resident memory (RSS) while the clip loops for --minutes at 256^2 through the same
   pipeline; sampled every few seconds. Flat means the last sample is within a few MB of the
   sample after the first pass.

Usage: python scripts/bench_video.py [--minutes 0.5] [--passes 2] [--json PATH]
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cnnviz.cli import limit_native_threads  # noqa: E402

limit_native_threads()  # the app's thread policy (cnnviz.cli.main does this first), before torch loads
import torch  # noqa: E402
from benchutil import rss_bytes, thread_cpu_seconds  # noqa: E402

from cnnviz.core import engine  # noqa: E402
from cnnviz.core.video_net import ClipWindow  # noqa: E402
from cnnviz.core.video_stats import make_video_net, video_net_layer_stats  # noqa: E402
from cnnviz.io.video import VideoReader  # noqa: E402
from cnnviz.paths import SAMPLE_VIDEO  # noqa: E402
from cnnviz.settings import Settings  # noqa: E402


def throughput(path: Path, size: int, depth: int, channels: int, passes: int) -> dict:
    settings = Settings(size=size, depth=depth, channels=channels, device="cpu")
    with VideoReader(path, size=size) as reader:
        first = next(iter(reader))
        for _ in range(3):  # warm up autograd and the allocator
            engine.run(settings, first.rgb)
        decode_s = compute_s = stats_s = 0.0
        frames = 0
        for _ in range(passes):
            it = iter(reader)
            while True:
                t0 = time.perf_counter()
                frame = next(it, None)
                t1 = time.perf_counter()
                if frame is None:
                    break
                engine.run(settings, frame.rgb)
                t2 = time.perf_counter()
                # what `cnnviz stats VIDEO` computes per frame: no display maps, no equivariance
                engine.run(settings, frame.rgb, profile="stats")
                t3 = time.perf_counter()
                decode_s += t1 - t0
                compute_s += t2 - t1
                stats_s += t3 - t2
                frames += 1
    return {
        "size": size,
        "depth": depth,
        "channels": channels,
        "frames": frames,
        "fps": frames / (decode_s + compute_s),
        "decode_ms_per_frame": decode_s / frames * 1e3,
        "compute_ms_per_frame": compute_s / frames * 1e3,
        "decode_fps": frames / decode_s,
        "compute_fps": frames / compute_s,
        "stats_only_fps": frames / (decode_s + stats_s),
        "stats_only_ms_per_frame": stats_s / frames * 1e3,
    }


def cli_path(path: Path, size: int, depth: int, channels: int) -> dict:
    """Frames per second of `cnnviz stats VIDEO --every 1`'s own loop (video_stats.iter_frame_stats:
    decoding one frame ahead on a thread, statistics without display maps or equivariance)."""
    from cnnviz.core.video_stats import iter_frame_stats

    settings = Settings(size=size, depth=depth, channels=channels, device="cpu")
    with VideoReader(path, size=size) as reader:
        n = reader.info.frame_count
        list(iter_frame_stats(reader, settings, range(min(3, n))))  # warm up
        t0 = time.perf_counter()
        frames = sum(1 for _ in iter_frame_stats(reader, settings, range(n)))
        elapsed = time.perf_counter() - t0
    return {"size": size, "frames": frames, "fps": frames / elapsed}


def video_net_timing(path: Path, size: int, depth: int, channels: int, window: int = 8, reps: int = 5) -> dict:
    settings = Settings(size=size, depth=depth, channels=channels, device="cpu")
    net, spec = make_video_net(settings, stride=2, kernel_t=3, window=window)
    buf = ClipWindow(window)
    with VideoReader(path, size=size) as reader:
        for frame in reader.frames_at(range(window)):
            buf.push(frame.index, frame.rgb)
    clip = buf.clip(engine.INPUT_OFFSET)
    video_net_layer_stats(net, clip, 0)
    t0 = time.perf_counter()
    for _ in range(reps):
        video_net_layer_stats(net, clip, 0)
    ms = (time.perf_counter() - t0) / reps * 1e3
    return {
        "size": size,
        "window": window,
        "stride": 2,
        "depth": depth,
        "channels": channels,
        "ms_per_window": ms,
        "multiplies": sum(spec.multiplies),
        "clip_bytes": spec.clip_bytes,
        "activation_bytes": spec.activation_bytes,
    }


def memory_loop(path: Path, minutes: float, size: int, depth: int, channels: int, every_s: float = 5.0) -> dict:
    settings = Settings(size=size, depth=depth, channels=channels, device="cpu")
    samples: list[tuple[float, int]] = []
    start = time.perf_counter()
    end = start + minutes * 60
    frames = passes = 0
    after_first = None
    next_sample = start
    with VideoReader(path, size=size) as reader:
        while time.perf_counter() < end:
            for frame in reader:
                engine.run(settings, frame.rgb)
                frames += 1
                now = time.perf_counter()
                if now >= next_sample:
                    samples.append((now - start, rss_bytes()))
                    next_sample = now + every_s
                if now >= end:
                    break
            passes += 1
            if after_first is None:
                after_first = rss_bytes()
    samples.append((time.perf_counter() - start, rss_bytes()))
    mib = 2**20
    rss = [r for _, r in samples]
    return {
        "minutes": minutes,
        "size": size,
        "frames": frames,
        "passes": passes,
        "rss_after_first_pass_mib": (after_first or rss[0]) / mib,
        "rss_end_mib": rss[-1] / mib,
        "rss_max_mib": max(rss) / mib,
        "rss_min_mib": min(rss) / mib,
        "growth_after_first_pass_mib": (rss[-1] - (after_first or rss[0])) / mib,
        "samples": [(round(t, 1), round(r / mib, 1)) for t, r in samples],
    }


def window_playback(
    path: Path, sizes: list[int], depth: int, channels: int, seconds: float, reps: int, stub: bool = False
) -> dict:
    """Full-display playback in the real window (offscreen, 1600x900): decode, compute, draw, paint.

    The window's own thread policy (torch_threads: all cores but one, one FFmpeg thread for the
    decoder). "at_2x": the fastest speed the window offers (50 frames a second of the 25 fps
    clip): no run at it can show more than 50 fps. "at_3x": the clock at 3x (set here; the
    window's menu stops at 2x), 75 frames a second of clip, more than the 60 fps target, so the
    pipeline, not the clip, sets the pace (the clock's skipped frames are decoded too: a little
    more decoding than at 2x). "clip rate": 1x, what a lecture sees (at most the clip's 25 fps). Sizes are interleaved
    ``reps`` times and medians reported: the host is shared with other work.

    ``stub``: compute replaced by handing back one precomputed Result of the same settings, so
    the figures are the pipeline alone (decode, hand-over, draw, paint), without torch.

    Per run also: CPU time per frame drawn of the GUI, compute and decoder threads (/proc; the
    GUI thread holds the interpreter lock the compute thread needs, so its time is what slows
    compute), the share of frames whose compute took longer than a 60 Hz frame (16.7 ms), the
    cost of one curves redraw (its set_result and the paint of its plots, GUI-thread CPU) and how
    many a second, and the GUI-thread CPU a second of the over-time view's paints.
    """
    import statistics

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    import cnnviz.gui.main_window as mw
    from cnnviz.core.device import torch_threads
    from cnnviz.gui.main_window import MainWindow

    if stub:
        cached: dict = {}
        real = mw.compute

        def fake(settings, data, **kw):
            if settings not in cached:
                cached[settings] = real(settings, data, **kw)
            return cached[settings]

        mw.compute = fake

    app = QApplication.instance() or QApplication([])
    # GUI-thread CPU of the secondary views while a clip plays: the curves' redraw (set_result and
    # the paint of their plots that follows) and the over-time view's paints (cursor and redraws).
    import pyqtgraph

    from cnnviz.gui.curves import CurvesView

    spent: dict[str, list[float]] = {"curves_call": [], "curves_paint": [], "overtime_paint": []}
    views: dict[str, object] = {}
    real_set, real_paint = CurvesView.set_result, pyqtgraph.GraphicsView.paintEvent

    def timed_set(self, result):
        t0 = time.thread_time()
        real_set(self, result)
        spent["curves_call"].append(time.thread_time() - t0)

    def timed_paint(self, event):
        t0 = time.thread_time()
        real_paint(self, event)
        name = (
            "curves_paint" if self is views.get("curves") else "overtime_paint" if self is views.get("over") else None
        )
        if name:
            spent[name].append(time.thread_time() - t0)

    CurvesView.set_result = timed_set
    pyqtgraph.GraphicsView.paintEvent = timed_paint  # before the window exists: its views use it
    w = MainWindow(
        Settings(size=sizes[0], depth=depth, channels=channels, device="cpu"), None, store=None, file=str(path)
    )
    views.update(curves=w.curves.glw, over=w.playback.over_time.view.plots)
    w.resize(1600, 900)
    w.show()
    draws: list[tuple[float, float]] = []
    w.result_drawn.connect(lambda _g, r: draws.append((w.timings["compute_ms"], w.timings["draw_ms"])) if r else None)

    def pump(sec: float, until=None) -> None:
        if until is None:  # the window's own event loop, as in the app (no polling, no sleeps)
            loop = QEventLoop()
            QTimer.singleShot(round(sec * 1e3), loop.quit)
            loop.exec()
            return
        end = time.perf_counter() + sec
        while time.perf_counter() < end:
            app.processEvents()
            if until is not None and until():
                return
            time.sleep(0.001)

    idle = lambda: w.worker.is_idle() and not w.playback._fetching  # noqa: E731
    pump(60, lambda: w.result is not None and idle())
    runs: dict[str, dict[str, list[float]]] = {}
    rss = [(0.0, rss_bytes())]
    start = time.perf_counter()
    for _rep in range(reps):
        for size in sizes:
            w.request(w.settings.with_size(size).replace(depth=depth))
            pump(60, lambda s=size: w.result is not None and w.result.settings.size == s and idle())
            speeds = (("at_3x", 3.0), ("at_2x", 2.0)) + (() if stub else (("clip_rate", 1.0),))
            for label, speed in speeds:
                w.playback.seek(0)
                pump(30, idle)
                w.playback.speed = speed
                f0, d0, n0 = w.playback.frames_drawn, w.playback.dropped, len(draws)
                for v in spent.values():
                    v.clear()
                t0 = time.perf_counter()
                gui0, proc0 = time.thread_time(), time.process_time()  # this thread is the GUI thread
                threads0 = thread_cpu_seconds()
                w.playback.play()
                pump(seconds)
                gui_s, proc_s = time.thread_time() - gui0, time.process_time() - proc0
                threads = {k: v - threads0.get(k, 0.0) for k, v in thread_cpu_seconds().items()}
                w.playback.pause()
                paints = {k: list(v) for k, v in spent.items()}
                elapsed = time.perf_counter() - t0
                got = draws[n0:]
                r = runs.setdefault(
                    f"{size}/{label}",
                    {
                        "fps": [],
                        "compute_ms": [],
                        "draw_ms": [],
                        "dropped": [],
                        "gui_cpu_ms": [],
                        "process_cpu_ms": [],
                        "compute_thread_cpu_ms": [],
                        "decode_thread_cpu_ms": [],
                        "late_frames_pct": [],
                        "curves_redraw_ms": [],
                        "curves_redraws_per_s": [],
                        "overtime_paint_ms_per_s": [],
                    },
                )
                n_drawn = max(1, w.playback.frames_drawn - f0)
                r["fps"].append((w.playback.frames_drawn - f0) / elapsed)
                # CPU time per frame drawn: the GUI thread's (draw, paint, scheduling) and the whole
                # process's (with compute and decoding), steadier than fps on a shared host
                r["gui_cpu_ms"].append(gui_s / n_drawn * 1e3)
                r["process_cpu_ms"].append(proc_s / n_drawn * 1e3)
                r["dropped"].append(w.playback.dropped - d0)
                r["compute_thread_cpu_ms"].append(threads.get("cnnviz-compute", math.nan) / n_drawn * 1e3)
                r["decode_thread_cpu_ms"].append(threads.get("cnnviz-decode", math.nan) / n_drawn * 1e3)
                # one curves redraw: its set_result and the paint of its plots (about one paint each)
                calls, paint = paints["curves_call"], paints["curves_paint"]
                if calls:
                    r["curves_redraw_ms"].append((sum(calls) + sum(paint)) / len(calls) * 1e3)
                r["curves_redraws_per_s"].append(len(calls) / elapsed)
                r["overtime_paint_ms_per_s"].append(sum(paints["overtime_paint"]) / elapsed * 1e3)
                if got:
                    r["compute_ms"].append(statistics.median(c for c, _ in got))
                    r["draw_ms"].append(statistics.median(d for _, d in got))
                    # frames whose compute alone took longer than a 60 Hz display's frame
                    r["late_frames_pct"].append(100 * sum(c > 1e3 / 60 for c, _ in got) / len(got))
                pump(30, idle)
                rss.append((time.perf_counter() - start, rss_bytes()))
    clip_fps = w.playback.fps
    w.shutdown()
    w.close()
    CurvesView.set_result, pyqtgraph.GraphicsView.paintEvent = real_set, real_paint
    out = {}
    for key, r in runs.items():
        out[key] = {name: (statistics.median(v) if v else float("nan")) for name, v in r.items()}
        out[key]["fps_runs"] = [round(v, 2) for v in r["fps"]]
    return {
        "torch_threads": torch_threads(),
        "decoder_threads": 1,
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "window": "1600x900 offscreen",
        "seconds_per_run": seconds,
        "reps": reps,
        "depth": depth,
        "channels": channels,
        "clip": path.name,
        "clip_fps": clip_fps,
        "rss_mib": [(round(t, 1), round(r / 2**20, 1)) for t, r in rss],
        "compute": "stub (one cached Result: decode, draw and paint only)" if stub else "engine.run per frame",
        "runs": out,
    }


def window_memory(path: Path, size: int, depth: int, channels: int, minutes: float, every_s: float = 10.0) -> dict:
    """Resident memory while the window plays the clip on a loop at 1x for ``minutes``."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from cnnviz.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    w = MainWindow(Settings(size=size, depth=depth, channels=channels, device="cpu"), None, store=None, file=str(path))
    w.resize(1600, 900)
    w.show()
    end = time.perf_counter() + 30
    while time.perf_counter() < end and w.result is None:
        app.processEvents()
        time.sleep(0.001)
    w.playback.play()
    start = time.perf_counter()
    samples = []
    next_sample = start
    while time.perf_counter() - start < minutes * 60:
        app.processEvents()
        time.sleep(0.001)
        now = time.perf_counter()
        if now >= next_sample:
            samples.append((round(now - start, 1), round(rss_bytes() / 2**20, 1)))
            next_sample = now + every_s
    samples.append((round(time.perf_counter() - start, 1), round(rss_bytes() / 2**20, 1)))
    drawn = w.playback.frames_drawn
    w.shutdown()
    w.close()
    after_first_minute = [r for t, r in samples if t >= 60] or [samples[-1][1]]
    return {
        "size": size,
        "minutes": minutes,
        "frames_drawn": drawn,
        "rss_mib": samples,
        "growth_after_first_minute_mib": samples[-1][1] - after_first_minute[0],
    }


def beside_gui(
    path: Path, size: int, depth: int, channels: int, runs: int, blocks: int = 4, busy_ms: float = 8.0
) -> dict:
    """engine.run per frame (playback profile, the window's way: every stage on the calling
    thread) alone, and beside a thread that runs Python for ``busy_ms`` of every 16.7 ms (a GUI
    thread drawing each frame of a 60 fps clip: about what the window's does). Both hold the
    GIL in turns: each torch call lets go of it and waits to take it back, so the calls a frame
    makes, not only their arithmetic, set how much a busy GUI slows the compute. Alone and beside
    alternate in ``blocks`` blocks of ``runs`` frames each; medians over all blocks."""
    import statistics
    import threading

    settings = Settings(size=size, depth=depth, channels=channels, device="cpu")
    with VideoReader(path, size=size) as reader:
        frames = [f.rgb for _, f in zip(range(32), reader)]
    for f in frames[:5]:
        engine.run(settings, f, profile="playback", side_thread=False)
    period = 1 / 60
    stop = threading.Event()

    def gui() -> None:
        while not stop.is_set():
            t0 = time.perf_counter()
            x = 0
            while time.perf_counter() - t0 < busy_ms / 1e3:
                for i in range(100):
                    x += i
            stop.wait(max(0.0, period - (time.perf_counter() - t0)))

    times: dict[str, list[float]] = {"alone": [], "beside": []}
    for block in range(2 * blocks):
        which = "beside" if block % 2 else "alone"
        thread = threading.Thread(target=gui, daemon=True) if which == "beside" else None
        if thread is not None:
            stop.clear()
            thread.start()
        for i in range(runs):
            t = time.perf_counter()
            engine.run(settings, frames[i % len(frames)], profile="playback", side_thread=False)
            times[which].append((time.perf_counter() - t) * 1e3)
        if thread is not None:
            stop.set()
            thread.join()
    med = {k: statistics.median(v) for k, v in times.items()}
    p90 = {k: sorted(v)[int(0.9 * len(v))] for k, v in times.items()}
    return {
        "size": size,
        "depth": depth,
        "busy_ms_per_16_7_ms": busy_ms,
        "frames_each": len(times["alone"]),
        "alone_ms": med["alone"],
        "beside_ms": med["beside"],
        "alone_p90_ms": p90["alone"],
        "beside_p90_ms": p90["beside"],
        "slowdown": med["beside"] / med["alone"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(allow_abbrev=False, description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=SAMPLE_VIDEO)
    parser.add_argument(
        "--clip-fps",
        type=int,
        help="play the sample zoom made at this frame rate (in a temporary folder) instead of --video",
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--depth", type=int, default=6)
    parser.add_argument("--channels", type=int, default=16)
    parser.add_argument("--passes", type=int, default=2, help="passes over the clip per size (default 2)")
    parser.add_argument("--minutes", type=float, default=0.5, help="length of the memory loop (issue: 5)")
    parser.add_argument("--threads", type=int, help="torch threads (default: the app's policy, cnnviz.core.device)")
    parser.add_argument("--json", type=Path, default=ROOT / "bench-results" / "video.json")
    parser.add_argument(
        "--window",
        action="store_true",
        help="only full-display playback in the window (decode, compute, draw, paint); JSON to video_playback.json",
    )
    parser.add_argument("--window-minutes", type=float, help="with --window: only the memory loop, this long, at 256^2")
    parser.add_argument("--stub-compute", action="store_true", help="--window without torch: the pipeline alone")
    parser.add_argument("--seconds", type=float, default=6.0, help="length of each window playback run")
    parser.add_argument("--reps", type=int, default=3, help="interleaved repetitions of the window runs")
    parser.add_argument(
        "--beside-gui",
        action="store_true",
        help="only engine.run per frame alone and beside a GUI-like busy Python thread (JSON: video_beside_gui.json)",
    )
    args = parser.parse_args(argv)
    if args.clip_fps:
        # The sample zoom made at this rate: a 60 fps clip at 1x asks the window for a display's
        # refresh with every frame shown, without the frames a faster clock makes it decode and skip.
        from make_sample_video import make

        folder = Path(tempfile.mkdtemp(prefix="cnnviz-bench-"))
        args.video = make(folder / f"chelsea_zoom_{args.clip_fps}fps.mp4", 4.0, args.clip_fps, 512)
    if args.window and args.window_minutes:
        res = window_memory(args.video, 256, args.depth, args.channels, args.window_minutes)
        print(f"window memory loop at 256^2, {res['minutes']} min, {res['frames_drawn']} frames drawn:")
        print(f"  RSS (s, MiB): {res['rss_mib']}")
        print(f"  growth after the first minute: {res['growth_after_first_minute_mib']:.1f} MiB")
        path = args.json.with_name("video_playback_memory.json") if args.json.name == "video.json" else args.json
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(res, indent=2))
        print(f"wrote {path}")
        return 0
    if args.window:
        res = window_playback(
            args.video, args.sizes, args.depth, args.channels, args.seconds, args.reps, args.stub_compute
        )
        res["load_before"] = os.getloadavg() if hasattr(os, "getloadavg") else None
        res["machine"] = {"cpus": os.cpu_count(), "platform": platform.platform()}
        print(
            f"window playback, depth {args.depth}, torch threads {res['torch_threads']}, "
            f"OMP_NUM_THREADS {res['omp_num_threads']}, decoder threads 1"
        )
        print(f"  clip: {res['clip']} at {res['clip_fps']:g} fps; compute: {res['compute']}")
        print(f"  resident memory (s, MiB) after each run: {res['rss_mib']}")
        for key, r in res["runs"].items():
            print(
                f"  {key:>16}: {r['fps']:6.1f} fps (runs {r['fps_runs']}), compute {r['compute_ms']:.0f} ms, "
                f"draw {r['draw_ms']:.0f} ms, dropped {r['dropped']:.0f}; CPU per frame: GUI thread "
                f"{r['gui_cpu_ms']:.1f} ms, compute thread {r['compute_thread_cpu_ms']:.1f} ms, decoder "
                f"{r['decode_thread_cpu_ms']:.1f} ms, process {r['process_cpu_ms']:.1f} ms; compute > 16.7 ms "
                f"{r['late_frames_pct']:.0f} %; curves redraw {r['curves_redraw_ms']:.1f} ms "
                f"({r['curves_redraws_per_s']:.1f}/s), over-time paints {r['overtime_paint_ms_per_s']:.0f} ms/s"
            )
        name = "video_playback_stub.json" if args.stub_compute else "video_playback.json"
        path = args.json.with_name(name) if args.json.name == "video.json" else args.json
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(res, indent=2))
        print(f"wrote {path}")
        return 0
    from cnnviz.core.device import configure_threads

    policy = configure_threads(args.threads)
    print(f"threads: {policy.describe()}", flush=True)
    if args.beside_gui:
        sys.setswitchinterval(
            float(os.environ.get("CNNVIZ_SWITCH_MS", "0.2")) / 1e3
        )  # the window's (cnnviz.gui.worker)
        found = [beside_gui(args.video, size, args.depth, args.channels, 60) for size in args.sizes]
        for r in found:
            print(
                f"  {r['size']}^2 depth {r['depth']}, engine.run per frame (playback): alone {r['alone_ms']:.2f} ms "
                f"(p90 {r['alone_p90_ms']:.2f}), beside a thread busy {r['busy_ms_per_16_7_ms']:g} of every 16.7 ms "
                f"{r['beside_ms']:.2f} ms (p90 {r['beside_p90_ms']:.2f}): {r['slowdown']:.2f}x"
            )
        out = {"runs": found, "threads": policy.describe(), "load_before": os.getloadavg()}
        path = args.json.with_name("video_beside_gui.json") if args.json.name == "video.json" else args.json
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(out, indent=2))
        print(f"wrote {path}")
        return 0
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None

    with VideoReader(args.video, size=None) as reader:
        info = reader.info
    print(f"video: {info.describe()}")
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs, "
        f"{platform.processor() or platform.machine()}, load average {load_before}"
    )
    rows = []
    print(
        f"{'size':>5} {'fps':>7} {'decode ms':>10} {'compute ms':>11} {'decode fps':>11} {'compute fps':>12}"
        f" {'stats-only fps':>15} {'stats-only ms':>14}"
    )
    for size in args.sizes:
        row = throughput(args.video, size, args.depth, args.channels, args.passes)
        rows.append(row)
        print(
            f"{size:>5} {row['fps']:>7.1f} {row['decode_ms_per_frame']:>10.2f} {row['compute_ms_per_frame']:>11.2f} "
            f"{row['decode_fps']:>11.1f} {row['compute_fps']:>12.1f} {row['stats_only_fps']:>15.1f} "
            f"{row['stats_only_ms_per_frame']:>14.2f}"
        )
    cli = [cli_path(args.video, size, args.depth, args.channels) for size in args.sizes]
    for row in cli:
        print(
            f"`cnnviz stats VIDEO --every 1` loop at {row['size']}^2: {row['fps']:.1f} fps over {row['frames']} frames "
            "(decoded one frame ahead on a thread)"
        )
    vnet = video_net_timing(args.video, 256, args.depth, args.channels)
    print(
        f"video network, 8 frames of 256^2, stride 2: {vnet['ms_per_window']:.1f} ms per window "
        f"({vnet['multiplies']:,} multiplies; window {vnet['clip_bytes'] / 2**20:.1f} MiB)"
    )
    mem = memory_loop(args.video, args.minutes, 256, args.depth, args.channels)
    print(
        f"memory over {args.minutes:g} min ({mem['passes']} passes, {mem['frames']} frames at 256^2): RSS "
        f"{mem['rss_after_first_pass_mib']:.1f} MiB after the first pass, {mem['rss_end_mib']:.1f} MiB at the end "
        f"(min {mem['rss_min_mib']:.1f}, max {mem['rss_max_mib']:.1f})"
    )
    result = {
        "video": dataclasses.asdict(info),
        "machine": {
            "cpus": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_before": load_before,
            "load_average_after": os.getloadavg() if hasattr(os, "getloadavg") else None,
        },
        "throughput": rows,
        "cli_loop": cli,
        "video_net": vnet,
        "memory": mem,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
