"""What the engine hands to views, the CLI and the exports: frozen dataclasses of numpy arrays.

Nothing here holds a tensor or a reference into one; every array is a fresh, C-contiguous
numpy copy, so a Result can cross threads and outlive the computation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..settings import Settings

if TYPE_CHECKING:
    from .video_engine import VideoNetResult

HIST_BINS = 64
DISPLAY_SIZE = 128  # largest side of a display map; statistics always use the full tensor

PROFILE_NAMES = ("interactive", "playback", "export", "stats")


@dataclass(frozen=True)
class Profile:
    """What one ``engine.run`` computes; the Result records it as ``Result.profile``.

    Every profile computes the same statistics (float64 moments, zero fraction, gradients,
    theory, multiply counts) for every layer, identical across profiles; they differ in what
    is added on top:

    - ``display_size``: the largest side of the display maps ``PyramidResult.maps`` and
      whether the pyramid strip is kept (0: neither).
    - ``histograms``: ``"all"`` layers, ``"selected"`` (only the layer ``selected``, or every
      layer while ``selected`` is None) or ``"none"`` (empty histogram arrays).
    - ``equivariance``: the second forward pass on the image shrunk by 2 (NaN readout when off).
    - ``full_maps``: ``PyramidResult.maps_full`` and ``grads_full``, every layer and its
      gradient at full resolution (the data export).
    - ``local_theory``: the per-position mean field beside the per-map one
      (``PyramidResult.theory_var_local``, ``theory_grad_rms_local``; None when off).

    The named profiles (:func:`profile`): ``interactive`` (the window: display maps, the
    selected layer's histogram, equivariance), ``playback`` (per video frame: the same without
    the equivariance pass unless asked for), ``export`` (everything, including full maps and
    gradients) and ``stats`` (numbers only: no maps, no histograms, no equivariance, no
    per-position theory). Playback leaves the per-position theory out too: it depends on each
    frame's input mean squares, and costs a few ms per new value (cached while they repeat).
    """

    name: str = "interactive"
    display_size: int = DISPLAY_SIZE
    histograms: str = "selected"  # "all", "selected" or "none"
    selected: tuple[int, int] | None = None  # (level, scale) whose histogram "selected" computes
    equivariance: bool = True
    full_maps: bool = False
    local_theory: bool = True

    def wants_histogram(self, level: int, scale: int) -> bool:
        if self.histograms == "all" or (self.histograms == "selected" and self.selected is None):
            return True
        return self.histograms == "selected" and self.selected == (level, scale)


_PROFILES = {
    "interactive": Profile("interactive"),
    "playback": Profile("playback", equivariance=False, local_theory=False),
    "export": Profile("export", histograms="all", full_maps=True),
    "stats": Profile("stats", display_size=0, histograms="none", equivariance=False, local_theory=False),
}


def profile(name: str | Profile = "interactive", **changes: object) -> Profile:
    """The named profile (one of :data:`PROFILE_NAMES`), or ``name`` itself, with ``changes``
    applied, e.g. ``profile("playback", equivariance=True)``. Raises ValueError for an unknown
    name or field value."""
    import dataclasses

    if isinstance(name, Profile):
        base = name
    elif name in _PROFILES:
        base = _PROFILES[name]
    else:
        raise ValueError(f"profile must be one of {', '.join(PROFILE_NAMES)}, not {name!r}")
    out = dataclasses.replace(base, **changes) if changes else base  # type: ignore[arg-type]
    if out.histograms not in ("all", "selected", "none"):
        raise ValueError(f"histograms must be 'all', 'selected' or 'none', not {out.histograms!r}")
    if out.display_size < 0:
        raise ValueError(f"display_size must be >= 0, not {out.display_size}")
    if out.selected is not None:
        out = dataclasses.replace(out, selected=(int(out.selected[0]), int(out.selected[1])))
    return out


@dataclass(frozen=True)
class LayerStats:
    """Statistics of one layer, computed in float64 over every element.

    ``level`` is l and ``scale`` is s for L_{l,s} (the residual stack uses scale 0).
    ``shape`` is the torch shape ``(B, C, H, W)``. Gradient fields are with respect to the
    layer output L_{l,s}, from seeded N(0,1) gradients injected at the top level; they are
    NaN where no gradient is defined (level 0). Theory fields are NaN where docs/theory.md gives
    no closed form. Statistics ignore non-finite values, which ``nonfinite`` counts.
    """

    level: int
    scale: int
    shape: tuple[int, ...]
    mean: float
    var: float
    mean_sq: float
    zero_frac: float
    nonfinite: int
    hist_counts: np.ndarray  # [HIST_BINS] int64, finite values only ([0] where the profile skips it)
    hist_edges: np.ndarray  # [HIST_BINS + 1] float64 ([0] where the profile skips it)
    grad_var: float = float("nan")
    grad_rms: float = float("nan")
    grad_nonfinite: int = 0
    multiplies: int = 0  # Problem 1's count for producing this layer (0 for level 0)
    theory_mean_sq: float = float("nan")
    theory_var: float = float("nan")
    theory_grad_rms: float = float("nan")
    sat_frac: float = float("nan")  # tanh/sigmoid: the fraction of outputs where f' is small (see SATURATION)

    @property
    def size(self) -> int:
        """Spatial size n of the (square) map."""
        return int(self.shape[-1])

    @property
    def numel(self) -> int:
        return int(np.prod(self.shape))


@dataclass(frozen=True)
class PyramidResult:
    """Problem 3: the image pyramid and the scale-shared network on one image.

    ``maps[(l, s)]`` is the display array of L_{l,s}: float32 ``[C, h, w]`` with h, w at
    most ``display_size`` (average-pooled down when the layer is larger; NaN/inf kept so a
    view can mark them), read-only (on the CPU a view of the run's own layer, in any memory
    order: ``np.ascontiguousarray`` where a C-contiguous copy is needed); empty when the
    profile has no display maps.

    ``maps_full`` and ``grads_full`` (the export profile only, otherwise empty dicts) hold every
    layer and its gradient at full resolution, float32 C-contiguous ``[C, n, n]`` keyed by
    ``(l, s)``: ``maps_full[(0, s)]`` is the pyramid image I_s as the network sees it,
    ``[3, 2^(k-s), 2^(k-s)]``, RGB minus the input offset 0.5; ``maps_full[(l, s)]`` for
    l >= 1 is L_{l,s} ``[J, 2^(k-l-s), 2^(k-l-s)]``; ``grads_full[(l, s)]`` (l >= 1 only: no
    gradient reaches the image) is dLoss/dL_{l,s}, same shape, for the seeded N(0, 1)
    injected at the top level. ``equivariance[l]`` is max |L'_{l,s} - L_{l,s+1}| / max |L_{l,s+1}|
    over s, where L' is the network on the image shrunk by 2x2 averaging (NaN for levels
    that have no pair).

    ``theory_var_local`` and ``theory_grad_rms_local`` (float64 ``[depth + 1, k + 1]``, NaN where
    l + s > k; None where the profile leaves them out) are the mean field carried per position
    (:func:`cnnviz.core.theory.scale_net_mean_field` with ``per_position=True``): on the coarse
    maps, where the per-map theory is up to 40 % low at the borders, it stays within about
    17 % forward and 13 % backward.
    """

    k: int
    depth: int
    init_var: float  # sigma_w^2 actually used
    fan_in: int  # of levels >= 2: 2 D^2 J
    image: np.ndarray  # [N, N, 3] float32 in [0, 1], the fitted input
    pyramid: tuple[np.ndarray, ...]  # [n_s, n_s, 3] float32, s = 0..k (only s = 0 without display maps)
    maps: dict[tuple[int, int], np.ndarray]
    layers: tuple[LayerStats, ...]
    equivariance: np.ndarray  # [depth + 1] float64
    maps_full: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)  # export: [C, n, n] float32
    grads_full: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)  # export, l >= 1: [J, n, n]
    theory_var_local: np.ndarray | None = None  # [depth + 1, k + 1] float64, per-position mean field
    theory_grad_rms_local: np.ndarray | None = None  # [depth + 1, k + 1] float64

    def layer(self, level: int, scale: int) -> LayerStats:
        for st in self.layers:
            if st.level == level and st.scale == scale:
                return st
        raise KeyError((level, scale))

    def grid(self, name: str) -> np.ndarray:
        """One LayerStats field as a float64 array ``[depth + 1, k + 1]``, NaN where l + s > k."""
        out = np.full((self.depth + 1, self.k + 1), np.nan)
        for st in self.layers:
            out[st.level, st.scale] = getattr(st, name)
        return out

    @property
    def nonfinite_layers(self) -> list[tuple[int, int]]:
        return [(st.level, st.scale) for st in self.layers if st.nonfinite]


@dataclass(frozen=True)
class ResidualResult:
    """Problem 5: the residual stack, measured beside (1 + D^2 J sigma_w^2)^l and ^(L-l).

    ``layers[l]`` holds the statistics of L_l, l = 0..L (scale 0). ``theory_var[l]`` is
    Var(L_0) (1 + D^2 J sigma_w^2)^l from the measured Var(L_0); ``theory_grad_var[l]`` is
    (1 + D^2 J sigma_w^2)^(L-l), with unit gradient variance at the top.
    """

    depth: int
    init_var: float
    input_kind: str  # "noise" or "image"
    layers: tuple[LayerStats, ...]
    theory_var: np.ndarray  # [L + 1] float64
    theory_grad_var: np.ndarray  # [L + 1] float64

    def series(self, name: str) -> np.ndarray:
        return np.array([getattr(st, name) for st in self.layers], dtype=np.float64)


@dataclass(frozen=True)
class UnitResult:
    """Problem 4: samples of y = sum_i W[i] x[i] and u = f(y) over draws of x and W."""

    dim: int
    init_var: float
    activation: str
    y: np.ndarray  # [n] float64
    u: np.ndarray  # [n] float64
    var_y_theory: float  # d sigma_w^2
    mean_u_theory: float  # 1/2 for sigmoid (symmetric input), NaN where no closed form
    var_u_bound: float  # 1/4 for sigmoid; NaN where none


@dataclass(frozen=True)
class CostRow:
    """Problem 1: multiplies to produce one layer (l, s) and its branches."""

    level: int
    scale: int
    shape: tuple[int, ...]  # output (B, J, H, W)
    multiplies_left: int  # the <- branch: stride-1 conv of L_{l-1,s+1}
    multiplies_up: int  # the ^ branch: stride-2 conv of L_{l-1,s}
    torch_flops: int = -1  # FlopCounterMode's count (2 per multiply-add), -1 if not measured

    @property
    def multiplies(self) -> int:
        return self.multiplies_left + self.multiplies_up


@dataclass(frozen=True)
class Result:
    """The output of one ``engine.run(settings, frame)``: everything a view may draw."""

    settings: Settings
    device: str  # the device actually used, e.g. "cpu" or "cuda:0"
    pyramid: PyramidResult | None = None
    residual: ResidualResult | None = None
    unit: UnitResult | None = None
    costs: tuple[CostRow, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)  # milliseconds per stage
    warnings: tuple[str, ...] = ()
    source: str = ""  # what was fed in, e.g. "chelsea.png, centre-cropped 451x300 -> 300x300, resized to 256"
    profile: Profile = field(default_factory=Profile)  # what this run computed (see Profile)
    video: VideoNetResult | None = None  # Problem 2's network (mode "video-net"), from core.video_engine

    @property
    def total_multiplies(self) -> int:
        return sum(row.multiplies for row in self.costs)
