"""Issue 9: the picture is right after any sequence of actions, readable from the back row,
and says what is drawn. Each test drives the real window and waits for the engine's results."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from cnnviz.paths import SAMPLE_IMAGE
from cnnviz.scene import preset_files
from cnnviz.settings import Settings
from cnnviz.view_state import NORMALISATIONS

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def preset(stem_start: str):
    return next(p for p in preset_files() if p.stem.startswith(stem_start))


def all_axes(window):
    """Every pyqtgraph AxisItem in the window's scenes (and the inspector's, if open)."""
    from cnnviz.gui.qt import pg

    views = list(window.findChildren(pg.GraphicsView))
    if window.inspector is not None:
        views += window.inspector.findChildren(pg.GraphicsView)
    axes = []
    for v in views:
        axes += [it for it in v.scene().items() if isinstance(it, pg.AxisItem)]
    return axes


def check_axes_show_data_numbers(window) -> None:
    from cnnviz.gui.plots import PlainAxis

    axes = all_axes(window)
    assert len(axes) > 20
    for axis in axes:
        where = f"{axis.orientation} axis labelled {axis.labelText!r}"
        assert isinstance(axis, PlainAxis), where
        assert axis.autoSIPrefixScale == 1.0, where
        assert axis.labelUnitPrefix == "", where
        assert axis.scale == 1.0, where
        lo, hi = sorted(axis.range)
        if not axis.style["showValues"] or not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
            continue
        spacing = (hi - lo) / 4
        values = np.linspace(lo, hi, 5)
        strings = axis.tickStrings(values.tolist(), axis.autoSIPrefixScale * axis.scale, spacing)
        for v, text in zip(values, strings):
            try:
                shown = float(text.replace("−", "-"))
            except ValueError:
                continue  # superscript log labels and the like
            assert shown == pytest.approx(10**v if axis.logMode else v, rel=0.2, abs=spacing), where
    # The colour bar shows the selected cell's levels, the histogram the layer's values.
    grid = window.grid
    lo, hi = grid._cells[grid.selected].levels if grid.selected[0] >= 1 else (0, 1)
    assert tuple(sorted(grid.cbar.axis.range)) == pytest.approx((lo, hi))
    st = window.result.pyramid.layer(*window.curves._selected)
    x0, x1 = window.curves.hist_plot.getAxis("bottom").range
    assert x0 <= st.hist_edges[0] and st.hist_edges[-1] <= x1 and (x1 - x0) < 3 * (st.hist_edges[-1] - st.hist_edges[0])


def test_every_axis_shows_the_data_numbers_after_zoom_reset_preset_and_open(qtbot, settle, main_window):
    w = main_window
    cmd = w.commands.by_name
    for name in ("zoom_in", "zoom_in", "init_x10"):
        cmd[name].trigger()
    settle(w)
    check_axes_show_data_numbers(w)
    for name in ("zoom_in", "zoom_out", "init_x01", "zoom_reset"):
        cmd[name].trigger()
    settle(w)
    check_axes_show_data_numbers(w)
    cmd["reset"].trigger()
    settle(w)
    w.load_settings(preset("01"))
    settle(w)
    cmd["zoom_in"].trigger()
    w.grid.cell_clicked.emit(1, 0)  # opens the inspector too
    settle(w)
    check_axes_show_data_numbers(w)
    assert w.open_file(str(SAMPLE_IMAGE))
    cmd["zoom_in"].trigger()
    settle(w)
    check_axes_show_data_numbers(w)


def hover(qtbot, window, key):
    pos = window.grid.glw.mapFromScene(window.grid.image_scene_rect(key).center())
    qtbot.mouseMove(window.grid.glw.viewport(), pos - QPoint(3, 3))
    qtbot.wait(30)
    qtbot.mouseMove(window.grid.glw.viewport(), pos)
    return pos


def test_the_readout_under_the_grid_follows_a_preset_and_a_new_image(qtbot, settle, main_window, tmp_path):
    from PySide6.QtGui import QColor, QImage

    from cnnviz.gui import theme

    w = main_window
    key = (2, 1)
    pos = hover(qtbot, w, key)
    qtbot.waitUntil(lambda: "L<sub>2,1</sub>" in w.grid.readout.text())
    qtbot.mouseClick(w.grid.glw.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    old = w.result.pyramid.layer(*key)
    w.load_settings(preset("02"))
    settle(w)
    new = w.result.pyramid.layer(*key)
    assert theme.fmt(new.var) != theme.fmt(old.var)
    assert f"var {theme.fmt(new.var)}" in w.grid.readout.text()
    picture = QImage(80, 60, QImage.Format.Format_RGB32)
    picture.fill(QColor(20, 200, 90))
    path = tmp_path / "green.png"
    picture.save(str(path))
    assert w.open_file(str(path))
    settle(w)
    st = w.result.pyramid.layer(*key)
    assert f"var {theme.fmt(st.var)}" in w.grid.readout.text()
    assert f"mean {theme.fmt(st.mean)}" in w.grid.readout.text()
    qtbot.mouseMove(w.grid.glw.viewport(), pos + QPoint(5, 5))  # the cursor is global: leave the spot


def test_the_colour_map_box_shows_the_map_that_is_drawn(qtbot, settle, main_window):
    from cnnviz.gui import theme

    w = main_window
    box = w.display_bar.cmap_box
    assert box.currentText() == "viridis" and box.isEnabled()
    w.load_settings(preset("05"))  # tanh: signed layers, a diverging map
    settle(w)
    assert box.currentData() == theme.DIVERGING_MAP and "diverging" in box.currentText()
    assert w.grid.cbar.colorMap().name == theme.DIVERGING_MAP
    box.setCurrentIndex(box.findData("cividis"))  # kept for ReLU; the picture stays diverging, and says why
    assert w.view.colormap == "cividis" and box.currentData() == theme.DIVERGING_MAP
    assert "signed" in w.statusBar().currentMessage()
    w.commands.by_name["activation_prev"].trigger()  # back to sigmoid: one-signed
    settle(w)
    assert w.result.settings.activation == "sigmoid"
    assert box.currentText() == "cividis"
    assert box.findData(theme.DIVERGING_MAP) < 0


@pytest.mark.parametrize("typed, says", [("-1", "-1"), ("abc", "'abc'")])
def test_a_refused_init_variance_says_why_in_the_status_bar(qtbot, settle, main_window, typed, says):
    w = main_window
    field = w.controls.init.field
    before = w.settings.init
    field.setFocus()
    field.selectAll()
    qtbot.keyClicks(field, typed)
    qtbot.keyClick(field, Qt.Key.Key_Return)
    message = w.statusBar().currentMessage()
    assert (says in message and "σ_w²" in message) or "weight variance" in message
    assert w.settings.init == before
    assert field.text() != typed


def test_d_at_the_largest_depth_says_why(qtbot, settle, main_window):
    w = main_window
    assert w.settings.depth < w.settings.k
    w.change(lambda s: s.replace(depth=s.k))
    settle(w)
    w.commands.by_name["depth_up"].trigger()
    assert "largest" in w.statusBar().currentMessage()
    assert w.settings.depth == w.settings.k


def test_the_exploding_residual_stack_marks_only_its_overflowed_levels_quietly(qtbot, settle, main_window, recwarn):
    w = main_window
    w.load_settings(preset("07"))
    settle(w, 120_000)
    lab, res = w.init_lab, w.result.residual
    assert res is not None and res.depth == 100
    qtbot.wait(50)
    w.grab()  # text items take their place on screen when painted
    finite_grad = [l for l, st in enumerate(res.layers) if np.isfinite(st.grad_var) and not st.grad_nonfinite]
    finite_var = [l for l, st in enumerate(res.layers) if np.isfinite(st.var) and not st.nonfinite]
    assert finite_grad and finite_var and len(finite_var) < len(res.layers)
    for marks, finite in ((lab.grad_marks, finite_grad), (lab.var_marks, finite_var)):
        bands = [b.getRegion() for b in getattr(marks, "bands", [marks.band]) if b.isVisible()]
        assert bands, "the overflowed levels are marked"
        for lo, hi in bands:
            assert not [l for l in finite if lo < l < hi], f"band {lo}-{hi} covers finite levels"
        assert marks.label.isVisible()
        view = marks.plot.getViewBox().sceneBoundingRect()
        label = marks.label.mapRectToScene(marks.label.boundingRect())
        assert view.contains(label), "the label is not clipped"
    assert not [r for r in recwarn if issubclass(r.category, RuntimeWarning)]


def clipped_controls(window) -> list[str]:
    """Controls whose rectangle runs past their section's (visible parts only)."""
    from PySide6.QtWidgets import QAbstractButton, QLabel

    bad = []
    for sec in (window.controls.net_section, window.controls.res_section, window.controls.common_section):
        if not sec.isVisible():
            continue
        content = sec.content()
        for child in content.findChildren(QAbstractButton) + content.findChildren(QLabel):
            if not child.isVisible():
                continue
            r = child.rect().translated(child.mapTo(content, child.rect().topLeft()))
            if not content.rect().contains(r):
                bad.append(child.text())
            if isinstance(child, QLabel) and child.wordWrap() and child.height() < child.heightForWidth(child.width()):
                bad.append(child.text())
    return bad


