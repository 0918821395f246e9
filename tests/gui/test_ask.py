"""The export and movie dialogs ask before replacing a file, with No as the default answer."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget

from cnnviz.gui import ask


def _asked(monkeypatch, qtbot, paths: list[Path], answer) -> tuple[bool, dict]:
    seen: dict = {}

    def question(parent, title, text, buttons, default):
        seen.update(title=title, text=text, default=default)
        return answer

    monkeypatch.setattr(QMessageBox, "question", question)
    parent = QWidget()
    qtbot.addWidget(parent)
    return ask.replace_files(parent, paths), seen


def test_one_file_is_named_and_no_is_the_default(monkeypatch, qtbot, tmp_path):
    ok, seen = _asked(monkeypatch, qtbot, [tmp_path / "a.mp4"], QMessageBox.StandardButton.No)
    assert not ok and seen["default"] == QMessageBox.StandardButton.No
    assert seen["title"] == "Replace file?" and "a.mp4 already exists" in seen["text"]


def test_several_files_are_counted_and_yes_replaces(monkeypatch, qtbot, tmp_path):
    paths = [tmp_path / f"{n}.png" for n in "abc"]
    ok, seen = _asked(monkeypatch, qtbot, paths, QMessageBox.StandardButton.Yes)
    assert ok and seen["title"] == "Replace files?" and "a.png and 2 more already exist" in seen["text"]
