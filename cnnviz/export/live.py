"""Movie frames drawn fast: each figure is built once, then only what moves is drawn again.

A movie frame is the export's figures (:mod:`cnnviz.export.figures`) under a banner. Built and
drawn from scratch, a frame costs about 0.35 s, nearly all of it matplotlib laying out and
drawing text that is the same in every frame: axes, ticks, titles, legends, the grid's labels.
Here each figure is built once by the same renderer, drawn once by Agg without its moving
artists (the background, kept with ``copy_from_bbox``), and per frame the background is restored
and only the moving artists are drawn on it (blitting):

- grid: every cell's image, the colour bar (its limits follow the maps), the frames around
  overflowed or selected cells;
- variance and gradient curves: the measured and theory lines;
- every figure: its caption (it names the frame and Var(w)); once per frame, under the first
  figure that has it (the pyramid's three figures have the same one);
- the banner: the swept value, the note and the slider.

A figure is built again whenever its background would differ: another depth, size or channel
count, a layer that overflows or recovers, a line that appears or vanishes, other y limits. So
every frame is what a fresh build would draw (a test compares them pixel for pixel). Figures
without moving parts known here (the init lab's) are built again for every frame.

Shapes: a frame is uint8 ``[H, W, 3]``; a figure's pixels uint8 ``[h, w, 4]`` (Agg's RGBA).
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..colours import DIVERGING_MAP, is_signed, lut
from ..maps import map_image
from ..scene import Scene
from . import figures as F

BANNER_FRACTION = 0.12  # of the frame's height
HOLD_MARGIN = 0.25  # decades of room added each side when held y limits must move
HOLD_SLACK = 1.0  # decades: held limits wider than the curves need by more than this are narrowed

# the figures of each mode's movie frame, as columns (top to bottom)
PANELS = {
    "pyramid": (("grid",), ("variance", "gradient")),
    "init": (("residual_variance", "residual_gradient"), ("unit_y", "unit_u")),
    "cost": (("grid",), ("multiplies", "variance")),
}


def _blit(fig: Figure, dpi: float, moving: list[Any]) -> tuple[FigureCanvasAgg, Any]:
    """Draw ``fig`` at ``dpi`` without ``moving`` (marked animated); (canvas, background)."""
    for a in moving:
        a.set_animated(True)
    fig.set_dpi(dpi)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas, canvas.copy_from_bbox(fig.bbox)


def _pixel_box(art: Any, canvas: FigureCanvasAgg) -> tuple[int, int, np.ndarray, np.ndarray]:
    """Where an image artist lands in the canvas: (first row, first column, fraction down the image of
    each row's centre [rows], fraction across of each column's centre [columns]); the pixels whose
    centres fall inside the image's extent (as Agg samples a nearest-neighbour image)."""
    x0, x1, y0, y1 = art.get_extent()
    (dx0, dy0), (dx1, dy1) = art.axes.transData.transform([(x0, y0), (x1, y1)])
    height, width = canvas.get_width_height()[::-1]
    c0, c1 = max(0, math.ceil(dx0 - 0.5)), min(width, math.ceil(dx1 - 0.5))
    top, bottom = height - dy1, height - dy0  # buffer rows run down from the top; the image's row 0 is at y1
    r0, r1 = max(0, math.ceil(top - 0.5)), min(height, math.ceil(bottom - 0.5))
    across = (np.arange(c0, c1) + 0.5 - dx0) / (dx1 - dx0)
    down = (np.arange(r0, r1) + 0.5 - top) / (bottom - top)
    return r0, c0, np.clip(down, 0, 1 - 1e-9), np.clip(across, 0, 1 - 1e-9)


def _paint(buf: np.ndarray, image: np.ndarray, box: tuple[int, int, np.ndarray, np.ndarray]) -> None:
    """``image`` (uint8 ``[h, w, 3 | 4]``) nearest-neighbour into its box of ``buf`` (uint8 ``[H, W, 4]``),
    over what is there where the image is transparent (the mosaic's gaps)."""
    r0, c0, down, across = box
    h, w = image.shape[:2]
    tile = image[(down * h).astype(np.intp)][:, (across * w).astype(np.intp)]
    out = buf[r0 : r0 + len(down), c0 : c0 + len(across)]
    if tile.shape[2] == 4 and (tile[..., 3] != 255).any():
        a = tile[..., 3:4].astype(np.uint16)
        out[..., :3] = (tile[..., :3] * a + out[..., :3] * (255 - a) + 127) // 255
    else:
        out[..., :3] = tile[..., :3]
        out[..., 3] = 255


