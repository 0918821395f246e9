"""The pyramid and the scale-shared network against the seed's equations, written as loops."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz.core import pyramid
from cnnviz.core.pyramid import image_pyramid
from cnnviz.core.scale_net import Cancelled, ScaleSharedNet
from cnnviz.errors import SettingsError


def test_pyramid_is_the_seeds_2x2_average_by_hand():
    x = torch.arange(16, dtype=torch.float64).reshape(1, 1, 4, 4)
    pyr = image_pyramid(x)
    assert [p.shape[-1] for p in pyr] == [4, 2, 1]
    # I_1[y=0, x=0] = (0 + 1 + 4 + 5) / 4; I_1[y=1, x=0] = (8 + 9 + 12 + 13) / 4 ...
    assert pyr[1][0, 0].tolist() == [[2.5, 4.5], [10.5, 12.5]]
    assert pyr[2][0, 0].item() == pytest.approx(7.5)


@pytest.mark.parametrize("channels_last", [False, True])
def test_every_pyramid_level_is_the_formula_exactly_on_both_paths(channels_last):
    """Large levels by the seed's formula term by term, small ones by avg_pool2d: the same floats
    (bitwise), so the shrunk image's pyramid is the image's own and equivariance stays exact."""
    x = torch.rand(1, 3, 128, 128, generator=torch.Generator().manual_seed(1)) - 0.5
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    pyr = image_pyramid(x)
    want = x
    for level in pyr[1:]:
        want = (want[..., ::2, ::2] + want[..., ::2, 1::2] + want[..., 1::2, ::2] + want[..., 1::2, 1::2]) * 0.25
        assert torch.equal(level, want), level.shape
    assert 0 < pyramid.POOL_UPTO < 64  # both paths were taken


@pytest.mark.parametrize("shape", [(1, 3, 6, 6), (1, 3, 4, 8), (3, 4)])
def test_pyramid_refuses_non_square_or_non_power_of_two(shape):
    with pytest.raises(SettingsError):
        image_pyramid(torch.zeros(shape))


def _sigma(name, v):
    return {
        "relu": lambda t: max(t, 0.0),
        "identity": lambda t: t,
        "tanh": np.tanh,
        "sigmoid": lambda t: 1 / (1 + np.exp(-t)),
    }[name](v)


def reference_layers(pyr, w_left, w_up, bias, depth, act):
    """The seed's equation with explicit loops and centred offsets dx, dy in -p..p.

    pyr[s]: numpy [C, n, n] indexed [i, y, x]; w_*[i]: numpy [J, I, D, D] indexed
    [j, i, dy + p, dx + p] (torch's layout of the seed's W[dx, dy, i, j]).
    """
    layers = [pyr]
    for lvl in range(depth):
        prev = layers[-1]
        wl, wu, b = w_left[lvl], w_up[lvl], bias[lvl]
        J, I, D, _ = wl.shape
        p = D // 2
        cur = []
        for s in range(len(prev) - 1):
            fine, coarse = prev[s], prev[s + 1]
            n = coarse.shape[-1]  # the output has the size of the next-coarser scale
            out = np.zeros((J, n, n))
            for j, y, x in itertools.product(range(J), range(n), range(n)):
                acc = b[j]
                for dx, dy, i in itertools.product(range(-p, p + 1), range(-p, p + 1), range(I)):
                    if 0 <= x + dx < n and 0 <= y + dy < n:
                        acc += wl[j, i, dy + p, dx + p] * coarse[i, y + dy, x + dx]
                    if 0 <= 2 * x + dx < 2 * n and 0 <= 2 * y + dy < 2 * n:
                        acc += wu[j, i, dy + p, dx + p] * fine[i, 2 * y + dy, 2 * x + dx]
                out[j, y, x] = _sigma(act, acc)
            cur.append(out)
        layers.append(cur)
    return layers


@pytest.mark.parametrize("kernel,act", [(3, "relu"), (5, "tanh"), (3, "identity")])
def test_network_matches_the_seeds_equation_written_as_loops(kernel, act):
    torch.manual_seed(1)
    x = torch.randn(1, 3, 8, 8, dtype=torch.float64)  # k = 3
    net = ScaleSharedNet(3, 2, depth=3, kernel=kernel, activation=act, init_var=0.3, seed=4).double()
    with torch.no_grad():
        for b in net.bias:  # non-zero thresholds, so B's sign and placement are checked too
            b.copy_(torch.randn_like(b))
        layers = net(image_pyramid(x))
    pyr = [p[0].numpy() for p in image_pyramid(x)]
    ref = reference_layers(
        pyr,
        [w.detach().numpy() for w in net.w_left],
        [w.detach().numpy() for w in net.w_up],
        [b.detach().numpy() for b in net.bias],
        3,
        act,
    )
    for lvl in range(1, 4):
        assert len(layers[lvl]) == len(ref[lvl]) == 4 - lvl
        for s in range(4 - lvl):
            np.testing.assert_allclose(layers[lvl][s][0].numpy(), ref[lvl][s], rtol=1e-10, atol=1e-12)


def test_shapes_for_every_level_and_scale():
    k, depth, J = 6, 4, 5
    net = ScaleSharedNet(3, J, depth=depth, kernel=3)
    layers = net(image_pyramid(torch.rand(2, 3, 2**k, 2**k)))
    assert len(layers) == depth + 1
    for lvl in range(depth + 1):
        assert len(layers[lvl]) == k + 1 - lvl
        for s, m in enumerate(layers[lvl]):
            assert m.shape == (2, 3 if lvl == 0 else J, 2 ** (k - lvl - s), 2 ** (k - lvl - s))


def test_parameters_are_public_torch_parameters_and_the_module_converts():
    net = ScaleSharedNet(3, 4, depth=2, kernel=5)
    assert net.w_left[0].shape == (4, 3, 5, 5) and net.w_up[1].shape == (4, 4, 5, 5)
    assert net.bias[1].shape == (4,)
    assert len(list(net.parameters())) == 6
    assert net.double().w_left[0].dtype == torch.float64
    un = ScaleSharedNet(3, 4, depth=2, kernel=3, shared=False, max_scales=7)
    assert un.w_left[0].shape == (7, 4, 3, 3, 3)


@pytest.mark.parametrize("act", ["relu", "tanh"])
def test_exact_scale_equivariance_with_shared_weights_and_not_without(act):
    torch.manual_seed(0)
    x = torch.rand(1, 3, 64, 64)
    x_small = F.avg_pool2d(x, 2)
    for shared in (True, False):
        net = ScaleSharedNet(3, 8, depth=4, kernel=3, activation=act, shared=shared, seed=3)
        with torch.no_grad():
            full = net(image_pyramid(x))
            small = net(image_pyramid(x_small))
        worst = max(
            float((small[l][s] - full[l][s + 1]).abs().max()) / float(full[l][s + 1].abs().max())
            for l in range(1, 5)
            for s in range(len(small[l]))
        )
        if shared:
            assert worst < 1e-5
        else:
            assert worst > 0.1


def test_init_rules_set_the_weight_variance():
    J, D = 32, 3
    net = ScaleSharedNet(3, J, depth=3, kernel=D, init_var="he", seed=0)
    fan = 2 * D * D * J
    assert net.init_vars[1] == pytest.approx(2 / fan)
    # the first level gets the same gain sigma^2 * fan_in with its own fan-in 2 D^2 3
    assert net.init_vars[0] * 2 * D * D * 3 == pytest.approx(2.0)
    measured = torch.cat([net.w_left[2].flatten(), net.w_up[2].flatten()]).var().item()
    assert measured == pytest.approx(2 / fan, rel=0.1)
    assert ScaleSharedNet(3, J, 3, D, init_var="lecun").init_vars[2] == pytest.approx(1 / fan)
    assert ScaleSharedNet(3, J, 3, D, init_var="residual").init_vars[2] == pytest.approx(np.log(2) / (3 * D * D * J))
    zero = ScaleSharedNet(3, J, 3, D, init_var=0.0)
    assert all(float(w.detach().abs().max()) == 0 for w in zero.w_left)


def test_same_seed_same_weights_other_seed_other_weights():
    a, b, c = (ScaleSharedNet(3, 4, 2, 3, seed=s) for s in (7, 7, 8))
    assert torch.equal(a.w_up[1], b.w_up[1])
    assert not torch.equal(a.w_up[1], c.w_up[1])


def test_too_deep_for_the_image_and_even_kernel_are_refused():
    with pytest.raises(SettingsError):
        ScaleSharedNet(3, 4, depth=2, kernel=4)
    with pytest.raises(SettingsError, match="depth"):
        ScaleSharedNet(3, 4, depth=5, kernel=3)(image_pyramid(torch.rand(1, 3, 8, 8)))


def test_cancel_stops_between_levels():
    net = ScaleSharedNet(3, 4, depth=3, kernel=3)
    with pytest.raises(Cancelled):
        net(image_pyramid(torch.rand(1, 3, 16, 16)), cancel=lambda: True)


def test_pyramid_gradient_is_the_adjoint_of_the_2x2_mean():
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: tuple(image_pyramid(t)[1:]), (x,))
    # channels_last input: the same gradient
    xc = x.detach().contiguous(memory_format=torch.channels_last).requires_grad_()
    g = [torch.randn(p.shape, dtype=torch.float64) for p in image_pyramid(x)[1:]]
    (a,) = torch.autograd.grad(image_pyramid(x)[1:], x, g)
    (b,) = torch.autograd.grad(image_pyramid(xc)[1:], xc, g)
    assert torch.allclose(a, b)


def test_public_net_gradient_to_an_nchw_image_matches_a_plain_loop():
    torch.manual_seed(0)
    net = ScaleSharedNet(3, 4, 3, 3, "tanh", "he", True, 0)
    x = torch.randn(1, 3, 16, 16, dtype=torch.float32)

    def plain_pyramid(t):  # what a notebook writes, autograd's own backward
        out = [t]
        while out[-1].shape[-1] > 1:
            out.append(F.avg_pool2d(out[-1], 2))
        return out

    xi = x.clone().requires_grad_()
    layers = net(image_pyramid(xi))
    xj = x.clone().requires_grad_()
    ref = [plain_pyramid(xj)]
    for i in range(3):
        prev = ref[-1]
        w_left, w_up = net.w_left[i].detach(), net.w_up[i].detach()
        ref.append(
            [
                torch.tanh(F.conv2d(prev[s + 1], w_left, padding=1) + F.conv2d(prev[s], w_up, stride=2, padding=1))
                for s in range(len(prev) - 1)
            ]
        )
    g = [torch.randn(m.shape) for m in ref[3]]
    (ga,) = torch.autograd.grad(layers[3], xi, g)
    (gb,) = torch.autograd.grad(ref[3], xj, g)
    assert layers[0][0] is xi  # level 0: the caller's tensors
    torch.testing.assert_close(ga, gb, rtol=1e-4, atol=1e-6)
    for a, b in zip(layers[3], ref[3]):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
