"""The window opens ``clip.MP4`` (a camera's upper-case name) as a video, on its first frame."""

from __future__ import annotations

import clips
import numpy as np
import pytest

from cnnviz.io.video import VideoReader

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def write_mp4(path, n: int = 6, size: int = 48):
    return clips.write_clip(path, n, size, size, fmt="mp4", picture=clips.noise_stream(1))


def test_an_upper_case_mp4_opens_as_a_video(qtbot, settle, main_window, tmp_path):
    path = write_mp4(tmp_path / "clip.MP4")
    assert main_window.open_file(str(path))
    settle(main_window)
    assert "frame 0 of 6" in main_window.frame_description
    with VideoReader(path, size=main_window.settings.size) as reader:
        np.testing.assert_array_equal(main_window.result.pyramid.image, reader.seek_frame(0).rgb)
