"""Problem 4: one unit u = f(sum_i W[i] x[i]) sampled over draws of x and W."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from cnnviz.core.result import UnitResult
from cnnviz.core.single_unit import sample_unit
from cnnviz.errors import SettingsError


def _se_mean(a: np.ndarray) -> float:
    return float(a.std(ddof=1) / math.sqrt(a.size))


def _se_var(a: np.ndarray) -> float:
    """Standard error of the sample variance: sqrt((m4 - var^2) / n)."""
    c = a - a.mean()
    return float(math.sqrt(((c**4).mean() - (c**2).mean() ** 2) / a.size))


@pytest.mark.parametrize("dim", [1, 10, 1000])
def test_sigmoid_unit_answers_problem_4(dim):
    res = sample_unit(dim, 1.0 / dim, "sigmoid", n_samples=20000, seed=3)
    assert isinstance(res, UnitResult)
    assert res.y.shape == res.u.shape == (20000,) and res.y.dtype == np.float64
    # (a) Var(y) = d sigma_w^2 = 1 with sigma_w^2 = 1/d; within 4 standard errors
    assert res.var_y_theory == pytest.approx(1.0)
    assert abs(res.y.var() - 1.0) <= 4 * _se_var(res.y)
    # (b) E u = 1/2
    assert res.mean_u_theory == 0.5
    assert abs(res.u.mean() - 0.5) <= 4 * _se_mean(res.u)
    # (c) Var(u) < Var(y), and in fact <= Var(y)/16 (slope at most 1/4)
    assert res.u.var() < res.y.var() / 16
    # (d) never above 1/4
    assert res.var_u_bound == 0.25 and res.u.var() < 0.25


def test_sigmoid_variance_approaches_but_never_reaches_one_quarter():
    res = sample_unit(50, 1e6, "sigmoid", n_samples=20000, seed=1)
    assert 0.24 < res.u.var() < 0.25
    assert res.u.min() >= 0.0 and res.u.max() <= 1.0


def test_relu_mean_is_exact_not_gaussian_at_small_d():
    """At d = 1, y = W x is a product of Gaussians: E relu(y) = sigma/pi, not the Gaussian
    sigma/sqrt(2 pi) (0.318 against 0.399): the sampler and the theory both know it."""
    res = sample_unit(1, 1.0, "relu", n_samples=20000, seed=5)
    assert res.mean_u_theory == pytest.approx(1 / math.pi)
    assert abs(res.u.mean() - 1 / math.pi) <= 4 * _se_mean(res.u)
    assert abs(res.u.mean() - 1 / math.sqrt(2 * math.pi)) > 10 * _se_mean(res.u)
    assert math.isnan(res.var_u_bound)


def _ks(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic."""
    grid = np.sort(np.concatenate([a, b]))
    fa = np.searchsorted(np.sort(a), grid, side="right") / a.size
    fb = np.searchsorted(np.sort(b), grid, side="right") / b.size
    return float(np.abs(fa - fb).max())


@pytest.mark.parametrize("dim", [1, 3, 30])
def test_samples_have_the_law_of_the_explicit_sum(dim):
    """sample_unit draws y as sigma |x| z; compare with sum_i W[i] x[i] drawn term by term.
    KS at n = 20000 each: the 0.1 % critical value is 1.95 sqrt(2/n) = 0.0195. As a control,
    a Gaussian of the same variance is rejected at d = 1 (the product law is peaked)."""
    n, var = 20000, 0.5
    rng = np.random.default_rng(11)
    explicit = (rng.standard_normal((n, dim)) * math.sqrt(var) * rng.standard_normal((n, dim))).sum(1)
    res = sample_unit(dim, var, "identity", n_samples=n, seed=2)
    assert _ks(res.y, explicit) < 0.0195
    np.testing.assert_array_equal(res.u, res.y)
    if dim == 1:
        gauss = rng.standard_normal(n) * math.sqrt(var)
        assert _ks(gauss, explicit) > 0.0195


def test_tanh_unit():
    res = sample_unit(100, 0.05, "tanh", n_samples=20000, seed=0)
    assert res.var_y_theory == pytest.approx(5.0)
    assert res.mean_u_theory == 0.0 and res.var_u_bound == 1.0
    assert abs(res.u.mean()) <= 4 * _se_mean(res.u)
    assert res.u.var() < min(1.0, res.y.var())


def test_seeded_and_fast_path_for_large_d():
    a = sample_unit(1000, 1e-3, "sigmoid", seed=9)
    b = sample_unit(1000, 1e-3, "sigmoid", seed=9)
    c = sample_unit(1000, 1e-3, "sigmoid", seed=10)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.y, c.y)
    big = sample_unit(100_000, 1e-5, "identity", n_samples=5000, seed=0)
    assert abs(big.y.var() - 1.0) <= 4 * _se_var(big.y)


def test_extreme_init_is_finite_and_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = sample_unit(100_000, 1e300, "sigmoid", n_samples=1000)
        zero = sample_unit(10, 0.0, "sigmoid", n_samples=1000)
    assert np.isfinite(res.u).all() and set(np.unique(res.u)) <= {0.0, 1.0}
    np.testing.assert_array_equal(zero.u, 0.5)


@pytest.mark.parametrize(
    "args",
    [(0, 0.1, "sigmoid"), (5, -0.1, "sigmoid"), (5, float("inf"), "relu"), (5, 0.1, "swish"), (2.5, 0.1, "relu")],
)
def test_bad_arguments_raise_settings_error(args):
    with pytest.raises(SettingsError):
        sample_unit(*args)
    with pytest.raises(SettingsError):
        sample_unit(5, 0.1, "relu", n_samples=0)
