"""A large view of one layer L_{l,s}: the map with pixel axes and a colour bar, its histogram,
and every statistic the engine measured beside the theory. Follows new results live.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QCheckBox, QDialog, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from ..core.result import LayerStats, Result
from ..view_state import ViewState
from . import theme
from .maps import map_image
from .plots import ColorBar, plain_plot, style_plot
from .qt import pg


class LayerInspector(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Layer inspector")
        self.resize(1000, 640)
        self._result: Result | None = None
        self._key: tuple[int, int] = (1, 0)
        self._view = ViewState()
        self._zoom = 1.0

        self.glw = pg.GraphicsLayoutWidget()
        self.map_plot = plain_plot(self.glw, row=0, col=0)
        self.map_plot.setAspectLocked(True)
        self.map_plot.invertY(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.map_plot.addItem(self.image)
        self.cbar = ColorBar(
            values=(0, 1), colorMap=theme.colormap("viridis"), interactive=False, width=18, colorMapMenu=False
        )
        self.glw.addItem(self.cbar, row=0, col=1)
        self.hist_plot = plain_plot(self.glw, row=0, col=2)
        self.hist = pg.PlotDataItem([0, 1], [0], stepMode="center", fillLevel=0)
        self.hist_plot.addItem(self.hist)
        self.glw.ci.layout.setColumnStretchFactor(0, 3)
        self.glw.ci.layout.setColumnStretchFactor(2, 2)

        self.stats = QLabel(" ")
        self.stats.setTextFormat(Qt.TextFormat.RichText)
        self.stats.setWordWrap(True)
        self.stats.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.mosaic = QCheckBox("All channels (mosaic)")
        self.channel = QSpinBox()
        self.channel.setPrefix("channel ")
        top = QHBoxLayout()
        top.addWidget(self.mosaic)
        top.addWidget(self.channel)
        top.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.glw, 1)
        lay.addWidget(self.stats)
        self.mosaic.toggled.connect(lambda on: self._set_view(self._view.replace(mosaic=on)))
        self.channel.valueChanged.connect(lambda c: self._set_view(self._view.replace(channel=int(c))))
        self.set_zoom(1.0)

    @property
    def key(self) -> tuple[int, int]:
        return self._key

    def show_layer(self, result: Result, level: int, scale: int, view: ViewState) -> None:
        self._key = (level, scale)
        self._view = view
        self.mosaic.blockSignals(True)
        self.mosaic.setChecked(view.mosaic)
        self.mosaic.blockSignals(False)
        self.set_result(result)

    def set_result(self, result: Result) -> None:
        if result.pyramid is None:
            return
        self._result = result
        self._draw()

    def set_zoom(self, zoom: float) -> None:
        self._zoom = zoom
        self.setFont(theme.font(zoom))  # a dialog is its own window: the main window's font stops here
        self.stats.setFont(theme.font(zoom, 0.95))
        self.cbar.getAxis("right").setStyle(tickFont=theme.font(zoom, 0.85))
        if self._result is not None:
            self._draw()

    def _set_view(self, view: ViewState) -> None:
        self._view = view
        self.channel.setEnabled(not view.mosaic)
        if self._result is not None:
            self._draw()

    def _draw(self) -> None:
        result = self._result
        pyr = result.pyramid if result else None
        if result is None or pyr is None or self._key not in pyr.maps:
            return
        level, scale = self._key
        st = pyr.layer(level, scale)
        name = f"I{scale}" if level == 0 else f"L{level},{scale}"
        html_name = f"I<sub>{scale}</sub>" if level == 0 else f"L<sub>{level},{scale}</sub>"
        self.setWindowTitle(f"Layer inspector — {name}")
        maps = pyr.maps[self._key]
        self.channel.blockSignals(True)
        self.channel.setRange(0, maps.shape[0] - 1)
        self.channel.setValue(min(self._view.channel, maps.shape[0] - 1))
        self.channel.blockSignals(False)
        signed = level == 0 or theme.is_signed(result.settings.activation)
        im = map_image(maps, self._view)
        levels = theme.finite_range(im.vrange, signed)
        cmap = theme.DIVERGING_MAP if signed else self._view.colormap
        self.image.setImage(theme.colorize(im.data, levels, theme.lut(cmap), im.gap_mask), autoLevels=False)
        h, w = im.data.shape
        # Pixel axes in the layer's own coordinates, also when the engine pooled it for display.
        f = st.size / im.tile[0] if im.channel is not None and im.tile[0] else 1.0
        self.image.setRect(QRectF(0, 0, w * f, h * f))
        self.cbar.setColorMap(theme.colormap(cmap))
        self.cbar.setLevels(levels)
        shown = "all channels" if im.channel is None else f"channel {im.channel}"
        style_plot(self.map_plot, self._zoom, f"{html_name} · {shown}", "x", "y")
        self.map_plot.setAspectLocked(True)
        self.map_plot.autoRange(padding=0.02)
        style_plot(self.hist_plot, self._zoom, f"Histogram of {html_name}", "value", "count (log)", log_y=True)
        counts, edges = st.hist_counts.astype(float), st.hist_edges.astype(float)
        if counts.size == 0:
            pass  # not computed for this cell yet: the window has asked for it; keep what is drawn
        elif counts.sum() > 0 and np.all(np.isfinite(edges)):
            self.hist.setData(
                edges,
                np.maximum(counts, 0.5),
                stepMode="center",
                fillLevel=math.log10(0.5),
                pen=theme.pen("#31688e", self._zoom, width=0.6),
                brush=(49, 104, 142, 90),
            )
            self.hist_plot.setXRange(edges[0], edges[-1], padding=0.02)
            self.hist_plot.setYRange(math.log10(0.5), math.log10(max(counts.max(), 1)) + 0.2, padding=0)
        else:
            self.hist.setData([0, 1], [np.nan])
        self.stats.setText(self._stats_html(st, html_name, result))

    @staticmethod
    def _stats_html(st: LayerStats, name: str, result: Result) -> str:
        shape = " × ".join(str(d) for d in st.shape)
        rows = [
            ("shape [B, C, H, W]", shape),
            ("mean", theme.fmt(st.mean, 4)),
            ("variance", f"{theme.fmt(st.var, 4)} &nbsp; (theory {theme.fmt(st.theory_var, 4)})"),
            ("mean square", f"{theme.fmt(st.mean_sq, 4)} &nbsp; (theory {theme.fmt(st.theory_mean_sq, 4)})"),
            ("exact zeros", f"{100 * st.zero_frac:.1f} %"),
        ]
        if st.level >= 1:
            rows += [
                (
                    "gradient RMS (backprop of N(0,1) injected at the top level)",
                    f"{theme.fmt(st.grad_rms, 4)} &nbsp; (theory {theme.fmt(st.theory_grad_rms, 4)})",
                ),
                ("multiplies to compute it", f"{st.multiplies:,}"),
            ]
        if st.nonfinite or st.grad_nonfinite:
            rows.append(
                (
                    f"<span style='color:{theme.NONFINITE_HEX}'>inf/NaN</span>",
                    f"<span style='color:{theme.NONFINITE_HEX}'><b>{st.nonfinite}</b> values, "
                    f"{st.grad_nonfinite} gradients</span>",
                )
            )
        cells = " &nbsp;·&nbsp; ".join(f"{k}: <b>{v}</b>" for k, v in rows)
        return f"<b>{name}</b> &nbsp; level l = {st.level}, scale s = {st.scale} &nbsp;·&nbsp; {cells}"
