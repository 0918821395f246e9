"""run_video: Problem 2's network as one Settings -> Result run, as the window's fourth mode draws it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnviz.core.scale_net import Cancelled
from cnnviz.core.video_engine import ClipInput, run_video, video_net_for
from cnnviz.core.video_stats import video_net_layer_stats
from cnnviz.errors import SettingsError
from cnnviz.settings import Settings

S = Settings(mode="video-net", size=32, depth=3, channels=4, video_window=4, video_stride=2, video_kernel_t=3)


def frames(t: int = 4, n: int = 32) -> np.ndarray:
    return np.random.default_rng(1).random((t, n, n, 3), dtype=np.float32)


def test_layers_shapes_costs_and_statistics_match_the_stats_path():
    clip = frames()
    result = run_video(S, ClipInput(clip, (10, 11, 12, 13)))
    v = result.video
    assert v is not None and result.pyramid is None and result.settings == S
    assert v.frames == (10, 11, 12, 13) and v.window == 4 and not v.still
    net = video_net_for(S)
    x = torch.from_numpy(clip).permute(3, 0, 1, 2).unsqueeze(0) - 0.5
    assert [layer.shape for layer in v.layers] == net.output_shapes(x.shape)
    assert [layer.multiplies for layer in v.layers] == net.multiplies(x.shape)
    assert v.total_multiplies == sum(net.multiplies(x.shape))
    expected = video_net_layer_stats(net, x, S.seed)  # what `cnnviz stats --video-net` reports
    for layer, st in zip(v.layers, expected):
        assert layer.stats.var == pytest.approx(st.var, rel=1e-6)
        assert layer.stats.grad_rms == pytest.approx(st.grad_rms, rel=1e-6, nan_ok=True)
    outs = net(x)
    top = outs[2][0].numpy()  # [J, T_2, H_2, W_2]
    np.testing.assert_allclose(v.layers[2].now, top[:, -1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(v.layers[2].strip, top[:, :, top.shape[2] // 2, :], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(v.layers[0].now, clip[-1].transpose(2, 0, 1), atol=1e-6)  # the frame itself
    assert v.series("var").shape == (S.depth + 1,)


def test_an_image_is_a_still_clip_of_t_copies():
    image = frames(1)[0]
    v = run_video(S, image).video
    assert v.still and v.window == S.video_window and v.frames == ()
    strip = v.layers[0].strip  # [3, T, W]: the same row at every time step
    assert np.allclose(strip, strip[:, :1])


def test_display_maps_are_pooled_to_at_most_128():
    s = S.replace(size=256, depth=2, video_window=2)
    v = run_video(s, frames(2, 256)).video
    assert v.layers[0].now.shape == (3, 128, 128) and v.layers[0].strip.shape == (3, 2, 128)
    assert v.layers[1].now.shape == (4, 128, 128)


def test_cancel_and_bad_input():
    with pytest.raises(Cancelled):
        run_video(S, frames(), cancel=lambda: True)
    with pytest.raises(SettingsError, match="settings ask for 32"):
        run_video(S, frames(4, 64))
    with pytest.raises(SettingsError, match=r"\[T, N, N, 3\]"):
        run_video(S, np.zeros((4, 32, 32), np.float32))


def test_overflow_is_a_warning_not_an_error():
    result = run_video(S.replace(init=1e30, depth=5), frames())
    assert any("overflowed" in w for w in result.warnings)
