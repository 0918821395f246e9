"""Settings that cannot finish are refused before anything is allocated, in one line that says
how much they need and what to lower; zero or negative video window, stride and temporal kernel
are refused, never replaced by a default."""

from __future__ import annotations

import io

import pytest

from cnnviz.cli import main
from cnnviz.core import budget
from cnnviz.core.budget import BudgetError, check, estimate, pyramid_estimate, video_estimate
from cnnviz.errors import CnnvizError
from cnnviz.paths import SAMPLE_VIDEO
from cnnviz.settings import Settings

GB = 2**30


def run_cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), out=out, err=err), out.getvalue(), err.getvalue()


def test_memory_follows_the_maps_and_their_gradients():
    """Level 1 dominates: (4/3) J (N/2)^2 float32 values, kept with a gradient each (and the rest)."""
    small, wide = pyramid_estimate(Settings(size=512, channels=16)), pyramid_estimate(Settings(size=512, channels=64))
    assert 3.5 < wide.bytes / small.bytes < 4.1  # ~linear in J once the maps dominate
    bigger = pyramid_estimate(Settings(size=1024, channels=16))
    assert 3.5 < bigger.bytes / small.bytes < 4.1  # ~linear in N^2
    # size 1024, J = 64: level 1 alone is 4/3 * 64 * 512^2 floats = 85 MiB; measured peak 535 MB
    assert 400 * 2**20 < pyramid_estimate(Settings(size=1024, channels=64)).bytes < 700 * 2**20


def test_multiplies_come_from_problem_1s_counts():
    from cnnviz.core.cost import scale_net_costs

    s = Settings(size=256, depth=4, channels=8, kernel=5)
    forward = sum(r.multiplies for r in scale_net_costs(s.k, s.depth, s.channels, s.kernel))
    assert forward < estimate(s).multiplies < 4 * forward


def test_the_heaviest_window_settings_are_refused_where_memory_is_short(monkeypatch):
    monkeypatch.setattr(budget, "available_memory", lambda device="cpu": 4 * GB)
    with pytest.raises(BudgetError) as err:
        check(Settings(size=2048, depth=11, channels=256, kernel=15))
    message = str(err.value)
    assert "GB" in message and "4.0 GB" in message and "smaller input size or fewer channels" in message
    assert "\n" not in message
    check(Settings(size=256, channels=16))  # ordinary settings pass


def test_the_residual_stack_names_the_noise_size(monkeypatch):
    monkeypatch.setattr(budget, "available_memory", lambda device="cpu": 256 * 2**20)
    with pytest.raises(BudgetError, match="noise size"):
        check(Settings(mode="init", noise_size=2048, channels=256, residual_depth=100))


def test_cli_refuses_before_computing(monkeypatch):
    monkeypatch.setattr(budget, "available_memory", lambda device="cpu": 1 * GB)
    code, out, err = run_cli("stats", "--size", "2048", "--depth", "11", "--channels", "256", "--kernel", "15")
    assert code == 1 and out == ""
    assert err.startswith("cnnviz: error: ") and err.count("\n") == 1 and "needs about" in err


def test_video_net_is_refused_before_the_clip_is_built(monkeypatch):
    monkeypatch.setattr(budget, "available_memory", lambda device="cpu": 2 * GB)
    est = video_estimate(Settings(size=2048, depth=6, channels=16), window=256)
    assert est.bytes > 12 * GB  # 256 frames of 2048^2 RGB float32 alone are 12 GiB
    code, _, err = run_cli("stats", str(SAMPLE_VIDEO), "--video-net", "--size", "1024", "--window", "64")
    assert code == 1 and "needs about" in err and "smaller window" in err and err.count("\n") == 1


@pytest.mark.parametrize("flag", ["--window", "--stride", "--kernel-t"])
@pytest.mark.parametrize("value", ["0", "-1"])
def test_zero_or_negative_video_flags_are_refused(flag, value):
    code, out, err = run_cli("stats", str(SAMPLE_VIDEO), "--video-net", flag, value, "--size", "64")
    assert code == 1 and out == ""
    assert err.startswith(f"cnnviz: error: {flag} {value}") and err.count("\n") == 1


def test_video_flags_map_onto_settings(tmp_path):
    from cnnviz.cli_video import _video_net_options

    class Args:
        video_net, stride, kernel_t, window = True, 1, 5, 4

    assert _video_net_options(Args(), Settings()) == (1, 5, 4)
    Args.stride = Args.kernel_t = Args.window = None
    s = Settings(video_stride=3, video_kernel_t=7, video_window=16)
    assert _video_net_options(Args(), s) == (3, 7, 16)


def test_the_engine_refuses_too(monkeypatch):
    import numpy as np

    from cnnviz.core import engine

    monkeypatch.setattr(budget, "available_memory", lambda device="cpu": 64 * 2**20)
    with pytest.raises(CnnvizError, match="needs about"):
        engine.run(Settings(size=1024, channels=64), np.zeros((1024, 1024, 3), np.float32))


def test_available_memory_reads_the_system():
    free = budget.available_memory()
    assert free is None or free > 0


def test_the_hosts_memory_is_read_again_once_the_reading_is_stale(monkeypatch):
    """Every run asks (each video frame): one reading serves for HOST_MEMORY_FRESH_S, then the
    files are read again, so memory freed or taken meanwhile is seen."""
    reads = []
    free = [8 * GB]
    monkeypatch.setattr(budget, "cgroup_limit", lambda: reads.append(1) or free[0])
    monkeypatch.setattr(budget, "meminfo_available", lambda: None)
    clock = [1000.0]
    monkeypatch.setattr(budget.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(budget, "_host_memory", None)
    assert budget.available_memory() == 8 * GB
    free[0] = 1 * GB
    clock[0] += budget.HOST_MEMORY_FRESH_S / 2
    assert budget.available_memory() == 8 * GB and len(reads) == 1
    clock[0] += budget.HOST_MEMORY_FRESH_S
    assert budget.available_memory() == 1 * GB and len(reads) == 2
    with pytest.raises(BudgetError, match="is available"):  # the fresh reading refuses what no longer fits
        check(Settings(size=2048, channels=64))


def test_cancel_is_polled_between_scales():
    """A level of a large image can be abandoned part-way: the cancel token is asked per scale."""
    import torch

    from cnnviz.core.pyramid import image_pyramid
    from cnnviz.core.scale_net import Cancelled, ScaleSharedNet

    net = ScaleSharedNet(3, 4, depth=1, kernel=3)
    pyr = image_pyramid(torch.zeros(1, 3, 64, 64))
    polls = []

    def cancel() -> bool:
        polls.append(1)
        return len(polls) > 2  # the first poll is before level 1; stop at its second scale

    with pytest.raises(Cancelled):
        net(pyr, cancel)
    assert len(polls) == 3


def test_a_large_size_allows_its_depth():
    """`--size 2048 --depth 11` (the issue's heavy example) is valid: depth is checked against the new size."""
    from cnnviz.cli import _stats_parser, settings_from_args

    s = settings_from_args(_stats_parser().parse_args(["--size", "2048", "--depth", "11"]))
    assert (s.size, s.depth) == (2048, 11)
