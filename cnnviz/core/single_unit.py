"""Problem 4: one unit u = f(sum_{i<d} W[i] x[i] - B), B = 0, over draws of x and W.

x[i] ~ N(0, 1) and W[i] ~ N(0, sigma_w^2), all independent and drawn afresh for every sample.
Given x, the sum y = sum_i W[i] x[i] is exactly N(0, sigma_w^2 |x|^2), and |x|^2 is
chi-squared with d degrees of freedom, so

    y  =  sigma_w * sqrt(chi2_d) * z,    z ~ N(0, 1),

has exactly the distribution of the d-term sum (not an approximation for large d: at d = 1 it
is the product of two Gaussians, peaked at 0). Drawing it this way costs two numbers per
sample instead of 2 d, so d = 100000 is as quick as d = 1. The closed forms: docs/theory.md, Problem 4.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import SettingsError
from ..settings import ACTIVATIONS
from .result import UnitResult
from .theory import unit_theory


def apply_activation(activation: str, y: np.ndarray) -> np.ndarray:
    """f(y) elementwise in float64, without overflow warnings at any finite or infinite y."""
    if activation == "identity":
        return y.copy()
    out: np.ndarray
    if activation == "relu":
        out = np.maximum(y, 0.0)
        return out
    if activation == "tanh":
        out = np.tanh(y)
        return out
    if activation == "sigmoid":
        # Written through tanh: exp(-y) would overflow for y < -709.
        return 0.5 * (1.0 + np.tanh(0.5 * y))
    raise SettingsError(f"activation must be one of {', '.join(ACTIVATIONS)}, not {activation!r}")


def sample_unit(dim: int, init_var: float, activation: str, n_samples: int = 20000, seed: int = 0) -> UnitResult:
    """``n_samples`` draws of (y, u) for a unit of fan-in ``dim`` with weight variance ``init_var``.

    Returns a :class:`UnitResult` with ``y`` and ``u`` float64 ``[n_samples]`` and the closed
    forms of :func:`cnnviz.core.theory.unit_theory`. Seeded: the same arguments give the
    same samples.
    """
    if activation not in ACTIVATIONS:
        raise SettingsError(f"activation must be one of {', '.join(ACTIVATIONS)}, not {activation!r}")
    if isinstance(dim, bool) or int(dim) != dim or dim < 1:
        raise SettingsError(f"unit dimension d must be a whole number >= 1, not {dim}")
    init_var = float(init_var)
    if not (math.isfinite(init_var) and init_var >= 0):
        raise SettingsError(f"init variance must be a finite number >= 0, not {init_var}")
    if isinstance(n_samples, bool) or int(n_samples) != n_samples or n_samples < 1:
        raise SettingsError(f"number of samples must be a whole number >= 1, not {n_samples}")
    dim, n_samples = int(dim), int(n_samples)
    rng = np.random.default_rng(seed)
    norm_x = np.sqrt(rng.chisquare(dim, n_samples))
    y = math.sqrt(init_var) * norm_x * rng.standard_normal(n_samples)
    u = apply_activation(activation, y)
    var_y, mean_u, bound = unit_theory(dim, init_var, activation)
    return UnitResult(
        dim=dim,
        init_var=init_var,
        activation=activation,
        y=y,
        u=u,
        var_y_theory=var_y,
        mean_u_theory=mean_u,
        var_u_bound=bound,
    )
