"""The window's side of the exports: File > Export, one plot from its right-click menu, the clipboard.

Everything is drawn and written by :mod:`cnnviz.export` (matplotlib, stamped, atomic); this
module only asks where. The window plugs it in through its key table, for example::

    Binding("export", "Export…", ("Ctrl+E",), lambda w: export_dialog.open_export(w, w.scene(), w.result), "File", 1)
    Binding("copy_figure", "Copy figure", ("Ctrl+Shift+C",), lambda w: export_dialog.copy_figure(...), None)

- :class:`ExportDialog`: a folder (the last one used is remembered for the session), a name
  proposed from the settings (:func:`cnnviz.export.stem`), the figures of the mode, the formats
  and the PNG scale; it asks before replacing files.
- :func:`export_one`: one figure through a save dialog (right-click on a plot or the grid).
- :func:`copy_figure`: one figure to the clipboard as a PNG image, and as SVG where the platform
  takes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from PySide6.QtCore import QMimeData, Qt
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..core.result import Result
from ..errors import CnnvizError
from ..export import DATA_FORMATS, FIGURE_FORMATS, FIGURES, FORMATS, stem
from ..export.data import has_full_maps
from ..scene import Scene
from . import ask

DEFAULT_FORMATS = ("png", "svg", "pdf", "csv", "json")
WINDOW_FIGURE = "window"
FORMAT_LABELS = {
    "png": "PNG (pixels, for slides)",
    "svg": "SVG (vector, editable)",
    "pdf": "PDF (vector, for LaTeX)",
    "csv": "CSV (one row per layer)",
    "json": "JSON (every number)",
    "npz": "NPZ (full-resolution maps)",
}


class _Memory:
    """What the dialogs remember for the session (no QSettings): the last folder written to."""

    folder: Path | None = None


def last_folder() -> Path:
    return _Memory.folder if _Memory.folder is not None and _Memory.folder.is_dir() else Path.home()


class ExportDialog(QDialog):
    """Export ``figures`` of ``result`` (default: every figure of its mode) and its data into a folder."""

    def __init__(
        self,
        scene: Scene,
        result: Result,
        figures: Sequence[str] | None = None,
        parent: QWidget | None = None,
        window: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.window_widget = window
        self.setWindowTitle("Export figures and data")
        self.scene = scene.replace(settings=result.settings)
        self._result = result
        self.mode = result.settings.mode
        self.written: list[Path] = []

        self.folder = QLineEdit(str(last_folder()))
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._choose_folder)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        self.name = QLineEdit(stem(self.scene))
        self.name.setToolTip("The start of every file name; figures add _<figure>, e.g. _grid.png")

        self.figures = QListWidget()
        for f in figures if figures is not None else FIGURES.get(self.mode, ()):
            item = QListWidgetItem(f)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.figures.addItem(item)
        if window is not None:  # the whole window as it looks now: a PNG only
            item = QListWidgetItem(WINDOW_FIGURE)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            item.setToolTip("a PNG of the whole window at its size on screen")
            self.figures.addItem(item)
        self.figures.setMaximumHeight(22 * max(3, self.figures.count()) + 6)

        self.formats: dict[str, QCheckBox] = {}
        fmt_box = QVBoxLayout()
        for f in FORMATS:
            box = QCheckBox(FORMAT_LABELS[f])
            box.setChecked(f in DEFAULT_FORMATS)
            if f == "npz" and not has_full_maps(result):
                box.setEnabled(False)
                box.setToolTip("this result has no full-resolution maps")
            self.formats[f] = box
            fmt_box.addWidget(box)

        self.scale = QDoubleSpinBox()
        self.scale.setRange(0.5, 8.0)
        self.scale.setSingleStep(0.5)
        self.scale.setValue(2.0)
        self.scale.setSuffix(" ×")
        self.scale.setToolTip("PNG pixels: 1× is 100 dpi, 2× (for slides) is 200 dpi; SVG and PDF are vector")

        form = QFormLayout()
        form.addRow("Folder", row)
        form.addRow("Name", self.name)
        form.addRow("Figures", self.figures)
        form.addRow("Formats", fmt_box)
        form.addRow("PNG scale", self.scale)
        self.status = QLabel(" ")
        self.status.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.export)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.status)
        lay.addWidget(buttons)

    # -- choices --------------------------------------------------------------------------------
    def chosen_figures(self) -> list[str]:
        return [
            self.figures.item(i).text()
            for i in range(self.figures.count())
            if self.figures.item(i).checkState() == Qt.CheckState.Checked
        ]

    def chosen_formats(self) -> list[str]:
        return [f for f, box in self.formats.items() if box.isChecked() and box.isEnabled()]

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export into folder", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def confirm_replace(self, existing: list[Path]) -> bool:
        """Ask before replacing files (a test may replace this method)."""
        return ask.replace_files(self, existing)

    def show_error(self, message: str) -> None:
        self.status.setText(ask.error_html(message))

    # -- doing it -------------------------------------------------------------------------------
    def export(self) -> bool:
        """Write the chosen files; True when done (the dialog then closes)."""
        from ..export import batch

        folder = Path(self.folder.text()).expanduser()
        formats = self.chosen_formats()
        figures = [f for f in self.chosen_figures() if f != WINDOW_FIGURE]
        with_window = WINDOW_FIGURE in self.chosen_figures() and self.window_widget is not None
        if not formats and not with_window:
            self.show_error("Choose at least one format.")
            return False
        if not folder.is_dir():
            self.show_error(f"{folder} is not a folder.")
            return False
        try:
            items = batch.plan(
                self.scene,
                [self.mode],
                [f for f in formats if f in DATA_FORMATS or figures],
                folder,
                figures={self.mode: figures},
                base=self.name.text().strip(),
            )
            window_path = folder / f"{self.name.text().strip()}_{WINDOW_FIGURE}.png"
            existing = [i.path for i in items if i.path.exists()]
            if with_window and window_path.exists():
                existing.append(window_path)
            if existing and not self.confirm_replace(existing):
                return False
            inputs = [self.scene.source.path] if self.scene.source is not None else []
            if with_window and self.window_widget is not None:
                save_window_png(self.window_widget, window_path, self.scene, inputs=inputs)
                self.written.append(window_path)
            self.written += batch.write(
                items,
                {self.mode: self._result},
                self.scene,
                scale=self.scale.value(),
                inputs=inputs,
                report=self._progress,
            )
        except CnnvizError as err:
            self.show_error(str(err))
            return False
        _Memory.folder = folder
        self.accept()
        return True

    def _progress(self, i: int, n: int, path: Path) -> None:
        self.status.setText(f"{i}/{n}: wrote {path.name}")
        QGuiApplication.processEvents()


def save_window_png(widget: QWidget, path: Path, scene: Scene, inputs: Sequence[str | Path | None] = ()) -> Path:
    """``widget`` as it is on screen, as a PNG stamped like the figures (text chunk before the pixels)."""
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    from ..export.stamp import PNG_KEY, stamp_text
    from ..io.files import atomic_write

    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    w, h = image.width(), image.height()
    row = image.bytesPerLine()
    data = bytes(image.constBits())[: row * h]
    pil = Image.frombuffer("RGB", (w, h), data, "raw", "RGB", row, 1)
    info = PngInfo()
    info.add_itxt(PNG_KEY, stamp_text(scene))
    ratio = widget.devicePixelRatioF()
    dpi = 96.0 * ratio

    def write(f: BinaryIO) -> None:
        pil.save(f, format="PNG", pnginfo=info, dpi=(dpi, dpi))

    return atomic_write(path, write, inputs=inputs, what="PNG of the window")


def open_export(
    parent: QWidget, scene: Scene, result: Result | None, figures: Sequence[str] | None = None
) -> ExportDialog | None:
    """File > Export: the dialog for the current mode's figures (and the whole window, ``parent``),
    or a note when nothing is drawn yet."""
    if result is None:
        QMessageBox.information(parent, "Export", "Nothing to export yet: the first result is still being computed.")
        return None
    dialog = ExportDialog(scene, result, figures, parent, window=parent)
    dialog.exec()
    return dialog


def export_one(parent: QWidget, scene: Scene, result: Result, figure: str) -> Path | None:
    """One figure through a save dialog (right-click on a plot); the dialog asks before replacing."""
    from ..export import figures as figs

    scene = scene.replace(settings=result.settings)
    proposed = last_folder() / f"{stem(scene)}_{figure}.png"
    filters = "PNG image (*.png);;SVG vector (*.svg);;PDF vector (*.pdf)"
    path, chosen = QFileDialog.getSaveFileName(parent, f"Export {figure}", str(proposed), filters)
    if not path:
        return None
    p = Path(path)
    if p.suffix.lower().lstrip(".") not in FIGURE_FORMATS:
        p = p.with_name(p.name + "." + chosen.split("*.")[-1].rstrip(")"))
    try:
        inputs = [scene.source.path] if scene.source is not None else []
        figs.save_figure(
            figs.render(result, scene, figure), p, scene, title=f"cnnviz: {figs.TITLES[figure]}", inputs=inputs
        )
    except CnnvizError as err:
        QMessageBox.warning(parent, "Export", str(err))
        return None
    _Memory.folder = p.parent
    return p


def figure_mime(scene: Scene, result: Result, figure: str, scale: float = 2.0) -> QMimeData:
    """The clipboard's content for one figure: a PNG image, the PNG bytes, and the SVG."""
    from ..export import figures as figs

    scene = scene.replace(settings=result.settings)
    fig = figs.render(result, scene, figure)
    png = figs.figure_bytes(fig, scene, "png", scale=scale)
    svg = figs.figure_bytes(fig, scene, "svg")
    mime = QMimeData()
    mime.setImageData(QImage.fromData(png))
    mime.setData("image/png", png)
    mime.setData("image/svg+xml", svg)
    return mime


