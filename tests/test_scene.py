"""The scene file format: versioned, migrating, refusing what it does not know by name."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnnviz.errors import SettingsError
from cnnviz.scene import SCHEMA, Scene, SourceRef, load_scene, pixel_hash, preset_files, save_scene
from cnnviz.settings import Settings
from cnnviz.view_state import ViewState


def test_a_scene_round_trips_settings_view_and_source(tmp_path):
    scene = Scene(
        settings=Settings(depth=5, init=0.01, video_window=16),
        view=ViewState(normalisation="global", selected=(2, 1), zoom=1.5),
        source=SourceRef(name="cat.png", path="/x/cat.png", pixels="sha256:ab", frame=None),
    )
    path = save_scene(scene, tmp_path / "s.json")
    assert load_scene(path) == scene
    data = json.loads(path.read_text())
    assert data["schema"] == SCHEMA and data["format"] == "cnnviz-scene"
    assert data["view"]["selected"] == [2, 1]


def test_schema_1_flat_settings_migrate():
    old = {"schema": 1, "mode": "pyramid", "depth": 8, "init": "lecun"}
    scene = Scene.from_dict(old)
    assert scene.settings == Settings(depth=8, init="lecun")
    assert scene.view == ViewState()
    assert Scene.from_dict({"depth": 3}).settings.depth == 3  # no schema at all is schema 1


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"schema": 2, "settings": {"depth": 3, "colour": 1}}, "colour"),
        ({"schema": 2, "settings": {}, "view": {"zoom": 99}}, "view zoom"),
        ({"schema": 2, "settings": {}, "view": {"sparkle": True}}, "sparkle"),
        ({"schema": 2, "settings": {}, "source": {"frame": -1}}, "source frame"),
        ({"schema": 2, "settings": {}, "extra": 1}, "extra"),
        ({"schema": 2, "settings": {"depth": 10**9}}, "depth"),
        ({"schema": 2, "settings": {"init": 10**400}}, "init"),
        ({"schema": 3, "settings": {}}, "schema 3"),
    ],
)
def test_unknown_or_invalid_fields_are_refused_by_name(data, named):
    with pytest.raises(SettingsError, match=named):
        Scene.from_dict(data)


@pytest.mark.parametrize(
    "text",
    ['{"schema": 2, "settings": {"seed": ' + "9" * 5000 + "}}", "[" * 100_000 + "]" * 100_000, "\x00\xff", "{"],
)
def test_hostile_text_is_one_settings_error(text):
    with pytest.raises(SettingsError):
        Scene.from_json(text)


def test_a_settings_file_that_is_not_a_regular_small_file_is_refused(tmp_path):
    with pytest.raises(SettingsError, match="is a folder"):
        load_scene(tmp_path)
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (2 << 20))
    with pytest.raises(SettingsError, match="larger than"):
        load_scene(big)


def test_every_bundled_preset_is_a_valid_scene():
    files = preset_files()
    assert len(files) >= 8
    for path in files:
        scene = load_scene(path)
        assert json.loads(path.read_text())["schema"] == SCHEMA, path.name
        assert isinstance(scene.settings, Settings)


def test_the_pixel_hash_tells_pictures_apart():
    a = np.zeros((8, 8, 3), np.float32)
    b = a.copy()
    b[0, 0, 0] = 1e-3
    assert pixel_hash(a) == pixel_hash(a.copy()) != pixel_hash(b)


def test_settings_load_reads_scene_files_and_old_settings_files(tmp_path):
    old = tmp_path / "old.json"
    old.write_text('{"schema": 1, "depth": 4}')
    assert Settings.load(old).depth == 4
    assert Settings.from_json(Settings(depth=2).to_json()).depth == 2
