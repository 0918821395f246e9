"""The window's figures, drawn again with matplotlib for slides and reports (no Qt, no display).

Each figure of :data:`~cnnviz.export.naming.FIGURES` is one plot of the window, drawn from the
same :class:`~cnnviz.core.result.Result` with the same colours: the (l, s) feature-map grid,
the variance, gradient, zero-fraction and equivariance curves and the histogram of the
pyramid mode; the residual stack's curves and the single unit's histograms of the init lab;
the multiplies per layer of the cost mode; the video network's layers (the map at the newest
time step with its x-t strip under it), its variance and gradient curves with the mean-field
theory, and its cost table (Problem 2).

Curves are vector paths in SVG and PDF. Feature maps are pixel images, each upscaled
nearest-neighbour in numpy to at least :data:`CELL_PX` pixels before it is embedded, so no
viewer (browser, Inkscape, a PDF reader, LaTeX) can blur a small map. Only
``matplotlib.figure.Figure`` is used, never pyplot: no GUI backend is ever loaded.

Every file is stamped with the scene (:mod:`cnnviz.export.stamp`) and written atomically.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
from matplotlib.colors import ListedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from .. import __version__
from ..colours import (
    DIVERGING_MAP,
    NONFINITE_HEX,
    colorize,
    data_range,
    finite_range,
    is_signed,
    lut,
    rgb_image,
    scale_colors,
)
from ..core.result import PyramidResult, ResidualResult, Result, UnitResult
from ..errors import ExportError
from ..io.files import atomic_path
from ..maps import grid_keys, levels_for, map_image, pyramid_rgb
from ..numtext import human
from ..scene import Scene
from .naming import FIGURE_FORMATS, FIGURES
from .stamp import PNG_KEY, stamp_text

if TYPE_CHECKING:
    from ..core.video_engine import VideoNetResult

BASE_DPI = 100  # pixels per inch at scale 1; a PNG at scale 2 is 200 dpi and twice the pixels
CELL_PX = 128  # a feature map is embedded with at least this many pixels across
PITCH = 1.35  # grid cell size 1 plus the gap for titles and arrows (as in the window)
TEXT = "#202020"
MUTED = "#606060"
SELECT = "#d62728"
MEASURED = "#31688e"
THEORY = "#d95f02"  # orange against blue: distinct for every common colour-vision deficiency
EQUIVARIANT_BELOW = 1e-4
EQ_FLOOR = 1e-9
UNIT_BINS = 80

STYLE: dict[Any, Any] = {  # rcParams for every figure (keys typed as matplotlib's RcKeyType)
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica", "Liberation Sans"],
    "font.size": 11,
    "axes.titlesize": 13,
    "axes.labelsize": 12,
    "xtick.labelsize": 10.5,
    "ytick.labelsize": 10.5,
    "legend.fontsize": 10,
    "legend.title_fontsize": 10,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#d8d8d8",
    "grid.linewidth": 0.6,
    "axes.edgecolor": "#505050",
    "axes.labelcolor": TEXT,
    "text.color": TEXT,
    "xtick.color": "#404040",
    "ytick.color": "#404040",
    "lines.linewidth": 2.0,
    "lines.markersize": 4.5,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    # SVG: text stays text (editable in Inkscape), ids are reproducible; PDF: TrueType fonts
    "svg.fonttype": "none",
    "svg.hashsalt": "cnnviz",
    "pdf.fonttype": 3,
    # vector formats keep each map as its own unresampled image
    "image.composite_image": False,
    "mathtext.default": "regular",
}


def _pyr(result: Result) -> PyramidResult:
    if result.pyramid is None:
        raise ExportError("this figure needs the pyramid network's result, which this run did not compute")
    return result.pyramid


def _residual(result: Result) -> ResidualResult:
    if result.residual is None:
        raise ExportError("this figure needs the residual stack's result, which this run did not compute")
    return result.residual


def _unit(result: Result) -> UnitResult:
    if result.unit is None:
        raise ExportError("this figure needs the single unit's samples, which this run did not compute")
    return result.unit


def _video(result: Result) -> VideoNetResult:
    if result.video is None:
        raise ExportError("this figure needs the video network's result, which this run did not compute")
    return result.video


# -- numbers and captions -------------------------------------------------------------------
def fmt(x: float, digits: int = 3) -> str:
    """A number for a person, written as the window writes it (:func:`cnnviz.numtext.human`)."""
    return human(x, digits)


CAPTION_NAME_CHARS = 48  # a longer source name is shortened in the middle (the caption wraps at the figure's width)


def caption(result: Result, scene: Scene, figure: str) -> str:
    """The settings behind ``figure`` in one line, printed small under it: a slide says what made it."""
    s = result.settings
    src = scene.source.name if scene.source is not None and scene.source.name else ""
    if src and scene.source is not None and scene.source.frame is not None:
        src += f" frame {scene.source.frame}"
    if figure.startswith("unit_"):
        u = _unit(result)
        src = ""  # the single unit samples its own inputs
        net = f"single unit: d = {s.unit_dim}, {s.unit_activation}, Var(w) = {fmt(u.init_var)} ({s.unit_init})"
    elif figure in FIGURES["video-net"]:
        v = _video(result)
        what = f"frames {v.frames[0]}–{v.frames[-1]}" if v.frames else f"a still clip of {v.window}"
        src = f"{scene.source.name} {what}" if scene.source is not None and scene.source.name else what
        net = (
            f"video net {s.size}², depth {s.depth}, J = {s.channels}, D = {s.kernel}, Dₜ = {v.kernel_t}, "
            f"stride {v.stride}, {s.activation}, Var(w) = {fmt(v.init_vars[-1])} ({s.init})"
        )
    elif figure.startswith("residual_"):
        r = _residual(result)
        if s.residual_input == "noise":
            src = f"N(0, 1) noise {s.noise_size}×{s.noise_size}"
        net = (
            f"residual stack: depth L = {s.residual_depth}, J = {s.channels}, D = {s.kernel}, "
            f"{s.residual_activation}, Var(w) = {fmt(r.init_var)} ({s.residual_init})"
        )
    else:
        p = result.pyramid
        var = fmt(p.init_var) if p is not None else fmt(s.init_var("init"))
        net = (
            f"{s.size}×{s.size} input, depth {s.depth}, J = {s.channels}, D = {s.kernel}, {s.activation}, "
            f"Var(w) = {var} ({s.init}), {'shared' if s.shared else 'unshared'} weights"
        )
    if len(src) > CAPTION_NAME_CHARS:  # the full name is in the stamp; the caption keeps its ends
        half = CAPTION_NAME_CHARS // 2 - 1
        src = f"{src[:half]}…{src[-half:]}"
    src = src.replace("$", r"\$")  # a file name is text, never mathtext
    parts = [f"cnnviz {__version__}", src, net, f"seed {s.seed}"]
    return "  ·  ".join(p for p in parts if p)


def _figure(
    width: float, height: float, result: Result, scene: Scene, figure: str, legend_outside: bool = False
) -> Figure:
    """A figure ``width`` x ``height`` inches with its caption and one axes placed by fixed margins.

    Margins in inches, not a layout engine: the labels' room is known (ticks of at most six
    characters, one title line, a legend of at most ~2 inches) and a constrained layout costs
    a full text layout per figure, a third of the export's time.
    """
    fig = Figure(figsize=(width, height), dpi=BASE_DPI)
    fig.text(0.01, 0.012, caption(result, scene, figure), fontsize=7.5, color=MUTED, ha="left", va="bottom", wrap=True)
    left, right, bottom, top = 0.95, (2.3 if legend_outside else 0.3), 0.78, 0.42
    fig.add_axes((left / width, bottom / height, 1 - (left + right) / width, 1 - (bottom + top) / height))
    return fig


def _axes(fig: Figure) -> Any:
    return fig.axes[0]


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
_SUBSCRIPT = str.maketrans("0123456789+-lsi", "₀₁₂₃₄₅₆₇₈₉₊₋ₗₛᵢ")


def _sub(text: object) -> str:
    """Unicode subscripts (L₃,₁): text, not mathtext, so no figure pays a parse per label and format."""
    return str(text).translate(_SUBSCRIPT)


def _power_of_ten(v: float, _pos: object = None) -> str:
    """10⁻² rather than mathtext's $10^{-2}$: the same on the page, without a parse per label and format."""
    if v <= 0 or not math.isfinite(v):
        return ""
    e = round(math.log10(v))
    if abs(math.log10(v) - e) > 1e-6:
        return ""
    return {0: "1", 1: "10"}.get(e, "10" + str(e).translate(_SUPERSCRIPT))


