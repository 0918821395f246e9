"""The window's saved state: Settings (as its JSON), ViewState, layout, last and recent files.

Stored with QSettings under organisation/application ``cnnviz``. Setting the environment
variable ``CNNVIZ_CONFIG_DIR`` keeps everything in ``$CNNVIZ_CONFIG_DIR/cnnviz.ini`` instead,
which is how the tests keep off a user's real state.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from ..errors import SettingsError
from ..settings import Settings
from ..view_state import ViewState

ORGANISATION = "cnnviz"
APPLICATION = "cnnviz"
CONFIG_ENV = "CNNVIZ_CONFIG_DIR"
MAX_RECENT = 8


def qsettings() -> QSettings:
    folder = os.environ.get(CONFIG_ENV)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return QSettings(str(Path(folder) / "cnnviz.ini"), QSettings.Format.IniFormat)
    return QSettings(ORGANISATION, APPLICATION)


class StateStore:
    """Reads and writes the saved state; every read tolerates a missing or damaged value."""

    def __init__(self) -> None:
        self._q = qsettings()

    def clear(self) -> None:
        self._q.clear()
        self._q.sync()

    def settings(self) -> Settings | None:
        text = self._q.value("settings")
        if not isinstance(text, str) or not text:
            return None
        try:
            return Settings.from_json(text)
        except SettingsError:
            return None

    def view_state(self) -> ViewState:
        text = self._q.value("view")
        return ViewState.from_json(text) if isinstance(text, str) else ViewState()

    def last_file(self) -> str | None:
        value = self._q.value("last_file")
        return value if isinstance(value, str) and value else None

    def recent_files(self) -> list[str]:
        value = self._q.value("recent_files")
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            return []
        return [v for v in value if isinstance(v, str) and v][:MAX_RECENT]

    def bytes(self, key: str) -> QByteArray | None:
        value = self._q.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def save(
        self,
        *,
        settings: Settings,
        view: ViewState,
        last_file: str | None,
        recent: list[str],
        layout: dict[str, QByteArray],
    ) -> None:
        self._q.setValue("settings", settings.to_json())
        self._q.setValue("view", view.to_json())
        self._q.setValue("last_file", last_file or "")
        self._q.setValue("recent_files", list(recent[:MAX_RECENT]))
        for key, value in layout.items():
            self._q.setValue(key, value)
        self._q.sync()
