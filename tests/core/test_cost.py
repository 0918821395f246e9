"""Problem 1's multiply counts, cross-checked against torch's own FLOP counter."""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from cnnviz.core.cost import (
    conv_multiplies,
    scale_net_costs,
    torch_flops_per_layer,
    with_torch_flops,
)
from cnnviz.errors import SettingsError


def test_conv_multiplies_is_the_seed_product():
    # B X Y dX dY I J
    assert conv_multiplies(2, 4, 5, 3, 3, 3, 16) == 2 * 4 * 5 * 3 * 3 * 3 * 16
    assert conv_multiplies(1, 1, 1, 1, 1, 1, 1) == 1
    assert conv_multiplies(0, 8, 8, 3, 3, 3, 16) == 0
    # Python ints: no overflow at sizes where int64 would wrap
    big = conv_multiplies(10**6, 2048, 2048, 15, 15, 256, 256)
    assert big == 10**6 * 2048 * 2048 * 225 * 256 * 256


@pytest.mark.parametrize("bad", [(-1, 4, 4, 3, 3, 3, 16), (1, 4.5, 4, 3, 3, 3, 16)])
def test_conv_multiplies_rejects_bad_sizes(bad):
    with pytest.raises(SettingsError):
        conv_multiplies(*bad)


def test_scale_net_costs_rows():
    k, depth, J, D = 6, 4, 8, 3
    rows = scale_net_costs(k, depth, J, D, batch=2)
    assert [(r.level, r.scale) for r in rows] == [(lvl, s) for lvl in range(1, depth + 1) for s in range(k - lvl + 1)]
    for row in rows:
        n = 2 ** (k - row.level - row.scale)
        i = 3 if row.level == 1 else J
        assert row.shape == (2, J, n, n)
        # both branches produce an n x n output: the stride-2 branch reads 2n x 2n
        assert row.multiplies_left == row.multiplies_up == 2 * n * n * D * D * i * J
        assert row.multiplies == 2 * row.multiplies_left
        assert row.torch_flops == -1
    # the largest scale dominates: L_{1,0} alone is more than half of level 1
    level1 = [r.multiplies for r in rows if r.level == 1]
    assert level1[0] > sum(level1[1:])


def test_scale_net_costs_rejects_impossible_depth():
    with pytest.raises(SettingsError):
        scale_net_costs(4, 5, 8, 3)
    with pytest.raises(SettingsError):
        scale_net_costs(4, 2, 8, 4)


@pytest.mark.parametrize(
    "k,depth,J,D,I,B",
    [(5, 3, 4, 1, 3, 1), (6, 6, 16, 3, 3, 1), (8, 5, 7, 5, 1, 2), (11, 3, 64, 3, 3, 1), (4, 2, 3, 7, 2, 3)],
)
def test_formula_is_half_of_torch_flops_per_layer(k, depth, J, D, I, B):
    """FlopCounterMode counts 2 FLOPs per multiply-add; on the meta device, so 2048^2 is free."""
    rows = scale_net_costs(k, depth, J, D, in_channels=I, batch=B)
    flops = torch_flops_per_layer(k, depth, J, D, in_channels=I, batch=B)
    assert set(flops) == {(r.level, r.scale) for r in rows}
    for row in rows:
        assert 2 * row.multiplies == flops[(row.level, row.scale)]
    filled = with_torch_flops(rows, D, in_channels=I)
    assert [r.torch_flops for r in filled] == [flops[(r.level, r.scale)] for r in rows]
    assert [r.multiplies for r in filled] == [r.multiplies for r in rows]


@pytest.mark.parametrize("D", [1, 3, 5])
def test_total_matches_flops_of_the_real_network(D):
    """The count checked against what the actual ScaleSharedNet does on a 32x32 image (k = 5),
    not only against our own conv calls: every convolution it runs is counted by torch."""
    from cnnviz.core.pyramid import image_pyramid
    from cnnviz.core.scale_net import ScaleSharedNet

    k, depth, J = 5, 4, 6
    net = ScaleSharedNet(channels=J, depth=depth, kernel=D, activation="relu", seed=1)
    pyr = image_pyramid(torch.rand(2, 3, 2**k, 2**k) - 0.5)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny convs; spinning workers on shared cores only slow them
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            layers = net(pyr)
    finally:
        torch.set_num_threads(threads)
    assert len(layers) == depth + 1
    rows = scale_net_costs(k, depth, J, D, batch=2)
    assert 2 * sum(r.multiplies for r in rows) == counter.get_total_flops()
