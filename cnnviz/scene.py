"""The one file format: a scene is Settings + the view + the source, versioned.

Presets, lecture decks, saved sessions and the stamps inside exported files all read and write
this format, so a figure on a slide can be regenerated from the file it came in. Schema 2::

    {"format": "cnnviz-scene", "schema": 2, "cnnviz": "0.2.0",
     "settings": {...Settings fields...},
     "view": {...ViewState fields...},
     "source": {"name": "chelsea.png", "path": "...", "pixels": "sha256:...", "frame": null}}

Schema 1 (a flat Settings object, with or without ``"schema": 1``) migrates on reading.
Unknown or invalid fields are refused with the field's name (:class:`SettingsError`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .errors import CnnvizError, SettingsError
from .settings import Settings
from .untrusted import brief, clip, parse_int
from .view_state import ViewState

SCHEMA = 2
FORMAT = "cnnviz-scene"
EXPORT_FORMAT = "cnnviz-export"  # an exported JSON: {"format": ..., "scene": {...}, numbers}
SCENE_FILE_LIMIT = 1 << 20  # a scene is a few hundred bytes; a deck of 50 a few tens of kB
_TOP_KEYS = {"format", "schema", "cnnviz", "settings", "view", "source"}


def pixel_hash(frame: np.ndarray) -> str:
    """``sha256:<hex>`` of the fitted input frame (float32 ``[H, W, 3]``): the stamp's proof of the pixels."""
    a = np.ascontiguousarray(frame, dtype=np.float32)
    h = hashlib.sha256()
    h.update(str(a.shape).encode())
    h.update(a.tobytes())
    return "sha256:" + h.hexdigest()[:32]


@dataclass(frozen=True)
class SourceRef:
    """Where the input came from: a file name (and path), the pixels' hash, a video frame index."""

    name: str = ""
    path: str | None = None
    pixels: str | None = None
    frame: int | None = None

    def __post_init__(self) -> None:
        for key in ("name", "path", "pixels"):
            v = getattr(self, key)
            if v is not None and (not isinstance(v, str) or len(v) > 4096):
                raise SettingsError(f"source {key} must be text (at most 4096 characters), not {brief(v)}")
        if self.frame is not None and (
            isinstance(self.frame, bool) or not isinstance(self.frame, int) or not 0 <= self.frame < 2**31
        ):
            raise SettingsError(f"source frame must be a whole number >= 0 or null, not {brief(self.frame)}")

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "path": self.path, "pixels": self.pixels, "frame": self.frame}

    @classmethod
    def from_dict(cls, data: Any) -> SourceRef | None:
        if data is None:
            return None
        if not isinstance(data, dict):
            raise SettingsError("source must be a JSON object or null")
        unknown = set(data) - {"name", "path", "pixels", "frame"}
        if unknown:
            raise SettingsError(f"unknown source field(s): {clip(', '.join(sorted(map(str, unknown))))}")
        return cls(**data)


@dataclass(frozen=True)
class Scene:
    """Everything needed to draw the same picture again."""

    settings: Settings = field(default_factory=Settings)
    view: ViewState = field(default_factory=ViewState)
    source: SourceRef | None = None

    def replace(self, **changes: Any) -> Scene:
        from dataclasses import replace

        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "schema": SCHEMA,
            "cnnviz": __version__,
            "settings": self.settings.to_dict(),
            "view": self.view.to_dict(),
            "source": self.source.to_dict() if self.source is not None else None,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, data: Any) -> Scene:
        """A Scene from a parsed file of any schema (older ones migrate); SettingsError names the field."""
        data = migrate(data)
        unknown = set(data) - _TOP_KEYS
        if unknown:
            raise SettingsError(f"unknown scene field(s): {clip(', '.join(sorted(map(str, unknown))))}")
        if data.get("format", FORMAT) != FORMAT:
            raise SettingsError(f"format must be {FORMAT!r}, not {brief(data.get('format'))}")
        settings = Settings.from_dict(data.get("settings", {}))
        view = ViewState.from_dict(data["view"]) if data.get("view") is not None else ViewState()
        return cls(settings=settings, view=view, source=SourceRef.from_dict(data.get("source")))

    @classmethod
    def from_json(cls, text: str) -> Scene:
        return cls.from_dict(parse_json(text, "scene"))


