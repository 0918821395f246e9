"""The whole state a user can set, as one frozen dataclass.

Presets, saved sessions, CLI flags and the window's controls all map onto :class:`Settings`;
``Settings -> core.engine.run -> Result`` is the one path every front end uses. A Settings is
validated when it is made, so an invalid one never reaches the engine.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .errors import SettingsError

ACTIVATIONS = ("identity", "relu", "sigmoid", "tanh")
INIT_RULES = ("lecun", "he", "residual")
MODES = ("pyramid", "init", "cost")
DEVICES = ("auto", "cpu", "cuda", "mps")
RESIDUAL_INPUTS = ("noise", "image")

SIZE_MIN, SIZE_MAX = 32, 2048
RESIDUAL_DEPTH_MAX = 100
CHANNELS_MAX = 256
KERNEL_MAX = 15
SCHEMA = 1


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
            raise SettingsError(f"{name} must be a number or one of {', '.join(INIT_RULES)}, not {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SettingsError(f"{name} must be a number or a rule name, not {value!r}")
    value = float(value)
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

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type in ("int",) and (isinstance(value, bool) or not isinstance(value, int)):
                raise SettingsError(f"{f.name} must be a whole number, not {value!r}")
            if f.type == "bool" and not isinstance(value, bool):
                raise SettingsError(f"{f.name} must be true or false, not {value!r}")
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
        if not 1 <= self.unit_dim <= 100_000:
            raise SettingsError(f"unit dimension d must be from 1 to 100000, not {self.unit_dim}")
        if not 0 <= self.seed < 2**63:
            raise SettingsError(f"seed must be a whole number >= 0, not {self.seed}")
        for name in ("init", "residual_init", "unit_init"):
            object.__setattr__(self, name, _check_init(name.replace("_", " "), getattr(self, name)))

    def _choice(self, name: str, allowed: tuple[str, ...]) -> None:
        value = getattr(self, name)
        if value not in allowed:
            raise SettingsError(f"{name.replace('_', ' ')} must be one of {', '.join(allowed)}, not {value!r}")

    @property
    def k(self) -> int:
        """log2 of the input size: the pyramid has scales 0..k."""
        return log2_size(self.size)

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied and validated (raises SettingsError)."""
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise SettingsError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **changes)

    # -- JSON round trip: presets and saved sessions -------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, **dataclasses.asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        if not isinstance(data, dict):
            raise SettingsError("settings must be a JSON object")
        data = dict(data)
        schema = data.pop("schema", SCHEMA)
        if schema != SCHEMA:
            raise SettingsError(f"settings schema {schema!r} is not supported (expected {SCHEMA})")
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise SettingsError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        try:
            return cls(**data)
        except TypeError as err:  # pragma: no cover - defensive
            raise SettingsError(str(err)) from None

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_json(cls, text: str) -> Settings:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise SettingsError(f"settings are not valid JSON: {err.msg} (line {err.lineno})") from None
        return cls.from_dict(data)

    @classmethod
    def load(cls, path: str | Path) -> Settings:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise SettingsError(f"cannot read settings file {path}: {err}") from None
        return cls.from_json(text)
