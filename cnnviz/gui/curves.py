"""Curves of the pyramid network against level l: what happens to the signal with depth.

Activation variance and gradient RMS per scale s on log axes, each beside the mean-field
theory (dashed, docs/theory.md "Signal propagation") and, where the result has it, the same
theory carried per position (dotted: it follows the coarse maps' borders, where the per-map
one runs up to 40 % low); the fraction of exact zeros (dead ReLUs); the
equivariance readout (L' on the image shrunk by 2 against L one scale over); and the
histogram of the selected layer.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from ..core.result import PyramidResult, Result
from ..settings import SATURATION
from . import theme
from .plots import (
    CornerText,
    CurveSet,
    OverflowMarks,
    legend_html,
    level_ticks,
    log_range,
    nice_range,
    plain_plot,
    positive,
    set_range,
    style_plot,
)
from .qt import pg
from .steady import SteadyText

EQUIVARIANT_BELOW = 1e-4  # relative error of float32 rounding through a few levels, with margin
EQ_FLOOR = 1e-9  # an exact 0 is drawn here: a log axis has no 0
EQ_COLOR = QColor("#444444")


def saturation_grid(pyr: PyramidResult) -> np.ndarray:
    """The saturated percent of every layer L_{l,s}, float64 ``[depth + 1, k + 1]`` (NaN where no
    layer or no saturating activation), as the engine measured it over every element."""
    return 100 * pyr.grid("sat_frac")


class CurvesView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._zoom = 1.0
        self._result: Result | None = None
        self._smooth = True  # antialiased lines: False for a streamed frame (set_result)
        self._selected: tuple[int, int] | None = None
        self.equivariance_error = math.nan
        self._eq_key: tuple | None = None  # (k, depth, shared) of the equivariance readout drawn

        self.readout = SteadyText(" ")  # changes with every result: no relayout of the window (gui/steady.py)
        self.readout.setObjectName("equivariance")
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        self.legend = QLabel(" ")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        lay.addWidget(self.readout)
        lay.addWidget(self.legend)
        # Plots never squeeze into each other: below their minimum size the panel scrolls.
        scroll = QScrollArea()
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.glw)
        lay.addWidget(scroll, 1)

        self.var_plot = plain_plot(self.glw, row=1, col=0)
        self.grad_plot = plain_plot(self.glw, row=1, col=1)
        self.zero_plot = plain_plot(self.glw, row=2, col=0)
        self.eq_plot = plain_plot(self.glw, row=2, col=1)
        self.hist_plot = plain_plot(self.glw, row=3, col=0, colspan=2)
        # One item per plot paints every scale's measured curve, theory curve and dots.
        self._sets = {name: CurveSet() for name in ("var", "grad", "zero")}
        for name, plot in (("var", self.var_plot), ("grad", self.grad_plot), ("zero", self.zero_plot)):
            plot.addItem(self._sets[name])
        # (levels, values as drawn) of each scale's measured curve, None where none is drawn
        self._drawn: dict[str, list[tuple[np.ndarray, np.ndarray] | None]] = {name: [] for name in self._sets}
        # (levels, values as drawn) of each scale's per-position theory curve, None where none
        self._drawn_local: dict[str, list[tuple[np.ndarray, np.ndarray] | None]] = {name: [] for name in self._sets}
        self._pens: dict[str, tuple[tuple[float, int], list, list, list]] = {}  # name -> (zoom, scales), pens
        self._marks = {
            name: OverflowMarks(p)
            for name, p in (("var", self.var_plot), ("grad", self.grad_plot), ("zero", self.zero_plot))
        }
        self.eq_item = CurveSet()
        self.eq_plot.addItem(self.eq_item)
        self.eq_ref = pg.InfiniteLine(angle=0, movable=False)
        self.eq_plot.addItem(self.eq_ref, ignoreBounds=True)
        self.eq_note = pg.TextItem(anchor=(0, 1))  # its bottom left on the dashed line
        self.eq_plot.addItem(self.eq_note, ignoreBounds=True)
        self.hist_item = pg.PlotDataItem([0, 1], [0], stepMode="center", fillLevel=0)
        self.hist_plot.addItem(self.hist_item)
        self.hist_mean = pg.InfiniteLine(angle=90, movable=False)
        self.hist_plot.addItem(self.hist_mean, ignoreBounds=True)
        self.hist_note = CornerText(self.hist_plot)
        self.zero_plot.setYRange(0, 100, padding=0.02)
        # A/B: the pinned result A's measured curves, grey, behind B's (set_ghost)
        self._ghost: Result | None = None
        self._ghost_sets = {name: CurveSet() for name in ("var", "grad")}
        for name, plot in (("var", self.var_plot), ("grad", self.grad_plot)):
            self._ghost_sets[name].setZValue(-1)
            plot.addItem(self._ghost_sets[name])
        self.set_zoom(1.0)

    # -- public -------------------------------------------------------------------------------
    def measured(self, name: str, scale: int) -> tuple[np.ndarray, np.ndarray]:
        """(levels, values) of the measured curve ``name`` ("var", "grad", "zero") at scale s, as drawn."""
        drawn = self._drawn[name]
        entry = drawn[scale] if scale < len(drawn) else None
        if entry is None:
            return np.array([]), np.array([])
        levels, values = entry
        return levels.astype(float), values.astype(float)

    def local_theory(self, name: str, scale: int) -> tuple[np.ndarray, np.ndarray]:
        """(levels, values) of the per-position theory curve ``name`` ("var", "grad") at scale s, as drawn."""
        drawn = self._drawn_local[name]
        entry = drawn[scale] if scale < len(drawn) else None
        if entry is None:
            return np.array([]), np.array([])
        return entry[0].astype(float), entry[1].astype(float)

    def overflow_marks(self, name: str) -> int:
        return self._marks[name].count

    def set_zoom(self, zoom: float) -> None:
        self._zoom = zoom
        self._pens.clear()
        self._hist_title: str | None = None
        self._eq_note: str | None = None
        self._zero_title: str | None = None
        self.readout.setFont(theme.font(zoom, 1.05))
        self.legend.setFont(theme.font(zoom, 0.9))
        style_plot(self.var_plot, zoom, "Variance", "level l", "Var(L<sub>l,s</sub>)", log_y=True)
        style_plot(self.grad_plot, zoom, "Gradient RMS", "level l", "RMS ∂/∂L<sub>l,s</sub>", log_y=True)
        style_plot(self.zero_plot, zoom, "Dead ReLU", "level l", "exact zeros (%)")
        self._zero_title = None  # set_result re-titles it for the activation
        style_plot(self.eq_plot, zoom, "Equivariance", "level l", "max|L′−L| / max|L|", log_y=True)
        style_plot(self.hist_plot, zoom, "Histogram", "value", "count (log)", log_y=True)
        for marks in self._marks.values():
            marks.set_zoom(zoom)
        # Two columns of an axis and at least 70 px of data each, three rows: at 1280x720 they
        # fit the panel without scrolling at zoom 1 and sideways after A+ twice
        axis = int(46 * zoom) + 18  # the left axis' width (style_plot)
        self.glw.setMinimumSize(QSize(2 * (axis + int(70 * zoom)), int(3 * (55 + 85 * zoom))))
        self.eq_ref.setPen(theme.pen(theme.MUTED, zoom, theory=True, width=0.5))
        self.hist_mean.setPen(theme.pen(theme.SELECT_HEX, zoom, width=0.6))
        self.hist_item.setPen(theme.pen("#31688e", zoom, width=0.6))
        self.hist_item.setBrush((49, 104, 142, 90))
        self.hist_item.setFillLevel(math.log10(0.5))
        if self._result is not None:
            self.set_result(self._result)

    def set_selected(self, level: int, scale: int) -> None:
        self._selected = (level, scale)
        if self._result is not None and self._result.pyramid is not None:
            self._draw_histogram(self._result.pyramid)

    def set_result(self, result: Result) -> None:
        pyr = result.pyramid
        if pyr is None:
            return
        self._result = result
        # a frame of a clip or the camera (drawn ten times a second): lines without antialiasing;
        # the window draws the result on screen again, whole and smooth, when the stream stops
        self._smooth = result.profile.name != "playback"
        if self._selected is None or self._selected not in {(st.level, st.scale) for st in pyr.layers}:
            self._selected = (pyr.depth, 0)
        n_scales = pyr.k + 1
        local = pyr.theory_var_local is not None
        self.legend.setText(
            legend_html(n_scales, " (mean field)", " per position" if local else "")
            + f"<br><span style='color:{theme.MUTED}'>gradients: N(0,1) injected at the top level</span>"
        )
        bad = pyr.grid("nonfinite") > 0
        var = pyr.grid("var")
        grad = pyr.grid("grad_rms")
        self._draw_family(
            "var", self.var_plot, pyr, var, pyr.grid("theory_var"), bad, log=True, local=pyr.theory_var_local
        )
        self._draw_family(
            "grad",
            self.grad_plot,
            pyr,
            grad,
            pyr.grid("theory_grad_rms"),
            bad | (pyr.grid("grad_nonfinite") > 0),
            log=True,
            first_level=1,
            local=pyr.theory_grad_rms_local,
        )
        act = result.settings.activation
        saturating = act in SATURATION
        values = saturation_grid(pyr) if saturating else 100 * pyr.grid("zero_frac")
        self._draw_family("zero", self.zero_plot, pyr, values, None, bad, log=False, first_level=1)
        titles = {
            "relu": ("Dead ReLU", "exact zeros (%)"),
            "tanh": ("Saturated tanh", "|u| > 0.9 (%)"),
            "sigmoid": ("Saturated sigmoid", "u < 0.1 or u > 0.9 (%)"),
        }
        zero_title, zero_label = titles.get(act, ("Exact zeros", "exact zeros (%)"))
        if zero_title != getattr(self, "_zero_title", None):
            self._zero_title = zero_title
            self.zero_plot.setTitle(zero_title, size=theme.pt(self._zoom, 1.05), color=theme.TEXT)
            self.zero_plot.getAxis("left").setLabel(
                zero_label, **{"font-size": theme.pt(self._zoom, 0.95), "color": theme.TEXT}
            )
        if result.profile.equivariance or self._eq_key != (pyr.k, pyr.depth, result.settings.shared):
            # A frame computed without the equivariance pass (while a clip plays, see gui/pacing.py)
            # keeps the readout of the last frame that had it, of the same network shape.
            self._eq_key = (pyr.k, pyr.depth, result.settings.shared)
            self._draw_equivariance(pyr, result.settings.shared)
        self._draw_histogram(pyr)
        if self._ghost is not None:
            self._draw_ghost()

    def set_ghost(self, result: Result | None) -> None:
        """Draw ``result``'s measured variance and gradient curves in grey behind the current ones
        (A of an A/B comparison); None removes them."""
        self._ghost = result if result is not None and result.pyramid is not None else None
        self._draw_ghost()

    def ghost_curves(self, name: str) -> int:
        """How many ghost curves plot ``name`` ("var", "grad") holds."""
        return len(self._ghost_sets[name]._paths)

    def _draw_ghost(self) -> None:
        pyr = self._ghost.pyramid if self._ghost is not None else None
        for name, field, first, plot in (("var", "var", 0, self.var_plot), ("grad", "grad_rms", 1, self.grad_plot)):
            lines = []
            if pyr is not None:
                grid = pyr.grid(field)
                pen = theme.pen("#9a9a9a", self._zoom, width=0.8)
                for s in range(pyr.k + 1):
                    levels = np.arange(first, min(pyr.depth, pyr.k - s) + 1)
                    if levels.size:
                        with np.errstate(divide="ignore", invalid="ignore"):
                            lines.append((levels.astype(float), np.log10(positive(grid[levels, s])), pen))
            self._ghost_sets[name].set_data(lines, [], 0)
            ys = [ly for _, ly, _ in lines]
            rng = log_range(*(10.0**y for y in ys)) if ys else None
            if rng is not None:  # B's range, widened to show A (within 6 decades of B)
                lo, hi = plot.viewRange()[1]
                set_range(plot, y=(max(min(lo, rng[0]), lo - 6), min(max(hi, rng[1]), hi + 6)))

    # -- drawing ---------------------------------------------------------------------------
    def _family_pens(self, name: str, n_scales: int) -> tuple[list, list, list]:
        z = self._zoom
        cached = self._pens.get(name)
        if cached is None or cached[0] != (z, n_scales):
            colors = theme.scale_colors(n_scales)
            cached = (
                (z, n_scales),
                [theme.pen(c, z) for c in colors],
                [theme.pen(c, z, theory=True, width=0.7) for c in colors],
                [theme.pen(c, z, theory=True, width=0.9, style=theme.LOCAL_STYLE) for c in colors],
            )
            self._pens[name] = cached
        return cached[1], cached[2], cached[3]

    def _draw_family(
        self,
        name: str,
        plot: pg.PlotItem,
        pyr: PyramidResult,
        measured: np.ndarray,
        theory: np.ndarray | None,
        bad: np.ndarray,
        log: bool,
        first_level: int = 0,
        local: np.ndarray | None = None,
    ) -> None:
        """``theory`` and ``local`` (the per-position theory): float64 ``[depth + 1, k + 1]`` or None."""
        n_scales = pyr.k + 1
        colors = theme.scale_colors(n_scales)
        meas_pens, th_pens, local_pens = self._family_pens(name, n_scales)
        overflow_x: list[int] = []
        lines, dots = [], []  # in order of s, each theory over its measured curve
        drawn: list[tuple[np.ndarray, np.ndarray] | None] = []
        drawn_local: list[tuple[np.ndarray, np.ndarray] | None] = []
        # Every scale at once (a redraw is a few numpy calls per family, not a few per scale):
        # values as drawn ([depth + 1, k + 1], NaN where nothing is drawn) and in view units.
        with np.errstate(divide="ignore", invalid="ignore"):
            m_draw = positive(measured) if log else np.where(np.isfinite(measured), measured, np.nan)
            m_draw[bad] = np.nan
            over = bad | ~np.isfinite(measured)
            m_view = np.log10(m_draw) if log else m_draw
            t_draw = None if theory is None else (positive(theory) if log else theory)
            t_view = None if t_draw is None else (np.log10(t_draw) if log else t_draw)
            l_draw = positive(local) if local is not None and log else None
            l_view = None if l_draw is None else np.log10(l_draw)
        m_any = ~np.isnan(m_draw)
        t_any = None if t_draw is None else ~np.isnan(t_draw)
        l_any = None if l_draw is None else ~np.isnan(l_draw)
        in_range = np.zeros(m_draw.shape, dtype=bool)  # the (l, s) a curve runs through
        for s in range(n_scales):
            last = min(pyr.depth, pyr.k - s)
            if last < first_level:
                drawn.append(None)
                drawn_local.append(None)
                continue
            rows = slice(first_level, last + 1)
            in_range[rows, s] = True
            x = np.arange(first_level, last + 1, dtype=float)
            overflow_x += (np.flatnonzero(over[rows, s]) + first_level).tolist()
            if not m_any[rows, s].any():  # nothing drawable
                drawn.append(None)
            else:
                y_draw = m_draw[rows, s]
                drawn.append((x, y_draw))
                yv = m_view[rows, s]
                lines.append((x, yv, meas_pens[s]))
                dots.append((x, yv, self._brush(colors[s])))
            if t_view is not None and t_any is not None and t_any[rows, s].any():
                lines.append((x, t_view[rows, s], th_pens[s]))
            if l_draw is not None and l_view is not None and l_any is not None and l_any[rows, s].any():
                lines.append((x, l_view[rows, s], local_pens[s]))
                drawn_local.append((x, l_draw[rows, s]))
            else:
                drawn_local.append(None)
        shown_meas = [m_draw[in_range]]
        shown_th = [a[in_range] for a in (t_draw, l_draw) if a is not None]
        self._drawn[name] = drawn
        self._drawn_local[name] = drawn_local
        with np.errstate(divide="ignore", invalid="ignore"):
            self._sets[name].set_data(lines, dots, 7 * self._zoom, smooth=self._smooth)
        level_ticks(plot, range(first_level, pyr.depth + 1))
        set_range(plot, x=(first_level - 0.5, pyr.depth + 0.5))
        if log:
            rng = log_range(*shown_meas) or log_range(*shown_th)
            if rng is not None:
                # Theory may run off to 1e300 where the measurement overflowed: the range
                # follows the measurement, widened only to theory within 6 decades of it.
                th_rng = log_range(*shown_th)
                lo, hi = rng
                if th_rng is not None:
                    lo = max(min(lo, th_rng[0]), rng[0] - 6)
                    hi = min(max(hi, th_rng[1]), rng[1] + 6)
                set_range(plot, y=(lo, hi))
            top = plot.viewRange()[1][1]
            self._marks[name].set(sorted(set(overflow_x)), top - 0.04 * (top - plot.viewRange()[1][0]))
        else:
            self._marks[name].set(sorted(set(overflow_x)), 97.0)

    _brushes: ClassVar[dict[str, object]] = {}

    @classmethod
    def _brush(cls, color):
        key = color.name()
        if key not in cls._brushes:
            cls._brushes[key] = pg.mkBrush(color)
        return cls._brushes[key]

    def _draw_equivariance(self, pyr: PyramidResult, shared: bool) -> None:
        eq = np.asarray(pyr.equivariance, dtype=float)
        levels = np.arange(1, len(eq))
        vals = eq[1:]
        finite = vals[np.isfinite(vals)]
        err = float(finite.max()) if finite.size else math.nan
        self.equivariance_error = err
        z = self._zoom
        drawn = np.where(np.isfinite(vals), np.maximum(vals, EQ_FLOOR), np.nan)
        x, y = levels.astype(float), np.log10(drawn)  # the axis is logarithmic
        self.eq_item.set_data(
            [(x, y, theme.pen("#444444", z))], [(x, y, self._brush(EQ_COLOR))], 6 * z, smooth=self._smooth
        )
        self.eq_ref.setValue(math.log10(EQUIVARIANT_BELOW))
        level_ticks(self.eq_plot, range(1, pyr.depth + 1))
        set_range(self.eq_plot, x=(0.5, pyr.depth + 0.5))
        rng = log_range(drawn, np.array([EQUIVARIANT_BELOW]))
        if rng:
            set_range(self.eq_plot, y=(min(rng[0], math.log10(EQ_FLOOR) - 1), max(rng[1], 1.0)))
        exact = bool(np.any(vals == 0))
        # one short word just above the dashed line, at the left (a narrow plot has room for no
        # more; where zeros are drawn at 10^-9 the readout says so)
        note = f"<span style='font-size:{theme.pt(z, 0.8)}; color:{theme.MUTED}'>╍ rounding</span>"
        if note != getattr(self, "_eq_note", None):
            self._eq_note = note
            self.eq_note.setHtml(note)
            self.eq_note.setPos(0.55, math.log10(EQUIVARIANT_BELOW))
        weights = "shared weights" if shared else "weights not shared"
        overflowed = int(np.count_nonzero(~np.isfinite(vals[: pyr.k - 1]))) if pyr.k > 1 else 0
        compared = int(np.count_nonzero(np.isfinite(vals)))
        if math.isnan(err):
            verdict, color = "no level has a pair to compare", theme.MUTED
        elif overflowed:
            verdict, color = (
                (
                    f"{overflowed} level(s) overflowed to inf/NaN and cannot be compared; "
                    f"the rest {'agree' if err < EQUIVARIANT_BELOW else 'differ'}"
                ),
                "#b35900",
            )
        elif err < EQUIVARIANT_BELOW:
            verdict, color = "equal up to float rounding, scale-equivariant ✓", "#1a7f37"
        else:
            verdict, color = "equivariance broken ✗", "#b35900"
        if math.isnan(err):
            value = "–"
        elif overflowed:
            value = f"<b style='color:{color}'>{theme.fmt(err)}</b> over the {compared} level(s) that can be compared"
        else:
            value = f"<b style='color:{color}'>{theme.fmt(err)}</b>"
        # the verdict first and large (a hall reads it); what is measured below it, smaller
        self.readout.setText(
            f"<b>Equivariance</b> = {value} — {weights}: <span style='color:{color}'>{verdict}</span><br>"
            f"<span style='color:{theme.MUTED}; font-size:{theme.pt(z, 0.85)}'>"
            "max |L′<sub>l,s</sub> − L<sub>l,s+1</sub>| / max|L|, L′ = the same network on the image shrunk 2× "
            "(2×2 averaging): with shared weights L′<sub>l,s</sub> = L<sub>l,s+1</sub>"
            + ("; an exact 0 is drawn at 10<sup>−9</sup>" if exact else "")
            + "</span>"
        )
        self.readout.setToolTip(
            "L′ is the network on the image shrunk 2× (2×2 averaging). With weights shared "
            "across scales, L′_{l,s} equals L_{l,s+1} up to float rounding; unshared, it does not."
        )

    def _draw_histogram(self, pyr: PyramidResult) -> None:
        key = self._selected
        if key is None:
            return
        try:
            st = pyr.layer(*key)
        except (KeyError, TypeError):
            return
        counts = st.hist_counts.astype(float)
        edges = st.hist_edges.astype(float)
        name = f"I<sub>{key[1]}</sub>" if key[0] == 0 else f"L<sub>{key[0]},{key[1]}</sub>"
        title = f"Histogram of {name}"
        if title != getattr(self, "_hist_title", None):  # a new title re-lays out the plots
            self._hist_title = title
            self.hist_plot.setTitle(title, size=theme.pt(self._zoom, 1.05), color=theme.TEXT)
        note = (
            f"mean <span style='color:{theme.SELECT_HEX}'><b>{theme.fmt(st.mean)}</b></span><br>"
            f"var <b>{theme.fmt(st.var)}</b>"
        )
        if math.isfinite(st.theory_var):
            note += f" (theory {theme.fmt(st.theory_var)})"
        if st.nonfinite:
            note += f"<br><span style='color:{theme.NONFINITE_HEX}'>{st.nonfinite} inf/NaN left out</span>"
        self.hist_note.set_html(
            f"<span style='font-size:{theme.pt(self._zoom, 0.9)}; color:{theme.TEXT}'>{note}</span>"
        )
        if counts.size == 0:  # not computed for this cell yet: its request is on its way
            self.hist_note.set_html(
                f"<span style='font-size:{theme.pt(self._zoom, 0.9)}; color:{theme.MUTED}'>computing…</span>"
            )
            return
        empty = not np.all(np.isfinite(edges)) or counts.sum() == 0
        for side in ("bottom", "left"):  # an empty plot shows no made-up 0-1 numbers
            axis = self.hist_plot.getAxis(side)
            if axis.style["showValues"] == empty:
                axis.setStyle(showValues=not empty)
        if empty:
            self.hist_item.setData([0, 1], [np.nan])
            self.hist_mean.hide()
            self.hist_note.set_html(
                f"<span style='font-size:{theme.pt(self._zoom, 0.9)}; color:{theme.NONFINITE_HEX}'>"
                f"<b>no finite value in {name}</b>: all {st.nonfinite} are inf/NaN</span>"
            )
            return
        # log axis: empty bins are drawn at 0.5 (below one count) rather than dropped
        # pen, brush and fill level: set_zoom; without antialiasing while streaming, as the curves
        # (passed only when it changes: a style argument makes pyqtgraph restyle the item)
        style = {"antialias": self._smooth} if self.hist_item.opts["antialias"] != self._smooth else {}
        self.hist_item.setData(edges, np.maximum(counts, 0.5), **style)
        set_range(
            self.hist_plot,
            x=nice_range(edges[0], edges[-1]),
            y=(math.log10(0.5), math.ceil(math.log10(max(counts.max(), 1)) + 0.15)),
        )
        if math.isfinite(st.mean):
            self.hist_mean.setValue(st.mean)
            self.hist_mean.show()
        else:
            self.hist_mean.hide()
