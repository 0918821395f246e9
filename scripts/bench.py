#!/usr/bin/env python
"""Benchmark the core engine against the plain loop a user would write in a notebook.

Prints a table per size, depth and thread count and writes JSON (default
bench-results/core.json). Not a test: figures depend on the machine, so they are reported,
never asserted. The thread counts are interleaved with the cases inside one process
(``torch.set_num_threads`` between runs), so drift on a shared host hits every figure alike;
each figure is a median, reported beside the thread count and as ratios. CPU time (the
process's, all threads) is printed beside wall time: with one thread it is what the run
cost when the host's other tenants took the core away in between.

For each size and depth (default 512^2, depth 8; J = 16, D = 3), interleaved repeats of:
  engine fwd+bwd      the engine's own network path: forward, gradients w.r.t. every L_{l,s}
                      from N(0,1) injected at the top (no backward through level 1, no weight
                      gradients); the denominator of the engine.run ratios
  run interactive     engine.run, interactive profile, one histogram (the selected cell),
                      display maps and the equivariance pass
  run interactive-eq  the same with the equivariance panel hidden (equivariance=False)
  run serial          interactive with every stage on the calling thread (side_thread=False, the window's way while frames stream):
                      where torch leaves a core idle (1 thread on 2 cores) engine.run does the
                      gradient-free work (level-0 statistics, theory, display maps, equivariance)
                      on a second thread beside the backward pass; this is the run without it
  run stats           engine.run, numbers only (the CLI's profile)
  public net fwd+bwd  cnnviz.core's image_pyramid + ScaleSharedNet as a notebook uses them:
                      NCHW input, forward, gradient to the input image
  loop fwd+bwd        the plain loop: the seed's 2x2-mean pyramid and one F.conv2d pair per
                      (l, s) with the same weights, NCHW, gradient to the input image
  loop fwd            the plain loop's forward alone (effective GFLOP/s against matmul)
Effective GFLOP/s counts 2 FLOPs per multiply of the forward convolutions (Problem 1's count),
set against this machine's own float32 matmul GFLOP/s at the same thread count.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from cnnviz.core import engine  # noqa: E402
from cnnviz.core.cost import scale_net_costs  # noqa: E402
from cnnviz.core.device import available_cores, configure_threads  # noqa: E402
from cnnviz.core.pyramid import image_pyramid  # noqa: E402
from cnnviz.core.scale_net import ScaleSharedNet  # noqa: E402
from cnnviz.io.images import load_image  # noqa: E402
from cnnviz.paths import SAMPLE_IMAGE  # noqa: E402
from cnnviz.settings import Settings  # noqa: E402


def matmul_gflops(n: int = 1024, reps: int = 20) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t)
    return 2 * n**3 / statistics.median(times) / 1e9


def plain_pyramid(x):
    """The seed's formula as a notebook writes it (autograd's own backward)."""
    pyr = [x]
    while pyr[-1].shape[-1] > 1:
        i = pyr[-1]
        pyr.append((i[..., ::2, ::2] + i[..., ::2, 1::2] + i[..., 1::2, ::2] + i[..., 1::2, 1::2]) * 0.25)
    return pyr


def loop_forward(pyr, w_left, w_up, bias, depth, p):
    layers = [pyr]
    for i in range(depth):
        prev = layers[-1]
        layers.append(
            [
                torch.relu(
                    F.conv2d(prev[s + 1], w_left[i], padding=p)
                    + F.conv2d(prev[s], w_up[i], bias[i], stride=2, padding=p)
                )
                for s in range(len(prev) - 1)
            ]
        )
    return layers


def bench(size: int, depth: int, reps: int, threads: list[int], channels: int = 16, kernel: int = 3) -> list[dict]:
    frame, _ = load_image(SAMPLE_IMAGE, size)
    settings = Settings(size=size, depth=depth, channels=channels, kernel=kernel, device="cpu")
    x = engine.to_network_input(frame)  # NCHW, as a notebook has it
    # the engine's own network, built as engine.run builds it; the public one is a fresh module
    net = engine._scale_net(channels, depth, kernel, "relu", "he", True, 0, 12, "cpu")
    public = ScaleSharedNet(3, channels, depth, kernel, "relu", "he", True, 0)
    x_engine = engine._network_input_nhwc(frame)
    w_left = [w.detach().clone() for w in net.w_left]
    w_up = [w.detach().clone() for w in net.w_up]
    bias = [b.detach().clone() for b in net.bias]
    p = kernel // 2
    gen = torch.Generator().manual_seed(1)
    top_shapes = [m.shape for m in net(image_pyramid(x))[depth]]
    g_top = [torch.randn(s, generator=gen) for s in top_shapes]
    selected = (depth, 0)

    def engine_fwd_bwd():
        layers = net(image_pyramid(x_engine), grad_from_level=1)
        torch.autograd.grad(layers[depth], [m for lv in layers[1:] for m in lv], grad_outputs=g_top)

    def public_fwd_bwd():
        xi = x.clone().requires_grad_()
        layers = public(image_pyramid(xi))
        torch.autograd.grad(layers[depth], xi, grad_outputs=g_top)

    def loop_fwd_bwd():
        xi = x.clone().requires_grad_()
        layers = loop_forward(plain_pyramid(xi), w_left, w_up, bias, depth, p)
        torch.autograd.grad(layers[depth], xi, grad_outputs=g_top)

    def serial():
        engine.run(settings, frame, selected=selected, side_thread=False)

    def loop_fwd():
        with torch.no_grad():
            loop_forward(plain_pyramid(x), w_left, w_up, bias, depth, p)

    cases = {
        "engine fwd+bwd": engine_fwd_bwd,
        "run interactive": lambda: engine.run(settings, frame, selected=selected),
        "run interactive-eq": lambda: engine.run(settings, frame, selected=selected, equivariance=False),
        "run serial": serial,
        "run stats": lambda: engine.run(settings, frame, profile="stats"),
        "public net fwd+bwd": public_fwd_bwd,
        "loop fwd+bwd": loop_fwd_bwd,
        "loop fwd": loop_fwd,
    }
    times = {(n, name): [] for n in threads for name in cases}
    cpu = {(n, name): [] for n in threads for name in cases}
    stages: dict[int, list[dict]] = {n: [] for n in threads}
    for n in threads:  # warm up allocator and kernels at every thread count
        torch.set_num_threads(n)
        for fn in cases.values():
            fn()
    names = list(cases)
    for rep in range(reps):  # interleaved: drift and neighbours hit every case and thread count alike
        for n in threads:
            torch.set_num_threads(n)
            loop_fwd()  # untimed: the first parallel region after a thread-count change pays for the pool
            order = names[rep % len(names) :] + names[: rep % len(names)]  # no case always runs first
            for name in order:
                fn = cases[name]
                c, t = time.process_time(), time.perf_counter()
                fn()
                times[n, name].append((time.perf_counter() - t) * 1e3)
                cpu[n, name].append((time.process_time() - c) * 1e3)
            stages[n].append(engine.run(settings, frame, selected=selected).timings)
    mults = sum(r.multiplies for r in scale_net_costs(settings.k, depth, channels, kernel))
    rows = []
    for n in threads:
        torch.set_num_threads(n)
        med = {name: statistics.median(times[n, name]) for name in cases}
        med_cpu = {name: statistics.median(cpu[n, name]) for name in cases}
        fb, fb_cpu = med["engine fwd+bwd"], med_cpu["engine fwd+bwd"]
        runs = ("run interactive", "run interactive-eq", "run serial", "run stats")
        rows.append(
            {
                "size": size,
                "depth": depth,
                "channels": channels,
                "kernel": kernel,
                "torch_threads": n,
                "side_thread": n < available_cores(),  # engine.run's gradient-free work beside the backward
                "reps": reps,
                "forward_multiplies": mults,
                "matmul_gflops": matmul_gflops(),
                "median_ms": med,
                "p90_ms": {name: float(np.percentile(times[n, name], 90)) for name in cases},
                "loop_fwd_gflops": 2 * mults / (med["loop fwd"] * 1e-3) / 1e9,
                "cpu_median_ms": med_cpu,
                "run_over_fwd_bwd": {k: med[k] / fb for k in runs},
                "run_over_fwd_bwd_cpu": {k: med_cpu[k] / fb_cpu for k in runs},
                "public_over_loop": med["public net fwd+bwd"] / med["loop fwd+bwd"],
                "public_over_loop_cpu": med_cpu["public net fwd+bwd"] / med_cpu["loop fwd+bwd"],
                "interactive_stages_ms": {k: statistics.median(s.get(k, 0.0) for s in stages[n]) for k in stages[n][0]},
            }
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(
        allow_abbrev=False, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--sizes", type=int, nargs="+", default=[512])
    ap.add_argument("--depths", type=int, nargs="+", default=[8])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="torch thread counts, interleaved")
    ap.add_argument("--json", default=str(ROOT / "bench-results" / "core.json"))
    args = ap.parse_args()
    policy = configure_threads()  # the app's policy: numpy's BLAS capped, interop threads 1
    threads = sorted({max(1, min(n, available_cores())) for n in args.threads})
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    info = {
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpus": os.cpu_count(),
        "cores_available": available_cores(),
        "app_policy": policy.describe(),
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "load_average_before": load,
    }
    print(
        f"torch {info['torch']}, {info['cores_available']} cores; app policy: {policy.describe()}; "
        f"load average {load[0]:.1f}" + (" (a shared host: compare ratios, not absolute times)" if load else "")
    )
    rows = []
    for size in args.sizes:
        for depth in args.depths:
            for r in bench(size, depth, args.reps, threads):
                rows.append(r)
                m = r["median_ms"]
                print(
                    f"\n{size}^2 depth {depth} J 16 D 3, {r['torch_threads']} torch thread(s) "
                    f"({r['forward_multiplies'] / 1e6:.0f} M multiplies; matmul {r['matmul_gflops']:.0f} GFLOP/s; "
                    f"side thread {'on' if r['side_thread'] else 'off'}), "
                    f"median of {args.reps} interleaved runs:"
                )
                for name, v in m.items():
                    print(
                        f"  {name:20s} {v:8.1f} ms  (p90 {r['p90_ms'][name]:.1f}; CPU time {r['cpu_median_ms'][name]:.1f})"
                    )
                g = r["loop_fwd_gflops"]
                print(f"  loop forward: {g:.1f} GFLOP/s effective, {100 * g / r['matmul_gflops']:.0f}% of matmul")
                print(
                    "  engine.run / its own fwd+bwd (wall; CPU time): "
                    + ", ".join(
                        f"{k.removeprefix('run ')} {v:.2f}x; {r['run_over_fwd_bwd_cpu'][k]:.2f}x"
                        for k, v in r["run_over_fwd_bwd"].items()
                    )
                )
                print(
                    f"  public ScaleSharedNet / plain loop, fwd+bwd to the image: {r['public_over_loop']:.2f}x "
                    f"(CPU time {r['public_over_loop_cpu']:.2f}x)"
                )
                print(
                    "  run interactive stages: "
                    + ", ".join(f"{k} {v:.1f}" for k, v in r["interactive_stages_ms"].items())
                )
    info["load_average_after"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": info, "results": rows}, indent=2))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
