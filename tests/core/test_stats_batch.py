"""Statistics of many small layers at once: the same numbers as one layer at a time (which sums
layers of 4096 values and more in float32 rows, hence the tolerance)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cnnviz.core.stats import BATCH, layer_stats, layer_stats_batch

FIELDS = ("mean", "var", "mean_sq", "zero_frac", "nonfinite", "grad_var", "grad_rms", "grad_nonfinite", "sat_frac")


def _layers():
    gen = torch.Generator().manual_seed(0)
    out = []
    for i, n in enumerate([1, 2, 4, 8, 16, 32]):
        x = torch.relu(torch.randn(1, 4, n, n, generator=gen)).contiguous(memory_format=torch.channels_last)
        g = torch.randn(1, 4, n, n, generator=gen)
        out.append((x, 1, i, g, i == 2, {"multiplies": i}))
    near = torch.full((1, 2, 8, 8), 3e38)  # near-constant far from zero: shifted moments keep its spread
    near[0, 0, 0, 1] = float(np.nextafter(np.float32(3e38), np.float32(np.inf)))
    out.append((near, 2, 0, None, False, {}))
    bad = torch.randn(1, 2, 8, 8, generator=gen)
    bad[0, 1, 2, 3] = float("inf")  # a non-finite value: that layer takes the exact path
    out.append((bad, 2, 1, torch.full((1, 2, 8, 8), float("nan")), True, {}))
    big = torch.randn(1, 4, 128, 128, generator=gen)  # over BATCH values: one at a time
    assert big.numel() > BATCH
    out.append((big, 3, 0, big * 2, False, {}))
    return out


@pytest.mark.parametrize("saturation", [None, (-0.9, 0.9)])
def test_batched_statistics_are_the_per_layer_ones(saturation):
    layers = _layers()
    got = layer_stats_batch(layers, saturation)
    for st, (x, level, scale, grad, hist, extra) in zip(got, layers):
        sat = {} if saturation is None else {"sat_frac": _sat(x, saturation)}
        ref = layer_stats(x, level, scale, grad, hist, **sat, **extra)
        assert (st.level, st.scale, st.shape, st.multiplies) == (ref.level, ref.scale, ref.shape, ref.multiplies)
        for f in FIELDS:
            a, b = getattr(st, f), getattr(ref, f)
            assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-6, abs=1e-300), (level, scale, f)
        assert np.array_equal(st.hist_counts, ref.hist_counts) and np.array_equal(st.hist_edges, ref.hist_edges)
        assert st.hist_counts.size == (64 if hist else 0)
    assert got[6].var > 0  # the near-constant layer's spread survives
    assert got[7].nonfinite == 1 and got[7].grad_nonfinite == 128


def _sat(x, bounds):
    from cnnviz.core.stats import saturated_fraction

    return saturated_fraction(x, *bounds)
