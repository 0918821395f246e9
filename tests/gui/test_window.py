"""The window, driven through its real controls, waiting for real results of the engine."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from cnnviz.gui.store import StateStore
from cnnviz.settings import Settings
from cnnviz.view_state import ViewState

# The offscreen platform says this whenever a top-level window's size limits change.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def top_variance(window) -> float:
    levels, values = window.curves.measured("var", 0)
    assert levels.size, "no variance curve drawn"
    return float(values[-1])


def test_raising_init_variance_raises_the_top_layer_variance(qtbot, settle, main_window):
    w = main_window
    before = top_variance(w)
    slider = w.controls.init.slider
    slider.setFocus()
    for _ in range(8):  # 8 page steps = 2 decades more weight variance
        qtbot.keyClick(slider, Qt.Key.Key_PageUp)
    settle(w)
    assert w.settings.init == pytest.approx(w.result.settings.init)
    assert float(w.settings.init) > 50 * resolved_he(w.settings)
    after = top_variance(w)
    assert after > 100 * before


def resolved_he(settings: Settings) -> float:
    return 2.0 / (2 * settings.kernel**2 * settings.channels)


def test_changing_depth_changes_the_levels_in_the_grid(qtbot, settle, main_window):
    w = main_window
    assert w.grid.levels_shown == [0, 1, 2, 3]
    slider = w.controls.depth_slider._slider
    slider.setFocus()
    qtbot.keyClick(slider, Qt.Key.Key_Left)
    settle(w)
    assert w.result.settings.depth == 2
    assert w.grid.levels_shown == [0, 1, 2]
    assert (3, 0) not in w.grid.cell_keys


def test_unsharing_weights_breaks_the_equivariance_readout(qtbot, settle, main_window):
    w = main_window
    assert w.curves.equivariance_error < 1e-4
    assert "scale-equivariant" in w.curves.readout.text()
    qtbot.mouseClick(w.controls.shared, Qt.MouseButton.LeftButton)
    settle(w)
    assert w.result.settings.shared is False
    assert w.curves.equivariance_error > 1e-2
    assert "broken" in w.curves.readout.text()


def test_a_bad_file_shows_one_line_and_keeps_the_previous_image(qtbot, settle, main_window, tmp_path):
    w = main_window
    frame, name = w.frame.copy(), w.source_panel.name
    bad = tmp_path / "holiday.png"
    bad.write_bytes(b"this is not a picture")
    assert w.open_file(str(bad)) is False
    assert w.last_error is not None and "holiday.png" in w.last_error and "\n" not in w.last_error
    assert w._error_box.isVisible()
    w._error_box.close()
    assert w.source_panel.name == name
    np.testing.assert_array_equal(w.frame, frame)
    # and the window still computes on the previous image
    qtbot.mouseClick(w.controls.shared, Qt.MouseButton.LeftButton)
    settle(w)
    np.testing.assert_array_equal(w.result.pyramid.image, frame)


def test_an_overflowing_init_variance_marks_layers_and_the_window_lives_on(qtbot, settle, main_window):
    w = main_window
    field = w.controls.init.field
    field.selectAll()
    qtbot.keyClicks(field, "1e25")
    qtbot.keyClick(field, Qt.Key.Key_Return)
    settle(w)
    assert w.result.settings.init == 1e25
    assert w.result.pyramid.nonfinite_layers
    assert w.grid.marked_cells() == sorted(w.result.pyramid.nonfinite_layers)
    assert w.banner.isVisible() and "overflow" in w.banner.text()
    assert w.curves.overflow_marks("var") > 0
    w.grab()  # the window still paints
    qtbot.mouseClick(w.controls.init.buttons["he"], Qt.MouseButton.LeftButton)
    settle(w)
    assert w.result.settings.init == "he"
    assert w.grid.marked_cells() == []
    assert not w.banner.isVisible()
    assert w.curves.overflow_marks("var") == 0


def test_f11_toggles_full_screen(qtbot, settle, main_window):
    w = main_window
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    assert not w.isFullScreen()
    qtbot.keyClick(w, Qt.Key.Key_F11)
    qtbot.waitUntil(w.isFullScreen)
    assert w.act_fullscreen.isChecked()
    qtbot.keyClick(w, Qt.Key.Key_F11)
    qtbot.waitUntil(lambda: not w.isFullScreen())


def test_keyboard_shortcuts_change_settings(qtbot, settle, main_window):
    w = main_window
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    qtbot.keyClick(w, Qt.Key.Key_D, Qt.KeyboardModifier.ShiftModifier)  # shallower
    qtbot.keyClick(w, Qt.Key.Key_A)  # next activation
    qtbot.keyClick(w, Qt.Key.Key_S)  # unshare
    settle(w)
    assert (w.result.settings.depth, w.result.settings.activation, w.result.settings.shared) == (2, "sigmoid", False)
    assert w.controls.depth_slider.value() == 2 and w.controls.activation.currentData() == "sigmoid"


def test_hover_reads_values_and_click_opens_the_inspector(qtbot, settle, main_window):
    w = main_window
    key = (2, 1)
    pos = w.grid.glw.mapFromScene(w.grid.image_scene_rect(key).center())
    qtbot.mouseMove(w.grid.glw.viewport(), pos)
    qtbot.waitUntil(lambda: "L<sub>2,1</sub>" in w.grid.readout.text())
    assert "value" in w.grid.readout.text()
    qtbot.mouseClick(w.grid.glw.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: w.inspector is not None and w.inspector.isVisible())
    assert w.inspector.key == key
    assert w.grid.selected == key
    assert "L2,1" in w.inspector.windowTitle()


def test_the_three_modes(qtbot, settle, main_window):
    w = main_window
    w.mode_actions["init"].trigger()
    settle(w)
    assert w.stack.currentWidget() is w.init_lab
    assert w.result.residual is not None and w.result.unit is not None
    assert "Problem 5" in w.init_lab.header.text() and "Problem 4" in w.init_lab.header.text()
    assert w.controls.res_section.isVisible() and not w.controls.net_section.isVisible()
    w.mode_actions["cost"].trigger()
    settle(w)
    assert w.stack.currentWidget() is w.cost_view
    assert w.cost_view.total == w.result.total_multiplies > 0
    assert "agrees" in w.cost_view.header.text()


def test_mosaic_shows_every_channel(qtbot, main_window, small):
    w = main_window
    qtbot.mouseClick(w.mosaic_box, Qt.MouseButton.LeftButton)
    assert w.view.mosaic
    image = w.grid.cell_image((1, 0))
    assert image.channel is None and image.channels == small.channels
    assert image.data.shape[0] > w.result.pyramid.maps[(1, 0)].shape[1]


def test_state_is_restored_at_the_next_launch(qtbot, settle, make_window):
    first = make_window()
    first.controls.depth_slider.setValue(2)
    first.set_view_state(first.view.replace(mosaic=True, zoom=1.3))
    settle(first)
    first.close()
    store = StateStore()
    assert store.settings() == first.settings
    second = make_window(store.settings(), store.view_state())
    assert second.settings.depth == 2 and second.view == ViewState(mosaic=True, zoom=1.3)
    assert second.grid.levels_shown == [0, 1, 2]
    store.clear()
    assert StateStore().settings() is None


def test_reset_to_defaults(qtbot, settle, main_window):
    w = main_window
    w.set_view_state(w.view.replace(zoom=2.0, mosaic=True))
    w.reset_to_defaults()
    settle(w)
    assert w.settings == Settings() and w.view == ViewState()
    assert w.result.settings == Settings()


def test_paste_an_image_from_the_clipboard(qtbot, settle, main_window):
    from PySide6.QtGui import QColor, QGuiApplication, QImage

    w = main_window
    picture = QImage(300, 200, QImage.Format.Format_RGB32)
    picture.fill(QColor(200, 40, 40))
    QGuiApplication.clipboard().setImage(picture)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    qtbot.keyClick(w, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    settle(w)
    assert w.source_panel.name == "pasted image"
    assert w.result.pyramid.image.shape == (w.settings.size, w.settings.size, 3)
    np.testing.assert_allclose(w.result.pyramid.image[0, 0], [200 / 255, 40 / 255, 40 / 255], atol=1e-3)
    QGuiApplication.clipboard().setText("not a picture")
    w.paste()
    assert "no picture" in w.last_error
    assert w.source_panel.name == "pasted image"


def test_lecture_presets_load_their_settings(qtbot, settle, main_window):
    from cnnviz.scene import preset_files

    w = main_window
    presets = {p.stem: p for p in preset_files()}
    assert len(presets) >= 5
    menu_texts = [a.text() for a in w.presets_menu.actions()]
    assert "Unshared weights break equivariance" in menu_texts
    action = next(a for a in w.presets_menu.actions() if a.text() == "Unshared weights break equivariance")
    action.trigger()
    settle(w)
    assert w.result.settings == Settings.load(presets["04_Unshared_weights_break_equivariance"])
    assert w.curves.equivariance_error > 1e-2


def test_status_bar_and_devices(qtbot, main_window):
    w = main_window
    assert w.result.device in w.status_device.text()
    assert "ms" in w.status_compute.text() and "ms" in w.status_draw.text()
    combo = w.controls.device
    qtbot.waitUntil(lambda: combo.count() >= 4)  # auto, cpu, cuda, mps once torch has said
    model = combo.model()
    for i in range(combo.count()):
        name = combo.itemData(i)
        reason = combo.itemData(i, Qt.ItemDataRole.ToolTipRole)
        if name in ("cuda", "mps") and not model.item(i).isEnabled():
            assert reason  # an unavailable device says why
    assert model.item(combo.findData("cpu")).isEnabled()


def test_a_window_opened_on_a_small_screen_fits_it(qtbot, make_window, tmp_path):
    """On a 1280x720 projector the window is 1280x720, not the 1600x900 default off its edges,
    and a clip opened then keeps its height for the maps (no over-time dock below 800 pixels)."""
    from clips import write_clip
    from PySide6.QtCore import QRect

    from cnnviz.gui.app import fit_to_screen

    w = make_window()
    w.resize(1600, 900)
    fit_to_screen(w, QRect(0, 0, 1280, 720))
    assert (w.width(), w.height()) == (1280, 720)
    fit_to_screen(w, QRect(0, 0, 1920, 1080))  # a larger screen leaves it as it is
    assert (w.width(), w.height()) == (1280, 720)
    assert w.open_file(str(write_clip(tmp_path / "count.mp4", n=5)))
    qtbot.wait(50)  # the dock decides once the event loop runs
    assert w.playback.active and not w.playback.over_time.isVisible()
