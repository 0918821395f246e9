"""Per-layer statistics of activations and gradients, in float64.

float32 ``var()`` overflows in a deep residual stack long before the values themselves do
(a square of 2e19 is already inf), so every sum here is taken in float64. Non-finite values
are counted and left out of the moments, so one inf does not hide what the rest are doing.

On the CPU a layer is summarised in one fused numpy pass over a view of the tensor's memory
(:func:`_summary`): its values shifted by the first one, ``d = x - x_0``, and ``d^2`` are formed
in float32 and summed with float64 accumulators (numpy's pairwise sum over buffered casts, no
float64 copy of the layer), with min, max and the zero count beside. A float32 ``d`` or ``d^2``
that overflows makes the sums non-finite, and that layer alone takes the exact float64 path
(:func:`moments`), which also masks non-finite values. Small layers go straight to float64.
Other devices keep torch reductions.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import torch

from .result import HIST_BINS, LayerStats

_UNIT_EDGES = np.linspace(0.0, 1.0, HIST_BINS + 1)  # np.linspace per layer cost more than the bincount


_NO_COUNTS, _NO_EDGES = np.zeros(0, np.int64), np.zeros(0)
_NO_COUNTS.flags.writeable = _NO_EDGES.flags.writeable = False


class Moments(NamedTuple):
    n: int  # finite values
    mean: float
    var: float
    nonfinite: int

    @property
    def mean_sq(self) -> float:
        return self.var + self.mean**2


SMALL = 65_536  # below this many values a CPU layer goes through numpy: less per-call overhead


def flatten(x: torch.Tensor) -> torch.Tensor | np.ndarray:
    """x's values as a flat array, a view where possible (element order does not matter here).

    Small CPU tensors come back as numpy arrays: for the many tiny maps of the coarse scales
    numpy's per-call cost is a fraction of torch's, which halves the statistics stage.
    """
    x = x.detach()
    if x.ndim == 4 and not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last):
        x = x.permute(0, 2, 3, 1)
    flat = x.reshape(-1)
    if flat.device.type == "cpu" and flat.numel() <= SMALL:
        return flat.numpy()
    return flat


def _float64(a: Any) -> Any:
    return a.to(torch.float64) if isinstance(a, torch.Tensor) else a.astype(np.float64)


def _xp(a: Any) -> Any:
    return torch if isinstance(a, torch.Tensor) else np


def moments(x: torch.Tensor) -> tuple[Moments, torch.Tensor | np.ndarray]:
    """Float64 moments of x (any shape) and x's finite values as a flat array (x's dtype)."""
    flat = flatten(x)
    n = len(flat)
    if n == 0:
        return Moments(0, float("nan"), float("nan"), 0), flat
    copied = flat.dtype not in (torch.float64, np.float64)  # _float64 made a copy we may overwrite
    mean, var, sq = _shifted_moments(_float64(flat), in_place=copied)
    # Differences of float32 values cannot overflow float64, so a finite sum of squares
    # proves every value finite: one pass decides, and masks are only built when needed.
    if np.isfinite(sq) and (copied or bool(_xp(flat).isfinite(flat).all())):
        return Moments(n, mean, var, 0), flat
    finite_flat = flat[_xp(flat).isfinite(flat)]
    m = len(finite_flat)
    if m == 0:
        return Moments(0, float("nan"), float("nan"), n), finite_flat
    mean, var, _ = _shifted_moments(_float64(finite_flat), in_place=copied)
    return Moments(m, mean, var, n - m), finite_flat


def _shifted_moments(values: Any, in_place: bool) -> tuple[float, float, float]:
    """(mean, var, sum of squared differences) of a flat float64 array, shifted by its first
    value: a nearly constant layer far from zero (3e38 +- rounding) keeps its variance
    instead of losing it to the cancellation of E[x^2] - E[x]^2."""
    shift = float(values[0])
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf: the caller then masks
        if in_place:
            values -= shift
            d = values
        else:
            d = values - shift
    mean_d = float(d.sum()) / len(d)
    sq = float(d @ d)
    return shift + mean_d, max(sq / len(d) - mean_d * mean_d, 0.0), sq


def histogram(finite: Any, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """Counts of ``finite`` (a flat array of finite values) in HIST_BINS equal bins over [lo, hi]."""
    if len(finite) == 0:
        return np.zeros(HIST_BINS, np.int64), np.linspace(0.0, 1.0, HIST_BINS + 1)
    if hi == lo:  # a constant layer: centre it in a bin range of its own size
        pad = max(0.5, abs(lo) * 0.5)
        lo, hi = lo - pad, hi + pad
    # Bin indices by arithmetic and bincount: ~3x faster than torch.histc on the CPU. A
    # float32 overflow of (x - lo) goes to +inf, which the clip puts in the last bin.
    if isinstance(finite, np.ndarray):  # one float32 buffer, operated on in place
        with np.errstate(over="ignore", invalid="ignore"):
            t = np.subtract(finite, finite.dtype.type(lo))
            t *= finite.dtype.type(HIST_BINS / (hi - lo))
            np.clip(t, 0, HIST_BINS - 1, out=t)
        counts = np.bincount(t.astype(np.intp), minlength=HIST_BINS)
    else:
        idx = ((finite - lo) * (HIST_BINS / (hi - lo))).clip(0, HIST_BINS - 1).to(torch.int64)
        counts = torch.bincount(idx, minlength=HIST_BINS).cpu().numpy()
    return counts.astype(np.int64), lo + (hi - lo) * _UNIT_EDGES


_F32_FROM = 4096  # from this many values on, the shifted values are formed in float32
_F32_TINY = 1e-30  # a mean square below this is left to float64 (float32 squares underflow near 1e-38)
_ROW = 1024  # float32 partial sums run over rows of this many values; rows are combined in float64


class Summary(NamedTuple):
    moments: Moments
    lo: float  # smallest and largest finite value (NaN unless asked for, or when there is none)
    hi: float
    zeros: int  # finite values equal to 0
    finite: np.ndarray | torch.Tensor | None  # the finite values when they had to be masked, else None


def cpu_values(x: torch.Tensor) -> np.ndarray | None:
    """x's values as a flat numpy view of its memory (any order: channels_last is read as NHWC),
    or None off the CPU or for a layout that would need a copy (numpy's own view and flags: a
    third of torch's calls). Two tensors of one shape and strides give views in one order."""
    if x.device.type != "cpu" or x.dtype not in (torch.float32, torch.float64):
        return None
    a = x.numpy(force=True)  # a view; no torch call that lets go of the GIL (engine._numpy)
    if not a.flags.c_contiguous and a.ndim == 4:
        a = a.transpose(0, 2, 3, 1)  # channels_last memory is NHWC
    if not a.flags.c_contiguous:
        return None
    return a.reshape(-1)


def _shifted_sums(a: np.ndarray, shift: float) -> tuple[float, float]:
    """(sum d, sum d^2) for d = a - shift, a flat float array.

    float32 input: d and d^2 are formed in float32 and summed in float32 over rows of
    :data:`_ROW` values (vectorised, error ~ 10 eps per row, not growing with the layer's size),
    the row sums combined in float64; a remainder shorter than a row is summed in float64.
    A zero shift skips the subtraction. Overflow shows as a non-finite sum."""
    if a.dtype != np.float32 or len(a) < _F32_FROM:
        d = a.astype(np.float64)
        d -= shift
        return float(np.add.reduce(d)), float(np.vdot(d, d))
    d = np.subtract(a, np.float32(shift)) if shift else a
    head = len(d) - len(d) % _ROW
    rows = d[:head].reshape(-1, _ROW)
    t = torch.from_numpy(rows)
    s1 = float(t.sum(1).sum(dtype=torch.float64))  # torch's row sums vectorise best
    norms = torch.linalg.vector_norm(t, dim=1).double()  # half einsum's time; squared in float64
    s2 = float(norms.dot(norms))
    if head < len(d):
        tail = d[head:].astype(np.float64)
        s1 += float(tail.sum())
        s2 += float(tail @ tail)
    return s1, s2


def _moments_of(a: np.ndarray) -> Moments | None:
    """Float64 moments of a flat float array of finite values, None if a value is not finite
    or a float32 square overflows.

    Shifted moments: Var = E[d^2] - E[d]^2 with d = x - shift loses the digits of E[d]^2 / Var.
    A first pass with no shift serves when the mean is small beside the spread (ReLU layers:
    mean^2 / var ~ 0.5, gradients ~ 0); otherwise (a sigmoid layer, a near-constant one far
    from zero such as 3e38 +- rounding) the values are summed again shifted by their first value."""
    n = len(a)
    if n == 0:
        return None
    shift = 0.0 if a.dtype == np.float32 and n >= _F32_FROM else float(a[0])
    for _ in range(2):
        with np.errstate(over="ignore", invalid="ignore"):
            s1, s2 = _shifted_sums(a, shift)
        if a.dtype == np.float32 and n >= _F32_FROM and s2 < _F32_TINY * n:
            return None  # float32 squares this small lose digits or underflow: float64 decides
        if not (math.isfinite(s1) and math.isfinite(s2)):
            if shift == 0.0 and math.isfinite(float(a[0])):
                shift = float(a[0])  # x^2 may overflow float32 where (x - x_0)^2 does not
                continue
            return None
        mean_d = s1 / n
        var = max(s2 / n - mean_d * mean_d, 0.0)
        if shift == 0.0 and mean_d * mean_d > var:  # cancellation: sum again, shifted
            shift = float(a[0])
            if shift != 0.0:
                continue
        return Moments(n, shift + mean_d, var, 0)
    return None


def _summary(a: np.ndarray, extremes: bool) -> Summary | None:
    """Moments (:func:`_moments_of`), the zero count and, with ``extremes``, min and max of a
    flat float array; None when the exact float64 path must decide (non-finite values)."""
    m = _moments_of(a)
    if m is None:
        return None
    zeros = int(np.count_nonzero(a == 0))  # faster than n - count_nonzero(a) on floats
    if not extremes:
        return Summary(m, float("nan"), float("nan"), zeros, None)
    return Summary(m, float(a.min()), float(a.max()), zeros, None)


def summarize(x: torch.Tensor, extremes: bool = True) -> Summary:
    """Float64 moments and the zero count of x (any shape), with ``extremes`` its finite min and max."""
    return _summarize(x, cpu_values(x), extremes)


def _summarize(x: torch.Tensor, a: np.ndarray | None, extremes: bool) -> Summary:
    """:func:`summarize` with ``a = cpu_values(x)`` already taken."""
    if a is not None:
        fast = _summary(a, extremes)
        if fast is not None:
            return fast
    m, finite = moments(x)
    if not m.n:
        return Summary(m, float("nan"), float("nan"), 0, finite)
    zeros = m.n - int(_xp(finite).count_nonzero(finite))
    if not extremes:
        return Summary(m, float("nan"), float("nan"), zeros, finite)
    lo, hi = torch.aminmax(finite) if isinstance(finite, torch.Tensor) else (finite.min(), finite.max())
    return Summary(m, float(lo), float(hi), zeros, finite)


def _grad_moments(grad: torch.Tensor, a: np.ndarray | None) -> Moments:
    m = _moments_of(a) if a is not None else None
    return m if m is not None else moments(grad)[0]


def layer_stats(
    x: torch.Tensor, level: int, scale: int = 0, grad: torch.Tensor | None = None, hist: bool = True, **extra: Any
) -> LayerStats:
    """Statistics of one layer ``x`` ``[B, C, H, W]`` and, if given, its gradient (same shape).

    ``hist=False`` leaves the histogram empty (zero-length arrays), for the profiles that do
    not draw it; every other field is the same either way.

    ``extra`` fills the remaining :class:`LayerStats` fields (multiplies, theory values).
    """
    return _layer_stats(x, cpu_values(x), level, scale, grad, None, hist, extra)


def _layer_stats(
    x: torch.Tensor,
    a: np.ndarray | None,
    level: int,
    scale: int,
    grad: torch.Tensor | None,
    grad_fields: dict[str, Any] | None,
    hist: bool,
    extra: dict[str, Any],
) -> LayerStats:
    """:func:`layer_stats` with ``a = cpu_values(x)`` taken and the gradient's fields, where
    given, already summarised."""
    sm = _summarize(x, a, extremes=hist)  # min and max only set the histogram's range
    m, lo, hi, zeros = sm.moments, sm.lo, sm.hi, sm.zeros
    numel = x.numel()
    if hist:
        finite = sm.finite
        if finite is None:  # the fast path: every value is finite
            finite = a if a is not None else flatten(x)
        counts, edges = histogram(finite, lo, hi)
    else:
        counts, edges = _NO_COUNTS, _NO_EDGES
    fields: dict[str, Any] = dict(
        level=level,
        scale=scale,
        shape=tuple(int(d) for d in x.shape),
        mean=float(m.mean),
        var=float(m.var),
        mean_sq=float(m.mean_sq),
        zero_frac=zeros / numel if numel else float("nan"),
        nonfinite=int(m.nonfinite),
        hist_counts=counts,
        hist_edges=edges,
    )
    if grad_fields is not None:
        fields.update(grad_fields)
    elif grad is not None:
        fields.update(_grad_fields(grad, cpu_values(grad)))
    fields.update(extra)
    return LayerStats(**fields)


def _grad_fields(grad: torch.Tensor, a: np.ndarray | None) -> dict[str, Any]:
    g = _grad_moments(grad, a)
    return dict(grad_var=float(g.var), grad_rms=float(np.sqrt(g.mean_sq)), grad_nonfinite=int(g.nonfinite))


def saturated_fraction(x: torch.Tensor, low: float, high: float) -> float:
    """Fraction of the values of ``x`` (any shape) outside ``(low, high)``, over the values that are
    not NaN (an overflowed inf counts as saturated); NaN if there are none."""
    return _saturated(cpu_values(x), x, low, high)


def _saturated(a: Any, x: torch.Tensor, low: float, high: float) -> float:
    """:func:`saturated_fraction` with ``a = cpu_values(x)`` already taken."""
    if a is None:
        a = flatten(x)
    xp = _xp(a)
    finite = a.size - int(xp.count_nonzero(xp.isnan(a))) if a.size else 0
    if not finite:
        return float("nan")
    with np.errstate(invalid="ignore"):
        out = int(xp.count_nonzero((a < low) | (a > high)))  # inf counts as saturated, NaN never
    return out / int(finite)


def _layer_stats_torch(
    x: torch.Tensor, level: int, scale: int = 0, grad: torch.Tensor | None = None, hist: bool = True, **extra: Any
) -> LayerStats:
    """The statistics by torch reductions and float64 copies (the reference the fused pass is
    tested against)."""
    m, finite = moments(x)
    numel = x.numel()
    if m.n:
        lo, hi = torch.aminmax(finite) if isinstance(finite, torch.Tensor) else (finite.min(), finite.max())
        lo, hi = float(lo), float(hi)
        zeros = m.n - int(_xp(finite).count_nonzero(finite))
    else:
        lo = hi = float("nan")
        zeros = 0
    counts, edges = histogram(finite, lo, hi) if hist else (_NO_COUNTS, _NO_EDGES)
    fields: dict[str, Any] = dict(
        level=level,
        scale=scale,
        shape=tuple(int(d) for d in x.shape),
        mean=float(m.mean),
        var=float(m.var),
        mean_sq=float(m.mean_sq),
        zero_frac=zeros / numel if numel else float("nan"),
        nonfinite=int(m.nonfinite),
        hist_counts=counts,
        hist_edges=edges,
    )
    if grad is not None:
        g, _ = moments(grad)
        fields.update(grad_var=float(g.var), grad_rms=float(np.sqrt(g.mean_sq)), grad_nonfinite=int(g.nonfinite))
    fields.update(extra)
    return LayerStats(**fields)


BATCH = 16_384  # layers of at most this many values are summarised together (see layer_stats_batch)


def _batch_moments(arrays: list[np.ndarray], bounds: tuple[float, float] | None = None) -> tuple[np.ndarray, ...]:
    """Float64 sums of many small flat float arrays in one pass of numpy calls.

    Each array is shifted by its first value (as :func:`_moments_of` does for small arrays) and
    its sums are taken by segment (``np.add.reduceat``). Returns ``(n, s1, s2, shift, zeros, out)``,
    each ``[len(arrays)]``: the count, sum d and sum d^2 of d = a - a[0], the shift, the count of
    values equal to 0 and (with ``bounds``) the count outside ``bounds`` (else zeros). A segment
    with a non-finite value has a non-finite s1 or s2."""
    lens = np.fromiter((a.size for a in arrays), np.intp, len(arrays))
    offs = np.zeros(len(arrays), np.intp)
    np.cumsum(lens[:-1], out=offs[1:])
    cat = np.concatenate(arrays, dtype=np.float64)
    zeros = np.add.reduceat(cat == 0, offs, dtype=np.intp)
    if bounds is not None:
        with np.errstate(invalid="ignore"):
            out = np.add.reduceat((cat < bounds[0]) | (cat > bounds[1]), offs, dtype=np.intp)
    else:
        out = np.zeros(len(arrays), np.intp)
    shift = cat[offs]
    with np.errstate(invalid="ignore", over="ignore"):
        cat -= np.repeat(shift, lens)
        s1 = np.add.reduceat(cat, offs)
        np.square(cat, out=cat)
        s2 = np.add.reduceat(cat, offs)
    return lens, s1, s2, shift, zeros, out


def _small(a: np.ndarray) -> bool:
    return 0 < a.size <= BATCH


def _batch_fields(arrays: list[np.ndarray], saturation: tuple[float, float] | None) -> list[dict[str, Any] | None]:
    """The moment fields of :class:`LayerStats` (mean, var, mean_sq, zero_frac, nonfinite and,
    with ``saturation``, sat_frac) of each small array, summed together (:func:`_batch_moments`);
    None for an array with a non-finite value (the exact path decides)."""
    n, s1, s2, shift, zeros, out = _batch_moments(arrays, saturation)
    with np.errstate(invalid="ignore", over="ignore"):
        mean_d = s1 / n
        var = np.maximum(s2 / n - mean_d * mean_d, 0.0)
        mean = shift + mean_d
        mean_sq = var + mean * mean
    ok = (np.isfinite(s1) & np.isfinite(s2)).tolist()
    rows = zip(ok, mean.tolist(), var.tolist(), mean_sq.tolist(), zeros.tolist(), out.tolist(), n.tolist())
    found: list[dict[str, Any] | None] = []
    for good, mu, v, msq, z, o, count in rows:
        if not good:
            found.append(None)
            continue
        fields = dict(mean=mu, var=v, mean_sq=msq, zero_frac=z / count, nonfinite=0)
        if saturation is not None:
            fields["sat_frac"] = o / count
        found.append(fields)
    return found


def _as_grad_fields(fields: dict[str, Any]) -> dict[str, Any]:
    return dict(grad_var=fields["var"], grad_rms=math.sqrt(fields["mean_sq"]), grad_nonfinite=0)


def layer_stats_batch(
    layers: list[tuple[torch.Tensor, int, int, torch.Tensor | None, bool, dict[str, Any]]],
    saturation: tuple[float, float] | None = None,
) -> list[LayerStats]:
    """:func:`layer_stats` of many layers ``(x, level, scale, grad, hist, extra)``, in order.

    The layers and gradients of at most :data:`BATCH` values on the CPU (most of a pyramid's,
    the coarse scales) are summarised together in float64 (:func:`_batch_moments`, one set of
    numpy calls for all of them instead of one per layer, whose per-call cost was most of the
    statistics stage); each tensor's memory is viewed once. A layer with a non-finite value, or
    more values, takes :func:`layer_stats`'s own path; the numbers agree with it to float64
    rounding. Which path a layer takes never depends on ``hist``, so every profile gives the
    same numbers. ``saturation`` (low, high) adds ``sat_frac`` (:func:`saturated_fraction`)."""
    xs = [cpu_values(x) for x, _l, _s, _g, _h, _e in layers]
    gs = [None if g is None else cpu_values(g) for _x, _l, _s, g, _h, _e in layers]
    small_x = [(i, a) for i, a in enumerate(xs) if a is not None and _small(a)]
    small_g = [(i, a) for i, a in enumerate(gs) if a is not None and _small(a)]
    arrays = [a for _i, a in small_x] + [a for _i, a in small_g]
    found = _batch_fields(arrays, saturation) if arrays else []
    fast = {i: f for (i, _a), f in zip(small_x, found)}
    grad_fast = {i: None if f is None else _as_grad_fields(f) for (i, _a), f in zip(small_g, found[len(small_x) :])}
    results = []
    for i, (x, level, scale, grad, hist, extra) in enumerate(layers):
        gfields = grad_fast.get(i)
        if gfields is None and grad is not None:
            gfields = _grad_fields(grad, gs[i])
        fields = fast.get(i)
        if fields is None:
            a = xs[i]
            if saturation is not None:
                extra = {"sat_frac": _saturated(a, x, *saturation), **extra}
            results.append(_layer_stats(x, a, level, scale, grad, gfields, hist, extra))
            continue
        if gfields is not None:
            fields.update(gfields)
        counts, edges = _NO_COUNTS, _NO_EDGES
        if hist:
            a = xs[i]
            assert a is not None
            counts, edges = histogram(a, float(a.min()), float(a.max()))
        results.append(
            LayerStats(
                level=level,
                scale=scale,
                shape=tuple(int(d) for d in x.shape),
                hist_counts=counts,
                hist_edges=edges,
                **fields,
                **extra,
            )
        )
    return results


def grad_stats_batch(grads: list[torch.Tensor]) -> list[dict[str, Any]]:
    """The gradient fields of :class:`LayerStats` (``grad_var``, ``grad_rms``, ``grad_nonfinite``)
    for each of ``grads``, as :func:`layer_stats` gives them; the small ones summed together
    (:func:`_batch_moments`), the others, and any with a non-finite value, one at a time."""
    gs = [cpu_values(g) for g in grads]
    small = [(i, a) for i, a in enumerate(gs) if a is not None and _small(a)]
    found = {i: f for (i, _a), f in zip(small, _batch_fields([a for _i, a in small], None))} if small else {}
    out = []
    for i, g in enumerate(grads):
        fields = found.get(i)
        out.append(_as_grad_fields(fields) if fields is not None else _grad_fields(g, gs[i]))
    return out
