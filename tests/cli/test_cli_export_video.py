"""`cnnviz export CLIP --mode video-net`: Problem 2's network exported like every other mode."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from clips import write_clip
from PIL import Image

from cnnviz.cli import main
from cnnviz.export import scene_from_file

SMALL = ["--size", "32", "--depth", "3", "--channels", "4", "--window", "4"]
STEM = "video-net_he_d3_J4_s0_n32_T4"


def run_cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = main(list(map(str, argv)), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def moving(index: int, width: int, height: int) -> np.ndarray:
    """uint8 ``[H, W, 3]``: stripes moving right by 2 pixels a frame."""
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([((x + 2 * index) % 8) * 32, y * 8, ((x + y + index) % 16) * 16], axis=-1).astype(np.uint8)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return write_clip(tmp_path_factory.mktemp("clip") / "moving.mp4", n=8, width=32, height=32, picture=moving)


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("img") / "photo.png"
    Image.fromarray((np.random.default_rng(5).random((40, 40, 3)) * 255).astype(np.uint8)).save(path)
    return path


@pytest.fixture(scope="module")
def exported(tmp_path_factory, clip):
    out = tmp_path_factory.mktemp("run") / "out"
    code, _, err = run_cli("export", clip, *SMALL, "--mode", "video-net", "--out", out, "--scale", "1")
    return code, err, out


def test_every_figure_and_the_data_are_written_with_the_first_full_window(exported, clip):
    code, err, out = exported
    assert code == 0, err
    figures = ["layers", "video_variance", "video_gradient", "video_cost"]
    expected = [f"{STEM}_{f}.{e}" for f in figures for e in ("png", "svg", "pdf")]
    assert sorted(p.name for p in out.iterdir()) == sorted(expected + [f"{STEM}.{e}" for e in ("csv", "json", "npz")])
    scene = scene_from_file(out / f"{STEM}_layers.png")
    assert scene.source.name == clip.name and scene.source.frame == 3  # frames 0..3: the first window of T = 4
    assert scene.settings.mode == "video-net" and scene.settings.video_window == 4
    assert "# video network (Problem 2): frames 0-3" in (out / f"{STEM}.csv").read_text()


def test_png_svg_pdf_open_as_what_they_claim(exported):
    _, _, out = exported
    for f in ("layers", "video_variance", "video_gradient", "video_cost"):
        with Image.open(out / f"{STEM}_{f}.png") as im:
            root = ET.parse(out / f"{STEM}_{f}.svg").getroot()
            w, h = (float(root.get(k).removesuffix("pt")) / 72 * 100 for k in ("width", "height"))
            assert im.size == (round(w), round(h)), f  # scale 1: 100 dpi
            a = np.asarray(im.convert("RGB"), dtype=np.int16)
        assert a.std() > 10 and (np.abs(a - a[0, 0]).sum(axis=-1) > 60).mean() > 0.02, f
        assert (out / f"{STEM}_{f}.pdf").read_bytes().startswith(b"%PDF-")
    for f in ("video_variance", "video_gradient"):  # measured and theory curves are vector paths
        assert len(ET.parse(out / f"{STEM}_{f}.svg").getroot().findall(".//{http://www.w3.org/2000/svg}path")) >= 5


def test_the_stamp_round_trips_to_an_identical_csv(exported, tmp_path):
    _, _, out = exported
    again = tmp_path / "again"
    code, _, err = run_cli("export", "--settings", out / f"{STEM}_layers.png", "--out", again, "--formats", "csv")
    assert code == 0, err  # the stamp names the clip, the mode and the frame
    assert (again / f"{STEM}.csv").read_bytes() == (out / f"{STEM}.csv").read_bytes()


def test_frame_n_is_the_window_ending_at_n(clip, tmp_path):
    code, _, err = run_cli(
        "export", clip, *SMALL, "--mode", "video-net", "--frame", "6", "--out", tmp_path / "o", "--formats", "csv"
    )
    assert code == 0, err
    text = (tmp_path / "o" / f"{STEM}.csv").read_text()
    assert "frames 3-6" in text and '"frame":6' in text


def test_video_net_on_an_image_is_one_line_and_nothing_is_written(photo, tmp_path):
    code, _, err = run_cli("export", photo, *SMALL, "--mode", "video-net", "--out", tmp_path / "o")
    assert code == 1 and err.count("\n") == 1 and "photo.png is an image" in err and "video" in err
    assert not (tmp_path / "o").exists()


def test_all_leaves_video_net_out_for_an_image_and_says_why(photo, tmp_path):
    code, _, err = run_cli("export", photo, *SMALL, "--mode", "all", "--out", tmp_path / "o", "--formats", "csv")
    assert code == 0, err
    assert "video-net left out" in err and "photo.png is an image" in err
    assert sorted(p.name.split("_")[0] for p in (tmp_path / "o").iterdir()) == ["cost", "init", "pyramid"]


def test_all_includes_video_net_for_a_clip(clip, tmp_path):
    code, _, err = run_cli("export", clip, *SMALL, "--mode", "all", "--out", tmp_path / "o", "--formats", "csv")
    assert code == 0, err
    names = sorted(p.name for p in (tmp_path / "o").iterdir())
    assert [n.split("_")[0] for n in names] == ["cost", "init", "pyramid", "video-net"]
    assert f"{STEM}.csv" in names


def test_a_bad_video_flag_names_it(clip, tmp_path):
    code, _, err = run_cli("export", clip, *SMALL, "--mode", "video-net", "--kernel-t", "4", "--out", tmp_path / "o")
    assert code == 1 and "--kernel-t 4" in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()