def _plain(v: float, _pos: object = None) -> str:
    return f"{v:g}".replace("e-0", "e-").replace("e+0", "e")


def _log_ticks(ax) -> None:
    """Readable ticks on a log y axis: 1-2-5 steps written as plain numbers over a short range,
    powers of ten (10⁻³) over a long one, never more than about eight labels."""
    lo, hi = ax.get_ylim()
    if not (lo > 0 and hi > lo):
        return
    decades = math.log10(hi / lo)
    if decades <= 2.5:
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(_plain))
    else:
        ax.yaxis.set_major_locator(LogLocator(base=10, numticks=9))
        ax.yaxis.set_major_formatter(FuncFormatter(_power_of_ten))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _level_axis(ax, levels: Iterable[int], label: str = "level l") -> None:
    levels = list(levels)
    ax.set_xlabel(label)
    if levels:
        ax.set_xlim(levels[0] - 0.5, levels[-1] + 0.5)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=min(12, len(levels) + 1)))
    ax.grid(axis="x", visible=False)


def _positive(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64).copy()
    with np.errstate(invalid="ignore"):
        v[~(np.isfinite(v) & (v > 0))] = np.nan
    return v


def _log_limits(measured: list[np.ndarray], theory: list[np.ndarray]) -> tuple[float, float] | None:
    """y limits of a log axis: the measurement's range, widened to theory within 6 decades of it."""

    def rng(arrays):
        vals = np.concatenate([_positive(a).ravel() for a in arrays]) if arrays else np.array([])
        vals = vals[np.isfinite(vals)]
        if vals.size == 0:
            return None
        return math.log10(max(float(vals.min()), 1e-300)), math.log10(min(float(vals.max()), 1e300))

    m, t = rng(measured), rng(theory)
    if m is None:
        m, t = t, None
    if m is None:
        return None
    lo, hi = m
    if t is not None:
        lo, hi = max(min(lo, t[0]), m[0] - 6), min(max(hi, t[1]), m[1] + 6)
    pad = max(0.12, 0.06 * (hi - lo))
    return 10 ** (lo - pad), 10 ** (hi + pad)


def _overflow_marks(ax, xs: Iterable[float], log: bool) -> None:
    xs = sorted(set(xs))
    if xs:
        ax.plot(
            xs,
            [0.96] * len(xs),
            "x",
            color=NONFINITE_HEX,
            ms=9,
            mew=2.5,
            transform=ax.get_xaxis_transform(),
            clip_on=False,
            zorder=5,
        )


def _style_legend(ax, handles, labels, title: str | None = None) -> None:
    ax.legend(
        handles, labels, title=title, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, handlelength=2.4
    )


def _scale_legend(ax, n_scales: int, theory_label: str | None, nonfinite: bool) -> None:
    colors = scale_colors(n_scales)
    handles = [Line2D([], [], color=c, marker="o", lw=2) for c in colors]
    labels = [f"s = {s}" for s in range(n_scales)]
    if theory_label:  # line styles matter only when there are two of them
        handles += [Line2D([], [], color=MUTED, lw=2), Line2D([], [], color=MUTED, lw=1.5, ls="--")]
        labels += ["measured", theory_label]
    if nonfinite:
        handles.append(Line2D([], [], color=NONFINITE_HEX, marker="x", lw=0, ms=8, mew=2.5))
        labels.append("inf/NaN")
    _style_legend(ax, handles, labels, "scale s")


# -- pyramid mode ---------------------------------------------------------------------------
def family_series(
    pyr: PyramidResult, measured: np.ndarray, theory: np.ndarray | None, bad: np.ndarray, log: bool, first_level: int
) -> tuple[list[tuple[int, np.ndarray, np.ndarray, np.ndarray | None]], list[int]]:
    """What a per-level curve figure draws: per scale s, ``(s, levels [n], measured [n], theory [n] or None)``
    as drawn (NaN where not drawable: not positive on a log axis, overflowed), and the overflowed levels.

    measured, theory: float ``[depth + 1, k + 1]`` indexed (l, s); bad: bool, the same shape."""
    series, overflow = [], []
    for s in range(pyr.k + 1):
        levels = np.arange(first_level, min(pyr.depth, pyr.k - s) + 1)
        if levels.size == 0:
            continue
        y = measured[levels, s].astype(np.float64)
        y_draw = _positive(y) if log else np.where(np.isfinite(y), y, np.nan)
        y_draw[bad[levels, s]] = np.nan
        overflow += levels[bad[levels, s] | ~np.isfinite(y)].tolist()
        t_draw = None
        if theory is not None:
            t = theory[levels, s].astype(np.float64)
            t_draw = _positive(t) if log else t
        series.append((s, levels, y_draw, t_draw))
    return series, overflow


