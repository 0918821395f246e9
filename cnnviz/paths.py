"""Where the bundled resources live (the repository's ``resources/`` folder)."""

from __future__ import annotations

from pathlib import Path

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
SAMPLE_IMAGE = RESOURCES / "chelsea.png"
SAMPLE_VIDEO = RESOURCES / "chelsea_zoom.mp4"
PRESETS = RESOURCES / "presets"
