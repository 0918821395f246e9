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


def test_ctrl_e_in_the_video_network_mode_says_what_it_can_export(make_window, small, settle, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    said = []
    monkeypatch.setattr(QMessageBox, "information", lambda parent, title, text: said.append(text))
    w = make_window(small.replace(mode="video-net"))
    w.commands.by_name["export"].trigger()  # no traceback (pytest-qt fails on one in a slot)
    assert said and "no figures to export yet" in said[0]
