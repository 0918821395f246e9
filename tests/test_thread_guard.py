"""The suite's thread guard (tests/conftest.py): a test that leaves a thread running fails, naming it;
a test that stops its threads passes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

GUARD = Path(__file__).with_name("conftest.py")

TESTS = """
import threading

from PySide6.QtCore import QThread

RELEASE = threading.Event()  # set by the last test: the leaked threads end before the session does
KEEP = []


class Waiter(QThread):
    def run(self):
        RELEASE.wait(120)


def test_leaves_a_qthread(qapp):
    t = Waiter()
    t.setObjectName("left-behind")
    t.start()
    KEEP.append(t)


def test_leaves_a_python_thread():
    threading.Thread(target=RELEASE.wait, args=(120,), name="forgotten", daemon=True).start()


def test_stops_its_threads(qapp):
    RELEASE.set()
    t = Waiter()
    t.start()
    t.wait()
    threading.Thread(target=lambda: None).start()
"""


def test_a_thread_left_running_fails_its_test_by_name(tmp_path):
    (tmp_path / "conftest.py").write_text(GUARD.read_text())
    (tmp_path / "test_threads.py").write_text(TESTS)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", "."],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = proc.stdout
    assert "left running after the test: QThread 'left-behind'" in out, out
    assert "left running after the test: thread 'forgotten'" in out, out
    assert "PASSED test_threads.py::test_stops_its_threads" in out, out
    assert "3 passed, 2 errors" in out, out  # the two leaks fail at teardown
