"""Drag and drop onto the window: a file, a picture, and something that is neither."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def _drop(window, mime: QMimeData) -> bool:
    """Deliver a drag-enter then a drop at the window's centre, as Qt does for a user's drop."""
    pos = QPointF(window.width() / 2, window.height() / 2)
    enter = QDragEnterEvent(
        pos.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(window, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    return True


def test_dropping_an_image_file_opens_it(qtbot, settle, main_window, tmp_path):
    path = tmp_path / "dropped.png"
    Image.new("RGB", (90, 60), (10, 200, 30)).save(path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    assert _drop(main_window, mime)
    settle(main_window)
    assert main_window.source_panel.name == "dropped.png"
    np.testing.assert_allclose(main_window.result.pyramid.image[5, 5], [10 / 255, 200 / 255, 30 / 255], atol=2e-3)
    assert str(path) in main_window.recent


def test_dropping_a_picture_from_another_app_opens_it(qtbot, settle, main_window):
    picture = QImage(64, 64, QImage.Format.Format_RGB32)
    picture.fill(QColor(30, 30, 220))
    mime = QMimeData()
    mime.setImageData(picture)
    assert _drop(main_window, mime)
    settle(main_window)
    assert main_window.source_panel.name == "dropped image"
    np.testing.assert_allclose(main_window.result.pyramid.image[0, 0], [30 / 255, 30 / 255, 220 / 255], atol=2e-3)


def test_dropping_text_is_refused_and_a_broken_file_keeps_the_image(qtbot, settle, main_window, tmp_path):
    frame = main_window.frame.copy()
    text = QMimeData()
    text.setText("just words")
    assert not _drop(main_window, text)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(broken))])
    assert _drop(main_window, mime)
    assert "broken.jpg" in main_window.last_error
    main_window._error_box.close()
    np.testing.assert_array_equal(main_window.frame, frame)


def test_a_video_opens_on_its_first_frame(qtbot, settle, main_window):
    from cnnviz.io.video import VideoReader
    from cnnviz.paths import SAMPLE_VIDEO

    assert main_window.open_file(str(SAMPLE_VIDEO))
    settle(main_window)
    size = main_window.settings.size
    with VideoReader(SAMPLE_VIDEO, size=size) as reader:
        first = reader.seek_frame(0).rgb
    np.testing.assert_array_equal(main_window.result.pyramid.image, first)
    assert "frame 0 of 100" in main_window.frame_description
