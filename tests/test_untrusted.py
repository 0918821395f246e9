"""Settings files and saved state from anywhere: whatever the text or bytes, the readers give a
valid object or the project's own error in one line naming the field, never a traceback, never
unbounded memory, never a hang on a pipe or a device."""

from __future__ import annotations

import json
import os
import threading

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from cnnviz.errors import CnnvizError, SettingsError
from cnnviz.scene import Scene, load_scene
from cnnviz.settings import Settings
from cnnviz.view_state import ViewState

FIELDS = ["depth", "size", "seed", "channels", "init", "residual_depth", "video_window", "unit_dim"]


def scene_text(settings: dict, view: dict | None = None) -> str:
    return json.dumps({"format": "cnnviz-scene", "schema": 2, "settings": settings, "view": view, "source": None})


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("digits", [25, 400, 5000, 100_000])
def test_a_huge_integer_is_one_line_naming_the_field(field, digits):
    text = scene_text({}).replace('"settings": {}', f'"settings": {{"{field}": {"9" * digits}}}')
    with pytest.raises(SettingsError) as err:
        Scene.from_json(text)
    message = str(err.value)
    assert field.replace("_", " ") in message and "\n" not in message and len(message) < 200


def test_a_huge_view_zoom_or_channel_names_the_field():
    for name, value in (("zoom", "1" + "0" * 300), ("zoom", "1" + "0" * 400), ("channel", "7" * 5000)):
        text = scene_text({}, {}).replace('"view": {}', f'"view": {{"{name}": {value}}}')
        with pytest.raises(SettingsError, match=f"view {name}") as err:
            Scene.from_json(text)
        assert len(str(err.value)) < 200


@pytest.mark.parametrize("depth", [1000, 100_000])
@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_deep_nesting_is_one_line(depth, opener):
    with pytest.raises(SettingsError, match="nested too deeply"):
        Scene.from_json(opener * depth)


def test_settings_file_read_bounded_and_regular_files_only(tmp_path):
    for device in ("/dev/zero", "/dev/urandom", "/dev/null"):
        if os.path.exists(device):
            with pytest.raises(SettingsError, match="not a regular file"):
                load_scene(device)
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (2 << 20) + b"{}")
    with pytest.raises(SettingsError, match="larger than"):
        load_scene(big)
    binary = tmp_path / "binary.json"
    binary.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(SettingsError, match="UTF-8"):
        load_scene(binary)


def test_a_named_pipe_as_settings_file_is_one_line_not_a_hang(tmp_path):
    fifo = tmp_path / "settings.json"
    os.mkfifo(fifo)
    outcome: list[BaseException | None] = []

    def read() -> None:
        try:
            load_scene(fifo)
        except BaseException as err:  # handed to the test thread
            outcome.append(err)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(10)
    if reader.is_alive():  # unblock it before failing
        with open(fifo, "w"):
            pass
        pytest.fail("load_scene blocked on a named pipe")
    assert isinstance(outcome[0], SettingsError) and "not a regular file" in str(outcome[0])


# -- property tests: arbitrary text and bytes, not only parsed values -----------------------------

HUGE = st.integers(min_value=20, max_value=6000).map(lambda n: "9" * n)
NESTED = st.integers(min_value=1, max_value=10_000).map(lambda n: "[" * n + "]" * n)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from([*FIELDS, "view", "zoom"]), inner, max_size=4)
    ),
    max_leaves=12,
)


def _texts():
    """Arbitrary text, and text shaped like a scene with arbitrary fields, huge numbers, deep nesting."""
    field_value = st.one_of(HUGE, NESTED, st.text(max_size=30), JSONISH.map(lambda v: json.dumps(v, default=str)))
    shaped = st.builds(
        lambda field, value, where: (
            f'{{"schema": 2, "settings": {{"{field}": {value}}}}}'
            if where
            else f'{{"schema": 2, "settings": {{}}, "view": {{"{field}": {value}}}}}'
        ),
        st.sampled_from([*FIELDS, "zoom", "channel", "selected", "mosaic"]),
        field_value,
        st.booleans(),
    )
    return st.one_of(st.text(), shaped, JSONISH.map(lambda v: json.dumps(v, default=str)), NESTED, HUGE)


@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_texts())
def test_scene_from_json_gives_a_scene_or_one_settings_error(text):
    try:
        scene = Scene.from_json(text)
    except SettingsError as err:
        assert "\n" not in str(err) and len(str(err)) < 400
    else:
        assert isinstance(scene.settings, Settings) and isinstance(scene.view, ViewState)


@hsettings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(st.one_of(st.binary(max_size=2000), _texts().map(lambda t: t.encode("utf-8", "surrogatepass"))))
def test_load_scene_on_any_bytes_gives_a_scene_or_one_error(tmp_path, data):
    path = tmp_path / "any.json"
    path.write_bytes(data)
    try:
        scene = load_scene(path)
    except CnnvizError as err:
        assert "\n" not in str(err)
    else:
        assert isinstance(scene, Scene)


@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_texts(), st.binary(max_size=200), JSONISH))
def test_saved_state_readers_never_raise(value):
    from cnnviz.gui.store import read_settings, read_view

    settings, problems = read_settings(value)
    assert settings is None or isinstance(settings, Settings)
    assert all("\n" not in p for p in problems)
    view, problems = read_view(value)
    assert isinstance(view, ViewState) and all("\n" not in p for p in problems)