def copy_figure(scene: Scene, result: Result, figure: str) -> None:
    """Ctrl+Shift+C over a plot: that figure to the clipboard (image, and SVG where taken)."""
    QGuiApplication.clipboard().setMimeData(figure_mime(scene, result, figure))


def copy_window(widget: QWidget) -> None:
    """Ctrl+Shift+C elsewhere: the whole window, as it looks, to the clipboard as an image."""
    QGuiApplication.clipboard().setImage(widget.grab().toImage())


def figure_menu(parent: QWidget, scene: Scene, result: Result, figure: str) -> QMenu:
    """The right-click menu of one plot: export it (save dialog) or copy it."""
    from ..export.figures import TITLES

    menu = QMenu(parent)
    menu.addAction(f"Export {TITLES[figure]}…", lambda: export_one(parent, scene, result, figure))
    menu.addAction(f"Copy {TITLES[figure]}", lambda: copy_figure(scene, result, figure))
    return menu


# Which figure each plot of the window is (for the right-click menu and Ctrl+Shift+C under the mouse):
# view attribute -> figure name of cnnviz.export.FIGURES.
PLOT_FIGURES = {
    "grid": "grid",  # FeatureGridView
    "curves.var_plot": "variance",
    "curves.grad_plot": "gradient",
    "curves.zero_plot": "zeros",
    "curves.eq_plot": "equivariance",
    "curves.hist_plot": "histogram",
    "init_lab.var_plot": "residual_variance",
    "init_lab.grad_plot": "residual_gradient",
    "init_lab.y_plot": "unit_y",
    "init_lab.u_plot": "unit_u",
    "cost_view.plot": "multiplies",
    "video_view.columns": "layers",  # the layers and their x-t strips (a widget, not a plot)
    "video_view.var_plot": "video_variance",
    "video_view.grad_plot": "video_gradient",
    "video_view.table": "video_cost",
}
