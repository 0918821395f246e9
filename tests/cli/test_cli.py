"""`cnnviz stats`: the table and strict JSON a user scripts against, and one-line errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from cnnviz.cli import main


def run_cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    rng = np.random.default_rng(3)
    path = tmp_path_factory.mktemp("img") / "photo.png"
    Image.fromarray((rng.random((90, 120, 3)) * 255).astype(np.uint8)).save(path)
    return path


def test_table_lists_every_layer_with_theory_beside(photo):
    code, out, err = run_cli("stats", str(photo), "--size", "64", "--depth", "3", "--channels", "4")
    assert code == 0, err
    rows = [line.split() for line in out.splitlines() if line[:2].strip().isdigit()]
    assert len(rows) == 7 + 6 + 5 + 4
    assert "120x90, centre-cropped to 90x90, resized to 64x64" in out
    assert "var(th)" in out and "RMS(th)" in out and "equivariance" in out


def test_json_is_strict_and_matches_the_table_settings(photo):
    code, out, _ = run_cli(
        "stats",
        str(photo),
        "--size",
        "64",
        "--depth",
        "2",
        "--json",
        "--init",
        "lecun",
        "--activation",
        "tanh",
        "--seed",
        "4",
    )
    assert code == 0
    data = json.loads(out)
    assert data["settings"]["init"] == "lecun" and data["settings"]["activation"] == "tanh"
    assert data["settings"]["seed"] == 4
    layers = data["pyramid"]["layers"]
    assert {(d["level"], d["scale"]) for d in layers} == {(l, s) for l in range(3) for s in range(7 - l)}
    assert data["total_multiplies"] == sum(d["multiplies"] for d in layers)


def test_overflow_gives_strict_json_with_nulls_counted(photo):
    code, out, _ = run_cli("stats", str(photo), "--size", "64", "--depth", "6", "--init-var", "1e30", "--json")
    assert code == 0
    data = json.loads(out, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))
    assert data["nonfinite_replaced"] > 0
    assert any(d["var"] is None for d in data["pyramid"]["layers"])
    assert any("overflow" in w for w in data["warnings"])


def test_residual_stack_table_on_noise():
    code, out, err = run_cli("stats", "--residual", "--depth", "30", "--channels", "8")
    assert code == 0, err
    assert "residual stack" in out
    assert len([l for l in out.splitlines() if l[:3].strip().isdigit()]) == 31


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["--unshared", "--residual"], "--unshared"),
        (["--depth", "9"], "log2"),
        (["--kernel", "4"], "odd"),
        (["--size", "100"], "power of two"),
        (["--init-var", "-1"], ">= 0"),
        (["--init-var", "nan"], "finite"),
        (["--channels", "0"], "channels"),
    ],
)
def test_contradictions_and_bad_values_are_one_line_and_nonzero(argv, needle):
    code, out, err = run_cli("stats", *argv)
    assert code != 0 and out == ""
    assert needle in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_init_flags_are_mutually_exclusive():
    code, _, err = run_cli("stats", "--init", "he", "--init-var", "0.1")
    assert code == 2 and "not allowed with" in err and len(err.strip().splitlines()) == 1


def test_bad_image_is_one_line(tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    code, out, err = run_cli("stats", str(bad))
    assert code == 1 and out == "" and "broken.png" in err and len(err.strip().splitlines()) == 1


def test_settings_file_round_trips_and_flags_override(tmp_path, photo):
    from cnnviz.settings import Settings

    path = tmp_path / "lecture.json"
    path.write_text(Settings(size=64, depth=3, channels=4, activation="tanh").to_json())
    code, out, _ = run_cli("stats", str(photo), "--settings", str(path), "--depth", "2", "--json")
    data = json.loads(out)
    assert code == 0 and data["settings"]["activation"] == "tanh" and data["settings"]["depth"] == 2


def test_python_dash_m_runs_without_a_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "cnnviz", "stats", "--size", "32", "--json"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["settings"]["depth"] == 5  # the default 6 clamped to log2(32)


def test_animated_gif_goes_to_the_video_path_and_a_still_gif_to_the_image_path(tmp_path):
    from PIL import Image

    frames = [Image.new("RGB", (40, 40), (i * 60, 100, 200 - i * 60)) for i in range(3)]
    anim = tmp_path / "anim.gif"
    frames[0].save(anim, save_all=True, append_images=frames[1:], duration=100, loop=0)
    still = tmp_path / "still.gif"
    frames[0].save(still)
    code, out, err = run_cli("stats", str(anim), "--size", "32", "--depth", "2", "--json")
    assert code == 0, err
    assert "frames" in json.loads(out)  # the per-frame video report
    code, out, err = run_cli("stats", str(still), "--size", "32", "--depth", "2", "--json")
    assert code == 0, err
    assert "pyramid" in json.loads(out)
