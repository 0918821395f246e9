"""A Result as text and as strict JSON: what `cnnviz stats` prints and the JSON export (cnnviz.export.data) writes."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import numpy as np

from .core.result import LayerStats, Result
from .numtext import cell as _g


def _clean(obj: Any, counter: list[int]) -> Any:
    """Replace non-finite floats by None (counting them) and numpy values by Python ones."""
    if isinstance(obj, dict):
        return {(",".join(map(str, k)) if isinstance(k, tuple) else str(k)): _clean(v, counter) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v, counter) for v in obj]
    if isinstance(obj, np.ndarray):
        return _clean(obj.tolist(), counter)
    if isinstance(obj, (np.floating, float)):
        value = float(obj)
        if math.isfinite(value):
            return value
        counter[0] += 1
        return None
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    return obj


def strict_json(obj: Any, indent: int | None = 2) -> str:
    """JSON that any parser accepts: NaN and inf become null; the count is added to a dict
    as ``"nonfinite_replaced"``."""
    counter = [0]
    cleaned = _clean(obj, counter)
    if isinstance(cleaned, dict):
        cleaned["nonfinite_replaced"] = counter[0]
    return json.dumps(cleaned, indent=indent, allow_nan=False)


def _layer_dict(st: LayerStats, with_hist: bool) -> dict[str, Any]:
    d = {f.name: getattr(st, f.name) for f in dataclasses.fields(st) if with_hist or not f.name.startswith("hist_")}
    d["shape"] = list(st.shape)
    return d


def result_to_dict(result: Result, with_hist: bool = False) -> dict[str, Any]:
    """Everything numeric in ``result`` as plain Python (display maps left out)."""
    out: dict[str, Any] = {
        "settings": result.settings.to_dict(),
        "device": result.device,
        "source": result.source,
        "warnings": list(result.warnings),
        "timings_ms": result.timings,
    }
    if result.pyramid is not None:
        p = result.pyramid
        out["pyramid"] = {
            "k": p.k,
            "depth": p.depth,
            "init_var": p.init_var,
            "fan_in": p.fan_in,
            "equivariance": p.equivariance,
            "layers": [_layer_dict(st, with_hist) for st in p.layers],
        }
    if result.residual is not None:
        r = result.residual
        out["residual"] = {
            "depth": r.depth,
            "init_var": r.init_var,
            "input": r.input_kind,
            "theory_var": r.theory_var,
            "theory_grad_var": r.theory_grad_var,
            "layers": [_layer_dict(st, with_hist) for st in r.layers],
        }
    if result.unit is not None:
        u = result.unit
        out["unit"] = {
            "dim": u.dim,
            "init_var": u.init_var,
            "activation": u.activation,
            "samples": int(u.u.size),
            "mean_u": float(np.mean(u.u)),
            "var_u": float(np.var(u.u)),
            "var_y": float(np.var(u.y)),
            "var_y_theory": u.var_y_theory,
            "mean_u_theory": u.mean_u_theory,
            "var_u_bound": u.var_u_bound,
        }
    if result.video is not None:
        v = result.video
        out["video"] = {
            "depth": v.depth,
            "stride": v.stride,
            "kernel": v.kernel,
            "kernel_t": v.kernel_t,
            "window": v.window,
            "frames": list(v.frames),
            "still": v.still,
            "init_vars": list(v.init_vars),
            "total_multiplies": v.total_multiplies,
            "layers": [_layer_dict(layer.stats, with_hist) for layer in v.layers],
        }
    if result.costs:
        out["costs"] = [
            {
                "level": c.level,
                "scale": c.scale,
                "shape": list(c.shape),
                "multiplies": c.multiplies,
                "multiplies_left": c.multiplies_left,
                "multiplies_up": c.multiplies_up,
                "torch_flops": c.torch_flops if c.torch_flops >= 0 else None,
            }
            for c in result.costs
        ]
        out["total_multiplies"] = result.total_multiplies
    return out


def _shape(st: LayerStats) -> str:
    return "x".join(map(str, st.shape))


def layer_table(result: Result) -> str:
    """The per-layer table of ``cnnviz stats``, theory beside each measured value."""
    lines: list[str] = []
    if result.source:
        lines.append(f"input: {result.source}")
    s = result.settings
    if result.pyramid is not None:
        p = result.pyramid
        lines.append(
            f"scale-shared network: k={p.k} depth={p.depth} J={s.channels} D={s.kernel} {s.activation}, "
            f"sigma_w^2={p.init_var:.4g} (gain {p.init_var * p.fan_in:.3g}), "
            f"{'shared' if s.shared else 'UNSHARED'} weights, seed {s.seed}, {result.device}"
        )
        head = (
            f"{'l':>2} {'s':>2} {'shape':>14} {'mean':>10} {'var':>10} {'var(th)':>10} "
            f"{'grad var':>10} {'gradRMS':>10} {'RMS(th)':>10} {'zeros':>6} {'multiplies':>12} {'nonfin':>7}"
        )
        lines += [head, "-" * len(head)]
        for st in p.layers:
            lines.append(
                f"{st.level:>2} {st.scale:>2} {_shape(st):>14} {_g(st.mean)} {_g(st.var)} {_g(st.theory_var)} "
                f"{_g(st.grad_var)} {_g(st.grad_rms)} {_g(st.theory_grad_rms)} {st.zero_frac:>6.1%} "
                f"{st.multiplies:>12,} {st.nonfinite:>7}"
            )
        eq = ", ".join(f"l{l}: {_g(v, 0)}" for l, v in enumerate(p.equivariance) if not math.isnan(v))
        lines.append(f"equivariance max|L'(l,s) - L(l,s+1)| / max|L(l,s+1)|: {eq}")
    if result.residual is not None:
        r = result.residual
        lines.append(
            f"residual stack (Problem 5): depth={r.depth} J={s.channels} D={s.kernel} {s.residual_activation}, "
            f"sigma_w^2={r.init_var:.4g}, input {r.input_kind}, {result.device}"
        )
        if s.residual_activation != "identity":
            lines.append("(theory columns are Problem 5's closed forms, exact only for the identity branch)")
        head = (
            f"{'l':>3} {'shape':>14} {'mean':>10} {'var':>10} {'var(th)':>10} {'grad var':>10} "
            f"{'gvar(th)':>10} {'nonfin':>7}"
        )
        lines += [head, "-" * len(head)]
        for st, tv, tg in zip(r.layers, r.theory_var, r.theory_grad_var):
            lines.append(
                f"{st.level:>3} {_shape(st):>14} {_g(st.mean)} {_g(st.var)} {_g(float(tv))} "
                f"{_g(st.grad_var)} {_g(float(tg))} {st.nonfinite:>7}"
            )
    if result.costs:
        lines.append(f"total multiplies (Problem 1, B X Y dX dY I J per branch): {result.total_multiplies:,}")
    for w in result.warnings:
        lines.append(f"warning: {w}")
    t = result.timings
    lines.append("time: " + ", ".join(f"{k} {v:.1f} ms" for k, v in t.items()))
    return "\n".join(lines)
