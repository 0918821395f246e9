"""Where the window's input comes from: a file, a pasted or dropped picture, a scene file.

:class:`Source` is a value (a file path, or pixels without a file); :meth:`Source.fit` turns it
into the network's input at a size. :func:`from_mime` reads what a paste or a drop carries.
:class:`SourceMixin` gives the window its file commands (open, paste, drop, recent files, load
and save a scene); each ends in the window's own routing (``request``, ``_submit``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np
from PySide6.QtCore import QMimeData, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QFileDialog

from ..errors import CnnvizError, InputError
from ..export.stamp import scene_from_file
from ..io.images import as_rgb, fit_to_size, load_image, supported_extensions, supported_formats_text
from ..io.video import VIDEO_EXTENSIONS, first_frame, is_video
from ..paths import PRESETS, SAMPLE_IMAGE
from ..scene import SourceRef, pixel_hash, save_scene
from .store import MAX_RECENT
from .window_api import MixinBase

if TYPE_CHECKING:
    from .main_window import MainWindow


@dataclass(frozen=True)
class Source:
    """A file (re-read when the size changes) or pixels (pasted, dropped)."""

    name: str
    path: str | None = None
    rgb: np.ndarray | None = None  # float32 [H, W, 3] in [0, 1], for sources without a file
    frame_index: int | None = None  # the video frame shown, for a clip

    @property
    def is_video(self) -> bool:
        return self.path is not None and is_video(self.path)

    def fit(self, size: int) -> tuple[np.ndarray, str]:
        """The image fitted to ``size``: float32 ``[size, size, 3]``, and what was done, in words."""
        if self.path is not None and self.is_video:
            return first_frame(self.path, size, self.frame_index or 0)
        if self.path is not None:
            frame, info = load_image(self.path, size)
        else:
            assert self.rgb is not None
            frame, info = fit_to_size(self.rgb, size)
        return frame, info.describe()

    def ref(self, frame: np.ndarray | None) -> SourceRef:
        """What a scene records of this source: name, path, a hash of the fitted pixels, frame index."""
        path = str(Path(self.path).resolve()) if self.path else None
        pixels = pixel_hash(frame) if frame is not None else None
        return SourceRef(name=self.name, path=path, pixels=pixels, frame=self.frame_index)


def qimage_to_rgb(image: QImage) -> np.ndarray:
    """A QImage (any format) -> float32 ``[H, W, 3]`` in [0, 1], alpha composited on white."""
    img = image.convertToFormat(QImage.Format.Format_RGBA8888)
    w, h, bpl = img.width(), img.height(), img.bytesPerLine()
    if w < 1 or h < 1:
        raise InputError("clipboard: the picture is empty")
    buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=h * bpl).reshape(h, bpl)
    return as_rgb(buf[:, : 4 * w].reshape(h, w, 4).copy(), "clipboard")


def from_mime(mime: QMimeData | None, name: str) -> Source | str:
    """What a paste or drop carries: a local file path (str) or a picture (Source); InputError if neither."""
    if mime is not None and mime.hasUrls():
        local = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
        if local:
            return local[0]
    if mime is not None and mime.hasImage():
        return Source(name, rgb=qimage_to_rgb(QImage(mime.imageData())))
    if mime is not None and mime.hasText() and os.path.isfile(mime.text().strip()):
        return mime.text().strip()
    raise InputError(f"the clipboard holds no picture (accepted: {supported_formats_text()})")


def open_filter() -> str:
    exts = " ".join(f"*{e}" for e in (*supported_extensions(), *sorted(VIDEO_EXTENSIONS)))
    return f"Images and videos ({exts});;All files (*)"


class SourceMixin(MixinBase):
    """The window's source and scene-file commands (mixed into MainWindow)."""

    def _load_initial(self, file: str | None, frame: int | None = None) -> None:
        candidates = []
        if file:
            candidates.append((file, True))
        elif self.store is not None and (last := self.store.last_file()):
            candidates.append((last, False))
        candidates.append((str(SAMPLE_IMAGE), True))
        for path, loud in candidates:
            try:
                self._set_source(Source(Path(path).name, path=str(path), frame_index=frame if path == file else None))
                return
            except InputError as err:
                if loud:
                    QTimer.singleShot(0, lambda e=str(err): self.show_error("Cannot open image", e))
        # no image at all: the init lab on noise still works

    def _set_source(self, source: Source) -> None:
        """Fit ``source`` to the current size (raises InputError, changing nothing) and use it."""
        self.camera.close()  # a file, a paste or a drop replaces a live camera
        if source.is_video:  # playback opens the clip (gui/playback.py) on its frame_index
            source, frame, description = self.playback.open(source, self.settings.size)
        else:
            frame, description = source.fit(self.settings.size)
            self.playback.close()
        self.source, self.frame, self.frame_description = source, frame, description
        self.source_panel.set_frame(frame, source.name, description)

    def use_source(self, source: Source) -> bool:
        """Use a picture without a file (paste, drop); one line and no change if it is bad."""
        try:
            self._set_source(source)
        except InputError as err:
            self.show_error("Cannot open image", str(err))
            return False
        self._submit()
        return True

    def open_file(self, path: str) -> bool:
        """Use the image at ``path``; on failure show one line and keep the previous image."""
        try:
            self._set_source(Source(Path(path).name, path=str(path)))
        except InputError as err:
            self.show_error("Cannot open image", str(err))
            return False
        self._remember(str(path))
        self._submit()
        return True

    def open_dialog(self) -> None:
        start = str(Path(self.source.path).parent) if self.source and self.source.path else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Open image", start, open_filter())
        if path:
            self.open_file(path)

    def load_settings(self, path: str | Path) -> bool:
        """A scene from a file (a preset, a saved session): its settings and view; one line if it is bad."""
        try:
            scene = scene_from_file(path)  # a scene file, or the stamp in an exported PNG/SVG/JSON
        except CnnvizError as err:
            self.show_error("Cannot load settings", str(err))
            return False
        self.request(scene.settings)
        self.set_view_state(scene.view.replace(zoom=self.view.zoom))  # the hall's zoom stays
        self.say(f"settings from {Path(path).name}", 5000)
        return True

    def load_settings_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Load settings", str(PRESETS), "Scenes and exported figures (*.json *.png *.svg)"
        )
        if path:
            self.load_settings(path)

    def save_settings(self, path: str | Path) -> bool:
        """Write the current scene as JSON (atomically, never over the open image)."""
        inputs = (self.source.path,) if self.source is not None and self.source.path else ()
        try:
            save_scene(self.scene(), path, inputs=inputs)
        except CnnvizError as err:
            self.show_error("Cannot save settings", str(err))
            return False
        self.say(f"settings saved to {path}", 5000)
        return True

    def save_settings_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save settings", str(Path.home() / "scene.json"), "Scenes (*.json)")
        if path:
            self.save_settings(path)

    def paste(self) -> None:
        self._take(QGuiApplication.clipboard().mimeData(), "pasted image", "Cannot paste image")

    def _take(self, mime, name: str, title: str) -> None:
        try:
            got = from_mime(mime, name)
        except InputError as err:
            self.show_error(title, str(err))
            return
        if isinstance(got, str):
            self.open_file(got)
        else:
            self.use_source(got)

    def _remember(self, path: str) -> None:
        path = str(Path(path).resolve())
        self.recent = [path, *(p for p in self.recent if p != path)][:MAX_RECENT]
        self.commands.rebuild_recent(self.recent)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        mime = event.mimeData()
        from .export_actions import restore_dropped

        if restore_dropped(cast("MainWindow", self), mime, bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)):
            event.acceptProposedAction()  # Shift: an exported figure's stamp restores its scene
            return
        if mime.hasUrls() or mime.hasImage():
            self._take(mime, "dropped image", "Cannot open image")
        event.acceptProposedAction()