def family_inputs(pyr: PyramidResult, figure: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool, int]:
    """(measured, theory, bad, log, first level) of the "variance" or "gradient" figure, each ``[depth + 1, k + 1]``."""
    if figure == "variance":
        return pyr.grid("var"), pyr.grid("theory_var"), pyr.grid("nonfinite") > 0, True, 0
    bad = (pyr.grid("nonfinite") > 0) | (pyr.grid("grad_nonfinite") > 0)
    return pyr.grid("grad_rms"), pyr.grid("theory_grad_rms"), bad, True, 1


def _family(
    fig: Figure,
    result: Result,
    name: str,
    measured: np.ndarray,
    theory: np.ndarray | None,
    bad: np.ndarray,
    log: bool,
    first_level: int,
    title: str,
    ylabel: str,
    theory_label: str = "theory (mean field)",
) -> None:
    """One value per (l, s) against level l, one colour per scale s, theory dashed beside it.

    The lines are kept as ``fig._cnnviz_lines[(s, "measured" | "theory")]`` (a movie moves them)."""
    pyr = _pyr(result)
    ax = _axes(fig)
    n_scales = pyr.k + 1
    colors = scale_colors(n_scales)
    series, overflow = family_series(pyr, measured, theory, bad, log, first_level)
    shown_m, shown_t, lines = [], [], {}
    for s, levels, y_draw, t_draw in series:
        if not np.isnan(y_draw).all():
            (lines[s, "measured"],) = ax.plot(levels, y_draw, "-o", color=colors[s], zorder=3, label=f"s = {s}")
        shown_m.append(y_draw)
        if t_draw is not None:
            if not np.isnan(t_draw).all():
                (lines[s, "theory"],) = ax.plot(levels, t_draw, "--", color=colors[s], lw=1.4, alpha=0.9, zorder=2)
            shown_t.append(t_draw)
    fig._cnnviz_lines = lines  # type: ignore[attr-defined]
    if log:
        ax.set_yscale("log")
        lim = _log_limits(shown_m, shown_t)
        if lim is not None:
            ax.set_ylim(*lim)
            _log_ticks(ax)
    _overflow_marks(ax, overflow, log)
    _level_axis(ax, range(first_level, pyr.depth + 1))
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    _scale_legend(ax, n_scales, theory_label if theory is not None else None, bool(overflow))


def fig_variance(result: Result, scene: Scene) -> Figure:
    pyr = _pyr(result)
    fig = _figure(7.2, 4.4, result, scene, "variance", legend_outside=True)
    _family(
        fig,
        result,
        "var",
        *family_inputs(pyr, "variance"),
        title="Activation variance per level",
        ylabel="variance Var(Lₗ,ₛ)",
    )
    return fig


def fig_gradient(result: Result, scene: Scene) -> Figure:
    pyr = _pyr(result)
    fig = _figure(7.2, 4.4, result, scene, "gradient", legend_outside=True)
    _family(
        fig,
        result,
        "grad",
        *family_inputs(pyr, "gradient"),
        title="Gradient RMS per level (backward from the top)",
        ylabel="RMS of ∂/∂Lₗ,ₛ",
    )
    return fig


def fig_zeros(result: Result, scene: Scene) -> Figure:
    pyr = _pyr(result)
    fig = _figure(7.2, 4.4, result, scene, "zeros", legend_outside=True)
    dead = result.settings.activation == "relu"
    _family(
        fig,
        result,
        "zero",
        100 * pyr.grid("zero_frac"),
        None,
        pyr.grid("nonfinite") > 0,
        log=False,
        first_level=1,
        title="Dead ReLU units per level" if dead else "Exact zeros per level",
        ylabel="units exactly 0 (%)",
    )
    ax = fig.axes[0]
    ax.set_ylim(-2, 102)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f} %"))
    return fig


def fig_equivariance(result: Result, scene: Scene) -> Figure:
    pyr = _pyr(result)
    fig = _figure(7.2, 4.4, result, scene, "equivariance", legend_outside=True)
    ax = _axes(fig)
    eq = np.asarray(pyr.equivariance, dtype=float)
    levels = np.arange(1, len(eq))
    vals = eq[1:]
    drawn = np.where(np.isfinite(vals), np.maximum(vals, EQ_FLOOR), np.nan)
    ax.plot(levels, drawn, "-o", color="#444444", zorder=3, label="measured")
    ax.axhline(EQUIVARIANT_BELOW, color=MUTED, ls="--", lw=1.2, label="float rounding\n(10⁻⁴)")
    ax.set_yscale("log")
    lim = _log_limits([drawn, np.array([EQUIVARIANT_BELOW])], [])
    if lim is not None:
        ax.set_ylim(min(lim[0], EQ_FLOOR / 10), max(lim[1], 10.0))
        _log_ticks(ax)
    _overflow_marks(ax, levels[~np.isfinite(vals)].tolist(), True)
    _level_axis(ax, range(1, pyr.depth + 1))
    finite = vals[np.isfinite(vals)]
    err = float(finite.max()) if finite.size else math.nan
    weights = "shared weights" if result.settings.shared else "weights not shared"
    if math.isnan(err):
        verdict = "no level has a pair to compare"
    elif err < EQUIVARIANT_BELOW:
        verdict = "scale-equivariant up to float rounding"
    else:
        verdict = "equivariance broken"
    ax.set_title(f"Scale equivariance ({weights})")
    ax.text(0.02, 0.97, verdict, transform=ax.transAxes, ha="left", va="top", fontsize=11)
    ax.set_ylabel("max|L′ₗ,ₛ − Lₗ,ₛ₊₁| / max|Lₗ,ₛ₊₁|")
    if np.any(vals == 0):
        ax.text(0.02, 0.03, "exactly 0, drawn at 10⁻⁹", transform=ax.transAxes, fontsize=10, color=MUTED)
    handles, labels = ax.get_legend_handles_labels()
    _style_legend(ax, handles, labels)
    return fig


def _selected(result: Result, scene: Scene) -> tuple[int, int]:
    pyr = _pyr(result)
    keys = {(st.level, st.scale) for st in pyr.layers}
    sel = scene.view.selected
    return sel if sel in keys else (pyr.depth, 0)


