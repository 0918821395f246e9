"""The video reader on clips written here with PyAV: formats, metadata, exact seeking,
rotation, variable frame rate, and every kind of bad input a user can hand it."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
from clips import noise, read_code, write_audio_only, write_clip

from cnnviz.errors import InputError
from cnnviz.io.video import MAX_PIXELS, VideoReader, probe
from cnnviz.paths import SAMPLE_VIDEO

ROOT = Path(__file__).resolve().parents[2]


FORMATS = [
    ("mp4", "libx264"),
    ("mkv", "libx264"),
    ("webm", "libvpx-vp9"),
    ("avi", "mpeg4"),
    ("mov", "libx264"),
    ("gif", "gif"),
]


@pytest.mark.parametrize("suffix,codec", FORMATS)
def test_every_container_reads_every_frame_in_order(tmp_path, suffix, codec):
    rate = 10 if codec == "gif" else 25
    path = write_clip(tmp_path / f"clip.{suffix}", n=12, width=322, height=242, codec=codec, rate=rate)
    with VideoReader(path, size=64) as reader:
        info = reader.info
        frames = list(reader)
    assert (info.width, info.height) == (322, 242)
    assert info.frame_count == 12 and info.frame_count_exact
    assert info.fps == pytest.approx(rate, rel=1e-3)
    assert info.duration == pytest.approx(12 / rate, rel=1e-3)
    assert not info.variable_frame_rate
    assert [f.index for f in frames] == list(range(12))
    assert [read_code(f.rgb) for f in frames] == list(range(12))
    assert [f.time for f in frames] == pytest.approx([i / rate for i in range(12)], abs=1e-3)
    rgb = frames[5].rgb
    assert rgb.shape == (64, 64, 3) and rgb.dtype == np.float32 and rgb.flags.c_contiguous
    assert rgb.min() >= 0.0 and rgb.max() <= 1.0
    assert frames[5].fit is not None and frames[5].fit.original == (322, 242)


def test_frames_are_fitted_like_images(tmp_path):
    """Same function, same default as an image: centre crop, then resize to 2^k."""
    from cnnviz.io.images import fit_to_size

    def picture(i, w, h):
        y, x = np.mgrid[0:h, 0:w]
        return np.stack([x * 255 // w, y * 255 // h, np.full_like(x, 128)], -1).astype(np.uint8)

    path = write_clip(tmp_path / "ramp.mkv", n=2, width=322, height=242, picture=picture, options={"crf": "0"})
    with VideoReader(path, size=None) as reader:
        whole = next(iter(reader)).rgb
    with VideoReader(path, size=128) as reader:
        fitted = next(iter(reader)).rgb
    expected, _ = fit_to_size(whole, 128)
    assert whole.shape == (242, 322, 3)
    np.testing.assert_allclose(fitted, expected, atol=2 / 255)


@pytest.mark.parametrize("suffix", ["mp4", "mkv"])
def test_seeking_lands_on_the_requested_frame(tmp_path, suffix):
    path = write_clip(tmp_path / f"long.{suffix}", n=60, gop=10, options={"bframes": "2"})
    with VideoReader(path, size=64) as reader:
        for i in [37, 3, 59, 0, 10, 9, 11, 45, 44, 20]:
            frame = reader.seek_frame(i)
            assert frame.index == i and read_code(frame.rgb) == i
            assert frame.time == pytest.approx(i / 25)
        for t in [0.0, 0.399, 0.4, 1.01, 2.379]:
            frame = reader.seek_time(t)
            assert read_code(frame.rgb) == frame.index == int(t * 25 + 1e-9)
        picked = list(reader.frames_at([58, 2, 3, 30, 2]))
        assert [f.index for f in picked] == [2, 3, 30, 58]
        assert [read_code(f.rgb) for f in picked] == [2, 3, 30, 58]
        with pytest.raises(InputError, match="frames 0 to 59"):
            reader.seek_frame(60)


def test_newest_frame_at_drops_frames_and_reuses_the_current_one(tmp_path):
    path = write_clip(tmp_path / "play.mp4", n=50, gop=10)
    with VideoReader(path, size=64) as reader:
        seen = []
        for t in [0.0, 0.01, 0.05, 0.3, 1.3, 1.31, 0.2, 1.96]:
            frame = reader.newest_frame_at(t)
            assert read_code(frame.rgb) == frame.index == int(t * 25 + 1e-9)
            seen.append(frame)
        assert seen[1] is seen[0]  # still on screen: no new decode
        assert seen[5] is seen[4]
        assert reader.newest_frame_at(2.0) is None  # past the end: the caller loops or stops


def test_display_rotation_is_applied(tmp_path):
    def top_bar(i, w, h):
        img = np.zeros((h, w, 3), np.uint8)
        img[: h // 4] = 255  # a bright bar across the top of the stored picture
        return img

    path = write_clip(tmp_path / "phone.mp4", n=3, width=322, height=242, rotation=90, picture=top_bar)
    with VideoReader(path, size=64) as reader:
        info = reader.info
        rgb = next(iter(reader)).rgb
    assert info.rotation == 90
    assert (info.width, info.height) == (242, 322) and (info.coded_width, info.coded_height) == (322, 242)
    # Turned a quarter counter-clockwise for display, the top bar is on the left.
    assert rgb[:, :8].mean() > 0.9 and rgb[:, -24:].mean() < 0.1


def test_variable_frame_rate_gives_true_times(tmp_path):
    pts = [0, 40, 80, 200, 240, 400, 420, 440, 460, 700]
    for suffix in ("mp4", "mkv"):
        path = write_clip(tmp_path / f"vfr.{suffix}", n=10, pts_ms=pts)
        with VideoReader(path, size=64) as reader:
            info = reader.info
            frames = list(reader)
            assert info.variable_frame_rate and info.frame_count == 10
            assert [f.time for f in frames] == pytest.approx([p / 1000 for p in pts], abs=1e-3)
            assert [read_code(f.rgb) for f in frames] == list(range(10))
            assert reader.seek_time(0.21).index == 3  # the frame shown from 200 ms to 240 ms
            assert reader.seek_time(0.45).index == 7


def test_large_files_are_indexed_on_first_need(tmp_path, monkeypatch):
    """Over INDEX_AT_OPEN_BYTES the header's figures are used (and said to be estimates)
    until a seek needs the index."""
    import cnnviz.io.video as video

    monkeypatch.setattr(video, "INDEX_AT_OPEN_BYTES", 0)
    path = write_clip(tmp_path / "big.mkv", n=30, rate=30, gop=10)
    with VideoReader(path, size=64) as reader:
        info = reader.info
        assert not info.indexed and not info.frame_count_exact  # Matroska keeps no frame count
        assert info.frame_count == 30 and info.fps == pytest.approx(30)
        frame = reader.seek_frame(17)
        assert read_code(frame.rgb) == 17
        assert reader.info.indexed and reader.info.frame_count_exact and reader.info.frame_count == 30
        assert [read_code(f.rgb) for f in reader][:3] == [0, 1, 2]


def test_constant_rate_clip_is_not_called_variable(tmp_path):
    path = write_clip(tmp_path / "cfr.mkv", n=20, rate=30)
    assert probe(path).variable_frame_rate is False


def test_audio_only_file_is_refused(tmp_path):
    path = write_audio_only(tmp_path / "voice.m4a")
    with pytest.raises(InputError, match="no video stream") as err:
        VideoReader(path)
    assert "\n" not in str(err.value) and "audio" in str(err.value)


@pytest.mark.parametrize("suffix,opts", [("mkv", {}), ("mp4", {"movflags": "+faststart"})])
def test_truncated_file_keeps_the_frames_before_the_damage(tmp_path, suffix, opts):
    full = write_clip(tmp_path / f"full.{suffix}", n=30, width=128, height=96, picture=noise, container_options=opts)
    data = full.read_bytes()
    cut = tmp_path / f"cut.{suffix}"
    cut.write_bytes(data[: len(data) * 6 // 10])
    with VideoReader(cut, size=64) as reader:
        frames = list(reader)
        problem = reader.problem
    assert 5 < len(frames) < 30
    assert [f.index for f in frames] == list(range(len(frames)))
    assert problem is not None and "truncated" in problem and f"read {len(frames)} frames" in problem
    assert "\n" not in problem
    with VideoReader(cut, size=64) as reader:
        assert "truncated" in reader.problem  # known from the index, before any decoding
        listed = reader.info.frame_count
        picked = list(reader.frames_at(range(listed)))  # frames the damage took are skipped, not fatal
    assert [f.index for f in picked] == [f.index for f in frames]


def test_mp4_cut_before_its_index_is_one_clear_error(tmp_path):
    full = write_clip(tmp_path / "full.mp4", n=30, width=128, height=96, picture=noise)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(full.read_bytes()[:-2000])  # the moov atom (the index) is at the end
    with pytest.raises(InputError) as err:
        VideoReader(cut)
    assert "\n" not in str(err.value) and "cut.mp4" in str(err.value)


def test_zero_frames_is_refused(tmp_path):
    path = tmp_path / "empty.avi"
    with av.open(str(path), "w") as c:
        stream = c.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        c.start_encoding()
    with pytest.raises(InputError, match="no video frames"):
        VideoReader(path)


def gif_header_only(width: int, height: int) -> bytes:
    """A GIF whose canvas is width x height, holding one 1x1 image (a few dozen bytes)."""
    head = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    image = b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
    return head + image + b"\x3b"


def test_frames_over_64_megapixels_are_refused_before_decoding(tmp_path):
    path = tmp_path / "huge.gif"
    path.write_bytes(gif_header_only(8200, 8200))
    assert MAX_PIXELS < 8200 * 8200
    with pytest.raises(InputError, match="megapixels"):
        VideoReader(path)
    small = tmp_path / "small.gif"
    small.write_bytes(gif_header_only(40, 30))
    with VideoReader(small, size=32) as reader:
        assert reader.info.frame_count == 1


@pytest.mark.parametrize("content", [b"\x00\x01garbage" * 500, b"hello world\n" * 100])
def test_unknown_container_is_one_line(tmp_path, content):
    path = tmp_path / "clip.mp4"
    path.write_bytes(content)
    with pytest.raises(InputError, match="not a video") as err:
        VideoReader(path)
    assert "\n" not in str(err.value)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        VideoReader(tmp_path / "nope.mp4")
    with pytest.raises(InputError, match="is a folder"):
        VideoReader(tmp_path)


def test_a_stalled_decoder_gives_up_with_one_line(tmp_path):
    """The time limit: a reader whose budget is spent stops with an error instead of waiting."""
    path = write_clip(tmp_path / "slow.mkv", n=30, width=128, height=96, picture=noise)
    with VideoReader(path, size=64) as reader:
        reader.timeout = 0.0
        with pytest.raises(InputError, match="no frame decoded within") as err:
            list(reader)
    assert "\n" not in str(err.value)


def test_sample_clip_is_what_the_script_makes(tmp_path):
    """The bundled clip: 25 fps H.264, <= 2 MB, square; the script reproduces its size and length."""
    bundled = SAMPLE_VIDEO
    made = tmp_path / "zoom.mp4"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_sample_video.py"), "--out", str(made)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    a, b = probe(bundled), probe(made)
    assert bundled.stat().st_size <= 2 * 2**20
    assert a.codec == "h264" and a.fps == pytest.approx(25)
    assert a.width == a.height == 512 and 2.0 <= a.duration <= 10.0
    assert (b.frame_count, b.width, b.height, b.codec) == (a.frame_count, a.width, a.height, a.codec)
    assert b.duration == pytest.approx(a.duration)
    with VideoReader(bundled, size=64) as ra, VideoReader(made, size=64) as rb:
        for i in (0, a.frame_count - 1):
            np.testing.assert_allclose(ra.seek_frame(i).rgb, rb.seek_frame(i).rgb, atol=0.02)
