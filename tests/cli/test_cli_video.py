"""`cnnviz stats VIDEO`: the per-frame and aggregated tables, strict JSON, the video network,
Ctrl+C giving a labelled partial result, and one clear line for bad input."""

from __future__ import annotations

import argparse
import io
import json
import signal
from pathlib import Path

import clips
import numpy as np
import pytest

from cnnviz.cli_video import add_video_arguments, stats_video
from cnnviz.core import video_stats
from cnnviz.core.video_net import VideoNet
from cnnviz.settings import Settings

SETTINGS = Settings(size=32, depth=3, channels=4, kernel=3)


def write_clip(path: Path, n: int = 12, width: int = 48, height: int = 40) -> Path:
    return clips.write_clip(path, n, width, height, picture=clips.noise_stream(0))


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return write_clip(tmp_path_factory.mktemp("video") / "clip.mkv")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    add_video_arguments(parser)
    return parser.parse_args(argv)


def run(path, argv=(), settings=SETTINGS):
    out, err = io.StringIO(), io.StringIO()
    code = stats_video(str(path), settings, parse(list(argv)), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def strict(text: str) -> dict:
    def refuse(name):
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def n_layers(k: int, depth: int) -> int:
    return sum(k - level + 1 for level in range(depth + 1))


def test_table_per_frame_and_over_the_clip(clip):
    code, out, err = run(clip, ["--frames", "3"])
    assert code == 0, err
    assert "video: clip.mkv" in out and "12 frames" in out
    for i in (0, 6, 11):  # spread evenly, both ends
        assert f"frame {i} (t = {i / 25:.3f} s)" in out
    assert "over 3 frames: mean ± std" in out
    rows = [line for line in out.splitlines() if line[:2].strip().isdigit()]
    assert len(rows) == 4 * n_layers(5, 3)  # 3 frames + the aggregate, every layer L_{l,s}
    assert "analysed 3 of 3 frames" in err  # not a terminal: one summary line, no bar
    assert "\r" not in err


def test_json_is_strict_and_matches_the_engine(clip):
    code, out, _ = run(clip, ["--every", "5", "--json"])
    assert code == 0
    data = strict(out)
    assert data["partial"] is False and data["network"] == "pyramid"
    assert [f["index"] for f in data["frames"]] == [0, 5, 10]
    assert data["video"]["frame_count"] == 12 and data["video"]["frame_count_exact"] is True
    layer0 = data["frames"][0]["layers"][0]
    assert (layer0["level"], layer0["scale"], layer0["grad_var"]) == (0, 0, None)  # NaN -> null
    agg = {(a["level"], a["scale"]): a for a in data["aggregate"]}
    assert len(agg) == n_layers(5, 3)
    values = [f["layers"][5]["var"] for f in data["frames"]]
    key = (data["frames"][0]["layers"][5]["level"], data["frames"][0]["layers"][5]["scale"])
    assert agg[key]["mean"]["var"] == pytest.approx(np.mean(values))
    assert agg[key]["std"]["var"] == pytest.approx(np.std(values))
    # The frame went through the same Settings -> Result path as an image.
    from cnnviz.core.engine import run as engine_run
    from cnnviz.io.video import VideoReader

    with VideoReader(clip, size=32) as reader:
        frame = reader.seek_frame(5)
    result = engine_run(SETTINGS, frame.rgb)
    assert data["frames"][1]["layers"][5]["var"] == pytest.approx(result.pyramid.layers[5].var, rel=1e-9)


def test_video_net_reports_shapes_over_time_costs_and_gradients(clip):
    code, out, err = run(clip, ["--video-net", "--window", "4", "--stride", "2", "--frames", "2", "--json"])
    assert code == 0, err
    data = strict(out)
    assert data["network"] == "video_net"
    assert [f["window"] for f in data["frames"]] == [[0, 1, 2, 3], [8, 9, 10, 11]]
    net = VideoNet(3, 4, depth=3, kernel=3, kernel_t=3, stride=2)
    shapes = net.output_shapes((1, 3, 4, 32, 32))
    layers = data["frames"][0]["layers"]
    assert (
        [tuple(st["shape"]) for st in layers]
        == shapes
        == [(1, 3, 4, 32, 32), (1, 4, 2, 16, 16), (1, 4, 1, 8, 8), (1, 4, 1, 4, 4)]
    )
    assert [st["multiplies"] for st in layers] == net.multiplies((1, 3, 4, 32, 32))
    assert layers[0]["grad_rms"] is None and all(st["grad_rms"] > 0 for st in layers[1:])
    assert data["video_net"]["clip_bytes"] == 4 * 32 * 32 * 3 * 4
    code, text, _ = run(clip, ["--video-net", "--window", "4", "--frames", "2"])
    assert "window of frames 0-3" in text and "1x4x2x16x16" in text and "ceil(n / s)" in text
    assert "over 2 windows" in text


def test_ctrl_c_leaves_a_labelled_partial_result(clip, monkeypatch):
    real = video_stats.engine.run
    calls = []

    def run_then_interrupt(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            signal.raise_signal(signal.SIGINT)  # what Ctrl+C delivers
        return real(*args, **kwargs)

    monkeypatch.setattr(video_stats.engine, "run", run_then_interrupt)
    code, out, err = run(clip, ["--frames", "6", "--json"])
    assert code == 130
    data = strict(out)
    assert data["partial"] is True and data["frames_requested"] == 6
    assert 1 <= data["frames_analysed"] < 6 and len(data["frames"]) == data["frames_analysed"]
    assert "PARTIAL" in err
    calls.clear()
    code, out, _ = run(clip, ["--frames", "6"])
    assert code == 130 and "PARTIAL RESULT: interrupted after" in out


def test_bad_video_input_is_one_line(tmp_path):
    missing = run(tmp_path / "nope.mp4")
    assert missing[0] == 1 and missing[2].count("\n") == 1 and "no such file" in missing[2]
    junk = tmp_path / "junk.mkv"
    junk.write_bytes(b"not a video at all" * 50)
    code, out, err = run(junk)
    assert code == 1 and out == "" and err.startswith("cnnviz: error: ") and err.count("\n") == 1


def test_truncated_video_succeeds_and_says_so(tmp_path):
    full = write_clip(tmp_path / "full.mkv", n=30, width=128, height=96)
    cut = tmp_path / "cut.mkv"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    code, out, err = run(cut, ["--frames", "2"])
    assert code == 0
    assert "truncated" in out and "truncated" in err


def test_video_flags_are_checked(clip):
    code, _, err = run(clip, ["--stride", "2"])
    assert code == 1 and "--video-net" in err
    code, _, err = run(clip, ["--video-net", "--kernel-t", "2"])
    assert code == 1 and "odd" in err
    with pytest.raises(SystemExit):
        parse(["--frames", "2", "--every", "3"])


def test_cnnviz_stats_routes_videos_here(clip):
    from cnnviz.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["stats", str(clip), "--size", "32", "--depth", "2", "--channels", "4", "--frames", "2", "--json"],
        out=out,
        err=err,
    )
    assert code == 0, err.getvalue()
    data = strict(out.getvalue())
    assert data["settings"]["depth"] == 2 and len(data["frames"]) == 2
