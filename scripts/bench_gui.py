#!/usr/bin/env python
"""Benchmark of the window (not a test): slider-to-pixels latency and cold start.

Slider-to-pixels, at 256^2 and 512^2, depth 8, J = 16, offscreen at 1600x900, per result from
its request to its pixels (drawn and painted), with the medians of its parts: the engine, the
window's drawing, the paint, and the hand-over (the request, the worker taking it, the result
reaching the GUI thread):
- single steps (a key press or a click on the track): one change at a time, each on screen
  before the next;
- a drag, as the mouse does it: the init-variance slider held down, one step every 16 ms for
  2 s, then let go. The maps follow every result; while the slider is held the curves are drawn
  and the equivariance pass asked for at most ten times a second (gui/pacing.py). Also: the
  longest the GUI thread went without handling events (a freeze shows there), and how long
  after the slider was let go the window shows the whole result (curves and equivariance).

Cold start: a fresh Python process until the first result is drawn in a shown window.

Prints the figures and writes JSON (default bench-results/gui.json).

    scripts/bench_gui.py [--repeats 30] [--out bench-results/gui.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COLD_START_CHILD = r"""
import os, sys, time
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ["CNNVIZ_CONFIG_DIR"] = sys.argv[1]
from PySide6.QtWidgets import QApplication
app = QApplication([])
from cnnviz.gui.main_window import MainWindow
from cnnviz.settings import Settings
w = MainWindow(Settings(), store=None)
w.resize(1600, 900)
w.show()
app.processEvents()  # the first paint, before any result
print(f"SHOWN {time.time():.6f} torch_loaded={'torch' in sys.modules}", flush=True)
def drawn(gen, result):
    app.processEvents()  # the paint
    print(f"DRAWN {time.time():.6f}", flush=True)
    w.shutdown()
    app.quit()
