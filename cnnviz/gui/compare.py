"""A/B comparison: pin the current result as A, change one thing, and see B drawn over it.

Ctrl+P pins what is on screen as A. Then the curves draw A's measured curves in grey behind B's
(:meth:`CurvesView.set_ghost`), A's grid sits beside B's, and a header says which settings differ
(``depth 6 → 8``) and whether the weights are the same draw (same seed) or not. Nothing is
recomputed for A: it is the Result that was on screen, drawn again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from ..core.result import Result
from ..scene import Scene
from ..settings import Settings
from ..view_state import ViewState
from . import theme
from .grid_view import FeatureGridView

if TYPE_CHECKING:
    from .main_window import MainWindow

A_COLOR = "#777777"


def vbox_of(widget: QWidget | None) -> QVBoxLayout:
    """The vertical layout of ``widget`` (the window's central column, the grid's column)."""
    layout = widget.layout() if widget is not None else None
    assert isinstance(layout, QVBoxLayout), layout
    return layout


def settings_diff(a: Settings, b: Settings) -> list[tuple[str, object, object]]:
    """(field, A's value, B's value) for every field that differs, in the Settings' order."""
    da, db = a.to_dict(), b.to_dict()
    return [(k, da[k], db[k]) for k in da if da[k] != db[k]]


def diff_text(a: Scene, b: Scene) -> str:
    """One line for the header: what changed from A to B, and whether the weights are the same draw."""
    parts = [f"{k.replace('_', ' ')} {_v(va)} → {_v(vb)}" for k, va, vb in settings_diff(a.settings, b.settings)]
    pa = a.source.pixels if a.source else None
    pb = b.source.pixels if b.source else None
    if pa != pb:
        parts.append("image changed")
    changes = ", ".join(parts) if parts else "nothing changed yet"
    seed = (
        f"same weights (seed {b.settings.seed})"
        if a.settings.seed == b.settings.seed
        else "different weights (new seed)"
    )
    return f"{changes} · {seed}"


def _v(value: object) -> str:
    if isinstance(value, float):
        return theme.fmt(value)
    return str(value)


class Compare:
    """A pinned Result (A) shown beside and under the live one (B)."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.a: Result | None = None
        self.a_scene: Scene | None = None
        self.header = QLabel()
        self.header.setObjectName("ab_header")
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setWordWrap(True)
        self.header.setStyleSheet(
            "QLabel#ab_header { background: #eef3f8; color: #102030; padding: 4px 8px; border-bottom: 2px solid #31688e; }"
        )
        self.header.hide()
        central = vbox_of(window.centralWidget())
        central.insertWidget(central.indexOf(window.banner), self.header)
        # A's grid beside B's, in a splitter that takes the grid's place in its column.
        self.grid_a = FeatureGridView()
        self.grid_a.setEnabled(True)
        column = vbox_of(window.grid.parentWidget())
        at = column.indexOf(window.grid)
        self.grids = QSplitter(Qt.Orientation.Horizontal)
        self.grids.setChildrenCollapsible(False)
        self.box_a, _ = self._labelled("A (pinned)", self.grid_a, A_COLOR)
        self.box_b, self.label_b = self._labelled("B (now)", window.grid, "#31688e")
        self.grids.addWidget(self.box_a)
        self.grids.addWidget(self.box_b)
        column.insertWidget(at, self.grids, 1)
        self.box_a.hide()
        self.label_b.hide()
        window.result_drawn.connect(self._on_drawn)
        window.grid.partner_result = lambda: self.a
        self.grid_a.partner_result = lambda: self.window.result if self.a is not None else None

    def view_changed(self, view: ViewState, zoom_changed: bool) -> None:
        """The window's view changed: A's grid follows (channel, mosaic, colours, zoom)."""
        if self.a is None or self.a.pyramid is None:
            return
        if zoom_changed:
            self.grid_a.set_zoom(view.zoom)
        self.grid_a.set_view_state(view)

    @staticmethod
    def _labelled(text: str, widget: QWidget, color: str) -> tuple[QWidget, QLabel]:
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        label = QLabel(f"<b style='color:{color}'>{text}</b>")
        label.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(label)
        lay.addWidget(widget, 1)
        return box, label

    @property
    def pinned(self) -> bool:
        return self.a is not None

    def pin(self) -> None:
        """The result on screen becomes A."""
        w = self.window
        if w.result is None or w.result.settings != w.settings:
            w.say("nothing to pin yet: the current result is still being computed")
            return
        self.a, self.a_scene = w.result, w.scene()
        self.window.curves.set_ghost(self.a)
        has_grid = self.a.pyramid is not None
        if has_grid:
            self.grid_a.set_zoom(w.view.zoom)
            self.grid_a.set_result(self.a, w.view)
        self.box_a.setVisible(has_grid)
        self.label_b.setVisible(has_grid)
        w.grid.set_view_state(w.view)  # B's colours now span A's too
        self._update_header()
        self.header.show()
        w.say("pinned as A: change one thing and compare (Ctrl+Shift+P clears A)", 6000)

    def clear(self) -> None:
        self.a = self.a_scene = None
        self.window.grid.set_view_state(self.window.view)
        self.window.curves.set_ghost(None)
        self.box_a.hide()
        self.label_b.hide()
        self.header.hide()

    def _on_drawn(self, _generation: int, _result: Result | None) -> None:
        if self.a is not None:
            self.grid_a.set_view_state(self.window.view)  # its colours span the new B
            self._update_header()

    def _update_header(self) -> None:
        if self.a_scene is None:
            return
        text = diff_text(self.a_scene, self.window.scene())
        self.header.setFont(theme.font(self.window.view.zoom, 1.1))
        self.header.setText(
            f"<b>A/B</b> &nbsp; <span style='color:{A_COLOR}'>grey: A</span>, colour: B &nbsp;·&nbsp; {text}"
        )

    def header_text(self) -> str:
        return self.header.text()
