#!/usr/bin/env python
"""Benchmark cancel: how long a newer request waits for a running one to stop.

A heavy run (default 1024^2, J 256, D 15, depth 3) is started on a thread, as the window's
worker does, and cancelled ``--after`` seconds later (by then it is inside one convolution of
level 1 or 2, some 1e11 to 2e12 multiplies). The figure is the time from the cancel to
``engine.run`` returning (``Cancelled``): when the newest request can start. Each landing point
is measured with the pieces (cnnviz.core.strips) and without them (one torch call per
convolution, as before), interleaved. ``--at-progress 0.6`` cancels once the run reports 60 %
done instead: inside the backward pass (the forward is about 51 % of the multiplies). First,
one layer's convolutions (``--throughput`` N: output N x N) are timed whole and in pieces,
interleaved, forward and backward: the split must not cost speed. Prints a table and writes JSON (default
bench-results/cancel.json); figures are reported, never asserted.

Usage: python scripts/bench_cancel.py [--size 1024] [--channels 256] [--kernel 15] [--after 5] [--at-progress 0.6]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cnnviz.cli import limit_native_threads  # noqa: E402

limit_native_threads()
import numpy as np  # noqa: E402
import torch  # noqa: E402

from cnnviz.core import budget, engine, strips  # noqa: E402
from cnnviz.core.device import configure_threads  # noqa: E402
from cnnviz.settings import Settings  # noqa: E402


def one(settings: Settings, frame: np.ndarray, after: float, split: bool, at_progress: float = 0.0) -> dict:
    strips.STRIP_MULTIPLIES = DEFAULT_LIMIT if split else 10**30
    stop = threading.Event()
    box: dict = {"progress": 0.0}

    def target() -> None:
        try:
            engine.run(settings, frame, profile="stats", cancel=stop.is_set, progress=lambda f: box.update(progress=f))
            box["outcome"] = "finished"
        except engine.Cancelled:
            box["outcome"] = "cancelled"
        box["end"] = time.perf_counter()

    t = threading.Thread(target=target)
    t0 = time.perf_counter()
    t.start()
    t.join(after)
    while at_progress and box["progress"] < at_progress and t.is_alive():
        time.sleep(0.02)
    at = time.perf_counter()
    stop.set()
    t.join()
    return {
        "split": split,
        "after_s": after,
        "at_progress": at_progress,
        "cancelled_at_s": at - t0,
        "cancel_to_stop_s": box["end"] - at,
        "ran_s": box["end"] - t0,
        "outcome": box["outcome"],
        "progress_at_cancel": box["progress"],
    }


DEFAULT_LIMIT = strips.STRIP_MULTIPLIES


def throughput(n: int, channels: int, kernel: int, reps: int) -> list[dict]:
    """One layer's two convolutions (output n x n, J = I = channels), forward and backward, in one
    torch call each and in pieces, interleaved: does splitting cost speed?"""
    cl = torch.channels_last
    x = torch.randn(1, channels, n, n).contiguous(memory_format=cl).requires_grad_()
    f = torch.randn(1, channels, 2 * n, 2 * n).contiguous(memory_format=cl).requires_grad_()
    w = torch.randn(channels, channels, kernel, kernel).contiguous(memory_format=cl)
    g = torch.randn(1, channels, n, n).contiguous(memory_format=cl)
    rows = []
    for _ in range(reps):
        for limit in (10**30, DEFAULT_LIMIT):
            t0 = time.perf_counter()
            y = strips.conv_sum(((x, w, 1), (f, w, 2)), None, kernel // 2, limit=limit)
            t1 = time.perf_counter()
            torch.autograd.grad(y, [x, f], g)
            t2 = time.perf_counter()
            block, strip = strips.plan(strips.sum_multiplies([(x, w, 1), (f, w, 2)], n, n), channels, n, limit)
            rows.append(
                {
                    "split": limit == DEFAULT_LIMIT,
                    "block": block,
                    "rows": strip,
                    "forward_s": t1 - t0,
                    "backward_s": t2 - t1,
                }
            )
            print(
                f"one layer {n}^2 J {channels} D {kernel} {'pieces' if limit == DEFAULT_LIMIT else 'whole '} "
                f"({block} channels x {strip} rows): forward {t1 - t0:5.2f} s, backward {t2 - t1:5.2f} s",
                flush=True,
            )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--channels", type=int, default=256)
    ap.add_argument("--kernel", type=int, default=15)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--after", type=float, nargs="*", default=[5.0], help="cancel this many seconds in")
    ap.add_argument(
        "--at-progress",
        type=float,
        nargs="*",
        default=[0.6],
        help="cancel once the run reports this fraction done (past 0.51 is the backward pass)",
    )
    ap.add_argument("--throughput", type=int, default=128, help="output size of the one-layer speed check (0: skip)")
    ap.add_argument("--json", default=str(ROOT / "bench-results" / "cancel.json"))
    args = ap.parse_args()
    configure_threads()
    settings = Settings(size=args.size, channels=args.channels, kernel=args.kernel, depth=args.depth)
    est = budget.check(settings)
    print(f"{est.what}: {est.describe()}; torch threads {torch.get_num_threads()}, cores {os.cpu_count()}")
    frame = np.random.default_rng(0).random((args.size, args.size, 3), dtype=np.float32)
    engine.run(settings.replace(size=64, depth=3), frame[:64, :64].copy())  # torch's one-time costs
    speed = throughput(args.throughput, args.channels, args.kernel, 2) if args.throughput else []
    rows = []
    points = [(a, 0.0) for a in args.after] + [(0.0, f) for f in args.at_progress]
    for after, at_progress in points:
        for split in (False, True):
            row = one(settings, frame, after, split, at_progress)
            rows.append(row)
            print(
                f"cancel at {row['cancelled_at_s']:6.1f} s  {'pieces' if split else 'whole '}: "
                f"stopped {row['cancel_to_stop_s']:6.2f} s later ({row['outcome']}, progress {row['progress_at_cancel']:.0%})",
                flush=True,
            )
    out = {
        "settings": settings.to_dict(),
        "estimate": {"bytes": est.bytes, "multiplies": est.multiplies, "seconds": est.seconds},
        "strip_multiplies": DEFAULT_LIMIT,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "torch": torch.__version__},
        "rows": rows,
        "one_layer_speed": speed,
    }
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2))
    print(f"wrote {path}", flush=True)
    # a run cancelled inside torch leaves its threads mid-computation; they must not meet the
    # interpreter's exit (it can abort: "terminate called without an active exception"), as cnnviz.cli knows
    os._exit(0)


if __name__ == "__main__":
    main()
