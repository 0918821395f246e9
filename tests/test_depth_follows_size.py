"""Depth follows the input size: a smaller image has fewer levels (Settings.with_size)."""

from __future__ import annotations

import pytest

from cnnviz.errors import SettingsError
from cnnviz.settings import Settings


@pytest.mark.parametrize(("depth", "size", "want"), [(8, 64, 6), (8, 32, 5), (5, 64, 5), (3, 2048, 3), (8, 512, 8)])
def test_with_size_clamps_the_depth_to_log2_of_the_new_size(depth, size, want):
    s = Settings(size=256, depth=depth).with_size(size)
    assert (s.size, s.depth) == (size, want)


def test_with_size_keeps_everything_else():
    s = Settings(size=256, depth=8, channels=32, kernel=5, init=0.01, seed=3)
    assert s.with_size(64) == s.replace(size=64, depth=6)


def test_a_smaller_size_step_takes_the_depth_down_with_it():
    s = Settings(size=64, depth=6).stepped("size", -1)
    assert (s.size, s.depth) == (32, 5)


@pytest.mark.parametrize("size", [48, 16, 4096, 0])
def test_with_size_refuses_a_size_that_is_not_offered(size):
    with pytest.raises(SettingsError, match="size must be a power of two"):
        Settings().with_size(size)
