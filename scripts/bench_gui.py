#!/usr/bin/env python
"""Benchmark of the window (not a test): slider-to-pixels latency and cold start.

Slider-to-pixels: the init-variance slider moves one step, and the clock stops when the new
result is drawn and painted (the window's pending paint events are processed). Measured one
change at a time, at 256^2 and 512^2, depth 8, J = 16, offscreen at 1600x900. A drag is also
simulated (one step every 16 ms for 2 s) to count the results shown and the longest the GUI
thread was ever busy without handling events (a freeze would show up there).

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

    def wait_drawn() -> None:
        while window.drawn_generation < window.worker.latest_generation:
            app.processEvents()
            time.sleep(0.0005)
            if time.time() > deadline:
                raise RuntimeError("no result in time")
        app.processEvents()  # paint what changed

    wait_drawn()
    slider = window.controls.init.slider
    latencies, compute, draw = [], [], []
    for i in range(repeats + 3):
        deadline = time.time() + 120
        t0 = time.perf_counter()
        slider.setValue(slider.value() + (1 if i % 2 == 0 else -1))  # what a drag step does
        wait_drawn()
        t1 = time.perf_counter()
        if i >= 3:  # warm-up done
            latencies.append((t1 - t0) * 1e3)
            compute.append(window.timings["compute_ms"])
            draw.append(window.timings["draw_ms"])

    # A drag: one slider step every 16 ms for 2 s; how many results reach the screen, and the
    # longest gap in the GUI thread's event handling.
    shown_before = window.drawn_generation
    drawn_count = [0]
    window.result_drawn.connect(lambda *_: drawn_count.__setitem__(0, drawn_count[0] + 1))
    start = time.perf_counter()
    last_tick = start
    longest_stall = 0.0
    next_step = start
    while time.perf_counter() - start < 2.0:
        now = time.perf_counter()
        if now >= next_step:
            slider.setValue(slider.value() + 1)
            next_step += 0.016
        app.processEvents()
        now2 = time.perf_counter()
        longest_stall = max(longest_stall, now2 - last_tick)
        last_tick = now2
        time.sleep(0.001)
    deadline = time.time() + 120
    wait_drawn()
    window.shutdown()
    window.close()
    return {
        "size": size,
        "depth": 8,
        "channels": 16,
        "slider_to_pixels": summary(latencies),
        "engine_compute": summary(compute),
        "draw": summary(draw),
        "drag_2s": {
            "steps": 125,
            "results_shown": drawn_count[0],
            "longest_gui_stall_ms": round(longest_stall * 1e3, 1),
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
        s = r["slider_to_pixels"]
        print(
            f"{size}^2 depth 8 J 16: slider-to-pixels median {s['median_ms']} ms, p95 {s['p95_ms']} ms "
            f"(engine {r['engine_compute']['median_ms']} ms, draw {r['draw']['median_ms']} ms, medians); "
            f"2 s drag: {r['drag_2s']['results_shown']} results shown, "
            f"longest GUI stall {r['drag_2s']['longest_gui_stall_ms']} ms",
            flush=True,
        )
    c = bench_cold_start(args.cold)
    results["cold_start"] = c
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
