"""Labels whose text changes with every frame without re-laying out the window.

A ``QLabel`` calls ``updateGeometry()`` on every new text: its parent layout is invalidated, which
invalidates every layout up to the main window's, and the window is laid out again before the
next paint (the docks, the splitter, the status bar: a few milliseconds per frame while a clip
plays, measured in scripts/bench_video.py). Qt stops that climb at a widget whose minimum and
maximum sizes are equal, and a child of a widget without a layout only posts its parent an
event it ignores. So:

- :class:`SteadyLabel`, one line (timings, fps, the frame number): its size is fixed, widened
  when a text needs more room and never narrowed by a shorter one (:meth:`SteadyLabel.release`
  lets it shrink), so a new text repaints the label alone.
- :class:`SteadyText`, wrapped rich text (the grid's readout, the source caption): a holder
  whose height follows the number of wrapped lines; the label inside has no layout around it,
  so only a change in the number of lines reaches the window's layout.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QFont, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class SteadyLabel(QLabel):
    """A one-line label of fixed size, widened (never narrowed) to fit its texts."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._set(text)

    def setText(self, text: str) -> None:
        if text != self.text():
            self._set(text)

    def setFont(self, font: QFont | str | Sequence[str]) -> None:
        super().setFont(font)
        self.release()

    def changeEvent(self, event: QEvent) -> None:
        # A font set on the window (A+ / A-) reaches the label by propagation, not by setFont:
        # without this its fixed size stays that of the old font and the text is cut.
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self.release()

    def release(self) -> None:
        """Let the label shrink to its current text (a relayout; e.g. when its clip closes)."""
        self.setMinimumSize(0, 0)
        self.setMaximumSize(16777215, 16777215)
        text = self.text()  # QLabel's cached size hint includes the old minimum size: make it anew
        QLabel.setText(self, "")
        QLabel.setText(self, text)
        self._fit(shrink=True)

    def _set(self, text: str) -> None:
        super().setText(text)  # its updateGeometry() stops here while the size is fixed
        self._fit()

    def _fit(self, shrink: bool = False) -> None:
        hint = QLabel.sizeHint(self)
        w = hint.width() if shrink else max(hint.width(), self.minimumWidth())
        h = hint.height() if shrink else max(hint.height(), self.minimumHeight())
        if (w, h) != (self.minimumWidth(), self.minimumHeight()) or self.maximumWidth() != w:
            self.setFixedSize(w, h)


class SteadyText(QWidget):
    """Wrapped rich text in a holder whose height is that of the wrapped lines.

    Offers the part of QLabel's interface the window uses (``setText``, ``text``,
    ``setTextFormat``, ``setWordWrap``, ``setFont``, ``heightForWidth``); ``label`` is the QLabel."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel(text, self)
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self._floor = 0  # setMinimumHeight's value: the height never goes below it
        self._height = -1
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._fit()

    # -- QLabel's interface ---------------------------------------------------------------
    def setText(self, text: str) -> None:
        if text != self.label.text():
            self.label.setText(text)
            self._fit()

    def text(self) -> str:
        return self.label.text()

    def setTextFormat(self, fmt: Qt.TextFormat) -> None:
        self.label.setTextFormat(fmt)
        self._fit()

    def setWordWrap(self, on: bool) -> None:
        self.label.setWordWrap(on)
        self._fit()

    def setFont(self, font: QFont | str | Sequence[str]) -> None:
        super().setFont(font)
        self.label.setFont(font)
        self._fit()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)  # a window font (A+ / A-) changes the wrapped height
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit()

    def setMinimumHeight(self, h: int) -> None:
        self._floor = int(h)
        self._fit()

    def heightForWidth(self, width: int) -> int:
        return max(self._floor, self.label.heightForWidth(width) if self.label.wordWrap() else self._one_line())

    # -- layout ------------------------------------------------------------------------------
    def sizeHint(self) -> QSize:
        return QSize(self.label.sizeHint().width(), max(self._height, 0))

    def minimumSizeHint(self) -> QSize:
        return QSize(0, max(self._height, 0))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.label.setGeometry(self.rect())
        self._fit()

    def _one_line(self) -> int:
        return self.label.sizeHint().height()

    def _fit(self) -> None:
        width = self.width() if self.width() > 50 else max(self.label.sizeHint().width(), 100)
        h = self.heightForWidth(width)
        if h != self._height:
            self._height = h
            QWidget.setMinimumHeight(self, h)
            self.setMaximumHeight(h)
            self.updateGeometry()
        if self.label.height() != self.height():
            self.label.setGeometry(self.rect())