class Panel:
    """One figure of the frame (``name`` of :data:`cnnviz.export.figures.FIGURES`), kept between frames.

    :meth:`prepare` builds the figure when its background changes (or updates the moving
    artists' data otherwise); :meth:`pixels` draws it at a dpi: uint8 ``[h, w, 4]``."""

    def __init__(self, name: str, ylim: tuple[float, float] | None = None, hold: bool = False) -> None:
        self.name = name
        self.fixed_ylim = ylim  # the sweep's y limits, kept for every frame
        self.hold = hold  # keep y limits while the curves fit in them (a clip)
        self.key: Any = None
        self.fig: Figure | None = None
        self.moving: list[Any] = []
        self.canvas: FigureCanvasAgg | None = None
        self.background: Any = None
        self.dpi = 0.0
        self.ylim: tuple[float, float] | None = None
        self.builds = 0  # how often the figure was built (the benchmark reports it)
        self.caption: Any = None
        self.cells: list[Any] = []  # the grid's images, painted by numpy (Agg's image path is slow)
        self.boxes: list[tuple[int, int, np.ndarray, np.ndarray]] = []

    # -- what the background shows -----------------------------------------------------------
    def structure(self, result: Any, scene: Scene) -> Any:
        """What the background depends on, comparable between frames (None: build every frame)."""
        s = result.settings
        if self.name == "grid":
            pyr = result.pyramid
            return ("grid", s.size, s.depth, s.channels, is_signed(s.activation), repr(scene.view), pyr.k,
                    tuple(pyr.nonfinite_layers), F._selected(result, scene))  # fmt: skip
        if self.name in ("variance", "gradient"):
            series, overflow = F.family_series(result.pyramid, *F.family_inputs(result.pyramid, self.name))
            drawn = tuple(
                (s_, not np.isnan(y).all(), t is not None and not np.isnan(t).all()) for s_, _, y, t in series
            )
            return (self.name, result.pyramid.k, result.pyramid.depth, drawn, tuple(overflow), self._ylim(series))
        if self.name == "multiplies":
            return ("multiplies", tuple((r.level, r.scale, r.multiplies) for r in result.costs))
        return None

    def _ylim(self, series: list) -> tuple[float, float] | None:
        """The y limits of a curve figure for this frame: the sweep's, held ones, or the curves' own."""
        if self.fixed_ylim is not None:
            return self.fixed_ylim
        own = F._log_limits([y for _, _, y, _ in series], [t for _, _, _, t in series if t is not None])
        if not self.hold or own is None:
            return own
        held = self.ylim
        if held is not None:
            room_lo, room_hi = math.log10(own[0] / held[0]), math.log10(held[1] / own[1])
            if room_lo >= 0 and room_hi >= 0 and room_lo + room_hi <= HOLD_SLACK:
                return held
        f = 10**HOLD_MARGIN
        return own[0] / f, own[1] * f

    # -- building and updating -----------------------------------------------------------------
    def prepare(self, result: Any, scene: Scene) -> Figure:
        """The figure for ``result``: built again if its background changed, else its moving parts updated."""
        key = self.structure(result, scene)
        if self.fig is None or key is None or key != self.key:
            self._build(result, scene, key)
        else:
            self._update(result, scene)
        assert self.fig is not None
        return self.fig

    def _build(self, result: Any, scene: Scene, key: Any) -> None:
        fig = F.render(result, scene, self.name)
        ax = fig.axes[0]
        moving: list[Any] = []
        self.cells = []
        if self.name == "grid":
            self.cells = list(fig._cnnviz_cells.values())  # type: ignore[attr-defined]
            for art in self.cells:  # drawn by _paint_cells, not by Agg: out of the background
                art.set_animated(True)
            moving = [p for p in ax.patches if p.get_zorder() > self.cells[0].get_zorder()] if self.cells else []
            if hasattr(fig, "_cnnviz_colorbar"):
                moving.append(fig._cnnviz_colorbar[0].ax)
        elif self.name in ("variance", "gradient"):
            lim = key[-1] if key is not None else None
            if lim is not None and ax.get_yscale() == "log":
                ax.set_ylim(*lim)
                F._log_ticks(ax)
            self.ylim = lim
            moving = sorted(fig._cnnviz_lines.values(), key=lambda a: a.get_zorder())  # type: ignore[attr-defined]
        self.caption = fig.texts[0] if fig.texts else None  # figures._figure writes it first
        if self.caption is not None:
            moving.append(self.caption)
        self.fig, self.moving, self.key = fig, moving, key
        self.canvas = self.background = None
        self.builds += 1

    def _update(self, result: Any, scene: Scene) -> None:
        fig = self.fig
        assert fig is not None
        if fig.texts:
            fig.texts[0].set_text(F.caption(result, scene, self.name))
        if self.name == "grid":
            self._update_grid(result, scene)
        elif self.name in ("variance", "gradient"):
            pyr = result.pyramid
            series, _ = F.family_series(pyr, *F.family_inputs(pyr, self.name))
            lines = fig._cnnviz_lines  # type: ignore[attr-defined]
            for s, _, y, t in series:
                if (s, "measured") in lines:
                    lines[s, "measured"].set_ydata(y)
                if (s, "theory") in lines:
                    lines[s, "theory"].set_ydata(t)

    def _update_grid(self, result: Any, scene: Scene) -> None:
        fig: Any = self.fig
        pyr, view = result.pyramid, scene.view
        signed = is_signed(result.settings.activation)
        table = lut(DIVERGING_MAP if signed else view.colormap)
        cells = fig._cnnviz_cells
        images = {key: map_image(pyr.maps[key], view) for key in cells if key[0] >= 1}
        for key, art in cells.items():
            art.set_data(F.grid_cell(pyr, key, images, view, signed, table)[0])
        if hasattr(fig, "_cnnviz_colorbar"):
            cb, cb_key = fig._cnnviz_colorbar
            cb.mappable.set_clim(*F.levels_for(images, cb_key, view.normalisation, signed))

    def pixels(self, dpi: float, drawn: set[str] | None = None) -> np.ndarray:
        """The figure drawn at ``dpi``: uint8 ``[h, w, 4]`` (a view of Agg's buffer, valid until the next call).

        ``drawn``: the captions already drawn in this frame; the caption is left out when it is
        one of them (the pyramid's three figures share one: a frame says it once) and added."""
        fig = self.fig
        assert fig is not None
        if self.canvas is None or dpi != self.dpi:
            self.canvas, self.background = _blit(fig, dpi, self.moving)
            self.dpi = dpi
            self.boxes = [_pixel_box(art, self.canvas) for art in self.cells]
        else:
            self.canvas.restore_region(self.background)
        buf = np.asarray(self.canvas.buffer_rgba())
        for art, box in zip(self.cells, self.boxes):
            _paint(buf, np.asarray(art.get_array()), box)
        for a in self.moving:
            if a is self.caption and drawn is not None:
                if a.get_text() in drawn:
                    continue
                drawn.add(a.get_text())
            fig.draw_artist(a)
        return buf


