"""Export from the window: a plot's right-click menu, Ctrl+Shift+C under the mouse, Shift+drop a stamp.

:func:`install` is called once by the window after its views are built. It gives every plot
widget (the curves', the init lab's, the cost view's) and the feature-map grid a right-click
menu that exports or copies the figure under the click (pyqtgraph's own menus stay off). The
figures are drawn by :mod:`cnnviz.export` (through :mod:`.export_dialog`), never grabbed.

- :func:`figure_at`: which figure (a name of :data:`cnnviz.export.FIGURES`) is at a global position.
- :func:`copy_under_mouse`: Ctrl+Shift+C, that figure to the clipboard, or the whole window.
- :func:`restore_dropped`: a dropped exported PNG/SVG/JSON with Shift held restores its scene.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QMenu, QWidget

from . import export_dialog
from .export_dialog import PLOT_FIGURES

if TYPE_CHECKING:
    from .main_window import MainWindow

# the mode whose result each view draws
_VIEW_MODE = {
    "grid": "pyramid",
    "curves": "pyramid",
    "init_lab": "init",
    "cost_view": "cost",
    "video_view": "video-net",
}
STAMPED = (".png", ".svg", ".json")
_SHOWN: dict[str, QMenu | None] = {"menu": None}


def shown_menu() -> QMenu | None:
    """The figure menu shown last by a right-click."""
    return _SHOWN["menu"]


def _plots(window: MainWindow) -> list[tuple[str, object, str]]:
    """(view attribute, pyqtgraph item, figure) for every plot and the grid."""
    out = []
    for attr, figure in PLOT_FIGURES.items():
        obj: object = window
        for part in attr.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                break
        if obj is not None:
            out.append((attr.split(".")[0], obj, figure))
    return out


def figure_at(window: MainWindow, global_pos: QPoint) -> tuple[str, str] | None:
    """(mode, figure) of the plot drawn at ``global_pos`` on screen, or None (not over a plot)."""
    for view, item, figure in _plots(window):
        if isinstance(item, QWidget):  # a figure that is a whole widget: the grid, the video layers, a table
            if item.isVisible() and item.rect().contains(item.mapFromGlobal(global_pos)):
                return _VIEW_MODE[view], figure
            continue
        glw = getattr(getattr(window, view), "glw", None)
        if glw is None or not glw.isVisible():
            continue
        local = glw.mapFromGlobal(global_pos)
        if not glw.rect().contains(local):
            continue
        scene_pos = glw.mapToScene(local)
        if item.isVisible() and item.sceneBoundingRect().contains(scene_pos):  # type: ignore[attr-defined]
            return _VIEW_MODE[view], figure
    return None


def menu_at(window: MainWindow, global_pos: QPoint) -> QMenu | None:
    """The right-click menu of the figure at ``global_pos`` (export it, copy it), or None."""
    found = figure_at(window, global_pos)
    if found is None:
        return None
    mode, figure = found
    result = window.results.get(mode)
    if result is None:
        window.say("Nothing to export yet: the result is still being computed.")
        return None
    return export_dialog.figure_menu(window, window.scene(), result, figure)


def _hook(window: MainWindow, widget: QWidget) -> None:
    widget.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

    def show(pos: QPoint) -> None:
        global_pos = widget.mapToGlobal(pos)
        menu = menu_at(window, global_pos)
        if menu is not None:
            _SHOWN["menu"] = menu  # the window owns it (its parent); shown_menu() gives it back
            menu.popup(global_pos)

    widget.customContextMenuRequested.connect(show)


def install(window: MainWindow) -> None:
    """Right-click menus on the grid and every plot widget of ``window``."""
    for view in ("grid", "curves", "init_lab", "cost_view", "video_view"):
        glw = getattr(getattr(window, view, None), "glw", None)
        if glw is not None:
            _hook(window, glw)
    for _view, item, _figure in _plots(window):
        if isinstance(item, QWidget) and item is not getattr(window, "grid", None):
            _hook(window, item)


def copy_under_mouse(window: MainWindow, global_pos: QPoint | None = None) -> str:
    """Ctrl+Shift+C: the figure under the mouse to the clipboard (image and SVG), else the window.

    Returns the figure's name, or ``"window"``."""
    found = figure_at(window, QCursor.pos() if global_pos is None else global_pos)
    result = window.results.get(found[0]) if found is not None else None
    if found is None or result is None:
        export_dialog.copy_window(window)
        window.say("The window is on the clipboard as an image.", 4000)
        return "window"
    export_dialog.copy_figure(window.scene(), result, found[1])
    window.say(f"The {found[1]} figure is on the clipboard (image and SVG).", 4000)
    return found[1]


def restore_dropped(window: MainWindow, mime, shift: bool) -> bool:
    """A drop with Shift held: an exported PNG/SVG/JSON restores the scene stamped in it.

    True when the drop was taken as a stamp (restored, or refused with one line)."""
    if not shift or mime is None or not mime.hasUrls():
        return False
    paths = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
    stamped = [p for p in paths if Path(p).suffix.lower() in STAMPED]
    if not stamped:
        return False
    window.load_settings(stamped[0])
    return True
