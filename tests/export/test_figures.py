"""Exported figures open as what they claim to be, at the asked size, carrying their scene."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from cnnviz.colours import NONFINITE_RGBA
from cnnviz.core.engine import run
from cnnviz.export import FIGURES, batch, figures, scene_from_file
from cnnviz.export.stamp import PNG_KEY
from cnnviz.maps import grid_keys
from cnnviz.scene import Scene

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def exported(tmp_path_factory, results, scene):
    """Every figure of every mode in PNG, SVG and PDF (scale 1.5), once for the module."""
    out = tmp_path_factory.mktemp("figures")
    items = batch.plan(scene, list(FIGURES), ["png", "svg", "pdf"], out)
    batch.write(items, results, scene, scale=1.5)
    return out, items


def _paths(exported, fmt):
    return [i.path for i in exported[1] if i.fmt == fmt]


def _items(exported, fmt):
    return [i for i in exported[1] if i.fmt == fmt]


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        chunks.append((kind, data[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    return chunks


def test_every_figure_of_every_mode_is_written_in_every_format(exported):
    names = sorted(p.name for p in exported[0].iterdir())
    assert len(names) == 3 * sum(len(f) for f in FIGURES.values())
    assert "pyramid_he_d3_J4_s0_n64_grid.png" in names
    assert not [n for n in names if n.endswith(".part")]


def test_png_decodes_at_the_asked_size_with_its_dpi_and_is_not_blank(exported):
    for item in _items(exported, "png"):
        path = item.path
        with Image.open(path) as im:
            # the same figure's SVG says its size in points (1/72 inch); the PNG has 150 pixels an inch
            root = ET.parse(path.with_suffix(".svg")).getroot()
            w, h = (float(root.get(k).removesuffix("pt")) / 72 * 150 for k in ("width", "height"))
            assert im.size == (round(w), round(h)), path.name
            assert im.info["dpi"] == pytest.approx((150, 150), abs=0.05), path.name
            a = np.asarray(im.convert("RGB"), dtype=np.int16)
        assert a.std() > 10, f"{path.name} is nearly blank"
        assert (np.abs(a - a[0, 0]).sum(axis=-1) > 60).mean() > 0.02, f"{path.name} has almost nothing drawn"


def test_png_stamp_chunk_comes_before_the_pixels(exported, scene):
    data = _paths(exported, "png")[0].read_bytes()
    kinds = [k for k, _ in _png_chunks(data)]
    stamp = next(i for i, (k, v) in enumerate(_png_chunks(data)) if k == b"iTXt" and v.startswith(PNG_KEY.encode()))
    assert stamp < kinds.index(b"IDAT")
    assert b"pHYs" in kinds[: kinds.index(b"IDAT")]


def test_svg_is_xml_with_curves_as_paths_and_maps_as_images(exported):
    for path in _paths(exported, "svg"):
        root = ET.parse(path).getroot()
        assert root.tag == f"{SVG}svg"
        if not path.name.endswith("_grid.svg"):  # curves, bars, histograms, axes: vector paths
            assert len(root.findall(f".//{SVG}path")) >= 5, path.name
    grid = next(p for p in _paths(exported, "svg") if p.name.endswith("_grid.svg"))
    images = ET.parse(grid).getroot().findall(f".//{SVG}image")
    assert len(images) == len(grid_keys(6, 3)) + 1  # one per cell of the (l, s) triangle, and the colour bar
    # nearest-neighbour upscaled: even the 1x1 map is embedded with many pixels, drawn pixelated
    assert sum("pixelated" in im.get("style", "") for im in images) == len(grid_keys(6, 3))


def test_svg_curves_carry_the_scale_colours(exported):
    from cnnviz.colours import scale_colors

    text = next(p for p in _paths(exported, "svg") if p.name.endswith("_variance.svg")).read_text()
    for c in scale_colors(7)[:4]:
        assert c in text


def test_svg_renders_to_a_picture(exported, tmp_path):
    rsvg = shutil.which("rsvg-convert")
    if rsvg is None:
        pytest.skip("rsvg-convert (librsvg2-bin) is not installed")
    for path in _paths(exported, "svg")[:2]:
        png = subprocess.run([rsvg, "-f", "png", str(path)], capture_output=True, check=True, timeout=60).stdout
        with Image.open(io.BytesIO(png)) as im:
            a = np.asarray(im.convert("RGB"), dtype=np.int16)
        assert a.shape[0] > 200 and a.std() > 10


def test_pdf_has_a_page_and_renders(exported, tmp_path):
    for path in _paths(exported, "pdf"):
        data = path.read_bytes()
        assert data.startswith(b"%PDF-") and b"/Type /Page" in data and data.rstrip().endswith(b"%%EOF")
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    grid = next(p for p in _paths(exported, "pdf") if p.name.endswith("_grid.pdf"))
    subprocess.run([pdftoppm, "-png", "-r", "40", "-singlefile", str(grid), str(tmp_path / "page")], check=True)
    with Image.open(tmp_path / "page.png") as im:
        assert im.size[0] > 100 and np.asarray(im.convert("L")).std() > 10


def test_pdf_document_info_holds_the_stamp(exported, scene):
    data = next(iter(_paths(exported, "pdf"))).read_bytes()
    assert b"/Subject" in data and b"cnnviz-scene" in data


def test_every_figure_reads_back_its_scene(exported, scene, results):
    for path in _paths(exported, "png") + _paths(exported, "svg"):
        mode = path.name.split("_")[0]
        assert scene_from_file(path) == scene.replace(settings=results[mode].settings), path.name


def test_a_figure_is_the_same_bytes_each_time(tmp_path, results, scene):
    for fmt in ("png", "svg", "pdf"):
        fig = figures.render(results["pyramid"], scene, "variance")
        a = figures.save_figure(fig, tmp_path / f"a.{fmt}", scene).read_bytes()
        b = figures.save_figure(figures.render(results["pyramid"], scene, "variance"), tmp_path / f"b.{fmt}", scene)
        assert a == b.read_bytes(), fmt


def test_overflowed_layers_are_drawn_magenta(tmp_path, frame, scene):
    res = run(scene.settings.replace(init=1e40), frame)
    assert res.pyramid.nonfinite_layers
    path = figures.save_figure(figures.render(res, scene, "grid"), tmp_path / "g.png", scene, scale=1)
    a = np.asarray(Image.open(path).convert("RGB"))
    assert (a == NONFINITE_RGBA[:3]).all(axis=-1).sum() > 100


def test_a_figure_of_a_mode_that_did_not_run_is_one_clear_error(results, scene):
    from cnnviz.errors import ExportError

    with pytest.raises(ExportError, match="needs a init result"):
        figures.render(results["pyramid"], scene, "unit_y")


def test_figures_never_load_pyplot_or_qt():
    code = (
        "import sys; from cnnviz.export import figures; "
        "print('matplotlib.pyplot' in sys.modules, 'PySide6' in sys.modules)"
    )
    out = subprocess.run([__import__("sys").executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_scene_type_is_the_stamp(scene):
    assert isinstance(scene, Scene)


def test_a_long_caption_stays_inside_the_figure(tmp_path, frame, scene):
    """A long file name and settings: the caption under the figure wraps, never runs off its edge."""
    import dataclasses

    from cnnviz.scene import SourceRef

    name = "lecture_photo_taken_in_the_main_hall_on_the_second_day_of_the_course_2026.png"
    long_scene = dataclasses.replace(scene, source=SourceRef(name=name))
    res = run(scene.settings.replace(init=1e30), frame)
    for figure in ("histogram", "variance"):
        fig = figures.render(res, long_scene, figure)
        fig.canvas.draw()
        text = fig.texts[0]
        box = text.get_window_extent()
        assert "…" in text.get_text() and name[:10] in text.get_text() and name[-8:] in text.get_text()
        assert box.x0 >= 0 and box.x1 <= fig.bbox.width + 0.5, (figure, box, fig.bbox)


def test_the_histogram_of_an_overflowed_layer_says_it_has_nothing_to_count(frame, scene):
    res = run(scene.settings.replace(init=1e40), frame)
    st = res.pyramid.layer(*scene.view.selected)
    assert st.nonfinite == int(np.prod(st.shape))  # every value of the selected layer overflowed
    fig = figures.render(res, scene, "histogram")
    assert any(t.get_text() == "no finite values to count" for t in fig.axes[0].texts)
