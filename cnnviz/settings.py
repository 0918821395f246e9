"""The whole state a user can set, as one frozen dataclass, and every rule about it.

Presets, saved sessions, CLI flags and the window's controls all map onto :class:`Settings`;
``Settings -> core.engine.run -> Result`` is the one path every front end uses. A Settings is
validated when it is made, so an invalid one never reaches the engine.

The rules that tie settings together live here and nowhere else, testable without Qt:
depth follows the input size (:meth:`Settings.with_size`), which init field a mode's keys act on
and its fan-in and resolved variance (:meth:`Settings.init_var`), and the keyboard's steps
(:meth:`Settings.stepped`). Files hold a :class:`~cnnviz.scene.Scene`, whose ``settings``
sub-object is :meth:`Settings.to_dict`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .core.init import INIT_RULES as INIT_RULES  # re-exported: the rule names belong to Settings' vocabulary
from .core.init import resolve_init_var, scale_net_fan_in
from .errors import SettingsError
from .untrusted import brief, clip, is_huge

ACTIVATIONS = ("identity", "relu", "sigmoid", "tanh")
# Where a saturating activation's slope is small: tanh' = 1 - u^2 < 0.19 beyond |u| = 0.9,
# sigmoid' = u (1 - u) < 0.09 (a third of its peak) below 0.1 and above 0.9. Outputs outside
# (low, high) count as saturated (LayerStats.sat_frac).
SATURATION: dict[str, tuple[float, float]] = {"tanh": (-0.9, 0.9), "sigmoid": (0.1, 0.9)}
MODES = ("pyramid", "init", "cost", "video-net")
DEVICES = ("auto", "cpu", "cuda", "mps")
RESIDUAL_INPUTS = ("noise", "image")

SIZE_MIN, SIZE_MAX = 32, 2048
RESIDUAL_DEPTH_MAX = 100
CHANNELS_MAX = 256
KERNEL_MAX = 15
UNIT_DIM_MAX = 100_000
VIDEO_WINDOW_MAX = 256
VIDEO_KERNEL_T_MAX = 15
VIDEO_STRIDE_MAX = 4
INIT_FIELDS = ("init", "residual_init", "unit_init")
# What a step of the keyboard means for each field (see Settings.stepped).
QUARTER_DECADE = 10**0.25
SIZES = tuple(2**i for i in range(SIZE_MIN.bit_length() - 1, SIZE_MAX.bit_length()))
NOISE_SIZES = tuple(2**i for i in range(2, SIZE_MAX.bit_length()))


def is_power_of_two(n: int) -> bool:
    return n > 0 and (n & (n - 1)) == 0


def log2_size(size: int) -> int:
    """k such that size == 2**k."""
    return int(size).bit_length() - 1


def _check_init(name: str, value: str | float) -> str | float:
    if isinstance(value, str):
        if value in INIT_RULES:
            return value
        try:
            value = float(value)
        except ValueError:
            raise SettingsError(
                f"{name} must be a number or one of {', '.join(INIT_RULES)}, not {brief(value)}"
            ) from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SettingsError(f"{name} must be a number or a rule name, not {brief(value)}")
    if is_huge(value):
        raise SettingsError(f"{name} is too large for a weight variance ({brief(value)})")
    try:
        value = float(value)
    except OverflowError:
        raise SettingsError(f"{name} is too large for a weight variance (at most about 1e308)") from None
    if not math.isfinite(value) or value < 0:
        raise SettingsError(f"{name} must be a finite number >= 0 (a weight variance), not {value}")
    return value


@dataclass(frozen=True)
class Settings:
    """Everything that decides a :class:`~cnnviz.core.result.Result`.

    The pyramid network (Problem 3) uses ``size``, ``depth``, ``channels``, ``kernel``,
    ``activation``, ``init``, ``shared`` and ``seed``. The initialisation lab uses the
    residual stack (Problem 5: ``residual_*``, with ``channels`` and ``kernel``) and the
    single unit (Problem 4: ``unit_*``). ``init`` values are a weight variance sigma_w^2 or a
    rule name (``lecun`` 1/fan_in, ``he`` 2/fan_in, ``residual`` ln2/(L D^2 J)); a rule is
    re-evaluated whenever L, J or D change, a number stays as it is.
    """

    mode: str = "pyramid"
    size: int = 256
    depth: int = 6
    channels: int = 16
    kernel: int = 3
    activation: str = "relu"
    init: str | float = "he"
    shared: bool = True
    seed: int = 0
    device: str = "auto"
    # Problem 5: the residual stack of the initialisation lab (and `cnnviz stats --residual`).
    residual: bool = False
    residual_depth: int = 6
    residual_activation: str = "identity"
    residual_init: str | float = "residual"
    residual_input: str = "noise"
    noise_size: int = 64
    # Problem 4: one unit u = f(sum_i W[i] x[i]).
    unit_dim: int = 100
    unit_activation: str = "sigmoid"
    unit_init: str | float = "lecun"
    # Problem 2: the video network (`cnnviz stats VIDEO --video-net`, the window's video mode).
    video_stride: int = 2
    video_kernel_t: int = 3
    video_window: int = 8

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            name = f.name.replace("_", " ")
            if f.type in ("int",) and (isinstance(value, bool) or not isinstance(value, int)):
                raise SettingsError(f"{name} must be a whole number, not {brief(value)}")
            if f.type in ("int",) and is_huge(value):
                raise SettingsError(f"{name} is far out of range: {brief(value)}")
            if f.type == "bool" and not isinstance(value, bool):
                raise SettingsError(f"{name} must be true or false, not {brief(value)}")
        self._choice("mode", MODES)
        self._choice("activation", ACTIVATIONS)
        self._choice("residual_activation", ACTIVATIONS)
        self._choice("unit_activation", ACTIVATIONS)
        self._choice("device", DEVICES)
        self._choice("residual_input", RESIDUAL_INPUTS)
        if not (is_power_of_two(self.size) and SIZE_MIN <= self.size <= SIZE_MAX):
            raise SettingsError(f"size must be a power of two from {SIZE_MIN} to {SIZE_MAX}, not {self.size}")
        k = log2_size(self.size)
        if not 1 <= self.depth <= k:
            raise SettingsError(f"depth must be from 1 to log2(size) = {k} for size {self.size}, not {self.depth}")
        if not 1 <= self.channels <= CHANNELS_MAX:
            raise SettingsError(f"channels must be from 1 to {CHANNELS_MAX}, not {self.channels}")
        if not (self.kernel % 2 == 1 and 1 <= self.kernel <= KERNEL_MAX):
            raise SettingsError(f"kernel must be odd, from 1 to {KERNEL_MAX} (filters are centred), not {self.kernel}")
        if not 1 <= self.residual_depth <= RESIDUAL_DEPTH_MAX:
            raise SettingsError(f"residual depth must be from 1 to {RESIDUAL_DEPTH_MAX}, not {self.residual_depth}")
        if not (is_power_of_two(self.noise_size) and 4 <= self.noise_size <= SIZE_MAX):
            raise SettingsError(f"noise size must be a power of two from 4 to {SIZE_MAX}, not {self.noise_size}")
        if not 1 <= self.unit_dim <= UNIT_DIM_MAX:
            raise SettingsError(f"unit dimension d must be from 1 to {UNIT_DIM_MAX}, not {self.unit_dim}")
        if not 1 <= self.video_stride <= VIDEO_STRIDE_MAX:
            raise SettingsError(f"video stride must be from 1 to {VIDEO_STRIDE_MAX}, not {self.video_stride}")
        if not (self.video_kernel_t % 2 == 1 and 1 <= self.video_kernel_t <= VIDEO_KERNEL_T_MAX):
            raise SettingsError(
                f"video temporal kernel must be odd, from 1 to {VIDEO_KERNEL_T_MAX}, not {self.video_kernel_t}"
            )
        if not 1 <= self.video_window <= VIDEO_WINDOW_MAX:
            raise SettingsError(f"video window must be from 1 to {VIDEO_WINDOW_MAX} frames, not {self.video_window}")
        if not 0 <= self.seed < 2**63:
            raise SettingsError(f"seed must be a whole number >= 0, not {self.seed}")
        for name in ("init", "residual_init", "unit_init"):
            object.__setattr__(self, name, _check_init(name.replace("_", " "), getattr(self, name)))

    def _choice(self, name: str, allowed: tuple[str, ...]) -> None:
        value = getattr(self, name)
        if value not in allowed:
            raise SettingsError(f"{name.replace('_', ' ')} must be one of {', '.join(allowed)}, not {brief(value)}")

    @property
    def k(self) -> int:
        """log2 of the input size: the pyramid has scales 0..k."""
        return log2_size(self.size)

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied and validated (raises SettingsError)."""
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise SettingsError(f"unknown setting(s): {clip(', '.join(sorted(map(str, unknown))))}")
        return dataclasses.replace(self, **changes)

    # -- rules --------------------------------------------------------------------------
    def with_size(self, size: int) -> Settings:
        """Input size ``size``; depth follows (a smaller image has fewer levels, at most log2 size)."""
        if not (is_power_of_two(size) and SIZE_MIN <= size <= SIZE_MAX):
            raise SettingsError(f"size must be a power of two from {SIZE_MIN} to {SIZE_MAX}, not {size}")
        return self.replace(size=size, depth=min(self.depth, log2_size(size)))

    @property
    def init_field(self) -> str:
        """The init field the current mode shows and the V keys change: the residual stack's in the
        init lab, the pyramid network's elsewhere."""
        return "residual_init" if self.mode == "init" else "init"

    @property
    def depth_field(self) -> str:
        """The depth the current mode shows: the residual stack's in the init lab."""
        return "residual_depth" if self.mode == "init" else "depth"

    @property
    def activation_field(self) -> str:
        return "residual_activation" if self.mode == "init" else "activation"

    @property
    def size_field(self) -> str:
        """The input size the current mode uses: the noise size when the residual stack runs on noise."""
        return "noise_size" if self.mode == "init" and self.residual_input == "noise" else "size"

    def fan_in(self, field: str = "init") -> int:
        """Fan-in of a unit under the init ``field``: 2 D^2 J for the scale-shared network's levels
        after the first (both branches), J D^2 D_t for the video network's (mode video-net),
        D^2 J for the residual stack, d for the single unit."""
        if field == "init" and self.mode == "video-net":
            return self.channels * self.kernel**2 * self.video_kernel_t  # J D^2 D_t (Problem 2)
        if field == "init":
            return scale_net_fan_in(2, 3, self.channels, self.kernel)
        if field == "residual_init":
            return self.kernel**2 * self.channels
        if field == "unit_init":
            return self.unit_dim
        raise SettingsError(f"{field} is not an init field (one of {', '.join(INIT_FIELDS)})")

    def default_rule(self, field: str = "init") -> str:
        """The rule a field falls back to: He for the network, ln 2 for the stack, LeCun for the unit."""
        return {"init": "he", "residual_init": "residual", "unit_init": "lecun"}[field]

    def init_var(self, field: str = "init") -> float:
        """sigma_w^2 that the init ``field`` gives now (a rule is evaluated for the current L, D, J)."""
        fan_in = self.fan_in(field)
        if field == "unit_init":
            return resolve_init_var(self.unit_init, fan_in, 1, 1, fan_in, default="lecun")
        depth = self.residual_depth if field == "residual_init" else self.depth
        return resolve_init_var(
            getattr(self, field), fan_in, depth, self.kernel, self.channels, default=self.default_rule(field)
        )

    def init_gain(self, field: str = "init") -> float:
        """sigma_w^2 times the fan-in: 1 keeps the variance of a linear layer, 2 of a ReLU layer."""
        return self.init_var(field) * self.fan_in(field)

    def scaled_init(self, factor: float, field: str | None = None) -> Settings:
        """The init variance of ``field`` (default: the mode's) times ``factor``, rounded to 3 digits."""
        field = field or self.init_field
        value = self.init_var(field)
        value = value * factor if value > 0 else 1e-6
        if not math.isfinite(value) or value > 1e300:
            raise SettingsError(f"{field.replace('_', ' ')} cannot grow further ({value:.3g})")
        return self.replace(**{field: float(f"{value:.3g}")})

    def stepped(self, field: str, step: int) -> Settings:
        """One keyboard step of ``field`` (+1 up, -1 down); SettingsError says why at a limit.

        depth and residual_depth move by 1, kernel and video_kernel_t by 2 (odd sizes), channels
        double or halve, size and noise_size double or halve (depth follows size), unit_dim moves
        by a factor 10, the init fields by a quarter decade, choices cycle, booleans toggle.
        """
        up = step > 0
        value: Any = getattr(self, field, None)
        if field not in {f.name for f in fields(self)}:
            raise SettingsError(f"unknown setting: {clip(str(field))}")
        if field in INIT_FIELDS:
            return self.scaled_init(QUARTER_DECADE ** (1 if up else -1), field)
        if field in ("activation", "residual_activation", "unit_activation"):
            return self.replace(**{field: _cycle(ACTIVATIONS, value, step)})
        if field == "mode":
            return self.replace(mode=_cycle(MODES, value, step))
        if field == "residual_input":
            return self.replace(residual_input=_cycle(RESIDUAL_INPUTS, value, step))
        if field == "device":
            return self.replace(device=_cycle(DEVICES, value, step))
        if isinstance(value, bool):
            return self.replace(**{field: not value})
        limits: dict[str, tuple[int, int, str]] = {
            "depth": (1, self.k, f"log2 of the input size {self.size}"),
            "residual_depth": (1, RESIDUAL_DEPTH_MAX, "the residual stack's limit"),
            "channels": (1, CHANNELS_MAX, "the limit"),
            "kernel": (1, KERNEL_MAX, "the limit"),
            "size": (SIZE_MIN, SIZE_MAX, "the limit"),
            "noise_size": (NOISE_SIZES[0], SIZE_MAX, "the limit"),
            "unit_dim": (1, UNIT_DIM_MAX, "the limit"),
            "video_stride": (1, VIDEO_STRIDE_MAX, "the limit"),
            "video_kernel_t": (1, VIDEO_KERNEL_T_MAX, "the limit"),
            "video_window": (1, VIDEO_WINDOW_MAX, "the limit"),
            "seed": (0, 2**63 - 1, "the limit"),
        }
        if field not in limits:
            raise SettingsError(f"{field} has no keyboard step")
        lo, hi, why = limits[field]
        if field in ("channels", "size", "noise_size"):
            new = value * 2 if up else value // 2
        elif field == "unit_dim":
            new = value * 10 if up else max(1, value // 10)
        elif field in ("kernel", "video_kernel_t"):
            new = value + (2 if up else -2)
        else:
            new = value + (1 if up else -1)
        name = field.replace("_", " ")
        if new > hi or (up and value >= hi):
            raise SettingsError(f"{name} is already at its largest, {hi} ({why})")
        if new < lo or (not up and value <= lo):
            raise SettingsError(f"{name} is already at its smallest, {lo}")
        if field == "size":
            return self.with_size(new)
        return self.replace(**{field: new})

    # -- the ``settings`` sub-object of a scene -----------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        """A Settings from its dict; unknown or invalid fields are refused by name (SettingsError)."""
        if not isinstance(data, dict):
            raise SettingsError("settings must be a JSON object")
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise SettingsError(f"unknown setting(s): {clip(', '.join(sorted(map(str, unknown))))}")
        try:
            return cls(**data)
        except (TypeError, OverflowError) as err:
            raise SettingsError(f"settings: {err}") from None

    @classmethod
    def lenient(cls, data: Any) -> tuple[Settings, list[str]]:
        """Each valid field of ``data`` kept, each invalid one at its default; and why each was dropped.

        For the saved state, which must never stop the app: fields are applied in declaration
        order (size before depth), so a depth is checked against the size kept before it.
        """
        if not isinstance(data, dict):
            return cls(), ([] if data is None else ["settings: not an object"])
        state, dropped = cls(), []
        for f in fields(cls):
            if f.name in data:
                try:
                    state = state.replace(**{f.name: data[f.name]})
                except (SettingsError, TypeError, ValueError, OverflowError) as err:
                    dropped.append(str(err) if isinstance(err, SettingsError) else f"{f.name}: {brief(data[f.name])}")
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            dropped.append(f"unknown setting(s): {clip(', '.join(sorted(map(str, unknown))))}")
        return state, dropped

    def to_json(self) -> str:
        """The whole scene file with these settings and the default view (see cnnviz.scene)."""
        from .scene import Scene

        return Scene(settings=self).to_json()

    @classmethod
    def from_json(cls, text: str) -> Settings:
        """Settings from the text of a scene file (any schema; older ones migrate)."""
        from .scene import Scene

        return Scene.from_json(text).settings

    @classmethod
    def load(cls, path: str | Path) -> Settings:
        """Settings from a scene file on disk (see :func:`cnnviz.scene.load_scene`)."""
        from .scene import load_scene

        return load_scene(path).settings


def _cycle(options: tuple[str, ...], current: str, step: int) -> str:
    i = options.index(current) if current in options else 0
    return options[(i + step) % len(options)]
