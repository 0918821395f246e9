"""Ctrl+C and SIGTERM at start-up, during `--screenshot` and during `cnnviz stats`: one line, exit
130 or 143 before the work is done, no traceback, no "QThread destroyed", no output left behind. A full or closed
standard output is one line on stderr and a non-zero exit. Inputs that would block are refused."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Minutes of work on the development machine: a signal always lands inside the computation.
HEAVY = ["--size", "1024", "--channels", "256", "--kernel", "15", "--depth", "10"]
# Only a guard against a hang: a loaded machine may take long to start Python and torch. That the
# process stopped early is shown by what it did (exit code, no result), never by a stopwatch.
HANG_GUARD_S = 300


def env(tmp_path) -> dict:
    e = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    e["PYTHONPATH"] = str(ROOT)
    e["CNNVIZ_CONFIG_DIR"] = str(tmp_path / "config")
    return e


def interrupt_after(tmp_path, argv, delay: float, sig: int, ready: str | None = None):
    """Start ``cnnviz argv``, send ``sig`` after ``delay`` s (or once stderr shows ``ready``);
    returns (exit code, stdout, stderr) once the process has ended by itself."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "cnnviz", *map(str, argv)],
        cwd=tmp_path,
        env=env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    err = ""
    if ready is not None:
        err = proc.stderr.readline()
        assert ready in err, err
    time.sleep(delay)
    proc.send_signal(sig)
    try:
        out, rest = proc.communicate(timeout=HANG_GUARD_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"the process did not stop within {HANG_GUARD_S} s of the signal")
    return proc.returncode, out, err + rest


def assert_clean(code, out, err, sig, tmp_path, left=()):
    """Stopped by the signal, not by finishing: its exit code, one line, no result printed, no file
    but ``left`` (and the private config folder) in its working folder: no temporary."""
    assert code == 128 + sig, err
    assert "Traceback" not in err and "QThread" not in err, err
    lines = [line for line in err.splitlines() if not line.startswith("cnnviz: note:")]
    assert lines == ["cnnviz: interrupted" if sig == signal.SIGINT else "cnnviz: terminated"], err
    assert out == ""  # the computation never finished: nothing was printed
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "config") == sorted(left)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_screenshot_stops_it_cleanly(tmp_path, sig):
    old = tmp_path / "shot.png"
    old.write_bytes(b"the previous screenshot")
    code, out, err = interrupt_after(tmp_path, ["--screenshot", old.name, *HEAVY], 8.0, sig)
    assert_clean(code, out, err, sig, tmp_path, left=["shot.png"])
    assert old.read_bytes() == b"the previous screenshot"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_start_up_stops_it_cleanly(tmp_path, sig):
    code, out, err = interrupt_after(tmp_path, ["--screenshot", "new.png", *HEAVY], 0.8, sig)
    assert_clean(code, out, err, sig, tmp_path)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_stats_stops_inside_a_long_convolution(tmp_path, sig):
    code, out, err = interrupt_after(tmp_path, ["stats", *HEAVY], 2.0, sig, ready="cnnviz: note:")
    assert_clean(code, out, err, sig, tmp_path)


def shell(tmp_path, command: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["sh", "-c", command], cwd=tmp_path, env=env(tmp_path), capture_output=True, text=True, timeout=120
    )


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("extra", ["", "--json"])
def test_a_full_standard_output_is_one_line(tmp_path, extra):
    proc = shell(tmp_path, f"'{sys.executable}' -m cnnviz stats --size 64 --depth 3 {extra} > /dev/full")
    assert proc.returncode == 1
    assert proc.stderr == "cnnviz: error: cannot write to standard output: No space left on device\n"


def test_a_closed_standard_output_is_one_line(tmp_path):
    proc = shell(tmp_path, f"'{sys.executable}' -m cnnviz stats --size 64 --depth 3 >&-")
    assert proc.returncode == 1
    assert proc.stderr == "cnnviz: error: cannot write to standard output: it is closed\n"


def test_a_closed_pipe_is_quiet(tmp_path):
    proc = shell(tmp_path, f"'{sys.executable}' -m cnnviz stats --size 64 --depth 3 | head -1")
    assert proc.returncode == 0 and proc.stderr == ""


@pytest.mark.parametrize("name", ["image.png", "anim.gif", "clip.mp4"])
@pytest.mark.parametrize("command", ["stats", "window"])
def test_a_named_pipe_as_input_is_one_line_not_a_hang(tmp_path, name, command):
    fifo = tmp_path / name
    os.mkfifo(fifo)
    argv = ["stats", name] if command == "stats" else [name, "--screenshot", "out.png"]
    proc = subprocess.run(
        [sys.executable, "-m", "cnnviz", *argv, "--size", "64", "--depth", "3"],
        cwd=tmp_path,
        env=env(tmp_path),
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("cnnviz: error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert "not a regular file" in proc.stderr
    assert not (tmp_path / "out.png").exists()


def test_window_path_errors_start_like_the_cli(tmp_path, capsys, monkeypatch):
    from cnnviz.gui.app import launch

    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert launch(screenshot=str(tmp_path / "missing" / "x.png")) == 1
    assert capsys.readouterr().err.startswith("cnnviz: error: ")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_to_the_open_window_keeps_its_state_and_exits(tmp_path, sig):
    code = (
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication(['cnnviz'])\n"
        "from PySide6.QtCore import QTimer\n"
        "import sys\n"
        "QTimer.singleShot(0, lambda: print('loop running', file=sys.stderr, flush=True))\n"
        "from cnnviz.gui.app import launch\n"
        "from cnnviz.settings import Settings\n"
        "raise SystemExit(launch(settings=Settings(size=64, depth=3, channels=8)))\n"
    )
    e = env(tmp_path) | {"QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path, env=e, stderr=subprocess.PIPE, text=True)
    assert proc.stderr.readline() == "loop running\n"
    time.sleep(1)
    proc.send_signal(sig)
    err = proc.communicate(timeout=HANG_GUARD_S)[1]
    assert proc.returncode == 128 + sig, err
    assert "Traceback" not in err and "QThread" not in err
    assert err.splitlines()[-1] == ("cnnviz: interrupted" if sig == signal.SIGINT else "cnnviz: terminated")
    assert (tmp_path / "config" / "cnnviz.ini").is_file()  # the state was saved, as on closing the window


def test_numpy_floating_point_warnings_never_reach_the_console(monkeypatch):
    import warnings

    import numpy as np

    import cnnviz.cli as cli

    def overflowing(argv, out, err):
        np.array([1e308]) * 10  # what an exploding network's statistics can do
        np.array([0.0]) / 0.0
        return 0

    monkeypatch.setattr(cli, "cmd_stats", overflowing)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert cli.main(["stats"], out=io.StringIO(), err=io.StringIO()) == 0
    assert not [w for w in seen if issubclass(w.category, RuntimeWarning)]


def test_the_waiting_line_of_a_long_run_shows_how_far_the_engine_is():
    from cnnviz.cli import interruptible

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    err = Terminal()
    got = interruptible(lambda cancel: time.sleep(1.5) or 42, err, seconds=100.0, progress=lambda: 0.35)
    assert got == 42
    assert re.search(r"computing: 35% after \d+ s of roughly 100 s \(Ctrl\+C stops\)", err.getvalue())
