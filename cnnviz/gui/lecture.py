"""Lecture mode: a deck of steps walked through with a clicker, a caption a hall can read.

:class:`Lecture` owns the open :class:`~cnnviz.deck.Deck` and the step shown; going to a step
applies its scene through the window's own routing (``request``, ``set_view_state``, the source),
so the controls stay live: a lecturer may deviate and press B to come back. While a deck is open
the ``lecture`` key context is on (PgDn/PgUp, Right/Left, Space, Home/End, B work whatever widget
has focus). :class:`CaptionPanel` draws the step's title, lines, equation and its readout (the
measured value beside the predicted one) in type sized from the window's height, so it stays
legible from the back of a hall at 1280x720. :class:`DeckEditor` builds a deck in the app.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..core.result import Result
from ..deck import READOUTS, Deck, Readout, Step, bundled_deck_path, caption_html, load_deck, plain, readout, save_deck
from ..errors import CnnvizError, InputError
from ..view_state import ZOOM_STEPS
from .compare import vbox_of
from .source import Source

if TYPE_CHECKING:
    from .main_window import MainWindow

OK_COLOR, OFF_COLOR, NOTE_COLOR = "#1a7f37", "#b35900", "#555555"


def _px(height: int, fraction: float, least: int) -> int:
    return max(least, round(height * fraction))


def hall_zoom(height: int) -> float:
    """The view zoom whose type keeps its share of the screen: 1 at 720 px, 1.5 at 1080 px."""
    return min(ZOOM_STEPS, key=lambda z: abs(z - height / 720))


class CaptionPanel(QFrame):
    """The step's caption: number, title, lines, equation and readout, in large type."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("caption")
        self.setStyleSheet(
            "QFrame#caption { background: #fbfbf7; border-bottom: 3px solid #31688e; } QLabel { color: #111111; }"
        )
        self.number = QLabel()
        self.number.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.title = QLabel()
        self.lines = QLabel()
        self.equation = QLabel()
        self.readout = QLabel()
        self.status = QLabel()
        for label in (self.title, self.lines, self.equation, self.readout, self.status, self.number):
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setWordWrap(label is not self.number)
        self.number.setStyleSheet("color: #31688e;")
        self.equation.setStyleSheet("color: #0b3a5c;")
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.title, 1)
        top.addWidget(self.number, 0)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 6, 16, 8)
        lay.setSpacing(2)
        lay.addLayout(top)
        lay.addWidget(self.lines)
        lay.addWidget(self.equation)
        lay.addWidget(self.readout)
        lay.addWidget(self.status)
        self._height = 720

    def set_screen_height(self, height: int) -> None:
        """Type sized from the window's height, as a slide's: at 720 px the lines are 29 px (4 % of the
        height, a 24 pt line on a 7.5 inch slide), the title 39 px."""
        self._height = height
        for label, frac, least, bold in (
            (self.title, 0.054, 24, True),
            (self.number, 0.044, 19, True),
            (self.lines, 0.04, 18, False),
            (self.equation, 0.044, 19, False),
            (self.readout, 0.04, 18, True),
            (self.status, 0.03, 14, False),
        ):
            f = QFont()
            f.setPixelSize(_px(height, frac, least))
            f.setBold(bold)
            if label is self.equation:
                f.setFamilies(["STIX Two Math", "Cambria Math", "DejaVu Serif", "serif"])
            label.setFont(f)

    def resizeEvent(self, event) -> None:  # the window's height decides the type size
        h = self.window().height()
        if h != self._height:
            self.set_screen_height(h)
        super().resizeEvent(event)

    def show_step(self, deck: Deck, index: int) -> None:
        step = deck.steps[index]
        self.number.setText(f"{index + 1} / {len(deck)}")
        self.title.setText(caption_html(step.title) or "&nbsp;")
        self.lines.setText("<br>".join(caption_html(line) for line in step.lines))
        self.lines.setVisible(bool(step.lines))
        self.equation.setText(caption_html(step.equation))
        self.equation.setVisible(bool(step.equation))

    def show_readout(self, ro: Readout | None, pending: bool = False) -> None:
        if ro is None:
            self.readout.setText("<span style='color:#777'>computing…</span>" if pending else "")
            return
        color = {True: OK_COLOR, False: OFF_COLOR, None: NOTE_COLOR}[ro.agrees]
        mark = {True: " ✓", False: " ✗", None: ""}[ro.agrees]
        note = (
            f"<span style='font-weight:normal; color:{NOTE_COLOR}'> &nbsp;({caption_html(ro.note)})</span>"
            if ro.note
            else ""
        )
        self.readout.setText(
            f"{caption_html(ro.label)} &nbsp;measured <span style='color:{color}'>{ro.measured_str}</span>"
            f"<span style='font-weight:normal'> &nbsp;·&nbsp; predicted {caption_html(ro.predicted)}</span>"
            f"<span style='color:{color}'>{mark}</span>{note}"
        )

    def show_status(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))