def test_cost_mode_with_the_overflow_banner_clips_no_control(qtbot, settle, make_window):
    w = make_window(Settings(mode="cost", init=1e30))
    w.resize(1280, 720)
    qtbot.wait(50)
    settle(w)
    assert w.banner.isVisible()
    assert clipped_controls(w) == []
    w.commands.by_name["zoom_in"].trigger()
    w.change(lambda s: s.replace(init=0.00694))
    settle(w)
    assert clipped_controls(w) == []


def test_every_curve_and_the_histogram_fit_a_1280x720_window_without_scrolling(qtbot, settle, make_window):
    """On a 1280x720 projector the whole curves panel is in view (the histogram's value axis
    was under the fold); after A+ the plots keep their size and the panel scrolls."""
    w = make_window(Settings())
    w.resize(1280, 720)
    qtbot.wait(50)
    settle(w)
    scroll = w.curves.glw.parentWidget().parentWidget()
    assert scroll.verticalScrollBar().maximum() == 0
    assert w.curves.hist_plot.getAxis("bottom").labelText == "value"
    w.commands.by_name["zoom_in"].trigger()
    qtbot.wait(50)
    assert w.curves.glw.height() >= w.curves.glw.minimumHeight()


def test_after_a_plus_twice_at_1280x720_no_plot_is_cut_off_at_the_panels_edge(qtbot, settle, make_window):
    """The plots' least width (axes, data; not their titles) fits the narrowed curves panel, so
    nothing is laid out beyond its right edge (a wide title widened the plots past it); the
    panel never scrolls sideways, and the chart of the cost view keeps its least height."""
    w = make_window(Settings())
    w.resize(1280, 720)
    qtbot.wait(50)
    settle(w)
    scroll = w.curves.glw.parentWidget().parentWidget()
    for _ in range(2):
        w.commands.by_name["zoom_in"].trigger()
        qtbot.wait(50)
        settle(w)
        need = w.curves.glw.ci.effectiveSizeHint(Qt.SizeHint.MinimumSize).width()
        assert need <= w.curves.glw.viewport().width()
        assert scroll.horizontalScrollBar().maximum() == 0
        for plot in (w.curves.grad_plot, w.curves.eq_plot):  # the right-hand column
            right = plot.mapRectToScene(plot.boundingRect()).right()
            assert right <= w.curves.glw.viewport().width() + 1
    w.change(lambda s: s.replace(mode="cost"))
    settle(w)
    assert w.cost_view.glw.height() >= w.cost_view.glw.minimumHeight() > 200


