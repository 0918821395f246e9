"""The menus, the toolbar and the context keys, built from the key table (:mod:`.keys`).

``always`` bindings become window QActions (their shortcuts also work with the menu bar hidden
in full screen). Bindings of the other contexts are dispatched by :class:`ContextKeys`, an
application event filter that takes the key before the focused widget does, while the context
is active and the main window is the active window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeyEvent, QKeySequence, QResizeEvent
from PySide6.QtWidgets import QApplication, QDialog, QMenu, QTextBrowser, QToolBar, QVBoxLayout, QWidget

from ..scene import preset_files, preset_label
from . import theme
from .keys import BINDINGS, MENUS, MODE_LABELS, PRECEDENCE, Binding

if TYPE_CHECKING:
    from .main_window import MainWindow


def _native(keys: tuple[str, ...]) -> str:
    return ", ".join(QKeySequence(k).toString(QKeySequence.SequenceFormat.NativeText) for k in keys)


# The toolbar's shorter labels, used where the full ones do not fit the window's width (1280 px
# after A+ twice put A+ and Full screen behind the overflow chevron); the menus keep the full names
SHORT_LABELS = {"open": "Open", "paste": "Paste", "reroll": "Re-roll", "full_screen": "Full"}


class FittingToolBar(QToolBar):
    """A toolbar that shortens its longest labels (:data:`SHORT_LABELS`) where the full ones do
    not fit its width, so no button goes behind the overflow chevron while the short ones fit."""

    def __init__(self, title: str) -> None:
        super().__init__(title)
        self.labels: dict[QAction, tuple[str, str]] = {}  # action -> (full, short)
        self._fitting = False

    def fit(self) -> None:
        if self._fitting or not self.labels:
            return
        self._fitting = True
        try:
            for act, (full, _short) in self.labels.items():
                act.setIconText(full)
            layout = self.layout()
            if layout is not None:
                layout.invalidate()  # the size hint of the full labels, not of the last ones
            if self.sizeHint().width() > self.width():
                for act, (_full, short) in self.labels.items():
                    act.setIconText(short)
        finally:
            self._fitting = False

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit()


class Actions:
    """The window's QActions by binding name, its menus and its toolbar."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.by_name: dict[str, QAction] = {}
        self.menus: dict[str, QMenu] = {}
        mb = window.menuBar()
        # Menu titles carry no '&' mnemonics: Alt+letter belongs to the controls.
        for title in MENUS:
            self.menus[title] = mb.addMenu(title)
        self.recent_menu = QMenu("Open recent", window)
        self.presets_menu = QMenu("Lecture presets", window)
        self.camera_menu = QMenu("Camera", window)  # filled by gui/camera.py each time it opens
        self.mode_group = QActionGroup(window)
        last_group: dict[str, int] = {}
        for b in BINDINGS:
            act = self._make(b)
            self.by_name[b.name] = act
            if b.menu is None:
                continue
            menu = self.menus[b.menu]
            if b.menu in last_group and last_group[b.menu] != b.group:
                menu.addSeparator()
            last_group[b.menu] = b.group
            menu.addAction(act)
            if b.name == "open":
                menu.addMenu(self.recent_menu)
            if b.name == "paste":
                menu.addMenu(self.camera_menu)
                menu.addSeparator()
                menu.addMenu(self.presets_menu)
            if b.name.startswith("mode_"):
                self.mode_group.addAction(act)
        for path in preset_files():
            act = self.presets_menu.addAction(preset_label(path))
            act.triggered.connect(lambda _=False, p=path: window.load_settings(p))
        self.presets_menu.setEnabled(bool(self.presets_menu.actions()))
        self.toolbar = self._toolbar()

    def _make(self, b: Binding) -> QAction:
        w = self.window
        text = b.text if b.context == "always" or not b.keys else f"{b.text}\t{_native(b.keys)}"
        act = QAction(text, w)
        if b.context == "always" and b.keys:
            act.setShortcuts([QKeySequence(k) for k in b.keys])
        act.setCheckable(b.checkable)
        if b.tip:
            act.setToolTip(b.tip)
        # Bound to this binding's handler; the window's own methods are called through it.
        act.triggered.connect(lambda _=False, h=b.handler: h(w))
        w.addAction(act)  # shortcuts work with the menu bar hidden (full screen) too
        return act

    def _toolbar(self) -> FittingToolBar:
        w = self.window
        tb = FittingToolBar("Main")
        tb.setObjectName("main_toolbar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        tb.setStyleSheet(
            "QToolButton { padding: 3px 8px; } "
            "QToolButton:checked { background: #31688e; color: white; border-radius: 3px; }"
        )
        tb.addAction(self.by_name["open"])
        tb.addAction(self.by_name["paste"])
        tb.addSeparator()
        for mode, label, _ in MODE_LABELS:
            act = self.by_name[f"mode_{mode}"]
            # The toolbar says "P3" where the menu says "Problem 3": at 1280 px every button fits.
            act.setIconText(label.replace("Problems ", "P").replace("Problem ", "P"))
            tb.addAction(act)
        tb.addSeparator()
        tb.addAction(self.by_name["reroll"])
        tb.addSeparator()
        for text, name in (("A−", "zoom_out"), ("A+", "zoom_in")):
            act = QAction(text, w)
            act.setToolTip("Smaller / larger fonts and lines for a lecture hall  [Ctrl+- / Ctrl++]")
            act.triggered.connect(self.by_name[name].trigger)
            tb.addAction(act)
        tb.addAction(self.by_name["full_screen"])
        tb.labels = {self.by_name[name]: (self.by_name[name].iconText(), short) for name, short in SHORT_LABELS.items()}
        w.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
        return tb

    def set_zoom(self, zoom: float) -> None:
        """The toolbar's buttons (cut off from the window's font by its style sheet) follow the zoom."""
        for button in [self.toolbar, *self.toolbar.findChildren(QWidget)]:
            button.setFont(theme.font(zoom))
        self.toolbar.fit()

    def rebuild_recent(self, paths: list[str]) -> None:
        self.recent_menu.clear()
        for p in paths:
            act = self.recent_menu.addAction(p)
            act.triggered.connect(lambda _=False, path=p: self.window.open_file(path))
        self.recent_menu.setEnabled(bool(paths))

    def shortcuts_html(self) -> str:
        rows = []
        for b in BINDINGS:
            if b.keys:
                where = "" if b.context == "always" else f" <i>({b.context})</i>"
                rows.append(f"<tr><td><b>{_native(b.keys)}</b></td><td>&nbsp;&nbsp;{b.text}{where}</td></tr>")
        return (
            "<p>Every control has a key. Letters change the view in front of you: in the init lab "
            "V, D, A and N act on the residual stack.</p><table>" + "".join(rows) + "</table>"
        )


