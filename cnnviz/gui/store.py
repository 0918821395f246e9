"""The window's saved state: Settings (as its JSON), ViewState, layout, last and recent files.

Stored with QSettings under organisation/application ``cnnviz``. Setting the environment
variable ``CNNVIZ_CONFIG_DIR`` keeps everything in ``$CNNVIZ_CONFIG_DIR/cnnviz.ini`` instead,
which is how the tests keep off a user's real state.

The saved state can never stop the app. Every value read back is validated like a settings
file (:meth:`Settings.lenient`, :meth:`ViewState.lenient`); an invalid one falls back to its
default and :attr:`StateStore.messages` says so in one line each, for the status bar. A state
file that is not a regular file (a named pipe would block QSettings forever) or is far too
large is not read; a config folder that cannot be made or written is said once.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

from ..errors import SettingsError
from ..scene import Scene, parse_json
from ..settings import Settings
from ..untrusted import clip
from ..view_state import ViewState

ORGANISATION = "cnnviz"
APPLICATION = "cnnviz"
CONFIG_ENV = "CNNVIZ_CONFIG_DIR"
MAX_RECENT = 8
STATE_FILE_LIMIT = 4 << 20  # the state is a few kB (window geometry and dock layout included)
TEXT_LIMIT = 1 << 20  # one value (the settings JSON)
PATH_LIMIT = 4096


def state_file() -> Path | None:
    """Where QSettings keeps the state (None where it is not a file, e.g. the Windows registry)."""
    folder = os.environ.get(CONFIG_ENV)
    if folder:
        return Path(folder) / "cnnviz.ini"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Preferences" / f"com.{ORGANISATION}.{APPLICATION}.plist"
    if sys.platform.startswith("win"):
        return None
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericConfigLocation)
    return Path(base or Path.home() / ".config") / ORGANISATION / f"{APPLICATION}.conf"


def _open(messages: list[str]) -> QSettings | None:
    """The QSettings to use, or None (no saved state this time) with the reason in ``messages``."""
    path = state_file()
    folder = os.environ.get(CONFIG_ENV)
    if folder:
        f = Path(folder)
        if f.exists() and not f.is_dir():
            messages.append(f"{CONFIG_ENV}={clip(folder)} is not a folder: the window state is not saved this time")
            return None
        try:
            f.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            why = err.strerror or type(err).__name__
            messages.append(f"cannot make the config folder {clip(folder)} ({why}): the window state is not saved")
            return None
    if path is not None:
        try:
            st = path.stat()
        except FileNotFoundError:
            st = None
        except OSError as err:
            messages.append(f"cannot read the saved state {path} ({err.strerror}): starting from the defaults")
            return None
        if st is not None and not stat.S_ISREG(st.st_mode):
            messages.append(f"the saved state {path} is not a regular file: not read, not saved")
            return None
        if st is not None and st.st_size > STATE_FILE_LIMIT:
            messages.append(f"the saved state {path} is {st.st_size >> 20} MB, not a cnnviz state: not read")
            return None
        parent = path.parent
        writable = os.access(parent, os.W_OK) if parent.is_dir() else os.access(parent.parent, os.W_OK)
        if (st is not None and not os.access(path, os.W_OK)) or not writable:
            messages.append(f"the config folder {parent} is read-only: the window state will not be saved")
    if folder:
        q = QSettings(str(path), QSettings.Format.IniFormat)
    else:
        q = QSettings(ORGANISATION, APPLICATION)
    if q.status() == QSettings.Status.FormatError:
        messages.append(f"the saved state {q.fileName()} is damaged: starting from the defaults")
    return q


def qsettings() -> QSettings | None:
    """The QSettings of the saved state, or None when there is none this time (see :class:`StateStore`)."""
    return _open([])


def _one(what: str, problems: list[str]) -> str:
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"saved {what}: {clip(problems[0], 160)}{more}; using the default"


def read_settings(value: Any) -> tuple[Settings | None, list[str]]:
    """The saved ``settings`` value (a scene's JSON text) -> Settings, and what was dropped.

    Never raises: an unreadable value gives None (the caller's defaults) and a message; a
    readable one with bad fields keeps the good fields (:meth:`Settings.lenient`).
    """
    if value is None or value == "":
        return None, []
    if not isinstance(value, str):
        return None, [f"saved settings are not text ({type(value).__name__}): using the defaults"]
    if len(value) > TEXT_LIMIT:
        return None, ["saved settings are too large to be cnnviz settings: using the defaults"]
    try:
        data = parse_json(value, "saved settings")
    except SettingsError as err:
        return None, [f"{clip(str(err), 160)}; using the defaults"]
    try:
        return Scene.from_dict(data).settings, []
    except SettingsError as err:
        problem = str(err)
    except Exception as err:  # the saved state must never stop the app
        problem = f"{type(err).__name__}"
    if isinstance(data, dict):
        sub = data.get("settings", data) if "settings" in data else data
        try:
            settings, dropped = Settings.lenient(sub)
        except Exception:  # the saved state must never stop the app
            return None, [f"saved settings: {clip(problem, 160)}; using the defaults"]
        if dropped:
            return settings, [_one("settings", dropped)]
        return settings, []
    return None, [f"saved settings: {clip(problem, 160)}; using the defaults"]


def read_view(value: Any) -> tuple[ViewState, list[str]]:
    """The saved ``view`` value (JSON text) -> ViewState, each bad field at its default; never raises."""
    if value is None or value == "":
        return ViewState(), []
    if not isinstance(value, str) or len(value) > TEXT_LIMIT:
        return ViewState(), ["saved view is not readable text: using the defaults"]
    try:
        data = parse_json(value, "saved view")
    except SettingsError as err:
        return ViewState(), [f"{clip(str(err), 160)}; using the defaults"]
    try:
        view, dropped = ViewState.lenient(data)
    except Exception:
        return ViewState(), ["saved view is not readable: using the defaults"]
    if not dropped:
        return view, []
    return view, [f"saved {clip(', '.join(dropped), 160)}: not valid, using the default"]


def _path_text(value: Any) -> str | None:
    if isinstance(value, str) and value and len(value) <= PATH_LIMIT and "\0" not in value:
        return value
    return None


def _regular(path: str) -> bool | None:
    """True for a regular file, False for anything else that exists (pipe, device, folder), None if absent."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return None


class StateStore:
    """Reads and writes the saved state; every read tolerates a missing or damaged value.

    :attr:`messages` lists, one line each, what was wrong with the saved state (an invalid
    value replaced by its default, a config folder that cannot be used); the window shows
    them in its status bar.
    """

    def __init__(self) -> None:
        self.messages: list[str] = []
        self._q = _open(self.messages)

    def _note(self, lines: list[str]) -> None:
        for line in lines:
            if line not in self.messages:
                self.messages.append(line)

    def status_line(self) -> str | None:
        """All :attr:`messages` as one line, or None."""
        return " · ".join(self.messages) if self.messages else None

    def _value(self, key: str) -> Any:
        if self._q is None:
            return None
        try:
            return self._q.value(key)
        except Exception:  # a value Qt cannot convert is as good as none
            self._note([f"saved {key} cannot be read: using the default"])
            return None

    def clear(self) -> None:
        if self._q is None:
            return
        self._q.clear()
        self._q.sync()

    def settings(self) -> Settings | None:
        settings, problems = read_settings(self._value("settings"))
        self._note(problems)
        return settings

    def view_state(self) -> ViewState:
        view, problems = read_view(self._value("view"))
        self._note(problems)
        return view

    def last_file(self) -> str | None:
        """The last file opened, if it is still a regular file (never a pipe or a device)."""
        path = _path_text(self._value("last_file"))
        if path is None:
            return None
        regular = _regular(path)
        if regular is False:
            self._note([f"the last file, {clip(path)}, is not a regular file: not opened"])
            return None
        return path

    def recent_files(self) -> list[str]:
        value = self._value("recent_files")
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            return []
        paths = [p for p in (_path_text(v) for v in value[: 4 * MAX_RECENT]) if p is not None]
        return [p for p in paths if _regular(p) is not False][:MAX_RECENT]

    def bytes(self, key: str) -> QByteArray | None:
        value = self._value(key)
        if not isinstance(value, QByteArray) or value.isEmpty() or value.size() > STATE_FILE_LIMIT:
            return None
        return value

    def save(
        self,
        *,
        settings: Settings,
        view: ViewState,
        last_file: str | None,
        recent: list[str],
        layout: dict[str, QByteArray],
    ) -> None:
        if self._q is None:
            return
        self._q.setValue("settings", settings.to_json())
        self._q.setValue("view", view.to_json())
        self._q.setValue("last_file", last_file or "")
        self._q.setValue("recent_files", list(recent[:MAX_RECENT]))
        for key, value in layout.items():
            self._q.setValue(key, value)
        self._q.sync()
        if self._q.status() == QSettings.Status.AccessError:
            self._note([f"cannot save the window state to {self._q.fileName()} (not writable)"])
