"""The initialisation lab: Problem 5's residual stack and Problem 4's single unit.

Residual stack: Var(L_l) against (1 + D^2 J sigma_w^2)^l Var(L_0), and the gradient variance
against (1 + D^2 J sigma_w^2)^(L-l), both on log axes. Single unit: the distributions of
y = sum_i W[i] x[i] and u = f(y) with the predicted Var(y) = d sigma_w^2, E[u] = 1/2 and the
bound Var(u) <= 1/4 (sigmoid).
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ..core.result import ResidualResult, Result, UnitResult
from . import theme
from .plots import OverflowMarks, level_ticks, log_range, plain_plot, positive, set_range, style_plot
from .qt import pg

MEASURED = "#31688e"
THEORY = "#d95f02"  # orange against blue: distinct for every common colour-vision deficiency
UNIT_BINS = 80


def _set_histogram(item: pg.PlotDataItem, edges: np.ndarray, counts: np.ndarray, zoom: float) -> None:
    """A measured density as steps: ``counts`` [B] over the bin ``edges`` [B + 1]."""
    item.setData(
        edges,
        counts,
        stepMode="center",
        fillLevel=0,
        pen=theme.pen(MEASURED, zoom, width=0.6),
        brush=(49, 104, 142, 90),  # MEASURED, translucent
    )


class InitLabView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._zoom = 1.0
        self._result: Result | None = None
        self.header = QLabel(" ")
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setWordWrap(True)
        self.glw = pg.GraphicsLayoutWidget()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.header)
        lay.addWidget(self.glw, 1)

        self.var_plot = plain_plot(self.glw, row=0, col=0)
        self.grad_plot = plain_plot(self.glw, row=0, col=1)
        self.y_plot = plain_plot(self.glw, row=1, col=0)
        self.u_plot = plain_plot(self.glw, row=1, col=1)
        self.var_meas = self.var_plot.plot([], [], connect="finite")
        self.var_theory = self.var_plot.plot([], [], connect="finite")
        self.grad_meas = self.grad_plot.plot([], [], connect="finite")
        self.grad_theory = self.grad_plot.plot([], [], connect="finite")
        self.var_marks = OverflowMarks(self.var_plot)
        self.grad_marks = OverflowMarks(self.grad_plot)
        self.y_hist = pg.PlotDataItem([0, 1], [0], stepMode="center", fillLevel=0)
        self.y_plot.addItem(self.y_hist)
        self.y_theory = self.y_plot.plot([], [])
        self.u_hist = pg.PlotDataItem([0, 1], [0], stepMode="center", fillLevel=0)
        self.u_plot.addItem(self.u_hist)
        self.u_mean = pg.InfiniteLine(angle=90, movable=False)
        self.u_mean_theory = pg.InfiniteLine(angle=90, movable=False)
        self.u_plot.addItem(self.u_mean, ignoreBounds=True)
        self.u_plot.addItem(self.u_mean_theory, ignoreBounds=True)
        self.legend = pg.LabelItem(justify="left")
        self.glw.addItem(self.legend, row=2, col=0, colspan=2)
        self.set_zoom(1.0)

    def set_zoom(self, zoom: float) -> None:
        self._zoom = zoom
        self.header.setFont(theme.font(zoom, 1.05))
        style_plot(
            self.var_plot,
            zoom,
            "Residual stack: variance of L<sub>l</sub>",
            "level l",
            "Var(L<sub>l</sub>)",
            log_y=True,
        )
        style_plot(
            self.grad_plot,
            zoom,
            "Residual stack: gradient variance",
            "level l · N(0,1) injected at l = L",
            "Var(∂/∂L<sub>l</sub>)",
            log_y=True,
        )
        style_plot(self.y_plot, zoom, "Single unit: y = Σ<sub>i</sub> W<sub>i</sub> x<sub>i</sub>", "y", "density")
        style_plot(self.u_plot, zoom, "Single unit: u = f(y)", "u", "density")
        for item, color, th in (
            (self.var_meas, MEASURED, False),
            (self.var_theory, THEORY, True),
            (self.grad_meas, MEASURED, False),
            (self.grad_theory, THEORY, True),
            (self.y_theory, THEORY, True),
        ):
            item.setPen(theme.pen(color, zoom, theory=th))
        for item in (self.var_meas, self.grad_meas):
            item.setSymbol("o")
            item.setSymbolSize(6 * zoom)
            item.setSymbolBrush(MEASURED)
            item.setSymbolPen(None)
        for marks in (self.var_marks, self.grad_marks):
            marks.set_zoom(zoom)
        self.u_mean.setPen(theme.pen(MEASURED, zoom))
        self.u_mean_theory.setPen(theme.pen(THEORY, zoom, theory=True))
        size = theme.pt(zoom, 0.9)
        self.legend.setText(
            f"<span style='font-size:{size}'><span style='color:{MEASURED}'>━ measured</span> &nbsp; "
            f"<span style='color:{THEORY}'>- - - theory (independence assumed)</span> &nbsp; "
            f"<span style='color:{theme.NONFINITE_HEX}'>✕</span> inf/NaN</span>"
        )
        if self._result is not None:
            self.set_result(self._result)

    def set_result(self, result: Result) -> None:
        self._result = result
        s = result.settings
        if result.residual is not None:
            self._draw_residual(result.residual)
        if result.unit is not None:
            self._draw_unit(result.unit)
        res, unit = result.residual, result.unit
        parts = []
        if res is not None:
            g = s.kernel**2 * s.channels * res.init_var
            top = (1 + g) ** res.depth if g < 1e6 else math.inf
            parts.append(
                f"<b>Problem 5</b> &nbsp; L<sub>l+1</sub> = L<sub>l</sub> + f(W<sub>l+1</sub> ⋆ L<sub>l</sub> − B) &nbsp; "
                f"L = {res.depth}, D = {s.kernel}, J = {s.channels}, σ<sub>w</sub>² = {theme.fmt(res.init_var)} "
                f"→ D²Jσ<sub>w</sub>² = {theme.fmt(g)}, (1 + D²Jσ<sub>w</sub>²)<sup>L</sup> = <b>{theme.fmt(top)}</b> "
                f"<span style='color:{theme.MUTED}'>(input: {res.input_kind})</span>"
            )
        if unit is not None:
            parts.append(
                f"<b>Problem 4</b> &nbsp; u = {unit.activation}(Σ<sub>i≤d</sub> W<sub>i</sub> x<sub>i</sub>) &nbsp; "
                f"d = {unit.dim}, σ<sub>w</sub>² = {theme.fmt(unit.init_var)} &nbsp; "
                f"Var(y) = <b>{theme.fmt(float(np.var(unit.y)))}</b> (theory d·σ<sub>w</sub>² = "
                f"{theme.fmt(unit.var_y_theory)}) &nbsp; E[u] = <b>{theme.fmt(float(np.mean(unit.u)))}</b>"
                + (f" (theory {theme.fmt(unit.mean_u_theory)})" if math.isfinite(unit.mean_u_theory) else "")
                + f" &nbsp; Var(u) = <b>{theme.fmt(float(np.var(unit.u)))}</b>"
                + (f" (bound ≤ {theme.fmt(unit.var_u_bound)})" if math.isfinite(unit.var_u_bound) else "")
            )
        self.header.setText("<br>".join(parts) or " ")

    # -- drawing --------------------------------------------------------------------------
    def _draw_series(
        self,
        plot: pg.PlotItem,
        meas_item,
        theory_item,
        marks: OverflowMarks,
        levels: np.ndarray,
        measured: np.ndarray,
        theory: np.ndarray,
        bad: np.ndarray,
    ) -> None:
        m = positive(measured)
        m[bad] = np.nan
        t = positive(theory)
        (meas_item.setData(levels, m) if not np.isnan(m).all() else meas_item.setData([], []))
        (theory_item.setData(levels, t) if not np.isnan(t).all() else theory_item.setData([], []))
        rng = log_range(m)
        th_rng = log_range(t)
        if rng is None:
            rng = th_rng
        elif th_rng is not None:
            rng = (max(min(rng[0], th_rng[0]), rng[0] - 6), min(max(rng[1], th_rng[1]), rng[1] + 6))
        if rng is not None:
            set_range(plot, y=rng)
        level_ticks(plot, range(0, len(levels)))
        set_range(plot, x=(-0.5, levels[-1] + 0.5 if levels.size else 1))
        top, bottom = plot.viewRange()[1][1], plot.viewRange()[1][0]
        marks.set(levels[bad | ~np.isfinite(measured)].tolist(), top - 0.04 * (top - bottom))

    def _draw_residual(self, res: ResidualResult) -> None:
        levels = np.arange(len(res.layers), dtype=float)
        bad = np.array([st.nonfinite > 0 for st in res.layers])
        # The gradient is marked where it overflowed, not where the forward pass did: with a
        # linear branch (identity) the backward pass never reads the forward values.
        gbad = np.array([st.grad_nonfinite > 0 for st in res.layers])
        self._draw_series(
            self.var_plot,
            self.var_meas,
            self.var_theory,
            self.var_marks,
            levels,
            res.series("var"),
            res.theory_var,
            bad,
        )
        self._draw_series(
            self.grad_plot,
            self.grad_meas,
            self.grad_theory,
            self.grad_marks,
            levels,
            res.series("grad_var"),
            res.theory_grad_var,
            gbad,
        )

    def _draw_unit(self, unit: UnitResult) -> None:
        z = self._zoom
        y = unit.y[np.isfinite(unit.y)]
        if y.size:
            sd = math.sqrt(unit.var_y_theory) if unit.var_y_theory > 0 else float(np.std(y)) or 1.0
            lim = 4.5 * sd if math.isfinite(sd) and sd > 0 else float(np.abs(y).max()) or 1.0
            counts, edges = np.histogram(y, bins=UNIT_BINS, range=(-lim, lim), density=True)
            _set_histogram(self.y_hist, edges, counts, z)
            if unit.var_y_theory > 0 and math.isfinite(unit.var_y_theory):
                xs = np.linspace(-lim, lim, 200)
                self.y_theory.setData(xs, np.exp(-(xs**2) / (2 * sd**2)) / (sd * math.sqrt(2 * math.pi)))
            else:
                self.y_theory.setData([], [])
            self.y_plot.setXRange(-lim, lim, padding=0.02)
            self.y_plot.enableAutoRange(axis="y")
        u = unit.u[np.isfinite(unit.u)]
        if u.size:
            lo, hi = float(u.min()), float(u.max())
            if unit.activation == "sigmoid":
                lo, hi = 0.0, 1.0
            if hi <= lo:
                hi = lo + 1.0
            counts, edges = np.histogram(u, bins=UNIT_BINS, range=(lo, hi), density=True)
            _set_histogram(self.u_hist, edges, counts, z)
            self.u_plot.setXRange(lo, hi, padding=0.02)
            self.u_plot.enableAutoRange(axis="y")
            self.u_mean.setValue(float(np.mean(u)))
            self.u_mean.show()
        if math.isfinite(unit.mean_u_theory):
            self.u_mean_theory.setValue(unit.mean_u_theory)
            self.u_mean_theory.show()
        else:
            self.u_mean_theory.hide()