def fig_histogram(result: Result, scene: Scene) -> Figure:
    pyr = _pyr(result)
    key = _selected(result, scene)
    st = pyr.layer(*key)
    fig = _figure(7.2, 4.0, result, scene, "histogram")
    ax = _axes(fig)
    name = f"I{_sub(key[1])}" if key[0] == 0 else f"L{_sub(key[0])},{_sub(key[1])}"
    ax.set_title(f"Histogram of {name} (l = {key[0]}, s = {key[1]})")
    counts = np.asarray(st.hist_counts, dtype=float)
    edges = np.asarray(st.hist_edges, dtype=float)
    if counts.size and np.all(np.isfinite(edges)) and counts.sum() > 0:
        ax.stairs(np.maximum(counts, 0.5), edges, fill=True, color=MEASURED, alpha=0.35, baseline=0.5)
        ax.stairs(np.maximum(counts, 0.5), edges, color=MEASURED, lw=1.2, baseline=0.5)
        ax.set_yscale("log")
        ax.set_ylim(0.5, 10 ** math.ceil(math.log10(max(counts.max(), 1)) + 0.15))
        _log_ticks(ax)
    else:  # every value inf/NaN (an overflowed layer): say so where the bars would be
        ax.text(0.5, 0.5, "no finite values to count", transform=ax.transAxes, ha="center", va="center", fontsize=12)
        ax.set_xticks([])
        ax.set_yticks([])
    if math.isfinite(st.mean):
        ax.axvline(st.mean, color=SELECT, lw=1.5, label=f"mean {fmt(st.mean)}")
    note = f"variance {fmt(st.var)}"
    if math.isfinite(st.theory_var):
        note += f" (theory {fmt(st.theory_var)})"
    if st.nonfinite:
        note += f"\n{st.nonfinite} inf/NaN left out"
    ax.text(0.99, 0.97, note, transform=ax.transAxes, ha="right", va="top", fontsize=10.5)
    ax.set_xlabel("activation value")
    ax.set_ylabel("count (log scale)")
    if math.isfinite(st.mean):
        ax.legend(loc="upper left")
    return fig


def _upscale(rgba: np.ndarray, min_px: int = CELL_PX) -> np.ndarray:
    """uint8 ``[h, w, C]`` repeated nearest-neighbour by an integer factor to at least ``min_px`` across."""
    f = max(1, math.ceil(min_px / max(rgba.shape[0], rgba.shape[1])))
    return rgba if f == 1 else np.ascontiguousarray(rgba.repeat(f, axis=0).repeat(f, axis=1))


def _subscripted(ax, x: float, y: float, base: str, sub: str, fs: float, color: str, bad: bool) -> None:
    """``base`` with ``sub`` as a subscript, as two plain texts: mathtext costs a parse per cell
    and per format, which made the grid the slowest figure to save."""
    ax.text(x, y, base, fontsize=fs, color=color, ha="left", va="bottom")
    ax.annotate(
        sub + (" ∞" if bad else ""),
        xy=(x, y),
        xytext=((0.35 if base == "I" else 0.6) * fs, -0.12 * fs),
        textcoords="offset points",
        fontsize=fs * 0.72,
        color=color,
        ha="left",
        va="bottom",
        annotation_clip=False,
    )


def grid_cell(
    pyr: PyramidResult, key: tuple[int, int], images: dict, view: Any, signed: bool, table: np.ndarray
) -> tuple[np.ndarray, float]:
    """Cell (l, s) of the grid as drawn: uint8 ``[h, w, 3 | 4]`` and its aspect h / w (the input I_s at l = 0).

    images: the display images of levels >= 1 (``maps.map_image``); table: the colour map's LUT."""
    l, s = key
    if l == 0:
        return pyramid_rgb(pyr, s), 1.0
    im = images[key]
    levels = levels_for(images, key, view.normalisation, signed)
    return colorize(im.data, levels, table, im.gap_mask), im.data.shape[0] / im.data.shape[1]


