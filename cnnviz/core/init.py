"""Initialisation rules: sigma_w^2 from a rule name or a number.

Fan-in of the scale-shared unit counts both branches (<- and ^): 2 D^2 I. A number is the
sigma_w^2 of every level after the first; the first level (I = 3 colour channels) gets the
same *gain* sigma_w^2 * fan_in, so the image is not amplified differently from the rest.
See docs/theory.md, "Initialisation: fan-in and gain".
"""

from __future__ import annotations

import math

from ..errors import SettingsError

INIT_RULES = ("lecun", "he", "residual")


def residual_rule(depth: int, kernel: int, channels: int) -> float:
    """Problem 5(b): sigma_w^2 = ln 2 / (L D^2 J), so that Var(L_L) ~ 2 Var(L_0)."""
    return math.log(2.0) / (depth * kernel**2 * channels)


def resolve_init_var(
    init: str | float | None, fan_in: int, depth: int, kernel: int, channels: int, default: str = "he"
) -> float:
    """sigma_w^2 for a unit of fan-in ``fan_in`` under ``init`` (a number or a rule name)."""
    if init is None:
        init = default
    if isinstance(init, str):
        if init == "lecun":
            return 1.0 / fan_in
        if init == "he":
            return 2.0 / fan_in
        if init == "residual":
            return residual_rule(depth, kernel, channels)
        raise SettingsError(f"init must be a number or one of {', '.join(INIT_RULES)}, not {init!r}")
    value = float(init)
    if not math.isfinite(value) or value < 0:
        raise SettingsError(f"init variance must be a finite number >= 0, not {value}")
    return value


def scale_net_fan_in(level: int, in_channels: int, channels: int, kernel: int) -> int:
    """Fan-in 2 D^2 I of level ``level`` (1-based): I = in_channels for level 1, J after."""
    return 2 * kernel**2 * (in_channels if level == 1 else channels)


def scale_net_init_vars(
    init: str | float | None, depth: int, kernel: int, channels: int, in_channels: int = 3
) -> list[float]:
    """sigma_w^2 of levels 1..L (index i is level i + 1) for the scale-shared network."""
    fan_rest = scale_net_fan_in(2, in_channels, channels, kernel)
    var_rest = resolve_init_var(init, fan_rest, depth, kernel, channels)
    gain = var_rest * fan_rest
    fan_first = scale_net_fan_in(1, in_channels, channels, kernel)
    return [gain / fan_first] + [var_rest] * (depth - 1)


def residual_init_var(init: str | float | None, depth: int, kernel: int, channels: int) -> float:
    """sigma_w^2 of the residual stack; fan-in D^2 J (one branch); ``None`` is the ln2 rule."""
    return resolve_init_var(init, kernel**2 * channels, depth, kernel, channels, default="residual")
