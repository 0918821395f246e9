"""A lecture deck: an ordered list of steps, each a scene plus a caption, and what each step measures.

A step is a :class:`~cnnviz.scene.Scene` (settings, view, source) with a caption a hall can read:
a title, two or three lines and an equation, and the name of a *readout*, the one quantity the step
is about, shown measured on the current Result beside its predicted value ("Var(L₆) measured
1.93, predicted 2"). No Qt here: the window, ``--screenshot --lecture-step`` and the tests share it.

The file (``format: cnnviz-deck``, schema 1)::

    {"format": "cnnviz-deck", "schema": 1, "cnnviz": "0.2.0", "title": "Initialisation",
     "steps": [{"title": "...", "lines": ["...", "..."], "equation": "...", "readout": "top_var",
                "scene": {...a scene, see cnnviz.scene; settings may list only what differs...}}]}

Reading is strict: an unknown or invalid field is refused with its place named
("step 3 scene: unknown setting(s): dept"), as one :class:`~cnnviz.errors.SettingsError` line.
Caption text is plain; ``_{...}`` and ``^{...}`` mark a subscript and a superscript.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .core.result import Result
from .errors import CnnvizError, SettingsError
from .numtext import human
from .scene import Scene, SourceRef, parse_json

FORMAT = "cnnviz-deck"
SCHEMA = 1
DECK_FILE_LIMIT = 1 << 20
MAX_STEPS = 200
MAX_LINES = 4
TITLE_MAX, LINE_MAX = 120, 240
_TOP_KEYS = {"format", "schema", "cnnviz", "title", "steps"}
_STEP_KEYS = {"title", "lines", "equation", "readout", "scene"}


# == readouts: one measured quantity of a Result beside its prediction ===========================
@dataclass(frozen=True)
class Readout:
    """``label`` measured ``measured``, predicted ``predicted`` (text, since some predictions are
    '0 up to rounding' or 'not equal'); ``agrees`` is None where there is nothing to compare."""

    label: str
    measured: float
    predicted: str
    agrees: bool | None = None
    note: str = ""
    measured_text: str = ""  # how to write ``measured`` when num() would round it (a count)

    @property
    def measured_str(self) -> str:
        return self.measured_text or num(self.measured)

    @property
    def text(self) -> str:
        """One plain line: 'Var(L₃₀) / Var(L₀) measured 1.93, predicted (1 + D²Jσ_w²)^L = 1.98'."""
        line = f"{self.label} measured {self.measured_str}, predicted {plain(self.predicted)}"
        return f"{line} ({self.note})" if self.note else line


_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def sub(n: int | str) -> str:
    """Subscript digits: ``sub(6)`` -> ``₆``."""
    return str(n).translate(_SUB)


def num(x: float, digits: int = 3) -> str:
    """A number for a person: 1.93, 2.1e-05, 12345, ∞, NaN."""
    return human(x, digits, plain_below=1e5)


def _close(measured: float, predicted: float, rel: float) -> bool | None:
    if not (math.isfinite(measured) and math.isfinite(predicted)):
        return None
    return abs(measured - predicted) <= rel * max(abs(predicted), 1e-300)


def _cost(r: Result) -> Readout | None:
    if not r.costs:
        return None
    measured = all(row.torch_flops >= 0 for row in r.costs)
    flops = sum(row.torch_flops for row in r.costs) / 2 if measured else math.nan
    total = r.total_multiplies
    return Readout(
        "multiplies, torch FLOPs ÷ 2",
        flops,
        f"{total:,}",
        _close(flops, total, 0.0) if measured else None,
        "" if measured else "torch's count is measured in the cost mode",
        f"{int(flops):,}" if measured else "",
    )


def _map_size(r: Result) -> Readout | None:
    p = r.pyramid
    if p is None:
        return None
    level = p.depth
    scale = max(0, p.k - level) // 2
    st = p.layer(level, scale)
    predicted = 2 ** (p.k - level - scale)
    return Readout(
        f"side of L{sub(level)},{sub(scale)}",
        st.size,
        f"2^{{k−l−s}} = 2^{{{p.k}−{level}−{scale}}} = {predicted}",
        st.size == predicted,
    )


def _top_var(r: Result) -> Readout | None:
    """Var(L_{l,0}) at the deepest level with a map of at least 16 x 16, or at the top level once
    anything overflowed (then the prediction says how far past float32 it went)."""
    p = r.pyramid
    if p is None:
        return None
    level = p.depth if p.nonfinite_layers else _fine_level(p.k, p.depth)
    st = p.layer(level, 0)
    note = f"{st.nonfinite:,} values overflowed: float32 ends at 3.4e38" if st.nonfinite else ""
    measured = st.var if not st.nonfinite else math.inf
    return Readout(
        f"Var(L{sub(level)},{sub(0)})",
        measured,
        f"{num(st.theory_var)} (mean field)",
        _close(measured, st.theory_var, 0.25),
        note,
    )


FINE_SIDE = 16  # maps this large are past the border effects of zero padding (MATH.md)


def _fine_level(k: int, depth: int) -> int:
    """The deepest level l <= depth whose scale-0 map (side 2^(k-l)) is at least FINE_SIDE."""
    return max(1, min(depth, k - FINE_SIDE.bit_length() + 1))


def _var_ratio(r: Result) -> Readout | None:
    """Var(L_{l,0}) / Var(L_{1,0}) at the deepest level l whose map is still at least 16 x 16, so
    the ratio shows what depth does to the signal rather than what zero padding does to tiny maps."""
    p = r.pyramid
    if p is None:
        return None
    level = _fine_level(p.k, p.depth)
    if level < 2:
        return None
    top, first = p.layer(level, 0), p.layer(1, 0)
    with np.errstate(all="ignore"):
        measured = top.var / first.var if first.var > 0 and not top.nonfinite else math.inf
        predicted = top.theory_var / first.theory_var if first.theory_var > 0 else math.nan
    return Readout(
        f"Var(L{sub(level)},{sub(0)}) / Var(L{sub(1)},{sub(0)})",
        measured,
        f"{num(predicted)} (mean field)",
        _close(measured, predicted, 0.25),
    )


def _equivariance(r: Result) -> Readout | None:
    p = r.pyramid
    if p is None:
        return None
    eq = np.asarray(p.equivariance, dtype=float)[1:]
    finite = eq[np.isfinite(eq)]
    err = float(finite.max()) if finite.size else math.nan
    label = "max|L′ₗ,ₛ − Lₗ,ₛ₊₁| / max|L|"
    if r.settings.shared:
        return Readout(label, err, "0 (up to float rounding, < 1e-4)", err < 1e-4 if math.isfinite(err) else None)
    return Readout(label, err, "no equality: one filter per scale", err > 1e-4 if math.isfinite(err) else None)


def _residual_var(r: Result) -> Readout | None:
    res = r.residual
    if res is None:
        return None
    top = res.layers[-1]
    ratio = top.var / res.layers[0].var if res.layers[0].var > 0 else math.nan
    predicted = float(res.theory_var[-1] / res.theory_var[0]) if res.theory_var[0] > 0 else math.nan
    return Readout(
        f"Var(L{sub(res.depth)}) / Var(L{sub(0)})",
        ratio if not top.nonfinite else math.inf,
        f"(1 + D²Jσ_{{w}}²)^{{L}} = {num(predicted)}",
        _close(ratio, predicted, 0.25),
    )


def _residual_grad(r: Result) -> Readout | None:
    res = r.residual
    if res is None:
        return None
    g0 = res.layers[0].grad_var
    return Readout(
        f"Var(∂/∂L{sub(0)}) with Var(∂/∂L{sub(res.depth)}) = 1",
        g0,
        f"(1 + D²Jσ_{{w}}²)^{{L}} = {num(float(res.theory_grad_var[0]))}",
        _close(g0, float(res.theory_grad_var[0]), 0.25),
    )


def _unit_var_y(r: Result) -> Readout | None:
    u = r.unit
    if u is None:
        return None
    v = float(np.var(u.y))
    return Readout("Var(y)", v, f"d·σ_{{w}}² = {num(u.var_y_theory)}", _close(v, u.var_y_theory, 0.1))


def _unit_mean(r: Result) -> Readout | None:
    u = r.unit
    if u is None:
        return None
    m = float(np.mean(u.u))
    var_u = float(np.var(u.u))
    predicted = num(u.mean_u_theory) if math.isfinite(u.mean_u_theory) else "no closed form"
    note = f"Var(u) {num(var_u)}"
    if math.isfinite(u.var_u_bound):
        note += f" ≤ {num(u.var_u_bound)}"
    return Readout("E[u]", m, predicted, _close(m, u.mean_u_theory, 0.05), note)


READOUTS: dict[str, tuple[str, Callable[[Result], Readout | None]]] = {
    "cost": ("Problem 1: total multiplies, torch's count against the formula", _cost),
    "map_size": ("Problem 3: side of a map, 2^(k−l−s)", _map_size),
    "top_var": ("variance of the top level, measured and mean field", _top_var),
    "var_ratio": ("top level's variance over level 1's, measured and mean field", _var_ratio),
    "equivariance": ("Problem 3: L′ on the image shrunk 2× against L one scale over", _equivariance),
    "residual_var": ("Problem 5(a): Var(L_L)/Var(L_0) against (1 + D²Jσ_w²)^L", _residual_var),
    "residual_grad": ("Problem 5(c): gradient variance at L_0 against (1 + D²Jσ_w²)^L", _residual_grad),
    "unit_var_y": ("Problem 4(a): Var(y) against d·σ_w²", _unit_var_y),
    "unit_mean": ("Problem 4(b-d): E[u] against 1/2, Var(u) against 1/4", _unit_mean),
}


def readout(name: str | None, result: Result | None) -> Readout | None:
    """The step's quantity measured on ``result``, or None when the result does not hold it."""
    if not name or result is None or name not in READOUTS:
        return None
    try:
        return READOUTS[name][1](result)
    except (KeyError, IndexError, ValueError, ZeroDivisionError):
        return None


