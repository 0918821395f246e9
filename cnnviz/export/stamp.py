"""The scene stamped into every exported file, and reading it back.

The stamp is :meth:`cnnviz.scene.Scene.to_dict` (settings, view, source, the cnnviz version)
as compact JSON. It sits in a PNG ``iTXt`` chunk named :data:`PNG_KEY` written before the
image data, in an SVG's ``<metadata>`` (Dublin Core ``description``), in a PDF's document info
(``Subject``), in leading ``#`` lines of a CSV, and in a ``scene`` field of the JSON and NPZ.

:func:`scene_from_file` reads a stamp back from a PNG (only the chunks before the pixels are
read, never decoded), an SVG (a safe, bounded XML parse) or a JSON file (an export's ``scene``
sub-object, or a scene file), so ``cnnviz --settings fig.png`` restores the scene.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import CnnvizError, SettingsError
from ..io.files import SMALL_FILE_LIMIT, read_bytes_file, regular_file
from ..scene import FORMAT, Scene, parse_json

PNG_KEY = "cnnviz-scene"  # the PNG text chunk's keyword
SVG_LIMIT = 64 << 20  # an exported SVG with embedded maps is a few MB
STAMPED_SUFFIXES = (".png", ".svg")
DC_NS = "http://purl.org/dc/elements/1.1/"


def stamp_text(scene: Scene) -> str:
    """The stamp: ``scene.to_dict()`` as compact strict JSON (one line)."""
    return json.dumps(scene.to_dict(), separators=(",", ":"), allow_nan=False, ensure_ascii=False)


def _scene_from_stamp(text: str, path: Path) -> Scene:
    try:
        return Scene.from_dict(parse_json(text, "the stamp"))
    except SettingsError as err:
        raise SettingsError(f"{path.name}: {err}") from None


def read_png_stamp(path: str | Path) -> Scene:
    """The scene in an exported PNG's text chunk; the pixels are never decoded.

    Pillow reads the chunks up to the first image-data chunk when a PNG is opened (text
    chunks are bounded by its ``MAX_TEXT_CHUNK``); the image is never loaded.
    """
    from PIL import Image, PngImagePlugin

    try:
        p = regular_file(path, "settings file")
    except CnnvizError as err:
        raise SettingsError(str(err)) from None
    try:
        with open(p, "rb") as fp:
            # PngImageFile directly: Image.open would also run the decompression-bomb check on the
            # declared size, which is irrelevant when no pixel is decoded.
            im = PngImagePlugin.PngImageFile(fp)
            info = dict(im.info)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        raise SettingsError(f"{p.name}: not a PNG cnnviz can read ({str(err)[:80] or type(err).__name__})") from None
    text = info.get(PNG_KEY)
    if not isinstance(text, str):
        raise SettingsError(f"{p.name}: this PNG has no cnnviz stamp (it was not exported by cnnviz)")
    return _scene_from_stamp(text, p)


def _parse_xml(data: bytes) -> Any:
    """An XML tree from ``data`` with entity expansion and external references refused."""
    from defusedxml import ElementTree as SafeET  # type: ignore[import-untyped]

    return SafeET.fromstring(data)


def read_svg_stamp(path: str | Path) -> Scene:
    """The scene in an exported SVG's ``<metadata>`` (Dublin Core description)."""
    p = Path(path)
    try:
        data = read_bytes_file(p, limit=SVG_LIMIT, what="settings file")
    except CnnvizError as err:
        raise SettingsError(str(err)) from None
    try:
        root = _parse_xml(data)
    except Exception as err:  # defusedxml's and ElementTree's errors have no common base
        raise SettingsError(f"{p.name}: not an SVG cnnviz can read ({str(err)[:80] or type(err).__name__})") from None
    for el in root.iter(f"{{{DC_NS}}}description"):
        text = (el.text or "").strip()
        if text.startswith("{") and f'"{FORMAT}"' in text:
            return _scene_from_stamp(text, p)
    raise SettingsError(f"{p.name}: this SVG has no cnnviz stamp (it was not exported by cnnviz)")


def scene_from_file(path: str | Path) -> Scene:
    """The scene stamped in an exported PNG or SVG, in an exported JSON, or in a scene file.

    Raises :class:`SettingsError` in one line (naming the file, and the field when one is invalid).
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".png":
        return read_png_stamp(p)
    if suffix == ".svg":
        return read_svg_stamp(p)
    from ..scene import load_scene

    return load_scene(p)


__all__ = [
    "PNG_KEY",
    "SMALL_FILE_LIMIT",
    "STAMPED_SUFFIXES",
    "read_png_stamp",
    "read_svg_stamp",
    "scene_from_file",
    "stamp_text",
]
