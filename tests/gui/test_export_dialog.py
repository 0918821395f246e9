"""The export dialog: proposes a name from the settings, writes into the chosen folder, asks before
replacing, remembers the folder; a figure goes to the clipboard as an image and as SVG."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.core.engine import run
from cnnviz.export import scene_from_file
from cnnviz.gui import export_dialog
from cnnviz.scene import Scene, SourceRef
from cnnviz.settings import Settings

SMALL = Settings(size=64, depth=3, channels=4)


@pytest.fixture(scope="module")
def result():
    rng = np.random.default_rng(1)
    return run(SMALL, rng.random((64, 64, 3), dtype=np.float32))


@pytest.fixture
def dialog(qtbot, tmp_path, result):
    export_dialog._Memory.folder = tmp_path
    d = export_dialog.ExportDialog(Scene(settings=SMALL, source=SourceRef(name="noise.png")), result)
    qtbot.addWidget(d)
    return d


def test_it_proposes_the_settings_name_the_last_folder_and_the_modes_figures(dialog, tmp_path):
    assert dialog.name.text() == "pyramid_he_d3_J4_s0_n64"
    assert dialog.folder.text() == str(tmp_path)
    assert dialog.chosen_figures() == ["grid", "variance", "gradient", "zeros", "equivariance", "histogram"]
    assert not dialog.formats["npz"].isEnabled()  # no full-resolution maps in a window result


def test_export_writes_the_chosen_files_stamped_and_remembers_the_folder(dialog, tmp_path, result):
    out = tmp_path / "slides"
    out.mkdir()
    dialog.folder.setText(str(out))
    dialog.name.setText("lecture3")
    for i in range(1, dialog.figures.count()):
        dialog.figures.item(i).setCheckState(export_dialog.Qt.CheckState.Unchecked)
    for f, box in dialog.formats.items():
        box.setChecked(f in ("png", "csv"))
    assert dialog.export()
    assert sorted(p.name for p in out.iterdir()) == ["lecture3.csv", "lecture3_grid.png"]
    assert scene_from_file(out / "lecture3_grid.png").settings == result.settings
    assert export_dialog.last_folder() == out


def test_it_asks_before_replacing_and_keeps_the_file_when_told_no(dialog, tmp_path):
    for f, box in dialog.formats.items():
        box.setChecked(f == "csv")
    target = tmp_path / "pyramid_he_d3_J4_s0_n64.csv"
    target.write_text("mine")
    asked = []
    dialog.confirm_replace = lambda existing: asked.append(existing) or False
    assert not dialog.export()
    assert asked == [[target]] and target.read_text() == "mine"
    dialog.confirm_replace = lambda existing: True
    assert dialog.export() and target.read_text().startswith("# cnnviz")


def test_an_impossible_name_is_shown_not_raised(dialog):
    dialog.name.setText("a/b")
    assert not dialog.export()
    assert "cannot be a file name" in dialog.status.text()


def test_copy_puts_a_png_image_and_the_svg_on_the_clipboard(qtbot, result):
    mime = export_dialog.figure_mime(Scene(settings=SMALL), result, "variance", scale=1)
    assert mime.hasImage() and not mime.imageData().isNull()
    assert mime.imageData().width() > 300
    svg = bytes(mime.data("image/svg+xml"))
    assert svg.lstrip().startswith(b"<?xml") and b"<path" in svg


def test_the_whole_window_is_offered_and_written_as_a_stamped_png(qtbot, tmp_path, result):
    from PIL import Image
    from PySide6.QtWidgets import QLabel

    shown = QLabel("a window")
    shown.resize(320, 200)
    qtbot.addWidget(shown)
    shown.show()
    qtbot.waitExposed(shown)
    scene = Scene(settings=SMALL)
    d = export_dialog.ExportDialog(scene, result, figures=[], window=shown)
    qtbot.addWidget(d)
    d.folder.setText(str(tmp_path))
    d.figures.item(0).setCheckState(export_dialog.Qt.CheckState.Checked)
    for box in d.formats.values():
        box.setChecked(False)
    assert d.export()
    path = tmp_path / "pyramid_he_d3_J4_s0_n64_window.png"
    with Image.open(path) as im:
        assert im.size[0] >= 320 and "dpi" in im.info
    assert scene_from_file(path).settings == result.settings


def test_a_plots_menu_offers_export_and_copy_and_every_plot_has_a_figure(qtbot, result):
    from cnnviz.export import FIGURES

    menu = export_dialog.figure_menu(None, Scene(settings=SMALL), result, "gradient")
    texts = [a.text() for a in menu.actions()]
    assert texts == ["Export gradient RMS per level…", "Copy gradient RMS per level"]
    assert set(export_dialog.PLOT_FIGURES.values()) == {f for figs in FIGURES.values() for f in figs}
