"""How the window draws a Result: display-only state that never changes what is computed.

:class:`~cnnviz.settings.Settings` decides the Result; :class:`ViewState` decides only its
picture (colour map, colour normalisation, one channel or the mosaic, the zoom for a hall).
Both are frozen and persisted as JSON; an invalid saved value falls back to its default.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, fields
from typing import Any

from .theme import SEQUENTIAL_MAPS, ZOOM_STEPS

NORMALISATIONS = ("map", "level", "global")
NORMALISATION_LABELS = {"map": "per map", "level": "per level", "global": "global"}


@dataclass(frozen=True)
class ViewState:
    colormap: str = "viridis"  # for one-signed layers; signed layers always use the diverging map
    normalisation: str = "level"  # colour levels per map, shared per level l, or global over l >= 1
    mosaic: bool = False  # all J channels as a mosaic, or only ``channel``
    channel: int = 0
    zoom: float = 1.0  # fonts and line widths

    def __post_init__(self) -> None:
        if self.colormap not in SEQUENTIAL_MAPS:
            raise ValueError(f"colour map must be one of {', '.join(SEQUENTIAL_MAPS)}")
        if self.normalisation not in NORMALISATIONS:
            raise ValueError(f"normalisation must be one of {', '.join(NORMALISATIONS)}")
        if isinstance(self.channel, bool) or not isinstance(self.channel, int) or self.channel < 0:
            raise ValueError("channel must be a whole number >= 0")
        if not isinstance(self.mosaic, bool):
            raise ValueError("mosaic must be true or false")
        if not (ZOOM_STEPS[0] <= float(self.zoom) <= ZOOM_STEPS[-1]):
            raise ValueError(f"zoom must be from {ZOOM_STEPS[0]} to {ZOOM_STEPS[-1]}")

    def replace(self, **changes: Any) -> ViewState:
        return dataclasses.replace(self, **changes)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ViewState:
        """Parse saved state; unknown keys are ignored and bad values take their defaults."""
        try:
            data = json.loads(text)
        except (TypeError, json.JSONDecodeError):
            return cls()
        if not isinstance(data, dict):
            return cls()
        state = cls()
        for f in fields(cls):
            if f.name in data:
                try:
                    state = state.replace(**{f.name: data[f.name]})
                except (TypeError, ValueError):
                    pass
        return state