class Banner:
    """The banner over a frame, uint8 ``[height, width, 4]``: the value in large type, a note, a slider track."""

    def __init__(self, width: int, height: int, slider: bool) -> None:
        from .figures import MUTED, SELECT, TEXT

        dpi = 100.0
        self.dpi = dpi
        self.key = (width, height, slider)
        self.fig = fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi, facecolor="white")
        big = max(10.0, 0.42 * height * 72 / dpi)  # points: 42 % of the banner's height
        self.text = fig.text(0.015, 0.55, "", fontsize=big, color=TEXT, ha="left", va="center")
        self.note = fig.text(0.985, 0.80, "", fontsize=big * 0.36, color=MUTED, ha="right", va="center")
        self.moving: list[Any] = [self.text, self.note]
        self.track: Any = None
        if slider:  # where this value sits in the swept range
            ax = fig.add_axes((0.55, 0.22, 0.43, 0.3))
            ax.set_xlim(-0.02, 1.02)
            ax.set_ylim(-1, 1)
            ax.axis("off")
            lw = max(2.0, height * 0.05)
            ax.plot([0, 1], [0, 0], color="#c8c8c8", lw=lw, solid_capstyle="round")
            (fill,) = ax.plot([0, 0], [0, 0], color=MUTED, lw=lw, solid_capstyle="round")
            (knob,) = ax.plot([0], [0], "o", color=SELECT, ms=max(6.0, height * 0.16))
            self.track = (fill, knob)
            self.moving += [fill, knob]
        self.canvas: FigureCanvasAgg | None = None
        self.background: Any = None

    def pixels(self, text: str, note: str, position: float | None) -> np.ndarray:
        self.text.set_text(text)
        self.note.set_text(note)
        if self.track is not None:
            p = 0.0 if position is None else float(position)
            self.track[0].set_data([0, p], [0, 0])
            self.track[1].set_data([p], [0])
        if self.canvas is None:
            self.canvas, self.background = _blit(self.fig, self.dpi, self.moving)
        else:
            self.canvas.restore_region(self.background)
        for a in self.moving:
            self.fig.draw_artist(a)
        return np.asarray(self.canvas.buffer_rgba())


