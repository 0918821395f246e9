"""Starting the window: ``launch`` is what ``cnnviz`` (and ``cnnviz FILE``) calls.

With ``screenshot`` the window is rendered offscreen at a fixed size from the given settings
(never the saved state), saved once the first result is drawn (PNG, JPEG, WebP or any format
Qt can write, by the extension; atomically, never over an input), and closed: the same
picture on every machine, for docs, tests and slides. Errors are one line starting with
``cnnviz: error:`` like the CLI's; SIGINT and SIGTERM exit 130 and 143 with one line.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..settings import Settings

if TYPE_CHECKING:
    from ..io.camera import CameraInfo

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


# Screenshot formats by extension; any other format Qt's QImageWriter has a plugin for works too.
_FORMAT_ALIASES = {"jpg": "jpeg", "jpe": "jpeg", "tif": "tiff"}


def screenshot_format(path: str | os.PathLike[str]) -> str:
    """The image format ``path``'s extension names (``png``, ``jpeg``, ``webp``, ...), as Qt's
    writer calls it; ExportError in one line when Qt cannot write it. Needs a QGuiApplication."""
    from PySide6.QtGui import QImageWriter

    from ..errors import ExportError

    suffix = Path(path).suffix.lower().lstrip(".")
    writable = sorted(
        {bytes(f.data()).decode("ascii", "replace").lower() for f in QImageWriter.supportedImageFormats()}
    )
    fmt = _FORMAT_ALIASES.get(suffix, suffix)
    if fmt in writable or (suffix in writable):
        return fmt if fmt in writable else suffix
    common = [f".{f}" for f in ("png", "jpg", "webp") if _FORMAT_ALIASES.get(f, f) in writable]
    others = [f".{f}" for f in writable if f".{f}" not in common and f not in ("jpeg",)]
    why = f"cnnviz cannot write '.{suffix}' images" if suffix else "the name needs an image extension"
    raise ExportError(f"cannot write screenshot {path}: {why} (use {', '.join(common)}; also {', '.join(others)})")


def encode_image(image, fmt: str) -> bytes:
    """A QImage encoded as ``fmt`` (see :func:`screenshot_format`) in memory: the file itself is
    then written by :func:`cnnviz.io.files.atomic_write`, whose errors say what went wrong."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QImageWriter

    from ..errors import ExportError

    array = QByteArray()
    buffer = QBuffer(array)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QImageWriter(buffer, fmt.encode("ascii"))
    if not writer.write(image):
        raise ExportError(f"cannot encode the screenshot as {fmt}: {writer.errorString()}")
    buffer.close()
    return bytes(array.data())


def _error(line: str) -> None:
    _say(f"error: {line}")


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            if stream is not None:
                stream.flush()


class _Run:
    """What one launch holds, so that a signal at any moment can stop it cleanly."""

    def __init__(self) -> None:
        self.window: Any = None  # the MainWindow, once it exists
        self.signal: int | None = None
        self.app: Any = None

    def on_signal(self, signum: int) -> None:
        """A signal while Qt's loop runs: quit the loop (the code after it cleans up). A second
        signal exits at once."""
        if self.signal is not None:  # the user insists: no cleanup beyond what the OS does
            from ..interrupt import Interrupted

            _say(Interrupted(signum).line)
            _flush()
            os._exit(128 + signum)
        self.signal = signum
        if self.app is not None:
            # exit(), not quit(): Qt 6's quit() closes every window first, and a closing window
            # waits for the running convolution; stop() decides how long to wait.
            self.app.exit(128 + signum)

    def stop(self, signum: int) -> int:
        """Cancel the computation, say one line; 128 + ``signum`` to exit with. When the compute
        thread is still inside a torch convolution, exit the process now rather than wait for it
        (a QThread destroyed while running would abort the interpreter's exit)."""
        from ..interrupt import Interrupted

        err = Interrupted(signum)
        finished = True
        if self.window is not None:
            for part in ("playback", "camera"):  # their decode and capture threads stop first
                with contextlib.suppress(Exception):
                    getattr(self.window, part).close()
            with contextlib.suppress(Exception):
                finished = self.window.worker.shutdown(timeout_ms=250)
        _say(err.line)
        _flush()
        if self.window is not None and not finished:
            os._exit(err.code)
        return err.code


