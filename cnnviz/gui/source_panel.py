"""The source: the image as fitted to 2^k, what was done to fit it, and the pyramid I_0 .. I_k.

Each I_s in the strip is drawn at the same size with square pixels (nearest neighbour), so
a student sees how much detail every scale keeps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

from . import theme
from .maps import same_arrays
from .steady import SteadyText

if TYPE_CHECKING:
    from .pacing import TextPacer


def to_qimage(rgb: np.ndarray) -> QImage:
    """float ``[H, W, 3]`` in [0, 1] -> an independent 32-bit RGB QImage.

    32-bit pixels are what the raster painter blends natively: a video frame scaled smoothly
    into the panel paints several times faster than from 24-bit RGB888 (converted on every paint)."""
    a = np.ascontiguousarray(theme.rgb_image(rgb))
    h, w, _ = a.shape
    return QImage(a.data, w, h, 3 * w, QImage.Format.Format_RGB888).convertToFormat(QImage.Format.Format_RGB32)


class _Strip(QWidget):
    """I_0 .. I_k side by side, each in a square cell with its size under it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._images: list[QImage] = []
        self._shown: tuple[np.ndarray, ...] = ()
        self._zoom = 1.0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_pyramid(self, pyramid: tuple[np.ndarray, ...]) -> None:
        # Every result carries the pyramid; while a slider moves it is the same one, and
        # converting, re-laying out and repainting it would cost each redraw.
        if same_arrays(pyramid, self._shown):
            return
        self._shown = tuple(pyramid)
        count = len(self._images)
        self._images = [to_qimage(p) for p in pyramid]
        if len(self._images) != count:  # the cell size follows the count: lay out again
            self.updateGeometry()
        self.update()

    def set_zoom(self, zoom: float) -> None:
        self._zoom = zoom
        self.updateGeometry()
        self.update()

    def _cell(self) -> int:
        n = max(len(self._images), 1)
        return max(16, min(64, (self.width() - 4 * (n - 1)) // n))

    def sizeHint(self) -> QSize:
        return QSize(300, self._cell() + int(22 * self._zoom))

    def minimumSizeHint(self) -> QSize:
        return QSize(120, 16 + int(22 * self._zoom))

    def resizeEvent(self, event) -> None:  # the cell size follows the width
        super().resizeEvent(event)
        self.setFixedHeight(self._cell() + int(22 * self._zoom))

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        cell = self._cell()
        p.setFont(theme.font(self._zoom, 0.8))
        p.setPen(QColor(theme.MUTED))
        for s, img in enumerate(self._images):
            x = s * (cell + 4)
            p.drawImage(QRect(x, 0, cell, cell), img)
            p.drawText(
                QRect(x - 2, cell + 2, cell + 4, int(20 * self._zoom)),
                Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                f"I{_subscript(s)}",
            )
        p.end()


class _FittedImage(QWidget):
    """The fitted input, drawn as large as its own rectangle allows, centred: it can never
    spill over the caption below it, whatever the caption's height."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: QImage | None = None
        self._scaled: QImage | None = None

    def set_image(self, image: QImage | None) -> None:
        self.image = image
        self._scaled = None  # the image at its drawn size, made by the first paint
        self.update()

    def drawn_rect(self) -> QRect:
        """Where the image is drawn, in this widget's pixels (empty without an image)."""
        if self.image is None or self.image.isNull():
            return QRect()
        side = max(0, min(self.width(), self.height()))
        return QRect((self.width() - side) // 2, (self.height() - side) // 2, side, side)

    def paintEvent(self, event) -> None:
        r = self.drawn_rect()
        if r.isEmpty() or self.image is None:
            return
        # Scaled smoothly once per image and size: the panel repaints (a video frame, the dock
        # around it) then copy pixels rather than filter them again.
        if self._scaled is None or self._scaled.size() != r.size():
            self._scaled = self.image.scaled(
                r.size(), Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
        p = QPainter(self)
        p.drawImage(r.topLeft(), self._scaled)
        p.end()


def _subscript(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


class SourcePanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image = _FittedImage()
        self.image.setMinimumSize(32, 32)  # the layout may shrink it; the caption keeps its lines
        self.image.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.image.setToolTip(
            "The input, fitted to 2^k × 2^k. Drop a picture here, paste one (Ctrl+V) or open a file (Ctrl+O)."
        )
        # A video's caption changes every frame: its height follows its wrapped lines, and a new
        # text with as many lines does not lay out the window again (gui/steady.py).
        self.caption = SteadyText(" ")
        self.strip = _Strip()
        self.strip.setToolTip("The pyramid I_s: 2×2 averaging from one scale to the next")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(3)
        lay.addWidget(self.image, 1)
        lay.addWidget(self.caption)
        lay.addWidget(self.strip)
        self._qimage: QImage | None = None
        self.texts: TextPacer | None = None  # set by the window: paces the caption while frames stream
        self.name = ""
        self._description = ""
        self._note = ""

    def set_frame(self, frame: np.ndarray, name: str, description: str) -> None:
        """frame: float32 ``[N, N, 3]`` in [0, 1], as fitted; ``description`` says how."""
        self._qimage = to_qimage(frame)
        self.image.set_image(self._qimage)
        self.name, self._description = name, description
        if self.texts is not None:  # while frames stream: ten times a second (gui/pacing.py)
            self.texts.later("caption", self._caption)
        else:
            self._caption()

    def set_note(self, note: str) -> None:
        """A remark under the caption, e.g. that the current mode does not use the image."""
        self._note = note
        self._caption()

    def _caption(self) -> None:
        note = f"<br><i style='color:{theme.WARN_FG}'>{self._note}</i>" if self._note else ""
        self.caption.setText(
            f"<b>{self.name}</b><br><span style='color:{theme.MUTED}'>{self._description}</span>{note}"
        )

    def set_pyramid(self, pyramid: tuple[np.ndarray, ...]) -> None:
        self.strip.set_pyramid(pyramid)

    def set_zoom(self, zoom: float) -> None:
        self.caption.setFont(theme.font(zoom, 0.9))
        self.strip.set_zoom(zoom)
