"""Reading pictures robustly: every mode and format a user may drop in, every way a file
can be bad, and the fit to a 2^k square. All files are made here with Pillow."""

from __future__ import annotations

import functools
import io
import os
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from cnnviz.errors import InputError
from cnnviz.io.images import (
    MAX_PIXELS,
    as_rgb,
    fit_to_size,
    load_image,
    read_rgb,
    read_rgb_bytes,
)
from cnnviz.paths import SAMPLE_IMAGE

# A Pillow warning reaching the user is a bug, so any warning fails these tests.
pytestmark = pytest.mark.filterwarnings("error")

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


def _check_rgb(a: np.ndarray, shape: tuple[int, int]) -> None:
    assert a.dtype == np.float32
    assert a.shape == (*shape, 3)
    assert a.flags.c_contiguous
    assert np.isfinite(a).all()
    assert a.min() >= 0.0 and a.max() <= 1.0


def _save(tmp_path: Path, im: Image.Image, name: str, **kw) -> Path:
    p = tmp_path / name
    im.save(p, **kw)
    return p


def _noise(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _png(width: int, height: int, bit_depth: int = 8, colour_type: int = 0, idat: bytes = b"") -> bytes:
    """A PNG whose header claims ``width x height``; the pixel data need not match."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", idat or zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


# ---------------------------------------------------------------------------------------
# Formats and modes
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kw"),
    [
        ("a.png", {}),
        ("a.bmp", {}),
        ("a.tif", {}),
        ("a.tiff", {"compression": "tiff_lzw"}),
        ("a.webp", {"lossless": True}),
    ],
)
def test_lossless_formats_round_trip_exactly(tmp_path, name, kw):
    rgb = _noise(17, 23)
    out = read_rgb(_save(tmp_path, Image.fromarray(rgb), name, **kw))
    _check_rgb(out, (17, 23))
    np.testing.assert_array_equal(out, rgb.astype(np.float32) / 255)


def test_jpeg_is_close(tmp_path):
    y, x = np.mgrid[0:48, 0:64]
    rgb = np.stack([x * 4, y * 5, 255 - x * 4], axis=-1).astype(np.uint8)
    out = read_rgb(_save(tmp_path, Image.fromarray(rgb), "a.jpg", quality=95))
    _check_rgb(out, (48, 64))
    assert np.abs(out - rgb / 255).mean() < 0.02


def test_file_extension_does_not_matter(tmp_path):
    rgb = _noise(8, 9)
    p = tmp_path / "really_a_png.jpg"
    Image.fromarray(rgb).save(p, format="PNG")
    np.testing.assert_array_equal(read_rgb(p), rgb / np.float32(255))


def test_grayscale_becomes_three_equal_channels(tmp_path):
    g = np.arange(256, dtype=np.uint8).reshape(16, 16)
    out = read_rgb(_save(tmp_path, Image.fromarray(g), "g.png"))
    _check_rgb(out, (16, 16))
    for c in range(3):
        np.testing.assert_array_equal(out[..., c], g / np.float32(255))


def test_bilevel(tmp_path):
    bits = (np.indices((8, 8)).sum(0) % 2).astype(bool)
    out = read_rgb(_save(tmp_path, Image.fromarray(bits), "b.png"))
    np.testing.assert_array_equal(out[..., 0], bits.astype(np.float32))


def test_gray_alpha_is_composited_on_white(tmp_path):
    la = np.zeros((1, 3, 2), np.uint8)
    la[0] = [(0, 0), (0, 255), (100, 128)]  # transparent, opaque black, half-transparent
    out = read_rgb(_save(tmp_path, Image.fromarray(la, "LA"), "la.png"))
    _check_rgb(out, (1, 3))
    a = 128 / 255
    np.testing.assert_allclose(out[0, :, 0], [1.0, 0.0, 100 / 255 * a + (1 - a)], atol=1e-6)
    assert np.all(out[0, :, 0] == out[0, :, 1])


def test_rgba_is_composited_on_white(tmp_path):
    rgba = np.array([[(255, 0, 0, 0), (255, 0, 0, 255), (0, 0, 0, 128)]], np.uint8)
    out = read_rgb(_save(tmp_path, Image.fromarray(rgba), "rgba.png"))
    a = 128 / 255
    np.testing.assert_allclose(out[0], [[1, 1, 1], [1, 0, 0], [1 - a] * 3], atol=1e-6)


@pytest.mark.parametrize("ext", ["png", "tif"])
def test_16_bit_gray_keeps_full_range_and_precision(tmp_path, ext):
    values = np.array([[0, 1, 257, 32768, 65534, 65535]], np.uint16)
    im = Image.fromarray(values)
    assert im.mode == "I;16"
    out = read_rgb(_save(tmp_path, im, f"g16.{ext}"))
    _check_rgb(out, (1, 6))
    np.testing.assert_array_equal(out[..., 1], values.astype(np.float32) / np.float32(65535))
    assert out[0, -1, 0] == 1.0 and out[0, 1, 0] > 0  # 1/65535 did not round to 0


def test_16_bit_rgb_png_keeps_its_range(tmp_path):
    rows = np.array([[65535, 0, 0, 0, 0, 65535]], ">u2").tobytes()  # red, blue
    data = _png(2, 1, bit_depth=16, colour_type=2, idat=zlib.compress(b"\x00" + rows))
    out = read_rgb_bytes(data)
    np.testing.assert_array_equal(out[0], [[1, 0, 0], [0, 0, 1]])


def test_float_tiff(tmp_path):
    f = np.array([[0.0, 0.25, 1.0]], np.float32)
    out = read_rgb(_save(tmp_path, Image.fromarray(f), "f.tif"))
    np.testing.assert_array_equal(out[0, :, 2], f[0])
    # Outside [0, 1] the values are stretched from minimum to maximum, NaN shown as 0.
    g = np.array([[-10.0, 0.0, 30.0, np.nan]], np.float32)
    out = read_rgb(_save(tmp_path, Image.fromarray(g), "g.tif"))
    np.testing.assert_allclose(out[0, :, 0], [0.0, 0.25, 1.0, 0.25])


def test_int32_tiff(tmp_path):
    i = np.array([[0, 65535]], np.int32)
    out = read_rgb(_save(tmp_path, Image.fromarray(i), "i.tif"))
    np.testing.assert_array_equal(out[0, :, 0], [0.0, 1.0])
    j = np.array([[-5, 5, 70000 - 5 - 5]], np.int32)
    out = read_rgb(_save(tmp_path, Image.fromarray(j), "j.tif"))
    assert out[0, 0, 0] == 0.0 and out[0, 2, 0] == 1.0


def test_palette_with_a_transparent_index(tmp_path):
    im = Image.new("P", (3, 1))
    im.putpalette([*RED, *GREEN, *BLUE] + [0] * (253 * 3))
    im.putdata([0, 1, 2])
    out = read_rgb(_save(tmp_path, im, "p.png"))
    np.testing.assert_array_equal(out[0], [[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    out = read_rgb(_save(tmp_path, im, "pt.png", transparency=1))
    np.testing.assert_array_equal(out[0], [[1, 0, 0], [1, 1, 1], [0, 0, 1]])


def test_cmyk(tmp_path):
    im = Image.new("CMYK", (32, 32), (0, 255, 255, 0))  # red in CMYK
    out = read_rgb(_save(tmp_path, im, "c.tif"))
    np.testing.assert_array_equal(out[0, 0], [1, 0, 0])
    out = read_rgb(_save(tmp_path, im, "c.jpg", quality=95))
    with Image.open(tmp_path / "c.jpg") as im:
        assert im.mode == "CMYK"
    mean = out.reshape(-1, 3).mean(0)
    assert mean[0] > 0.95 and mean[1] < 0.05 and mean[2] < 0.05


@pytest.mark.parametrize("ext", ["jpg", "png", "webp"])
def test_exif_orientation_6_is_applied(tmp_path, ext):
    # Stored 64 wide x 32 high with a red top-left corner; orientation 6 means "turn 90
    # degrees clockwise to display", so it shows 32 wide x 64 high, red at the top right.
    rgb = np.full((32, 64, 3), 128, np.uint8)
    rgb[:16, :16] = RED
    exif = Image.Exif()
    exif[0x0112] = 6
    kw = {"quality": 95} if ext == "jpg" else {"lossless": True} if ext == "webp" else {}
    out = read_rgb(_save(tmp_path, Image.fromarray(rgb), f"o.{ext}", exif=exif, **kw))
    _check_rgb(out, (64, 32))
    red = (out[..., 0] > 0.8) & (out[..., 1] < 0.2)
    assert red[2:14, 18:30].all()
    assert red.sum() == pytest.approx(16 * 16, abs=40)
    assert not red[:, :14].any() and not red[18:].any()


def test_damaged_exif_is_ignored_silently(tmp_path):
    # Orientation 1, then a description said to lie past the end of the block: plain
    # Pillow warns "Tag data larger than file"; the picture itself is fine.
    ifd = struct.pack("<IH", 8, 2) + struct.pack("<HHII", 0x0112, 3, 1, 1) + struct.pack("<HHII", 0x010E, 2, 100, 1000)
    bad_exif = b"Exif\x00\x00II*\x00" + ifd + struct.pack("<I", 0)
    p = _save(tmp_path, Image.new("RGB", (8, 4), GREEN), "e.png", exif=bad_exif)
    with pytest.warns(UserWarning), Image.open(p) as im:
        im.getexif()
    out = read_rgb(p)
    _check_rgb(out, (4, 8))
    assert np.all(out == [0, 1, 0])


def test_gif_first_frame(tmp_path):
    frames = [Image.new("RGB", (10, 6), c) for c in (RED, BLUE, GREEN)]
    p = tmp_path / "anim.gif"
    frames[0].save(p, save_all=True, append_images=frames[1:], duration=50, loop=0)
    with Image.open(p) as im:
        assert im.n_frames == 3
    out = read_rgb(p)
    _check_rgb(out, (6, 10))
    np.testing.assert_array_equal(out.reshape(-1, 3).mean(0), [1, 0, 0])


def test_first_page_of_a_multipage_tiff(tmp_path):
    pages = [Image.new("RGB", (5, 5), c) for c in (BLUE, RED)]
    p = tmp_path / "pages.tif"
    pages[0].save(p, save_all=True, append_images=pages[1:])
    np.testing.assert_array_equal(read_rgb(p)[2, 2], [0, 0, 1])


# ---------------------------------------------------------------------------------------
# Bytes (clipboard) and arrays (QImage)
# ---------------------------------------------------------------------------------------


def test_bytes_decode_like_the_file(tmp_path):
    p = _save(tmp_path, Image.fromarray(_noise(12, 7)), "x.png")
    data = p.read_bytes()
    expected = read_rgb(p)
    for buf in (data, bytearray(data), memoryview(data)):
        np.testing.assert_array_equal(read_rgb_bytes(buf), expected)


@pytest.mark.parametrize("data", [b"", b"plain text, not a picture\n", _png(4, 4)[:30]])
def test_bad_bytes_name_their_source(data):
    with pytest.raises(InputError, match="pasted image") as err:
        read_rgb_bytes(data, name="pasted image")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("array", "expected"),
    [
        (np.array([[0, 255]], np.uint8), [[0, 0, 0], [1, 1, 1]]),
        (np.array([[[0], [255]]], np.uint8), [[0, 0, 0], [1, 1, 1]]),
        (np.array([[0, 65535]], np.uint16), [[0, 0, 0], [1, 1, 1]]),
        (np.array([[True, False]]), [[1, 1, 1], [0, 0, 0]]),
        (np.array([[[255, 0, 0], [0, 0, 255]]], np.uint8), [[1, 0, 0], [0, 0, 1]]),
        (np.array([[[65535, 0, 0, 65535], [0, 0, 0, 0]]], np.uint16), [[1, 0, 0], [1, 1, 1]]),
        (np.array([[[0.5, 2.0, -1.0], [np.nan, np.inf, 0.25]]], np.float64), [[0.5, 1, 0], [0, 0, 0.25]]),
        (np.array([[[0.0, 0.0, 0.0, 0.5]]], np.float32), [[0.5, 0.5, 0.5]]),
        (np.array([[0.0, 1.0]], np.float16), [[0, 0, 0], [1, 1, 1]]),
    ],
)
def test_as_rgb(array, expected):
    out = as_rgb(array)
    _check_rgb(out, array.shape[:2])
    np.testing.assert_allclose(out[0], expected, atol=1e-6)


def test_as_rgb_accepts_strided_views_and_copies():
    base = _noise(10, 20)
    view = base[::2, ::-1]  # not contiguous
    out = as_rgb(view)
    np.testing.assert_array_equal(out, view / np.float32(255))
    out[:] = 0
    assert base.any()  # the caller's pixels are untouched


@pytest.mark.parametrize(
    "array",
    [
        np.zeros((4, 4, 2), np.uint8),
        np.zeros((4,), np.uint8),
        np.zeros((0, 4, 3), np.uint8),
        np.zeros((4, 4), np.int32),
    ],
)
def test_as_rgb_rejects_what_it_cannot_read(array):
    with pytest.raises(InputError):
        as_rgb(array)


# ---------------------------------------------------------------------------------------
# Bad files: one line naming the file, never a traceback or a warning
# ---------------------------------------------------------------------------------------


def _assert_one_line_error(path: os.PathLike[str] | str, *words: str) -> str:
    with pytest.raises(InputError) as err:
        read_rgb(path)
    msg = str(err.value)
    assert "\n" not in msg
    assert os.fspath(path) in msg
    for w in words:
        assert w in msg.lower()
    return msg


def test_missing_file(tmp_path):
    _assert_one_line_error(tmp_path / "nope.png", "no such file")


def test_directory(tmp_path):
    _assert_one_line_error(tmp_path, "folder")


def test_empty_file(tmp_path):
    p = tmp_path / "empty.png"
    p.write_bytes(b"")
    _assert_one_line_error(p, "empty")


def test_text_file(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("a lecture note, not a picture\n" * 20)
    _assert_one_line_error(p, "not an image", "png")


def test_random_bytes_with_a_png_name(tmp_path):
    p = tmp_path / "noise.png"
    p.write_bytes(np.random.default_rng(1).bytes(4000))
    _assert_one_line_error(p, "not an image")


@pytest.mark.parametrize(("fmt", "ext"), [("PNG", "png"), ("JPEG", "jpg"), ("BMP", "bmp"), ("GIF", "gif")])
def test_truncated_file(tmp_path, fmt, ext):
    buf = io.BytesIO()
    Image.fromarray(_noise(64, 64)).save(buf, format=fmt)
    p = tmp_path / f"cut.{ext}"
    p.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    _assert_one_line_error(p, "truncated")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path):
    p = _save(tmp_path, Image.new("RGB", (4, 4)), "locked.png")
    p.chmod(0)
    try:
        _assert_one_line_error(p, "permission")
    finally:
        p.chmod(0o644)


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (8193, 8192),  # just over our limit, well under Pillow's
        (10000, 10000),  # over Pillow's warning threshold (89 MP)
        (20000, 20000),  # over Pillow's error threshold (179 MP)
        (1, MAX_PIXELS + 1),
    ],
)
def test_too_many_pixels_is_refused_from_the_header(tmp_path, width, height):
    # The header claims a huge picture over 60-odd bytes of data: refused before any decoding
    # (decoding first would allocate gigabytes or report a truncated file instead).
    p = tmp_path / "bomb.png"
    p.write_bytes(_png(width, height))
    msg = _assert_one_line_error(p, "million pixels", "8192x8192")
    assert "truncated" not in msg


@pytest.mark.parametrize(("width", "height"), [(40, 30), (50, 50)])  # Pillow's warning, then its error
def test_pillows_own_bomb_checks_become_input_errors(tmp_path, monkeypatch, width, height):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    p = _save(tmp_path, Image.new("RGB", (width, height)), "small.png")
    _assert_one_line_error(p, "pixels")


def test_the_pixel_limit_itself_is_allowed(tmp_path):
    # 8192x8192 is allowed, so it gets as far as decoding the (missing) pixel data.
    p = tmp_path / "big.png"
    p.write_bytes(_png(8192, 8192, bit_depth=1))
    msg = _assert_one_line_error(p, "corrupt or truncated")
    assert "million pixels" not in msg


# ---------------------------------------------------------------------------------------
# Fuzzing: whatever the bytes, InputError or a valid picture, and no warning
# ---------------------------------------------------------------------------------------


@functools.cache
def _seed_files() -> tuple[bytes, ...]:
    rgb = _noise(6, 5)
    out = []
    for fmt, kw in [("PNG", {}), ("JPEG", {}), ("BMP", {}), ("GIF", {}), ("TIFF", {}), ("WEBP", {"lossless": True})]:
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format=fmt, **kw)
        out.append(buf.getvalue())
    return tuple(out)


def _read_or_input_error(data: bytes) -> None:
    try:
        out = read_rgb_bytes(data, name="fuzz")
    except InputError as err:
        assert "\n" not in str(err) and "fuzz" in str(err)
    else:
        assert out.dtype == np.float32 and out.ndim == 3 and out.shape[2] == 3
        assert np.isfinite(out).all() and out.min() >= 0 and out.max() <= 1


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=512))
def test_random_bytes_only_raise_input_error(data):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _read_or_input_error(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.integers(0, 5),
    edits=st.lists(st.tuples(st.integers(0, 2**16), st.integers(0, 255)), max_size=6),
    cut=st.none() | st.integers(0, 2**16),
)
def test_damaged_real_files_only_raise_input_error(which, edits, cut):
    data = bytearray(_seed_files()[which])
    for pos, value in edits:
        data[pos % len(data)] = value
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _read_or_input_error(bytes(data))


# ---------------------------------------------------------------------------------------
# Fitting to a 2^k square
# ---------------------------------------------------------------------------------------


def test_odd_size_is_centre_cropped_then_enlarged(tmp_path):
    rgb = np.zeros((242, 322, 3), np.uint8)
    rgb[:] = GREEN
    rgb[:, :40] = RED  # outside the centre square
    rgb[:, 282:] = BLUE  # outside the centre square
    out, info = load_image(_save(tmp_path, Image.fromarray(rgb), "odd.png"), size=256)
    _check_rgb(out, (256, 256))
    assert info.original == (322, 242)
    assert info.crop == (40, 0, 282, 242)
    assert info.describe() == "322x242, centre-cropped to 242x242, resized to 256x256"
    np.testing.assert_allclose(out, np.broadcast_to([0, 1, 0], out.shape), atol=1e-5)


@pytest.mark.parametrize(("w", "h"), [(1, 5000), (5000, 1)])
def test_extreme_aspect_ratio_becomes_its_centre_pixel(tmp_path, w, h):
    # A 1-pixel-wide strip is accepted: its centre pixel is the square, enlarged to a flat
    # picture (the fit never stretches one axis more than the other).
    n = max(w, h)
    ramp = (np.arange(n) * 255 // (n - 1)).astype(np.uint8)
    gray = ramp.reshape(h, w)
    out, info = load_image(_save(tmp_path, Image.fromarray(gray), "strip.png"), size=64)
    _check_rgb(out, (64, 64))
    centre = ramp[(n - 1) // 2] / 255
    np.testing.assert_allclose(out, centre, atol=1e-5)
    assert info.crop[2] - info.crop[0] == 1 and info.crop[3] - info.crop[1] == 1
    assert "centre-cropped to 1x1" in info.describe()


@pytest.mark.parametrize("size", [32, 2048])
def test_size_range_ends(tmp_path, size):
    out, info = load_image(_save(tmp_path, Image.fromarray(_noise(100, 80)), "n.png"), size=size)
    _check_rgb(out, (size, size))
    assert info.size == size


@pytest.mark.parametrize("size", [0, 16, 100, 4096])
def test_bad_size_is_refused_before_decoding(tmp_path, size):
    p = tmp_path / "broken.png"
    p.write_bytes(b"not a picture")
    with pytest.raises(InputError, match="power of two"):
        load_image(p, size=size)


def test_shrinking_keeps_the_picture(tmp_path):
    # Left half black, right half white: after a 4x shrink the halves stay apart.
    rgb = np.zeros((512, 512, 3), np.uint8)
    rgb[:, 256:] = 255
    out, _ = load_image(_save(tmp_path, Image.fromarray(rgb), "h.png"), size=128)
    assert out[:, :60].max() < 0.01 and out[:, 68:].min() > 0.99


def test_fit_to_size_unchanged_for_uint8_frames():
    frame = _noise(64, 64)
    out, info = fit_to_size(frame, 64)
    np.testing.assert_array_equal(out, frame / np.float32(255))
    assert info.describe() == "64x64"


# ---------------------------------------------------------------------------------------
# The bundled sample
# ---------------------------------------------------------------------------------------


def test_bundled_sample_loads():
    out, info = load_image(SAMPLE_IMAGE, 256)
    _check_rgb(out, (256, 256))
    assert info.original == (451, 300)
    assert out.std() > 0.05
    assert out.reshape(-1, 3).std(0).min() > 0.05  # every channel carries a picture


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_an_exact_halving_is_the_pyramids_own_2x2_average(dtype):
    import torch

    from cnnviz.core.pyramid import image_pyramid

    rng = np.random.default_rng(5)
    big = rng.random((128, 140, 3))  # centre-cropped to 128x128 first
    src = (big * 255).astype(np.uint8) if dtype == np.uint8 else big.astype(np.float32)
    small, info = fit_to_size(src, 64)
    crop = src[:, 6:134].astype(np.float32) / (255 if dtype == np.uint8 else 1)
    level1 = image_pyramid(torch.from_numpy(crop).permute(2, 0, 1)[None])[1][0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(small, level1, atol=1e-6)
    assert info.crop == (6, 0, 134, 128)


@pytest.mark.parametrize("factor", [2, 3, 5, 16])
def test_an_integer_shrink_of_8_bit_pixels_is_the_exact_block_mean(factor):
    """A 512^2 video frame fitted to 256 is its pyramid level I_1: the mean of each block, the
    same floats from uint8 pixels as from the same pixels already in [0, 1]."""
    n = 32
    rng = np.random.default_rng(factor)
    rgb = rng.integers(0, 256, (n * factor, n * factor, 3), dtype=np.uint8)
    rgb[:factor, :factor] = 255  # a block of full-scale pixels: the largest sum
    got, _ = fit_to_size(rgb, n)
    want = rgb.astype(np.float64).reshape(n, factor, n, factor, 3).mean(axis=(1, 3)) / 255
    assert got.dtype == np.float32 and got.shape == (n, n, 3)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-7)
    assert got[0, 0].tolist() == [1.0, 1.0, 1.0]
    from_float, _ = fit_to_size(rgb.astype(np.float32) / np.float32(255), n)
    np.testing.assert_allclose(got, from_float, rtol=0, atol=3e-7)  # that one rounds each pixel first
