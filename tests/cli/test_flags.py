"""Flags land on what the chosen mode shows; no abbreviations; scenes as --settings."""

from __future__ import annotations

import io

import pytest

from cnnviz.cli import _window_parser, main, settings_from_args
from cnnviz.scene import Scene, save_scene
from cnnviz.settings import Settings


def settings_of(*argv: str) -> Settings:
    args = _window_parser().parse_args(list(argv))
    return settings_from_args(args, mode=args.mode)


def test_init_flags_in_the_init_lab_set_the_residual_stack():
    s = settings_of("--mode", "init", "--init-var", "10", "--depth", "30", "--activation", "tanh")
    assert (s.residual_init, s.residual_depth, s.residual_activation) == (10.0, 30, "tanh")
    assert (s.init, s.depth, s.activation) == ("he", Settings().depth, "relu")


def test_init_flags_elsewhere_set_the_pyramid_network():
    s = settings_of("--init-var", "1e30", "--depth", "4")
    assert (s.init, s.depth, s.residual_init) == (1e30, 4, "residual")


def test_the_single_unit_has_flags_of_its_own():
    s = settings_of("--mode", "init", "--unit-init-var", "0.5", "--unit-dim", "30", "--unit-activation", "tanh")
    assert (s.unit_init, s.unit_dim, s.unit_activation) == (0.5, 30, "tanh")
    assert settings_of("--unit-init", "he").unit_init == "he"


def test_a_smaller_size_takes_the_depth_with_it_unless_the_depth_is_given():
    assert settings_of("--size", "64").depth == 6
    assert settings_of("--size", "64", "--depth", "3").depth == 3
    code = main(
        ["--screenshot", "x.png", "--size", "64", "--depth", "7"], out=io.StringIO(), err=(err := io.StringIO())
    )
    assert code == 1 and "more than log2" in err.getvalue()


@pytest.mark.parametrize("argv", [["stats", "--frame", "4"], ["stats", "--dep", "3"], ["--scr", "x.png"]])
def test_flags_are_never_abbreviated(argv):
    err = io.StringIO()
    assert main(argv, out=io.StringIO(), err=err) == 2
    assert "unrecognized arguments" in err.getvalue()


def test_settings_flag_reads_a_scene_and_flags_override_it(tmp_path):
    path = save_scene(Scene(settings=Settings(depth=3, channels=4, seed=7)), tmp_path / "scene.json")
    s = settings_of("--settings", str(path), "--seed", "9")
    assert (s.depth, s.channels, s.seed) == (3, 4, 9)
