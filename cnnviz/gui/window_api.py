"""What the window's mixins use of :class:`~cnnviz.gui.main_window.MainWindow`, for the type checker.

:class:`~cnnviz.gui.layout.LayoutMixin` and :class:`~cnnviz.gui.source.SourceMixin` are bases of
MainWindow that read its state and call its routing methods. At run time they derive from
``object``; to mypy they derive from :class:`WindowApi`, a QMainWindow declaring what they use, so
every such use is checked, and MainWindow's own definitions are checked against these declarations.
Nothing here exists at run time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from PySide6.QtWidgets import QMainWindow

    from ..scene import Scene
    from ..settings import Settings
    from ..view_state import ViewState
    from .actions import Actions
    from .camera import LiveCamera
    from .pacing import Pacer
    from .playback import Playback
    from .source import Source
    from .source_panel import SourcePanel
    from .store import StateStore

    class WindowApi(QMainWindow):
        """The state and routing of MainWindow that its mixins use (defined in main_window.py)."""

        settings: Settings
        view: ViewState
        source: Source | None
        frame: np.ndarray | None  # float32 [size, size, 3] in [0, 1], the network's input
        frame_description: str
        store: StateStore | None
        recent: list[str]
        commands: Actions
        camera: LiveCamera
        playback: Playback
        source_panel: SourcePanel  # built by LayoutMixin, used by SourceMixin
        pacer: Pacer

        @property
        def streaming(self) -> bool: ...

        def request(self, settings: Settings) -> None: ...
        def say(self, message: str, ms: int = 8000) -> None: ...
        def set_view_state(self, view: ViewState) -> None: ...
        def scene(self) -> Scene: ...
        def show_error(self, title: str, text: str) -> None: ...
        def _submit(self, cancel_running: bool = True) -> int | None: ...
        def _open_inspector(self, level: int, scale: int) -> None: ...
        def _on_cell_selected(self, level: int, scale: int) -> None: ...

    MixinBase = WindowApi
else:
    MixinBase = object
