"""Undo and redo in the window: the Qt side of :mod:`cnnviz.history`.

The window records every settings change from ``request``; a slider held down is one group
(press to release), so one drag is one step. Undo and redo request the recorded Settings again,
unrecorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QAbstractSlider

if TYPE_CHECKING:
    from .main_window import MainWindow


def watch_sliders(window: MainWindow) -> None:
    """Every slider of the controls opens a history group while it is held down."""
    for slider in window.controls.findChildren(QAbstractSlider):
        slider.sliderPressed.connect(window.history.begin_group)
        slider.sliderReleased.connect(window.history.end_group)


def undo(window: MainWindow) -> None:
    _apply(window, window.history.undo(), "nothing to undo")


def redo(window: MainWindow) -> None:
    _apply(window, window.history.redo(), "nothing to redo")


def _apply(window: MainWindow, settings, empty: str) -> None:
    if settings is None:
        window.say(empty, 3000)
        return
    with window.history.replaying():
        window.request(settings)
