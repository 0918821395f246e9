"""Run profiles: each computes a subset of the export profile's Result, with the same numbers."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from cnnviz.core import engine
from cnnviz.core.pyramid import image_pyramid
from cnnviz.core.result import PROFILE_NAMES, Profile, profile
from cnnviz.core.scale_net import ScaleSharedNet
from cnnviz.errors import SettingsError
from cnnviz.settings import Settings

NUMBERS = ("mean", "var", "mean_sq", "zero_frac", "nonfinite", "grad_var", "grad_rms", "grad_nonfinite")
NUMBERS += ("multiplies", "theory_mean_sq", "theory_var", "theory_grad_rms", "shape")


@pytest.fixture(scope="module")
def image():
    y, x = np.mgrid[0:64, 0:64] / 64
    img = np.stack([0.5 + 0.4 * np.sin(9 * x + 2 * y), 0.5 + 0.3 * np.cos(13 * y), x * y], axis=-1)
    return img.astype(np.float32)


@pytest.fixture(scope="module")
def runs(image):
    s = Settings(size=64, depth=4, channels=5, activation="tanh", seed=3)
    return {name: engine.run(s, image, profile=name) for name in PROFILE_NAMES}


def same(a: float, b: float) -> bool:
    return (np.isnan(a) and np.isnan(b)) or a == b


def test_every_profile_gives_the_export_profiles_numbers(runs):
    full = runs["export"].pyramid
    for name, r in runs.items():
        assert r.profile.name == name
        assert len(r.pyramid.layers) == len(full.layers)
        for st, ref in zip(r.pyramid.layers, full.layers):
            for f in NUMBERS:
                a, b = getattr(st, f), getattr(ref, f)
                assert a == b if f == "shape" else same(a, b), (name, st.level, st.scale, f)
            if st.hist_counts.size:  # a histogram, where the profile computes one, is the same
                assert np.array_equal(st.hist_counts, ref.hist_counts)
                assert np.array_equal(st.hist_edges, ref.hist_edges)
        if r.pyramid.maps:
            assert r.pyramid.maps.keys() == full.maps.keys()
            for key, m in r.pyramid.maps.items():
                assert np.array_equal(m, full.maps[key], equal_nan=True)
        if r.profile.equivariance:
            assert np.array_equal(r.pyramid.equivariance, full.equivariance, equal_nan=True)
        else:
            assert np.isnan(r.pyramid.equivariance).all()


def test_what_each_profile_leaves_out(runs):
    stats, play, inter = runs["stats"].pyramid, runs["playback"].pyramid, runs["interactive"].pyramid
    assert not stats.maps and len(stats.pyramid) == 1
    assert all(st.hist_counts.size == 0 for st in stats.layers)
    assert not stats.maps_full and not inter.maps_full and not play.grads_full
    assert np.isnan(play.equivariance).all() and np.isfinite(inter.equivariance[:2]).all()
    assert all(st.hist_counts.sum() == st.numel for st in inter.layers)  # no cell selected: all


def test_the_selected_cell_alone_gets_its_histogram(image):
    r = engine.run(Settings(size=64, depth=4, channels=5), image, selected=(2, 1))
    assert r.profile.selected == (2, 1)
    with_hist = [(st.level, st.scale) for st in r.pyramid.layers if st.hist_counts.size]
    assert with_hist == [(2, 1)]
    assert r.pyramid.layer(2, 1).hist_counts.sum() == r.pyramid.layer(2, 1).numel


def test_export_holds_every_layer_and_gradient_at_full_resolution(runs, image):
    r = runs["export"]
    p, s = r.pyramid, r.settings
    assert p.maps_full.keys() == {(st.level, st.scale) for st in p.layers}
    assert p.grads_full.keys() == {(st.level, st.scale) for st in p.layers if st.level >= 1}
    for (l, sc), m in p.maps_full.items():
        n = 2 ** (p.k - l - sc)
        assert m.shape == ((3 if l == 0 else s.channels), n, n)
        assert m.dtype == np.float32 and m.flags.c_contiguous
        if l:
            assert p.grads_full[l, sc].shape == m.shape
    # the same tensors the statistics were taken from, recomputed independently
    net = ScaleSharedNet(3, s.channels, s.depth, s.kernel, s.activation, s.init, True, s.seed)
    x = engine.to_network_input(image)
    layers = net(image_pyramid(x))
    gen = torch.Generator().manual_seed(s.seed + 1)
    g_top = [torch.randn(m.shape, generator=gen) for m in layers[s.depth]]
    (g,) = torch.autograd.grad(layers[s.depth], [layers[2][1]], grad_outputs=g_top)
    np.testing.assert_allclose(p.maps_full[2, 1], layers[2][1][0].detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(p.grads_full[2, 1], g[0].numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(p.maps_full[0, 0], x[0].numpy())  # the image minus the input offset
    assert p.layer(2, 1).var == pytest.approx(float(p.maps_full[2, 1].astype(np.float64).var()), rel=1e-9)


def test_keyword_aliases_and_bad_profiles():
    s = Settings(size=32, depth=2, channels=3)
    frame = np.full((32, 32, 3), 0.5, np.float32)
    r = engine.run(s, frame, display_size=0, equivariance=False)  # the old numbers-only call
    assert not r.pyramid.maps and r.pyramid.layers[0].hist_counts.size == 0
    assert r.profile.display_size == 0 and not r.profile.equivariance
    r = engine.run(s, frame, profile="playback", equivariance=True)
    assert r.profile == dataclasses.replace(profile("playback"), equivariance=True)
    assert isinstance(r.profile, Profile)
    with pytest.raises(SettingsError, match="profile must be one of"):
        engine.run(s, frame, profile="everything")


def test_saturated_fraction_counts_outputs_beyond_the_flat_ends():
    import torch

    from cnnviz.core.stats import saturated_fraction

    x = torch.tensor([-0.95, -0.5, 0.0, 0.5, 0.95, float("inf"), float("nan")]).reshape(1, 1, 1, 7)
    assert saturated_fraction(x, -0.9, 0.9) == 3 / 6  # -0.95, 0.95 and inf of the six values not NaN


def test_the_per_position_theory_is_the_per_position_recursion_on_the_measured_input(runs):
    from cnnviz.core import theory
    from cnnviz.core.init import scale_net_init_vars

    r = runs["interactive"]
    p, s = r.pyramid, r.settings
    q0 = [p.layer(0, sc).mean_sq for sc in range(p.k + 1)]
    init_vars = scale_net_init_vars(s.init, s.depth, s.kernel, s.channels, 3)
    want = theory.scale_net_mean_field(
        q0, p.k, s.depth, s.channels, s.kernel, init_vars, s.activation, per_position=True
    )
    np.testing.assert_allclose(p.theory_var_local, want.var, rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(p.theory_grad_rms_local, want.grad_rms, rtol=1e-12, equal_nan=True)
    assert not p.theory_var_local.flags.writeable  # shared by the runs that reuse the cache
    # the same numbers wherever they are computed; numbers-only and per-frame runs leave them out
    export = runs["export"].pyramid
    assert np.array_equal(export.theory_var_local, p.theory_var_local, equal_nan=True)
    assert runs["stats"].pyramid.theory_var_local is None and runs["playback"].pyramid.theory_grad_rms_local is None


@pytest.mark.parametrize(("activation", "equivariance"), [("relu", True), ("tanh", True), ("tanh", False)])
def test_the_side_thread_changes_no_number(image, monkeypatch, activation, equivariance):
    """The gradient-free work runs beside the backward pass where a core is spare, or before it
    (without the equivariance pass the side thread also summarises the activations)."""
    s = Settings(size=64, depth=4, channels=5, activation=activation, seed=4)
    runs = {}
    monkeypatch.setattr(engine, "available_cores", lambda: torch.get_num_threads() + 1)
    for overlap in (True, False):
        runs[overlap] = engine.run(s, image, profile="export", equivariance=equivariance, side_thread=overlap)
        assert any(k.startswith("side ") for k in runs[overlap].timings) == overlap
    a, b = runs[True].pyramid, runs[False].pyramid
    for st, ref in zip(a.layers, b.layers):
        for f in (*NUMBERS, "sat_frac"):
            assert getattr(st, f) == getattr(ref, f) if f == "shape" else same(getattr(st, f), getattr(ref, f)), f
        assert np.array_equal(st.hist_counts, ref.hist_counts)
    assert np.array_equal(a.equivariance, b.equivariance, equal_nan=True)
    for key in a.maps:
        assert np.array_equal(a.maps[key], b.maps[key], equal_nan=True)
    for x, y in zip(a.pyramid, b.pyramid):
        assert np.array_equal(x, y)


def test_a_cancel_during_the_backward_pass_stops_the_side_job_too(image, monkeypatch):
    monkeypatch.setattr(engine, "available_cores", lambda: torch.get_num_threads() + 1)
    newer = []
    top_gradient = engine._top_gradient

    def draw_and_cancel(*args):  # a newer request comes just as the backward pass starts
        newer.append(1)
        return top_gradient(*args)

    monkeypatch.setattr(engine, "_top_gradient", draw_and_cancel)
    with pytest.raises(engine.Cancelled):
        engine.run(Settings(size=64, depth=4, channels=5), image, cancel=lambda: bool(newer))
    # nothing of the cancelled run is left running: the next run gets its whole Result
    r = engine.run(Settings(size=64, depth=4, channels=5), image)
    assert np.isfinite(r.pyramid.equivariance[1]) and r.pyramid.theory_var_local is not None


def test_a_forked_child_runs_the_engine_with_its_own_side_thread(image, monkeypatch):
    """A notebook that forks after a run (multiprocessing's fork start method) gets a working
    engine in the child: the side thread is the child's own, never the parent's copy.

    At the app's thread policy (one torch thread on this 2-core machine): with a team of
    OpenMP threads made in the parent, libgomp itself hangs a forked child, whatever runs there,
    so the test no longer depends on which test set the thread count before it."""
    import multiprocessing

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        monkeypatch.setattr(engine, "available_cores", lambda: torch.get_num_threads() + 1)
        s = Settings(size=64, depth=4, channels=5)
        want = engine.run(s, image).pyramid.layers[-1].var
        with multiprocessing.get_context("fork").Pool(1) as pool:
            got = pool.apply_async(_child_top_var, (s, image)).get(timeout=120)
    finally:
        torch.set_num_threads(before)
    assert got == want


def _child_top_var(s, image):
    return engine.run(s, image).pyramid.layers[-1].var
