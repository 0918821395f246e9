"""Decoding one frame ahead on a thread: same frames, same order, errors and early stops intact."""

from __future__ import annotations

import threading
import time

import pytest

from cnnviz.core.video_stats import decode_ahead
from cnnviz.errors import InputError


def test_items_arrive_in_order_and_complete():
    assert list(decode_ahead(iter(range(50)))) == list(range(50))


def test_a_decoder_error_is_raised_after_the_frames_before_it():
    def frames():
        yield from (0, 1, 2)
        raise InputError("clip.mp4: truncated after 3 frames")

    got = []
    with pytest.raises(InputError, match="truncated"):
        for item in decode_ahead(frames()):
            got.append(item)
    assert got == [0, 1, 2]


def test_stopping_early_stops_the_decoding_thread():
    produced = []

    def frames():
        for i in range(1000):
            produced.append(i)
            yield i

    it = decode_ahead(frames(), depth=2)
    assert [next(it) for _ in range(3)] == [0, 1, 2]
    it.close()  # what a `break` or Ctrl+C in the caller does
    time.sleep(0.3)
    assert len(produced) < 10
    assert not any(t.name == "cnnviz-decode" and t.is_alive() for t in threading.enumerate())
