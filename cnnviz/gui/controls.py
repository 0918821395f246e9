"""The live controls. They never compute and never hold state of their own: every change
becomes a new, validated :class:`~cnnviz.settings.Settings` (``settings_requested``), and
:meth:`ControlsPanel.set_settings` shows a Settings without emitting anything.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from superqt import QCollapsible, QLabeledSlider

from ..errors import SettingsError
from ..settings import (
    ACTIVATIONS,
    CHANNELS_MAX,
    KERNEL_MAX,
    NOISE_SIZES,
    RESIDUAL_DEPTH_MAX,
    SIZES,
    UNIT_DIM_MAX,
    Settings,
)
from . import theme
from .steady import SteadyLabel

LOG_MIN, LOG_MAX = -6.0, 3.0  # the slider's sigma_w^2 range, in decades
TICKS_PER_DECADE = 100
QUARTER_DECADE = TICKS_PER_DECADE // 4

KERNELS = list(range(1, KERNEL_MAX + 1, 2))
RULE_LABELS = {"lecun": "1/fan-in", "he": "2/fan-in", "residual": "ln2/(L·D²·J)"}


class Section(QCollapsible):
    """A collapsible group of controls that is as tall as its contents, always.

    superqt's QCollapsible caps its content at the height of its sizeHint when it expands; a
    word-wrapped label or a flowing row that later needs another line (a longer value, a wider
    font) was then cut off. Expanded, the cap is lifted; collapsed, the content has no height.
    """

    def _expand_collapse(self, direction, animate: bool = True, emit: bool = True) -> None:
        super()._expand_collapse(direction, False, emit)  # no animation: a lecturer's click is instant
        if self.isExpanded():
            self.content().setMaximumHeight(16_777_215)  # QWIDGETSIZE_MAX


def shortcut_tip(text: str, keys: str) -> str:
    return f"{text}  [{keys}]"


class InitVarianceControl(QWidget):
    """sigma_w^2 on a log slider, a numeric field, std and gain, and the rule presets."""

    value_requested = Signal(object)  # a float or a rule name
    error = Signal(str)  # why typed text was not taken

    def __init__(self, title: str, rules: tuple[str, ...], keys: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._value: float = 0.0
        self.title = QLabel(title)
        self.title.setWordWrap(True)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(int(LOG_MIN * TICKS_PER_DECADE), int(LOG_MAX * TICKS_PER_DECADE))
        self.slider.setSingleStep(1)
        self.slider.setPageStep(QUARTER_DECADE)
        self.slider.setToolTip(shortcut_tip("Weight variance σ_w² on a log scale", keys))
        self.field = QLineEdit()
        # No validator: one would drop a '-' or letters silently; a refusal is said instead (error).
        self.field.setToolTip("σ_w²: type a number (e.g. 0.01 or 2e-3) and press Enter")
        self.field.setMaximumWidth(110)
        # short lines, never wrapped (see the rule row); its size only grows, so a new value
        # (every step of a drag) repaints the label alone, not the controls' layout (gui/steady.py)
        self.info = SteadyLabel(" ")
        self.info.setTextFormat(Qt.TextFormat.RichText)
        self.buttons: dict[str, QToolButton] = {}
        # One row, never wrapped: the panel is as wide as this row needs at the current zoom
        # (a wrapping row was cut off by the layouts above it, which ignore height-for-width).
        rules_box = QWidget()
        rules_row = QHBoxLayout(rules_box)
        rules_row.setContentsMargins(0, 0, 0, 0)
        rules_row.setSpacing(3)
        rules_row.addWidget(QLabel("rule:"))
        for rule in rules:
            b = QToolButton()
            b.setText(RULE_LABELS[rule])
            b.setCheckable(True)
            b.setToolTip(f"σ_w² = {RULE_LABELS[rule]}, re-evaluated when L, D or J change")
            b.clicked.connect(lambda _=False, r=rule: self.value_requested.emit(r))
            self.buttons[rule] = b
            rules_row.addWidget(b)
        rules_row.addStretch(1)
        value_row = QHBoxLayout()
        value_row.setSpacing(3)
        value_row.addWidget(self.field)
        for label, factor in (("×0.1", 0.1), ("×10", 10.0)):
            b = QToolButton()
            b.setText(label)
            b.clicked.connect(lambda _=False, f=factor: self._scale(f))
            self.buttons[label] = b
            value_row.addWidget(b)
        value_row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(3)
        lay.addWidget(self.title)
        lay.addWidget(self.slider)
        lay.addLayout(value_row)
        lay.addWidget(rules_box)
        lay.addWidget(self.info)
        self.slider.valueChanged.connect(self._slider_moved)
        self.field.editingFinished.connect(self._field_done)

    def _slider_moved(self, tick: int) -> None:
        value = float(f"{10 ** (tick / TICKS_PER_DECADE):.3g}")
        self.value_requested.emit(value)

    def _field_done(self) -> None:
        text = self.field.text().strip()
        try:
            value = float(text.replace("−", "-").replace(",", "."))
        except ValueError:
            self.field.setText(theme.fmt(self._value, 3))
            self.error.emit(f"σ_w² must be a number such as 0.01 or 2e-3, not {text!r}: kept {theme.fmt(self._value)}")
            return
        if value != self._value:
            self.value_requested.emit(value)

    def _scale(self, factor: float) -> None:
        self.value_requested.emit(float(f"{self._value * factor:.3g}"))

    def show_value(self, init: str | float, value: float, fan_in: int, fan_label: str = "fan-in") -> None:
        """Show sigma_w^2 = ``value`` (from ``init``: a number or a rule) without emitting."""
        self._value = value
        with QSignalBlocker(self.slider):
            if value > 0:
                tick = round(math.log10(value) * TICKS_PER_DECADE)
                self.slider.setValue(max(self.slider.minimum(), min(self.slider.maximum(), tick)))
            else:
                self.slider.setValue(self.slider.minimum())
        if not self.field.hasFocus():
            self.field.setText(theme.fmt(value, 3))
        for rule, b in self.buttons.items():
            if b.isCheckable():
                b.setChecked(init == rule)
        rule = f" = {RULE_LABELS[init]}" if isinstance(init, str) else ""
        gain = value * fan_in
        self.info.setText(
            f"σ<sub>w</sub>² = <b>{theme.fmt(value)}</b>{rule}<br>"
            f"σ<sub>w</sub> = {theme.fmt(math.sqrt(value))}, &nbsp;{fan_label} = {fan_in}<br>"
            f"gain σ<sub>w</sub>²·{fan_label} = <b>{theme.fmt(gain)}</b>"
        )


def _combo(items: list[tuple[str, Any]], tip: str) -> QComboBox:
    c = QComboBox()
    for text, data in items:
        c.addItem(text, data)
    c.setToolTip(tip)
    return c


def _set_combo(c: QComboBox, data: Any) -> None:
    i = c.findData(data)
    if i >= 0:
        with QSignalBlocker(c):
            c.setCurrentIndex(i)


class ControlsPanel(QWidget):
    """All Settings controls, grouped by what they act on; sections follow the mode."""

    settings_requested = Signal(object)  # Settings
    error = Signal(str)  # a one-line reason a requested value was refused

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self._updating = False

        # -- the scale-shared network (pyramid and cost modes)
        self.init = InitVarianceControl(
            "Init variance σ<sub>w</sub>²",
            ("lecun", "he", "residual"),
            "V / Shift+V, presets Alt+1..3, Alt+- ×0.1, Alt+= ×10",
        )
        self.depth_slider = QLabeledSlider(Qt.Orientation.Horizontal)
        self.depth_slider.setToolTip(shortcut_tip("Depth L: levels of the network (1 .. k = log2 size)", "D / Shift+D"))
        self.activation = _combo([(a, a) for a in ACTIVATIONS], shortcut_tip("Activation f", "A / Shift+A"))
        self.shared = QCheckBox("Weights shared across scales")
        self.shared.setToolTip(shortcut_tip("Same W←, W↑ at every scale s (off: one filter pair per scale)", "S"))
        self.size_box = _combo(
            [(f"{n} × {n}  (k = {int(math.log2(n))})", n) for n in SIZES],
            shortcut_tip("Input size 2^k: the image is fitted to this square", "N / Shift+N"),
        )
        net = QFormLayout()
        net.addRow(self.init)
        net.addRow("Depth L", self.depth_slider)
        net.addRow("Activation f", self.activation)
        net.addRow("Input size", self.size_box)
        net.addRow(self.shared)
        self.net_section = self._section("Network (Problem 3)", net)

        # -- the residual stack (init lab)
        self.res_init = InitVarianceControl(
            "Init variance σ<sub>w</sub>² of the branch",
            ("lecun", "he", "residual"),
            "V / Shift+V, presets Alt+1..3, Alt+- ×0.1, Alt+= ×10",
        )
        self.res_depth = QLabeledSlider(Qt.Orientation.Horizontal)
        self.res_depth.setRange(1, RESIDUAL_DEPTH_MAX)
        self.res_depth.setToolTip(shortcut_tip("Depth L of the residual stack (1 .. 100)", "D / Shift+D"))
        self.res_activation = _combo(
            [(a, a) for a in ACTIVATIONS], shortcut_tip("Activation f on the residual branch", "A / Shift+A")
        )
        self.res_input = _combo(
            [("noise (unit variance)", "noise"), ("the image", "image")],
            shortcut_tip("What L_0 is: seeded N(0,1) noise or the image lifted to J channels", "T"),
        )
        self.noise_size = _combo(
            [(f"{n} × {n}", n) for n in NOISE_SIZES], shortcut_tip("Spatial size of the noise input", "N / Shift+N")
        )
        res = QFormLayout()
        res.addRow(self.res_init)
        res.addRow("Depth L", self.res_depth)
        res.addRow("Activation f", self.res_activation)
        res.addRow("Input L₀", self.res_input)
        res.addRow("Noise size", self.noise_size)
        self.res_section = self._section("Residual stack (Problem 5)", res)

        # -- the single unit (init lab)
        self.unit_init = InitVarianceControl(
            "Init variance σ<sub>w</sub>² (unit)", ("lecun", "he"), "Alt+V / Alt+Shift+V"
        )
        self.unit_dim = QSpinBox()
        self.unit_dim.setRange(1, UNIT_DIM_MAX)
        self.unit_dim.setToolTip(shortcut_tip("Number of inputs d of the unit", "Alt+D / Alt+Shift+D"))
        self.unit_activation = _combo(
            [(a, a) for a in ACTIVATIONS], shortcut_tip("Activation f of the unit", "Alt+A / Alt+Shift+A")
        )
        unit = QFormLayout()
        unit.addRow(self.unit_init)
        unit.addRow("Inputs d", self.unit_dim)
        unit.addRow("Activation f", self.unit_activation)
        self.unit_section = self._section("Single unit (Problem 4)", unit)

        # -- layer shape, weights, device (every mode)
        self.channels = QLabeledSlider(Qt.Orientation.Horizontal)
        self.channels.setRange(1, CHANNELS_MAX)
        self.channels.setToolTip(shortcut_tip("Channels J of every layer", "J / Shift+J (×2, ÷2)"))
        self.kernel = _combo([(f"{d} × {d}", d) for d in KERNELS], shortcut_tip("Filter size D (odd)", "K / Shift+K"))
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Weight seed: the same seed draws the same weights")
        self.reroll = QPushButton("Re-roll")
        self.reroll.setToolTip(shortcut_tip("Draw new weights (a new seed)", "E"))
        self.device = QComboBox()
        self.device.setToolTip(shortcut_tip("Where torch computes", "Ctrl+D"))
        self._set_devices(None)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.reroll)
        common = QFormLayout()
        common.addRow("Channels J", self.channels)
        common.addRow("Kernel D", self.kernel)
        common.addRow("Weight seed", seed_row)
        common.addRow("Device", self.device)
        self.common_section = self._section("Layers, weights, device", common)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        for sec in (self.net_section, self.res_section, self.unit_section, self.common_section):
            lay.addWidget(sec)
        lay.addStretch(1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

        self._connect()
        self.set_settings(settings)

    @staticmethod
    def _section(title: str, form: QFormLayout) -> QCollapsible:
        sec = Section(title)
        sec.setDuration(0)
        body = QWidget()
        form.setContentsMargins(2, 2, 2, 2)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # label above field when narrow
        body.setLayout(form)
        sec.addWidget(body)
        sec.expand(animate=False)
        button = sec.toggleButton()
        button.setStyleSheet(button.styleSheet().rstrip().rstrip(";") + "; font-weight: bold;")
        return sec

    def set_zoom(self, zoom: float) -> None:
        """Fonts of the widgets a style sheet cuts off from the window's font (section titles,
        the sliders' value labels) follow the zoom too."""
        for sec in (self.net_section, self.res_section, self.unit_section, self.common_section):
            sec.toggleButton().setFont(theme.font(zoom, bold=True))
        for slider in (self.depth_slider, self.res_depth, self.channels):
            for child in slider.findChildren(QWidget):
                child.setFont(theme.font(zoom))

    # -- wiring: each control requests settings.replace(field=value) ------------------------
    def _connect(self) -> None:
        def req(field: str, convert: Callable[[Any], Any] = lambda v: v) -> Callable[[Any], None]:
            return lambda value: self._request(**{field: convert(value)})

        for control in (self.init, self.res_init, self.unit_init):
            control.error.connect(self.error)
        self.init.value_requested.connect(req("init"))
        self.res_init.value_requested.connect(req("residual_init"))
        self.unit_init.value_requested.connect(req("unit_init"))
        self.depth_slider.valueChanged.connect(req("depth", int))
        self.res_depth.valueChanged.connect(req("residual_depth", int))
        self.channels.valueChanged.connect(req("channels", int))
        self.unit_dim.valueChanged.connect(req("unit_dim", int))
        self.seed.valueChanged.connect(req("seed", int))
        self.shared.toggled.connect(req("shared", bool))
        for combo, field in (
            (self.activation, "activation"),
            (self.res_activation, "residual_activation"),
            (self.unit_activation, "unit_activation"),
            (self.kernel, "kernel"),
            (self.res_input, "residual_input"),
            (self.noise_size, "noise_size"),
            (self.device, "device"),
        ):
            combo.currentIndexChanged.connect(lambda _i, c=combo, f=field: self._request(**{f: c.currentData()}))
        self.size_box.currentIndexChanged.connect(lambda _i: self._request_size(self.size_box.currentData()))

    def _request(self, **changes: Any) -> None:
        if self._updating:
            return
        try:
            new = self._settings.replace(**changes)
        except SettingsError as err:
            self.error.emit(str(err))
            self.set_settings(self._settings)
            for control in (self.init, self.res_init, self.unit_init):  # the refused text goes
                control.field.setText(theme.fmt(control._value, 3))
            return
        if new != self._settings:
            self.settings_requested.emit(new)

    def _request_size(self, size: int) -> None:
        if self._updating:
            return
        try:
            new = self._settings.with_size(size)  # depth follows the size
        except SettingsError as err:
            self.error.emit(str(err))
            self.set_settings(self._settings)
            return
        if new != self._settings:
            self.settings_requested.emit(new)

    # -- showing ------------------------------------------------------------------------------
    def set_settings(self, s: Settings) -> None:
        self._settings = s
        self._updating = True
        try:
            for target, control in (
                ("init", self.init),
                ("residual_init", self.res_init),
                ("unit_init", self.unit_init),
            ):
                control.show_value(
                    getattr(s, target),
                    s.init_var(target),
                    s.fan_in(target),
                    "d" if target == "unit_init" else "fan-in",
                )
            with QSignalBlocker(self.depth_slider):
                self.depth_slider.setRange(1, s.k)
                self.depth_slider.setValue(s.depth)
            for w, v in (
                (self.res_depth, s.residual_depth),
                (self.channels, s.channels),
                (self.unit_dim, s.unit_dim),
                (self.seed, min(s.seed, 2**31 - 1)),
            ):
                with QSignalBlocker(w):
                    w.setValue(v)
            with QSignalBlocker(self.shared):
                self.shared.setChecked(s.shared)
            for combo, value in (
                (self.activation, s.activation),
                (self.res_activation, s.residual_activation),
                (self.unit_activation, s.unit_activation),
                (self.kernel, s.kernel),
                (self.res_input, s.residual_input),
                (self.noise_size, s.noise_size),
                (self.size_box, s.size),
                (self.device, s.device),
            ):
                _set_combo(combo, value)
            self.noise_size.setEnabled(s.residual_input == "noise")
            init_mode = s.mode == "init"
            video = s.mode == "video-net"  # Problem 2's network shares J, D, L, f and sigma_w^2; no scales
            self.net_section.setText("Video network (Problem 2)" if video else "Network (Problem 3)")
            self.shared.setVisible(not video)
            self.net_section.setVisible(not init_mode)
            self.res_section.setVisible(init_mode)
            self.unit_section.setVisible(init_mode)
        finally:
            self._updating = False

    def device_names(self) -> list[str]:
        """The devices the device box offers, in its order ("auto" first)."""
        return [self.device.itemData(i) for i in range(self.device.count())]

    def set_devices(self, infos: list | None) -> None:
        self._set_devices(infos)
        _set_combo(self.device, self._settings.device)

    def _set_devices(self, infos: list | None) -> None:
        """Fill the device list; unavailable devices are disabled with the reason as tooltip."""
        with QSignalBlocker(self.device):
            self.device.clear()
            self.device.addItem("auto (best available)", "auto")
            if infos is None:
                self.device.addItem("cpu", "cpu")
                return
            model = self.device.model()
            for info in infos:
                label = info.name if info.available else f"{info.name} — unavailable"
                self.device.addItem(label, info.name)
                i = self.device.count() - 1
                self.device.setItemData(i, info.reason, Qt.ItemDataRole.ToolTipRole)
                if not info.available and isinstance(model, QStandardItemModel):
                    model.item(i).setEnabled(False)
            self.device_reasons = {i.name: i.reason for i in infos}