def launch(
    *,
    file: str | None = None,
    settings: Settings | None = None,
    reset: bool = False,
    screenshot: str | None = None,
    window_size: tuple[int, int] | None = None,
    deck=None,
    deck_index: int = 0,
    inputs: Sequence[str | os.PathLike[str] | None] = (),
    frame: int | None = None,
    camera: CameraInfo | None = None,
) -> int:
    """Open the window and run until it is closed; returns the exit code.

    ``settings=None`` restores the saved state (or the defaults); ``reset`` forgets the saved
    state first. ``screenshot``: render offscreen at ``window_size`` (default 1600x900), save
    the image once the first result is drawn (the format its extension names), exit 0 (1 when
    it cannot be written or computed). The screenshot never replaces ``file``, the sample or
    any of ``inputs`` (e.g. the ``--settings`` file), and replaces an existing file atomically.
    Without a display (and no screenshot) one line says so and 2 is returned. SIGINT and
    SIGTERM stop it with one line and exit 130 or 143. ``deck`` (a :class:`~cnnviz.deck.Deck`)
    opens in lecture mode at step ``deck_index``, full screen (or, with ``screenshot``, renders
    that step). ``camera``: a :class:`~cnnviz.io.camera.CameraInfo` to show live (``cnnviz --camera``).
    """
    from .. import interrupt

    run = _Run()
    # A signal only records itself (and ends Qt's loop if it runs): raised as an exception it
    # could land inside an import of Qt or a Qt callback, where it would be printed and lost.
    with interrupt.handled(), interrupt.deliver_to(run.on_signal):
        code = _launch(run, file, settings, reset, screenshot, window_size, inputs, deck, deck_index, frame, camera)
        return run.stop(run.signal) if run.signal is not None else code


def _launch(
    run: _Run, file, settings, reset, screenshot, window_size, inputs, deck, deck_index, frame=None, camera=None
) -> int:
    from ..errors import ExportError

    if screenshot is not None:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from ..io.files import check_not_input, check_writable_target
        from ..paths import SAMPLE_IMAGE

        inputs = [*inputs, file or SAMPLE_IMAGE]
        try:
            check_writable_target(screenshot, "screenshot")
            check_not_input(screenshot, inputs)
        except ExportError as err:
            _error(str(err))
            return 1
    elif not has_display():
        _error(
            "no display found (DISPLAY / WAYLAND_DISPLAY are not set): run it on a desktop, "
            "under `xvfb-run cnnviz`, or render a picture with `cnnviz --screenshot out.png`"
        )
        return 2
    elif missing := missing_x11_packages():
        _error(
            f"Qt's X11 support needs system libraries that are missing: {' '.join(missing)} "
            f"(Debian/Ubuntu: apt-get install {' '.join(missing)})"
        )
        return 2

    app = _application()
    run.app = app
    if run.signal is not None:
        return 0  # launch() stops cleanly
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen" and "pytest" not in sys.modules:
        _quiet_offscreen_messages()
    return _gui(run, app, file, settings, reset, screenshot, window_size, inputs, deck, deck_index, frame, camera)


def _gui(
    run: _Run, app, file, settings, reset, screenshot, window_size, inputs, deck, deck_index, frame=None, camera=None
) -> int:
    from ..errors import ExportError

    if screenshot is not None:
        try:
            fmt = screenshot_format(screenshot)
        except ExportError as err:
            _error(str(err))
            return 1
        settings = settings or Settings()
        return _screenshot(run, app, file, settings, screenshot, fmt, window_size, inputs, deck, deck_index, frame)

    window, _store = open_window(settings=settings, file=file, reset=reset, window_size=window_size, frame=frame)
    run.window = window
    if run.signal is not None:
        return 0  # launch() stops cleanly
    fit_to_screen(window)
    window.show()
    if deck is not None:
        window.lecture.open(deck, deck_index, full_screen=True)
    if camera is not None:
        window.camera.open(camera)  # a camera that fails says so in the window, which stays
    code = _exec(run, app)
    if run.signal is not None:
        if not window._closed:
            window.save_state()  # Ctrl+C in the terminal keeps the state, like the close button
        return 0  # launch() stops cleanly
    if not window._closed:  # the loop ended without a close (e.g. the session ended): keep the state
        window.save_state()
    window.shutdown()
    return int(code)