# == caption markup ===============================================================================
_MARK = re.compile(r"([_^])\{([^{}]*)\}")


def caption_html(text: str) -> str:
    """Plain caption text as HTML: everything escaped, ``_{..}``/``^{..}`` as sub- and superscripts."""
    out, last = [], 0
    for m in _MARK.finditer(text):
        out.append(html.escape(text[last : m.start()]))
        tag = "sub" if m.group(1) == "_" else "sup"
        out.append(f"<{tag}>{html.escape(m.group(2))}</{tag}>")
        last = m.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def plain(text: str) -> str:
    """Caption markup as plain text: ``σ_{w}²`` -> ``σ_w²``, ``2^{k−l}`` -> ``2^(k−l)``."""
    return _MARK.sub(lambda m: f"_{m.group(2)}" if m.group(1) == "_" else f"^({m.group(2)})", text)


# == the deck =====================================================================================
@dataclass(frozen=True)
class Step:
    scene: Scene = field(default_factory=Scene)
    title: str = ""
    lines: tuple[str, ...] = ()
    equation: str = ""
    readout: str | None = None

    def __post_init__(self) -> None:
        _text("title", self.title, TITLE_MAX)
        if not isinstance(self.lines, (list, tuple)):
            raise SettingsError("lines must be a list of text lines")
        if len(self.lines) > MAX_LINES:
            raise SettingsError(f"lines: at most {MAX_LINES} lines fit on a slide, not {len(self.lines)}")
        for i, line in enumerate(self.lines, start=1):
            _text(f"line {i}", line, LINE_MAX)
        object.__setattr__(self, "lines", tuple(self.lines))
        _text("equation", self.equation, LINE_MAX)
        if self.readout is not None and self.readout not in READOUTS:
            raise SettingsError(f"readout must be one of {', '.join(READOUTS)} or null, not {self.readout!r:.60}")
        if not isinstance(self.scene, Scene):
            raise SettingsError("scene must be a scene")

    def replace(self, **changes: Any) -> Step:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "lines": list(self.lines),
            "equation": self.equation,
            "readout": self.readout,
            "scene": self.scene.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Any) -> Step:
        if not isinstance(data, dict):
            raise SettingsError("must be a JSON object")
        unknown = set(data) - _STEP_KEYS
        if unknown:
            raise SettingsError(f"unknown field(s): {', '.join(sorted(map(str, unknown)))}")
        if "scene" not in data:
            raise SettingsError("needs a 'scene' object")
        try:
            scene = Scene.from_dict(data["scene"])
        except SettingsError as err:
            raise SettingsError(f"scene: {err}") from None
        lines = data.get("lines", [])
        if not isinstance(lines, list):
            raise SettingsError("lines must be a list of text lines")
        return cls(
            scene=scene,
            title=data.get("title", ""),
            lines=tuple(lines),
            equation=data.get("equation", ""),
            readout=data.get("readout"),
        )


