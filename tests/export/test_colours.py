"""The exports colour feature maps exactly as the window does, without loading Qt."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from cnnviz import colours


def test_colour_modules_load_no_qt():
    code = "import sys, cnnviz.colours, cnnviz.maps, cnnviz.export; print('PySide6' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("name", ["viridis", "cividis", colours.DIVERGING_MAP])
def test_tables_equal_the_windows(name):
    pytest.importorskip("PySide6")
    from cnnviz.gui import theme

    expected = theme.colormap(name).getLookupTable(0.0, 1.0, 256, alpha=True)
    assert np.array_equal(colours.lut(name), expected)


def test_nonfinite_values_get_the_marked_colour():
    data = np.array([[0.0, np.nan], [np.inf, 1.0]], dtype=np.float32)
    rgba = colours.colorize(data, (0.0, 1.0), colours.lut("viridis"))
    assert tuple(rgba[0, 1]) == colours.NONFINITE_RGBA == tuple(rgba[1, 0])
    assert tuple(rgba[0, 0]) != colours.NONFINITE_RGBA
