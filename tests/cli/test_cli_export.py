"""`cnnviz export`: the files a user gets, the files a user keeps, and one line for each mistake."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnviz.cli import main

SMALL = ["--size", "64", "--depth", "3", "--channels", "4"]
STEM = "pyramid_he_d3_J4_s0_n64"


def run_cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = main(list(map(str, argv)), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    rng = np.random.default_rng(5)
    path = tmp_path_factory.mktemp("img") / "photo.png"
    Image.fromarray((rng.random((80, 100, 3)) * 255).astype(np.uint8)).save(path)
    return path


@pytest.fixture(scope="module")
def exported(tmp_path_factory, photo):
    out = tmp_path_factory.mktemp("run") / "out"
    code, _, err = run_cli("export", photo, *SMALL, "--out", out, "--formats", "png,svg,csv,json", "--scale", "1")
    return code, err, out


def test_export_writes_every_figure_and_the_data_and_says_so_per_file(exported):
    code, err, out = exported
    assert code == 0, err
    names = sorted(p.name for p in out.iterdir())
    figures = ["grid", "variance", "gradient", "zeros", "equivariance", "histogram"]
    assert names == sorted(
        [f"{STEM}_{f}.{e}" for f in figures for e in ("png", "svg")] + [f"{STEM}.csv", f"{STEM}.json"]
    )
    wrote = [line for line in err.splitlines() if " wrote " in line]
    assert len(wrote) == len(names) and wrote[0].startswith("[1/14] wrote ")


def test_the_stamp_round_trips_to_an_identical_csv(exported, tmp_path):
    _, _, out = exported
    again = tmp_path / "again"
    code, _, err = run_cli("export", "--settings", out / f"{STEM}_grid.png", "--out", again, "--formats", "csv")
    assert code == 0, err  # the stamp names the input it was made from: no IMAGE needed
    assert (again / f"{STEM}.csv").read_bytes() == (out / f"{STEM}.csv").read_bytes()
    code, _, err = run_cli("export", "--settings", out / f"{STEM}.json", "--out", tmp_path / "j", "--formats", "csv")
    assert code == 0 and (tmp_path / "j" / f"{STEM}.csv").read_bytes() == (out / f"{STEM}.csv").read_bytes()


def test_a_non_empty_folder_is_refused_naming_the_file_unless_overwrite(exported, photo):
    _, _, out = exported
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    code, _, err = run_cli("export", photo, *SMALL, "--out", out, "--formats", "csv")
    assert code == 1 and err.count("\n") == 1
    assert f"{STEM}.csv would be replaced" in err and "--overwrite" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    code, _, err = run_cli("export", photo, *SMALL, "--out", out, "--formats", "csv", "--overwrite")
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == sorted(before)  # replaced in place, no temporary left


def test_a_folder_holding_other_files_is_refused_too(tmp_path, photo):
    (tmp_path / "notes.txt").write_text("mine")
    code, _, err = run_cli("export", photo, *SMALL, "--out", tmp_path, "--formats", "csv")
    assert code == 1 and "not empty" in err and "notes.txt" in err
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_an_output_that_is_an_input_is_refused_and_the_input_kept(tmp_path, photo):
    victim = tmp_path / f"{STEM}_grid.png"
    victim.write_bytes(photo.read_bytes())
    code, _, err = run_cli("export", victim, *SMALL, "--out", tmp_path, "--formats", "png", "--overwrite")
    assert code == 1 and "input" in err and err.count("\n") == 1
    assert victim.read_bytes() == photo.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == [victim.name]


def test_a_stamped_settings_file_is_never_overwritten(exported, tmp_path):
    _, _, out = exported
    fig = out / f"{STEM}_variance.svg"
    copy = tmp_path / fig.name
    copy.write_bytes(fig.read_bytes())
    code, _, err = run_cli("export", "--settings", copy, "--out", tmp_path, "--formats", "svg", "--overwrite")
    assert code == 1 and "input" in err
    assert copy.read_bytes() == fig.read_bytes()


def test_an_unwritable_folder_is_one_line_and_nothing_is_written(tmp_path, photo):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as root: permissions do not stop writes")
        code, _, err = run_cli("export", photo, *SMALL, "--out", locked, "--formats", "csv")
        assert code == 1 and "not writable" in err and err.count("\n") == 1
        code, _, err = run_cli("export", photo, *SMALL, "--out", locked / "sub", "--formats", "csv")
        assert code == 1 and "not writable" in err
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


def test_a_write_that_fails_midway_is_one_line_and_leaves_no_partial_file(tmp_path, photo):
    (tmp_path / f"{STEM}.json").mkdir()  # the second file cannot be written: a folder holds its name
    code, _, err = run_cli("export", photo, *SMALL, "--out", tmp_path, "--formats", "csv,json", "--overwrite")
    assert code == 1 and f"{STEM}.json" in err.splitlines()[-1] and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{STEM}.csv", f"{STEM}.json"]
    assert not [p for p in tmp_path.rglob("*.part")]


@pytest.mark.parametrize(
    ("argv", "expect"),
    [
        (["--formats", "png,gif"], "'gif'"),
        (["--scale", "100"], "--scale"),
        (["--depth", "9"], "depth"),
        (["--frame", "3"], "--frame applies to a video"),
        (["--mode", "movie"], "--mode"),
        (["--form", "png"], "unrecognized arguments: --form"),  # no abbreviations
        (["missing.png"], "missing.png"),
    ],
)
def test_a_mistake_is_one_line_naming_it_and_nothing_is_written(tmp_path, photo, argv, expect):
    out = tmp_path / "out"
    args = argv if argv[0].endswith(".png") else [photo, *argv]
    code, _, err = run_cli("export", *args, *SMALL[4:], "--size", "64", "--out", out)
    assert code != 0 and expect in err and err.count("\n") == 1, err
    assert not out.exists()


def test_an_invalid_settings_file_names_the_field(tmp_path, photo):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "cnnviz-scene", "schema": 2, "settings": {"channels": 0}}))
    code, _, err = run_cli("export", photo, "--settings", bad, "--out", tmp_path / "o")
    assert code == 1 and "channels" in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_a_video_frame_is_exported_with_its_index_in_the_stamp(tmp_path):
    from cnnviz.export import scene_from_file
    from cnnviz.paths import SAMPLE_VIDEO

    if not SAMPLE_VIDEO.exists():
        pytest.skip("no sample video")
    out = tmp_path / "v"
    code, _, err = run_cli("export", SAMPLE_VIDEO, *SMALL, "--frame", "2", "--out", out, "--formats", "png,csv")
    assert code == 0, err
    scene = scene_from_file(out / f"{STEM}_grid.png")
    assert scene.source.frame == 2 and scene.source.name == SAMPLE_VIDEO.name


def test_headless_export_needs_no_display_and_never_loads_qt(tmp_path, photo):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2]) + os.pathsep + env.get("PYTHONPATH", "")
    out = tmp_path / "headless"
    code = (
        "import sys; from cnnviz.cli import main; "
        f"rc = main(['export', {str(photo)!r}, *{SMALL!r}, '--mode', 'all', '--out', {str(out)!r}, "
        "'--formats', 'png,pdf,csv', '--scale', '1']); "
        "print('PySide6' in sys.modules, 'matplotlib.pyplot' in sys.modules); sys.exit(rc)"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "False"]
    names = [p.name for p in out.iterdir()]
    assert len(names) == 2 * (6 + 4 + 1) + 3 and any(n.startswith("init_") for n in names)
    assert "Traceback" not in proc.stderr


def test_a_symlink_in_the_folder_pointing_at_the_input_is_not_written_through(tmp_path, photo):
    link = tmp_path / f"{STEM}.csv"
    link.symlink_to(photo)
    before = photo.read_bytes()
    code, _, err = run_cli("export", photo, *SMALL, "--out", tmp_path, "--formats", "csv", "--overwrite")
    assert code == 1 and "input" in err
    assert photo.read_bytes() == before and link.is_symlink()


def test_a_corrupt_image_is_one_line_and_nothing_is_written(tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    code, _, err = run_cli("export", bad, *SMALL, "--out", tmp_path / "o")
    assert code == 1 and "broken.png" in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_every_command_takes_an_exported_figure_as_its_settings(exported):
    _, _, out = exported
    code, text, err = run_cli("stats", "--settings", out / f"{STEM}_variance.svg", "--json")
    assert code == 0, err
    settings = json.loads(text)["settings"]
    assert (settings["size"], settings["depth"], settings["channels"]) == (64, 3, 4)
