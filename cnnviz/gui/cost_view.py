"""The cost view (Problem 1): multiplies per layer and in total, the formula beside torch's count.

Each layer L_{l,s} costs two convolutions, both with an n x n output: the <- branch (stride 1
on L_{l-1,s+1}) and the ^ branch (stride 2 on L_{l-1,s}), each B X Y dX dY I J multiplies.
torch's FlopCounterMode counts 2 FLOPs per multiply-add, so it should say exactly twice.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.result import Result
from . import theme
from .plots import level_ticks, plain_plot, style_plot
from .qt import pg

COLUMNS = (
    "layer",
    "output B×J×n×n",
    "formula n²·D²·I·J (per branch)",
    "← multiplies",
    "↑ multiplies",
    "total",
    "torch FLOPs ÷ 2",
    "agree",
)


class CostView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._zoom = 1.0
        self._result: Result | None = None
        self.header = QLabel(" ")
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setWordWrap(True)
        self.glw = pg.GraphicsLayoutWidget()
        self.plot = plain_plot(self.glw)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.6)
        self.plot.addItem(self.bars)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.glw)
        split.addWidget(self.table)
        split.setSizes([300, 500])
        split.setChildrenCollapsible(False)  # the chart keeps its least height (set_zoom); the table scrolls
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.header)
        lay.addWidget(split, 1)
        self.set_zoom(1.0)

    @property
    def total(self) -> int:
        return self._result.total_multiplies if self._result else 0

    def set_zoom(self, zoom: float) -> None:
        self._zoom = zoom
        self.header.setFont(theme.font(zoom, 1.05))
        self.table.setFont(theme.font(zoom, 0.95))
        self.table.horizontalHeader().setFont(theme.font(zoom, 0.95, bold=True))
        style_plot(
            self.plot, zoom, "Multiplies per level (both branches, all scales)", "level l", "multiplies", log_y=False
        )
        self.bars.setOpts(pen=pg.mkPen("#31688e"), brush=pg.mkBrush(49, 104, 142, 160))
        # room for the title, the bars and the vertical axis' name: under the lecture panel at
        # 1280x720 the chart was squeezed to 80 px and its axis name cut
        self.glw.setMinimumHeight(int(120 + 110 * zoom))
        if self._result is not None:
            self.set_result(self._result)

    def set_result(self, result: Result) -> None:
        if not result.costs:
            return
        self._result = result
        s = result.settings
        rows = result.costs
        measured = all(r.torch_flops >= 0 for r in rows)
        agree = all(r.torch_flops == 2 * r.multiplies for r in rows) if measured else None
        total = result.total_multiplies
        flops = sum(r.torch_flops for r in rows) if measured else -1
        if agree is None:
            verdict = f"<span style='color:{theme.MUTED}'>torch's count not measured</span>"
        elif agree:
            verdict = (
                f"torch FlopCounterMode: <b>{theme.fmt_int(flops)}FLOPs</b> = 2 × multiplies "
                f"<span style='color:#1a7f37'><b>✓ agrees for every layer</b></span>"
            )
        else:
            verdict = f"<span style='color:#b35900'><b>torch's count differs</b></span> ({theme.fmt_int(flops)}FLOPs)"
        self.header.setText(
            "<b>Problem 1</b> &nbsp; a convolution with output B × X × Y × J from I channels and a ΔX × ΔY filter "
            "costs <b>B·X·Y·ΔX·ΔY·I·J</b> multiplies (thresholds add, they do not multiply)<br>"
            f"Size {s.size}², depth {s.depth}, D = {s.kernel}, J = {s.channels}: "
            f"<b>{total:,}</b> multiplies ({theme.fmt_int(total)}) &nbsp; {verdict}"
        )
        per_level: dict[int, int] = {}
        for r in rows:
            per_level[r.level] = per_level.get(r.level, 0) + r.multiplies
        levels = sorted(per_level)
        peak = max(per_level.values())
        unit, div = next(
            ((u, d) for u, d in (("billions", 1e9), ("millions", 1e6), ("thousands", 1e3)) if peak >= d), ("", 1.0)
        )
        self.bars.setOpts(
            x=np.array(levels, float), height=np.array([per_level[l] / div for l in levels], float), width=0.6
        )
        level_ticks(self.plot, levels)
        self.plot.setXRange(levels[0] - 0.6, levels[-1] + 0.6, padding=0)
        self.plot.setYRange(0, peak / div * 1.08, padding=0)
        self.plot.getAxis("left").setLabel(
            f"multiplies ({unit})" if unit else "multiplies",
            **{"font-size": theme.pt(self._zoom, 0.95), "color": theme.TEXT},
        )

        self.table.setUpdatesEnabled(False)
        self.table.setRowCount(len(rows) + 1)
        for i, r in enumerate(rows):
            b, j, n, _ = r.shape
            in_ch = 3 if r.level == 1 else j
            tf = r.torch_flops
            ok = "" if tf < 0 else ("✓" if tf == 2 * r.multiplies else "✗")
            values = (
                f"L{r.level},{r.scale}",
                f"{b}×{j}×{n}×{n}",
                f"{n}²·{s.kernel}²·{in_ch}·{j} = {r.multiplies_left:,}",
                f"{r.multiplies_left:,}",
                f"{r.multiplies_up:,}",
                f"{r.multiplies:,}",
                "–" if tf < 0 else f"{tf // 2:,}",
                ok,
            )
            for c, v in enumerate(values):
                self._set(i, c, v)
        last = len(rows)
        for c, v in enumerate(
            (
                "total",
                "",
                "",
                f"{sum(r.multiplies_left for r in rows):,}",
                f"{sum(r.multiplies_up for r in rows):,}",
                f"{total:,}",
                "–" if flops < 0 else f"{flops // 2:,}",
                "" if agree is None else ("✓" if agree else "✗"),
            )
        ):
            self._set(last, c, v, bold=True)
        self.table.setUpdatesEnabled(True)

    def _set(self, row: int, col: int, text: str, bold: bool = False) -> None:
        item = self.table.item(row, col)
        if item is None:
            item = QTableWidgetItem()
            self.table.setItem(row, col, item)
        item.setText(text)
        align = Qt.AlignmentFlag.AlignRight if col >= 3 and col != 7 else Qt.AlignmentFlag.AlignLeft
        item.setTextAlignment(align | Qt.AlignmentFlag.AlignVCenter)
        f = item.font()
        f.setBold(bold)
        item.setFont(f)
        if text == "✗":
            item.setForeground(QColor("#b35900"))