class Lecture:
    """The deck open in a window, the step shown, and the commands of the Lecture menu."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.deck: Deck | None = None
        self.index = 0
        self.saved_to: Path | None = None
        self.editor: DeckEditor | None = None
        self._docks_were = False
        self.panel = CaptionPanel()
        self.panel.hide()
        vbox_of(window.centralWidget()).insertWidget(0, self.panel)
        window.result_drawn.connect(self._on_drawn)

    # -- state ----------------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self.deck is not None

    @property
    def step(self) -> Step | None:
        return self.deck.steps[self.index] if self.deck is not None and self.deck.steps else None

    def deviated(self) -> bool:
        """True when the window no longer shows the step's settings (B brings them back)."""
        from .main_window import for_window

        step = self.step
        return step is not None and for_window(step.scene.settings) != self.window.settings

    # -- opening and closing --------------------------------------------------------------------
    def open(self, deck: Deck, index: int = 0, full_screen: bool = False) -> None:
        """Show ``deck`` at step ``index``; the side panels make room for the picture (F9 shows them)."""
        w = self.window
        if full_screen:
            w.showFullScreen()
        if self.deck is None:
            self._docks_were = w.source_dock.isVisible() or w.controls_dock.isVisible()
            if self._docks_were:
                w.toggle_side_panels()
            height = w.screen().geometry().height() if full_screen and w.screen() else w.height()
            if w.view.zoom == 1.0:  # the plots' type grows with the screen, as the caption's does
                w.set_view_state(w.view.replace(zoom=hall_zoom(height)))
        self.deck = deck
        w.contexts.add("lecture")
        self.panel.set_screen_height(w.height())
        self.panel.show()
        self.go(index)

    def open_file(self, path: str | Path, index: int = 0) -> bool:
        try:
            deck = load_deck(path)
        except CnnvizError as err:
            self.window.show_error("Cannot open deck", str(err))
            return False
        self.saved_to = Path(path)
        self.open(deck, index)
        return True

    def open_bundled(self) -> bool:
        return self.open_file(bundled_deck_path())

    def open_dialog(self) -> None:
        start = str(self.saved_to.parent if self.saved_to else bundled_deck_path().parent)
        path, _ = QFileDialog.getOpenFileName(self.window, "Open deck", start, "Decks (*.json)")
        if path:
            self.open_file(path)

    def close(self) -> None:
        w = self.window
        if (
            self.deck is not None
            and self._docks_were
            and not (w.source_dock.isVisible() or w.controls_dock.isVisible())
        ):
            w.toggle_side_panels()
        self.deck = None
        self.window.contexts.discard("lecture")
        self.panel.hide()
        if self.editor is not None:
            self.editor.close()

    # -- walking --------------------------------------------------------------------------------
    def go(self, index: int) -> None:
        """Show step ``index`` (clamped): its source, settings and view; the hall's zoom stays."""
        if self.deck is None or not self.deck.steps:
            return
        self.index = max(0, min(len(self.deck) - 1, index))
        step = self.deck.steps[self.index]
        w = self.window
        self._use_source(step)
        w.history.seal()  # a step is a step of its own in undo, never merged with a neighbour
        w.request(step.scene.settings)
        w.history.seal()
        w.set_view_state(step.scene.view.replace(zoom=w.view.zoom))
        self.panel.show_step(self.deck, self.index)
        self._show_readout(w.result if w.result is not None and w.result.settings == w.settings else None)
        if self.editor is not None:
            self.editor.select(self.index)

    def next(self) -> None:
        self._walk(self.index + 1)

    def previous(self) -> None:
        self._walk(self.index - 1)

    def first(self) -> None:
        self._walk(0)

    def last(self) -> None:
        self._walk(len(self.deck) - 1 if self.deck else 0)

    def toggle_caption(self) -> None:
        """H: hide the caption for a larger picture, or show it again."""
        if self.deck is not None:
            self.panel.setVisible(not self.panel.isVisible())

    def back_to_step(self) -> None:
        """B: the step's own scene again, after a deviation."""
        if self.deck is not None:
            self.go(self.index)
            self.window.say(f"back to step {self.index + 1}", 3000)

    def _walk(self, index: int) -> None:
        if self.deck is None:
            return
        if not 0 <= index < len(self.deck):
            self.window.say("first step" if index < 0 else f"last step ({len(self.deck)})", 3000)
            return
        self.go(index)

    def _use_source(self, step: Step) -> None:
        w = self.window
        path = self.deck.source_path(step.scene.source) if self.deck is not None else None
        if path is None:
            return
        if w.source is not None and w.source.path and Path(w.source.path).resolve() == path.resolve():
            return
        try:
            w._set_source(Source(path.name, path=str(path)))
        except InputError as err:
            w.say(f"step {self.index + 1}: {err}; the current image stays")
            return
        w._submit()

    # -- readout --------------------------------------------------------------------------------
    def _on_drawn(self, _generation: int, result: Result | None) -> None:
        if self.deck is None:
            return
        if result is None or result.settings != self.window.settings:
            return
        self._show_readout(result)

    def _show_readout(self, result: Result | None) -> None:
        step = self.step
        if step is None:
            return
        self.panel.show_readout(readout(step.readout, result), pending=result is None and step.readout is not None)
        self.panel.show_status(
            "changed from the step: B returns to it" if self.deviated() else "",
        )

    def current_readout(self) -> Readout | None:
        step, w = self.step, self.window
        if step is None or w.result is None or w.result.settings != w.settings:
            return None
        return readout(step.readout, w.result)

    # -- building a deck ------------------------------------------------------------------------
    def add_current(self) -> None:
        """Add what the window shows as a new step after the current one, and open the editor."""
        w = self.window
        step = Step(scene=w.scene(), title="New step", readout=_guess_readout(w))
        if self.deck is None:
            self.open(Deck(title="My lecture", steps=(step,)), 0)
        else:
            at = self.index + 1 if self.deck.steps else 0
            self.deck = self.deck.added(step, at)
            self.go(at)
        self.edit()

    def replace_step(self, index: int, step: Step) -> None:
        if self.deck is None:
            return
        self.deck = self.deck.with_step(index, step)
        if index == self.index:
            self.panel.show_step(self.deck, self.index)
            self._show_readout(self.window.result)

    def edit(self) -> None:
        if self.editor is None:
            self.editor = DeckEditor(self)
        self.editor.refresh()
        self.editor.show()

    def save(self, path: str | Path) -> bool:
        if self.deck is None:
            return False
        w = self.window
        inputs = (w.source.path,) if w.source is not None and w.source.path else ()
        try:
            save_deck(self.deck, path, inputs=inputs)
        except CnnvizError as err:
            w.show_error("Cannot save deck", str(err))
            return False
        self.saved_to = Path(path)
        w.say(f"deck saved to {path}", 5000)
        return True

    def save_dialog(self) -> None:
        if self.deck is None:
            self.window.say("no deck is open: Lecture > Add current view as a step starts one")
            return
        start = str(
            self.saved_to if self.saved_to and self.saved_to != bundled_deck_path() else Path.home() / "deck.json"
        )
        path, _ = QFileDialog.getSaveFileName(self.window, "Save deck", start, "Decks (*.json)")
        if path:
            self.save(path)


