#!/usr/bin/env python
"""Benchmark cancel: how long a newer request waits for a running one to stop.

A heavy run (default 1024^2, J 256, D 15, depth 3) is started on a thread, as the window's
worker does, and cancelled ``--after`` seconds later (by then it is inside one convolution of
level 1 or 2, some 1e11 to 2e12 multiplies). The figure is the time from the cancel to
``engine.run`` returning (``Cancelled``): when the newest request can start. Each landing point
is measured with the strips (cnnviz.core.strips) and without them (one torch call per
convolution, as before), interleaved. Prints a table and writes JSON (default
bench-results/cancel.json); figures are reported, never asserted.

Usage: python scripts/bench_cancel.py [--size 1024] [--channels 256] [--kernel 15] [--after 4 12]
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


def one(settings: Settings, frame: np.ndarray, after: float, split: bool) -> dict:
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
    at = time.perf_counter()
    stop.set()
    t.join()
    return {
        "split": split,
        "after_s": after,
        "cancel_to_stop_s": box["end"] - at,
        "ran_s": box["end"] - t0,
        "outcome": box["outcome"],
        "progress_at_cancel": box["progress"],
    }


DEFAULT_LIMIT = strips.STRIP_MULTIPLIES


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--channels", type=int, default=256)
    ap.add_argument("--kernel", type=int, default=15)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--after", type=float, nargs="+", default=[4.0, 12.0])
    ap.add_argument("--json", default=str(ROOT / "bench-results" / "cancel.json"))
    args = ap.parse_args()
    configure_threads()
    settings = Settings(size=args.size, channels=args.channels, kernel=args.kernel, depth=args.depth)
    est = budget.check(settings)
    print(f"{est.what}: {est.describe()}; torch threads {torch.get_num_threads()}, cores {os.cpu_count()}")
    frame = np.random.default_rng(0).random((args.size, args.size, 3), dtype=np.float32)
    engine.run(settings.replace(size=64, depth=3), frame[:64, :64].copy())  # torch's one-time costs
    rows = []
    for after in args.after:
        for split in (False, True):
            row = one(settings, frame, after, split)
            rows.append(row)
            print(
                f"cancel after {after:5.1f} s  {'strips' if split else 'whole '}: stopped {row['cancel_to_stop_s']:6.2f} s "
                f"later ({row['outcome']}, progress {row['progress_at_cancel']:.0%})",
                flush=True,
            )
    out = {
        "settings": settings.to_dict(),
        "estimate": {"bytes": est.bytes, "multiplies": est.multiplies, "seconds": est.seconds},
        "strip_multiplies": DEFAULT_LIMIT,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "torch": torch.__version__},
        "rows": rows,
    }
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