def fig_grid(result: Result, scene: Scene) -> Figure:
    """The (l, s) triangle as the window draws it: column s, row l + s from the bottom, so the
    two inputs of L_{l+1,s} sit where the seed's arrows point (<- to its right, ^ below it)."""
    pyr = _pyr(result)
    view = scene.view
    k, depth = pyr.k, pyr.depth
    signed = is_signed(result.settings.activation)
    cmap_name = DIVERGING_MAP if signed else view.colormap
    table = lut(cmap_name)
    keys = grid_keys(k, depth)
    images = {key: map_image(pyr.maps[key], view) for key in keys if key[0] >= 1}
    stats = {(st.level, st.scale): st for st in pyr.layers}
    selected = _selected(result, scene)

    fig = _figure(8.6, 8.0, result, scene, "grid")
    ax = _axes(fig)
    ax.set_position((0.01, 0.09, 0.85, 0.85))
    ax.set_axis_off()
    ax.set_aspect("equal")
    extent = (k + 1) * PITCH
    ax.set_xlim(-0.15, extent + 0.55)
    ax.set_ylim(-0.55, extent + 0.05)
    # font size from the size of a cell on the page: labels fit the gaps at any k
    unit_pt = 8.6 * 72 * 0.82 / (extent + 0.7)
    fs = float(np.clip(0.26 * unit_pt, 6.5, 12.0))
    images_drawn = []
    for key in keys:
        l, s = key
        x, y = s * PITCH, (l + s) * PITCH
        st = stats.get(key)
        bad = bool(st is not None and st.nonfinite)
        rgba, aspect = grid_cell(pyr, key, images, view, signed, table)
        w, h = (1.0, aspect) if aspect <= 1 else (1 / aspect, 1.0)
        x0, y0 = x + (1 - w) / 2, y + (1 - h) / 2
        art = ax.imshow(_upscale(rgba), extent=(x0, x0 + w, y0, y0 + h), interpolation="none", zorder=1)
        images_drawn.append(art)
        color = NONFINITE_HEX if bad else (MUTED if l == 0 else TEXT)
        title_y = y + (1.08 if bad else 1.03)  # above the overflow frame, which sits at y + 1.04
        _subscripted(ax, x, title_y, "I" if l == 0 else "L", f"{s}" if l == 0 else f"{l},{s}", fs, color, bad)
        if bad:
            ax.add_patch(Rectangle((x - 0.04, y - 0.04), 1.08, 1.08, fill=False, ec=NONFINITE_HEX, lw=2.5, zorder=4))
        if l >= 1:  # the seed's arrows in the gaps: <- from the next-coarser scale, ^ from below
            ax.text(x + 1 + (PITCH - 1) / 2, y + 0.5, "←", fontsize=fs * 1.1, color="#8a8a8a", ha="center", va="center")
            ax.text(x + 0.85, y - (PITCH - 1) / 2, "↑", fontsize=fs * 1.1, color="#8a8a8a", ha="center", va="center")
    if scene.view.selected is not None and selected in stats:
        l, s = selected
        ax.add_patch(
            Rectangle((s * PITCH - 0.07, (l + s) * PITCH - 0.07), 1.14, 1.14, fill=False, ec=SELECT, lw=2, zorder=5)
        )
    for row in range(k + 1):  # each row holds maps of one size n x n: said right of its last cell
        n = 2 ** (k - row)
        ax.text(row * PITCH + 1.06, row * PITCH + 0.5, f"{n}×{n}", fontsize=fs * 0.9, color=MUTED, va="center")
    for s in range(k + 1):
        ax.text(s * PITCH + 0.5, -0.08, f"s = {s}", fontsize=fs * 0.9, color=MUTED, ha="center", va="top")
    if k >= 3:  # the equation, in the empty lower-right half of the triangle
        ax.text(
            extent,
            0.05 + PITCH * 0.3,
            "Lₗ₊₁,ₛ = f(W← ⋆ Lₗ,ₛ₊₁ + W↑ ⋆₂ Lₗ,ₛ + B)"
            "\n← from the right: next-coarser scale, stride 1\n↑ from below: same scale, stride 2",
            fontsize=fs,
            color=TEXT,
            ha="right",
            va="bottom",
            linespacing=1.5,
        )
    # the colour bar of the selected level (or the top one), as in the window
    cb_key = selected if selected[0] >= 1 else next((kk for kk in keys if kk[0] >= 1), None)
    if cb_key is not None:
        lo, hi = levels_for(images, cb_key, view.normalisation, signed)
        mappable = matplotlib.cm.ScalarMappable(Normalize(lo, hi), ListedColormap(table[:, :3] / 255.0))
        scope = {"map": f"L{_sub(cb_key[0])},{_sub(cb_key[1])}", "level": f"level {cb_key[0]}", "global": "levels ≥ 1"}
        cb = fig.colorbar(mappable, cax=fig.add_axes((0.865, 0.3, 0.022, 0.45)))
        cb.set_label(f"activation value ({scope[view.normalisation]})")
        cb.outline.set_visible(False)
        fig._cnnviz_colorbar = (cb, cb_key)  # type: ignore[attr-defined]  # a movie sets its limits per frame
    what = (
        f"channel {min(view.channel, result.settings.channels - 1)}"
        if not view.mosaic
        else f"all {result.settings.channels} channels (mosaic)"
    )
    norm = {"map": "per map", "level": "per level", "global": "global"}[view.normalisation]
    cmap_text = f"{DIVERGING_MAP} centred at 0 (signed layers)" if signed else view.colormap
    bad_layers = pyr.nonfinite_layers
    note = f"showing {what} · {cmap_text}, colours {norm} · magenta = inf or NaN"
    if bad_layers:
        note += f" · {len(bad_layers)} layer(s) overflowed"
    ax.set_title(
        f"Feature maps Lₗ,ₛ of the scale-shared network (depth {depth}, {2**k}×{2**k} input)", fontsize=13, pad=4
    )
    ax.text(0.0, -0.035, note, transform=ax.transAxes, fontsize=9, color=MUTED, va="top")
    fig._cnnviz_images = images_drawn  # type: ignore[attr-defined]  # see save_figure
    fig._cnnviz_cells = dict(zip(keys, images_drawn))  # type: ignore[attr-defined]  # a movie sets their data
    return fig


# -- init lab -------------------------------------------------------------------------------
def _series(
    fig: Figure,
    levels,
    measured,
    theory,
    bad,
    title: str,
    ylabel: str,
    theory_label: str = "theory (independence assumed)",
    xlabel: str = "level l",
) -> None:
    ax = _axes(fig)
    m = _positive(measured)
    m[bad] = np.nan
    t = _positive(theory)
    ax.plot(levels, m, "-o", color=MEASURED, label="measured", zorder=3)
    ax.plot(levels, t, "--", color=THEORY, lw=1.8, label=theory_label, zorder=2)
    ax.set_yscale("log")
    lim = _log_limits([m], [t])
    if lim is not None:
        ax.set_ylim(*lim)
        _log_ticks(ax)
    over = levels[bad | ~np.isfinite(measured)].tolist()
    _overflow_marks(ax, over, True)
    _level_axis(ax, [int(v) for v in levels], xlabel)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    handles, labels = ax.get_legend_handles_labels()
    if over:
        handles.append(Line2D([], [], color=NONFINITE_HEX, marker="x", lw=0, ms=8, mew=2.5))
        labels.append("inf/NaN")
    ax.legend(handles, labels, loc="best")


def _residual_note(result: Result) -> str:
    r, s = _residual(result), result.settings
    g = s.kernel**2 * s.channels * r.init_var
    top = (1 + g) ** r.depth if g < 1e6 else math.inf
    return f"D²J·Var(w) = {fmt(g)},   (1 + D²J·Var(w))ᴸ = {fmt(top)}"


def fig_residual_variance(result: Result, scene: Scene) -> Figure:
    r = _residual(result)
    fig = _figure(7.2, 4.4, result, scene, "residual_variance")
    levels = np.arange(len(r.layers))
    bad = np.array([st.nonfinite > 0 for st in r.layers])
    _series(
        fig,
        levels,
        r.series("var"),
        r.theory_var,
        bad,
        "Residual stack: variance of Lₗ",
        "variance Var(Lₗ)",
    )
    fig.axes[0].text(0.99, 0.03, _residual_note(result), transform=fig.axes[0].transAxes, ha="right", fontsize=10)
    return fig


def fig_residual_gradient(result: Result, scene: Scene) -> Figure:
    r = _residual(result)
    fig = _figure(7.2, 4.4, result, scene, "residual_gradient")
    levels = np.arange(len(r.layers))
    bad = np.array([st.nonfinite > 0 or st.grad_nonfinite > 0 for st in r.layers])
    _series(
        fig,
        levels,
        r.series("grad_var"),
        r.theory_grad_var,
        bad,
        "Residual stack: gradient variance",
        "Var(∂/∂Lₗ)",
    )
    return fig


def _density_axes(fig: Figure, title: str, xlabel: str):
    ax = _axes(fig)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"probability density (per unit of {xlabel.split(' ')[0]})")
    return ax


