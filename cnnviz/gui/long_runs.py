"""Long runs in the window: the estimate before, a progress bar during, cancel (Esc) and refusal.

Before a request is applied, :meth:`LongRuns.admit` asks :mod:`cnnviz.core.budget` whether it
fits in the memory there is; a refusal is one line in the status bar, and the window keeps its
settings and its picture. A request the budget estimates at more than :data:`WARN_SECONDS` (or
more than :data:`WARN_MEMORY` of the memory available) puts its estimate in the status bar
("about 40 s, 6.1 GB ...") and shows a progress bar fed by the engine's progress callback (the
worker's ``progress`` signal), with a Cancel button; Esc does the same. Cancel stops the
computation within a second (:mod:`cnnviz.core.strips`) and keeps the previous result on screen,
with the settings it was computed with.

The estimate is Problem 1's multiply count and the budget's memory formula, a few arithmetic
operations on the settings: nothing is computed here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QProgressBar, QToolButton

from ..core import budget
from ..errors import InputError, SettingsError
from ..settings import Settings

if TYPE_CHECKING:
    from ..core.result import Result
    from .main_window import MainWindow

WARN_SECONDS = 2.0  # an estimate longer than this is said, and the run shows its progress
WARN_MEMORY = 0.5  # ... and so is one that needs more than this fraction of the memory available
STEPS = 1000  # the progress bar's resolution


def estimate_of(settings: Settings) -> budget.Estimate:
    """What the worker's run of ``settings`` needs (the video network in its mode, else engine.run's)."""
    if settings.mode == "video-net":
        return budget.video_estimate(settings)
    return budget.estimate(settings)


def _device(settings: Settings) -> str:
    # "auto" would need torch to resolve; the host's memory is the check until the engine's own
    return settings.device if settings.device.startswith("cuda") else "cpu"


def describe(est: budget.Estimate) -> str:
    """The status bar's line before a long run."""
    return (
        # Esc first: at 1280 px the status bar's right-hand labels cut the end of this line.
        f"Esc cancels · about {budget.format_seconds(est.seconds)}, {budget.format_bytes(est.bytes)} — "
        f"choose {est.lower} to speed it up"
    )


class LongRuns(QObject):
    """The window's estimate line, progress bar and Cancel button (status bar), and Esc's handler."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.generation: int | None = None  # the long request whose progress the bar shows
        self.estimate: budget.Estimate | None = None
        self.bar = QProgressBar()
        self.bar.setRange(0, STEPS)
        self.bar.setMaximumWidth(180)
        self.bar.setFormat("%p %")
        self.bar.setToolTip("How far the computation is (multiplies done, forward and backward)")
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Stop this computation and keep the previous result (Esc)")
        self.cancel_button.clicked.connect(self.cancel)
        sb = window.statusBar()
        for w in (self.bar, self.cancel_button):
            w.hide()
            sb.addPermanentWidget(w)
        # bound methods of this GUI-thread object: the worker's signals arrive queued, here
        window.worker.progress.connect(self._on_progress)
        window.result_drawn.connect(self._on_drawn)

    @property
    def running(self) -> bool:
        """A long run's progress is being shown."""
        return self.generation is not None

    def admit(self, settings: Settings) -> bool:
        """False (and one line in the status bar) when ``settings`` would not fit in memory."""
        try:
            budget.check(settings, _device(settings), estimate_of(settings))
        except (budget.BudgetError, SettingsError) as err:
            self.window.say(f"not computed: {err}", 15000)
            return False
        return True

    def submitted(self, generation: int, settings: Settings) -> None:
        """A request went to the worker: say its estimate and show its progress when it is long."""
        # runs for every frame of a clip: both are cached in core (the estimate per shape, the
        # host's memory for a second), a few microseconds here
        try:
            est = estimate_of(settings)
        except SettingsError:
            est = None
        free = budget.available_memory(_device(settings))
        big = est is not None and free is not None and est.bytes > WARN_MEMORY * free
        if est is None or not (est.seconds > WARN_SECONDS or big):
            if self.generation is not None:
                self._finish()
            return
        self.generation, self.estimate = generation, est
        self.bar.setRange(0, 0)  # busy until the first progress report (Problem 2's network sends none)
        self.bar.show()
        self.cancel_button.show()
        self.window.say(describe(est), 0)

    def _on_progress(self, generation: int, fraction: float) -> None:
        if generation == self.generation:
            if self.bar.maximum() == 0:
                self.bar.setRange(0, STEPS)
            self.bar.setValue(max(self.bar.value(), round(fraction * STEPS)))

    def _on_drawn(self, generation: int, _result: Result | None) -> None:
        if self.generation is not None and generation >= self.generation:
            self._finish()
            self.window.statusBar().clearMessage()

    def _finish(self) -> None:
        self.generation = self.estimate = None
        self.bar.hide()
        self.cancel_button.hide()

    def cancel(self) -> None:
        """Stop the running computation; the picture and the settings stay those of the result shown."""
        w = self.window
        if not w.worker.cancel_running():
            w.say("nothing is being computed")
            return
        self._finish()
        shown = w.result
        if shown is not None:
            self._restore(shown.settings)
        w._drawn_gen = w.worker.latest_generation  # nothing newer is coming
        if shown is None:  # the first request of the session was the long one
            w.say("cancelled: nothing computed yet; choose a smaller input size or fewer channels")
        else:
            w.say("cancelled: the previous result stays on screen")

    def _restore(self, settings: Settings) -> None:
        """Show ``settings`` (those of the result on screen) again without computing anything."""
        w = self.window
        old = w.settings
        if settings == old:
            return
        if settings.size != old.size and w.source is not None:
            try:
                w.frame, w.frame_description = w.source.fit(settings.size)
            except InputError:
                return  # the image cannot be refitted: keep the settings the controls show
            w.source_panel.set_frame(w.frame, w.source.name, w.frame_description)
        w.settings = settings
        w.controls.set_settings(settings)
        w.video_view.set_settings(settings)
        if settings.mode != old.mode:
            w._update_mode_page()
