"""`--screenshot` never destroys what the user made: not an input, not the old file on a failed
write, not a pipe; the format is the one the extension names. Every damaged-looking case checks
the files it could have harmed byte for byte afterwards."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnviz.paths import SAMPLE_VIDEO

SMALL = ["--size", "64", "--depth", "3", "--channels", "8"]


def cnnviz(*argv, cwd, preexec_fn=None, timeout=180):
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env["CNNVIZ_CONFIG_DIR"] = str(Path(cwd) / "config")
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return subprocess.run(
        [sys.executable, "-m", "cnnviz", *map(str, argv)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=preexec_fn,
    )


def one_error_line(proc) -> str:
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith("cnnviz: error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc.stderr


@pytest.fixture
def photo(tmp_path) -> Path:
    path = tmp_path / "my_photo.png"
    rng = np.random.default_rng(1)
    Image.fromarray((rng.random((80, 100, 3)) * 255).astype(np.uint8)).save(path)
    return path


def test_screenshot_over_its_own_input_is_refused(photo, tmp_path):
    before = photo.read_bytes()
    err = one_error_line(cnnviz(photo.name, "--screenshot", photo.name, cwd=tmp_path))
    assert "one of this command's inputs" in err
    assert photo.read_bytes() == before


@pytest.mark.parametrize("kind", ["symlink", "hardlink"])
def test_screenshot_through_a_link_to_the_input_is_refused(photo, tmp_path, kind):
    before = photo.read_bytes()
    link = tmp_path / "shot.png"
    (os.symlink if kind == "symlink" else os.link)(photo, link)
    err = one_error_line(cnnviz(photo, "--screenshot", link, cwd=tmp_path))
    assert "inputs" in err
    assert photo.read_bytes() == before


def test_screenshot_over_the_settings_file_is_refused(tmp_path):
    settings = tmp_path / "lesson.json"
    settings.write_text('{"size": 64, "depth": 3}')
    before = settings.read_bytes()
    err = one_error_line(cnnviz("--settings", settings, "--screenshot", "lesson.json", cwd=tmp_path))
    assert "lesson.json" in err and "inputs" in err
    assert settings.read_bytes() == before


def test_screenshot_over_the_input_video_is_refused(tmp_path):
    video = tmp_path / "clip.mp4"
    video.write_bytes(SAMPLE_VIDEO.read_bytes())
    before = video.read_bytes()
    one_error_line(cnnviz(video, "--screenshot", video, cwd=tmp_path))
    assert video.read_bytes() == before


def test_screenshot_to_a_named_pipe_is_one_line_not_a_hang(tmp_path):
    fifo = tmp_path / "shot.png"
    os.mkfifo(fifo)
    err = one_error_line(cnnviz("--screenshot", fifo, *SMALL, cwd=tmp_path, timeout=60))
    assert "not a regular file" in err


@pytest.mark.parametrize("name", ["shot.xyz", "shot"])
def test_unknown_extension_is_one_line_naming_the_formats(tmp_path, name):
    err = one_error_line(cnnviz("--screenshot", name, *SMALL, cwd=tmp_path, timeout=60))
    assert ".png" in err and ".jpg" in err and ".webp" in err
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize(("name", "magic"), [("shot.jpg", b"\xff\xd8\xff"), ("shot.webp", b"RIFF")])
def test_the_extension_names_the_format(tmp_path, name, magic):
    proc = cnnviz("--screenshot", name, *SMALL, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = (tmp_path / name).read_bytes()
    assert data.startswith(magic)
    with Image.open(tmp_path / name) as im:
        assert im.size == (1600, 900)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "config") == [name]  # no temporary left


def _limit_file_size():
    """In the child: files may not grow past 20 kB (a screenshot is ~200 kB); SIGXFSZ ignored so
    the write fails with EFBIG, as on a full disk, instead of killing the process."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def test_a_failed_write_leaves_the_old_file_whole(tmp_path, photo):
    old = tmp_path / "existing.png"
    old.write_bytes(photo.read_bytes())
    before = old.read_bytes()
    err = one_error_line(cnnviz("--screenshot", old.name, *SMALL, cwd=tmp_path, preexec_fn=_limit_file_size))
    assert "existing.png" in err and "too large" in err.lower()
    assert old.read_bytes() == before
    with Image.open(old) as im:
        im.load()  # still decodes
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "config") == ["existing.png", "my_photo.png"]


def test_an_explicit_output_that_is_no_input_is_replaced_atomically(tmp_path):
    out = tmp_path / "out.png"
    out.write_bytes(b"an older screenshot")
    proc = cnnviz("--screenshot", out.name, *SMALL, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    with Image.open(out) as im:
        assert im.format == "PNG"


def test_help_states_the_convention():
    from cnnviz.cli import SCREENSHOT_HELP

    assert "atomically" in SCREENSHOT_HELP and "inputs" in SCREENSHOT_HELP and ".jpg" in SCREENSHOT_HELP
