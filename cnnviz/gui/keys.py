"""Every key and menu command of the window, as one declarative table.

A :class:`Binding` names a command, its keys, the *context* in which its keys are live, the menu
it appears in, and a plain function ``handler(window)`` that does it. The menus, the toolbar and
F1's list are all built from :data:`BINDINGS`, so a key is written down exactly once.

Contexts:

- ``always``: ordinary window shortcuts (QActions); a text box keeps the keys it types.
- ``video``: while a clip is open (play, step, scrub); ``lecture``: while a deck is open.
  Their keys work whatever widget has focus (a focused button would otherwise take Space, a text
  box Left and Right), and they take precedence over ``always`` keys: lecture, then video.

No key is bound twice in one context (``tests/gui/test_keys.py`` checks it). Features (export,
playback, lecture) add their rows here and their handlers in their own modules.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..settings import INIT_RULES, QUARTER_DECADE, Settings
from ..view_state import NORMALISATIONS, SEQUENTIAL_MAPS, ViewState

if TYPE_CHECKING:
    from .main_window import MainWindow

CONTEXTS = ("always", "video", "lecture")
PRECEDENCE = ("lecture", "video", "always")  # the first active context that binds a key wins


@dataclass(frozen=True)
class Binding:
    name: str  # a stable id: "open", "depth_up"
    text: str  # the menu text
    keys: tuple[str, ...]  # QKeySequence strings ("Ctrl+O", "Shift+D"); may be empty
    handler: Callable[[MainWindow], object]  # what it returns is not used
    menu: str | None = None  # "File", "View", "Network", "Help", or None (keys only)
    group: int = 0  # a separator is drawn between groups of one menu
    context: str = "always"
    checkable: bool = False
    tip: str | None = None


# -- handlers: plain functions of the window ----------------------------------------------
def _change(fn: Callable[[Settings], Settings]) -> Callable[[MainWindow], None]:
    """A handler that applies a Settings rule; the window shows why when it is refused."""

    def handler(w: MainWindow) -> None:
        w.change(fn)

    return handler


def _view(fn: Callable[[ViewState], ViewState]) -> Callable[[MainWindow], None]:
    return lambda w: w.change_view(fn)


def _step(field_of: Callable[[Settings], str] | str, step: int) -> Callable[[MainWindow], None]:
    def handler(w: MainWindow) -> None:
        w.change(lambda s: s.stepped(field_of if isinstance(field_of, str) else field_of(s), step))

    return handler


def _cycle(options: tuple[str, ...], current: str, step: int = 1) -> str:
    i = options.index(current) if current in options else 0
    return options[(i + step) % len(options)]


def _next_channel(step: int) -> Callable[[MainWindow], None]:
    def handler(w: MainWindow) -> None:
        c = (w.view.channel + step) % max(1, w.settings.channels)
        w.change_view(lambda v: v.replace(channel=c, mosaic=False))

    return handler


def _zoom(step: int) -> Callable[[MainWindow], None]:
    from . import theme

    return _view(lambda v: v.replace(zoom=theme.zoom_in(v.zoom) if step > 0 else theme.zoom_out(v.zoom)))


def _undo(w: MainWindow, step: int) -> None:
    from .undo import redo, undo

    (undo if step < 0 else redo)(w)


def _explain(w: MainWindow) -> None:
    from .explain import show_explanation

    show_explanation(w)


def reroll(w: MainWindow) -> None:
    seed = random.Random(w.settings.seed * 7919 + time.time_ns()).randrange(1_000_000)
    w.change(lambda s: s.replace(seed=seed))


def _next_device(w: MainWindow) -> None:
    names = w.controls.device_names()
    w.change(lambda s: s.replace(device=_cycle(tuple(names), s.device)))


def _init_rule(rule: str) -> Callable[[MainWindow], None]:
    return _change(lambda s: s.replace(**{s.init_field: rule}))


def _scale_init(factor: float, field: str | None = None) -> Callable[[MainWindow], None]:
    return _change(lambda s: s.scaled_init(factor, field))


def _mode(mode: str) -> Callable[[MainWindow], None]:
    return _change(lambda s: s.replace(mode=mode))


def _toggle(field: str) -> Callable[[MainWindow], None]:
    return _change(lambda s: s.stepped(field, +1))


def _export(w: MainWindow) -> None:
    from .export_dialog import open_export

    open_export(w, w.scene(), w.result)


def _export_movie(w: MainWindow) -> None:
    from .movie_dialog import open_movie_dialog

    open_movie_dialog(w)


def _copy_figure(w: MainWindow) -> None:
    from .export_actions import copy_under_mouse

    copy_under_mouse(w)


MODE_LABELS = (
    ("pyramid", "Pyramid · Problem 3", "Ctrl+1"),
    ("init", "Init lab · Problems 4, 5", "Ctrl+2"),
    ("cost", "Cost · Problem 1", "Ctrl+3"),
    ("video-net", "Video CNN · Problem 2", "Ctrl+4"),
)

_RULE_TEXT = {"lecun": "1/fan-in", "he": "2/fan-in", "residual": "ln2/(L·D²·J)"}

BINDINGS: tuple[Binding, ...] = (
    # -- File
    Binding("open", "Open image…", ("Ctrl+O",), lambda w: w.open_dialog(), "File", 0),
    Binding("paste", "Paste image", ("Ctrl+V",), lambda w: w.paste(), "File", 0),
    Binding("load_settings", "Load settings…", (), lambda w: w.load_settings_dialog(), "File", 1),
    Binding(
        "save_settings",
        "Save settings…",
        ("Ctrl+S",),
        lambda w: w.save_settings_dialog(),
        "File",
        1,
        tip="Save the current scene (settings, view, source) as JSON  [Ctrl+S]",
    ),
    Binding(
        "export", "Export…", ("Ctrl+E",), lambda w: _export(w), "File", 2, tip="Figures and numbers, stamped  [Ctrl+E]"
    ),
    Binding("export_movie", "Export movie…", (), lambda w: _export_movie(w), "File", 2),
    Binding("copy_figure", "Copy figure under the mouse", ("Ctrl+Shift+C",), lambda w: _copy_figure(w), "File", 2),
    Binding("quit", "Quit", ("Ctrl+Q",), lambda w: w.close(), "File", 9),
    # -- Edit: undo over settings, A/B (gui/undo.py, gui/compare.py)
    Binding("undo", "Undo settings change", ("Ctrl+Z",), lambda w: _undo(w, -1), "Edit", 0),
    Binding("redo", "Redo settings change", ("Ctrl+Shift+Z", "Ctrl+Y"), lambda w: _undo(w, +1), "Edit", 0),
    Binding(
        "pin_a",
        "Pin current result as A",
        ("Ctrl+P",),
        lambda w: w.compare.pin(),
        "Edit",
        1,
        tip="A/B: keep this result as A, change one thing, see B over it  [Ctrl+P]",
    ),
    Binding("clear_a", "Clear A", ("Ctrl+Shift+P",), lambda w: w.compare.clear(), "Edit", 1),
    # -- View
    *(
        Binding(f"mode_{mode}", label, (key,), _mode(mode), "View", 0, checkable=True)
        for mode, label, key in MODE_LABELS
    ),
    Binding("zoom_in", "Zoom in (fonts, lines)", ("Ctrl+=", "Ctrl++"), _zoom(+1), "View", 1),
    Binding("zoom_out", "Zoom out", ("Ctrl+-",), _zoom(-1), "View", 1),
    Binding("zoom_reset", "Normal size", ("Ctrl+0",), _view(lambda v: v.replace(zoom=1.0)), "View", 1),
    Binding("full_screen", "Full screen", ("F11",), lambda w: w.toggle_full_screen(), "View", 1, checkable=True),
    Binding(
        "side_panels",
        "Side panels (source, controls)",
        ("F9",),
        lambda w: w.toggle_side_panels(),
        "View",
        1,
        checkable=True,
    ),
    Binding(
        "colormap",
        "Next colour map",
        ("C",),
        _view(lambda v: v.replace(colormap=_cycle(SEQUENTIAL_MAPS, v.colormap))),
        "View",
        2,
    ),
    Binding(
        "normalisation",
        "Colour normalisation: map / level / global",
        ("L",),
        _view(lambda v: v.replace(normalisation=_cycle(NORMALISATIONS, v.normalisation))),
        "View",
        2,
    ),
    Binding(
        "mosaic", "Mosaic of all channels on/off", ("M",), _view(lambda v: v.replace(mosaic=not v.mosaic)), "View", 2
    ),
    Binding("channel_next", "Next channel", (".",), _next_channel(+1), "View", 2),
    Binding("channel_prev", "Previous channel", (",",), _next_channel(-1), "View", 2),
    Binding("reset", "Reset to defaults", ("Ctrl+Shift+R",), lambda w: w.reset_to_defaults(), "View", 3),
    # -- Network: letters act on what the current mode shows (the residual stack in the init lab)
    Binding("init_up", "Raise init variance (¼ decade)", ("V",), _scale_init(QUARTER_DECADE), "Network", 0),
    Binding("init_down", "Lower init variance (¼ decade)", ("Shift+V",), _scale_init(1 / QUARTER_DECADE), "Network", 0),
    Binding("init_x10", "Init variance ×10", ("Alt+=",), _scale_init(10.0), "Network", 0),
    Binding("init_x01", "Init variance ×0.1", ("Alt+-",), _scale_init(0.1), "Network", 0),
    *(
        Binding(f"rule_{rule}", f"Init rule {_RULE_TEXT[rule]}", (f"Alt+{i}",), _init_rule(rule), "Network", 0)
        for i, rule in enumerate(INIT_RULES, start=1)
    ),
    Binding("depth_up", "Deeper (L + 1)", ("D",), _step(lambda s: s.depth_field, +1), "Network", 1),
    Binding("depth_down", "Shallower (L − 1)", ("Shift+D",), _step(lambda s: s.depth_field, -1), "Network", 1),
    Binding("activation_next", "Next activation", ("A",), _step(lambda s: s.activation_field, +1), "Network", 1),
    Binding(
        "activation_prev", "Previous activation", ("Shift+A",), _step(lambda s: s.activation_field, -1), "Network", 1
    ),
    Binding("channels_up", "More channels (J × 2)", ("J",), _step("channels", +1), "Network", 1),
    Binding("channels_down", "Fewer channels (J ÷ 2)", ("Shift+J",), _step("channels", -1), "Network", 1),
    Binding("kernel_up", "Larger kernel (D + 2)", ("K",), _step("kernel", +1), "Network", 1),
    Binding("kernel_down", "Smaller kernel (D − 2)", ("Shift+K",), _step("kernel", -1), "Network", 1),
    Binding("size_up", "Larger input (size × 2)", ("N",), _step(lambda s: s.size_field, +1), "Network", 1),
    Binding("size_down", "Smaller input (size ÷ 2)", ("Shift+N",), _step(lambda s: s.size_field, -1), "Network", 1),
    Binding("shared", "Weights shared across scales on/off", ("S",), _toggle("shared"), "Network", 1),
    Binding("residual_input", "Residual stack input: noise / image", ("T",), _toggle("residual_input"), "Network", 1),
    Binding("reroll", "Re-roll weights", ("E",), reroll, "Network", 1, tip="Draw new weights: a new random seed  [E]"),
    Binding("device", "Next device", ("Ctrl+D",), _next_device, "Network", 1),
    Binding(
        "unit_init_up", "Unit: raise init variance", ("Alt+V",), _scale_init(QUARTER_DECADE, "unit_init"), "Network", 2
    ),
    Binding(
        "unit_init_down",
        "Unit: lower init variance",
        ("Alt+Shift+V",),
        _scale_init(1 / QUARTER_DECADE, "unit_init"),
        "Network",
        2,
    ),
    Binding("unit_dim_up", "Unit: more inputs (d × 10)", ("Alt+D",), _step("unit_dim", +1), "Network", 2),
    Binding("unit_dim_down", "Unit: fewer inputs (d ÷ 10)", ("Alt+Shift+D",), _step("unit_dim", -1), "Network", 2),
    Binding("unit_act_next", "Unit: next activation", ("Alt+A",), _step("unit_activation", +1), "Network", 2),
    Binding("unit_act_prev", "Unit: previous activation", ("Alt+Shift+A",), _step("unit_activation", -1), "Network", 2),
    Binding(
        "cancel_run",
        "Cancel the computation (keep the picture)",
        ("Esc",),
        lambda w: w.long_runs.cancel(),
        "Network",
        3,
        tip="Stop a long computation; the previous result and its settings stay",
    ),
    # -- Lecture: decks (gui/lecture.py); the walking keys live while a deck is open
    Binding("lecture_bundled", "Open the course deck", ("Ctrl+L",), lambda w: w.lecture.open_bundled(), "Lecture", 0),
    Binding("lecture_open", "Open deck…", (), lambda w: w.lecture.open_dialog(), "Lecture", 0),
    Binding(
        "lecture_add", "Add current view as a step", ("Ctrl+Shift+L",), lambda w: w.lecture.add_current(), "Lecture", 1
    ),
    Binding("lecture_edit", "Edit deck…", (), lambda w: w.lecture.edit(), "Lecture", 1),
    Binding("lecture_save", "Save deck…", (), lambda w: w.lecture.save_dialog(), "Lecture", 1),
    Binding("lecture_close", "Close deck", (), lambda w: w.lecture.close(), "Lecture", 1),
    Binding(
        "lecture_next", "Next step", ("PgDown", "Right", "Space"), lambda w: w.lecture.next(), "Lecture", 2, "lecture"
    ),
    Binding("lecture_prev", "Previous step", ("PgUp", "Left"), lambda w: w.lecture.previous(), "Lecture", 2, "lecture"),
    Binding("lecture_first", "First step", ("Home",), lambda w: w.lecture.first(), "Lecture", 2, "lecture"),
    Binding("lecture_last", "Last step", ("End",), lambda w: w.lecture.last(), "Lecture", 2, "lecture"),
    Binding(
        "lecture_back", "Back to the step's scene", ("B",), lambda w: w.lecture.back_to_step(), "Lecture", 2, "lecture"
    ),
    Binding(
        "lecture_caption",
        "Hide / show the caption",
        ("H",),
        lambda w: w.lecture.toggle_caption(),
        "Lecture",
        2,
        "lecture",
    ),
    # -- Video: live while a clip is open (handlers in gui/playback.py)
    Binding("play_pause", "Play / pause", ("Space",), lambda w: w.playback.toggle(), "Video", 0, "video"),
    Binding("frame_next", "Next frame", ("Right", "."), lambda w: w.playback.step(+1), "Video", 0, "video"),
    Binding("frame_prev", "Previous frame", ("Left", ","), lambda w: w.playback.step(-1), "Video", 0, "video"),
    Binding("frame_first", "First frame", ("Home",), lambda w: w.playback.seek(0), "Video", 0, "video"),
    Binding("frame_last", "Last frame", ("End",), lambda w: w.playback.seek(w.playback.count - 1), "Video", 0, "video"),
    Binding("speed_up", "Faster (up to 2×)", ("]",), lambda w: w.playback.faster(+1), "Video", 1, "video"),
    Binding("speed_down", "Slower (down to 0.25×)", ("[",), lambda w: w.playback.faster(-1), "Video", 1, "video"),
    Binding("loop", "Loop on/off", (), lambda w: w.playback.set_loop(not w.playback.loop), "Video", 1, checkable=True),
    Binding(
        "whole_clip",
        "Statistics of every frame (whole clip)",
        (),
        lambda w: w.playback.over_time.view.start_pass(),
        "Video",
        2,
    ),
    Binding(
        "freeze",
        "Freeze camera picture",
        ("F",),
        lambda w: w.camera.toggle_freeze(),
        "Video",
        3,
        "video",
        checkable=True,
        tip="Hold the camera's current frame; the controls stay live  [F]",
    ),
    # -- Help
    Binding("shortcuts", "Keyboard shortcuts", ("F1",), lambda w: w.show_shortcuts(), "Help", 0),
    Binding(
        "explain",
        "What am I looking at",
        ("Shift+F1",),
        lambda w: _explain(w),
        "Help",
        0,
        tip="The equations this mode computes and what each curve is  [Shift+F1]",
    ),
    Binding("about", "About cnnviz", (), lambda w: w.show_about(), "Help", 0),
)

MENUS = ("File", "Edit", "View", "Network", "Video", "Lecture", "Help")


def binding(name: str) -> Binding:
    for b in BINDINGS:
        if b.name == name:
            return b
    raise KeyError(name)


def duplicate_keys(bindings: tuple[Binding, ...] = BINDINGS) -> list[tuple[str, str, list[str]]]:
    """(context, key, names) for every key bound more than once within one context."""
    from PySide6.QtGui import QKeySequence

    seen: dict[tuple[str, str], list[str]] = {}
    for b in bindings:
        for k in b.keys:
            norm = QKeySequence(k).toString(QKeySequence.SequenceFormat.PortableText)
            seen.setdefault((b.context, norm), []).append(b.name)
    return [(c, k, names) for (c, k), names in seen.items() if len(names) > 1]
