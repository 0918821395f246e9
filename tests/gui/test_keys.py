"""The key table: one binding per key and context; context keys win whatever has focus."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QPushButton

import cnnviz.gui
from cnnviz.gui.actions import ContextKeys
from cnnviz.gui.keys import BINDINGS, CONTEXTS, Binding, binding, duplicate_keys


def test_no_key_is_bound_twice_in_one_context():
    assert duplicate_keys() == []
    assert {b.context for b in BINDINGS} <= set(CONTEXTS)
    assert len({b.name for b in BINDINGS}) == len(BINDINGS)


def test_the_duplicate_check_finds_a_clash():
    clash = (
        Binding("a", "A", ("Ctrl+K",), lambda w: None),
        Binding("b", "B", ("ctrl+k",), lambda w: None),
        Binding("c", "C", ("Ctrl+K",), lambda w: None, context="video"),
    )
    assert duplicate_keys(clash) == [("always", "Ctrl+K", ["a", "b"])]


def test_every_always_binding_with_keys_is_a_window_shortcut(main_window):
    for b in BINDINGS:
        if b.context == "always" and b.keys:
            act = main_window.commands.by_name[b.name]
            assert [s.toString() for s in act.shortcuts()], b.name


def test_a_step_past_the_limit_says_why_in_the_status_bar(qtbot, settle, make_window, small):
    w = make_window(small.replace(size=64, depth=6))
    binding("depth_up").handler(w)
    assert w.settings.depth == 6
    assert "largest" in w.statusBar().currentMessage()
    binding("depth_down").handler(w)
    settle(w)
    assert w.settings.depth == 5


def test_letters_act_on_what_the_mode_shows(qtbot, settle, make_window, small):
    w = make_window(small.replace(mode="init", residual_depth=10))
    qtbot.keyClick(w, Qt.Key.Key_D)
    settle(w)
    assert (w.settings.residual_depth, w.settings.depth) == (11, small.depth)


def _context_window(make_window, seen):
    w = make_window()
    table = (
        Binding("next", "Next", ("Space", "Right"), lambda win: seen.append("next"), context="video"),
        Binding("prev", "Previous", ("Left",), lambda win: seen.append("prev"), context="video"),
    )
    ContextKeys(w, table)  # a second filter with a test table, beside the window's own
    return w


def test_context_keys_work_with_focus_in_a_text_box_and_on_a_button(qtbot, make_window):
    seen: list[str] = []
    w = _context_window(make_window, seen)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    box = w.controls.init.field
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_Right)
    assert seen == []  # the context is off: the text box keeps its key
    w.contexts.add("video")
    text = box.text()
    qtbot.keyClick(box, Qt.Key.Key_Right)
    qtbot.keyClick(box, Qt.Key.Key_Left)
    assert seen == ["next", "prev"]
    assert box.text() == text
    button = w.controls.reroll
    assert isinstance(button, QPushButton)
    seed = w.settings.seed
    button.setFocus()
    qtbot.keyClick(button, Qt.Key.Key_Space)
    assert seen == ["next", "prev", "next"]
    assert w.settings.seed == seed  # the button was not pressed
    assert isinstance(box, QLineEdit)


def test_the_main_window_module_stays_a_router():
    lines = (Path(cnnviz.gui.__file__).parent / "main_window.py").read_text().count("\n")
    assert lines < 500
