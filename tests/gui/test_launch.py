"""Starting the window: the screenshot mode, an unwritable screenshot path, no display."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
from PIL import Image

from cnnviz.gui.app import launch


def test_screenshot_is_not_blank_and_has_the_window_size(tmp_path, private_config):
    out = tmp_path / "window.png"
    code = (
        "from cnnviz.gui.app import launch\n"
        "from cnnviz.settings import Settings\n"
        f"raise SystemExit(launch(screenshot={str(out)!r}, settings=Settings(size=64, depth=3, channels=8)))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}  # launch must set it itself
    env["CNNVIZ_CONFIG_DIR"] = str(private_config)
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    image = np.asarray(Image.open(out).convert("RGB"), dtype=np.float32)
    assert image.shape == (900, 1600, 3)
    # Not blank: the grid area (centre) and the curves (right) both hold structure.
    for region in (image[150:800, 400:1000], image[150:800, 1050:1580]):
        assert region.std() > 20
        assert len(np.unique(region.reshape(-1, 3), axis=0)) > 200
    # Screenshots never touch the saved state.
    assert not (private_config / "cnnviz.ini").exists()


def test_unwritable_screenshot_path_is_one_line_and_exit_1(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    code = launch(screenshot=str(tmp_path / "no-such-folder" / "x.png"))
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and "no-such-folder" in err


def test_no_display_is_one_clear_line_and_exit_2(capsys, monkeypatch):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert launch() == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "no display" in err and "xvfb-run" in err and "--screenshot" in err
