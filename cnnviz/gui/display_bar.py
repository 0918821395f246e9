"""The row above the feature-map grid: colour map, colour normalisation, mosaic, channel.

It shows a :class:`ViewState` (:meth:`DisplayBar.show_view`, emitting nothing) and turns each
edit into a new ViewState (``view_requested``); it never draws maps itself.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QSpinBox, QVBoxLayout, QWidget

from ..view_state import NORMALISATION_LABELS, NORMALISATIONS, SEQUENTIAL_MAPS, ViewState
from .theme import DIVERGING_MAP
from .wrap_row import WrapRow

DIVERGING_TEXT = "diverging ±"


class DisplayBar(QWidget):
    view_requested = Signal(object)  # ViewState
    note = Signal(str)  # one line for the status bar: why a choice does not change the picture

    def __init__(self, view: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._view = view
        self._signed = False
        self._shown: tuple[ViewState, int, bool] | None = None  # what show_view last showed
        self.cmap_box = QComboBox()
        for name in SEQUENTIAL_MAPS:
            self.cmap_box.addItem(name, name)
        self.cmap_box.setToolTip(
            "Colour map for one-signed layers (ReLU, sigmoid); signed layers use a diverging map centred at 0  [C]"
        )
        self.norm_box = QComboBox()
        for n in NORMALISATIONS:
            self.norm_box.addItem(NORMALISATION_LABELS[n], n)
        self.norm_box.setToolTip("Colour range per map, shared by all scales of a level, or global  [L]")
        self.mosaic_box = QCheckBox("mosaic")
        self.mosaic_box.setToolTip("Show every channel as a mosaic, or one channel  [M]")
        self.channel_box = QSpinBox()
        self.channel_box.setPrefix("channel ")
        self.channel_box.setMinimumWidth(self.channel_box.sizeHint().width())
        self.channel_box.setToolTip("The channel shown in every cell  [. next, , previous]")
        for c in (self.cmap_box, self.norm_box):
            c.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        # colour map and range above mosaic and channel where one row would cut their texts; the
        # range box is sized for its longest choice and shows the chosen one: it may shrink
        self.row = WrapRow(
            (self.cmap_box, self.norm_box, self.mosaic_box, self.channel_box),
            split=2,
            width_of=lambda w: (w.minimumSizeHint() if w is self.norm_box else w.sizeHint()).width(),
        )
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.row)
        self.setToolTip("Hover a map for values, click it to inspect, scroll to zoom, drag to pan")
        self.cmap_box.currentIndexChanged.connect(lambda _i: self._colormap_chosen(self.cmap_box.currentData()))
        self.norm_box.currentIndexChanged.connect(lambda _i: self._request(normalisation=self.norm_box.currentData()))
        self.mosaic_box.toggled.connect(lambda on: self._request(mosaic=bool(on)))
        self.channel_box.valueChanged.connect(lambda c: self._request(channel=int(c)))

    def _show_colormap(self) -> None:
        """The colour map actually drawn: the diverging one (box locked) for signed layers."""
        box = self.cmap_box
        with QSignalBlocker(box):
            at = box.findData(DIVERGING_MAP)
            if self._signed and at < 0:
                box.addItem(DIVERGING_TEXT, DIVERGING_MAP)
            elif not self._signed and at >= 0:
                box.removeItem(at)
            box.setCurrentIndex(max(0, box.findData(DIVERGING_MAP if self._signed else self._view.colormap)))
        box.setToolTip(
            "Signed layers (tanh, identity) are drawn with a diverging map centred at 0: blue below, "
            "yellow above. ReLU and sigmoid layers use the map chosen here  [C]"
            if self._signed
            else "Colour map for one-signed layers (ReLU, sigmoid); signed layers use a diverging map centred at 0  [C]"
        )

    def _colormap_chosen(self, name: str) -> None:
        if name == DIVERGING_MAP:
            return
        if self._signed:  # kept for one-signed layers; the signed ones stay diverging
            self.note.emit(
                f"tanh and identity layers are signed: drawn with the diverging map {DIVERGING_MAP} "
                f"centred at 0; {name} is used for ReLU and sigmoid"
            )
        self._request(colormap=name)
        self._show_colormap()

    def _request(self, **changes: object) -> None:
        self._shown = None  # the boxes show the user's choice until the window shows a view again
        self.view_requested.emit(self._view.replace(**changes))

    def show_view(self, view: ViewState, channels: int, signed: bool | None = None) -> None:
        """Show ``view`` for a network of ``channels`` channels, without emitting. ``signed``: the
        drawn layers are signed (tanh, identity), so the box shows the diverging map they are
        drawn with (None keeps the last)."""
        shown = (view, channels, self._signed if signed is None else signed)
        if shown == self._shown:  # every result of a clip asks: nothing to redo
            return
        self._shown = shown
        self._view = view
        if signed is not None:
            self._signed = signed
        self._show_colormap()
        with QSignalBlocker(self.norm_box):
            self.norm_box.setCurrentIndex(max(0, self.norm_box.findData(view.normalisation)))
        with QSignalBlocker(self.mosaic_box):
            self.mosaic_box.setChecked(view.mosaic)
        with QSignalBlocker(self.channel_box):
            self.channel_box.setRange(0, max(0, channels - 1))
            self.channel_box.setValue(min(view.channel, channels - 1))
            self.channel_box.setEnabled(not view.mosaic)
