"""What the faster drawing paths must keep: the pixels of the plots, and redraws when the image changes."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage, QPainter

from cnnviz.gui import theme
from cnnviz.gui.plots import GridAxis, style_plot
from cnnviz.gui.qt import pg

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def _pixels(paint, axis, offset: tuple[float, float]) -> np.ndarray:
    """What ``paint(axis, painter)`` draws on white, the axis placed at a sub-pixel ``offset``."""
    axis.picture = None  # both paths build their picture from scratch
    rect = axis.boundingRect()
    img = QImage(int(rect.width()) + 40, int(rect.height()) + 40, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(Qt.GlobalColor.white)
    p = QPainter(img)
    p.translate(20 + offset[0] - rect.x(), 20 + offset[1] - rect.y())
    paint(axis, p, None, None)
    p.end()
    return np.frombuffer(img.constBits(), dtype=np.uint8).reshape(img.height(), img.width(), 4).copy()


@pytest.mark.parametrize("x_range", [(0.0, 0.08), (-3.7, 12.2), (-61.3, 943.0)])
def test_grid_axis_draws_exactly_the_pixels_of_pyqtgraphs_grid_lines(qtbot, x_range):
    widget = pg.GraphicsLayoutWidget()
    qtbot.addWidget(widget)
    plot = widget.addPlot()
    style_plot(plot, 1.0, "Histogram", "value", "count (log)", log_y=True)
    widget.resize(600, 320)
    widget.show()
    qtbot.waitExposed(widget)
    plot.setXRange(*x_range, padding=0)
    axis = plot.getAxis("bottom")
    assert isinstance(axis, GridAxis)
    for offset in [(0.0, 0.0), (0.3, 0.6), (0.5, 0.5), (0.99, 0.01)]:
        ours = _pixels(GridAxis.paint, axis, offset)
        theirs = _pixels(pg.AxisItem.paint, axis, offset)
        assert (theirs[..., :3] < 250).any(), "the axis drew nothing"
        assert np.array_equal(ours, theirs), f"pixels differ at offset {offset}"


def test_a_new_image_redraws_the_input_cells_and_the_pyramid_strip(qtbot, settle, main_window, tmp_path):
    w = main_window
    before_cell = np.array(w.grid.cell_pixels((0, 0)), copy=True)
    before_strip = [QImage(im) for im in w.source_panel.strip._images]
    path = tmp_path / "red.png"
    Image.new("RGB", (80, 80), (220, 20, 20)).save(path)
    assert w.open_file(str(path))
    settle(w)
    after_cell = w.grid.cell_pixels((0, 0))
    assert not np.array_equal(after_cell, before_cell)
    np.testing.assert_allclose(after_cell[3, 3, :3], [220, 20, 20], atol=2)
    assert w.source_panel.strip._images[0] != before_strip[0]
    # and while only a slider moves, the inputs stay as they are
    shown = w.source_panel.strip._images
    slider = w.controls.init.slider
    slider.setValue(slider.value() + 1)
    settle(w)
    assert w.source_panel.strip._images is shown
    np.testing.assert_array_equal(w.grid.cell_pixels((0, 0)), after_cell)


def test_the_curves_plot_every_scale_and_the_theory(qtbot, settle, main_window):
    w = main_window
    pyr = w.result.pyramid
    var = pyr.grid("var")
    for s in range(pyr.k + 1):
        levels, values = w.curves.measured("var", s)
        top = min(pyr.depth, pyr.k - s)
        np.testing.assert_array_equal(levels, np.arange(0, top + 1))
        np.testing.assert_allclose(values, var[: top + 1, s], rtol=1e-6)
    # a line for every scale with two or more levels, measured (solid) and theory (dashed);
    # a dot on every measured point, above the lines
    curve_set = w.curves._sets["var"]
    long = [s for s in range(pyr.k + 1) if min(pyr.depth, pyr.k - s) >= 1]
    solid = [pen for _, pen in curve_set._paths if pen.style() == Qt.PenStyle.SolidLine]
    dashed = [pen for _, pen in curve_set._paths if pen.style() == Qt.PenStyle.DashLine]
    assert len(solid) == len(long)
    theory = pyr.grid("theory_var")
    assert len(dashed) == sum(int(np.isfinite(theory[: min(pyr.depth, pyr.k - s) + 1, s]).sum() >= 2) for s in long)
    assert len(dashed) >= 1
    assert sum(x.size for x, _, _ in curve_set._dots) == sum(min(pyr.depth, pyr.k - s) + 1 for s in range(pyr.k + 1))


def test_log_axis_labels_read_as_a_person_writes_them(qtbot):
    import math

    from cnnviz.gui.plots import PlainAxis

    axis = PlainAxis("left")
    values = [math.log10(v) for v in (500, 0.002, 5e5, 100, 2e-6)]
    assert axis.logTickStrings(values, 1, 1) == ["500", "0.002", "5·10⁵", "100", "2·10⁻⁶"]


@pytest.mark.parametrize("mosaic", [False, True])
def test_every_cell_shows_its_own_pixels_in_its_place(qtbot, settle, main_window, mosaic):
    """One item paints every cell: what is on screen at a point inside a cell's image is that
    cell's pixel there (maps and inputs alike), and no map is drawn over another."""
    w = main_window
    if mosaic:
        w.change_view(lambda v: v.replace(mosaic=True))
        settle(w)
    grid = w.grid
    shot = grid.glw.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    assert shot.width() > 100 and grid.cell_keys
    bg = grid.glw.backgroundBrush().color()
    background = (bg.red(), bg.green(), bg.blue())
    for key in grid.cell_keys:
        pixels = grid.cell_pixels(key)
        rect = grid.image_scene_rect(key)
        rows, cols = pixels.shape[:2]
        for fy, fx in ((0.31, 0.37), (0.72, 0.64)):
            r, c = int(fy * rows), int(fx * cols)
            if pixels.shape[2] == 4 and pixels[r, c, 3] == 0:
                continue  # a mosaic gap: transparent
            centre = rect.topLeft() + QPointF((c + 0.5) / cols * rect.width(), (r + 0.5) / rows * rect.height())
            at = grid.glw.mapFromScene(centre)
            shown = shot.pixelColor(at.x(), at.y())
            # one of the image's pixels next to (r, c): screen pixels and image pixels seldom align
            d = 1 + int(np.ceil(rows / max(rect.height(), 1e-9)))
            near = pixels[max(r - d, 0) : r + d + 1, max(c - d, 0) : c + d + 1].reshape(-1, pixels.shape[2]).copy()
            if near.shape[1] == 4:  # a gap shows the background
                near[near[:, 3] == 0, :3] = background
            rgb = (shown.red(), shown.green(), shown.blue())
            assert (near[:, :3] == rgb).all(axis=1).any(), (key, r, c, rgb, pixels[r, c, :3])


