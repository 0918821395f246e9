"""Where the bundled resources live: ``cnnviz/resources/``, package data found with importlib.resources.

They ship inside the wheel (``[tool.setuptools.package-data]`` in pyproject.toml), so an
installed cnnviz finds its sample image, sample clip and presets without the source tree.
Sources and licences: ``cnnviz/resources/README.md``.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

_resources = files(__package__ or "cnnviz").joinpath("resources")
# A wheel installs as plain files, so this is a real folder; the str() covers readers that
# return another Traversable for one (the app needs paths: it globs presets, PyAV opens files).
RESOURCES: Path = _resources if isinstance(_resources, Path) else Path(str(_resources))
SAMPLE_IMAGE = RESOURCES / "chelsea.png"
SAMPLE_VIDEO = RESOURCES / "chelsea_zoom.mp4"
PRESETS = RESOURCES / "presets"
DECKS = RESOURCES / "decks"