def fit_to_screen(window, available=None) -> None:
    """Make ``window`` no larger than the screen's free area (``available``, a QRect; default: that
    of the window's screen) before it is shown: a 1280x720 projector gets a 1280x720 window, not
    the 1600x900 default hanging off its edges, and what the window lays out for its height (the
    over-time dock of a clip opens only from 800 pixels) is decided for the screen it is on."""
    if available is None:
        screen = window.screen()
        if screen is None:
            return
        available = screen.availableGeometry()
    w, h = min(window.width(), available.width()), min(window.height(), available.height())
    if (w, h) != (window.width(), window.height()):
        window.resize(w, h)
        window.move(available.topLeft())


def open_window(
    *,
    settings: Settings | None = None,
    file: str | None = None,
    reset: bool = False,
    window_size: tuple[int, int] | None = None,
    frame: int | None = None,
):
    """The main window as a plain launch makes it (not yet shown), and its store.

    ``settings=None`` restores the saved state; whatever in it is invalid falls back to its
    default, and the store's one-line account of that goes to the status bar (and stderr).
    """
    from .main_window import MainWindow
    from .store import StateStore

    store = StateStore()
    if reset:
        store.clear()
    chosen = settings or store.settings() or Settings()
    view = store.view_state()
    window = MainWindow(chosen, view, store=store, file=file, frame=frame, restore_layout=not reset)
    if window_size is not None:
        window.resize(*window_size)
    line = store.status_line()
    if line:
        window.statusBar().showMessage(line, 20_000)
        _say(f"warning: {line}")
    return window, store


def _exec(run: _Run, app) -> int:
    """``app.exec()`` with signals turned into a clean quit; a timer lets Python run its handlers."""
    from PySide6.QtCore import QTimer

    from .. import interrupt

    if run.signal is not None:  # it came while the window was built: never enter the loop
        return 0
    tick = QTimer()
    tick.timeout.connect(lambda: None)
    tick.start(100)
    try:
        with interrupt.deliver_to(run.on_signal):
            return int(app.exec())
    finally:
        tick.stop()


def _screenshot(run: _Run, app, file, settings, path, fmt, size, inputs, deck=None, deck_index=0, frame=None) -> int:
    from PySide6.QtCore import QTimer

    from ..errors import CnnvizError, ExportError, InputError
    from ..io.files import atomic_write
    from ..paths import SAMPLE_IMAGE
    from ..view_state import ViewState
    from .main_window import MainWindow
    from .source import Source

    if file is not None:  # a bad FILE is an error here, not a dialog nobody sees
        try:
            Source(Path(file).name, path=file, frame_index=frame).fit(settings.size)
        except InputError as err:
            _error(str(err))
            return 1
    window = MainWindow(settings, ViewState(), store=None, file=file or str(SAMPLE_IMAGE), frame=frame)
    run.window = window
    window.resize(*(size or SCREENSHOT_SIZE))
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
            _error(f"cannot compute: {window.banner.text().removeprefix('⚠ cannot compute: ')}")
            app.quit()
            return
        # Let the layout settle and paint once before grabbing.
        QTimer.singleShot(50, save)

    def save() -> None:
        app.processEvents()
        image = window.grab().toImage()
        try:
            data = encode_image(image, fmt)

            def write(f) -> None:
                f.write(data)
                if run.signal is not None:  # interrupted meanwhile: leave no file behind
                    raise ExportError("interrupted")

            atomic_write(path, write, inputs=inputs, what="screenshot")
        except CnnvizError as err:
            if run.signal is None:
                _error(str(err))
            outcome["code"] = 1
        else:
            outcome["code"] = 0
        app.quit()

    def give_up() -> None:
        if "code" not in outcome:
            _error("no result was drawn in time; screenshot not written")
            outcome["code"] = 1
            app.quit()

    window.result_drawn.connect(on_drawn)
    QTimer.singleShot(SCREENSHOT_TIMEOUT_MS, give_up)
    _exec(run, app)
    if run.signal is not None:
        return 0  # launch() stops cleanly
    window.shutdown()
    window.close()
    return int(outcome.get("code", 1))
