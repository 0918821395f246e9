"""Lecture decks: the file is strict and names the bad field; readouts put measured beside predicted."""

from __future__ import annotations

import json

import pytest

from cnnviz.core.engine import run
from cnnviz.deck import READOUTS, Deck, Step, bundled_deck_path, caption_html, load_deck, readout, save_deck, step_index
from cnnviz.errors import SettingsError
from cnnviz.scene import Scene, SourceRef
from cnnviz.settings import Settings
from cnnviz.view_state import ViewState


def _deck_data(**step_changes):
    step = {
        "title": "He keeps the variance",
        "lines": ["one", "two"],
        "equation": "σ_w² = 2 / fan-in",
        "readout": "var_ratio",
        "scene": {"format": "cnnviz-scene", "schema": 2, "settings": {"depth": 4, "size": 64}},
    }
    step.update(step_changes)
    return {"format": "cnnviz-deck", "schema": 1, "title": "t", "steps": [step, step]}


def test_the_bundled_deck_tells_the_course_story_in_order():
    deck = load_deck(bundled_deck_path())
    assert 10 <= len(deck) <= 20
    modes = [s.scene.settings.mode for s in deck.steps]
    assert modes[0] == "cost" and modes[-1] == "init"  # Problem 1 first, Problem 5 last
    inits = [s.scene.settings.init for s in deck.steps if s.scene.settings.mode == "pyramid"]
    assert {"he", "lecun"} <= set(inits) and any(isinstance(v, float) and v > 1e3 for v in inits)
    assert {True, False} == {s.scene.settings.shared for s in deck.steps if s.readout == "equivariance"}
    assert any(s.scene.settings.activation == "tanh" for s in deck.steps if s.scene.settings.mode == "pyramid")
    assert {"residual", "lecun"} <= {s.scene.settings.residual_init for s in deck.steps if s.readout == "residual_var"}
    for s in deck.steps:
        assert s.title and 2 <= len(s.lines) <= 3 and s.equation and s.readout in READOUTS


def test_a_deck_round_trips_through_its_file(tmp_path):
    deck = Deck(
        title="mine",
        steps=(
            Step(Scene(Settings(depth=3), ViewState(mosaic=True)), "a", ("x", "y"), "E = mc^{2}", "top_var"),
            Step(Scene(Settings(mode="init"), source=SourceRef(name="cat.png", path="cat.png")), "b"),
        ),
    )
    path = save_deck(deck, tmp_path / "deck.json")
    again = load_deck(path)
    assert again == deck
    assert again.source_path(again.steps[1].scene.source) == tmp_path / "cat.png"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"titel": "x"}, "step 1: unknown field(s): titel"),
        ({"lines": "not a list"}, "step 1: lines"),
        ({"lines": ["a", 3]}, "step 1: line 2"),
        ({"readout": "magic"}, "step 1: readout must be one of"),
        ({"title": "x" * 500}, "step 1: title"),
        ({"scene": {"schema": 2, "settings": {"dept": 3}}}, "step 1 scene: unknown setting(s): dept"),
        ({"scene": {"schema": 2, "settings": {"depth": 30}}}, "step 1 scene: depth"),
        ({"scene": {"schema": 2, "settings": {}, "view": {"zoom": 9}}}, "step 1 scene: view zoom"),
    ],
)
def test_a_bad_deck_is_refused_with_the_field_named(tmp_path, change, named):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(_deck_data(**change)))
    with pytest.raises(SettingsError) as err:
        load_deck(path)
    assert str(err.value).startswith("bad.json: ")
    assert named in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("{", "not valid JSON"),
        ('{"format": "cnnviz-scene", "steps": []}', "format must be 'cnnviz-deck'"),
        ('{"format": "cnnviz-deck", "steps": []}', "steps must be a non-empty list"),
        ('{"format": "cnnviz-deck", "schema": 9, "steps": [{}]}', "schema 9"),
        ('{"format": "cnnviz-deck", "steps": [{"title": "x"}]}', "step 1: needs a 'scene'"),
        ('{"format": "cnnviz-deck", "extra": 1, "steps": [{}]}', "unknown deck field(s): extra"),
    ],
)
def test_a_broken_deck_file_is_one_line(tmp_path, text, named):
    path = tmp_path / "d.json"
    path.write_text(text)
    with pytest.raises(SettingsError, match=r"d\.json") as err:
        load_deck(path)
    assert named in str(err.value)


def test_a_missing_or_folder_deck_is_one_line(tmp_path):
    with pytest.raises(SettingsError, match="no such file"):
        load_deck(tmp_path / "nope.json")
    with pytest.raises(SettingsError, match="folder"):
        load_deck(tmp_path)


def test_step_numbers_are_one_based_and_checked():
    deck = Deck.from_dict(_deck_data())
    assert step_index(deck, 1) == 0 and step_index(deck, 2) == 1
    for bad in (0, 3):
        with pytest.raises(SettingsError, match=r"out of range: the deck has 2 steps \(1 to 2\)"):
            step_index(deck, bad)


def test_editing_returns_new_decks():
    a, b, c = (Step(title=t) for t in "abc")
    deck = Deck(steps=(a, b)).added(c)
    assert [s.title for s in deck.moved(2, 0).steps] == ["c", "a", "b"]
    assert [s.title for s in deck.removed(1).steps] == ["a", "c"]
    assert deck.with_step(0, c).steps[0] is c
    assert [s.title for s in deck.added(c, at=0).steps] == ["c", "a", "b", "c"]


def test_caption_markup_is_escaped_except_sub_and_superscripts():
    assert caption_html("L_{l,s} < 2^{k−l}") == "L<sub>l,s</sub> &lt; 2<sup>k−l</sup>"
    assert caption_html("<b>x</b>") == "&lt;b&gt;x&lt;/b&gt;"


def test_readouts_measure_beside_predict():
    small = Settings(size=64, depth=4, channels=8)
    res = run(small.replace(mode="init", residual_depth=20, residual_init="residual"), None)
    r = readout("residual_var", res)
    assert r.label == "Var(L₂₀) / Var(L₀)" and "measured" in r.text and "predicted" in r.text
    assert r.measured == pytest.approx(2.0, rel=0.3) and r.agrees
    u = readout("unit_mean", res)
    assert u.measured == pytest.approx(0.5, abs=0.03) and u.agrees
    assert readout("top_var", res) is None  # no pyramid in the init lab's result
    import numpy as np

    frame = np.random.default_rng(0).random((64, 64, 3), dtype=np.float32)
    shared = run(small, frame)
    assert readout("equivariance", shared).agrees
    assert not readout("equivariance", run(small.replace(shared=False), frame)).measured < 1e-4
    assert readout("map_size", shared).agrees
    cost = readout("cost", run(small.replace(mode="cost"), frame))
    assert cost.agrees and cost.measured == run(small.replace(mode="cost"), frame).total_multiplies
    assert readout(None, shared) is None and readout("top_var", None) is None
