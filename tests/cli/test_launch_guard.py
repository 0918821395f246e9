"""Before Qt starts: a missing display or X11 library is one line and exit 2, never Qt's abort."""

from __future__ import annotations

import ctypes.util

from cnnviz.gui import app


def test_missing_x11_library_is_named_in_one_line(monkeypatch, capsys):
    monkeypatch.setattr(app.sys, "platform", "linux")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":42")
    real = ctypes.util.find_library
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None if name == "xcb-icccm" else real(name) or "x")
    assert app.launch() == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "libxcb-icccm4" in err and "apt-get install" in err


def test_no_display_is_one_line(monkeypatch, capsys):
    monkeypatch.setattr(app.sys, "platform", "linux")
    for var in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "DISPLAY"):
        monkeypatch.delenv(var, raising=False)
    assert app.launch() == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--screenshot" in err