def fig_unit_y(result: Result, scene: Scene) -> Figure:
    unit = _unit(result)
    fig = _figure(7.2, 4.2, result, scene, "unit_y")
    ax = _density_axes(fig, "Single unit: y = Σᵢ Wᵢ xᵢ", "y (pre-activation)")
    y = unit.y[np.isfinite(unit.y)]
    if y.size:
        sd = math.sqrt(unit.var_y_theory) if unit.var_y_theory > 0 else float(np.std(y)) or 1.0
        lim = 4.5 * sd if math.isfinite(sd) and sd > 0 else float(np.abs(y).max()) or 1.0
        counts, edges = np.histogram(y, bins=UNIT_BINS, range=(-lim, lim), density=True)
        ax.stairs(counts, edges, fill=True, color=MEASURED, alpha=0.35)
        ax.stairs(counts, edges, color=MEASURED, lw=1.2, label=f"measured, Var(y) = {fmt(float(np.var(y)))}")
        if unit.var_y_theory > 0 and math.isfinite(unit.var_y_theory):
            xs = np.linspace(-lim, lim, 200)
            ax.plot(
                xs,
                np.exp(-(xs**2) / (2 * sd**2)) / (sd * math.sqrt(2 * math.pi)),
                "--",
                color=THEORY,
                lw=1.8,
                label=f"theory N(0, d·Var(w)), d·Var(w) = {fmt(unit.var_y_theory)}",
            )
        ax.set_xlim(-lim, lim)
        ax.set_ylim(0, counts.max() * 1.3)
        ax.legend(loc="upper left")
    return fig


def fig_unit_u(result: Result, scene: Scene) -> Figure:
    unit = _unit(result)
    fig = _figure(7.2, 4.2, result, scene, "unit_u")
    ax = _density_axes(fig, f"Single unit: u = {unit.activation}(y)", "u (unit output)")
    u = unit.u[np.isfinite(unit.u)]
    if u.size:
        lo, hi = (0.0, 1.0) if unit.activation == "sigmoid" else (float(u.min()), float(u.max()))
        if hi <= lo:
            hi = lo + 1.0
        counts, edges = np.histogram(u, bins=UNIT_BINS, range=(lo, hi), density=True)
        ax.stairs(counts, edges, fill=True, color=MEASURED, alpha=0.35)
        ax.stairs(counts, edges, color=MEASURED, lw=1.2, label=f"measured, Var(u) = {fmt(float(np.var(u)))}")
        ax.axvline(float(np.mean(u)), color=MEASURED, lw=2, label=f"E[u] measured = {fmt(float(np.mean(u)))}")
        if math.isfinite(unit.mean_u_theory):
            ax.axvline(
                unit.mean_u_theory, color=THEORY, ls="--", lw=1.8, label=f"E[u] theory = {fmt(unit.mean_u_theory)}"
            )
        if math.isfinite(unit.var_u_bound):
            ax.plot([], [], lw=0, label=f"bound Var(u) ≤ {fmt(unit.var_u_bound)}")
        ax.set_xlim(lo - 0.02 * (hi - lo), hi + 0.02 * (hi - lo))
        ax.set_ylim(0, counts.max() * 1.45)
        ax.legend(loc="upper center", ncols=2, frameon=True, framealpha=0.92, edgecolor="none")
    return fig


# -- cost -----------------------------------------------------------------------------------
def fig_multiplies(result: Result, scene: Scene) -> Figure:
    """Multiplies per layer L_{l,s}: one bar per level, one segment per scale s (both branches)."""
    rows = result.costs
    fig = _figure(7.2, 4.4, result, scene, "multiplies", legend_outside=True)
    ax = _axes(fig)
    levels = sorted({r.level for r in rows})
    per_level = {l: sum(r.multiplies for r in rows if r.level == l) for l in levels}
    peak = max(per_level.values()) if per_level else 0
    unit, div = next(
        ((u, d) for u, d in (("billions", 1e9), ("millions", 1e6), ("thousands", 1e3)) if peak >= d), ("", 1.0)
    )
    n_scales = max((r.scale for r in rows), default=0) + 1
    colors = scale_colors(n_scales)
    bottom = dict.fromkeys(levels, 0.0)
    for s in range(n_scales):
        xs = [r.level for r in rows if r.scale == s]
        hs = [r.multiplies / div for r in rows if r.scale == s]
        if xs:
            ax.bar(xs, hs, 0.62, bottom=[bottom[x] for x in xs], color=colors[s], ec="white", lw=0.6, label=f"s = {s}")
            for x, h in zip(xs, hs):
                bottom[x] += h
    for l in levels:
        ax.text(l, per_level[l] / div, f"{per_level[l] / div:.3g}", ha="center", va="bottom", fontsize=9.5)
    ax.set_ylim(0, peak / div * 1.12 if peak else 1)
    _level_axis(ax, levels)
    ax.grid(axis="x", visible=False)
    ax.set_ylabel(f"multiplies ({unit})" if unit else "multiplies")
    total = result.total_multiplies
    ax.set_title(f"Multiplies per layer: {total:,} in total")
    ax.text(0.98, 0.97, "B·X·Y·ΔX·ΔY·I·J\nper branch, 2 branches", transform=ax.transAxes, ha="right", va="top")
    handles, labels = ax.get_legend_handles_labels()
    _style_legend(ax, handles, labels, "scale s")
    return fig


# -- video network (Problem 2) -------------------------------------------------------------------
VIDEO_COLS = 7  # at most this many layers per row of the layers figure (depth 6 fits one row)
STRIP_H = 0.45  # the x-t strip's height, as a fraction of the map's side (as in the window)


def _video_images(layer, channel: int, table: np.ndarray, signed: bool) -> tuple[np.ndarray, np.ndarray, int]:
    """(map now, x-t strip) of one layer as uint8 RGB(A) ``[h, w, 3|4]``, and the channel shown.

    As the window: L_0 is the frames in colour; a layer above shows one channel, the map and
    the strip each coloured over its own finite range (centred at 0 for a signed activation)."""
    if layer.level == 0:
        return rgb_image(np.moveaxis(layer.now, 0, -1)), rgb_image(np.moveaxis(layer.strip, 0, -1)), -1
    ch = min(channel, layer.now.shape[0] - 1)
    out = []
    for data in (layer.now[ch], layer.strip[ch]):
        out.append(colorize(data, finite_range(data_range(data), signed), table))
    return out[0], out[1], ch


