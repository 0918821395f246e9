"""The controls' input-size combo: picking a smaller size takes the depth down with it."""

from __future__ import annotations

import pytest

from cnnviz.gui.controls import ControlsPanel
from cnnviz.settings import Settings
from cnnviz.view_state import ViewState


@pytest.fixture
def panel(qtbot):
    def make(settings: Settings) -> tuple[ControlsPanel, list[Settings], list[str]]:
        p = ControlsPanel(settings)
        qtbot.addWidget(p)
        requested: list[Settings] = []
        errors: list[str] = []
        p.settings_requested.connect(requested.append)
        p.error.connect(errors.append)
        return p, requested, errors

    return make


def _pick(combo, value) -> None:
    index = combo.findData(value)
    assert index >= 0, f"{value} is not offered"
    combo.setCurrentIndex(index)


@pytest.mark.parametrize(("depth", "size", "want"), [(8, 64, 6), (8, 32, 5), (4, 64, 4)])
def test_a_smaller_size_clamps_the_depth(panel, depth, size, want):
    p, requested, errors = panel(Settings(size=256, depth=depth))
    _pick(p.size_box, size)
    assert errors == []
    assert requested and (requested[-1].size, requested[-1].depth) == (size, want)
    assert requested[-1] == Settings(size=256, depth=depth).with_size(size)


def test_a_larger_size_keeps_the_depth(panel):
    p, requested, errors = panel(Settings(size=64, depth=6))
    _pick(p.size_box, 1024)
    assert errors == [] and (requested[-1].size, requested[-1].depth) == (1024, 6)


def test_the_store_falls_back_on_a_damaged_saved_view():
    from cnnviz.gui.store import StateStore

    store = StateStore()
    for text in ("{", '{"zoom": "huge", "channel": 2}', "[1]"):
        store._q.setValue("view", text)
        got = store.view_state()
        assert got == (ViewState(channel=2) if "channel" in text else ViewState())
