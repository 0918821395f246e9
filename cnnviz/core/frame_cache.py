"""What a run computes from the frame alone, kept while the same frame comes back.

A slider drag runs the network on one image many times a second, and of each run the image's
pyramid ``I_0 .. I_k``, level 0's statistics (whose mean squares start the theory), level 0's
display maps and the pyramid strip depend on the frame only: about 1.5 ms of a 512^2 run on
one thread. They are computed once per frame and shared, read-only, by every Result of it.

Only a frame that cannot change is kept (:func:`frozen`): a read-only array whose memory no
writable array owns, as the window's, the readers' and the camera's frames are (they are made
read-only where they are made). Any other frame is worked on afresh at every run, as before.
One frame is kept (the newest), on each device it was asked for.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import torch

from .frozen import frozen
from .pyramid import image_pyramid
from .result import LayerStats

__all__ = ["FrameWork", "forget", "work_for"]

T = TypeVar("T")


class FrameWork:
    """The frame-only part of a run on one frame and device.

    ``image``: the frame as float32 ``[N, N, 3]``, read-only (the frame itself when it is
    frozen, else a copy). ``pyr``: the network input's pyramid, ``pyr[s]`` ``[1, 3, 2^(k-s), 2^(k-s)]``
    channels_last (see ``engine._network_input_nhwc``). :meth:`stats0` and :meth:`display` give
    level 0's statistics and display arrays, computed on first use and kept."""

    def __init__(self, frame: np.ndarray, device: torch.device, to_input: Callable[..., torch.Tensor]) -> None:
        self.frame, self.device = frame, str(device)
        if frozen(frame) and frame.dtype == np.float32 and frame.flags.c_contiguous:
            self.image = frame
        else:
            self.image = np.array(frame, dtype=np.float32, order="C", copy=True)
            self.image.flags.writeable = False  # shared by .image and .pyramid[0]
        self.pyr = image_pyramid(to_input(frame, device))  # channels_last in, channels_last out
        self._lock = threading.Lock()
        self._stats0: dict[tuple[bool, ...], list[LayerStats]] = {}
        self._display: dict[int, tuple[dict[tuple[int, int], np.ndarray], tuple[np.ndarray, ...]]] = {}

    def stats0(self, hist: tuple[bool, ...], compute: Callable[[], list[LayerStats]]) -> list[LayerStats]:
        """Level 0's statistics with a histogram where ``hist[s]``: ``compute()``'s, once per ``hist``."""
        return self._once(
            self._stats0, hist, compute, lambda sts: [a for st in sts for a in (st.hist_counts, st.hist_edges)]
        )

    def display(
        self, size: int, compute: Callable[[], tuple[dict[tuple[int, int], np.ndarray], tuple[np.ndarray, ...]]]
    ) -> tuple[dict[tuple[int, int], np.ndarray], tuple[np.ndarray, ...]]:
        """(level 0's display maps, the pyramid strip) at display ``size``: ``compute()``'s, once per size."""
        return self._once(self._display, size, compute, lambda found: [*found[0].values(), *found[1]])

    def _once(
        self, store: dict[Any, T], key: Any, compute: Callable[[], T], arrays: Callable[[T], list[np.ndarray]]
    ) -> T:
        """``store[key]``, made by ``compute()`` the first time, its ``arrays`` then made read-only
        (every Result of this frame shares them)."""
        with self._lock:
            found = store.get(key)
        if found is None:
            found = compute()
            for a in arrays(found):
                a.flags.writeable = False
            with self._lock:
                store[key] = found
        return found


_lock = threading.Lock()
_kept: list[FrameWork] = []  # the newest frozen frame's work, one per device


def work_for(frame: np.ndarray, device: torch.device, to_input: Callable[..., torch.Tensor]) -> FrameWork:
    """The frame-only work for ``frame`` on ``device``: the kept one while the same frozen frame
    (the same array object) comes back, else a new one (kept when the frame is frozen)."""
    if not frozen(frame):
        return FrameWork(frame, device, to_input)
    with _lock:
        for work in _kept:
            if work.frame is frame and work.device == str(device):
                return work
    work = FrameWork(frame, device, to_input)
    with _lock:
        # a new frame replaces the old one's work on every device: the old frame's is not needed again
        _kept[:] = [w for w in _kept if w.frame is frame and w.device != work.device] + [work]
    return work


def forget() -> None:
    """Drop the kept work (tests)."""
    with _lock:
        _kept.clear()