def _guess_readout(w: MainWindow) -> str | None:
    mode = w.settings.mode
    return {"cost": "cost", "init": "residual_var"}.get(mode, "var_ratio")


class DeckEditor(QDialog):
    """Steps in order (select, reorder, remove) and the selected step's caption and readout."""

    def __init__(self, lecture: Lecture) -> None:
        super().__init__(lecture.window)
        self.lecture = lecture
        self.setWindowTitle("Lecture deck")
        self.list = QListWidget()
        self.title = QLineEdit()
        self.lines = QPlainTextEdit()
        self.lines.setPlaceholderText("two or three lines; _{sub} and ^{sup} for indices")
        self.lines.setFixedHeight(90)
        self.equation = QLineEdit()
        self.readout_box = QComboBox()
        self.readout_box.addItem("(none)", None)
        for name, (text, _) in READOUTS.items():
            self.readout_box.addItem(text, name)
        buttons = {}
        row = QHBoxLayout()
        for key, text in (
            ("add", "Add current view"),
            ("scene", "Use current view for this step"),
            ("up", "Move up"),
            ("down", "Move down"),
            ("remove", "Remove"),
            ("save", "Save deck…"),
        ):
            b = QPushButton(text)
            buttons[key] = b
            row.addWidget(b)
        self.buttons = buttons
        form = QFormLayout()
        form.addRow("Title", self.title)
        form.addRow("Lines", self.lines)
        form.addRow("Equation", self.equation)
        form.addRow("Readout", self.readout_box)
        lay = QVBoxLayout(self)
        lay.addWidget(self.list, 1)
        lay.addLayout(form)
        lay.addLayout(row)
        self.resize(820, 560)
        self.list.currentRowChanged.connect(self._picked)
        for w in (self.title, self.equation):
            w.editingFinished.connect(self.commit)
        self.lines.textChanged.connect(self.commit)
        self.readout_box.currentIndexChanged.connect(lambda _i: self.commit())
        buttons["add"].clicked.connect(lecture.add_current)
        buttons["scene"].clicked.connect(self._use_current_view)
        buttons["up"].clicked.connect(lambda: self._move(-1))
        buttons["down"].clicked.connect(lambda: self._move(+1))
        buttons["remove"].clicked.connect(self._remove)
        buttons["save"].clicked.connect(lecture.save_dialog)
        self._filling = False

    def refresh(self) -> None:
        deck = self.lecture.deck
        self._filling = True
        self.list.clear()
        for i, step in enumerate(deck.steps if deck else ()):
            self.list.addItem(f"{i + 1}. {plain(step.title)}")
        self._filling = False
        self.select(self.lecture.index)

    def select(self, index: int) -> None:
        if self.list.currentRow() != index:
            self.list.setCurrentRow(index)
        else:
            self._fill(index)

    def _picked(self, row: int) -> None:
        if self._filling or row < 0:
            return
        if row != self.lecture.index:
            self.lecture.go(row)
        self._fill(row)

    def _fill(self, row: int) -> None:
        deck = self.lecture.deck
        if deck is None or not 0 <= row < len(deck):
            return
        step = deck.steps[row]
        self._filling = True
        self.title.setText(step.title)
        self.lines.setPlainText("\n".join(step.lines))
        self.equation.setText(step.equation)
        self.readout_box.setCurrentIndex(max(0, self.readout_box.findData(step.readout)))
        self._filling = False

    def commit(self) -> None:
        """The fields into the selected step (a bad caption is said and left as it was)."""
        deck, row = self.lecture.deck, self.list.currentRow()
        if self._filling or deck is None or not 0 <= row < len(deck):
            return
        lines = tuple(line for line in self.lines.toPlainText().split("\n") if line.strip())
        try:
            step = deck.steps[row].replace(
                title=self.title.text(),
                lines=lines,
                equation=self.equation.text(),
                readout=self.readout_box.currentData(),
            )
        except CnnvizError as err:
            self.lecture.window.say(str(err))
            return
        self.lecture.replace_step(row, step)
        item = self.list.item(row)
        if item is not None:
            item.setText(f"{row + 1}. {plain(step.title)}")

    def _use_current_view(self) -> None:
        deck, row = self.lecture.deck, self.list.currentRow()
        if deck is not None and 0 <= row < len(deck):
            self.lecture.replace_step(row, deck.steps[row].replace(scene=self.lecture.window.scene()))

    def _move(self, by: int) -> None:
        lec, row = self.lecture, self.list.currentRow()
        if lec.deck is None or not 0 <= row < len(lec.deck) or not 0 <= row + by < len(lec.deck):
            return
        lec.deck = lec.deck.moved(row, row + by)
        lec.index = row + by
        lec.panel.show_step(lec.deck, lec.index)
        self.refresh()

    def _remove(self) -> None:
        lec, row = self.lecture, self.list.currentRow()
        if lec.deck is None or not 0 <= row < len(lec.deck):
            return
        if len(lec.deck) == 1:
            lec.close()
            self.close()
            return
        lec.deck = lec.deck.removed(row)
        lec.go(min(row, len(lec.deck) - 1))
        self.refresh()
