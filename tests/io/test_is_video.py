"""A video is known by its extension whatever its case: ``clip.MP4`` from a camera is a video."""

from __future__ import annotations

import io
import json
from pathlib import Path

import clips
import pytest

from cnnviz.io.video import VIDEO_EXTENSIONS, VideoReader, is_video


def write_mp4(path: Path, n: int = 6, size: int = 48) -> Path:
    return clips.write_clip(path, n, size, size, fmt="mp4", picture=clips.noise_stream(0))


@pytest.fixture(scope="module")
def upper_clip(tmp_path_factory) -> Path:
    return write_mp4(tmp_path_factory.mktemp("upper") / "clip.MP4")


@pytest.mark.parametrize("ext", sorted(VIDEO_EXTENSIONS))
def test_every_video_extension_in_any_case(ext):
    for name in (f"a{ext}", f"a{ext.upper()}", f"a{ext[:2]}{ext[2:].upper()}"):
        assert is_video(name), name


@pytest.mark.parametrize("name", ["a.png", "a.JPG", "a.mp4.png", "mp4", "a.txt", "a"])
def test_images_and_others_are_not_videos(name):
    assert not is_video(name)


def test_an_upper_case_mp4_is_read_as_a_video(upper_clip):
    assert is_video(upper_clip) and is_video(str(upper_clip))
    with VideoReader(upper_clip, size=32) as reader:
        assert reader.info.frame_count == 6
        assert reader.seek_frame(0).rgb.shape == (32, 32, 3)


def test_cnnviz_stats_routes_an_upper_case_mp4_to_the_video_path(upper_clip):
    from cnnviz.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["stats", str(upper_clip), "--size", "32", "--depth", "2", "--channels", "4", "--frames", "2", "--json"],
        out=out,
        err=err,
    )
    assert code == 0, err.getvalue()
    assert len(json.loads(out.getvalue())["frames"]) == 2
