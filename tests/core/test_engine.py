"""Settings -> Result: what the window, the CLI and the exports all draw from."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from cnnviz.core import engine
from cnnviz.core.pyramid import image_pyramid
from cnnviz.core.scale_net import Cancelled, ScaleSharedNet
from cnnviz.errors import SettingsError
from cnnviz.settings import Settings


@pytest.fixture(scope="module")
def image():
    rng = np.random.default_rng(0)
    # a smooth picture with structure at several scales, not white noise
    y, x = np.mgrid[0:64, 0:64] / 64
    img = np.stack([0.5 + 0.4 * np.sin(7 * x + 3 * y), 0.5 + 0.3 * np.cos(11 * y), x * y], axis=-1)
    return np.clip(img + 0.05 * rng.standard_normal(img.shape), 0, 1).astype(np.float32)


def test_result_has_every_layer_with_statistics_that_match_the_tensors(image):
    s = Settings(size=64, depth=4, channels=6)
    r = engine.run(s, image)
    p = r.pyramid
    assert (p.k, p.depth) == (6, 4)
    assert len(p.layers) == sum(7 - l for l in range(5))
    # recompute one layer independently from the same seeded network
    net = ScaleSharedNet(3, 6, 4, 3, "relu", "he", True, s.seed)
    with torch.no_grad():
        layers = net(image_pyramid(engine.to_network_input(image)))
    for lvl, sc in [(0, 2), (2, 1), (4, 0)]:
        t = layers[lvl][sc].double()
        st = p.layer(lvl, sc)
        assert st.shape == tuple(t.shape)
        assert st.mean == pytest.approx(t.mean().item(), rel=1e-6, abs=1e-12)
        assert st.var == pytest.approx(t.var(unbiased=False).item(), rel=1e-5)
        assert st.zero_frac == pytest.approx((t == 0).double().mean().item())
        assert st.hist_counts.sum() == t.numel()
        assert p.maps[lvl, sc].dtype == np.float32 and not p.maps[lvl, sc].flags.writeable  # the run's, read-only
    assert np.isnan(p.layer(0, 0).grad_rms) and np.isfinite(p.layer(1, 0).grad_rms)
    assert r.total_multiplies == sum(st.multiplies for st in p.layers) > 0


def test_gradients_are_those_of_the_seeded_top_level_injection(image):
    s = Settings(size=64, depth=3, channels=4, activation="tanh", seed=5)
    r = engine.run(s, image)
    net = ScaleSharedNet(3, 4, 3, 3, "tanh", "he", True, 5)
    layers = net(image_pyramid(engine.to_network_input(image)))
    gen = torch.Generator().manual_seed(6)
    g_top = [torch.randn(m.shape, generator=gen) for m in layers[3]]
    (g,) = torch.autograd.grad(layers[3], [layers[1][2]], grad_outputs=g_top)
    assert r.pyramid.layer(1, 2).grad_rms == pytest.approx(g.double().pow(2).mean().sqrt().item(), rel=1e-5)
    # the top level's gradient is the injected N(0, 1) noise itself
    assert r.pyramid.layer(3, 0).grad_var == pytest.approx(1.0, rel=0.1)


def test_raising_init_variance_raises_top_variance(image):
    lo = engine.run(Settings(size=64, depth=5, init=0.01), image).pyramid.layer(5, 0).var
    hi = engine.run(Settings(size=64, depth=5, init=0.1), image).pyramid.layer(5, 0).var
    assert hi > 100 * lo


def test_equivariance_readout_is_rounding_with_sharing_and_large_without(image):
    shared = engine.run(Settings(size=64, depth=4), image).pyramid.equivariance
    unshared = engine.run(Settings(size=64, depth=4, shared=False), image).pyramid.equivariance
    assert np.nanmax(shared) < 1e-5
    assert np.nanmax(unshared[1:]) > 0.1


def _equivariance_by_torch(net, layers):
    """The readout written plainly: the network on the image shrunk by 2 (the pyramid I_1 ..
    I_k, as avg_pool2d gives it), every max by torch, per level over the scales."""
    out = np.full(len(layers), np.nan)
    with torch.no_grad():
        pyr = image_pyramid(torch.nn.functional.avg_pool2d(layers[0][0], 2))
        assert all(torch.equal(a, b) for a, b in zip(pyr, layers[0][1:]))  # the run's own pyramid, bitwise
        shrunk = [list(pyr)]
        for i in range(min(net.depth, len(pyr) - 1)):  # depth = k: the shrunk image has a level too few
            shrunk.append(net.level(i, shrunk[-1]))
        for level, maps in enumerate(shrunk):
            if not maps or level >= len(layers):
                break
            diff = torch.stack([(a - layers[level][s + 1]).abs().amax() for s, a in enumerate(maps)]).amax()
            ref = torch.stack([layers[level][s + 1].abs().amax() for s in range(len(maps))]).amax()
            diff, ref = float(diff), float(ref)
            out[level] = diff / ref if ref > 0 else (0.0 if diff == 0 else np.inf)
    return out


@pytest.mark.parametrize(
    ("settings", "exact"),
    [
        (Settings(size=64, depth=4), True),
        (Settings(size=64, depth=4, shared=False), False),
        (Settings(size=64, depth=6, activation="tanh"), True),
        (Settings(size=64, depth=6, init=1e30), False),  # overflow: inf and NaN maps
        (Settings(size=32, depth=5), True),  # depth = k: the shrunk run stops a level short
    ],
)
@pytest.mark.parametrize("batch", [0, engine.BATCH_DIFF])
def test_equivariance_readout_is_the_plain_computation(image, settings, exact, batch, monkeypatch):
    """The engine's readout (numpy maxima over views, the pyramid reused; the small maps compared
    together, or with ``batch`` 0 each alone) gives the numbers of the plain torch computation,
    shared or not, through inf and NaN; with shared weights it is exactly 0 at every level."""
    monkeypatch.setattr(engine, "BATCH_DIFF", batch)
    frame = image if settings.size == 64 else image[::2, ::2].copy()
    r = engine.run(settings, frame, profile="stats", equivariance=True)
    k = settings.k
    net = engine._scale_net(
        settings.channels,
        settings.depth,
        settings.kernel,
        settings.activation,
        settings.init,
        settings.shared,
        settings.seed,
        12 if settings.shared else k + 1,
        "cpu",
    )  # the engine's network (channels_last), so both runs go through the same kernels
    with torch.no_grad():
        layers = net(image_pyramid(engine._network_input_nhwc(frame)))
    expected = _equivariance_by_torch(net, layers)
    np.testing.assert_allclose(r.pyramid.equivariance, expected, rtol=1e-5, equal_nan=True)
    got = engine._equivariance(net, [list(level) for level in layers])
    np.testing.assert_allclose(got, expected, rtol=1e-5, equal_nan=True)
    if exact:
        assert np.all(r.pyramid.equivariance[: settings.depth] == 0)
    if settings.init == 1e30:
        assert not np.isfinite(r.pyramid.equivariance[1:]).all()


def test_equivariance_maxima_off_numpy_take_torchs_path():
    """Tensors numpy cannot view (another device; here float16) give the same maxima by torch."""
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(1, 4, 8, 8, generator=gen), torch.randn(1, 4, 8, 8, generator=gen)
    b[0, 1, 2, 3] = -9.0
    by_numpy = engine._max_abs_diff(a, b, in_place=False)
    by_torch = engine._max_abs_diff(a.double().half(), b.half(), in_place=False)
    assert by_numpy[1] == by_torch[1] == 9.0
    assert by_torch[0] == pytest.approx(by_numpy[0], rel=1e-3)
    b[0, 0, 0, 0] = float("nan")
    assert all(np.isnan(v) for v in engine._max_abs_diff(a.half(), b.half(), in_place=True))


@pytest.mark.parametrize(("size", "threads"), [(8, 1), (16, 1), (128, 1), (16, 2)])
def test_display_maps_are_the_layers_average_pooled_to_the_display_size(image, size, threads, monkeypatch):
    """Each display map is its layer's mean over blocks of (n / size)^2 values (avg_pool2d's
    floats), or the layer itself where it is small enough: read-only float32, and no later run
    changes them (they are views of the run's own layers, which no other run reuses). The
    export's full maps are C-contiguous copies, made by numpy or (more than one torch thread)
    by torch."""
    monkeypatch.setattr(engine, "_TORCH_COPY", 1)  # every map takes torch's copy where threads > 1
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        r = engine.run(Settings(size=64, depth=4, channels=6), image, profile="export", display_size=size).pyramid
    finally:
        torch.set_num_threads(before)
    for (level, s), m in r.maps.items():
        if level == 0:
            continue
        full = torch.from_numpy(r.maps_full[level, s])[None]
        n = full.shape[-1]
        want = torch.nn.functional.avg_pool2d(full, n // size)[0] if n > size else full[0]
        assert m.shape == tuple(want.shape) and m.dtype == np.float32 and not m.flags.writeable
        assert r.maps_full[level, s].flags.c_contiguous
        np.testing.assert_allclose(m, want.numpy(), rtol=1e-6, atol=1e-6)  # avg_pool2d in another layout
        assert not np.shares_memory(m, r.maps_full[level, s])
    kept = {key: m.copy() for key, m in r.maps.items()}
    for init in (0.5, 4.0):  # later runs on the same frame, another network
        engine.run(Settings(size=64, depth=4, channels=6, init=init), image, display_size=size)
    assert all(np.array_equal(r.maps[key], m) for key, m in kept.items())


def test_overflow_is_counted_and_warned_never_raised(image):
    r = engine.run(Settings(size=64, depth=6, init=1e30), image)
    assert r.pyramid.nonfinite_layers, "a 1e30 init must overflow float32"
    assert any("overflow" in w for w in r.warnings)
    top = r.pyramid.layer(6, 0)
    assert top.nonfinite == top.numel


def test_frame_of_another_size_is_refused_in_one_line(image):
    # core never opens or fits pictures: the caller fits (cnnviz.io.images.fit_to_size)
    with pytest.raises(SettingsError, match="fitted to 32x32"):
        engine.run(Settings(size=32, depth=2), image, source="test.png")


def test_unavailable_device_falls_back_with_a_warning(image):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    r = engine.run(Settings(size=32, depth=2, device="cuda"), np.ascontiguousarray(image[::2, ::2]))
    assert r.device == "cpu"
    assert any("not available" in w for w in r.warnings)


def test_cancel_raises_cancelled(image):
    with pytest.raises(Cancelled):
        engine.run(Settings(size=64, depth=4), image, cancel=lambda: True)


def test_pyramid_mode_needs_an_image():
    with pytest.raises(SettingsError):
        engine.run(Settings(size=64, depth=2), None)


def test_init_mode_runs_the_residual_stack_and_the_single_unit_on_noise():
    s = Settings(mode="init", residual_depth=12, channels=8, noise_size=32)
    r = engine.run(s, None)
    res = r.residual
    assert len(res.layers) == 13 and res.theory_var.shape == (13,)
    assert res.layers[0].var == pytest.approx(1.0, rel=0.05)
    assert res.init_var == pytest.approx(np.log(2) / (12 * 9 * 8))
    assert r.unit is not None and r.unit.u.size > 1000
    assert r.pyramid is None


def test_residual_stack_on_the_image_is_standardised(image):
    r = engine.run(Settings(mode="init", residual_input="image", size=64, channels=4), image)
    assert r.residual.layers[0].var == pytest.approx(1.0, rel=1e-3)
    assert r.residual.input_kind == "image"


def test_cost_mode_fills_torchs_count(image):
    r = engine.run(Settings(mode="cost", size=64, depth=3), image)
    assert all(row.torch_flops == 2 * row.multiplies for row in r.costs)


@pytest.mark.parametrize("n", [4, 300])  # numpy path for small layers, torch for large
def test_layer_stats_count_nonfinite_and_keep_extremes_finite(n):
    from cnnviz.core.stats import layer_stats

    x = torch.randn(1, 4, n, n)
    x[0, 0, 0, 0], x[0, 0, 0, 1] = float("inf"), float("nan")
    x[0, 1] = 0
    st = layer_stats(x, 1, 0, x)
    finite = x[torch.isfinite(x)].double()
    assert st.nonfinite == 2 and st.grad_nonfinite == 2
    assert st.mean == pytest.approx(finite.mean().item())
    assert st.var == pytest.approx(finite.var(unbiased=False).item(), rel=1e-9)
    assert st.hist_counts.sum() == x.numel() - 2
    assert st.zero_frac == pytest.approx(float((x == 0).sum()) / x.numel())  # channel 1: all zeros
    assert st.zero_frac >= 0.25
    # float32's largest values: squares overflow float32 but not the float64 statistics
    big = torch.full((1, 2, n, n), 3.0e38)
    st = layer_stats(big, 1, 0, big)
    assert st.nonfinite == 0 and st.mean == pytest.approx(3.0e38) and st.var == 0
    assert st.hist_counts.sum() == big.numel() and np.isfinite(st.grad_rms)


@pytest.mark.parametrize("shape", [(1, 3, 5, 7), (1, 16, 64, 64), (1, 3, 61, 67), (2, 5, 128, 128)])
@pytest.mark.parametrize(
    "make",
    [
        lambda g, s: torch.relu(torch.randn(s, generator=g)),  # ReLU layer: mean^2 ~ var / 2
        lambda g, s: torch.sigmoid(0.01 * torch.randn(s, generator=g)),  # mean 0.5 >> spread
        lambda g, s: 1e6 + torch.randn(s, generator=g),  # far from zero
        lambda g, s: torch.full(s, 3.0e38) - 1e31 * torch.rand(s, generator=g),  # squares overflow float32
        lambda g, s: 1e-30 * torch.randn(s, generator=g),  # tiny
    ],
)
def test_fused_statistics_match_the_float64_reference(shape, make):
    from cnnviz.core.stats import _layer_stats_torch, layer_stats

    g = torch.Generator().manual_seed(0)
    x = make(g, shape).contiguous(memory_format=torch.channels_last) if len(shape) == 4 else make(g, shape)
    grad = torch.randn(shape, generator=g) * 1e-3
    fast, ref = layer_stats(x, 1, 0, grad), _layer_stats_torch(x, 1, 0, grad)
    for f in ("mean_sq", "grad_var", "grad_rms"):
        assert getattr(fast, f) == pytest.approx(getattr(ref, f), rel=1e-7, abs=0), f
    assert fast.mean == pytest.approx(ref.mean, rel=1e-7, abs=1e-7 * np.sqrt(ref.mean_sq))
    assert fast.var == pytest.approx(ref.var, rel=1e-6, abs=1e-12 * abs(ref.mean) ** 2)
    assert fast.zero_frac == ref.zero_frac and fast.nonfinite == ref.nonfinite == 0
    assert np.array_equal(fast.hist_counts, ref.hist_counts) and np.array_equal(fast.hist_edges, ref.hist_edges)


def test_statistics_of_a_layout_numpy_cannot_view_take_torchs_path():
    # the path a GPU tensor takes: torch reductions, same numbers
    from cnnviz.core.stats import _layer_stats_torch, cpu_values, layer_stats

    g = torch.Generator().manual_seed(1)
    x = torch.relu(torch.randn(1, 4, 70, 70, generator=g)).transpose(2, 3)[..., ::2]  # strided, not viewable
    assert cpu_values(x) is None
    fast, ref = layer_stats(x, 1, 0, x), _layer_stats_torch(x, 1, 0, x)
    assert (fast.mean, fast.var, fast.zero_frac, fast.grad_rms) == pytest.approx(
        (ref.mean, ref.var, ref.zero_frac, ref.grad_rms), rel=1e-12
    )
    assert np.array_equal(fast.hist_counts, ref.hist_counts)


def test_a_cancel_during_the_backward_pass_stops_it_at_the_next_layer(image, monkeypatch):
    """A newer request must not wait for a whole backward pass: cancel is heard inside it."""
    import torch

    calls = {"n": 0, "in_backward": False}
    real_grad = torch.autograd.grad

    def grad(*args, **kwargs):
        calls["in_backward"] = True
        return real_grad(*args, **kwargs)

    monkeypatch.setattr(torch.autograd, "grad", grad)

    def cancel() -> bool:
        calls["n"] += 1
        return calls["in_backward"]  # the forward pass runs through, the backward pass is cancelled

    with pytest.raises(Cancelled):
        engine.run(Settings(size=64, depth=4), image, cancel=cancel)
    assert calls["in_backward"]


def test_the_top_gradient_through_a_scalar_gives_the_same_floats():
    """engine._grad injects a small top level's seeded gradient as d/dL of sum(L * g): every
    gradient equals autograd's with grad_outputs, bitwise."""
    net = ScaleSharedNet(3, 4, 3, 3, "relu", "he", True, 0).requires_grad_(False)
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(2)) - 0.5
    layers = net(image_pyramid(x), grad_from_level=1)
    inputs = [m for level in layers[1:] for m in level]
    g_top = engine._top_gradient(tuple(m.shape for m in layers[3]), 7, torch.device("cpu"))
    by_scalar = engine._grad(list(layers[3]), inputs, g_top, retain_graph=True)
    by_tensors = torch.autograd.grad(layers[3], inputs, grad_outputs=g_top)
    assert all(torch.equal(a, b) for a, b in zip(by_scalar, by_tensors, strict=True))


def test_the_first_result_does_not_import_sympy():
    """torch imports its symbolic shapes (and sympy, ~0.2 s) for tensor grad_outputs; the
    engine's first run, which the window waits for, does not."""
    code = (
        "import sys, numpy as np\n"
        "from cnnviz.core import engine\n"
        "from cnnviz.settings import Settings\n"
        "engine.run(Settings(size=32, depth=5), np.zeros((32, 32, 3), np.float32))\n"
        "print('sympy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "False"