def _paste(canvas: np.ndarray, tile: np.ndarray, top: int, left: int) -> None:
    h = min(tile.shape[0], canvas.shape[0] - top)
    w = min(tile.shape[1], canvas.shape[1] - left)
    if h > 0 and w > 0:
        canvas[top : top + h, left : left + w] = tile[:h, :w, :3]


class FrameDrawer:
    """Movie frames of one size, uint8 ``[H, W, 3]`` with ``(W, H) = size``: a banner over the mode's figures.

    ``ylims``: fixed y limits of the curve figures by name (a sweep keeps its axes still);
    ``hold``: without them, keep each curve figure's y limits while its curves fit (a clip).
    Each figure is drawn by Agg straight at the resolution it occupies (no resampling)."""

    def __init__(
        self, size: tuple[int, int], ylims: dict[str, tuple[float, float]] | None = None, hold: bool = False
    ) -> None:
        self.size = size
        self.ylims = ylims or {}
        self.hold = hold
        self.mode: str | None = None
        self.columns: list[list[Panel]] = []
        self.layout: list[tuple[float, float, float]] = []  # per column: (width in, height in, dpi)
        self.banner: Banner | None = None

    @property
    def builds(self) -> int:
        return sum(p.builds for col in self.columns for p in col)

    def draw(
        self, result: Any, scene: Scene, *, text: str = "", note: str = "", position: float | None = None
    ) -> np.ndarray:
        width, height = self.size
        mode = result.settings.mode
        if mode != self.mode:
            self.mode, self.layout = mode, []
            self.columns = [[Panel(n, self.ylims.get(n), self.hold) for n in col] for col in PANELS[mode]]
        with matplotlib.rc_context(F.STYLE):
            figs = [[p.prepare(result, scene) for p in col] for col in self.columns]
            banner_h = max(40, int(height * BANNER_FRACTION)) if text or note else 0
            room_h = height - banner_h
            # inches of each column: widest figure x stacked heights; one dpi per column fits the height
            inches = [(max(f.get_size_inches()[0] for f in c), sum(f.get_size_inches()[1] for f in c)) for c in figs]
            dpis = [room_h / h for _, h in inches]
            total_w = sum(w * d for (w, _), d in zip(inches, dpis))
            if total_w > width:
                dpis = [d * width / total_w for d in dpis]
                total_w = width
            canvas = np.full((height, width, 3), 255, np.uint8)
            if banner_h:
                slider = position is not None
                b = self.banner
                if b is None or b.key != (width, banner_h, slider):
                    b = self.banner = Banner(width, banner_h, slider)
                _paste(canvas, b.pixels(text, note, position), 0, 0)
            left = int((width - total_w) / 2)
            captions: set[str] = set()
            for col, (cw, ch), dpi in zip(self.columns, inches, dpis):
                top = banner_h + int((room_h - ch * dpi) / 2)
                for panel in col:
                    tile = panel.pixels(dpi, captions)
                    _paste(canvas, tile, top, left + int((cw * dpi - tile.shape[1]) / 2))
                    top += tile.shape[0]
                left += int(round(cw * dpi))
        return canvas