def test_while_frames_stream_the_colour_bar_ends_on_the_last_result(qtbot, settle, main_window):
    """The colour bar follows the maps at most ten times a second while a clip plays, and
    always lands on the levels of the result on screen."""
    w = main_window
    grid = w.grid
    grid.streaming = lambda: True
    for seed in (3, 4, 5):
        w.change(lambda s, seed=seed: s.replace(seed=seed))
        settle(w)
    key = grid.selected
    assert key is not None and key[0] >= 1
    qtbot.waitUntil(lambda: grid.colorbar_levels() == pytest.approx(grid._cells[key].levels), timeout=5_000)


def test_while_frames_stream_the_readout_ends_on_the_last_result(qtbot, settle, main_window):
    w = main_window
    w.grid.streaming = lambda: True
    for seed in (3, 4, 5):
        w.change(lambda s, seed=seed: s.replace(seed=seed))
        settle(w)
    st = w.result.pyramid.layer(*w.grid.selected)
    qtbot.waitUntil(lambda: f"var {theme.fmt(st.var)}" in w.grid.readout.text(), timeout=5_000)


def test_the_grid_colours_many_maps_at_once_exactly_as_one_at_a_time():

    rng = np.random.default_rng(3)
    datas, levels, gaps = [], [], []
    for i, (h, w) in enumerate([(16, 16), (8, 8), (1, 1), (5, 7), (32, 32), (3, 3)]):
        d = (rng.standard_normal((h, w)) * 10.0 ** rng.integers(-3, 4)).astype(np.float32)
        if i == 1:
            d[0, 0], d[1, 1], d[2, 2] = np.nan, np.inf, -np.inf  # overflowed layers: the marked colour
        if i == 4:
            d[:] = 3.4e38  # near the float32 limit
        datas.append(d)
        levels.append([(-1.0, 1.0), (0.0, 0.0), (2.0, 1.0), (-0.5, 2.5), (0.0, 3.4e38), (-np.inf, np.inf)][i])
        gaps.append(rng.random((h, w)) < 0.2 if i in (0, 3) else None)
    table = theme.lut("viridis")
    many = theme.colorize_many(datas, levels, table, gaps)
    for d, lv, g, got in zip(datas, levels, gaps, many):
        np.testing.assert_array_equal(got, theme.colorize(d, lv, table, g))
    assert theme.colorize_many([], [], table, []) == []