def fig_layers(result: Result, scene: Scene) -> Figure:
    """Each layer L_l at the newest time step with its x-t strip (the middle row over time, oldest
    at the top) under it, as the window's video mode draws them; shape and variance below."""
    v = _video(result)
    s = result.settings
    view = scene.view
    signed = is_signed(s.activation)
    table = lut(DIVERGING_MAP if signed else view.colormap)
    n = len(v.layers)
    rows = math.ceil(n / VIDEO_COLS)
    cols = math.ceil(n / rows)  # rows of equal length: 8 layers are 4 + 4, not 7 + 1
    pitch_x, pitch_y = 1.22, 1.0 + STRIP_H + 0.62  # map, gap, strip, two lines of text and the next title
    unit = 1.3  # inches per map side
    ax_w, ax_h = unit * (cols * pitch_x + 0.1), unit * (rows * pitch_y + 0.25)
    width, height = max(round(ax_w + 0.3, 1), 7.2), round(ax_h + 1.25, 1)  # whole pixels at any usual scale
    fig = _figure(width, height, result, scene, "layers")
    ax = _axes(fig)
    ax.set_position(((width - ax_w) / 2 / width, 0.8 / height, ax_w / width, ax_h / height))
    ax.set_axis_off()
    ax.set_xlim(-0.1, cols * pitch_x)
    ax.set_ylim(rows * pitch_y, -0.25)  # y grows downwards, as on the screen
    images_drawn = []
    shown = -1
    for i, layer in enumerate(v.layers):
        r, c = divmod(i, cols)
        x, y = c * pitch_x, r * pitch_y
        now, strip, ch = _video_images(layer, view.channel, table, signed)
        shown = max(shown, ch)
        bad = layer.stats.nonfinite > 0
        # the strip has T_l rows: repeated to as many as the map has, so no viewer blurs it
        rows_up = max(1, math.ceil(now.shape[0] * STRIP_H / max(strip.shape[0], 1)))
        for img, top, h in ((now, y, 1.0), (_upscale(strip.repeat(rows_up, axis=0)), y + 1.06, STRIP_H)):
            art = ax.imshow(_upscale(img), extent=(x, x + 1, top + h, top), interpolation="none", zorder=1)
            images_drawn.append(art)
        ax.add_patch(Rectangle((x, y + 1.06), 1, STRIP_H, fill=False, ec=MUTED, lw=0.6, zorder=2))
        title = "L₀ input" if layer.level == 0 else f"L{_sub(layer.level)}  ch {ch}"
        ax.text(x + 0.5, y - 0.04, title, ha="center", va="bottom", fontsize=10.5, color=NONFINITE_HEX if bad else TEXT)
        _b, ch_n, t, h, w = layer.shape
        space = f"{h}²" if h == w else f"{h}×{w}"
        ax.text(
            x + 0.5,
            y + 1.1 + STRIP_H,
            f"{ch_n}×{t}×{space}\nVar {fmt(layer.stats.var)}" + (" · inf/NaN" if bad else ""),
            ha="center",
            va="top",
            fontsize=9,
            color=NONFINITE_HEX if bad else MUTED,
            linespacing=1.3,
        )
    frames = f"frames {v.frames[0]}–{v.frames[-1]}" if v.frames else f"{v.window} frames"
    fig.text(0.5, 1 - 0.12 / height, f"Video CNN · Problem 2 · {frames}", fontsize=13, ha="center", va="top")
    cmap_text = f"{DIVERGING_MAP} centred at 0" if signed else view.colormap
    note = (
        "each layer at the newest time step, its x–t strip under it (middle row, time ↓)\n"
        f"channel {max(shown, 0)} of {s.channels} · {cmap_text}, colours per map"
    )
    if v.still:
        note += " · a still clip: nothing moves"
    fig.text(0.01, 0.3 / height, note, fontsize=8.5, color=MUTED, ha="left", va="bottom")
    fig._cnnviz_images = images_drawn  # type: ignore[attr-defined]  # see save_figure
    return fig


def fig_video_variance(result: Result, scene: Scene) -> Figure:
    v = _video(result)
    fig = _figure(7.2, 4.4, result, scene, "video_variance")
    _series(
        fig,
        np.arange(len(v.layers)),
        v.series("var"),
        v.series("theory_var"),
        v.series("nonfinite") > 0,
        "Video network: activation variance per layer",
        "variance Var(Lₗ)",
        theory_label="theory (mean field)",
        xlabel="layer l",
    )
    return fig


def fig_video_gradient(result: Result, scene: Scene) -> Figure:
    v = _video(result)
    fig = _figure(7.2, 4.4, result, scene, "video_gradient")
    bad = (v.series("nonfinite") > 0) | (v.series("grad_nonfinite") > 0)
    _series(
        fig,
        np.arange(1, len(v.layers)),
        v.series("grad_rms")[1:],
        v.series("theory_grad_rms")[1:],
        bad[1:],
        "Video network: gradient RMS per layer (backward from the top)",
        "RMS of ∂/∂Lₗ",
        theory_label="theory (mean field)",
        xlabel="layer l",
    )
    return fig


def video_cost_rows(v: VideoNetResult) -> list[tuple[str, str, str, str]]:
    """(layer, shape B×C×T×H×W, B·X·Y·T·dX·dY·dT·I·J written out, multiplies) per layer and a total row."""
    rows = []
    for layer in v.layers:
        shape = "×".join(map(str, layer.shape))
        if layer.level == 0:
            rows.append(("L₀ (input)", shape, "–", "–"))
            continue
        rows.append((f"L{_sub(layer.level)}", shape, layer.formula, f"{layer.multiplies:,}"))
    rows.append(("total", "", "", f"{v.total_multiplies:,}"))
    return rows