def _text(name: str, value: Any, limit: int) -> None:
    if not isinstance(value, str):
        raise SettingsError(f"{name} must be text, not {value!r:.60}")
    if len(value) > limit:
        raise SettingsError(f"{name} is {len(value)} characters; at most {limit} are legible")


@dataclass(frozen=True)
class Deck:
    steps: tuple[Step, ...] = ()
    title: str = ""
    path: Path | None = field(default=None, compare=False)  # where it was read from (relative sources)

    def __post_init__(self) -> None:
        _text("deck title", self.title, TITLE_MAX)
        object.__setattr__(self, "steps", tuple(self.steps))
        if len(self.steps) > MAX_STEPS:
            raise SettingsError(f"a deck holds at most {MAX_STEPS} steps, not {len(self.steps)}")

    def __len__(self) -> int:
        return len(self.steps)

    # -- editing: each returns a new deck ---------------------------------------------------
    def added(self, step: Step, at: int | None = None) -> Deck:
        steps = list(self.steps)
        steps.insert(len(steps) if at is None else at, step)
        return replace(self, steps=tuple(steps))

    def removed(self, index: int) -> Deck:
        return replace(self, steps=self.steps[:index] + self.steps[index + 1 :])

    def moved(self, index: int, to: int) -> Deck:
        steps = list(self.steps)
        to = max(0, min(len(steps) - 1, to))
        steps.insert(to, steps.pop(index))
        return replace(self, steps=tuple(steps))

    def with_step(self, index: int, step: Step) -> Deck:
        steps = list(self.steps)
        steps[index] = step
        return replace(self, steps=tuple(steps))

    def source_path(self, ref: SourceRef | None) -> Path | None:
        """The file a step's source names, relative paths taken from the deck's folder; None if none."""
        if ref is None or not ref.path:
            return None
        p = Path(ref.path).expanduser()
        if not p.is_absolute() and self.path is not None:
            p = self.path.parent / p
        return p

    # -- the file ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "schema": SCHEMA,
            "cnnviz": __version__,
            "title": self.title,
            "steps": [s.to_dict() for s in self.steps],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False)

    @classmethod
    def from_dict(cls, data: Any, path: Path | None = None) -> Deck:
        if not isinstance(data, dict):
            raise SettingsError("a deck file must hold a JSON object")
        unknown = set(data) - _TOP_KEYS
        if unknown:
            raise SettingsError(f"unknown deck field(s): {', '.join(sorted(map(str, unknown)))}")
        if data.get("format") != FORMAT:
            raise SettingsError(f"format must be {FORMAT!r}, not {data.get('format')!r:.60}")
        schema = data.get("schema", SCHEMA)
        if isinstance(schema, bool) or not isinstance(schema, int) or not 1 <= schema <= SCHEMA:
            raise SettingsError(f"schema {schema!r:.20} is not one this cnnviz ({__version__}) reads (1 to {SCHEMA})")
        steps = data.get("steps")
        if not isinstance(steps, list) or not steps:
            raise SettingsError("steps must be a non-empty list of steps")
        parsed = []
        for i, item in enumerate(steps, start=1):
            try:
                parsed.append(Step.from_dict(item))
            except SettingsError as err:
                raise SettingsError(f"step {i} {err}" if str(err).startswith("scene") else f"step {i}: {err}") from None
        return cls(steps=tuple(parsed), title=data.get("title", ""), path=path)

    @classmethod
    def from_json(cls, text: str, path: Path | None = None) -> Deck:
        return cls.from_dict(parse_json(text, "deck"), path)


def load_deck(path: str | Path) -> Deck:
    """A deck from a JSON file (bounded, regular files only); SettingsError naming the file and field."""
    from .io.files import read_text_file

    try:
        text = read_text_file(path, limit=DECK_FILE_LIMIT, what="deck")
    except CnnvizError as err:
        raise SettingsError(str(err)) from None
    try:
        return Deck.from_json(text, Path(path))
    except SettingsError as err:
        raise SettingsError(f"{Path(path).name}: {err}") from None


def save_deck(deck: Deck, path: str | Path, *, inputs: tuple[str | Path | None, ...] = ()) -> Path:
    """Write ``deck`` as JSON atomically (never over one of ``inputs``)."""
    from .io.files import atomic_write

    return atomic_write(path, deck.to_json() + "\n", inputs=inputs, what="deck")


def bundled_deck_path() -> Path:
    from .paths import DECKS

    return DECKS / "lecture.json"


def step_index(deck: Deck, number: int) -> int:
    """A 1-based step number (as shown on screen) -> index; SettingsError in one line if out of range."""
    if not 1 <= number <= len(deck):
        raise SettingsError(f"step {number} is out of range: the deck has {len(deck)} steps (1 to {len(deck)})")
    return number - 1
