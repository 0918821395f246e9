"""Settings: validated on construction, JSON round trip for presets and shared sessions."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from cnnviz.errors import SettingsError
from cnnviz.settings import Settings


def test_json_round_trip_keeps_every_field():
    s = Settings(
        size=512,
        depth=8,
        channels=32,
        kernel=5,
        activation="tanh",
        init=0.02,
        shared=False,
        seed=9,
        residual_depth=40,
        residual_init="he",
        unit_dim=30,
    )
    assert Settings.from_json(s.to_json()) == s
    assert json.loads(s.to_json())["settings"]["init"] == 0.02


def test_rule_names_and_numbers_are_both_accepted_as_init():
    assert Settings(init="lecun").init == "lecun"
    assert Settings(init="0.5").init == 0.5
    assert Settings(init=0).init == 0.0  # every weight zero: allowed, and a lesson of its own


@pytest.mark.parametrize(
    "change",
    [
        {"size": 100},
        {"size": 16},
        {"size": 4096},
        {"depth": 0},
        {"depth": 9},
        {"kernel": 2},
        {"channels": 0},
        {"activation": "gelu"},
        {"init": -1.0},
        {"init": float("inf")},
        {"init": "xavier"},
        {"mode": "movie"},
        {"device": "tpu"},
        {"residual_depth": 101},
        {"seed": -1},
        {"shared": "yes"},
        {"depth": 2.5},
    ],
)
def test_invalid_values_are_refused_with_a_settings_error(change):
    with pytest.raises(SettingsError):
        Settings().replace(**change)


def test_unknown_keys_and_bad_json_are_one_clear_error(tmp_path):
    with pytest.raises(SettingsError, match="unknown setting"):
        Settings.from_dict({"size": 256, "colour": "red"})
    with pytest.raises(SettingsError, match="not valid JSON"):
        Settings.from_json("{size: 256")
    with pytest.raises(SettingsError, match="no such file"):
        Settings.load(tmp_path / "missing.json")


@given(
    st.dictionaries(
        st.sampled_from(["size", "depth", "channels", "kernel", "init", "seed", "mode"]),
        st.one_of(st.integers(-5, 5000), st.floats(allow_nan=True), st.text(max_size=6), st.none(), st.booleans()),
    )
)
@hsettings(max_examples=200, deadline=None)
def test_any_json_object_gives_settings_or_a_settings_error(data):
    try:
        s = Settings.from_dict(data)
    except SettingsError:
        return
    assert Settings.from_json(s.to_json()) == s


def test_core_and_stats_cli_never_import_qt():
    code = (
        "import sys, cnnviz.core.engine, cnnviz.cli, cnnviz.report, cnnviz.io.images;"
        "from cnnviz.cli import main; import io;"
        "main(['stats', '--size', '32', '--depth', '2', '--json'], out=io.StringIO());"
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'shiboken'))];"
        "sys.exit(f'Qt imported: {bad}' if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr + proc.stdout
