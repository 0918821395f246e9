"""How a Result is drawn: display-only state that never changes what is computed.

:class:`~cnnviz.settings.Settings` decides the Result; :class:`ViewState` decides only its
picture (colour map, colour normalisation, one channel or the mosaic, the selected cell, the
zoom for a hall). It has no Qt, so scenes, presets, decks and export stamps can hold it.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, fields
from typing import Any

from .errors import SettingsError
from .untrusted import brief, clip, is_huge

SEQUENTIAL_MAPS = ("viridis", "cividis")
NORMALISATIONS = ("map", "level", "global", "log")
NORMALISATION_LABELS = {"map": "per map", "level": "per level", "global": "global", "log": "global log₁₀|value|"}
LOG_DECADES = 40  # the "log" normalisation shows at most this many decades below the largest |value|
ZOOM_STEPS = (0.8, 0.9, 1.0, 1.15, 1.3, 1.5, 1.75, 2.0, 2.5, 3.0)


@dataclass(frozen=True)
class ViewState:
    colormap: str = "viridis"  # for one-signed layers; signed layers always use the diverging map
    # colour levels per map, shared per level l, global over l >= 1, or global on log10 |value|
    # (fading and exploding signals visible in the maps themselves)
    normalisation: str = "level"
    mosaic: bool = False  # all J channels as a mosaic, or only ``channel``
    channel: int = 0
    zoom: float = 1.0  # fonts and line widths
    selected: tuple[int, int] | None = None  # the (level, scale) cell picked in the grid

    def __post_init__(self) -> None:
        if self.colormap not in SEQUENTIAL_MAPS:
            raise SettingsError(
                f"view colormap must be one of {', '.join(SEQUENTIAL_MAPS)}, not {brief(self.colormap)}"
            )
        if self.normalisation not in NORMALISATIONS:
            raise SettingsError(
                f"view normalisation must be one of {', '.join(NORMALISATIONS)}, not {brief(self.normalisation)}"
            )
        if isinstance(self.channel, bool) or not isinstance(self.channel, int) or not 0 <= self.channel < 4096:
            raise SettingsError(f"view channel must be a whole number from 0 to 4095, not {brief(self.channel)}")
        if not isinstance(self.mosaic, bool):
            raise SettingsError(f"view mosaic must be true or false, not {brief(self.mosaic)}")
        if isinstance(self.zoom, bool) or not isinstance(self.zoom, int | float):
            raise SettingsError(f"view zoom must be a number, not {brief(self.zoom)}")
        if is_huge(self.zoom) or not (math.isfinite(self.zoom) and ZOOM_STEPS[0] <= float(self.zoom) <= ZOOM_STEPS[-1]):
            raise SettingsError(f"view zoom must be from {ZOOM_STEPS[0]} to {ZOOM_STEPS[-1]}, not {brief(self.zoom)}")
        object.__setattr__(self, "zoom", float(self.zoom))
        sel = self.selected
        if sel is not None:
            if (
                not isinstance(sel, list | tuple)
                or len(sel) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 64 for v in sel)
            ):
                raise SettingsError(f"view selected must be [level, scale] or null, not {brief(sel)}")
            object.__setattr__(self, "selected", (int(sel[0]), int(sel[1])))

    def replace(self, **changes: Any) -> ViewState:
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise SettingsError(f"unknown view field(s): {clip(', '.join(sorted(map(str, unknown))))}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["selected"] = list(self.selected) if self.selected is not None else None
        return d

    @classmethod
    def from_dict(cls, data: Any) -> ViewState:
        """Strict: unknown or invalid fields are refused by name (SettingsError)."""
        if not isinstance(data, dict):
            raise SettingsError("view must be a JSON object")
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise SettingsError(f"unknown view field(s): {clip(', '.join(sorted(map(str, unknown))))}")
        return cls(**data)

    @classmethod
    def lenient(cls, data: Any) -> tuple[ViewState, list[str]]:
        """Each valid field of ``data`` kept, each bad one at its default; and what was dropped."""
        if not isinstance(data, dict):
            return cls(), ([] if data is None else ["view: not an object"])
        state, dropped = cls(), []
        for f in fields(cls):
            if f.name in data:
                try:
                    state = state.replace(**{f.name: data[f.name]})
                except (SettingsError, TypeError, ValueError, OverflowError):
                    dropped.append(f"view {f.name}")
        return state, dropped

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> ViewState:
        """Parse saved state leniently: unknown keys are ignored and bad values take their defaults."""
        from .scene import parse_json

        try:
            data = parse_json(text, "view")
        except SettingsError:
            return cls()
        return cls.lenient(data)[0]
