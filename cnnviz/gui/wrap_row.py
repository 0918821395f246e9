"""A row of controls that takes two rows where one is too narrow for it.

At 1280x720 after A+ twice, a row of boxes either cut their texts ("virid", "channel (") or,
with boxes that cannot shrink (spin boxes), made the window wider than the screen. A
:class:`WrapRow` lays its groups side by side while they fit and otherwise puts the first
``split`` groups above the rest; its least width is that of the two-row layout, so the window
can always narrow it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QGridLayout, QWidget


class WrapRow(QWidget):
    """``groups`` in one row, or in two (``groups[:split]`` above, the rest below).

    ``width_of(group)`` is the width a group needs in the row (default: its size hint); a stretch
    takes what is left after group ``stretch_after`` (one row) or at the end of each row (two)."""

    def __init__(
        self,
        groups: Sequence[QWidget],
        split: int,
        stretch_after: int | None = None,
        width_of: Callable[[QWidget], int] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.groups = list(groups)
        self.split = split
        self._stretch_after = len(self.groups) - 1 if stretch_after is None else stretch_after
        self._width_of = width_of or (lambda g: g.sizeHint().width())
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(2, 0, 2, 0)
        self.rows = 0
        self.arrange(1)

    def one_row_width(self) -> int:
        margins = self._grid.contentsMargins()
        spacing = max(self._grid.horizontalSpacing(), 0)
        widths = [self._width_of(g) for g in self.groups]
        return sum(widths) + spacing * (len(widths) - 1) + margins.left() + margins.right()

    def two_row_width(self) -> int:
        margins = self._grid.contentsMargins()
        spacing = max(self._grid.horizontalSpacing(), 0)
        rows = (self.groups[: self.split], self.groups[self.split :])
        return max(
            sum(self._width_of(g) for g in row) + spacing * max(len(row) - 1, 0) + margins.left() + margins.right()
            for row in rows
        )

    def arrange(self, rows: int) -> None:
        if rows == self.rows:
            return
        self.rows = rows
        for g in self.groups:
            self._grid.removeWidget(g)
        for col in range(len(self.groups) + 1):
            self._grid.setColumnStretch(col, 0)
        if rows == 1:
            for i, g in enumerate(self.groups):
                self._grid.addWidget(g, 0, i if i <= self._stretch_after else i + 1)
            self._grid.setColumnStretch(self._stretch_after + 1, 1)
        else:
            for i, g in enumerate(self.groups):
                row, col = (0, i) if i < self.split else (1, i - self.split)
                self._grid.addWidget(g, row, col)
            self._grid.setColumnStretch(len(self.groups), 1)
        # the least width is the two rows' (the window can always narrow the row); below the
        # one row's width resizeEvent takes two rows
        self.setMinimumWidth(self.two_row_width())

    def resizeEvent(self, event: QResizeEvent) -> None:
        self.arrange(1 if event.size().width() >= self.one_row_width() else 2)
        super().resizeEvent(event)

    def event(self, event: QEvent) -> bool:
        # a group's size changed (A+ or A- gives its boxes a new font) while the row's width did
        # not: whether one row still fits is decided again
        if event.type() == QEvent.Type.LayoutRequest:
            self.arrange(1 if self.width() >= self.one_row_width() else 2)
        return super().event(event)