def test_the_display_bar_wraps_rather_than_cut_its_boxes_text(qtbot, settle, make_window):
    """At 1280x720 the colour map, range, mosaic and channel boxes sit in one row; after A+
    twice they no longer fit one and take two rows, each box as wide as its text needs (one
    row cut them to "virid" and "channel (")."""
    w = make_window(Settings())
    w.resize(1280, 720)
    qtbot.wait(50)
    settle(w)
    bar = w.display_bar
    assert bar.cmap_box.y() == bar.channel_box.y()  # one row
    for _ in range(2):
        w.commands.by_name["zoom_in"].trigger()
        qtbot.wait(50)
    settle(w)
    assert bar.channel_box.y() > bar.cmap_box.y()  # two rows
    for box in (bar.cmap_box, bar.channel_box, bar.mosaic_box):
        assert box.width() >= box.sizeHint().width()
    assert bar.norm_box.width() >= bar.norm_box.minimumSizeHint().width()


def test_after_a_plus_the_toolbar_shortens_its_labels_rather_than_hide_a_plus(qtbot, settle, make_window):
    """At 1280 px, A+ twice made the toolbar too wide and put A+ and Full screen behind the
    overflow chevron; its longest labels shorten instead, and come back where they fit."""
    w = make_window(Settings())
    w.resize(1280, 720)
    qtbot.wait(50)
    tb = w.commands.toolbar

    def shown(name: str) -> bool:
        button = tb.widgetForAction(w.commands.by_name[name])
        return button is not None and button.isVisible()

    assert w.commands.by_name["reroll"].iconText() == "Re-roll weights"
    for _ in range(3):
        w.commands.by_name["zoom_in"].trigger()
        qtbot.wait(50)
        buttons = [a for a in tb.actions() if a.iconText() in ("A+", "A−")]
        assert all(tb.widgetForAction(a).isVisible() for a in buttons)
        assert shown("full_screen") and shown("open") and shown("reroll")
    assert w.commands.by_name["reroll"].iconText() == "Re-roll"
    assert w.commands.by_name["reroll"].text() == "Re-roll weights"  # the menu keeps the full name
    w.resize(1920, 1080)
    qtbot.wait(50)
    assert w.commands.by_name["reroll"].iconText() == "Re-roll weights"


