"""The video network's export (Problem 2): the numbers equal the Result's, the NPZ holds every layer."""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import pytest

from cnnviz.export import data, figures, stem


def _rows(text: str) -> list[dict[str, str]]:
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    return list(csv.DictReader(io.StringIO(body)))


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_csv_has_one_row_per_layer_with_the_theory_beside_each(results, scene):
    res = results["video-net"]
    text = data.csv_text(res, scene.replace(settings=res.settings))
    rows = _rows(text)
    v = res.video
    assert len(rows) == len(v.layers) == res.settings.depth + 1
    for row, layer in zip(rows, v.layers):
        st = layer.stats
        assert row["section"] == "video" and int(row["level"]) == layer.level
        assert row["shape"] == "x".join(map(str, layer.shape))  # B x C x T x H x W
        for col, name in [
            ("mean", "mean"),
            ("var", "var"),
            ("theory_var", "theory_var"),
            ("grad_rms", "grad_rms"),
            ("theory_grad_rms", "theory_grad_rms"),
            ("dead_fraction", "zero_frac"),
        ]:
            assert _same(float(row[col]), float(getattr(st, name))), (col, layer.level)
        assert int(row["multiplies"]) == layer.multiplies
    assert math.isfinite(float(rows[-1]["theory_var"])) and math.isnan(float(rows[0]["theory_var"]))
    assert "# video network (Problem 2): frames 3-6, T=4 stride=2" in text


def test_json_holds_the_video_numbers_and_the_scene(results, scene):
    res = results["video-net"]
    stamp = scene.replace(settings=res.settings)
    d = json.loads(data.json_text(res, stamp))
    v = res.video
    assert d["scene"] == stamp.to_dict() and d["video"]["frames"] == [3, 4, 5, 6]
    assert d["video"]["total_multiplies"] == v.total_multiplies
    for got, layer in zip(d["video"]["layers"], v.layers):
        assert got["shape"] == list(layer.shape) and got["multiplies"] == layer.multiplies
        assert got["var"] == layer.stats.var
        assert got["theory_grad_rms"] == (
            None if math.isnan(layer.stats.theory_grad_rms) else layer.stats.theory_grad_rms
        )


def test_npz_holds_every_layer_and_gradient_at_full_resolution(tmp_path, results, scene):
    res = results["video-net"]
    path = data.write_npz(res, scene.replace(settings=res.settings), tmp_path / "v.npz")
    with np.load(path, allow_pickle=False) as z:
        assert list(z["video_frames"]) == [3, 4, 5, 6]
        for layer in res.video.layers:
            full = z[f"video_map_l{layer.level}"]
            assert full.shape == layer.shape[1:] and full.dtype == np.float32  # [C, T, H, W]
            np.testing.assert_array_equal(full, layer.full)
            if layer.level:
                assert z[f"video_grad_l{layer.level}"].shape == layer.shape[1:]
        # the statistics are of these very arrays
        top = res.video.layers[-1]
        assert float(np.var(z[f"video_map_l{top.level}"], dtype=np.float64)) == pytest.approx(top.stats.var, rel=1e-6)
    assert data.read_npz_scene(path).settings == res.settings


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
