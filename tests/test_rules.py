"""The rules that tie settings together, tested without a window."""

from __future__ import annotations

import math

import pytest

from cnnviz.errors import SettingsError
from cnnviz.settings import Settings


def test_depth_follows_a_smaller_size_and_stays_for_a_larger_one():
    s = Settings(size=256, depth=8)
    assert s.with_size(64).depth == 6  # log2(64)
    assert s.with_size(64).size == 64
    assert Settings(size=64, depth=6).with_size(512).depth == 6
    with pytest.raises(SettingsError, match="power of two"):
        s.with_size(100)


def test_the_mode_decides_which_init_depth_and_size_the_keys_change():
    s = Settings()
    assert (s.init_field, s.depth_field, s.activation_field, s.size_field) == ("init", "depth", "activation", "size")
    lab = s.replace(mode="init")
    assert (lab.init_field, lab.depth_field, lab.activation_field) == (
        "residual_init",
        "residual_depth",
        "residual_activation",
    )
    assert lab.size_field == "noise_size"
    assert lab.replace(residual_input="image").size_field == "size"


def test_init_variance_resolves_rules_with_the_fan_in_of_each_field():
    s = Settings(channels=16, kernel=3, depth=6, residual_depth=10, unit_dim=50)
    assert s.fan_in("init") == 2 * 9 * 16  # both branches, J channels
    assert s.init_var("init") == pytest.approx(2 / 288)  # He
    assert s.init_gain("init") == pytest.approx(2.0)
    assert s.fan_in("residual_init") == 9 * 16
    assert s.init_var("residual_init") == pytest.approx(math.log(2) / (10 * 9 * 16))
    assert s.init_var("unit_init") == pytest.approx(1 / 50)  # LeCun
    assert s.replace(init=0.5).init_var("init") == 0.5
    with pytest.raises(SettingsError):
        s.fan_in("depth")


def test_a_rule_is_re_evaluated_when_the_shape_changes():
    s = Settings(init="lecun", channels=16)
    assert s.stepped("channels", +1).init_var() == pytest.approx(1 / (2 * 9 * 32))


@pytest.mark.parametrize(
    ("field", "step", "expect"),
    [
        ("depth", +1, 7),
        ("depth", -1, 5),
        ("channels", +1, 32),
        ("channels", -1, 8),
        ("kernel", +1, 5),
        ("size", +1, 512),
        ("size", -1, 128),
        ("unit_dim", +1, 1000),
        ("residual_depth", +1, 7),
        ("shared", +1, False),
        ("activation", +1, "sigmoid"),
        ("activation", -1, "identity"),
        ("residual_input", +1, "image"),
        ("video_window", +1, 9),
    ],
)
def test_each_key_step_moves_its_field_by_one_step(field, step, expect):
    assert getattr(Settings().stepped(field, step), field) == expect


def test_a_step_past_a_limit_says_why():
    top = Settings(size=256, depth=8)
    with pytest.raises(SettingsError, match=r"depth is already at its largest, 8 \(log2 of the input size 256\)"):
        top.stepped("depth", +1)
    with pytest.raises(SettingsError, match="smallest"):
        Settings(depth=1).stepped("depth", -1)
    with pytest.raises(SettingsError, match="largest"):
        Settings(kernel=15).stepped("kernel", +1)
    with pytest.raises(SettingsError, match="largest"):
        Settings(size=2048, depth=6).stepped("size", +1)


def test_a_smaller_size_step_takes_the_depth_with_it():
    s = Settings(size=64, depth=6).stepped("size", -1)
    assert (s.size, s.depth) == (32, 5)


def test_init_steps_are_quarter_decades_of_the_resolved_value_and_start_from_zero():
    s = Settings(init="he", channels=16, kernel=3)
    up = s.stepped("init", +1)
    assert up.init == pytest.approx(float(f"{2 / 288 * 10**0.25:.3g}"))
    assert Settings(init=0.0).stepped("init", +1).init == 1e-6
    lab = Settings(mode="init", residual_init=0.05)
    assert lab.scaled_init(10).residual_init == 0.5
    assert lab.scaled_init(10).init == "he"  # the network's init is not what the init lab shows


def test_an_init_variance_cannot_overflow_to_infinity():
    with pytest.raises(SettingsError, match="cannot grow"):
        Settings(init=1e308).scaled_init(10)


def test_video_network_parameters_are_validated_by_name():
    with pytest.raises(SettingsError, match="video stride"):
        Settings(video_stride=0)
    with pytest.raises(SettingsError, match="video temporal kernel"):
        Settings(video_kernel_t=2)
    with pytest.raises(SettingsError, match="video window"):
        Settings(video_window=0)
