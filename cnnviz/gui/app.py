"""Starting the window: ``launch`` is what ``cnnviz`` (and ``cnnviz FILE``) calls.

With ``screenshot`` the window is rendered offscreen at a fixed size from the given settings
(never the saved state), saved as PNG once the first result is drawn, and closed: the same
picture on every machine, for docs, tests and slides.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..settings import Settings

SCREENSHOT_SIZE = (1600, 900)
SCREENSHOT_TIMEOUT_MS = 120_000


def _say(line: str) -> None:
    print(f"cnnviz: {line}", file=sys.stderr, flush=True)


def has_display() -> bool:
    """False when Qt would abort for want of a display (Linux without X11/Wayland, no platform set)."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    if not sys.platform.startswith("linux"):
        return True  # macOS and Windows always have their native platform
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


# Qt's X11 plugin (libqxcb) loads these; without one Qt aborts with a misleading message.
# Debian/Ubuntu package names beside the library names ctypes looks for.
_XCB_LIBRARIES = {
    "xcb-cursor": "libxcb-cursor0",
    "xcb-icccm": "libxcb-icccm4",
    "xcb-keysyms": "libxcb-keysyms1",
    "xcb-image": "libxcb-image0",
    "xcb-render-util": "libxcb-render-util0",
    "xcb-shape": "libxcb-shape0",
    "xcb-xkb": "libxcb-xkb1",
    "xkbcommon-x11": "libxkbcommon-x11-0",
    "xkbcommon": "libxkbcommon0",
    "EGL": "libegl1",
    "fontconfig": "libfontconfig1",
}


def missing_x11_packages() -> list[str]:
    """Packages whose libraries Qt's X11 plugin needs and this Linux lacks (empty elsewhere)."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM", "xcb") != "xcb":
        return []
    if os.environ.get("WAYLAND_DISPLAY") and not os.environ.get("DISPLAY"):
        return []
    from ctypes.util import find_library

    return [pkg for lib, pkg in _XCB_LIBRARIES.items() if find_library(lib) is None]


def _check_writable(path: str) -> str | None:
    """Why ``path`` cannot be written as a PNG, or None."""
    p = Path(path)
    if p.is_dir():
        return f"cannot write screenshot {path}: it is a folder"
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        return f"cannot write screenshot {path}: folder {parent} does not exist"
    if not os.access(parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        return f"cannot write screenshot {path}: permission denied"
    return None


_QUIET = ("This plugin does not support propagateSizeHints",)  # the offscreen platform's chatter


def _quiet_offscreen_messages() -> None:
    """Drop the offscreen plugin's harmless notices (one per window) from stderr; others pass."""
    from PySide6.QtCore import qInstallMessageHandler

    previous = None

    def handler(mode, context, message):
        if message.startswith(_QUIET):
            return
        if previous is not None:
            previous(mode, context, message)
        else:
            print(message, file=sys.stderr)

    previous = qInstallMessageHandler(handler)


def _application():
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else "cnnviz"])
    app.setOrganizationName("cnnviz")
    app.setApplicationName("cnnviz")
    app.setApplicationDisplayName("cnnviz")
    return app


