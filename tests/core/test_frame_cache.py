"""The frame-only part of a run (pyramid, level 0's numbers and display arrays) is kept while
the same read-only frame comes back, and never serves a frame that could have changed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnviz.core import engine, frame_cache
from cnnviz.core.frozen import freeze, frozen
from cnnviz.io.images import fit_to_size
from cnnviz.settings import Settings

NUMBERS = ("mean", "var", "mean_sq", "zero_frac", "nonfinite", "grad_var", "grad_rms", "theory_var", "theory_grad_rms")


def picture(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((64, 64, 3), dtype=np.float32)


@pytest.fixture(autouse=True)
def _fresh():
    frame_cache.forget()
    yield
    frame_cache.forget()


def assert_same_result(a, b) -> None:
    pa, pb = a.pyramid, b.pyramid
    for sa, sb in zip(pa.layers, pb.layers, strict=True):
        for f in NUMBERS:
            assert np.array_equal(getattr(sa, f), getattr(sb, f), equal_nan=True), (sa.level, sa.scale, f)
        assert np.array_equal(sa.hist_counts, sb.hist_counts)
    assert pa.maps.keys() == pb.maps.keys()
    for key in pa.maps:
        assert np.array_equal(pa.maps[key], pb.maps[key], equal_nan=True), key
    for x, y in zip(pa.pyramid, pb.pyramid, strict=True):
        assert np.array_equal(x, y)
    assert np.array_equal(pa.equivariance, pb.equivariance, equal_nan=True)


def test_a_slider_drag_on_one_frame_reuses_its_pyramid_and_gives_the_same_numbers():
    s = Settings(size=64, depth=3, channels=4, seed=2)
    frame = freeze(picture())
    first = engine.run(s, frame, selected=(0, 1))
    work = frame_cache.work_for(frame, torch.device("cpu"), engine._network_input_nhwc)
    again = engine.run(s.replace(init=1.7), frame, selected=(0, 1))
    assert frame_cache.work_for(frame, torch.device("cpu"), engine._network_input_nhwc) is work
    # level 0 depends on the frame alone: the same arrays; the layers above follow the new init
    assert again.pyramid.layer(0, 1) is first.pyramid.layer(0, 1)
    assert again.pyramid.image is frame  # a frozen frame is not copied
    assert again.pyramid.layer(2, 0).var != first.pyramid.layer(2, 0).var
    # ... and every number equals a run on a writable copy, which keeps nothing
    assert_same_result(again, engine.run(s.replace(init=1.7), picture(), selected=(0, 1)))


def test_a_writable_frame_changed_in_place_gets_new_numbers():
    s = Settings(size=64, depth=3, channels=4)
    frame = picture()
    before = engine.run(s, frame)
    frame[:32] = 1.0 - frame[:32]  # a caller may reuse its buffer
    after = engine.run(s, frame)
    assert after.pyramid.layer(0, 0).mean != before.pyramid.layer(0, 0).mean
    assert_same_result(after, engine.run(s, frame.copy()))
    assert not after.pyramid.image.flags.writeable and after.pyramid.image is not frame


def test_a_read_only_view_of_writable_memory_is_not_taken_as_frozen():
    base = picture()
    view = base[:]
    view.flags.writeable = False
    assert not frozen(view)
    s = Settings(size=64, depth=3, channels=4)
    before = engine.run(s, view)
    base[:] = 0.25
    assert engine.run(s, view).pyramid.layer(0, 0).mean != before.pyramid.layer(0, 0).mean


def test_a_new_frame_replaces_the_kept_one_and_a_histogram_request_adds_to_it():
    s = Settings(size=64, depth=3, channels=4)
    a, b = freeze(picture(1)), freeze(picture(2))
    ra = engine.run(s, a, selected=(0, 0))
    assert ra.pyramid.layer(0, 0).hist_counts.size and not ra.pyramid.layer(0, 1).hist_counts.size
    other = engine.run(s, a, selected=(0, 1))  # another cell's histogram: level 0 again, other bins
    assert other.pyramid.layer(0, 1).hist_counts.size and not other.pyramid.layer(0, 0).hist_counts.size
    engine.run(s, b)
    assert [w.frame for w in frame_cache._kept] == [b]
    assert_same_result(engine.run(s, a), engine.run(s, a.copy()))


def test_fitted_frames_are_new_read_only_arrays():
    exact = picture()  # already the size: a copy all the same, the caller's array stays writable
    out, _ = fit_to_size(exact, 64)
    assert frozen(out) and not np.may_share_memory(out, exact) and exact.flags.writeable
    assert np.array_equal(out, exact)
    for rgb in (picture()[:, :48], (picture() * 255).astype(np.uint8), np.random.default_rng(3).random((128, 96, 3))):
        out, _ = fit_to_size(rgb, 32)
        assert frozen(out) and out.dtype == np.float32 and out.shape == (32, 32, 3)
    with pytest.raises(ValueError):
        out[0, 0, 0] = 0.5


def test_what_results_of_one_frame_share_is_read_only():
    s = Settings(size=64, depth=3, channels=4)
    frame = freeze(picture(4))
    a, b = engine.run(s, frame, selected=(0, 0)), engine.run(s.replace(init=0.5), frame, selected=(0, 0))
    shared = a.pyramid.layer(0, 0)
    assert b.pyramid.layer(0, 0) is shared and shared.hist_counts.size
    for array in (shared.hist_counts, shared.hist_edges, a.pyramid.maps[0, 0], a.pyramid.pyramid[1], a.pyramid.image):
        with pytest.raises(ValueError):
            array[(0,) * array.ndim] = 0