def test_a_wide_low_grid_has_its_colour_bar_at_the_right_and_a_square_one_under_it(qtbot, settle, make_window):
    """Under the lecture panel at 720 px the grid is wide and low: the colour bar stands at its
    right and the height goes to the maps; in a squarer grid it lies under them. Either way it
    shows the selected level's range and names it."""
    w = make_window(Settings())
    w.resize(1280, 720)
    qtbot.wait(50)
    settle(w)
    grid = w.grid
    assert grid.cbar.horizontal
    w.resize(1280, 400)
    qtbot.waitUntil(lambda: not grid.cbar.horizontal, timeout=3_000)
    assert grid.glw.width() > 2 * grid.glw.height()
    lo, hi = grid._cells[grid.cell_keys[-1]].levels if grid._selected is None else grid._cells[grid._selected].levels
    assert tuple(sorted(grid.cbar.axis.range)) == pytest.approx((lo, hi))
    assert "value" in grid.cbar.axis.labelText and grid.cbar.scene() is not None
    assert grid._bars["horizontal"].scene() is None  # one bar drawn

    def fills() -> bool:  # the diagram fills the view's height or width, not the old shape's
        drawn = grid.vb.mapViewToScene(grid._content).boundingRect()
        view = grid.vb.sceneBoundingRect()
        return drawn.height() >= 0.95 * view.height() or drawn.width() >= 0.95 * view.width()

    qtbot.waitUntil(fills, timeout=3_000)
    w.resize(1280, 900)
    qtbot.waitUntil(lambda: grid.cbar.horizontal, timeout=3_000)
    assert grid.cbar.scene() is not None and grid._bars["vertical"].scene() is None


def test_the_video_networks_controls_wrap_rather_than_widen_the_window(qtbot, settle, make_window, clip):
    """In the video network's mode at 1280x720, A+ twice made the row of spin boxes wider than
    the screen, and the window with it; the row takes two rows instead, and one where it fits."""
    w = make_window(Settings(mode="video-net"))
    w.resize(1280, 720)
    qtbot.wait(50)
    assert w.open_file(str(clip))
    settle(w)
    row = w.video_view.controls_row
    assert row.rows == 1
    for _ in range(2):
        w.commands.by_name["zoom_in"].trigger()
        qtbot.wait(50)
    settle(w)
    assert w.width() <= 1280 and w.minimumSizeHint().width() <= 1280
    assert row.rows == 2
    for box in (w.video_view.depth_box, w.video_view.window_box, w.video_view.channel_box):
        assert box.isVisible() and box.width() >= box.minimumSizeHint().width()


