"""A damaged saved view never stops the window: ViewState.from_json and lenient fall back."""

from __future__ import annotations

import json

import pytest

from cnnviz.errors import SettingsError
from cnnviz.view_state import ViewState

GOOD = ViewState(colormap="cividis", normalisation="global", mosaic=True, channel=3, zoom=1.5, selected=(2, 1))


def test_round_trip():
    assert ViewState.from_json(GOOD.to_json()) == GOOD


@pytest.mark.parametrize(
    "text",
    ["", "{", "not json", "null", "[1, 2]", '"view"', "42", "NaN", "[" * 100_000, '{"zoom": 1e999}'],
)
def test_garbage_text_gives_the_default_view(text):
    assert ViewState.from_json(text) == ViewState()


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("colormap", "jet"),
        ("colormap", 5),
        ("normalisation", None),
        ("mosaic", "yes"),
        ("channel", -1),
        ("channel", 1.5),
        ("channel", True),
        ("zoom", "big"),
        ("zoom", 100),
        ("zoom", float("nan")),
        ("selected", [1]),
        ("selected", [1, "a"]),
        ("selected", {"l": 1}),
        ("selected", 7),
    ],
)
def test_one_bad_field_falls_back_alone(field, bad):
    data = GOOD.to_dict() | {field: bad}
    text = json.dumps(data)
    got = ViewState.from_json(text)
    assert got == GOOD.replace(**{field: getattr(ViewState(), field)})
    state, dropped = ViewState.lenient(data)
    assert state == got and dropped == [f"view {field}"]
    with pytest.raises(SettingsError, match=field):  # the strict reader names it
        ViewState.from_dict(data)


def test_unknown_keys_are_ignored_when_lenient_and_refused_when_strict():
    data = GOOD.to_dict() | {"camera": "front"}
    assert ViewState.from_json(json.dumps(data)) == GOOD
    with pytest.raises(SettingsError, match="camera"):
        ViewState.from_dict(data)


def test_lenient_on_a_non_object():
    assert ViewState.lenient(None) == (ViewState(), [])
    assert ViewState.lenient([1, 2]) == (ViewState(), ["view: not an object"])
