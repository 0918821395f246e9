"""Per-layer statistics of activations and gradients, in float64.

float32 ``var()`` overflows in a deep residual stack long before the values themselves do
(a square of 2e19 is already inf), so every sum here is taken in float64. Non-finite values
are counted and left out of the moments, so one inf does not hide what the rest are doing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .result import HIST_BINS, LayerStats


def _flat64(x: torch.Tensor) -> torch.Tensor:
    return x.detach().reshape(-1).to(torch.float64)


def _moments(xd: torch.Tensor) -> tuple[float, float, float, float, float, float, int]:
    """``(n_finite, sum, sum_sq, zeros, min, max, nonfinite)`` of a flat float64 tensor."""
    numel = xd.numel()
    s2 = float(torch.dot(xd, xd))
    # Squares of float32 values cannot overflow float64, so a finite sum of squares proves
    # every value is finite and the cheap path applies; masks are only built when needed.
    if np.isfinite(s2):
        lo, hi = torch.aminmax(xd)
        return (numel, float(xd.sum()), s2, float(numel - torch.count_nonzero(xd)), float(lo), float(hi), 0)
    finite = torch.isfinite(xd)
    xf = xd[finite]
    n = xf.numel()
    zeros = float((xf == 0).sum())
    if n == 0:
        return (0, float("nan"), float("nan"), 0.0, float("nan"), float("nan"), numel)
    lo, hi = torch.aminmax(xf)
    return (n, float(xf.sum()), float(torch.dot(xf, xf)), zeros, float(lo), float(hi), numel - n)


def _histogram(xd: torch.Tensor, lo: float, hi: float, nonfinite: int) -> tuple[np.ndarray, np.ndarray]:
    """Counts of the finite values of a flat float64 tensor in HIST_BINS equal bins over [lo, hi]."""
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo > hi:
        return np.zeros(HIST_BINS, np.int64), np.linspace(0.0, 1.0, HIST_BINS + 1)
    if hi == lo:
        lo, hi = lo - 0.5, hi + 0.5
    if nonfinite:
        xd = xd[torch.isfinite(xd)]
    counts = torch.histc(xd, HIST_BINS, min=lo, max=hi)
    return counts.cpu().numpy().astype(np.int64), np.linspace(lo, hi, HIST_BINS + 1)


def _grad_moments(g: torch.Tensor) -> tuple[float, float, int]:
    n, s1, s2, _, _, _, nonfinite = _moments(_flat64(g))
    if n == 0:
        return float("nan"), float("nan"), nonfinite
    mean = s1 / n
    return float(max(s2 / n - mean * mean, 0.0)), float(np.sqrt(s2 / n)), nonfinite


def layer_stats(x: torch.Tensor, level: int, scale: int = 0, grad: torch.Tensor | None = None,
                **extra) -> LayerStats:
    """Statistics of one layer ``x`` ``[B, C, H, W]`` and, if given, its gradient (same shape).

    ``extra`` fills the remaining :class:`LayerStats` fields (multiplies, theory values).
    """
    xd = _flat64(x)
    n, s1, s2, zeros, lo, hi, nonfinite = _moments(xd)
    numel = x.numel()
    if n > 0:
        mean = s1 / n
        mean_sq = s2 / n
        var = max(mean_sq - mean * mean, 0.0)
    else:
        mean = mean_sq = var = float("nan")
    counts, edges = _histogram(xd, lo, hi, nonfinite)
    fields = dict(
        level=level, scale=scale, shape=tuple(int(d) for d in x.shape),
        mean=float(mean), var=float(var), mean_sq=float(mean_sq),
        zero_frac=float(zeros / numel) if numel else float("nan"), nonfinite=int(nonfinite),
        hist_counts=counts, hist_edges=edges,
    )
    if grad is not None:
        fields["grad_var"], fields["grad_rms"], fields["grad_nonfinite"] = _grad_moments(grad)
    fields.update(extra)
    return LayerStats(**fields)


def mean_square(maps: Sequence[torch.Tensor]) -> np.ndarray:
    """Mean of x^2 per map, float64 ``[len(maps)]`` (q_{0,s} of the input pyramid)."""
    return np.array([float(torch.mean(m.detach().to(torch.float64) ** 2)) for m in maps])
