"""The saved state can never stop the window from starting: each kind of garbage is written into
the store, the window is opened as a plain launch opens it, and it starts with that value at its
default and one line saying so in the status bar."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from cnnviz.settings import Settings
from cnnviz.view_state import ViewState

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform's notice

GOOD = json.loads(Settings(size=64, depth=3, channels=8).to_json())


def scene(**settings) -> str:
    data = json.loads(json.dumps(GOOD))
    data["settings"].update(settings)
    return json.dumps(data)


def write_state(folder: Path, **values) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    q = QSettings(str(folder / "cnnviz.ini"), QSettings.Format.IniFormat)
    for key, value in values.items():
        q.setValue(key, value)
    q.sync()


def open_and_check(qtbot, settle):
    """Open the window as ``cnnviz`` does; it must show, compute and be closable."""
    from cnnviz.gui.app import open_window

    window, store = open_window()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    settle(window)
    return window, store


def close(window) -> None:
    window.close()
    assert window.worker._thread.isFinished()


NESTED = "[" * 100_000 + "]" * 100_000
GARBAGE = {
    "depth 10^9": ({"settings": scene(depth=10**9)}, "depth", Settings(size=64, channels=8)),
    "5000-digit seed": (
        {"settings": scene().replace('"seed": 0', '"seed": ' + "9" * 5000)},
        "seed",
        Settings(size=64, depth=3, channels=8),
    ),
    "zoom 10^300": ({"settings": scene(), "view": '{"zoom": 1' + "0" * 300 + "}"}, "zoom", None),
    "nested 100000 deep": ({"settings": NESTED}, "nested", Settings()),
    "binary bytes": ({"settings": "\x00\xff\ufffd{" * 50}, "JSON", Settings()),
    "not text": ({"settings": ["a", "b"]}, "not text", Settings()),
    "view not JSON": ({"settings": scene(), "view": "{{{"}, "view", None),
}


@pytest.mark.parametrize("kind", list(GARBAGE))
def test_garbage_in_the_saved_state_falls_back_with_one_line(qtbot, settle, private_config, kind):
    values, needle, expected = GARBAGE[kind]
    write_state(private_config, **values)
    window, _ = open_and_check(qtbot, settle)
    message = window.statusBar().currentMessage()
    assert needle.lower() in message.lower() and "\n" not in message and len(message) < 400
    if expected is not None:
        assert window.settings == expected
    assert isinstance(window.view, ViewState)
    close(window)


def test_a_last_file_that_is_a_named_pipe_is_ignored(qtbot, settle, private_config, tmp_path):
    fifo = tmp_path / "photo.png"
    os.mkfifo(fifo)
    write_state(private_config, settings=scene(), last_file=str(fifo), recent_files=[str(fifo)])
    window, _ = open_and_check(qtbot, settle)  # a hang here is the bug
    assert window.source is not None and window.source.path != str(fifo)
    assert "not a regular file" in window.statusBar().currentMessage()
    assert str(fifo) not in window.recent
    close(window)


def test_a_state_file_that_is_a_named_pipe_is_not_read(qtbot, settle, private_config):
    private_config.mkdir()
    os.mkfifo(private_config / "cnnviz.ini")
    window, _ = open_and_check(qtbot, settle)
    assert "not a regular file" in window.statusBar().currentMessage()
    close(window)
    assert not (private_config / "cnnviz.ini").is_file()  # still the pipe: nothing written over it


def test_config_dir_that_is_a_file_starts_without_saved_state(qtbot, settle, monkeypatch, tmp_path):
    config = tmp_path / "not-a-folder"
    config.write_bytes(b"a user's file")
    monkeypatch.setenv("CNNVIZ_CONFIG_DIR", str(config))
    window, _ = open_and_check(qtbot, settle)
    assert "not a folder" in window.statusBar().currentMessage()
    close(window)
    assert config.read_bytes() == b"a user's file"


def test_a_read_only_config_folder_is_said_once(qtbot, settle, private_config, monkeypatch):
    from cnnviz.gui import store

    write_state(private_config, settings=scene())
    monkeypatch.setattr(store.os, "access", lambda path, mode: False)  # as for a user without write access
    window, st = open_and_check(qtbot, settle)
    assert "read-only" in window.statusBar().currentMessage()
    assert sum("read-only" in m for m in st.messages) == 1
    close(window)


def test_a_real_launch_with_a_damaged_state_starts(private_config):
    write_state(private_config, settings=scene(depth=10**9), view='{"zoom": 1e999}', last_file="\x00")
    code = (
        "import sys\n"
        "from PySide6.QtCore import QTimer\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication(['cnnviz'])\n"
        "QTimer.singleShot(4000, app.quit)\n"
        "from cnnviz.gui.app import launch\n"
        "raise SystemExit(launch())\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CNNVIZ_CONFIG_DIR=str(private_config))
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("cnnviz: warning: saved")]
    assert len(warnings) == 1 and "depth" in warnings[0]
    # the state saved at the end is valid again
    q = QSettings(str(private_config / "cnnviz.ini"), QSettings.Format.IniFormat)
    saved = Settings.from_json(q.value("settings"))
    assert saved.depth == Settings().depth and saved.channels == 8  # the bad field at its default, the rest kept