class ContextKeys(QObject):
    """Delivers the keys of the active non-``always`` contexts, whatever widget has focus."""

    def __init__(self, window: MainWindow, bindings: tuple[Binding, ...] = BINDINGS) -> None:
        super().__init__(window)
        self.window = window
        self.bindings = bindings
        self._pending: Binding | None = None
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def match(self, event: QKeyEvent) -> Binding | None:
        active = self.window.contexts
        seq = QKeySequence(event.keyCombination())
        for context in PRECEDENCE:
            if context == "always" or context not in active:
                continue
            for b in self.bindings:
                if b.context == context and any(
                    QKeySequence(k).matches(seq) == QKeySequence.SequenceMatch.ExactMatch for k in b.keys
                ):
                    return b
        return None

    def _for_this_window(self, obj: QObject) -> bool:
        """The key is this window's: it is the active window, or the key goes to one of its widgets
        (seen under X without a window manager: after a file dialog closed, no window was made
        active again, and Space opened the focused combo box instead of playing the clip)."""
        if QApplication.activeWindow() is self.window:
            return True
        return isinstance(obj, QWidget) and obj.window() is self.window

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            return False
        if not isinstance(event, QKeyEvent) or not self._for_this_window(obj):
            return False
        b = self.match(event)
        if b is None:
            return False
        if kind == QEvent.Type.ShortcutOverride:
            event.accept()  # no window shortcut fires; the key press comes to us next
            return True
        b.handler(self.window)
        return True


def shortcuts_dialog(window: MainWindow, existing: QDialog | None, html: str, zoom: float) -> QDialog:
    dialog = existing
    if dialog is None:
        dialog = QDialog(window)
        dialog.setWindowTitle("Keyboard shortcuts")
        text = QTextBrowser(dialog)
        QVBoxLayout(dialog).addWidget(text)
        dialog.resize(600, 680)
    browser = cast(QTextBrowser, dialog.findChild(QTextBrowser))  # made with the dialog
    browser.setHtml(html)
    dialog.setFont(theme.font(zoom))
    dialog.show()
    return dialog
