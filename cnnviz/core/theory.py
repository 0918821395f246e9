"""The closed forms of ``docs/theory.md``: what the measured statistics are drawn beside.

Pure numpy, no torch. Everything here is a function of shapes, widths and weight variances
only, so a view can redraw a theory curve without running a network.

- :func:`border_taps`: T_1(n), T_2(n), the mean number of filter taps that land inside an
  n x n map (D^2 in the interior, fewer at zero-padded borders).
- :func:`activation_moments`: m = E f(y), q = E f(y)^2, c = E f'(y)^2 for y ~ N(0, v).
- :func:`scale_net_mean_field`: the forward and backward mean-field recursion for
  Problem 3's scale-shared network, per level l and scale s (docs/theory.md's, or the same carried
  per position with ``per_position=True``, which removes a border bias of up to 40 %).
- :func:`video_net_mean_field`: the same recursion for Problem 2's video network, one number
  per layer, with fan-in I D^2 D_t and the taps counted on all three axes (T, H, W) at stride s.
- :func:`residual_forward_var`, :func:`residual_backward_var`: Problem 5 (its init rule is
  :func:`cnnviz.core.init.residual_init_var`).
- :func:`unit_theory`: Problem 4.

Overflow is part of what the app teaches (an init variance of 1e30 blows up within a few
levels), so these functions return ``inf``/``nan`` there instead of warning or raising.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

from ..errors import SettingsError
from ..settings import ACTIVATIONS

# Probabilists' Gauss-Hermite nodes integrate against exp(-z^2/2); normalised to N(0, 1).
_GH_NODES, _GH_WEIGHTS = hermegauss(101)
_GH_WEIGHTS = _GH_WEIGHTS / _GH_WEIGHTS.sum()  # = sqrt(2 pi), but exact: v = 0 gives f(0)
# Gauss-Hermite is exact to ~1e-9 while f(sqrt(v) z) is smooth on the scale of its nodes, but
# once sqrt(v) >> 1 a tanh or sigmoid is a step between two nodes and E f'^2 (a spike of
# width 1/sqrt(v) at 0) comes out wrong by orders of magnitude. Past this variance a
# trapezoid rule on a grid that resolves both the Gaussian and f's own scale takes over
# (checked against a 400k-point reference to ~1e-6 relative for v up to 1e300).
_GH_MAX_VAR = 1.0
_Z_HALF = np.linspace(0.0, 10.0, 1001)  # resolves the Gaussian, in z
_Y_SPAN = 30.0  # tanh(30) == 1 in float64: tanh is constant beyond |y| = 30, sigmoid beyond 60
_N_FINE = 4001


def _check_activation(activation: str) -> None:
    if activation not in ACTIVATIONS:
        raise SettingsError(f"activation must be one of {', '.join(ACTIVATIONS)}, not {activation!r}")


def _tap_counts_1d(n: int, kernel: int, stride: int) -> np.ndarray:
    """Taps inside [0, n) for each output position of a 1-D centred conv: ``[ceil(n/stride)]``."""
    p = kernel // 2
    out = -(-n // stride)
    centres = stride * np.arange(out)[:, None] + np.arange(-p, p + 1)[None, :]
    return ((centres >= 0) & (centres < n)).sum(axis=1)


def border_taps(n: int, kernel: int, stride: int) -> float:
    """T_stride(n): mean over output positions of the taps of a centred ``kernel`` x ``kernel``
    filter that land inside an ``n`` x ``n`` input (zero padding ``kernel // 2``).

    The output is ``ceil(n / stride)`` square; output (x, y) reads input
    ``(stride x + dx, stride y + dy)`` for dx, dy in -p..p. The count separates into a product
    of two 1-D counts, so the 2-D mean is the square of the 1-D mean. Equals ``kernel**2``
    when no tap ever falls outside (n >> kernel in the limit, or kernel = 1).
    """
    if n < 1 or kernel < 1 or kernel % 2 == 0 or stride not in (1, 2):
        raise SettingsError(
            f"border taps need n >= 1, an odd kernel and stride 1 or 2, not n={n}, kernel={kernel}, stride={stride}"
        )
    return float(_tap_counts_1d(n, kernel, stride).mean() ** 2)


@functools.lru_cache(maxsize=32)
def _taps(k: int, kernel: int) -> tuple[np.ndarray, np.ndarray]:
    """(T_1(2^e), T_2(2^e)) for e = 0..k, float64 ``[k + 1]`` each (read-only: shared)."""
    t1 = np.array([border_taps(2**e, kernel, 1) for e in range(k + 1)])
    t2 = np.array([border_taps(2**e, kernel, 2) for e in range(k + 1)])
    t1.flags.writeable = t2.flags.writeable = False
    return t1, t2


def _f_and_df(activation: str, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f(y) and f'(y) for the saturating activations, written so |y| up to inf is finite."""
    t = np.tanh(y if activation == "tanh" else 0.5 * y)
    if activation == "tanh":
        return t, 1.0 - t * t
    # sigmoid(y) = (1 + tanh(y/2)) / 2 never evaluates exp(-y), which overflows for y < -709.
    return 0.5 * (1.0 + t), 0.25 * (1.0 - t * t)


def _expect(activation: str, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(E f, E f^2, E f'^2) under N(0, v) by quadrature; v finite, >= 0, 1-D."""
    m = np.empty_like(v)
    q = np.empty_like(v)
    c = np.empty_like(v)
    small = v <= _GH_MAX_VAR
    if small.any():
        y = np.sqrt(v[small])[:, None] * _GH_NODES[None, :]
        f, df = _f_and_df(activation, y)
        m[small] = f @ _GH_WEIGHTS
        q[small] = (f * f) @ _GH_WEIGHTS
        c[small] = (df * df) @ _GH_WEIGHTS
    wide = ~small
    if wide.any():
        s = np.sqrt(v[wide])[:, None]
        # A fine grid on |z| <= a, where f still changes, joined to the coarse Gaussian grid
        # outside; coarse nodes inside are clamped to +-a, where they add zero-width panels,
        # so every row is sorted without a sort.
        span = _Y_SPAN if activation == "tanh" else 2.0 * _Y_SPAN  # sigmoid(y) uses tanh(y/2)
        a = np.minimum(span / s, _Z_HALF[-1])
        fine = a * np.linspace(-1.0, 1.0, _N_FINE)[None, :]
        z = np.concatenate([np.minimum(-_Z_HALF[::-1], -a), fine, np.maximum(_Z_HALF, a)], axis=1)
        dz = np.diff(z, axis=1)
        w = np.zeros_like(z)
        w[:, :-1] += dz
        w[:, 1:] += dz
        w *= np.exp(-0.5 * z * z)
        # Normalising by the rule's own integral of phi cancels most of its discretisation error.
        w /= w.sum(axis=1, keepdims=True)
        f, df = _f_and_df(activation, s * z)
        m[wide] = (f * w).sum(axis=1)
        q[wide] = (f * f * w).sum(axis=1)
        c[wide] = (df * df * w).sum(axis=1)
    return m, q, c


def activation_moments(activation: str, v: np.ndarray | float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Moments of f(y) for y ~ N(0, v), elementwise over ``v`` (any shape).

    Returns ``(m, q, c)`` = (E f(y), E f(y)^2, E f'(y)^2), each shaped like ``v``:
    identity (0, v, 1); relu (sqrt(v / 2 pi), v / 2, 1/2); tanh and sigmoid by quadrature
    (Gauss-Hermite for v <= 1, a trapezoid rule on a grid that resolves the saturation above).
    v = inf gives the limits (tanh: 0, 1, 0; sigmoid: 1/2, 1/2, 0; relu and identity: inf);
    a negative or NaN v gives NaN. Never warns.
    """
    _check_activation(activation)
    v = np.asarray(v, dtype=np.float64)
    bad = ~(v >= 0)  # NaN and negatives
    if activation == "identity":
        m, q, c = np.zeros_like(v), v.copy(), np.ones_like(v)
    elif activation == "relu":
        with np.errstate(invalid="ignore"):
            m = np.sqrt(v / (2.0 * math.pi))
        q, c = 0.5 * v, np.full_like(v, 0.5)
    else:
        flat = v.ravel()
        m, q, c = (np.full(flat.shape, np.nan) for _ in range(3))
        ok = np.isfinite(flat) & (flat >= 0)
        if ok.any():
            m[ok], q[ok], c[ok] = _expect(activation, flat[ok])
        # The limits exactly: y = 0 surely (v = 0), or y = +-inf with probability 1/2 each.
        for at, ys in ((0.0, [0.0]), (np.inf, [-np.inf, np.inf])):
            hit = flat == at
            if hit.any():
                f, df = _f_and_df(activation, np.array(ys))
                m[hit], q[hit], c[hit] = f.mean(), (f * f).mean(), (df * df).mean()
        # f - f(0) is odd and N(0, v) symmetric: the mean is f(0) exactly, not to rounding.
        m = np.where(np.isnan(m), m, 0.0 if activation == "tanh" else 0.5)
        m, q, c = (a.reshape(v.shape) for a in (m, q, c))
    m, q, c = (np.array(a, dtype=np.float64) for a in (m, q, c))
    for a in (m, q, c):
        a[bad] = np.nan
    return m, q, c


@dataclass(frozen=True)
class MeanField:
    """The mean-field prediction for every L_{l,s}, as float64 arrays ``[depth + 1, k + 1]``.

    Row l is level l, column s is scale s; entries with l + s > k are NaN. ``v`` is the
    variance of the pre-activation y_{l,s} (NaN at level 0, which has none); ``q`` the mean
    of L_{l,s}^2 over channels and positions (level 0: the measured input ``q0``); ``mean``
    and ``var`` = q - mean^2 the mean and variance of L_{l,s} (NaN at level 0: the input is
    measured, not predicted); ``r`` the mean square of dLoss/dL_{l,s} for N(0, 1) injected
    at every scale of the top level (1 there, NaN at level 0); ``grad_rms`` = sqrt(r).
    With ``per_position=True`` each entry is the mean over positions of its per-position value
    (``var`` is then the variance over all elements, as measured).
    """

    k: int
    depth: int
    v: np.ndarray
    q: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    r: np.ndarray
    grad_rms: np.ndarray


def scale_net_mean_field(
    q0: np.ndarray | Sequence[float],
    k: int,
    depth: int,
    channels: int,
    kernel: int,
    init_vars: Sequence[float],
    activation: str,
    in_channels: int = 3,
    per_position: bool = False,
) -> MeanField:
    """docs/theory.md's forward and backward recursions for the scale-shared network (B = 0).

    ``q0`` ``[k + 1]``: mean of I_s^2 over channels and positions of the input pyramid, after
    the input transform. ``init_vars[l]`` is sigma_w^2 of level l + 1 (both branches), for
    l = 0..depth-1. Level l + 1 reads ``in_channels`` channels at l = 0 and ``channels``
    after. Map sizes are n_{l,s} = 2^(k - l - s).

    Forward: v_{l+1,s} = sigma^2 I_l (T_1(n_{l,s+1}) q_{l,s+1} + T_2(n_{l,s}) q_{l,s}),
    q_{l+1,s} = E f(sqrt(v) z)^2. Backward (r = 1 at every scale of level ``depth``):
    r_{l,s} = sigma^2 J (T_1(n_{l,s}) c_{l+1,s-1} r_{l+1,s-1} + T_2(n_{l,s})/4 c_{l+1,s} r_{l+1,s}),
    a term dropped when its output does not exist (s = 0; l + 1 + s > k).

    ``per_position=True`` runs the same recursion on variance *maps* ``[n, n]`` (zero-padded
    box sums of the maps in place of T q, T r) and reports their means. The uniform recursion
    assumes q and r are uniform over positions, but near a border a unit has fewer taps *and*
    reads units that themselves have fewer taps; the positive correlation makes the uniform
    recursion underestimate, measured at up to 40 % for the gradient of 4 x 4 maps (ReLU, he,
    256^2, depth 6) at J = 16 and J = 64 alike. The per-position recursion removes that part,
    leaving the finite-width error. It costs a few box filters per layer (about 0.2 s at
    2048^2 with D = 3; under 1 s with D = 15 and tanh).
    """
    _check_activation(activation)
    q0 = np.asarray(q0, dtype=np.float64).ravel()
    if not 0 <= depth <= k or q0.size != k + 1:
        raise SettingsError(
            f"mean field needs 0 <= depth <= k and k + 1 input scales, not depth={depth}, k={k}, {q0.size} scales"
        )
    if len(init_vars) != depth:
        raise SettingsError(f"need one init variance per level ({depth}), not {len(init_vars)}")
    if channels < 1 or in_channels < 1 or kernel < 1 or kernel % 2 == 0:
        raise SettingsError(f"mean field needs channels >= 1 and an odd kernel, not J={channels}, D={kernel}")
    if per_position:
        return _mean_field_maps(q0, k, depth, channels, kernel, init_vars, activation, in_channels)
    shape = (depth + 1, k + 1)
    v, q, m, var, r = (np.full(shape, np.nan) for _ in range(5))
    q[0] = q0
    # T_1(2^e), T_2(2^e) for e = 0..k; map (l, s) has side 2^(k - l - s). Each level is one
    # vector step over its scales (a video frame's new q0 misses the engine's cache every frame).
    t1, t2 = _taps(k, kernel)

    # 0 * inf (a zero init on an overflowed layer) is NaN, and we let it be: no warnings.
    with np.errstate(over="ignore", invalid="ignore"):
        for lvl in range(depth):
            fan = init_vars[lvl] * (in_channels if lvl == 0 else channels)
            n_out = k - lvl  # output (lvl + 1, s) exists iff lvl + 1 + s <= k
            e = k - lvl - np.arange(n_out + 1)  # side exponent of input (lvl, s), s = 0..n_out
            v[lvl + 1, :n_out] = fan * (t1[e[1:]] * q[lvl, 1 : n_out + 1] + t2[e[:-1]] * q[lvl, :n_out])
            mm, qq, _ = activation_moments(activation, v[lvl + 1])
            m[lvl + 1], q[lvl + 1] = mm, qq
            # q - m^2 is inf - inf once q overflows (the variance is then inf too), and can
            # round to -1e-17 where f is constant (sigmoid at v = 0).
            var[lvl + 1] = np.where(np.isinf(qq), qq, np.maximum(qq - mm * mm, 0.0))
        _, _, c = activation_moments(activation, v)

        if depth >= 1:
            r[depth, : k - depth + 1] = 1.0
        for lvl in range(depth - 1, 0, -1):
            g = init_vars[lvl] * channels
            n_in = k - lvl + 1  # scales s = 0..k - lvl of level lvl
            e = k - lvl - np.arange(n_in)
            acc = np.zeros(n_in)
            # the <- branch of output (lvl + 1, s - 1), s >= 1
            acc[1:] += t1[e[1:]] * c[lvl + 1, : n_in - 1] * r[lvl + 1, : n_in - 1]
            # the ^ branch of output (lvl + 1, s), where lvl + 1 + s <= k
            acc[: n_in - 1] += t2[e[: n_in - 1]] / 4.0 * c[lvl + 1, : n_in - 1] * r[lvl + 1, : n_in - 1]
            r[lvl, :n_in] = g * acc
        grad_rms = np.sqrt(r)
    return MeanField(k=k, depth=depth, v=v, q=q, mean=m, var=var, r=r, grad_rms=grad_rms)


def _box_axis(a: np.ndarray, p: int, axis: int, stride: int) -> np.ndarray:
    """Zero-padded box sums of half-width ``p`` along ``axis`` of ``a`` ``[n, n]``, taken at every
    ``stride``-th position (1 or 2): out[x] = sum_{|d| <= p, 0 <= stride x + d < n} a[stride x + d]."""
    n = a.shape[axis]
    m = (n + stride - 1) // stride

    def take(start: int, count: int) -> np.ndarray:
        sl = slice(start, start + stride * (count - 1) + 1, stride)
        return a[sl] if axis == 0 else a[:, sl]

    out = take(0, m).copy()
    for d in range(1, p + 1):
        # + d: outputs x with stride x + d < n
        cnt = min(m, (n - 1 - d) // stride + 1) if d < n else 0
        if cnt > 0:
            if axis == 0:
                out[:cnt] += take(d, cnt)
            else:
                out[:, :cnt] += take(d, cnt)
        # - d: outputs x >= x0 with stride x - d >= 0
        x0 = -(-d // stride)
        cnt = m - x0
        if cnt > 0 and stride * x0 - d < n:
            if axis == 0:
                out[x0:] += take(stride * x0 - d, cnt)
            else:
                out[:, x0:] += take(stride * x0 - d, cnt)
    return out


def _box(a: np.ndarray, kernel: int, stride: int = 1) -> np.ndarray:
    """Zero-padded ``kernel`` x ``kernel`` box sums of ``a`` ``[n, n]``: for each position, the
    sum over the centred taps that land inside; with ``stride=2`` only at even positions
    (``[n/2, n/2]``, the same as ``_box(a, kernel)[::2, ::2]`` without the other three quarters).
    The box is separable, so it is two 1-D passes even though ``a`` is not."""
    p = kernel // 2
    return _box_axis(_box_axis(a, p, 0, stride), p, 1, stride)


_INTERP_ABOVE = 256  # distinct variances in one map beyond which moments are interpolated
_INTERP_GRID = 256


def _moment_maps(activation: str, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """activation_moments on a map ``[n, n]``, with quadrature once per distinct value.

    Wide filters over deep stacks leave many distinct border values; past a few hundred the
    moments (smooth in log v) are interpolated from a geometric grid of variances instead,
    to ~1e-6 relative.
    """
    if activation in ("identity", "relu"):
        return activation_moments(activation, v)
    uniq, inverse = np.unique(v, return_inverse=True)
    inverse = inverse.reshape(v.shape)
    inner = np.isfinite(uniq) & (uniq > 0)
    if inner.sum() <= _INTERP_ABOVE:
        mu, qu, cu = activation_moments(activation, uniq)
    else:
        mu, qu, cu = activation_moments(activation, np.where(inner, 0.0, uniq))
        grid = np.geomspace(uniq[inner].min(), uniq[inner].max(), _INTERP_GRID)
        x = np.log(uniq[inner])
        for out, moment in zip((mu, qu, cu), activation_moments(activation, grid)):
            out[inner] = np.interp(x, np.log(grid), moment)
    return mu[inverse], qu[inverse], cu[inverse]


def _mean_field_maps(
    q0: np.ndarray,
    k: int,
    depth: int,
    channels: int,
    kernel: int,
    init_vars: Sequence[float],
    activation: str,
    in_channels: int,
) -> MeanField:
    """The recursion of :func:`scale_net_mean_field` carried per position (see there)."""
    shape = (depth + 1, k + 1)
    v, q, m, var, r = (np.full(shape, np.nan) for _ in range(5))
    q[0] = q0
    prev: list[np.ndarray] = []  # level 0's maps are constant: their box sums are outer products
    taps = {
        (n, stride): _box_axis(np.ones((1, n)), kernel // 2, 1, stride)[0]
        for n in (2**e for e in range(k + 1))
        for stride in (1, 2)
    }
    c_maps: list[list[np.ndarray]] = [[]]
    with np.errstate(over="ignore", invalid="ignore"):
        for lvl in range(depth):
            fan = init_vars[lvl] * (in_channels if lvl == 0 else channels)
            cur, cs = [], []
            for s in range(k - lvl):
                if lvl == 0:
                    t1, t2 = taps[2 ** (k - s - 1), 1], taps[2 ** (k - s), 2]
                    vm = fan * (q0[s + 1] * np.outer(t1, t1) + q0[s] * np.outer(t2, t2))
                else:
                    vm = fan * (_box(prev[s + 1], kernel) + _box(prev[s], kernel, 2))
                mm, qq, cc = _moment_maps(activation, vm)
                v[lvl + 1, s], m[lvl + 1, s], q[lvl + 1, s] = vm.mean(), mm.mean(), qq.mean()
                cur.append(qq)
                cs.append(cc)
            prev = cur
            c_maps.append(cs)
        qq, mm = q[1:], m[1:]
        var[1:] = np.where(np.isinf(qq), qq, np.maximum(qq - mm * mm, 0.0))

        if depth >= 1:
            r[depth, : k - depth + 1] = 1.0
            grads = [np.ones((2 ** (k - depth - s),) * 2) for s in range(k - depth + 1)]
        for lvl in range(depth - 1, 0, -1):
            g = init_vars[lvl] * channels
            below = []
            for s in range(k - lvl + 1):
                n = 2 ** (k - lvl - s)
                acc = np.zeros((n, n))
                if s >= 1:  # the <- branch of output (lvl + 1, s - 1), same size
                    acc += _box(c_maps[lvl + 1][s - 1] * grads[s - 1], kernel)
                if lvl + 1 + s <= k:  # the ^ branch: the adjoint of a stride-2 read
                    up = np.zeros((n, n))
                    up[::2, ::2] = c_maps[lvl + 1][s] * grads[s]
                    acc += _box(up, kernel)
                below.append(g * acc)
                r[lvl, s] = below[-1].mean()
            grads = below
        grad_rms = np.sqrt(r)
    return MeanField(k=k, depth=depth, v=v, q=q, mean=m, var=var, r=r, grad_rms=grad_rms)


@dataclass(frozen=True)
class VideoMeanField:
    """The mean-field prediction for the video network's layers L_0..L_L, float64 ``[L + 1]`` each.

    ``taps[l]`` is the mean over the outputs of layer l + 1 of the filter taps that land inside
    L_l (D^2 D_t in the interior; NaN at the top), ``back[l]`` the mean over the positions of
    L_l of the (output, tap) pairs that read it (``taps[l]`` times outputs / inputs: D^2 D_t / s^3
    in the interior). ``v``, ``q``, ``mean``, ``var``, ``r``, ``grad_rms`` as in
    :class:`MeanField` (NaN at level 0, except ``q[0]``: the measured input).
    """

    depth: int
    taps: np.ndarray
    back: np.ndarray
    v: np.ndarray
    q: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    r: np.ndarray
    grad_rms: np.ndarray


def video_taps(shape: Sequence[int], kernel: int, kernel_t: int, stride: int) -> tuple[float, float]:
    """(forward, backward) mean tap counts of one video layer reading a map of ``shape`` (T, H, W).

    Forward: the mean over the output positions (each axis ``ceil(n / stride)`` long) of the
    taps of a centred ``kernel_t`` x ``kernel`` x ``kernel`` filter, zero-padded, that land
    inside the map. The count at a position is a product of three 1-D counts over a grid of
    positions, so the mean is the product of the three 1-D means (exactly). Backward: the mean
    over the input positions of the (output, tap) pairs that read it, the same total divided by
    the inputs instead of the outputs.
    """
    fwd = back = 1.0
    for n, d in zip((int(x) for x in shape), (kernel_t, kernel, kernel)):
        if n < 1 or d < 1 or d % 2 == 0 or stride < 1:
            raise SettingsError(f"video taps need n >= 1, odd kernels and stride >= 1, not n={n}, D={d}, s={stride}")
        counts = _tap_counts_1d(n, d, stride)
        fwd *= float(counts.mean())
        back *= float(counts.sum()) / n
    return fwd, back


def video_net_mean_field(
    q0: float,
    shape: Sequence[int],
    depth: int,
    channels: int,
    kernel: int,
    kernel_t: int,
    stride: int,
    init_vars: Sequence[float],
    activation: str,
    in_channels: int = 3,
) -> VideoMeanField:
    """docs/theory.md's recursion for Problem 2's video network (no threshold), one number per layer.

    ``q0``: the mean of L_0^2 over channels, time and positions of the clip as the network sees
    it (RGB minus 0.5); ``shape`` (T, H, W) of the clip; ``init_vars[l]`` sigma_w^2 of layer l + 1.
    With F_l and B_l the forward and backward taps of :func:`video_taps` for layer l + 1 reading
    L_l (every axis of L_{l+1} is ``ceil(n / stride)``):

    - forward: v_{l+1} = sigma^2_{l+1} I_l F_l q_l, q_{l+1} = E f(sqrt(v) z)^2 (I_0 = 3, then J);
    - backward, N(0, 1) injected at the top (r_L = 1): r_l = sigma^2_{l+1} J B_l c_{l+1} r_{l+1}, l >= 1.

    In the interior F = D^2 D_t and B = D^2 D_t / s^3: the He gain sigma^2 I D^2 D_t = 2 keeps the
    forward mean square of a ReLU network, and the gradient's mean square shrinks by s^3 per layer
    going down (the layer below has s^3 times more units sharing the same total gradient). As in
    the scale-shared network, one number per map assumes the mean square is uniform over
    positions; a border unit has fewer taps and reads units that themselves have fewer, so at
    short time windows (T = 8 with D_t = 3 loses a twelfth of the taps) and small maps the
    measured values run below the prediction (see docs/theory.md for the measured agreement).
    """
    _check_activation(activation)
    if depth < 0 or len(init_vars) != depth:
        raise SettingsError(f"need one init variance per layer ({depth}), not {len(init_vars)}")
    if channels < 1 or in_channels < 1 or stride < 1:
        raise SettingsError(f"video mean field needs channels >= 1 and stride >= 1, not J={channels}, s={stride}")
    size = tuple(int(x) for x in shape)
    if len(size) != 3:
        raise SettingsError(f"the clip's shape is (T, H, W), not {size}")
    v, q, m, var, r, taps, back = (np.full(depth + 1, np.nan) for _ in range(7))
    q[0] = float(q0)
    with np.errstate(over="ignore", invalid="ignore"):
        for lvl in range(depth):
            taps[lvl], back[lvl] = video_taps(size, kernel, kernel_t, stride)
            size = tuple(-(-n // stride) for n in size)
            v[lvl + 1] = init_vars[lvl] * (in_channels if lvl == 0 else channels) * taps[lvl] * q[lvl]
            mm, qq, _ = activation_moments(activation, v[lvl + 1])
            m[lvl + 1], q[lvl + 1] = mm, qq
        var[1:] = np.where(np.isinf(q[1:]), q[1:], np.maximum(q[1:] - m[1:] ** 2, 0.0))
        _, _, c = activation_moments(activation, v)
        if depth >= 1:
            r[depth] = 1.0
        for lvl in range(depth - 1, 0, -1):
            r[lvl] = init_vars[lvl] * channels * back[lvl] * c[lvl + 1] * r[lvl + 1]
        grad_rms = np.sqrt(r)
    return VideoMeanField(depth=depth, taps=taps, back=back, v=v, q=q, mean=m, var=var, r=r, grad_rms=grad_rms)


def _residual_gain(kernel: int, channels: int, init_var: float) -> float:
    return 1.0 + kernel * kernel * channels * float(init_var)


def residual_forward_var(var0: float, depth: int, kernel: int, channels: int, init_var: float) -> np.ndarray:
    """Problem 5(a): Var(L_l) = Var(L_0) (1 + D^2 J sigma_w^2)^l for l = 0..L, as
    ``[depth + 1]`` float64 (inf on overflow)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return float(var0) * np.power(
            _residual_gain(kernel, channels, init_var), np.arange(depth + 1, dtype=np.float64)
        )


def residual_backward_var(depth: int, kernel: int, channels: int, init_var: float) -> np.ndarray:
    """Problem 5(c): Var(dL/dL_l) = (1 + D^2 J sigma_w^2)^(L - l) for unit variance at the
    top, ``[depth + 1]`` float64 (inf on overflow)."""
    with np.errstate(over="ignore"):
        return np.power(
            _residual_gain(kernel, channels, init_var),
            np.arange(depth, -1, -1, dtype=np.float64),
        )


def unit_theory(dim: int, init_var: float, activation: str) -> tuple[float, float, float]:
    """Problem 4 for u = f(sum_{i<d} W[i] x[i]): ``(var_y, mean_u, var_u_bound)``.

    var_y = d sigma_w^2 (4a). mean_u: 1/2 for sigmoid (4b: y is symmetric about 0), 0 for
    tanh and identity (odd f), and for relu E|y|/2, which for Gaussian x and W (what
    :func:`cnnviz.core.single_unit.sample_unit` draws) is exactly
    sigma_w Gamma((d+1)/2) / (sqrt(pi) Gamma(d/2)): given x, y ~ N(0, sigma_w^2 |x|^2) and
    |x| is chi-distributed. It tends to the Gaussian value sqrt(var_y / 2 pi) as d grows
    (d = 1: 1/pi against 1/sqrt(2 pi) times sigma_w). var_u_bound: the largest possible
    Var(u), 1/4 for sigmoid (4d), 1 for tanh, NaN where f is unbounded.
    """
    _check_activation(activation)
    if dim < 1 or not (init_var >= 0):
        raise SettingsError(f"a unit needs d >= 1 and init variance >= 0, not d={dim}, {init_var}")
    with np.errstate(over="ignore"):
        var_y = float(np.float64(dim) * np.float64(init_var))
    if activation == "sigmoid":
        return var_y, 0.5, 0.25
    if activation == "tanh":
        return var_y, 0.0, 1.0
    if activation == "identity":
        return var_y, 0.0, float("nan")
    ratio = math.exp(math.lgamma((dim + 1) / 2) - math.lgamma(dim / 2))
    return var_y, math.sqrt(init_var) * ratio / math.sqrt(math.pi), float("nan")