def parse_json(text: str, what: str = "settings") -> Any:
    """``json.loads`` whose every failure is one SettingsError line (deep nesting too).

    An integer too long to be any setting is read as a :class:`~cnnviz.untrusted.HugeNumber`,
    which the validation then refuses by the field's name.
    """
    if not isinstance(text, str):
        raise SettingsError(f"{what} must be text, not {type(text).__name__}")
    try:
        return json.loads(text, parse_int=parse_int)
    except json.JSONDecodeError as err:
        raise SettingsError(f"{what}: not valid JSON: {err.msg} (line {err.lineno})") from None
    except RecursionError:
        raise SettingsError(f"{what}: nested too deeply to be a cnnviz file") from None
    except (ValueError, OverflowError) as err:
        raise SettingsError(f"{what}: not valid JSON: {clip(str(err))}") from None


def migrate(data: Any) -> dict[str, Any]:
    """Any schema's parsed file -> schema 2's shape (a dict with ``settings``, ``view``, ``source``)."""
    if not isinstance(data, dict):
        raise SettingsError("a scene or settings file must hold a JSON object")
    schema = data.get("schema", 1 if "settings" not in data else SCHEMA)
    if isinstance(schema, bool) or not isinstance(schema, int):
        raise SettingsError(f"schema must be a whole number, not {brief(schema)}")
    if schema == 1:
        flat = {k: v for k, v in data.items() if k != "schema"}
        return {"format": FORMAT, "schema": SCHEMA, "settings": flat, "view": None, "source": None}
    if schema == SCHEMA:
        if "settings" not in data:
            raise SettingsError("a schema 2 scene needs a 'settings' object")
        return dict(data)
    raise SettingsError(f"schema {brief(schema)} is not one this cnnviz ({__version__}) reads (1 to {SCHEMA})")


def load_scene(path: str | Path) -> Scene:
    """A scene from a scene file, an exported JSON (its ``scene``), or an exported PNG or SVG's stamp.

    JSON is read bounded (regular files only); from a PNG only the stamp's text chunk is read
    (:mod:`cnnviz.export.stamp`). Every failure is one SettingsError line naming the file.
    """
    if Path(path).suffix.lower() in (".png", ".svg"):
        from .export.stamp import scene_from_file

        return scene_from_file(path)
    from .io.files import read_text_file

    try:
        text = read_text_file(path, limit=SCENE_FILE_LIMIT, what="settings file")
    except CnnvizError as err:
        raise SettingsError(str(err)) from None
    try:
        data = parse_json(text, "scene")
        return Scene.from_dict(_exported_scene(data))
    except SettingsError as err:
        raise SettingsError(f"{Path(path).name}: {err}") from None


def _exported_scene(data: Any) -> Any:
    """An exported JSON holds its scene as the ``scene`` sub-object; a scene file is the scene."""
    if isinstance(data, dict) and data.get("format") == EXPORT_FORMAT and "scene" in data:
        return data["scene"]
    return data


def save_scene(scene: Scene, path: str | Path, *, inputs: tuple[str | Path | None, ...] = ()) -> Path:
    """Write ``scene`` as JSON atomically (never over one of ``inputs``)."""
    from .io.files import atomic_write

    return atomic_write(path, scene.to_json() + "\n", inputs=inputs, what="settings file")


def preset_files() -> list[Path]:
    """The bundled lecture presets: scene files (the format of ``cnnviz --settings``)."""
    from .paths import PRESETS

    return sorted(PRESETS.glob("*.json")) if PRESETS.is_dir() else []


def preset_label(path: Path) -> str:
    """``03_Huge_init_overflows.json`` -> ``Huge init overflows``."""
    words = path.stem.split("_")
    if words and words[0].isdigit():
        words = words[1:]
    text = " ".join(words)
    return text[:1].upper() + text[1:]
