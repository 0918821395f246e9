"""A convolution too large to wait for runs in row strips: the same numbers, and a cancel is heard inside it."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz.core import engine, strips
from cnnviz.core.pyramid import image_pyramid
from cnnviz.core.residual import ResidualStack
from cnnviz.core.scale_net import Cancelled, ScaleSharedNet
from cnnviz.settings import Settings


@pytest.fixture
def one_row_strips(monkeypatch):
    """Every convolution of more than 2 multiplies is split, into strips of one output row."""
    monkeypatch.setattr(strips, "STRIP_MULTIPLIES", 1)
    monkeypatch.setattr(strips, "MIN_CHANNELS", 1024)


def _net_and_grads(x, shared, kernel, seed=3):
    net = ScaleSharedNet(3, 4, depth=3, kernel=kernel, activation="tanh", init_var=0.5, shared=shared, seed=seed)
    net = net.double()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():  # non-zero thresholds, the same in both runs
        for b in net.bias:
            b.copy_(torch.randn(b.shape, generator=gen, dtype=b.dtype))
    x = x.clone().requires_grad_()
    layers = net(image_pyramid(x))
    top = layers[-1]
    gen = torch.Generator().manual_seed(7)
    g_top = [torch.randn(m.shape, generator=gen, dtype=m.dtype) for m in top]
    params = [*net.w_left, *net.w_up, *net.bias]
    grads = torch.autograd.grad(top, [x, *params], grad_outputs=g_top)
    return [m.detach() for level in layers[1:] for m in level], grads


@pytest.mark.parametrize("shared", [True, False])
@pytest.mark.parametrize("kernel", [1, 3, 5])
@pytest.mark.parametrize("limit,min_channels,block", [(1, 1024, 4), (1, 1, 1), (1, 3, 3)])
def test_the_pieces_give_the_unsplit_networks_maps_and_gradients(
    monkeypatch, shared, kernel, limit, min_channels, block
):
    """Strips of one row, each of all 4 channels, of 1 channel, or of 3 channels and then 1."""
    torch.manual_seed(0)
    x = torch.randn(1, 3, 16, 16, dtype=torch.float64)  # k = 4: maps from 8x8 down to 1x1
    maps_ref, grads_ref = _net_and_grads(x, shared, kernel)
    monkeypatch.setattr(strips, "STRIP_MULTIPLIES", limit)
    monkeypatch.setattr(strips, "MIN_CHANNELS", min_channels)
    calls = []
    original = strips._forward
    monkeypatch.setattr(strips, "_forward", lambda *a, **k: calls.append(a[3:5]) or original(*a, **k))
    maps, grads = _net_and_grads(x, shared, kernel)
    assert calls and all(c == (block, 1) for c in calls)  # the pieces did run, one row at a time
    for a, b in zip(maps, maps_ref, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    # gradients with respect to the image (through the pyramid), W_<-, W_^ and B
    for a, b in zip(grads, grads_ref, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kernel,rows", [(3, 1), (5, 2), (7, 2), (7, 1), (15, 5)])
def test_strips_pad_the_image_border_with_zeros_like_the_convolution(kernel, rows):
    """Strips of ``rows`` rows whose halo runs off the top and bottom (p = D // 2 > rows at D = 7, 15)."""
    torch.manual_seed(1)
    p = kernel // 2
    coarse = torch.randn(2, 3, 24, 5, dtype=torch.float64, requires_grad=True)
    fine = torch.randn(2, 3, 48, 10, dtype=torch.float64, requires_grad=True)
    wl = torch.randn(4, 3, kernel, kernel, dtype=torch.float64, requires_grad=True)
    wu = torch.randn(4, 3, kernel, kernel, dtype=torch.float64, requires_grad=True)
    b = torch.randn(4, dtype=torch.float64, requires_grad=True)
    ref = F.conv2d(coarse, wl, padding=p) + F.conv2d(fine, wu, b, stride=2, padding=p)
    total = strips.sum_multiplies([(coarse, wl, 1), (fine, wu, 2)], 24, 5)
    limit = -(-total * rows // 24)
    assert strips.plan(total, 4, 24, limit) == (4, rows)  # 4 channels < MIN_CHANNELS: rows are split
    got = strips.conv_sum(((coarse, wl, 1), (fine, wu, 2)), b, p, limit=limit)
    torch.testing.assert_close(got, ref)
    g = torch.randn_like(ref)
    for a, c in zip(
        torch.autograd.grad(got, [coarse, fine, wl, wu, b], g),
        torch.autograd.grad(ref, [coarse, fine, wl, wu, b], g),
        strict=True,
    ):
        torch.testing.assert_close(a, c)


def test_channels_last_maps_stay_channels_last_in_strips(one_row_strips):
    x = torch.randn(1, 3, 8, 8).contiguous(memory_format=torch.channels_last)
    f = torch.randn(1, 3, 16, 16).contiguous(memory_format=torch.channels_last)
    w = torch.randn(4, 3, 3, 3).contiguous(memory_format=torch.channels_last)
    y = strips.conv_sum(((x, w, 1), (f, w, 2)), None, 1)
    assert y.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(y, F.conv2d(x, w, padding=1) + F.conv2d(f, w, stride=2, padding=1))


def test_blocks_of_output_channels_give_the_same_sum_and_gradients(monkeypatch):
    monkeypatch.setattr(strips, "MIN_CHANNELS", 2)
    torch.manual_seed(3)
    coarse = torch.randn(1, 3, 5, 5, dtype=torch.float64, requires_grad=True)
    fine = torch.randn(1, 3, 10, 10, dtype=torch.float64, requires_grad=True)
    wl = torch.randn(6, 3, 3, 3, dtype=torch.float64, requires_grad=True)
    wu = torch.randn(6, 3, 3, 3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(6, dtype=torch.float64, requires_grad=True)
    total = strips.sum_multiplies([(coarse, wl, 1), (fine, wu, 2)], 5, 5)
    assert strips.plan(total, 6, 5, total // 3) == (2, 5)  # 3 blocks of 2 channels, every row
    got = strips.conv_sum(((coarse, wl, 1), (fine, wu, 2)), b, 1, limit=total // 3)
    ref = F.conv2d(coarse, wl, padding=1) + F.conv2d(fine, wu, b, stride=2, padding=1)
    torch.testing.assert_close(got, ref)
    g = torch.randn_like(ref)
    for a, c in zip(
        torch.autograd.grad(got, [coarse, fine, wl, wu, b], g),
        torch.autograd.grad(ref, [coarse, fine, wl, wu, b], g),
        strict=True,
    ):
        torch.testing.assert_close(a, c)


def test_usual_convolutions_are_not_split():
    """The default threshold: the window's usual settings (up to 2048^2, J 16, D 3) never take the split path."""
    from cnnviz.core.cost import scale_net_costs

    rows = scale_net_costs(11, 11, 16, 3)
    assert max(2 * r.multiplies for r in rows) <= 2 * strips.STRIP_MULTIPLIES
    assert strips.plan(strips.STRIP_MULTIPLIES, 256, 512) == (256, 512)
    # 1024^2, J 256, D 15, level 2 scale 0 (1.9e12 multiplies): blocks of 32 channels, in strips
    total = 2 * 256**2 * 15**2 * 256 * 256
    block, rows = strips.plan(total, 256, 256)
    assert block == 32 and rows < 256
    assert total // 256 * block * rows // 256 <= 2 * strips.STRIP_MULTIPLIES


def test_a_cancel_is_heard_between_the_strips_of_one_convolution(one_row_strips):
    net = ScaleSharedNet(3, 4, depth=1, kernel=3)
    pyr = image_pyramid(torch.randn(1, 3, 32, 32))
    polls = []

    def cancel():
        polls.append(1)
        return len(polls) >= 3  # level 1, scale 0 has 16 strips: stop after the second

    with torch.no_grad(), pytest.raises(Cancelled):
        net(pyr, cancel)
    assert len(polls) == 3


def test_a_cancel_is_heard_between_the_strips_of_the_backward_pass(one_row_strips):
    net = ScaleSharedNet(3, 4, depth=2, kernel=3).requires_grad_(False)
    pyr = image_pyramid(torch.randn(1, 3, 32, 32))
    stop = []
    layers = net(pyr, lambda: bool(stop), grad_from_level=1)
    stop.append(True)  # from now on every poll says stop: the first backward strip raises
    with pytest.raises(Cancelled):
        torch.autograd.grad(layers[2], layers[1], grad_outputs=[torch.ones_like(m) for m in layers[2]])


def test_the_residual_stack_in_strips_is_the_same(monkeypatch):
    torch.manual_seed(2)
    stack = ResidualStack(4, depth=3, kernel=5, activation="tanh", seed=1).double()
    x = torch.randn(1, 4, 9, 9, dtype=torch.float64, requires_grad=True)

    def run():
        outs = stack(x)
        return outs[-1].detach(), torch.autograd.grad(outs[-1].sum(), [x, *stack.weight])

    ref, gref = run()
    monkeypatch.setattr(strips, "STRIP_MULTIPLIES", 1)
    got, g = run()
    torch.testing.assert_close(got, ref)
    for a, b in zip(g, gref, strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("split", [False, True])
@pytest.mark.parametrize("mode", ["pyramid", "init"])
def test_the_engine_reports_progress_up_to_the_whole_run(monkeypatch, split, mode):
    if split:
        monkeypatch.setattr(strips, "STRIP_MULTIPLIES", 10_000)
    settings = Settings(mode=mode, size=64, depth=3, channels=8, residual_depth=4, noise_size=32)
    frame = np.random.default_rng(0).random((64, 64, 3), dtype=np.float32)
    seen: list[float] = []
    ref = engine.run(settings, frame, profile="stats")
    result = engine.run(settings, frame, profile="stats", progress=seen.append)
    assert seen == sorted(seen) and len(seen) >= 3
    assert seen[-1] == pytest.approx(1.0)
    layers = result.pyramid.layers if mode == "pyramid" else result.residual.layers
    ref_layers = ref.pyramid.layers if mode == "pyramid" else ref.residual.layers
    for a, b in zip(layers, ref_layers, strict=True):
        assert a.var == pytest.approx(b.var, rel=1e-5, nan_ok=True)
        assert a.grad_rms == pytest.approx(b.grad_rms, rel=1e-5, nan_ok=True)  # level 0 has none


@pytest.mark.parametrize("split", [False, True])
def test_small_maps_report_their_backward_passes_together_and_every_multiply_is_counted(monkeypatch, split):
    """The backward pass of the maps too small to move the progress by a step alone is reported
    from one gradient hook per level, never lost: the count reaches the whole run's exactly."""
    from cnnviz.core.progress import Tracker, pyramid_total

    if split:
        monkeypatch.setattr(strips, "STRIP_MULTIPLIES", 10_000)
    k, depth, J, D = 7, 4, 8, 3
    net = ScaleSharedNet(3, J, depth, D)
    x = torch.rand(1, 3, 2**k, 2**k)
    seen: list[float] = []
    calls = {"backward": 0}
    track = Tracker(pyramid_total(k, depth, J, D), seen.append)
    with torch.enable_grad():
        layers = net(image_pyramid(x), grad_from_level=1, progress=track)
        forward_done = track.done
        real = track.__call__

        def counting(multiplies: int) -> None:
            calls["backward"] += 1
            real(multiplies)

        inputs = [m for level in layers[1:] for m in level]
        track_call = Tracker.__call__
        monkeypatch.setattr(Tracker, "__call__", lambda self, m: (counting if self is track else track_call)(m))
        torch.autograd.grad(layers[depth], inputs, grad_outputs=[torch.ones_like(m) for m in layers[depth]])
    assert track.done == track.total  # every multiply, forward and backward
    assert seen[-1] == pytest.approx(1.0) and seen == sorted(seen)
    backward_maps = sum(len(level) for level in layers[2:])
    if not split:  # one hook per map would be one call per map of levels >= 2
        assert calls["backward"] < backward_maps
    assert forward_done < track.total


@pytest.mark.parametrize(("channels", "n"), [(16, 32), (3, 64), (16, 16)])
def test_small_convolutions_sent_to_onednn_give_torchs_numbers(channels, n):
    """A sum whose stride-1 input torch would convolve by im2col may go to oneDNN instead (faster
    there): the same maps and gradients as F.conv2d's."""
    gen = torch.Generator().manual_seed(0)
    cl = torch.channels_last
    x1 = torch.randn(1, channels, n, n, generator=gen).contiguous(memory_format=cl).requires_grad_()
    x2 = torch.randn(1, channels, 2 * n, 2 * n, generator=gen).contiguous(memory_format=cl).requires_grad_()
    w1 = torch.randn(16, channels, 3, 3, generator=gen).contiguous(memory_format=cl)
    w2 = torch.randn(16, channels, 3, 3, generator=gen).contiguous(memory_format=cl)
    bias = torch.randn(16, generator=gen)
    assert strips._onednn_is_faster(x1, w1, 1) == (channels * n * n > strips.ONEDNN_FROM)
    got = strips.conv_sum(((x1, w1, 1), (x2, w2, 2)), bias, 1)
    want = F.conv2d(x1, w1, None, 1, 1) + F.conv2d(x2, w2, bias, 2, 1)
    torch.testing.assert_close(got, want)
    assert got.is_contiguous(memory_format=cl)
    g = torch.randn(want.shape, generator=gen)
    for a, b in zip(torch.autograd.grad(got, (x1, x2), g), torch.autograd.grad(want, (x1, x2), g), strict=True):
        torch.testing.assert_close(a, b)