def test_a_wrap_row_takes_two_rows_below_its_one_row_width():
    """WrapRow (the display bar, the video network's controls): side by side while they fit,
    the first groups above the rest below that, and never wider at least than two rows need."""
    from PySide6.QtWidgets import QApplication, QLabel

    from cnnviz.gui.wrap_row import WrapRow

    groups = [QLabel("x" * n) for n in (30, 20, 10)]
    row = WrapRow(groups, split=1)
    row.show()
    row.resize(row.one_row_width() + 10, 60)
    QApplication.processEvents()
    assert row.rows == 1 and len({g.y() for g in groups}) == 1
    row.resize(row.one_row_width() - 10, 80)
    QApplication.processEvents()
    assert row.rows == 2 and groups[1].y() > groups[0].y() and groups[1].y() == groups[2].y()
    assert row.minimumWidth() == row.two_row_width() < row.one_row_width()
    row.resize(row.one_row_width() + 10, 80)
    QApplication.processEvents()
    assert row.rows == 1
    groups[0].setText("x" * 40)  # a group grows (as with a larger font), the row does not
    QApplication.processEvents()
    assert row.rows == 2
    row.close()


def test_the_source_panel_never_draws_its_text_over_the_image(qtbot, settle, make_window):
    w = make_window(Settings(mode="init", residual_depth=8, channels=8))
    w.resize(1280, 720)
    qtbot.wait(50)
    assert w.source_panel.caption.text().count("<br>") >= 2  # the note: the stack runs on noise
    panel = w.source_panel
    image = panel.image
    if hasattr(image, "drawn_rect"):
        drawn = image.drawn_rect()
    else:  # a QLabel with a pixmap, centred
        pm = image.pixmap()
        drawn = pm.rect().translated((image.width() - pm.width()) // 2, (image.height() - pm.height()) // 2)
    drawn = drawn.translated(image.mapTo(panel, drawn.topLeft()) - drawn.topLeft())
    assert not drawn.isEmpty()
    assert not drawn.intersects(panel.caption.geometry())


def test_overflow_at_init_1e30_is_drawn_readably(qtbot, settle, make_window):
    import re

    from cnnviz.gui import theme

    w = make_window(Settings(size=64, depth=5, channels=8, init=1e30))
    pyr = w.result.pyramid
    bad = pyr.nonfinite_layers
    assert bad and w.grid.marked_cells() == sorted(bad)
    for key in bad:
        cell = w.grid._cells[key]
        # the mark stays inside its cell (no larger cell hiding the arrows) ...
        assert cell.rect.contains(cell.frame.rect())
        # ... and the name is not drawn in the colour of the overflowed map
        assert f"color:{theme.NONFINITE_HEX}'>L" not in cell.title.toHtml().replace(" ", "")
        assert (
            f"color:{theme.NONFINITE_HEX}" not in re.sub(r"background[^;]*;", "", cell.title.toHtml()).split("inf")[0]
        )
    # the header gives no "= 0" beside levels that cannot be compared
    text = w.curves.readout.text()
    if "cannot be compared" in text:
        assert re.search(r"= <b[^>]*>0</b> —", text) is None
    assert "L′ =" in text  # L' explained
    # the histogram of an all-inf/NaN layer shows no made-up axis
    top = max(bad)
    w.grid.set_selected(*top)
    st = pyr.layer(*top)
    if st.hist_counts.sum() == 0:
        assert not w.curves.hist_plot.getAxis("bottom").style["showValues"]
        assert "inf/NaN" in w.curves.hist_note._html


def css_sizes_px(html: str) -> list[float]:
    import re

    html = re.sub(r"<body[^>]*>", "", html)  # the document's default, overridden by the spans
    return [
        float(v) * (96 / 72 if unit == "pt" else 1.0) for v, unit in re.findall(r"font-size:\s*([\d.]+)(px|pt)", html)
    ]


def small_texts(window, least: float = 14.0) -> list[str]:
    """Every text in the window drawn smaller than ``least`` logical pixels: widgets, rich text,
    plot titles, axis ticks and labels, text in plots, the grid's labels."""
    from PySide6.QtGui import QFontInfo
    from PySide6.QtWidgets import QLabel, QWidget

    from cnnviz.gui.qt import pg

    small = []
    for wdg in window.findChildren(QWidget):
        if not wdg.isVisible():
            continue
        size = QFontInfo(wdg.font()).pixelSize()
        if size < least:
            small.append(
                f"{type(wdg).__name__} {wdg.objectName()} {getattr(wdg, 'text', lambda: '')()!r} in {type(wdg.parent()).__name__} {size}px"
            )
        if isinstance(wdg, QLabel):
            small += [f"label {wdg.text()[:40]!r} {s}px" for s in css_sizes_px(wdg.text()) if s < least]
    for view in window.findChildren(pg.GraphicsView):
        if not view.isVisible():
            continue
        for it in view.scene().items():
            if not it.isVisible():
                continue
            if isinstance(it, pg.AxisItem) and it.style["showValues"]:
                f = it.style["tickFont"]
                size = QFontInfo(f).pixelSize() if f is not None else 0
                if size < least:
                    small.append(f"ticks of {it.labelText!r} {size}px")
                small += [f"axis label {it.labelText!r} {s}px" for s in css_sizes_px(it.labelString()) if s < least]
            elif isinstance(it, pg.LabelItem) and it.text:
                small += [f"title {it.text[:30]!r} {s}px" for s in css_sizes_px(it.item.toHtml()) if s < least]
            elif isinstance(it, pg.TextItem) and it.textItem.toPlainText().strip():
                size = QFontInfo(it.textItem.font()).pixelSize()
                sizes = css_sizes_px(it.textItem.toHtml()) or [size]
                small += [f"text {it.textItem.toPlainText()[:30]!r} {s}px" for s in sizes if s < least]
    if window.grid.isVisible():
        small += [f"grid label {s:.1f}px" for s in window.grid.label_pixel_sizes() if s < least - 0.5]
    return small


@pytest.mark.parametrize("mode", ["pyramid", "init", "cost"])
def test_every_text_is_at_least_14_pixels_at_1280x720(qtbot, settle, make_window, mode):
    w = make_window(Settings(mode=mode, size=64, depth=5, channels=8, residual_depth=10))
    w.resize(1280, 720)
    qtbot.wait(100)
    settle(w)
    qtbot.wait(50)
    assert small_texts(w) == [], "\n".join(small_texts(w))
    # A+ scales everything, the grid's labels too
    before = sorted(w.grid.label_pixel_sizes())
    w.commands.by_name["zoom_in"].trigger()
    qtbot.wait(50)
    assert small_texts(w, 15.5) == []
    if mode == "pyramid":
        after = sorted(w.grid.label_pixel_sizes())
        assert min(after) > min(before)  # larger (as far as the cells leave room: F9 gives more)


def test_the_log_normalisation_shows_fading_and_exploding_signals(qtbot, settle, main_window):
    from cnnviz.gui.maps import ZERO_LOG

    w = main_window
    assert "log" in NORMALISATIONS
    tops = {}
    for init in (0.0069 / 10, 10.0 * 0.0069):
        w.change(lambda s, i=init: s.replace(init=i))
        w.set_view_state(w.view.replace(normalisation="log"))
        settle(w)
        grid = w.grid
        top = (w.settings.depth, 0)
        data = grid.cell_image(top).data
        tops[init] = float(np.median(data[data > ZERO_LOG]))
        lo, hi = grid._cells[top].levels
        assert hi - lo <= 40 and grid.cbar.axis.range == pytest.approx([lo, hi])
        assert "log" in grid.cbar.axis.labelText
        assert all("10" in text or text == "1" for _, text in grid.cbar.axis._tickLevels[0])
    # a hundred times the weight variance: the maps of the top level are visibly brighter
    assert tops[10.0 * 0.0069] - tops[0.0069 / 10] > 2


def test_the_presets_that_teach_fading_and_exploding_choose_the_log_colours(qtbot, settle, main_window):
    w = main_window
    for stem in ("01", "02", "03"):
        assert w.load_settings(preset(stem))
        settle(w)
        assert w.view.normalisation == "log"
        assert w.display_bar.norm_box.currentData() == "log"


def test_tanh_and_sigmoid_show_saturation_not_a_flat_dead_relu_line(qtbot, settle, main_window):
    w = main_window
    w.change(lambda s: s.replace(activation="tanh", init=1.0))  # large weights: tanh saturates
    settle(w)
    assert "Saturated" in w.curves.zero_plot.titleLabel.text
    levels, values = w.curves.measured("zero", 0)
    assert levels.size and np.nanmax(values) > 20
    w.change(lambda s: s.replace(activation="relu", init="he"))
    settle(w)
    assert "Dead ReLU" in w.curves.zero_plot.titleLabel.text


def test_the_gradient_plot_says_what_it_is_the_gradient_of(qtbot, settle, main_window):
    w = main_window
    assert "N(0,1) injected at the top level" in w.curves.legend.text()
    assert "N(0,1) injected" in w.init_lab.grad_plot.getAxis("bottom").labelText
    w.grid.cell_clicked.emit(2, 0)
    assert "N(0,1) injected" in w.inspector.stats.text()


def test_help_says_what_am_i_looking_at_for_each_mode(qtbot, settle, main_window):
    from cnnviz.gui.explain import MathBrowser

    w = main_window
    help_texts = [a.text() for a in w.commands.menus["Help"].actions()]
    assert "What am I looking at" in help_texts and "Keyboard shortcuts" in help_texts
    assert w.commands.by_name["shortcuts"].shortcut().toString() == "F1"  # F1 keeps the keys
    for mode, words in (("pyramid", "Equivariance"), ("init", "Residual stack"), ("cost", "FlopCounterMode")):
        w.change(lambda s, m=mode: s.replace(mode=m))
        settle(w)
        w.commands.by_name["explain"].trigger()
        dialog = w._explanation
        assert dialog.isVisible()
        browser = dialog.findChild(MathBrowser)
        assert words in browser.toPlainText()
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            continue
        assert browser.images, "the equations are typeset"
        assert all(img.height() >= 14 for img in browser.images.values())


def crowded_log_axes(window) -> list[str]:
    """Log axes whose labelled ticks would not fit one per 1.6 text lines (vertical) along the axis."""
    crowded = []
    for axis in all_axes(window):
        if not (axis.isVisible() and axis.logMode and axis.style["showValues"]):
            continue
        lo, hi = sorted(axis.range)
        vertical = axis.orientation in ("left", "right")
        length = axis.geometry().height() if vertical else axis.geometry().width()
        levels = axis.tickValues(lo, hi, length)
        shown = [v for i, (_, vals) in enumerate(levels) if i <= axis.style["maxTextLevel"] for v in vals]
        font_px = axis.style["tickFont"].pixelSize() if axis.style["tickFont"] else 14
        if vertical and len(shown) * 1.6 * font_px > length:
            crowded.append(f"{axis.labelText}: {len(shown)} labels on {length:.0f}px")
        texts = axis.tickStrings(shown, 1.0, 1.0)
        if len(set(texts)) < len(texts):
            crowded.append(f"{axis.labelText}: repeated labels {texts}")
    return crowded


def test_log_axes_show_few_readable_ticks(qtbot, settle, make_window):
    w = make_window(Settings(size=64, depth=5, channels=8, init=0.02))
    w.resize(1280, 720)
    qtbot.wait(50)
    assert crowded_log_axes(w) == []
    w.load_settings(preset("07"))  # depth 100, values over 80 decades
    settle(w, 120_000)
    assert crowded_log_axes(w) == []


@pytest.mark.parametrize("channels", [8, 16])
def test_the_grid_mosaic_keeps_every_map_inside_its_cell(qtbot, settle, make_window, channels):
    w = make_window(Settings(size=64, depth=5, channels=channels))
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    qtbot.keyClick(w, Qt.Key.Key_M)
    assert w.view.mosaic
    grid = w.grid
    rects = {}
    for key, cell in grid._cells.items():
        r = grid.image_rect(key)
        assert cell.rect.adjusted(-1e-6, -1e-6, 1e-6, 1e-6).contains(r), f"{key} spills out of its cell"
        rects[key] = r
        if key[0] >= 1:
            assert grid.cell_image(key).channel is None  # every channel shown
    for key, cell in grid._cells.items():  # titles sit in the gaps, over no map
        title = cell.title.mapRectToParent(cell.title.boundingRect())  # the parent holds view coordinates
        for other, r in rects.items():
            assert not title.intersects(r.adjusted(0.02, 0.02, -0.02, -0.02)), f"title of {key} covers {other}"


@pytest.mark.parametrize("value", ["10", "1e30"])
def test_mode_init_with_init_var_shows_that_variance_in_the_init_lab(qtbot, settle, make_window, value):
    from cnnviz.cli import _window_parser, settings_from_args
    from cnnviz.gui import theme

    argv = ["--mode", "init", "--init-var", value, "--depth", "8", "--channels", "8"]
    args = _window_parser().parse_args(argv)
    w = make_window(settings_from_args(args, mode=args.mode))
    assert w.stack.currentWidget() is w.init_lab
    assert w.result.residual is not None and w.result.residual.init_var == float(value)
    assert f"σ<sub>w</sub>² = {theme.fmt(float(value))}" in w.init_lab.header.text()