def launch(
    *,
    file: str | None = None,
    settings: Settings | None = None,
    reset: bool = False,
    screenshot: str | None = None,
    window_size: tuple[int, int] | None = None,
    deck=None,
    deck_index: int = 0,
) -> int:
    """Open the window and run until it is closed; returns the exit code.

    ``settings=None`` restores the saved state (or the defaults); ``reset`` forgets the saved
    state first. ``screenshot``: render offscreen at ``window_size`` (default 1600x900), save
    the PNG once the first result is drawn, exit 0 (1 when it cannot be written or computed).
    Without a display (and no screenshot) one line says so and 2 is returned. ``deck`` (a
    :class:`~cnnviz.deck.Deck`) opens in lecture mode at step ``deck_index``, full screen (or, with
    ``screenshot``, renders that step).
    """
    if screenshot is not None:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        why = _check_writable(screenshot)
        if why:
            _say(why)
            return 1
    elif not has_display():
        _say(
            "no display found (DISPLAY / WAYLAND_DISPLAY are not set): run it on a desktop, "
            "under `xvfb-run cnnviz`, or render a picture with `cnnviz --screenshot out.png`"
        )
        return 2
    elif missing := missing_x11_packages():
        _say(
            f"Qt's X11 support needs system libraries that are missing: {' '.join(missing)} "
            f"(Debian/Ubuntu: apt-get install {' '.join(missing)})"
        )
        return 2

    app = _application()
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen" and "pytest" not in sys.modules:
        _quiet_offscreen_messages()
    from ..view_state import ViewState
    from .main_window import MainWindow
    from .store import StateStore

    if screenshot is not None:
        return _screenshot(
            app,
            MainWindow,
            file,
            settings or Settings(),
            screenshot,
            window_size or SCREENSHOT_SIZE,
            ViewState(),
            deck,
            deck_index,
        )

    store = StateStore()
    if reset:
        store.clear()
    chosen = settings or store.settings() or Settings()
    window = MainWindow(chosen, store.view_state(), store=store, file=file, restore_layout=not reset)
    if window_size is not None:
        window.resize(*window_size)
    window.show()
    if deck is not None:
        window.lecture.open(deck, deck_index, full_screen=True)
    keep = _close_on_ctrl_c(window)  # noqa: F841 - the timer must live as long as the loop
    code = app.exec()
    if not window._closed:  # the loop ended without a close (e.g. the session ended): keep the state
        window.save_state()
    window.shutdown()
    return int(code)


def _close_on_ctrl_c(window):
    """Ctrl+C in the terminal closes the window like its close button (state saved). Python
    handles signals only while it runs, so a timer wakes it a few times a second."""
    import signal

    from PySide6.QtCore import QTimer

    try:
        signal.signal(signal.SIGINT, lambda *_: window.close())
    except ValueError:  # not the main thread (embedded use): leave signals alone
        return None
    timer = QTimer()
    timer.timeout.connect(lambda: None)
    timer.start(250)
    return timer


def _screenshot(app, MainWindow, file, settings, path, size, view, deck=None, deck_index=0) -> int:
    from PySide6.QtCore import QTimer

    from ..errors import InputError
    from ..paths import SAMPLE_IMAGE
    from .source import Source

    if file is not None:  # a bad FILE is an error here, not a dialog nobody sees
        try:
            Source(Path(file).name, path=file).fit(settings.size)
        except InputError as err:
            _say(str(err))
            return 1
    window = MainWindow(settings, view, store=None, file=file or str(SAMPLE_IMAGE))
    window.resize(*size)
    window.show()
    if deck is not None:  # as the hall sees it: full screen has no menu bar
        window.menuBar().hide()
        window.lecture.open(deck, deck_index)
    outcome: dict[str, int] = {}

    def on_drawn(generation: int, result) -> None:
        if "code" in outcome or generation < window.worker.latest_generation:
            return
        if result is None:  # the computation failed: the banner holds the reason
            outcome["code"] = 1
            _say(f"cannot compute: {window.banner.text().removeprefix('⚠ cannot compute: ')}")
            app.quit()
            return
        # Let the layout settle and paint once before grabbing.
        QTimer.singleShot(50, save)

    def save() -> None:
        app.processEvents()
        image = window.grab().toImage()
        if not image.save(path, "PNG"):
            _say(f"cannot write screenshot {path}")
            outcome["code"] = 1
        else:
            outcome["code"] = 0
        app.quit()

    def give_up() -> None:
        if "code" not in outcome:
            _say("no result was drawn in time; screenshot not written")
            outcome["code"] = 1
            app.quit()

    window.result_drawn.connect(on_drawn)
    QTimer.singleShot(SCREENSHOT_TIMEOUT_MS, give_up)
    app.exec()
    window.shutdown()
    window.close()
    return int(outcome.get("code", 1))
