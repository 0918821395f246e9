"""Problem 2's video CNN against the seed's equation written out as loops, its shapes and
costs, the bounded clip window, and the statistics over a video."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from cnnviz.core.stats import layer_stats
from cnnviz.core.video_net import ClipWindow, VideoNet, clip_bytes, out_length
from cnnviz.core.video_stats import (
    FrameStats,
    aggregate,
    select_frames,
    video_net_layer_stats,
    window_targets,
)
from cnnviz.errors import SettingsError


def seed_equation(L: np.ndarray, W: np.ndarray, s: int) -> np.ndarray:
    """L_{l+1}[b, x, y, t, j] = sum_{dx, dy, dt, i} W[dx, dy, dt, i, j] L_l[b, s x + dx, s y + dy, s t + dt, i]
    with centred offsets -p..p and zeros outside; no conv3d.

    L: ``[B, X, Y, T, I]`` (the seed's layout), W: ``[D, D, Dt, I, J]`` indexed from -p as 0.
    """
    B, X, Y, T, I = L.shape
    D, _, Dt, _, J = W.shape
    p, pt = D // 2, Dt // 2
    Xo, Yo, To = math.ceil(X / s), math.ceil(Y / s), math.ceil(T / s)
    out = np.zeros((B, Xo, Yo, To, J))
    for b in range(B):
        for x in range(Xo):
            for y in range(Yo):
                for t in range(To):
                    for j in range(J):
                        acc = 0.0
                        for dx in range(-p, p + 1):
                            for dy in range(-p, p + 1):
                                for dt in range(-pt, pt + 1):
                                    xx, yy, tt = s * x + dx, s * y + dy, s * t + dt
                                    if not (0 <= xx < X and 0 <= yy < Y and 0 <= tt < T):
                                        continue
                                    for i in range(I):
                                        acc += W[dx + p, dy + p, dt + pt, i, j] * L[b, xx, yy, tt, i]
                        out[b, x, y, t, j] = acc
    return out


def to_seed(clip: torch.Tensor) -> np.ndarray:
    """torch ``[B, C, T, H, W]`` -> seed ``[B, X, Y, T, I]`` (H is y, W is x)."""
    return clip.detach().double().permute(0, 4, 3, 2, 1).numpy()


def weight_to_seed(w: torch.Tensor) -> np.ndarray:
    """torch ``[J, I, Dt, D(y), D(x)]`` -> seed ``W[dx, dy, dt, i, j]``."""
    return w.detach().double().permute(4, 3, 2, 1, 0).numpy()


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("kernel,kernel_t", [(3, 3), (3, 1), (1, 3)])
def test_video_net_is_the_seed_equation(stride, kernel, kernel_t):
    gen = torch.Generator().manual_seed(7)
    clip = torch.randn(1, 2, 5, 7, 6, generator=gen)  # B, C, T, H, W: nothing square, nothing symmetric
    net = VideoNet(
        in_channels=2,
        channels=3,
        depth=2,
        kernel=kernel,
        kernel_t=kernel_t,
        stride=stride,
        activation="identity",
        seed=3,
    )
    outs = net(clip)
    L = to_seed(clip)
    for level in (1, 2):
        L = seed_equation(L, weight_to_seed(net.weight[level - 1]), stride)
        np.testing.assert_allclose(to_seed(outs[level]), L, rtol=1e-4, atol=1e-5)


def test_relu_is_applied_after_every_layer():
    clip = torch.randn(1, 3, 4, 6, 5, generator=torch.Generator().manual_seed(1))
    net = VideoNet(3, 4, depth=2, kernel=3, kernel_t=3, stride=1, activation="relu", seed=0)
    outs = net(clip)
    expected = np.maximum(seed_equation(to_seed(clip), weight_to_seed(net.weight[0]), 1), 0)
    np.testing.assert_allclose(to_seed(outs[1]), expected, rtol=1e-4, atol=1e-5)
    assert float(outs[2].detach().min()) >= 0


def test_shapes_shrink_to_ceil_n_over_s_in_space_and_time():
    net = VideoNet(3, 5, depth=3, kernel=3, kernel_t=3, stride=2)
    clip = torch.zeros(2, 3, 8, 13, 10)
    outs = net(clip)
    assert outs[0] is clip
    assert (
        [tuple(o.shape) for o in outs]
        == net.output_shapes(clip.shape)
        == [(2, 3, 8, 13, 10), (2, 5, 4, 7, 5), (2, 5, 2, 4, 3), (2, 5, 1, 2, 2)]
    )
    assert out_length(7, 2) == 4 and out_length(8, 2) == 4 and out_length(1, 2) == 1


def test_weights_are_public_seeded_and_he_by_default():
    net = VideoNet(3, 16, depth=2, kernel=3, kernel_t=5, seed=11)
    assert tuple(net.weight[0].shape) == (16, 3, 5, 3, 3)  # [J, I, Dt, D, D]
    assert tuple(net.weight[1].shape) == (16, 16, 5, 3, 3)
    again = VideoNet(3, 16, depth=2, kernel=3, kernel_t=5, seed=11)
    other = VideoNet(3, 16, depth=2, kernel=3, kernel_t=5, seed=12)
    assert torch.equal(net.weight[1], again.weight[1]) and not torch.equal(net.weight[1], other.weight[1])
    assert net.init_vars == pytest.approx([2 / (3 * 9 * 5), 2 / (16 * 9 * 5)])
    big = VideoNet(64, 64, depth=1, kernel=3, kernel_t=3, seed=0)
    assert float(big.weight[0].detach().var()) == pytest.approx(2 / (64 * 27), rel=0.03)
    fixed = VideoNet(3, 8, depth=3, kernel=3, kernel_t=3, init_var=0.01)
    assert fixed.init_vars[1:] == [0.01, 0.01]
    assert fixed.init_vars[0] * 3 * 27 == pytest.approx(0.01 * 8 * 27)  # same gain at layer 1


def test_no_bias_and_bad_shapes_are_refused():
    net = VideoNet(3, 4, depth=1)
    assert [n for n, _ in net.named_parameters()] == ["weight.0"]
    assert float(net(torch.zeros(1, 3, 3, 8, 8))[1].detach().abs().max()) == 0.0
    with pytest.raises(SettingsError, match="odd"):
        VideoNet(kernel_t=2)
    with pytest.raises(SettingsError, match="B, C, T, H, W"):
        net(torch.zeros(1, 3, 8, 8))


@pytest.mark.parametrize("stride", [1, 2])
def test_multiplies_match_the_formula_and_flop_counter(stride):
    net = VideoNet(3, 6, depth=3, kernel=3, kernel_t=5, stride=stride)
    clip = torch.zeros(2, 3, 9, 17, 12)
    counts = net.multiplies(clip.shape)
    shapes = net.output_shapes(clip.shape)
    b, j, t, h, w = shapes[1]
    assert counts[0] == 0
    assert counts[1] == b * w * h * t * 3 * 3 * 5 * 3 * j  # B X Y T dX dY dT I J
    x = clip.to("meta")  # shapes only: the count needs no arithmetic
    for level, weight in enumerate(net.weight, start=1):
        with FlopCounterMode(display=False) as counter:
            x = F.conv3d(x, weight.detach().to("meta"), stride=stride, padding=net.padding)
        assert counter.get_total_flops() == 2 * counts[level]


def test_clip_window_is_bounded_and_ordered():
    window = ClipWindow(4)
    n = 32
    for i in range(20):
        window.push(i, np.full((n, n, 3), i / 20, np.float32))
        assert len(window) <= 4
    assert window.full and window.indices == [16, 17, 18, 19]
    assert window.nbytes == clip_bytes(4, n) == window.max_nbytes(n) == 4 * n * n * 3 * 4
    clip = window.clip(offset=0.5)
    assert tuple(clip.shape) == (1, 3, 4, n, n)
    expected = np.array([[i / 20 - 0.5 for i in range(16, 20)]] * 3)
    np.testing.assert_allclose(clip[0, :, :, 0, 0].numpy(), expected, atol=1e-6)  # oldest first
    window.push(25, np.zeros((n, n, 3), np.float32))  # a gap starts a new window
    assert window.indices == [25] and not window.full
    assert clip_bytes(8, 512) == 25_165_824


def test_video_net_statistics_take_gradients_wrt_layer_outputs():
    gen = torch.Generator().manual_seed(0)
    clip = torch.rand(1, 3, 4, 16, 16, generator=gen) - 0.5
    net = VideoNet(3, 4, depth=3, kernel=3, kernel_t=3, stride=1, activation="identity", seed=5).requires_grad_(False)
    stats = video_net_layer_stats(net, clip, seed=9)
    assert [st.level for st in stats] == [0, 1, 2, 3]
    assert math.isnan(stats[0].grad_rms)
    top = torch.randn((1, 4, 4, 16, 16), generator=torch.Generator().manual_seed(10))
    assert stats[3].grad_rms == pytest.approx(float(top.pow(2).mean().sqrt()), rel=1e-6)
    # Identity network: dE/dL_2 is the transposed convolution of the top gradient.
    expected = torch.nn.grad.conv3d_input((1, 4, 4, 16, 16), net.weight[2], top, padding=net.padding)
    assert stats[2].grad_rms == pytest.approx(float(expected.pow(2).mean().sqrt()), rel=1e-5)
    outs = net(clip)
    assert stats[2].var == pytest.approx(float(outs[2].double().var(unbiased=False)), rel=1e-6)
    assert [st.multiplies for st in stats] == net.multiplies(clip.shape)
    assert stats[1].shape == (1, 4, 4, 16, 16)


def test_aggregate_gives_mean_and_spread_over_frames():
    a = torch.tensor([[1.0, 3.0]]).reshape(1, 1, 1, 2)
    b = torch.tensor([[2.0, 6.0]]).reshape(1, 1, 1, 2)
    frames = [
        FrameStats(i, i / 25, (layer_stats(x, 0, 0), layer_stats(x, 1, 0, grad=x, multiplies=7)), 0, 0)
        for i, x in enumerate((a, b))
    ]
    agg = aggregate(frames)
    assert [(g.level, g.count, g.multiplies) for g in agg] == [(0, 2, 0), (1, 2, 7)]
    assert agg[0].mean["mean"] == pytest.approx(3.0) and agg[0].std["mean"] == pytest.approx(1.0)
    assert agg[0].mean["var"] == pytest.approx((1.0 + 4.0) / 2)
    assert math.isnan(agg[0].mean["grad_rms"]) and agg[1].mean["grad_rms"] == pytest.approx(
        (math.sqrt(5) + math.sqrt(20)) / 2
    )


def test_frame_selection():
    assert select_frames(100, frames=5) == [0, 25, 50, 74, 99]
    assert select_frames(10, every=4) == [0, 4, 8]
    assert select_frames(10) == list(range(10))  # shorter than the default: every frame
    assert len(select_frames(1000)) == 16
    assert select_frames(3, frames=8) == [0, 1, 2]
    assert window_targets(100, 8, frames=3) == [7, 53, 99]
    assert window_targets(5, 8) == [4]
    with pytest.raises(SettingsError):
        select_frames(10, frames=2, every=2)
    with pytest.raises(SettingsError):
        select_frames(10, every=0)
