"""Frames that cannot change: read-only arrays whose memory no writable array owns (numpy only).

A frame made read-only where it is made (a decoded image fitted to the network's size, a video
or camera frame) lets the engine keep what it computes from the frame alone while the same
frame comes back (:mod:`cnnviz.core.frame_cache`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["freeze", "frozen"]


def frozen(frame: np.ndarray) -> bool:
    """True when nothing can write ``frame``'s values: it and every array its memory comes from
    are read-only, down to memory numpy owns (or an immutable ``bytes``)."""
    a: Any = frame
    while isinstance(a, np.ndarray):
        if a.flags.writeable:
            return False
        a = a.base
    return a is None or isinstance(a, bytes)


def freeze(frame: np.ndarray) -> np.ndarray:
    """Make ``frame`` and every array its memory comes from read-only; returns ``frame``. For
    the owner of a frame that will not change again (a decoded image, a video frame)."""
    a: Any = frame
    while isinstance(a, np.ndarray):
        a.flags.writeable = False
        a = a.base
    return frame
