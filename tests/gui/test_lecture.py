"""Lecture mode, A/B and undo, driven through the window's own keys and controls."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from PIL import Image
from PySide6.QtCore import Qt

from cnnviz.deck import Deck, Step, load_deck
from cnnviz.gui.keys import binding
from cnnviz.scene import Scene
from cnnviz.settings import Settings

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

SMALL = Settings(size=64, depth=3, channels=8)


def small_deck() -> Deck:
    return Deck(
        title="test",
        steps=(
            Step(Scene(SMALL), "He", ("one", "two"), "σ_{w}² = 2 / fan-in", "var_ratio"),
            Step(Scene(SMALL.replace(init="lecun")), "LeCun", ("three",), "σ_{w}² = 1 / fan-in", "top_var"),
            Step(Scene(SMALL.replace(shared=False)), "Unshared", (), "", "equivariance"),
            Step(Scene(SMALL.replace(mode="init", residual_depth=8)), "Residual", (), "", "residual_var"),
        ),
    )


def _active(qtbot, w):
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)


def test_the_deck_walks_forward_back_jumps_and_b_returns_to_the_step(qtbot, settle, main_window):
    w = main_window
    deck = small_deck()
    w.lecture.open(deck)
    _active(qtbot, w)
    assert "lecture" in w.contexts and w.lecture.panel.isVisible()
    assert not w.controls_dock.isVisible()  # the picture gets the room; F9 brings the panels back
    for key, index in (
        (Qt.Key.Key_PageDown, 1),
        (Qt.Key.Key_Right, 2),
        (Qt.Key.Key_PageUp, 1),
        (Qt.Key.Key_Left, 0),
        (Qt.Key.Key_End, 3),
        (Qt.Key.Key_Space, 3),  # past the last step: stays, and says so
        (Qt.Key.Key_Home, 0),
    ):
        qtbot.keyClick(w, key)
        assert w.lecture.index == index, key
        assert w.settings == deck.steps[index].scene.settings
        if key == Qt.Key.Key_Space:
            assert w.statusBar().currentMessage() == "last step (4)"
    assert w.lecture.panel.number.text() == "1 / 4"
    assert w.lecture.panel.title.text() == "He"
    settle(w)
    assert "measured" in w.lecture.panel.readout.text() and "predicted" in w.lecture.panel.readout.text()
    # deviate with the live controls, then B
    w.controls.depth_slider.setValue(2)
    settle(w)
    assert w.settings.depth == 2 and w.lecture.deviated()
    assert "B returns" in w.lecture.panel.status.text()
    qtbot.keyClick(w, Qt.Key.Key_B)
    settle(w)
    assert w.settings == deck.steps[0].scene.settings and not w.lecture.deviated()
    assert w.lecture.panel.status.text() == ""
    # the residual step switches the mode page and measures there
    qtbot.keyClick(w, Qt.Key.Key_End)
    settle(w)
    assert w.stack.currentWidget() is w.init_lab
    assert "Var(L₈) / Var(L₀)" in w.lecture.panel.readout.text()
    qtbot.keyClick(w, Qt.Key.Key_H)  # the caption out of the way, and back
    assert not w.lecture.panel.isVisible()
    qtbot.keyClick(w, Qt.Key.Key_H)
    assert w.lecture.panel.isVisible()
    w.lecture.close()
    assert "lecture" not in w.contexts and not w.lecture.panel.isVisible() and w.controls_dock.isVisible()
    qtbot.keyClick(w, Qt.Key.Key_B)  # B does nothing without a deck
    qtbot.keyClick(w, Qt.Key.Key_Right)
    assert w.settings == deck.steps[3].scene.settings
    qtbot.keyClick(w, Qt.Key.Key_D)  # letters are the window's own keys again
    settle(w)
    assert w.settings.residual_depth == 9


def test_lecture_keys_work_with_focus_in_the_init_box_and_on_a_button(qtbot, settle, main_window):
    w = main_window
    w.lecture.open(small_deck())
    w.toggle_side_panels()  # show the controls to put focus in them
    _active(qtbot, w)
    box = w.controls.init.field
    box.setFocus()
    text = box.text()
    qtbot.keyClick(box, Qt.Key.Key_Right)
    assert w.lecture.index == 1
    qtbot.keyClick(box, Qt.Key.Key_Left)
    assert w.lecture.index == 0
    assert box.text() == text
    button = w.controls.reroll
    button.setFocus()
    seed = w.settings.seed
    qtbot.keyClick(button, Qt.Key.Key_Space)
    assert w.lecture.index == 1
    qtbot.keyClick(button, Qt.Key.Key_PageDown)
    assert w.lecture.index == 2
    settle(w)
    assert w.settings.seed == seed  # the button was not pressed


def test_a_custom_deck_opens_and_a_bad_one_is_refused_with_the_field_named(qtbot, settle, main_window, tmp_path):
    w = main_window
    good = tmp_path / "mine.json"
    good.write_text(small_deck().to_json())
    assert w.lecture.open_file(good)
    settle(w)
    assert len(w.lecture.deck) == 4 and w.settings == SMALL
    w.lecture.close()
    data = json.loads(good.read_text())
    data["steps"][1]["scene"]["settings"]["dept"] = 3
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    assert not w.lecture.open_file(bad)
    assert w.last_error == "bad.json: step 2 scene: unknown setting(s): dept"
    assert w.lecture.deck is None and "lecture" not in w.contexts


def test_a_step_renders_headless_and_out_of_range_is_one_line(tmp_path, private_config):
    deck_file = tmp_path / "deck.json"
    deck_file.write_text(small_deck().to_json())
    out = tmp_path / "step2.png"
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env["CNNVIZ_CONFIG_DIR"] = str(private_config)
    run = [sys.executable, "-m", "cnnviz", "--screenshot", str(out), "--deck", str(deck_file)]
    proc = subprocess.run(
        [*run, "--lecture-step", "2", "--window-size", "1280x720"], env=env, capture_output=True, text=True, timeout=180
    )
    assert proc.returncode == 0, proc.stderr
    image = Image.open(out)
    assert image.size == (1280, 720)
    proc = subprocess.run([*run, "--lecture-step", "5"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "out of range: the deck has 4 steps (1 to 4)" in proc.stderr
    assert not (tmp_path / "step5.png").exists()


def test_ab_pins_a_draws_its_ghost_and_names_what_changed(qtbot, settle, main_window):
    w = main_window
    assert w.curves.ghost_curves("var") == 0
    binding("pin_a").handler(w)
    assert w.compare.pinned and w.compare.box_a.isVisible()
    assert w.curves.ghost_curves("var") == w.result.pyramid.k  # a grey line per scale with two levels or more
    qtbot.mouseClick(w.controls.init.buttons["lecun"], Qt.MouseButton.LeftButton)
    settle(w)
    header = w.compare.header_text()
    assert "init he → lecun" in header and "same weights (seed 0)" in header
    assert w.curves.ghost_curves("var") > 0 and w.curves.ghost_curves("grad") > 0
    assert w.compare.grid_a.levels_shown == w.grid.levels_shown
    assert w.compare.a.settings.init == "he" and w.result.settings.init == "lecun"
    top = (w.settings.depth, 0)  # one colour scale for A's grid and B's: LeCun's top level is darker
    assert w.grid._cells[top].levels == w.compare.grid_a._cells[top].levels
    qtbot.keyClick(w.display_bar.mosaic_box, Qt.Key.Key_Space)  # A's grid follows the view
    assert w.view.mosaic and w.compare.grid_a.cell_image(top).channel is None
    binding("reroll").handler(w)
    settle(w)
    assert "different weights" in w.compare.header_text()
    w.controls.depth_slider.setValue(2)  # B with fewer levels than A: each grid keeps its own cells
    settle(w)
    assert w.compare.grid_a.levels_shown == [0, 1, 2, 3] and w.grid.levels_shown == [0, 1, 2]
    assert "depth 3 → 2" in w.compare.header_text()
    binding("clear_a").handler(w)
    assert not w.compare.pinned and w.curves.ghost_curves("var") == 0 and not w.compare.header.isVisible()


def test_a_slider_drag_is_one_undo_step(qtbot, settle, main_window):
    w = main_window
    _active(qtbot, w)
    start = w.settings
    slider = w.controls.init.slider
    slider.setSliderDown(True)  # pressed
    for _ in range(6):
        slider.setValue(slider.value() + 3)
    slider.setSliderDown(False)  # released
    settle(w)
    dragged = w.settings
    assert dragged.init != start.init
    w.controls.depth_slider.setValue(2)  # another change after the drag
    settle(w)
    qtbot.keyClick(w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert w.settings == dragged
    qtbot.keyClick(w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert w.settings == start  # the whole drag in one step
    assert w.controls.depth_slider.value() == start.depth
    qtbot.keyClick(w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert w.settings == dragged
    settle(w)
    assert w.result.settings == dragged


def test_a_deck_built_in_the_app_is_saved_and_reopens_equal(qtbot, settle, main_window, tmp_path):
    w = main_window
    w.lecture.add_current()
    editor = w.lecture.editor
    assert editor is not None and editor.isVisible() and len(w.lecture.deck) == 1
    editor.title.setText("He keeps it")
    editor.title.editingFinished.emit()
    editor.lines.setPlainText("first line\nsecond line")
    editor.equation.setText("σ_{w}² = 2 / fan-in")
    editor.equation.editingFinished.emit()
    w.controls.depth_slider.setValue(2)
    settle(w)
    editor.buttons["add"].click()
    assert len(w.lecture.deck) == 2 and w.lecture.index == 1
    editor.title.setText("Shallower")
    editor.title.editingFinished.emit()
    editor.buttons["up"].click()
    assert [s.title for s in w.lecture.deck.steps] == ["Shallower", "He keeps it"]
    assert w.lecture.deck.steps[1].lines == ("first line", "second line")
    assert w.lecture.deck.steps[0].scene.settings.depth == 2
    path = tmp_path / "built.json"
    assert w.lecture.save(path)
    again = load_deck(path)
    assert again == w.lecture.deck
    w.lecture.close()
    assert w.lecture.open_file(path)
    assert w.lecture.deck == again and w.settings.depth == 2
    assert w.lecture.panel.title.text() == "Shallower"


def test_bad_deck_flags_are_one_line(tmp_path):
    import io

    from cnnviz.cli import main

    err = io.StringIO()
    assert main(["--deck", str(tmp_path / "nope.json"), "--screenshot", str(tmp_path / "x.png")], err=err) == 1
    assert err.getvalue().count("\n") == 1 and "nope.json: no such file" in err.getvalue()
    err = io.StringIO()
    assert main(["--lecture", "--lecture-step", "0", "--screenshot", str(tmp_path / "x.png")], err=err) == 1
    assert "--lecture-step 0: step 0 is out of range" in err.getvalue()
