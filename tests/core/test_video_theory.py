"""The video network's mean-field theory: exact for a hand-computed case, tap counts against a
convolution of ones, and beside the measurement of run_video within the stated tolerances."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz.core.theory import video_net_mean_field, video_taps
from cnnviz.core.video_engine import run_video
from cnnviz.settings import Settings


@pytest.mark.parametrize(
    "shape,kernel,kernel_t,stride",
    [((8, 32, 32), 3, 3, 1), ((8, 32, 32), 3, 3, 2), ((5, 7, 9), 5, 3, 2), ((3, 4, 4), 3, 5, 3), ((1, 1, 1), 3, 3, 1)],
)
def test_tap_counts_equal_a_convolution_of_ones(shape, kernel, kernel_t, stride):
    ones = torch.ones((1, 1, *shape), dtype=torch.float64)
    w = torch.ones((1, 1, kernel_t, kernel, kernel), dtype=torch.float64)
    pad = (kernel_t // 2, kernel // 2, kernel // 2)
    per_output = F.conv3d(ones, w, stride=stride, padding=pad)  # taps inside, at each output
    out = torch.ones_like(per_output)
    per_input = torch.nn.grad.conv3d_input(ones.shape, w, out, stride=stride, padding=pad)  # pairs reading each input
    fwd, back = video_taps(shape, kernel, kernel_t, stride)
    assert fwd == pytest.approx(float(per_output.mean()), rel=1e-12)
    assert back == pytest.approx(float(per_input.mean()), rel=1e-12)


def test_a_tiny_case_equals_the_hand_computation():
    # clip 2 x 2 x 2 (T, H, W), D = D_t = 3, stride 1: every output sees 2 taps per axis, 8 in all.
    # ReLU, q0 = 0.25, sigma^2 = (0.1, 0.05), I = 3, J = 4.
    mf = video_net_mean_field(0.25, (2, 2, 2), 2, 4, 3, 3, 1, (0.1, 0.05), "relu")
    v1 = 0.1 * 3 * 8 * 0.25  # 0.6
    q1 = v1 / 2
    v2 = 0.05 * 4 * 8 * q1
    r1 = 0.05 * 4 * 8 * 0.5 * 1.0  # sigma_2^2 J B_1 c_2 r_2, r_2 = 1 at the top
    np.testing.assert_allclose(mf.taps[:2], [8, 8])
    np.testing.assert_allclose(mf.v, [np.nan, v1, v2])
    np.testing.assert_allclose(mf.q, [0.25, q1, v2 / 2])
    np.testing.assert_allclose(mf.var, [np.nan, q1 - v1 / (2 * math.pi), v2 / 2 - v2 / (2 * math.pi)])
    np.testing.assert_allclose(mf.r, [np.nan, r1, 1.0])
    np.testing.assert_allclose(mf.grad_rms, [np.nan, math.sqrt(r1), 1.0])
    # stride 2 on the same clip: one output per axis reads 2 taps; each input is read once per axis
    mf2 = video_net_mean_field(0.25, (2, 2, 2), 2, 4, 3, 3, 2, (0.1, 0.05), "identity")
    assert mf2.taps[0] == 8 and mf2.back[0] == 1 and mf2.taps[1] == 1  # L_1 is 1 x 1 x 1
    assert mf2.q[1] == pytest.approx(0.6) and mf2.q[2] == pytest.approx(0.05 * 4 * 1 * 0.6)
    assert mf2.r[1] == pytest.approx(0.05 * 4 * 1 * 1.0)


def test_in_the_interior_he_keeps_relu_and_stride_divides_the_gradient_by_s_cubed():
    big = (10_000, 10_000, 10_000)  # no border to speak of
    fan = 16 * 27
    mf = video_net_mean_field(1.0, big, 3, 16, 3, 3, 1, (2 / 81, 2 / fan, 2 / fan), "relu")
    np.testing.assert_allclose(mf.q[1:], 1.0, rtol=1e-3)
    np.testing.assert_allclose(mf.r[1:], 1.0, rtol=1e-3)
    mf = video_net_mean_field(1.0, big, 3, 16, 3, 3, 2, (2 / 81, 2 / fan, 2 / fan), "relu")
    np.testing.assert_allclose(mf.r[1:], [1 / 64, 1 / 8, 1], rtol=3e-3)


def test_overflow_is_inf_not_a_warning():
    with np.errstate(all="raise"):
        mf = video_net_mean_field(1.0, (8, 32, 32), 4, 16, 3, 3, 1, (1e300,) * 4, "relu")
    assert np.isinf(mf.q[-1]) and np.isinf(mf.var[-1])


def _ratios(settings: Settings, seeds: range) -> tuple[np.ndarray, np.ndarray]:
    q, g = [], []
    for seed in seeds:
        s = settings.replace(seed=seed)
        clip = np.random.default_rng(seed).random((s.video_window, s.size, s.size, 3), dtype=np.float32)
        v = run_video(s, clip).video
        assert v is not None
        q.append(v.series("mean_sq")[1:] / v.series("theory_mean_sq")[1:])
        g.append(v.series("grad_rms")[1:-1] / v.series("theory_grad_rms")[1:-1])
    return np.mean(q, axis=0), np.mean(g, axis=0)


@pytest.mark.parametrize("stride", [1, 2])
def test_he_relu_on_a_random_clip_is_predicted_within_the_stated_tolerance(stride):
    """docs/theory.md: over weight draws the prediction is unbiased; one draw scatters by 20-45 %
    forward (ReLU layers read positive inputs, so each channel has its own offset) and 5-15 %
    backward. The mean over 6 draws (fixed seeds) is within 15 % forward and 10 % backward."""
    s = Settings(mode="video-net", size=32, depth=3, channels=16, video_window=8, video_stride=stride)
    q, g = _ratios(s, range(6))
    np.testing.assert_allclose(q, 1.0, atol=0.15)
    np.testing.assert_allclose(g, 1.0, atol=0.10)


def test_the_result_carries_the_theory_beside_the_measurement():
    s = Settings(mode="video-net", size=32, depth=3, channels=8, video_window=4)
    clip = np.random.default_rng(0).random((4, 32, 32, 3), dtype=np.float32)
    v = run_video(s, clip).video
    assert v is not None
    x = clip.astype(np.float64) - 0.5
    mf = video_net_mean_field(
        float((x**2).mean()), (4, 32, 32), 3, 8, s.kernel, s.video_kernel_t, s.video_stride, v.init_vars, "relu"
    )
    np.testing.assert_allclose(v.series("theory_var")[1:], mf.var[1:], rtol=1e-6)
    np.testing.assert_allclose(v.series("theory_grad_rms")[1:], mf.grad_rms[1:], rtol=1e-6)
    assert math.isnan(v.layers[0].stats.theory_var)  # the input is measured, not predicted
    assert v.layers[-1].stats.theory_grad_rms == 1.0
