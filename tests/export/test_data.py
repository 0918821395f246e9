"""The data exports hold exactly the Result's numbers, stamped with the scene."""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import pytest

from cnnviz.errors import ExportError
from cnnviz.export import data
from cnnviz.scene import Scene


def _rows(text: str) -> list[dict[str, str]]:
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    return list(csv.DictReader(io.StringIO(body)))


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_csv_numbers_equal_the_results_exactly(results, scene):
    res = results["cost"]
    rows = _rows(data.csv_text(res, scene))
    assert len(rows) == len(res.pyramid.layers)
    costs = {(c.level, c.scale): c for c in res.costs}
    for row, st in zip(rows, res.pyramid.layers):
        assert (int(row["level"]), int(row["scale"])) == (st.level, st.scale)
        assert row["shape"] == "x".join(map(str, st.shape))
        for col, name in [
            ("mean", "mean"),
            ("var", "var"),
            ("theory_var", "theory_var"),
            ("grad_rms", "grad_rms"),
            ("theory_grad_rms", "theory_grad_rms"),
            ("dead_fraction", "zero_frac"),
        ]:
            assert _same(float(row[col]), float(getattr(st, name))), (col, st.level, st.scale)
        assert int(row["multiplies"]) == st.multiplies
        if st.level >= 1:
            c = costs[st.level, st.scale]
            assert int(row["multiplies_left"]) + int(row["multiplies_up"]) == c.multiplies == st.multiplies
            assert int(row["torch_flops"]) == c.torch_flops == 2 * c.multiplies


def test_csv_of_the_init_lab_has_the_residual_theory_beside_each_level(results, scene):
    res = results["init"]
    rows = _rows(data.csv_text(res, scene))
    r = res.residual
    assert [int(row["level"]) for row in rows] == list(range(r.depth + 1))
    for row, st, tv, tg in zip(rows, r.layers, r.theory_var, r.theory_grad_var):
        assert float(row["var"]) == st.var and float(row["theory_var"]) == tv
        assert float(row["grad_var"]) == st.grad_var and float(row["theory_grad_var"]) == tg


def test_csv_stamp_is_the_scene_in_leading_comment_lines(results, scene):
    lines = data.csv_text(results["pyramid"], scene).splitlines()
    n = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    assert lines[n].split(",") == list(data.CSV_COLUMNS)  # header right after the comments
    assert not any(line.startswith("#") for line in lines[n:])  # comment="#" readers skip only the top
    stamp = next(line for line in lines[:n] if line.startswith("# scene: "))
    assert Scene.from_dict(json.loads(stamp.removeprefix("# scene: "))) == scene
    values = np.loadtxt(lines[n + 1 :], delimiter=",", usecols=range(4, 8))  # numbers parse as floats
    assert values.shape == (len(results["pyramid"].pyramid.layers), 4)


def test_json_is_strict_and_holds_the_results_numbers_and_the_scene(results, scene):
    res = results["pyramid"]
    d = json.loads(data.json_text(res, scene))  # strict: the parser rejects NaN
    assert d["format"] == "cnnviz-export"
    assert Scene.from_dict(d["scene"]) == scene
    assert d["settings"] == res.settings.to_dict()
    layers = d["pyramid"]["layers"]
    for got, st in zip(layers, res.pyramid.layers):
        assert got["var"] == st.var and got["mean"] == st.mean
        assert got["grad_rms"] == (None if math.isnan(st.grad_rms) else st.grad_rms)
        assert got["hist_counts"] == st.hist_counts.tolist()
    assert d["pyramid"]["equivariance"][1:] == res.pyramid.equivariance[1:].tolist()
    assert d["total_multiplies"] == res.total_multiplies


def test_json_of_the_init_lab_keeps_the_single_units_histograms(results, scene):
    d = json.loads(data.json_text(results["init"], scene))
    assert sum(d["unit"]["hist_y_counts"]) == results["init"].unit.y.size
    assert d["residual"]["theory_var"] == results["init"].residual.theory_var.tolist()


def test_npz_holds_every_layers_full_maps_and_gradients(tmp_path, full_result, scene):
    path = data.write_npz(full_result, scene, tmp_path / "a.npz")
    with np.load(path, allow_pickle=False) as z:
        p = full_result.pyramid
        for (l, s), m in p.maps_full.items():
            assert z[f"map_l{l}_s{s}"].dtype == np.float32
            np.testing.assert_array_equal(z[f"map_l{l}_s{s}"], m)
        for (l, s), g in p.grads_full.items():
            np.testing.assert_array_equal(z[f"grad_l{l}_s{s}"], g)
        assert z["layers"].tolist() == [list(k) for k in sorted(p.maps_full)]
        np.testing.assert_array_equal(z["image"], p.image)
    assert data.read_npz_scene(path) == scene


def test_npz_without_full_maps_is_refused_and_writes_nothing(tmp_path, results, scene):
    with pytest.raises(ExportError, match="full-resolution"):
        data.write_npz(results["pyramid"], scene, tmp_path / "a.npz")
    assert list(tmp_path.iterdir()) == []


def test_npz_of_the_init_lab_keeps_the_single_units_samples(tmp_path, results, scene):
    path = data.write_npz(results["init"], scene, tmp_path / "i.npz")
    with np.load(path, allow_pickle=False) as z:
        np.testing.assert_array_equal(z["unit_u"], results["init"].unit.u)


def test_npz_from_the_engines_export_profile_holds_every_layer_at_full_size(tmp_path, frame, scene):
    import inspect

    from cnnviz.core.engine import run

    if "profile" not in inspect.signature(run).parameters:
        pytest.skip("this engine has no export profile yet")
    res = run(scene.settings, frame, profile="export")
    path = data.write_npz(res, scene, tmp_path / "e.npz")
    with np.load(path, allow_pickle=False) as z:
        for st in res.pyramid.layers:
            _, c, h, w = st.shape
            m = z[f"map_l{st.level}_s{st.scale}"]
            assert m.shape == (c, h, w) and m.dtype == np.float32
            if st.level >= 1:
                assert z[f"grad_l{st.level}_s{st.scale}"].shape == (c, h, w)
                # the file's numbers are the layer's: its variance is the Result's
                assert float(np.var(m, dtype=np.float64)) == pytest.approx(st.var, rel=1e-6)


# -- the video network (Problem 2) --------------------------------------------------------------
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