def fig_video_cost(result: Result, scene: Scene) -> Figure:
    """Problem 2's cost as the window's table: shapes and B·X·Y·T·dX·dY·dT·I·J multiplies per layer."""
    v = _video(result)
    rows = video_cost_rows(v)
    height = round(1.2 + 0.3 * len(rows), 1)
    fig = _figure(8.4, height, result, scene, "video_cost")
    ax = _axes(fig)
    ax.set_position((0.02, 0.35 / height, 0.96, 1 - 0.75 / height))
    ax.set_axis_off()
    table = ax.table(
        cellText=[list(r) for r in rows],
        colLabels=["layer", "B×C×T×H×W", "B·X·Y·T·dX·dY·dT·I·J", "multiplies"],
        colLoc="left",
        cellLoc="left",
        loc="upper center",
        colWidths=[0.14, 0.26, 0.36, 0.24],
        edges="horizontal",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(10)
    table.scale(1.0, 1.35)
    for (r, _c), cell in table.get_celld().items():
        cell.set_edgecolor("#c8c8c8")
        if r == 0 or r == len(rows):
            cell.get_text().set_fontweight("bold")
    ax.set_title(
        f"Multiplies per layer (Problem 2): {v.total_multiplies:,} in total; centred filters, zero padding, "
        f"stride {v.stride}",
        fontsize=12,
        pad=4,
    )
    return fig


RENDERERS: dict[str, Callable[[Result, Scene], Figure]] = {
    "grid": fig_grid,
    "variance": fig_variance,
    "gradient": fig_gradient,
    "zeros": fig_zeros,
    "equivariance": fig_equivariance,
    "histogram": fig_histogram,
    "residual_variance": fig_residual_variance,
    "residual_gradient": fig_residual_gradient,
    "unit_y": fig_unit_y,
    "unit_u": fig_unit_u,
    "multiplies": fig_multiplies,
    "layers": fig_layers,
    "video_variance": fig_video_variance,
    "video_gradient": fig_video_gradient,
    "video_cost": fig_video_cost,
}
assert set(RENDERERS) == {f for figs in FIGURES.values() for f in figs}

TITLES = {
    "grid": "feature maps L(l,s)",
    "variance": "activation variance per level",
    "gradient": "gradient RMS per level",
    "zeros": "exact zeros per level",
    "equivariance": "scale equivariance",
    "histogram": "histogram of the selected layer",
    "residual_variance": "residual stack: variance",
    "residual_gradient": "residual stack: gradient variance",
    "unit_y": "single unit: y",
    "unit_u": "single unit: u",
    "multiplies": "multiplies per layer",
    "layers": "video network: layers and x-t strips",
    "video_variance": "video network: variance per layer",
    "video_gradient": "video network: gradient RMS per layer",
    "video_cost": "video network: multiplies per layer",
}


def render(result: Result, scene: Scene, figure: str) -> Figure:
    """The matplotlib Figure of ``figure`` (a name of :data:`FIGURES`) for ``result``.

    ExportError when the result lacks what the figure draws (e.g. a grid from the init lab).
    """
    need = {
        "pyramid": result.pyramid is not None,
        "init": result.residual is not None and result.unit is not None,
        "cost": bool(result.costs),
        "video-net": result.video is not None,
    }
    mode = next(m for m, figs in FIGURES.items() if figure in figs)
    if not need[mode]:
        raise ExportError(f"the {figure} figure needs a {mode} result, which this run did not compute")
    if mode == "pyramid" and figure == "grid" and not _pyr(result).maps:
        raise ExportError("the feature-map grid needs display maps (the run computed numbers only)")
    with matplotlib.rc_context(STYLE):
        return RENDERERS[figure](result, scene)


def _savefig_kwargs(fmt: str, scene: Scene, scale: float, title: str) -> dict[str, Any]:
    """savefig's arguments for ``fmt`` with the stamp where that format keeps metadata."""
    if fmt not in FIGURE_FORMATS:
        raise ExportError(f"a figure is written as {', '.join(FIGURE_FORMATS)}, not {fmt!r}")
    if not (0.25 <= scale <= 8):
        raise ExportError(f"scale must be from 0.25 to 8, not {scale}")
    stamp = stamp_text(scene)
    software = f"cnnviz {__version__}"
    kwargs: dict[str, Any] = {"format": fmt}
    if fmt == "png":
        from PIL.PngImagePlugin import PngInfo

        info = PngInfo()
        info.add_text("Software", software)
        if title:
            info.add_itxt("Title", title)
        info.add_itxt(PNG_KEY, stamp)  # Pillow writes text chunks before the image data
        # zlib level 4: about twice as fast as Pillow's default 6, files a few percent larger
        kwargs.update(dpi=BASE_DPI * scale, pil_kwargs={"pnginfo": info, "compress_level": 4})
    elif fmt == "svg":
        kwargs["metadata"] = {
            "Title": title or "cnnviz figure",
            "Creator": software,
            "Description": stamp,
            "Keywords": ["cnnviz", PNG_KEY],
            "Date": None,
        }
    else:
        kwargs["metadata"] = {
            "Title": title or "cnnviz figure",
            "Creator": software,
            "Subject": stamp,
            "Keywords": PNG_KEY,
            "CreationDate": None,
        }
    return kwargs


def _prepare(fig: Figure, fmt: str) -> None:
    # pixel images: resampled smoothly into the PNG's pixel grid (they are already upscaled
    # nearest-neighbour); embedded unresampled in SVG and PDF, where the viewer scales them
    for art in getattr(fig, "_cnnviz_images", ()):
        art.set_interpolation("antialiased" if fmt == "png" else "none")


def save_figure(
    fig: Figure,
    path: str | Path,
    scene: Scene,
    *,
    fmt: str | None = None,
    scale: float = 2.0,
    title: str = "",
    inputs: Iterable[str | Path | None] = (),
) -> Path:
    """Write ``fig`` as PNG (at ``scale`` x :data:`BASE_DPI` dpi, DPI recorded), SVG or PDF, stamped.

    The format is ``fmt`` or the path's extension. PNG: the stamp is an iTXt chunk before the
    image data. SVG: Dublin Core description in ``<metadata>``. PDF: the document info's
    Subject. Written atomically, never over one of ``inputs``.
    """
    p = Path(path)
    fmt = (fmt or p.suffix.lstrip(".")).lower()
    if fmt not in FIGURE_FORMATS:
        raise ExportError(f"a figure is written as {', '.join(FIGURE_FORMATS)}, not {fmt!r} ({p.name})")
    kwargs = _savefig_kwargs(fmt, scene, scale, title)
    _prepare(fig, fmt)
    with atomic_path(p, inputs=inputs, what=f"{fmt.upper()} figure") as tmp, matplotlib.rc_context(STYLE):
        fig.savefig(tmp, **kwargs)
    return p


def figure_bytes(fig: Figure, scene: Scene, fmt: str, *, scale: float = 2.0, title: str = "") -> bytes:
    """``fig`` as the bytes of a stamped PNG, SVG or PDF (for the clipboard)."""
    kwargs = _savefig_kwargs(fmt, scene, scale, title)
    _prepare(fig, fmt)
    buf = io.BytesIO()
    with matplotlib.rc_context(STYLE):
        fig.savefig(buf, **kwargs)
    return buf.getvalue()
