"""Export from the window: File > Export (Ctrl+E) writes files that open, a plot's right-click menu
exports that plot, Ctrl+Shift+C copies the figure under the mouse, a Shift+drop of an exported figure
restores its scene, and File > Load settings takes an exported PNG."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication

from cnnviz.export import figures as figs
from cnnviz.export import scene_from_file
from cnnviz.gui import export_actions, export_dialog
from cnnviz.scene import Scene

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")  # offscreen: popups, size hints


def _rows(path) -> list[dict[str, str]]:
    body = "\n".join(line for line in path.read_text().splitlines() if not line.startswith("#"))
    return list(csv.DictReader(io.StringIO(body)))


def _centre(widget_item_view, item):
    """The global position of the centre of pyqtgraph ``item`` shown in GraphicsView ``view``."""
    view = widget_item_view
    return view.mapToGlobal(view.mapFromScene(item.sceneBoundingRect().center()))


def test_ctrl_e_is_file_export_and_writes_files_that_open(main_window, tmp_path, monkeypatch):
    w = main_window
    action = w.commands.by_name["export"]
    assert action.shortcut().toString() == "Ctrl+E"
    assert "Export" in [a.text().rstrip("…") for a in w.menuBar().actions()[0].menu().actions()]
    export_dialog._Memory.folder = tmp_path
    seen = []

    def run_dialog(dialog):
        seen.append(dialog)
        assert dialog.name.text() == export_dialog.stem(w.scene())  # the name proposed from the settings
        for f, box in dialog.formats.items():
            box.setChecked(f in ("png", "csv"))
        dialog.scale.setValue(1.0)
        return dialog.export()

    monkeypatch.setattr(export_dialog.ExportDialog, "exec", run_dialog)
    action.trigger()
    assert seen and seen[0].written
    stem = seen[0].name.text()
    png = tmp_path / f"{stem}_variance.png"
    fig = figs.render(w.result, w.scene(), "variance")
    width, height = fig.get_size_inches()
    with Image.open(png) as im:  # decodes, at 1x = 100 dpi
        im.load()
        assert im.size == (round(width * figs.BASE_DPI), round(height * figs.BASE_DPI))
        assert len(np.unique(np.asarray(im).reshape(-1, im.getbands().__len__()), axis=0)) > 10  # not blank
    rows = _rows(tmp_path / f"{stem}.csv")
    assert len(rows) == len(w.result.pyramid.layers)
    for row, st in zip(rows, w.result.pyramid.layers):
        for col, name in (("mean", "mean"), ("var", "var"), ("grad_rms", "grad_rms")):
            a, b = float(row[col]), float(getattr(st, name))
            assert (math.isnan(a) and math.isnan(b)) or a == b
    assert scene_from_file(png).settings == w.settings


def test_right_click_on_a_plot_or_the_grid_offers_to_export_that_one(main_window, qtbot):
    w = main_window
    glw = w.curves.glw
    pos = _centre(glw, w.curves.grad_plot)
    assert export_actions.figure_at(w, pos) == ("pyramid", "gradient")
    assert export_actions.figure_at(w, _centre(w.grid.glw, w.grid.vb)) == ("pyramid", "grid")
    glw.customContextMenuRequested.emit(glw.mapFromGlobal(pos))
    menu = export_actions.shown_menu()
    assert menu is not None
    texts = [a.text() for a in menu.actions()]
    assert texts == [f"Export {figs.TITLES['gradient']}…", f"Copy {figs.TITLES['gradient']}"]
    menu.close()


def test_right_click_in_the_init_lab_and_cost_view(make_window, small, settle):
    w = make_window(small.replace(mode="init"))
    assert export_actions.figure_at(w, _centre(w.init_lab.glw, w.init_lab.u_plot)) == ("init", "unit_u")
    w.request(w.settings.replace(mode="cost"))
    settle(w)
    assert export_actions.figure_at(w, _centre(w.cost_view.glw, w.cost_view.plot)) == ("cost", "multiplies")
    assert export_actions.menu_at(w, _centre(w.cost_view.glw, w.cost_view.plot)) is not None


def test_ctrl_shift_c_copies_the_figure_under_the_mouse_else_the_window(main_window):
    w = main_window
    assert w.commands.by_name["copy_figure"].shortcut().toString() == "Ctrl+Shift+C"
    QGuiApplication.clipboard().clear()
    got = export_actions.copy_under_mouse(w, _centre(w.curves.glw, w.curves.var_plot))
    assert got == "variance"
    mime = QGuiApplication.clipboard().mimeData()
    assert mime.hasImage()
    assert bytes(mime.data("image/svg+xml")).lstrip().startswith(b"<?xml")
    assert export_actions.copy_under_mouse(w, w.mapToGlobal(w.rect().bottomRight()) * 4) == "window"
    assert not QGuiApplication.clipboard().image().isNull()


def _drop(window, path, modifiers) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    pos = QPointF(window.width() / 2, window.height() / 2)
    enter = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, modifiers)
    QApplication.sendEvent(window, enter)
    QApplication.sendEvent(
        window, QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, modifiers)
    )


def test_shift_drop_of_an_exported_png_restores_its_scene_and_load_settings_takes_it(main_window, settle, tmp_path):
    w = main_window
    other = w.settings.replace(depth=2, seed=7)
    from cnnviz.core.engine import run

    result = run(other, w.frame)
    png = tmp_path / "fig.png"
    figs.save_figure(figs.render(result, Scene(settings=other), "variance"), png, Scene(settings=other), scale=0.5)
    _drop(w, png, Qt.KeyboardModifier.ShiftModifier)
    settle(w)
    assert (w.settings.depth, w.settings.seed) == (2, 7)
    assert w.source_panel.name != "fig.png"  # the figure was not opened as the input
    w.request(w.settings.replace(seed=3))
    assert w.load_settings(png)
    assert w.settings.seed == 7


def test_ctrl_e_in_the_video_network_mode_exports_its_figures_and_numbers(
    make_window, small, settle, tmp_path, monkeypatch
):
    w = make_window(small.replace(mode="video-net", video_window=3))
    assert w.result.video is not None
    export_dialog._Memory.folder = tmp_path
    seen = []

    def run_dialog(dialog):
        seen.append(dialog)
        for f, box in dialog.formats.items():
            box.setChecked(f in ("png", "csv"))
        dialog.scale.setValue(1.0)
        return dialog.export()

    monkeypatch.setattr(export_dialog.ExportDialog, "exec", run_dialog)
    w.commands.by_name["export"].trigger()
    assert seen and seen[0].mode == "video-net"
    stem = seen[0].name.text()
    assert stem == export_dialog.stem(w.scene()) and stem.startswith("video-net_")
    assert {p.name for p in seen[0].written} == {
        f"{stem}_{f}.png" for f in ("layers", "video_variance", "video_gradient", "video_cost")
    } | {f"{stem}.csv"}
    rows = _rows(tmp_path / f"{stem}.csv")
    assert [float(r["var"]) for r in rows] == list(w.result.video.series("var"))
    assert scene_from_file(tmp_path / f"{stem}_layers.png").settings == w.result.settings


def test_the_video_view_draws_theory_dashed_beside_the_measurement(make_window, small, settle):
    w = make_window(small.replace(mode="video-net", video_window=3))
    v = w.result.video
    x, y = w.video_view.var_theory.getData()  # log axes: pyqtgraph holds log10 of the data
    assert len(x) == v.depth and np.allclose(10**y, v.series("theory_var")[1:])  # the input is measured
    x, y = w.video_view.grad_theory.getData()
    assert np.allclose(10**y, v.series("theory_grad_rms")[1:])
    assert w.video_view.var_theory.opts["pen"].style() == Qt.PenStyle.DashLine


def test_right_click_on_the_video_views_plots_offers_to_export_that_one(make_window, small, settle):
    w = make_window(small.replace(mode="video-net", video_window=3))
    view = w.video_view
    assert export_actions.figure_at(w, _centre(view.glw, view.grad_plot)) == ("video-net", "video_gradient")
    assert export_actions.figure_at(w, _centre(view.glw, view.var_plot)) == ("video-net", "video_variance")
    cols = view.columns
    assert export_actions.figure_at(w, cols.mapToGlobal(cols.rect().center())) == ("video-net", "layers")
    table = view.table
    assert export_actions.figure_at(w, table.mapToGlobal(table.rect().center())) == ("video-net", "video_cost")
    view.glw.customContextMenuRequested.emit(view.glw.mapFromGlobal(_centre(view.glw, view.var_plot)))
    menu = export_actions.shown_menu()
    assert menu is not None
    assert [a.text() for a in menu.actions()] == [
        f"Export {figs.TITLES['video_variance']}…",
        f"Copy {figs.TITLES['video_variance']}",
    ]
    menu.close()
