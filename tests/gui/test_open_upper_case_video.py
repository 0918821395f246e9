"""The window opens ``clip.MP4`` (a camera's upper-case name) as a video, on its first frame."""

from __future__ import annotations

import av
import numpy as np
import pytest

from cnnviz.io.video import VideoReader

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def write_mp4(path, n: int = 6, size: int = 48):
    rng = np.random.default_rng(1)
    with av.open(str(path), "w", format="mp4") as c:
        stream = c.add_stream("libx264", rate=25)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        for _ in range(n):
            img = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(packet)
        for packet in stream.encode():
            c.mux(packet)
    return path


def test_an_upper_case_mp4_opens_as_a_video(qtbot, settle, main_window, tmp_path):
    path = write_mp4(tmp_path / "clip.MP4")
    assert main_window.open_file(str(path))
    settle(main_window)
    assert "frame 0 of 6" in main_window.frame_description
    with VideoReader(path, size=main_window.settings.size) as reader:
        np.testing.assert_array_equal(main_window.result.pyramid.image, reader.seek_frame(0).rgb)
