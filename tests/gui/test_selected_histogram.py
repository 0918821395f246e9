"""The window asks the engine for the selected cell's histogram only, and for another on a click."""

from __future__ import annotations


def computed(result):
    return {(st.level, st.scale) for st in result.pyramid.layers if st.hist_counts.size}


def test_only_the_selected_cell_has_a_histogram_and_a_click_fetches_another(qtbot, settle, main_window):
    w = main_window
    w.change(lambda s: s.replace(seed=5))
    settle(w)
    assert computed(w.result) == {w.grid.selected}
    w.grid.cell_clicked.emit(1, 1)
    settle(w)
    assert w.grid.selected == (1, 1)
    assert (1, 1) in computed(w.result)
    assert w.curves._selected == (1, 1)
    assert w.scene().view.selected == (1, 1)  # exports and decks see the same cell


def test_saturation_of_tanh_comes_from_every_element_not_a_histogram(qtbot, settle, make_window, small):
    w = make_window(small.replace(activation="tanh", init=1.0))
    sat = w.result.pyramid.grid("sat_frac")
    assert ((sat[1:] >= 0) | (sat[1:] != sat[1:])).all()
    assert (sat[1:][sat[1:] == sat[1:]] > 0).any()  # a large init saturates tanh somewhere
    relu = make_window(small)
    assert (relu.result.pyramid.grid("sat_frac") != relu.result.pyramid.grid("sat_frac")).all()  # NaN for ReLU
