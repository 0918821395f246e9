#!/usr/bin/env python
"""Profile one ``engine.run`` (not a test): where the time of a Result goes.

Runs ``engine.run`` at 512^2, depth 8, J 16, D 3 under torch.profiler after a warm-up and
prints the stage timings (median of --reps runs) and the operators by self CPU time; writes
JSON (default bench-results/profile.json).

    scripts/profile_engine.py [--threads 1] [--profile interactive] [--size 512] [--depth 8]
"""

from __future__ import annotations

import argparse
import inspect
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(
        allow_abbrev=False, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: the app's policy)")
    ap.add_argument("--profile", default="interactive")
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--depth", type=int, default=8)
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--rows", type=int, default=15)
    ap.add_argument("--selected", action="store_true", help="one histogram (the top level's), as the window asks")
    ap.add_argument("--no-equivariance", action="store_true", help="the equivariance panel hidden")
    ap.add_argument("--json", default=str(ROOT / "bench-results" / "profile.json"))
    args = ap.parse_args()

    import torch
    from torch.profiler import ProfilerActivity, profile

    from cnnviz.core import engine
    from cnnviz.io.images import load_image
    from cnnviz.paths import SAMPLE_IMAGE
    from cnnviz.settings import Settings

    try:
        from cnnviz.core.device import configure_threads

        policy = configure_threads(args.threads).describe()
    except ImportError:  # an older tree without the policy
        torch.set_num_threads(args.threads or 1)
        policy = f"{torch.get_num_threads()} torch thread(s)"
    frame, _ = load_image(SAMPLE_IMAGE, args.size)
    settings = Settings(size=args.size, depth=args.depth, channels=16, kernel=3, device="cpu")
    kw: dict = {"profile": args.profile} if "profile" in inspect.signature(engine.run).parameters else {}
    if kw and args.selected:
        kw["selected"] = (args.depth, 0)
    if kw and args.no_equivariance:
        kw["equivariance"] = False
    for _ in range(3):
        engine.run(settings, frame, **kw)
    totals, stages = [], []
    for _ in range(args.reps):
        t = time.perf_counter()
        r = engine.run(settings, frame, **kw)
        totals.append((time.perf_counter() - t) * 1e3)
        stages.append(r.timings)
    names = list(stages[0])
    median_stages = {n: round(statistics.median(s.get(n, 0.0) for s in stages), 2) for n in names}
    # torch.profiler records the calling thread: the side thread's work (where torch leaves a
    # core idle) is moved onto it for the operator table, so every operator shows.
    serial = {"side_thread": False} if "side_thread" in inspect.signature(engine.run).parameters else {}
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(5):
            engine.run(settings, frame, **kw, **serial)
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.rows)
    fb = median_stages.get("forward", 0.0) + median_stages.get("backward", 0.0)
    what = ", ".join(f"{k}={v}" for k, v in kw.items()) or "(no profiles: the full Result)"
    head = (
        f"engine.run {args.size}^2 depth {args.depth} J 16 D 3, {what}, {policy}: "
        f"median {statistics.median(totals):.1f} ms of {args.reps}, "
        f"{statistics.median(totals) / fb:.2f}x its own forward + backward ({fb:.1f} ms)"
    )
    print(head)
    print("stages (ms, medians): " + ", ".join(f"{k} {v}" for k, v in median_stages.items()))
    side = "" if not serial else " (every stage on the calling thread, so the profiler sees them all)"
    print(f"torch.profiler, 5 runs{side}, by self CPU time:")
    print(table)
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "summary": head,
                "median_ms": statistics.median(totals),
                "over_fwd_bwd": statistics.median(totals) / fb,
                "stages_ms": median_stages,
                "table": table,
            },
            indent=2,
        )
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
