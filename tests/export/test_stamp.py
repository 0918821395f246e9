"""A stamp read back gives the scene that made the file; anything else is one clear line."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from cnnviz.errors import SettingsError
from cnnviz.export import data, figures, scene_from_file, stem
from cnnviz.scene import Scene, load_scene
from cnnviz.settings import Settings


@pytest.fixture(scope="module")
def stamped(tmp_path_factory, results, scene):
    out = tmp_path_factory.mktemp("stamped")
    fig = figures.render(results["cost"], scene, "multiplies")
    png = figures.save_figure(fig, out / "fig.png", scene, scale=1)
    svg = figures.save_figure(fig, out / "fig.svg", scene)
    js = data.write_json(results["pyramid"], scene, out / "data.json")
    return png, svg, js


def test_png_svg_and_json_stamps_read_back_to_the_scene(stamped, scene):
    for path in stamped:
        assert scene_from_file(path) == scene
        assert load_scene(path) == scene  # what `--settings FILE` uses
        assert Settings.load(path) == scene.settings


def test_reading_a_png_stamp_never_decodes_its_pixels(stamped, scene, monkeypatch):
    def fail(*a, **k):
        raise AssertionError("pixels decoded")

    monkeypatch.setattr(Image.Image, "load", fail)
    monkeypatch.setattr("PIL.ImageFile.ImageFile.load", fail)
    assert scene_from_file(stamped[0]) == scene


def test_a_png_without_a_stamp_is_one_line(tmp_path):
    Image.new("RGB", (8, 8)).save(tmp_path / "plain.png")
    with pytest.raises(SettingsError, match="no cnnviz stamp"):
        scene_from_file(tmp_path / "plain.png")


@pytest.mark.parametrize("name", ["bad.png", "bad.svg"])
def test_a_file_that_is_not_what_its_name_says_is_one_line(tmp_path, name):
    (tmp_path / name).write_bytes(b"\x00garbage" * 50)
    with pytest.raises(SettingsError, match=name.replace(".", r"\.")):
        scene_from_file(tmp_path / name)


def test_an_svg_with_entity_expansion_is_refused(tmp_path):
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        "<svg xmlns='http://www.w3.org/2000/svg'><metadata>&lol2;</metadata></svg>"
    )
    (tmp_path / "bomb.svg").write_text(bomb)
    with pytest.raises(SettingsError, match=r"bomb\.svg"):
        scene_from_file(tmp_path / "bomb.svg")


def test_an_invalid_field_in_a_stamp_is_named(stamped, tmp_path):
    d = json.loads(stamped[2].read_text())
    d["scene"]["settings"]["depth"] = 99
    (tmp_path / "edited.json").write_text(json.dumps(d))
    with pytest.raises(SettingsError, match="depth"):
        scene_from_file(tmp_path / "edited.json")


def test_a_schema_1_settings_file_still_reads(tmp_path):
    (tmp_path / "old.json").write_text(json.dumps({"schema": 1, "depth": 4, "channels": 8}))
    assert scene_from_file(tmp_path / "old.json").settings == Settings(depth=4, channels=8)


def test_names_are_deterministic_from_the_settings():
    assert stem(Settings()) == "pyramid_he_d6_J16_s0"
    assert stem(Scene(settings=Settings(mode="cost", init=0.0123, activation="tanh", seed=3))) == (
        "cost_v0p0123_d6_J16_s3_tanh"
    )
    assert stem(Settings(), "init") == "init_residual_d6_J16_s0"
    assert stem(Settings(size=64, depth=3, shared=False)) == "pyramid_he_d3_J16_s0_n64_unshared"
