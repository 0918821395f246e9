"""The computational core: pure torch + numpy, importable in a notebook without Qt.

    from cnnviz.core import image_pyramid, ScaleSharedNet, ResidualStack, VideoNet, run

The names are loaded on first use (a module-level ``__getattr__``), so importing a torch-free
submodule such as :mod:`cnnviz.core.result` never imports torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "run": "engine",
    "Cancelled": "scale_net",
    "EngineError": "engine",
    "image_pyramid": "pyramid",
    "ScaleSharedNet": "scale_net",
    "ResidualStack": "residual",
    "VideoNet": "video_net",
    "Result": "result",
    "PyramidResult": "result",
    "LayerStats": "result",
    "Profile": "result",
}

__all__ = [
    "Cancelled",
    "EngineError",
    "LayerStats",
    "Profile",
    "PyramidResult",
    "ResidualStack",
    "Result",
    "ScaleSharedNet",
    "VideoNet",
    "image_pyramid",
    "run",
]

if TYPE_CHECKING:
    from .engine import EngineError, run
    from .pyramid import image_pyramid
    from .residual import ResidualStack
    from .result import LayerStats, Profile, PyramidResult, Result
    from .scale_net import Cancelled, ScaleSharedNet
    from .video_net import VideoNet


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
