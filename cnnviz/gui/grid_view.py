"""The (l, s) triangle of feature maps L_{l,s} of the scale-shared network.

Layout: column = scale s, row (from the bottom) = l + s, so every row holds maps of one size
n = 2^(k-l-s). Then the two inputs of L_{l+1,s} sit exactly where the seed's arrows point:
L_{l,s+1} to its right (<-, stride 1, same size) and L_{l,s} below it (^, stride 2, twice the
size). The diagonal is the input pyramid I_s = L_{0,s}.

All cells live in one ViewBox (one scene, cheap to redraw, zoomable with the mouse wheel);
each cell is one RGBA image coloured in numpy with explicit levels, so NaN/inf get the
marked colour and mosaic gaps are transparent. Every cell's image is painted by one item
(:class:`CellImages`): while a clip plays the grid is drawn 30-60 times a second, and each
item of a scene costs the GUI thread Python calls per paint, each of which waits for the
compute thread's hold on the interpreter (its GIL) to end.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QImage, QPainter
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsRectItem,
    QGraphicsTextItem,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ..core.result import LayerStats, Result
from ..view_state import NORMALISATION_LABELS, ViewState
from . import theme
from .maps import MapImage, grid_keys, levels_by_key, log_image, map_images, pyramid_rgb, same_arrays
from .plots import ColorBar
from .qt import pg
from .steady import SteadyText

PITCH = 1.35  # the least cell pitch: cell size 1 plus the gap that holds titles and arrows
COLORBAR_INTERVAL_S = 0.1  # while frames stream, the colour bar and readout follow the maps ten times a second
LABEL_PX = 15.0  # grid labels at zoom 1, in screen pixels (>= 14: readable from the back row)


@dataclass
class _Cell:
    key: tuple[int, int]
    title: DiagramText
    frame: QGraphicsRectItem
    rect: QRectF
    image: MapImage | None = None
    levels: tuple[float, float] = (0.0, 1.0)
    # what is drawn: uint8 [H, W, 4] (RGBA) or [H, W, 3] (the input I_s), and where (view units)
    pixels: np.ndarray | None = None
    image_rect: QRectF | None = None


class CellImages(pg.GraphicsObject):
    """The images of every cell, painted by one item in one call.

    Each image is a uint8 ``[H, W, 4]`` (RGBA) or ``[H, W, 3]`` (RGB) array, drawn pixel for
    pixel (no smoothing) into its rect in view units; the arrays are kept (the QImages wrap them).
    """

    def __init__(self) -> None:
        super().__init__()
        self._images: dict[tuple[int, int], tuple[QRectF, QImage, np.ndarray]] = {}
        self._bounds = QRectF()

    def set_bounds(self, rect: QRectF) -> None:
        self.prepareGeometryChange()
        self._bounds = QRectF(rect)

    def clear(self) -> None:
        self._images.clear()
        self.update()

    def set_image(self, key: tuple[int, int], pixels: np.ndarray, rect: QRectF) -> None:
        """Show ``pixels`` (uint8 [H, W, 4] or [H, W, 3]) in ``rect``; call :meth:`update` after a batch."""
        pixels = np.ascontiguousarray(pixels)
        h, w, c = pixels.shape
        fmt = QImage.Format.Format_RGBA8888 if c == 4 else QImage.Format.Format_RGB888
        self._images[key] = (QRectF(rect), QImage(pixels.data, w, h, c * w, fmt), pixels)

    def boundingRect(self) -> QRectF:
        return self._bounds

    def paint(self, p: QPainter, *args) -> None:
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        for rect, image, _ in self._images.values():
            p.drawImage(rect, image)


FONT_PX = 40.0  # labels are laid out at this pixel size, then scaled into view units


class DiagramText(QGraphicsTextItem):
    """Text that is part of the diagram: its size is given in view units (a cell is 1), so it
    grows and shrinks with the cells and never collides with them, on any screen and zoom.
    Kept as a pixmap between redraws of the maps (DeviceCoordinateCache)."""

    def __init__(self, html: str, height: float, anchor: tuple[float, float] = (0.0, 0.0)) -> None:
        super().__init__()
        f = QFont()
        f.setPixelSize(int(FONT_PX))
        self.setFont(f)
        self.document().setDocumentMargin(0)
        self._height, self._anchor = height, anchor
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.set_html(html)

    def set_html(self, html: str) -> None:
        self.setHtml(html)
        self.setScale(self._height / FONT_PX)

    def place(self, x: float, y: float) -> None:
        r = self.boundingRect()
        k = self.scale()
        self.setPos(x - self._anchor[0] * r.width() * k, y - self._anchor[1] * r.height() * k)

    def view_width(self) -> float:
        return self.boundingRect().width() * self.scale()


def decade_ticks(lo: float, hi: float) -> list[list[tuple[float, str]]]:
    """Colour-bar ticks for log10 values: whole decades written as powers of ten, at most ~7."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [[], []]
    first, last = math.ceil(lo), math.floor(hi)
    step = max(1, math.ceil((last - first + 1) / 7))
    return [[(float(d), theme.power_of_ten(d)) for d in range(first, last + 1) if d % step == 0], []]


