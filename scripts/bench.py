#!/usr/bin/env python
"""Benchmark the core engine against the plain loop a user would write in a notebook.

Prints a table and writes JSON (default bench-results/core.json). Not a test: figures
depend on the machine, so they are reported, never asserted.

For each size (256, 512) and depth (6, 8), J = 16, D = 3, interleaved repeats of:
  engine fwd        ScaleSharedNet forward under inference_mode
  loop fwd          one F.conv2d pair per (l, s) with the same weights
  engine fwd+bwd    forward + gradients w.r.t. every L_{l,s} from N(0,1) injected at the top
                    (the engine's own path: no backward through level 1, no weight grads)
  loop fwd+bwd      the same forward, backward to the input image (input requires grad)
  engine.run        the full Result: fwd + bwd + float64 statistics, histograms, theory,
                    equivariance readout and display maps
Effective GFLOP/s counts 2 FLOPs per multiply of the forward convolutions (Problem 1's count),
set against this machine's own float32 matmul GFLOP/s.
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

import numpy as np
import torch
import torch.nn.functional as F

from cnnviz.core import engine
from cnnviz.core.cost import scale_net_costs
from cnnviz.core.pyramid import image_pyramid
from cnnviz.io.images import load_image
from cnnviz.paths import SAMPLE_IMAGE
from cnnviz.settings import Settings


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


def bench(size: int, depth: int, reps: int, channels: int = 16, kernel: int = 3) -> dict:
    frame, _ = load_image(SAMPLE_IMAGE, size)
    settings = Settings(size=size, depth=depth, channels=channels, kernel=kernel, device="cpu")
    x = engine.to_network_input(frame)
    # the engine's own network and layout (channels_last), built as engine.run builds it
    net = engine._scale_net(channels, depth, kernel, "relu", "he", True, 0, 12, "cpu")
    x_engine = x.contiguous(memory_format=torch.channels_last)
    w_left = [w.detach().clone() for w in net.w_left]
    w_up = [w.detach().clone() for w in net.w_up]
    bias = [b.detach().clone() for b in net.bias]
    p = kernel // 2
    gen = torch.Generator().manual_seed(1)
    pyr0 = image_pyramid(x)
    top_shapes = [m.shape for m in net(pyr0)[depth]]
    g_top = [torch.randn(s, generator=gen) for s in top_shapes]

    def engine_fwd():
        with torch.inference_mode():
            net(image_pyramid(x_engine))

    def loop_fwd():
        with torch.no_grad():
            loop_forward(image_pyramid(x), w_left, w_up, bias, depth, p)

    def engine_fwd_bwd():
        layers = net(image_pyramid(x_engine), grad_from_level=1)
        torch.autograd.grad(layers[depth], [m for lv in layers[1:] for m in lv], grad_outputs=g_top)

    def loop_fwd_bwd():
        xi = x.clone().requires_grad_()
        layers = loop_forward(image_pyramid(xi), w_left, w_up, bias, depth, p)
        torch.autograd.backward(layers[depth], grad_tensors=g_top)

    def engine_run():
        engine.run(settings, frame)

    cases = {
        "engine fwd": engine_fwd,
        "loop fwd": loop_fwd,
        "engine fwd+bwd": engine_fwd_bwd,
        "loop fwd+bwd": loop_fwd_bwd,
        "engine.run": engine_run,
    }
    for fn in cases.values():  # warm up allocator and kernels
        fn()
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(reps):  # interleaved, so drift and noise hit every case alike
        for name, fn in cases.items():
            t = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - t) * 1e3)
    stages = engine.run(settings, frame).timings
    mults = sum(r.multiplies for r in scale_net_costs(settings.k, depth, channels, kernel))
    med = {name: statistics.median(v) for name, v in times.items()}
    return {
        "size": size,
        "depth": depth,
        "channels": channels,
        "kernel": kernel,
        "reps": reps,
        "forward_multiplies": mults,
        "median_ms": med,
        "p90_ms": {name: float(np.percentile(v, 90)) for name, v in times.items()},
        "forward_gflops": {name: 2 * mults / (med[name] * 1e-3) / 1e9 for name in ("engine fwd", "loop fwd")},
        "engine_vs_loop_fwd_bwd": med["engine fwd+bwd"] / med["loop fwd+bwd"],
        "engine_run_stages_ms": stages,
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        allow_abbrev=False, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    ap.add_argument("--depths", type=int, nargs="+", default=[6, 8])
    ap.add_argument("--json", default="bench-results/core.json")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's own choice)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    info = {
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpus": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "python": sys.version.split()[0],
    }
    info["matmul_gflops"] = matmul_gflops()
    print(
        f"torch {info['torch']}, {info['torch_threads']} threads, {info['cpus']} CPUs; "
        f"float32 matmul {info['matmul_gflops']:.1f} GFLOP/s"
    )
    rows = []
    for size in args.sizes:
        for depth in args.depths:
            r = bench(size, depth, args.reps)
            rows.append(r)
            m = r["median_ms"]
            print(
                f"\n{size}^2 depth {depth} J 16 D 3 ({r['forward_multiplies'] / 1e6:.0f} M multiplies), "
                f"median of {args.reps} interleaved runs:"
            )
            for name, v in m.items():
                extra = ""
                if name in r["forward_gflops"]:
                    g = r["forward_gflops"][name]
                    extra = f"  {g:6.1f} GFLOP/s ({100 * g / info['matmul_gflops']:.0f}% of matmul)"
                print(f"  {name:15s} {v:8.1f} ms  (p90 {r['p90_ms'][name]:.1f}){extra}")
            print(f"  engine/loop fwd+bwd: {r['engine_vs_loop_fwd_bwd']:.2f}x")
            print("  engine.run stages: " + ", ".join(f"{k} {v:.1f}" for k, v in r["engine_run_stages_ms"].items()))
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": info, "results": rows}, indent=2))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