w.result_drawn.connect(drawn)
app.exec()
"""


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    i = min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))
    return s[i]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(values), 1),
        "p95_ms": round(percentile(values, 95), 1),
        "min_ms": round(min(values), 1),
        "max_ms": round(max(values), 1),
        "n": len(values),
    }


def bench_latency(size: int, repeats: int) -> dict:
    from PySide6.QtWidgets import QApplication

    from cnnviz.gui.main_window import MainWindow
    from cnnviz.settings import Settings

    app = QApplication.instance() or QApplication([])
    window = MainWindow(Settings(size=size, depth=8, channels=16), store=None)
    window.resize(1600, 900)
    window.show()
    deadline = time.time() + 120
    drawn: list[tuple[int, dict, float]] = []  # generation, the window's timings, when drawn
    window.result_drawn.connect(
        lambda gen, r: drawn.append((gen, dict(window.timings), time.perf_counter())) if r is not None else None
    )

    def wait_drawn() -> None:
        while window.drawn_generation < window.worker.latest_generation:
            app.processEvents()
            time.sleep(0.0005)
            if time.time() > deadline:
                raise RuntimeError("no result in time")
        app.processEvents()  # paint what changed

    def breakdown(rows: list[tuple[dict, float]]) -> dict:
        """rows: (timings, paint ms) per result: the median of each part of slider-to-pixels."""
        total = [t["latency_ms"] + paint for t, paint in rows]
        engine = [t["compute_ms"] for t, _ in rows]
        draw = [t["draw_ms"] for t, _ in rows]
        paint = [p for _, p in rows]
        wait = [a - b - c - d for a, b, c, d in zip(total, engine, draw, paint)]
        return {
            "slider_to_pixels": summary(total),
            "engine_compute": summary(engine),
            "draw": summary(draw),
            "paint": summary(paint),
            "handover": summary(wait),  # the request, the worker taking it, the result reaching the GUI
        }

    wait_drawn()
    slider = window.controls.init.slider
    # 1. Single steps (a key press, or a click on the slider's track): one at a time, each drawn
    # and painted before the next.
    steps: list[tuple[dict, float]] = []
    for i in range(repeats + 3):
        deadline = time.time() + 120
        slider.setValue(slider.value() + (1 if i % 2 == 0 else -1))
        n = len(drawn)
        while window.drawn_generation < window.worker.latest_generation:
            app.processEvents()
            time.sleep(0.0005)
            if time.time() > deadline:
                raise RuntimeError("no result in time")
        t_drawn = drawn[-1][2] if len(drawn) > n else time.perf_counter()
        app.processEvents()  # the paint
        if i >= 3:  # warm-up done
            steps.append((drawn[-1][1], (time.perf_counter() - t_drawn) * 1e3))

    # 2. A drag, as the mouse does it: the slider held down, one step every 16 ms for 2 s, let
    # go. Per result drawn: from its request to its pixels; and the longest the GUI thread went
    # without handling events (a freeze would show there).
    dragged: list[tuple[dict, float]] = []
    shown_before = window.drawn_generation
    slider.setSliderDown(True)
    start = time.perf_counter()
    last_tick = start
    longest_stall = 0.0
    next_step = start
    n_steps = 0
    while time.perf_counter() - start < 2.0:
        now = time.perf_counter()
        if now >= next_step:
            slider.setValue(slider.value() + 1)
            n_steps += 1
            next_step += 0.016
        n = len(drawn)
        app.processEvents()
        if len(drawn) > n:  # a result was drawn: its paint comes next, as in the event loop
            app.processEvents()
            painted = time.perf_counter()
            dragged += [(t, (painted - at) * 1e3) for _, t, at in drawn[n:]]
        now2 = time.perf_counter()
        longest_stall = max(longest_stall, now2 - last_tick)
        last_tick = now2
        time.sleep(0.001)
    released = time.perf_counter()
    slider.setSliderDown(False)  # let go: the result on screen is made whole (curves, equivariance)
    deadline = time.time() + 120
    while not (
        window.worker.is_idle()
        and window.drawn_generation >= window.worker.latest_generation
        and window.result.settings == window.settings
        and window.result.profile.equivariance
    ):
        app.processEvents()
        time.sleep(0.0005)
        if time.time() > deadline:
            raise RuntimeError("no whole result after the drag")
    app.processEvents()
    settled_ms = (time.perf_counter() - released) * 1e3
    window.shutdown()
    window.close()
    return {
        "size": size,
        "depth": 8,
        "channels": 16,
        "steps": breakdown(steps),
        "drag_2s": {
            "steps": n_steps,
            "results_shown": len(dragged),
            "longest_gui_stall_ms": round(longest_stall * 1e3, 1),
            **breakdown(dragged),
            "whole_after_release_ms": round(settled_ms, 1),
        },
        "device": window.result.device if window.result else "?",
        "generations": window.drawn_generation - shown_before,
    }


def cold_start_once(root: Path = ROOT) -> tuple[float, float]:
    """(ms to the window's first paint, ms to the first result drawn) of a fresh process
    running the window from the tree at ``root``."""
    with tempfile.TemporaryDirectory() as cfg:
        t0 = time.time()
        proc = subprocess.run(
            [sys.executable, "-c", COLD_START_CHILD, cfg],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "PYTHONPATH": str(root)},
        )
        stamps = {
            l.split()[0]: float(l.split()[1]) for l in proc.stdout.splitlines() if l.startswith(("SHOWN", "DRAWN"))
        }
        if "DRAWN" not in stamps:
            raise RuntimeError(f"cold start failed: {proc.stderr[-500:]}")
        return (stamps.get("SHOWN", stamps["DRAWN"]) - t0) * 1e3, (stamps["DRAWN"] - t0) * 1e3


def bench_cold_start(repeats: int) -> dict:
    shown, times = [], []
    for _ in range(repeats):
        s, d = cold_start_once()
        shown.append(s)
        times.append(d)
    return {
        "settings": "defaults (256^2, depth 6, J 16), 1600x900 offscreen",
        **summary(times),
        "window_shown": summary(shown),
    }


def main() -> int:
    ap = argparse.ArgumentParser(
        allow_abbrev=False, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--repeats", type=int, default=30, help="slider steps timed per size (default 30)")
    ap.add_argument("--cold", type=int, default=3, help="cold starts timed (default 3)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    ap.add_argument("--out", default=str(ROOT / "bench-results" / "gui.json"))
    args = ap.parse_args()

    from cnnviz.core.device import torch_threads

    results = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "qt_platform": os.environ.get("QT_QPA_PLATFORM"),
            "torch_threads": torch_threads(),
        },
        "latency": [],
        "cold_start": None,
    }
    for size in args.sizes:
        r = bench_latency(size, args.repeats)
        results["latency"].append(r)
        for what, b in (("single steps", r["steps"]), ("in a 2 s drag", r["drag_2s"])):
            s = b["slider_to_pixels"]
            print(
                f"{size}^2 depth 8 J 16, {what}: slider-to-pixels median {s['median_ms']} ms, p95 {s['p95_ms']} ms "
                f"(medians: engine {b['engine_compute']['median_ms']}, draw {b['draw']['median_ms']}, "
                f"paint {b['paint']['median_ms']}, hand-over {b['handover']['median_ms']} ms)",
                flush=True,
            )
        d = r["drag_2s"]
        print(
            f"  drag: {d['steps']} steps, {d['results_shown']} results shown, longest GUI stall "
            f"{d['longest_gui_stall_ms']} ms, whole (curves, equivariance) {d['whole_after_release_ms']} ms after "
            "the slider was let go",
            flush=True,
        )
    c = bench_cold_start(args.cold) if args.cold > 0 else None
    results["cold_start"] = c
    if c is not None:
        print(
            f"cold start: window painted after {c['window_shown']['median_ms']} ms, first result drawn after "
            f"{c['median_ms']} ms (medians of {c['n']}; min {c['min_ms']}, max {c['max_ms']}); "
            f"load average {os.getloadavg()[0]:.1f}"
        )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
