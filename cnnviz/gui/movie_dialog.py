"""File > Export movie: a slider sweep from the current settings (or a clip's frames) to MP4 or GIF.

The dialog proposes a sweep of the field the current mode's keys act on (σ_w² over two decades
either side of the current value, logarithmic), the format, the frame size and the rate. The
movie is made by :mod:`cnnviz.export.movie` (the export's figures, one engine run per frame) on a
``QThread``; a progress dialog shows each frame and its Cancel stops at the next frame, leaving
no partial file (the movie is written beside its target and renamed only when complete).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressDialog,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..errors import CnnvizError
from ..export import movie
from ..export.naming import stem
from ..scene import Scene
from ..settings import INIT_FIELDS, Settings
from . import ask
from .export_dialog import _Memory, last_folder

if TYPE_CHECKING:
    from .main_window import MainWindow

SIZES = ("1280x720", "1920x1080", "960x540", "800x800")
SWEEP, CLIP = "sweep", "clip"
_FIELDS = (
    *("init", "residual_init", "unit_init", "depth", "residual_depth", "channels", "kernel", "seed"),
    *("activation", "residual_activation", "size", "unit_dim"),
)


class Cancelled(Exception):
    """Raised from the progress callback when Cancel was pressed: the movie is abandoned."""


def default_range(settings: Settings, field: str) -> tuple[str, str, int, bool]:
    """(from, to, steps, log) proposed for ``field`` around its current value."""
    from ..export.figures import fmt

    if field in INIT_FIELDS:
        v = settings.init_var(field)
        return fmt(v / 100), fmt(v * 100), 41, True  # 4 decades, 10 steps per decade
    if field in ("depth", "residual_depth"):
        top = settings.k if field == "depth" else max(12, getattr(settings, field))
        return "1", str(top), top, False
    if field in ("activation", "residual_activation"):
        return "identity,relu,sigmoid,tanh", "", 4, False
    if field == "size":
        return "32", str(max(256, settings.size)), 0, False
    if field == "kernel":
        return "1", "9", 5, False
    if field == "channels":
        return "1", "64", 7, True
    if field == "unit_dim":
        return "1", "10000", 13, True
    v = int(getattr(settings, field))
    return str(v), str(v + 9), 10, False


def sweep_spec(field: str, start: str, stop: str, steps: int, log: bool) -> str:
    """The CLI's ``--sweep`` text for the dialog's choices (a list when ``stop`` is empty)."""
    if not stop.strip():
        return f"{field}={start}"
    parts = [start.strip(), stop.strip()] + (["log"] if log else ["lin"]) + ([str(steps)] if steps >= 2 else [])
    return f"{field}={':'.join(parts)}"


class MovieWorker(QObject):
    """Draws and encodes the movie on its thread; ``cancel()`` from the GUI thread stops it."""

    progress = Signal(int, int)
    done = Signal(object)  # Path
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, job: dict[str, Any]) -> None:
        super().__init__()
        self.job = job
        self._cancel = False

    def cancel(self) -> None:
        self._cancel = True

    def _step(self, i: int, n: int) -> None:
        if self._cancel:
            raise Cancelled
        self.progress.emit(i, n)

    def run(self) -> None:
        job = self.job
        try:
            self._step(0, job["n"])
            path = movie.write_movie(
                job["path"],
                job["frames"](),
                job["n"],
                job["scene"],
                fps=job["fps"],
                about=job["about"],
                progress=self._step,
                inputs=job["inputs"],
            )
        except Cancelled:
            self.cancelled.emit()
        except CnnvizError as err:
            self.failed.emit(str(err))
        except Exception as err:  # a movie must never take the window down
            self.failed.emit(f"{type(err).__name__}: {err}")
        else:
            self.done.emit(path)


class MovieDialog(QDialog):
    """Choose the sweep (or the clip), format, size and rate; :meth:`start` makes the movie."""

    finished_movie = Signal(object)  # the Path written, or None (cancelled or failed)

    def __init__(self, window: MainWindow, parent: QWidget | None = None) -> None:
        super().__init__(parent or window)
        self.setWindowTitle("Export movie")
        self.window_ = window
        self.scene: Scene = window.scene()
        self.frame = window.frame
        self.thread_: QThread | None = None
        self.worker: MovieWorker | None = None
        self.progress_dialog: QProgressDialog | None = None
        self.written: Path | None = None
        self.error: str | None = None
        s = self.scene.settings

        self.what = QComboBox()
        self.what.addItem("A slider sweep of one setting", SWEEP)
        src = window.source
        self.clip_path = src.path if src is not None and src.is_video else None
        if self.clip_path:
            self.what.addItem(f"Every frame of the clip {Path(self.clip_path).name}", CLIP)
        self.field = QComboBox()
        for f in _FIELDS:
            self.field.addItem(movie.LABELS.get(f, f).replace("$", "").replace("\\sigma_w^2", "σ_w²") + f"  ({f})", f)
        self.start_edit, self.stop_edit = QLineEdit(), QLineEdit()
        self.steps = QSpinBox()
        self.steps.setRange(2, movie.MAX_STEPS)
        self.log = QComboBox()
        self.log.addItems(["linear", "logarithmic"])
        self.format = QComboBox()
        self.format.addItems(list(movie.MOVIE_FORMATS))
        self.frame_size = QComboBox()
        self.frame_size.setEditable(True)
        self.frame_size.addItems(list(SIZES))
        self.fps = QDoubleSpinBox()
        self.fps.setRange(0.5, 60)
        self.fps.setValue(movie.DEFAULT_FPS)
        self.fps.setSuffix(" fps")
        self.path = QLineEdit()
        choose = QPushButton("Choose…")
        choose.clicked.connect(self._choose_path)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(choose)
        self.status = QLabel(" ")
        self.status.setWordWrap(True)

        form = QFormLayout()
        form.addRow("Movie of", self.what)
        form.addRow("Setting", self.field)
        form.addRow("From", self.start_edit)
        form.addRow("To", self.stop_edit)
        form.addRow("Steps", self.steps)
        form.addRow("Spacing", self.log)
        form.addRow("Format", self.format)
        form.addRow("Frame size", self.frame_size)
        form.addRow("Rate", self.fps)
        form.addRow("File", path_row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.go = buttons.addButton("Export movie", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.start)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.status)
        lay.addWidget(buttons)

        self.field.setCurrentIndex(max(0, self.field.findData(s.init_field)))
        self.field.currentIndexChanged.connect(self._field_changed)
        self.what.currentIndexChanged.connect(self._what_changed)
        self.format.currentIndexChanged.connect(self._propose_path)
        self._field_changed()

    # -- choices ----------------------------------------------------------------------------
    def _field_changed(self) -> None:
        field = self.field.currentData()
        start, stop, steps, log = default_range(self.scene.settings, field)
        self.start_edit.setText(start)
        self.stop_edit.setText(stop)
        self.steps.setValue(max(2, steps))
        self.log.setCurrentIndex(1 if log else 0)
        self._propose_path()

    def _what_changed(self) -> None:
        sweep = self.what.currentData() == SWEEP
        for widget in (self.field, self.start_edit, self.stop_edit, self.steps, self.log):
            widget.setEnabled(sweep)
        if not sweep and self.clip_path:  # a clip plays at its own rate
            from ..io.video import probe

            try:
                self.fps.setValue(probe(self.clip_path).fps)
            except CnnvizError:
                pass
        self._propose_path()

    def _name(self) -> str:
        if self.what.currentData() == CLIP and self.clip_path:
            return f"{stem(self.scene)}_clip-{Path(self.clip_path).stem}"
        return f"{stem(self.scene.settings.replace(mode=self._mode()))}_sweep-{self.field.currentData()}"

    def _mode(self) -> str:
        return movie.mode_for(self.field.currentData(), self.scene.settings)

    def _propose_path(self) -> None:
        folder = Path(self.path.text()).parent if self.path.text() else last_folder()
        self.path.setText(str(folder / f"{self._name()}.{self.format.currentText()}"))

    def _choose_path(self) -> None:
        filters = "MP4 video (*.mp4);;GIF animation (*.gif)"
        path, _ = QFileDialog.getSaveFileName(self, "Export movie", self.path.text(), filters)
        if path:
            self.path.setText(path)

    def confirm_replace(self, path: Path) -> bool:
        """Ask before replacing a file (a test may replace this method)."""
        return ask.replace_files(self, [path])

    def show_error(self, message: str) -> None:
        self.error = message
        self.status.setText(ask.error_html(message))

    def job(self) -> dict[str, Any]:
        """What to make, checked (CnnvizError in one line when a choice is bad)."""
        path = Path(self.path.text()).expanduser()
        fmt = movie.movie_format(path)
        size = movie.parse_frame_size(self.frame_size.currentText())
        scene = self.scene
        inputs = [scene.source.path] if scene.source is not None and scene.source.path else []
        if self.what.currentData() == CLIP and self.clip_path:
            n, _fps, frames = movie.clip_frames(scene, self.clip_path, size)
            return {
                "path": path,
                "fmt": fmt,
                "n": n,
                "fps": self.fps.value(),
                "scene": scene,
                "frames": lambda: frames,
                "about": {"clip": {"file": Path(self.clip_path).name, "frames": n}},
                "inputs": inputs,
            }
        field = self.field.currentData()
        settings = scene.settings.replace(mode=self._mode())
        scene = scene.replace(settings=settings)
        spec = sweep_spec(
            field, self.start_edit.text(), self.stop_edit.text(), self.steps.value(), self.log.currentIndex() == 1
        )
        sweep = movie.parse_sweep(spec, settings)
        frame = self.frame
        return {
            "path": path,
            "fmt": fmt,
            "n": len(sweep.values),
            "fps": self.fps.value(),
            "scene": scene,
            "frames": lambda: movie.sweep_frames(scene, sweep, frame, size),
            "about": {"sweep": sweep.to_dict()},
            "inputs": inputs,
        }

    # -- making it --------------------------------------------------------------------------
    def start(self) -> bool:
        """Check the choices, ask before replacing, and start the movie on its thread."""
        try:
            job = self.job()
        except CnnvizError as err:
            self.show_error(str(err))
            return False
        path: Path = job["path"]
        if not path.parent.is_dir():
            self.show_error(f"{path.parent} is not a folder.")
            return False
        if path.exists() and not self.confirm_replace(path):
            return False
        self.go.setEnabled(False)
        self.progress_dialog = QProgressDialog(f"Drawing {path.name}…", "Cancel", 0, job["n"], self)
        self.progress_dialog.setWindowTitle("Export movie")
        self.progress_dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.progress_dialog.setMinimumDuration(0)
        self.worker = MovieWorker(job)
        self.thread_ = QThread(self)
        self.worker.moveToThread(self.thread_)
        self.thread_.started.connect(self.worker.run)
        self.worker.progress.connect(self._on_progress)
        self.worker.done.connect(self._on_done)
        self.worker.failed.connect(self._on_failed)
        self.worker.cancelled.connect(self._on_cancelled)
        self.progress_dialog.canceled.connect(self.cancel)
        self.thread_.start()
        return True

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()

    def _on_progress(self, i: int, n: int) -> None:
        if self.progress_dialog is not None:
            self.progress_dialog.setValue(i)
            self.progress_dialog.setLabelText(f"Frame {i} of {n}")

    def _finish(self, path: Path | None) -> None:
        if self.thread_ is not None:
            self.thread_.quit()
            self.thread_.wait()
        if self.progress_dialog is not None:
            self.progress_dialog.reset()
            self.progress_dialog.close()
        self.go.setEnabled(True)
        self.written = path
        self.finished_movie.emit(path)

    def _on_done(self, path: Path) -> None:
        _Memory.folder = path.parent
        self.window_.say(f"movie written: {path}", 8000)
        self._finish(path)
        self.accept()

    def _on_failed(self, message: str) -> None:
        self.show_error(message)
        self._finish(None)

    def _on_cancelled(self) -> None:
        self.status.setText("Cancelled: no file was written.")
        self._finish(None)

    def closeEvent(self, event) -> None:  # closing the dialog while it works cancels the movie
        self.cancel()
        if self.thread_ is not None and self.thread_.isRunning():
            self.thread_.quit()
            self.thread_.wait()
        super().closeEvent(event)


def open_movie_dialog(window: MainWindow) -> MovieDialog:
    """File > Export movie: the dialog, non-modal so the window stays live while it works."""
    dialog = MovieDialog(window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()  # the window owns it (its parent) while it is open
    return dialog
