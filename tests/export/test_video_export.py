"""The video network's export (Problem 2): names, figures and the written-out cost (its data: test_data.py)."""

from __future__ import annotations

import math

from cnnviz.export import figures, stem


def test_names_say_the_mode_and_the_video_settings_that_differ():
    from cnnviz.settings import Settings

    assert stem(Settings(mode="video-net")) == "video-net_he_d6_J16_s0"
    s = Settings(mode="video-net", video_stride=1, video_kernel_t=5, video_window=4)
    assert stem(s) == "video-net_he_d6_J16_s0_st1_Dt5_T4"


def test_the_layers_figure_embeds_every_map_and_strip_pixelated(results, scene, tmp_path):
    res = results["video-net"]
    stamp = scene.replace(settings=res.settings)
    fig = figures.render(res, stamp, "layers")
    path = figures.save_figure(fig, tmp_path / "layers.svg", stamp)
    text = path.read_text()
    assert text.count("<image") == 2 * len(res.video.layers)  # the map now and its x-t strip, per layer
    assert "frames 3–6" in text
    cost = figures.save_figure(figures.render(res, stamp, "video_cost"), tmp_path / "cost.svg", stamp).read_text()
    assert f"{res.video.total_multiplies:,}" in cost and "1·32·32·2·3·3·3·3·4" in cost  # B X Y T dX dY dT I J


def test_each_layers_written_out_count_multiplies_to_its_multiplies(results):
    v = results["video-net"].video
    assert v.layers[0].formula == ""
    for layer in v.layers[1:]:
        factors = [int(f) for f in layer.formula.split("·")]
        assert len(factors) == 9 and math.prod(factors) == layer.multiplies  # B X Y T dX dY dT I J
