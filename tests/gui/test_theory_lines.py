"""The curves show the per-position theory beside the per-map one; the equivariance pass runs
only while its panel is on screen."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from cnnviz.gui import theme
from cnnviz.gui.plots import positive

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def test_the_curves_draw_the_per_position_theory_dotted_beside_the_per_map_one(qtbot, settle, main_window):
    w = main_window
    pyr = w.result.pyramid
    assert pyr.theory_var_local is not None and pyr.theory_grad_rms_local is not None
    for name, grid, first in (("var", pyr.theory_var_local, 0), ("grad", pyr.theory_grad_rms_local, 1)):
        for s in range(pyr.k + 1):
            levels, values = w.curves.local_theory(name, s)
            want = np.arange(first, min(pyr.depth, pyr.k - s) + 1)
            if not np.isfinite(grid[want, s]).any():  # level 0 has no theory: the input is measured
                assert levels.size == 0
                continue
            np.testing.assert_array_equal(levels, want)
            np.testing.assert_allclose(values, positive(grid[want, s]))
    # at the borders of the coarse maps the two theories differ: two lines, not one drawn twice
    with np.errstate(invalid="ignore"):
        differ = np.abs(pyr.theory_grad_rms_local / pyr.grid("theory_grad_rms") - 1)
    assert np.nanmax(differ) > 0.01
    _, _, dotted = w.curves._family_pens("var", pyr.k + 1)
    assert all(p.style() == theme.LOCAL_STYLE == Qt.PenStyle.DotLine for p in dotted)
    assert "per position" in w.curves.legend.text().replace("&nbsp;", " ")  # a key never wraps apart


def test_the_equivariance_pass_runs_while_its_panel_is_shown(qtbot, settle, main_window):
    w = main_window
    assert w.result.profile.equivariance and np.isfinite(w.result.pyramid.equivariance[1])
    w.mode_actions["cost"].trigger()  # the curves and their equivariance panel leave the screen
    settle(w)
    assert not w.result.profile.equivariance and np.isnan(w.result.pyramid.equivariance).all()
    w.mode_actions["pyramid"].trigger()
    w.change(lambda s: s.replace(seed=s.seed + 1))
    settle(w)
    assert w.result.profile.equivariance and np.isfinite(w.result.pyramid.equivariance[1])