def cell_origin(k: int, level: int, scale: int, pitch: float = PITCH) -> tuple[float, float]:
    """Top-left corner of cell (l, s) in view coordinates (y grows downwards)."""
    row = level + scale
    return scale * pitch, (k - row) * pitch


def fit_pitch(k: int, width_px: float, height_px: float, label_px: float) -> tuple[float, float]:
    """(pitch, label height) in view units (a cell is 1) so that labels are ``label_px`` pixels
    tall on a ``width_px`` x ``height_px`` view: the gaps between cells grow to hold them."""
    pitch, th = PITCH, 0.27
    for _ in range(8):  # a fixed point: the scale depends on the pitch, the pitch on the scale
        ppu = min(height_px / ((k + 1) * pitch + 3.8 * th + 0.4), width_px / ((k + 1) * pitch + 0.5))
        # Labels never outgrow the cells (at most 0.72 of a cell): on a view too small for both,
        # the labels shrink rather than the maps vanish (F9 gives the grid the screen).
        th = min(label_px / max(ppu, 1e-6), 0.72)
        pitch = max(PITCH, 1.0 + 1.25 * th + 0.04)
    return pitch, th


class FeatureGridView(QWidget):
    """Draws ``result.pyramid`` as the (l, s) triangle; hovering reads values, clicking selects."""

    cell_clicked = Signal(int, int)  # level, scale
    selection_changed = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._zoom = 1.0
        self._result: Result | None = None
        self._cbar_label: str | None = None
        self._view = ViewState()
        self._cells: dict[tuple[int, int], _Cell] = {}
        self._static: list = []  # labels and arrows of the current structure
        self._structure: tuple[int, int] | None = None
        # A/B: the other grid's Result; each cell's colour levels then span both (gui/compare.py)
        self.partner_result: Callable[[], Result | None] | None = None
        self._selected: tuple[int, int] | None = None
        self._inputs_shown: tuple = ()  # the pyramid I_s the l = 0 cells show
        self._pitch, self._th = PITCH, 0.27  # cell pitch and label height in view units (fit_pitch)
        self._hover: tuple[tuple[int, int], float, float] | None = None  # cell under the mouse, (fx, fy)
        # Set by the window: True while a clip plays or the camera is live. The colour bar's axis
        # (its tick text) and the readout's numbers are then redrawn at most every
        # COLORBAR_INTERVAL_S, and always for the last result drawn; the maps for every result.
        self.streaming: Callable[[], bool] | None = None
        self._cbar_at = -math.inf
        self._cbar_timer = QTimer(self)
        self._cbar_timer.setSingleShot(True)
        self._cbar_timer.timeout.connect(self._update_numbers)

        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.glw.ci.setContentsMargins(4, 4, 4, 4)
        self.vb: pg.ViewBox = self.glw.addViewBox(row=0, col=0)
        self.vb.setAspectLocked(True)
        self.vb.invertY(True)
        self.vb.setMenuEnabled(False)
        # Under the grid, across it: the width goes to the cells (a 1280-pixel projector has little).
        # Where the grid is wide and low (under the lecture panel at 720 px) the bar stands at its
        # right instead, and the height goes to the cells (_fit_colorbar).
        self._bars = {
            orientation: ColorBar(
                values=(0, 1),
                colorMap=theme.colormap("viridis"),
                interactive=False,
                width=16,
                colorMapMenu=False,
                orientation=orientation,
            )
            for orientation in ("horizontal", "vertical")
        }
        self.cbar = self._bars["horizontal"]
        self._cbar_fresh = False  # the bar shown was just placed: set its map, ticks and label
        self._content: QRectF | None = None  # the diagram's rect in view units (_build)
        self.glw.addItem(self.cbar, row=1, col=0)
        self.glw.installEventFilter(self)  # its shape places the bar (eventFilter)
        self.legend = QLabel(" ")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)

        self.readout = SteadyText(" ")  # changes with every result: no relayout of the window (gui/steady.py)
        self.readout.setObjectName("readout")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.glw, 1)
        lay.addWidget(self.legend)
        lay.addWidget(self.readout)

        self.images = CellImages()  # every cell's image
        self.images.setZValue(1)
        self.vb.addItem(self.images)

        self.sel_frame = QGraphicsRectItem()
        self.sel_frame.setPen(pg.mkPen(theme.SELECT_HEX, width=3, cosmetic=True))
        self.sel_frame.setZValue(20)
        self.sel_frame.hide()
        self.vb.addItem(self.sel_frame, ignoreBounds=True)

        self.vb.sigResized.connect(self._on_resized)
        self.glw.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.glw.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self._apply_zoom()

    # -- public -----------------------------------------------------------------------------
    @property
    def cell_keys(self) -> list[tuple[int, int]]:
        return sorted(self._cells)

    @property
    def levels_shown(self) -> list[int]:
        return sorted({l for l, _ in self._cells})

    @property
    def selected(self) -> tuple[int, int] | None:
        return self._selected

    def cell_image(self, key: tuple[int, int]) -> MapImage | None:
        return self._cells[key].image

    def cell_pixels(self, key: tuple[int, int]) -> np.ndarray | None:
        """The pixels cell ``key`` shows: uint8 [H, W, 4] (RGBA, a map) or [H, W, 3] (the input I_s)."""
        return self._cells[key].pixels

    def image_rect(self, key: tuple[int, int]) -> QRectF | None:
        """Where cell ``key``'s image is drawn, in view units (a cell is 1 x 1)."""
        r = self._cells[key].image_rect
        return QRectF(r) if r is not None else None

    def image_scene_rect(self, key: tuple[int, int]) -> QRectF | None:
        """Where cell ``key``'s image is drawn, in the scene's coordinates (for mouse positions)."""
        r = self._cells[key].image_rect
        return self.images.mapRectToScene(r) if r is not None else None

    def marked_cells(self) -> list[tuple[int, int]]:
        """Cells framed as overflowed (their layer holds inf or NaN)."""
        return sorted(key for key, cell in self._cells.items() if cell.frame.isVisible())

    def set_zoom(self, zoom: float) -> None:
        self._zoom = zoom
        self._apply_zoom()
        if self._structure is not None:
            self._build(*self._structure, force=True)
            self._redraw()

    def set_result(self, result: Result, view: ViewState) -> None:
        if result.pyramid is None:
            return
        self._result, self._view = result, view
        pyr = result.pyramid
        self._build(pyr.k, pyr.depth)
        if self._selected not in self._cells or self._selected is None:
            self._selected = (pyr.depth, 0)
        self._redraw()

    def set_view_state(self, view: ViewState) -> None:
        self._view = view
        if self._result is not None:
            self._redraw()

    def set_selected(self, level: int, scale: int) -> None:
        if (level, scale) in self._cells and (level, scale) != self._selected:
            self._selected = (level, scale)
            self._update_selection()
            self._update_colorbar()
            self._update_readout()
            self.selection_changed.emit(level, scale)

    # -- structure: rebuilt only when k or the depth change -------------------------------
    def _build(self, k: int, depth: int, force: bool = False) -> None:
        if self._structure == (k, depth) and not force:
            return
        for cell in self._cells.values():
            for it in (cell.title, cell.frame):
                self.vb.removeItem(it)
        self.images.clear()
        self._inputs_shown = ()  # the l = 0 cells are set again
        for it in self._static:
            self.vb.removeItem(it)
        self._cells, self._static = {}, []
        self._structure = (k, depth)
        self._pitch, self._th = self._fit(k)
        th, pitch = self._th, self._pitch
        for key in grid_keys(k, depth):
            x, y = cell_origin(k, *key, pitch)
            title = DiagramText(self._title_html(key, False), th, anchor=(0.0, 1.0))
            title.place(x - 0.02, y - 0.01)
            self.vb.addItem(title, ignoreBounds=True)
            # Inside the cell: an overflowed cell is drawn no larger than the others and never
            # covers the arrows in the gaps; dashed, so it reads on a magenta map too.
            frame = QGraphicsRectItem(QRectF(x + 0.03, y + 0.03, 0.94, 0.94))
            frame.setPen(pg.mkPen(theme.TEXT, width=2, cosmetic=True, style=Qt.PenStyle.DashLine))
            frame.setZValue(10)
            frame.hide()
            self.vb.addItem(frame, ignoreBounds=True)
            self._cells[key] = _Cell(key, title, frame, QRectF(x, y, 1, 1))
        self._add_labels(k, depth)
        self.images.set_bounds(QRectF(0, 0, (k + 1) * pitch, (k + 1) * pitch))
        right = max([(k + 1) * pitch] + [it.pos().x() + it.view_width() for it in self._static if it.isVisible()])
        self._content = QRectF(-0.1, -0.1 - 1.3 * th, right + 0.2, (k + 1) * pitch + 3.8 * th + 0.2)
        self.vb.setRange(self._content, padding=0.0)

    def _fit(self, k: int) -> tuple[float, float]:
        r = self.vb.boundingRect()
        w, h = (r.width(), r.height()) if r.width() > 50 and r.height() > 50 else (600.0, 600.0)
        return fit_pitch(k, w, h, LABEL_PX * self._zoom)

    def _on_resized(self, *_) -> None:
        """A new size of the view: new gaps when the labels would change size noticeably."""
        if self._structure is None:
            return
        pitch = self._fit(self._structure[0])[0]
        if abs(pitch - self._pitch) > 0.02 * self._pitch:
            self._build(*self._structure, force=True)
            self._redraw()
        else:
            self.vb.setRange(self.vb.viewRect(), padding=0.0)

    def label_pixel_sizes(self) -> list[float]:
        """The font size in screen pixels of every label of the diagram (titles, sizes, equation)."""
        out = []
        texts = [c.title for c in self._cells.values()] + [t for t in self._static if t.isVisible()]
        for t in texts:
            m = t.sceneTransform()
            out.append(t.font().pixelSize() * abs(m.m22()))
        return out

    def _add_labels(self, k: int, depth: int) -> None:
        th, pitch = self._th, self._pitch
        muted, arrow = theme.MUTED, "#9a9a9a"
        # Under each column: its scale s and the size of the input I_s, which is the size of every
        # map in I_s's row. (Nothing right of the triangle: the width goes to the cells.)
        for s in range(k + 1):
            x, y = cell_origin(k, 0, s, pitch)
            n = 2 ** (k - s)
            t = DiagramText(f"<div align='center' style='color:{muted}'>s={s}<br>{n}²</div>", th, anchor=(0.5, 0.0))
            t.place(x + 0.5, k * pitch + 1.03)
            self._static.append(t)
        # The seed's arrows, in the gaps: <- from the next-coarser scale, ^ from below.
        for l, s in grid_keys(k, depth):
            if l == 0:
                continue
            x, y = cell_origin(k, l, s, pitch)
            left = DiagramText(f"<span style='color:{arrow}'>←</span>", th, anchor=(0.5, 0.5))
            left.place(x + 1 + (pitch - 1) / 2, y + 0.5)
            up = DiagramText(f"<span style='color:{arrow}'>↑</span>", th, anchor=(1.0, 0.5))
            up.place(x + 1.0, y + 1 + (pitch - 1) / 2)
            self._static += [left, up]
        # The equation, in the empty lower-right half of the triangle: as wide as that is.
        eq = DiagramText(self._equation_html(), 1.0, anchor=(1.0, 1.0))
        # It sits in rows 0 and 1 (whose labels end before x = 3 pitch), bottom-right aligned,
        # as large as the labels; where that does not fit (a shallow grid) it is left out: the
        # help (F1, "What am I looking at") has it too.
        room = (k - 2) * pitch - 0.1
        eq._height = th
        eq.set_html(self._equation_html())
        eq.place((k + 1) * pitch, k * pitch + 1.0)
        eq.setVisible(room > 0 and eq.view_width() <= room)
        self._static.append(eq)
        for it in self._static:
            self.vb.addItem(it, ignoreBounds=True)

    def _equation_html(self) -> str:
        return (
            f"<div style='color:{theme.TEXT}' align='right'>"
            "L<sub>l+1,s</sub> = f( W<sub>←</sub> ⋆ L<sub>l,s+1</sub><br>"
            "+ W<sub>↑</sub> ⋆<sub>2</sub> L<sub>l,s</sub> + B )<br>"
            f"<span style='color:{theme.MUTED}'>← coarser scale, stride 1<br>"
            "↑ same scale, stride 2</span></div>"
        )

    def _title_html(self, key: tuple[int, int], bad: bool) -> str:
        l, s = key
        color = theme.MUTED if l == 0 else theme.TEXT
        name = f"I<sub>{s}</sub>" if l == 0 else f"L<sub>{l},{s}</sub>"
        # The name stays dark on white; the mark is a magenta badge with white text.
        mark = f" <span style='background:{theme.NONFINITE_HEX}; color:white'>&nbsp;inf&nbsp;</span>" if bad else ""
        return f"<span style='color:{color}'>{name}</span>{mark}"

    # -- drawing ------------------------------------------------------------------------------
    def _redraw(self) -> None:
        result, view = self._result, self._view
        if result is None or result.pyramid is None:
            return
        pyr = result.pyramid
        log = view.normalisation == "log"
        signed = theme.is_signed(result.settings.activation) and not log  # |value| has one sign
        table = theme.lut(theme.DIVERGING_MAP if signed else view.colormap)
        images = map_images({key: pyr.maps[key] for key in self._cells if key[0] >= 1}, view)
        other = self.partner_result() if self.partner_result is not None else None
        partner = (  # the other grid's images of the cells both have, made as this grid makes its own
            map_images({k: other.pyramid.maps[k] for k in self._cells if k[0] >= 1 and k in other.pyramid.maps}, view)
            if other is not None and other.pyramid is not None
            else None
        )
        if log:
            images = {key: log_image(im) for key, im in images.items()}
            if partner:
                partner = {key: log_image(im) for key, im in partner.items()}
        levels = levels_by_key(images, view.normalisation, signed)
        partner_levels = levels_by_key(partner, view.normalisation, signed) if partner else {}
        stats = {(st.level, st.scale): st for st in pyr.layers}
        same_inputs = same_arrays(pyr.pyramid, self._inputs_shown)
        self._inputs_shown = tuple(pyr.pyramid)
        maps: list[tuple[_Cell, MapImage]] = []  # the cells l >= 1, coloured together below
        for key, cell in self._cells.items():
            st = stats.get(key)
            bad = bool(st is not None and st.nonfinite)
            if key[0] == 0:
                cell.image = None
                # The inputs I_s do not change while a slider moves: redrawn only when the image does.
                if not (same_inputs and cell.pixels is not None):
                    self._show_pixels(cell, pyramid_rgb(pyr, key[1]))
            else:
                im = images[key]
                cell.image = im
                cell.levels = levels[key]
                if key in partner_levels:  # A/B: one colour scale for both grids
                    cell.levels = theme.finite_range([cell.levels, partner_levels[key]], signed)
                maps.append((cell, im))
            if bad != cell.frame.isVisible():
                cell.frame.setVisible(bad)
                cell.title.set_html(self._title_html(key, bad))
        coloured = theme.colorize_many(
            [im.data for _, im in maps], [c.levels for c, _ in maps], table, [im.gap_mask for _, im in maps]
        )
        for (cell, _), pixels in zip(maps, coloured):
            self._show_pixels(cell, pixels)
        self.images.update()
        self._update_selection()
        self._update_legend(pyr.nonfinite_layers)
        self._numbers_when_due()

    def _show_pixels(self, cell: _Cell, pixels: np.ndarray) -> None:
        """Draw ``pixels`` (uint8 [H, W, 3 or 4]) centred in the cell, as large as fits, aspect kept."""
        rows, cols = pixels.shape[:2]
        aspect = rows / cols
        w, h = (1.0, aspect) if aspect <= 1 else (1 / aspect, 1.0)
        x, y = cell.rect.x(), cell.rect.y()
        cell.pixels = pixels
        cell.image_rect = QRectF(x + (1 - w) / 2, y + (1 - h) / 2, w, h)
        self.images.set_image(cell.key, pixels, cell.image_rect)

    def _update_selection(self) -> None:
        cell = self._cells.get(self._selected) if self._selected else None
        if cell is None:
            self.sel_frame.hide()
            return
        r = cell.rect
        self.sel_frame.setRect(QRectF(r.x() - 0.07, r.y() - 0.07, 1.14, 1.14))
        self.sel_frame.show()

    def _numbers_when_due(self) -> None:
        if self.streaming is not None and self.streaming():
            wait = COLORBAR_INTERVAL_S - (time.monotonic() - self._cbar_at)
            if wait > 0:
                if not self._cbar_timer.isActive():
                    self._cbar_timer.start(max(1, math.ceil(wait * 1e3)))
                return
        self._update_numbers()

    def _update_numbers(self) -> None:
        """The colour bar and the readout, for the result on screen."""
        self._update_colorbar()
        self._update_readout()

    def colorbar_levels(self) -> tuple[float, float]:
        """The (lo, hi) the colour bar shows."""
        lo, hi = self.cbar.levels()
        return float(lo), float(hi)

    def _update_colorbar(self) -> None:
        self._cbar_timer.stop()
        self._cbar_at = time.monotonic()
        result = self._result
        if result is None:
            return
        log = self._view.normalisation == "log"
        signed = theme.is_signed(result.settings.activation) and not log
        cmap = theme.DIVERGING_MAP if signed else self._view.colormap
        fresh, self._cbar_fresh = self._cbar_fresh, False
        if fresh or cmap != getattr(self, "_cbar_cmap", None):  # a new colour map redraws the bar's image
            self._cbar_cmap = cmap
            self.cbar.setColorMap(theme.colormap(cmap))
        key = self._selected if self._selected and self._selected[0] >= 1 else None
        if key is None:
            key = next((k for k in sorted(self._cells) if k[0] >= 1), None)
        if key is None:
            self._cbar_fresh = fresh  # nothing drawn yet: the next call sets all of it
            return
        lo, hi = self._cells[key].levels
        self.cbar.setLevels((lo, hi))
        norm = self._view.normalisation
        scope = {"map": f"L{key[0]},{key[1]}", "level": f"level {key[0]}", "global": "all levels", "log": ""}[norm]
        label = f"value ({scope})" if not log else "|value|, log scale, all levels"
        ticks = decade_ticks(lo, hi) if log else None
        if fresh or ticks != getattr(self, "_cbar_ticks", None):
            self._cbar_ticks = ticks
            self.cbar.axis.setTicks(ticks)
        if fresh or label != getattr(self, "_cbar_label", None):  # a new label re-lays out the widget
            self._cbar_label = label
            self.cbar.axis.setLabel(label, **{"font-size": theme.pt(self._zoom, 0.9), "color": theme.TEXT})

    def _update_legend(self, bad: list[tuple[int, int]]) -> None:
        result = self._result
        if result is None:
            return
        what = (
            f"channel {min(self._view.channel, result.settings.channels - 1)}"
            if not self._view.mosaic
            else f"all {result.settings.channels} channels (mosaic)"
        )
        signed = theme.is_signed(result.settings.activation) and self._view.normalisation != "log"
        cmap = f"{theme.DIVERGING_MAP} centred at 0 (signed layers)" if signed else self._view.colormap
        if self._view.normalisation == "log":
            cmap += " (exact 0 in the darkest colour)"
        text = (
            f"<span style='color:{theme.MUTED}'>showing {what} · {cmap}, colours "
            f"{NORMALISATION_LABELS[self._view.normalisation]} · </span>"
            f"<span style='color:{theme.NONFINITE_HEX}'>■</span>"
            f"<span style='color:{theme.MUTED}'> = inf or NaN</span>"
        )
        if bad:
            text += f"<span style='color:{theme.NONFINITE_HEX}'> · <b>{len(bad)} layer(s) overflowed</b></span>"
        self.legend.setText(text)

    def _apply_zoom(self) -> None:
        self._cbar_label = None
        self.readout.setFont(theme.font(self._zoom, 1.0))
        self.legend.setFont(theme.font(self._zoom, 0.9))
        self.readout.setMinimumHeight(int(2 * theme.px(self._zoom) * 1.45))
        for orientation, bar in self._bars.items():
            axis = bar.axis
            axis.setStyle(tickFont=theme.font(self._zoom, 0.85), tickTextOffset=int(3 * self._zoom))
            axis.setTextPen(pg.mkPen(theme.TEXT))
            if orientation == "horizontal":
                axis.setHeight(int(3.1 * theme.px(self._zoom, 0.9)) + 8)  # ticks and the label, whole
            else:
                # tick labels of about six characters, then the label turned on its side
                axis.setWidth(int(3.2 * theme.px(self._zoom, 0.85)) + int(1.6 * theme.px(self._zoom, 0.9)) + 8)

    # The colour bar stands at the grid's right above this width / height, lies under it below
    # the second (the gap keeps a resize near the edge from flipping it back and forth)
    BAR_RIGHT_ABOVE, BAR_UNDER_BELOW = 2.0, 1.6

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and watched is self.glw:
            self._fit_colorbar()
        return super().eventFilter(watched, event)

    def _fit_colorbar(self) -> None:
        size = self.glw.size()
        aspect = size.width() / max(size.height(), 1)
        if aspect > self.BAR_RIGHT_ABOVE:
            self._place_colorbar("vertical")
        elif aspect < self.BAR_UNDER_BELOW:
            self._place_colorbar("horizontal")

    def _place_colorbar(self, orientation: str) -> None:
        bar = self._bars[orientation]
        if bar is self.cbar:
            return
        self.glw.removeItem(self.cbar)
        self.cbar = bar
        if orientation == "horizontal":
            self.glw.addItem(bar, row=1, col=0)
        else:
            self.glw.addItem(bar, row=0, col=1)
        self._cbar_fresh = True  # its map, ticks and label set whatever the other bar had
        self._update_colorbar()
        # once the layout has given the view its new shape, the diagram fills it again (a resize
        # keeps the range shown, which the old shape had widened or heightened)
        QTimer.singleShot(0, self._refit)

    def _refit(self) -> None:
        if self._structure is None:
            return
        self._on_resized()
        if self._content is not None:
            self.vb.setRange(self._content, padding=0.0)

    # -- interaction --------------------------------------------------------------------------
    def _cell_at(self, scene_pos: QPointF) -> tuple[_Cell, float, float] | None:
        if not self.vb.sceneBoundingRect().contains(scene_pos):
            return None
        p = self.vb.mapSceneToView(scene_pos)
        for cell in self._cells.values():
            r = cell.image_rect
            if r is not None and r.contains(p):
                return cell, (p.x() - r.x()) / r.width(), (p.y() - r.y()) / r.height()
        return None

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        hit = self._cell_at(scene_pos)
        self._hover = (hit[0].key, hit[1], hit[2]) if hit else None
        self._update_readout()

    def _update_readout(self) -> None:
        """The readout always describes the Result on screen: the cell under the mouse, or else
        the selected cell (whose histogram the curves show)."""
        hover = self._hover if self._hover is not None and self._hover[0] in self._cells else None
        if hover is not None:
            key, fx, fy = hover
            html = self._readout_html(self._cells[key], fx, fy)
        elif self._selected in self._cells:
            html = self._readout_html(self._cells[self._selected], -1.0, -1.0)
        else:
            html = " "
        self.readout.setText(html)

    def _on_mouse_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        hit = self._cell_at(event.scenePos())
        if hit is None:
            return
        cell = hit[0]
        self.set_selected(*cell.key)
        self.cell_clicked.emit(*cell.key)

    def _readout_html(self, cell: _Cell, fx: float, fy: float) -> str:
        result = self._result
        if result is None or result.pyramid is None:
            return " "
        l, s = cell.key
        st = result.pyramid.layer(l, s)
        shape = "×".join(str(d) for d in st.shape)
        head = f"<b>{'I' if l == 0 else 'L'}<sub>{l},{s}</sub></b> &nbsp; l = {l}, s = {s} &nbsp; shape {shape}"
        where = ""
        im = cell.image
        if im is not None and fx >= 0 and fy >= 0:
            rows, cols = im.data.shape
            hit = im.channel_at(min(int(fy * rows), rows - 1), min(int(fx * cols), cols - 1))
            if hit is not None:
                c, y, x = hit
                value = float(result.pyramid.maps[(l, s)][c, y, x])
                scale = st.size // im.tile[0] if im.tile[0] else 1
                pos = f"x = {x}, y = {y}" if scale == 1 else f"x ≈ {x * scale}, y ≈ {y * scale}"
                where = f" &nbsp; channel {c} &nbsp; {pos} &nbsp; value <b>{theme.fmt(value, 4)}</b>"
        return f"{head}{where}<br>{self._stats_html(st)}"

    @staticmethod
    def _stats_html(st: LayerStats) -> str:
        parts = [f"mean {theme.fmt(st.mean)}", f"var {theme.fmt(st.var)}", f"zeros {100 * st.zero_frac:.0f} %"]
        if st.level >= 1:
            parts.append(f"grad RMS {theme.fmt(st.grad_rms)}")
        if st.nonfinite:
            parts.append(f"<span style='color:{theme.NONFINITE_HEX}'><b>{st.nonfinite} inf/NaN</b></span>")
        return " &nbsp;·&nbsp; ".join(parts)
