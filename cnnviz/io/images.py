"""Images in, RGB float [0, 1] out, fitted to a 2^k square.

Reading (:func:`read_rgb`, :func:`read_rgb_bytes`, :func:`as_rgb`) turns any supported
picture into float32 ``[H, W, 3]`` in [0, 1]:

- Formats: PNG, JPEG (also camera MPO files), BMP, TIFF, WebP, GIF (first frame only) and
  AVIF where Pillow has it. Other formats Pillow knows (EPS, PSD, ...) are refused on
  purpose: fewer decoders see untrusted files, and EPS would start Ghostscript.
- Modes: bilevel and grayscale become three equal channels; palette, CMYK and YCbCr are
  converted by Pillow; 16-bit grayscale (PNG and TIFF ``I;16``) keeps its full range and
  precision, 65535 -> 1.0. 16-bit RGB files keep their range but Pillow decodes them to
  8 bits per channel. 32-bit integer files are read as 16-bit values (/65535) when they
  fit in 0..65535, otherwise stretched from their minimum to their maximum. Float files
  (TIFF ``F``) are taken as they are when their values lie in [0, 1], otherwise stretched
  from minimum to maximum; NaN and infinities become 0.
- Transparency is composited on **white** (not dropped): a transparent pixel's stored
  colour is often meaningless (black in many logos), and white is what a viewer shows.
- EXIF orientation is applied, so a phone photo comes out the way it is displayed.
- Embedded ICC profiles are ignored: values are taken as sRGB.

Every failure a user can cause (missing, unreadable, empty, corrupt, truncated or
non-image file, a directory, a picture over :data:`MAX_PIXELS`) raises
:class:`~cnnviz.errors.InputError` with one line naming the file. The pixel count is
checked from the header, before any pixel is decoded, so a decompression bomb costs nothing;
Pillow's own ``DecompressionBombWarning``/``Error`` become the same error. Pillow's other
warnings (odd EXIF, palette transparency, ...) are swallowed, never shown.

Fitting (:func:`fit_to_size`, :func:`load_image`): centre-crop to the largest square, then
resize to ``size``: an exact integer reduction is a box average (the pyramid's own 2x2 mean),
other shrinking uses Pillow's Lanczos with antialiasing, enlarging uses bicubic. The same function fits video frames, so an image and a video frame of the same
picture agree. An extreme aspect ratio is accepted: a 1x5000 picture is cropped to its
centre 1x1 pixel and enlarged to a flat ``size x size`` square, and :meth:`FitInfo.describe`
says so.
"""

from __future__ import annotations

import functools
import io
import os
import re
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
from PIL import Image, ImageOps

from ..core.frozen import freeze
from ..errors import InputError
from ..settings import SIZE_MAX, SIZE_MIN, is_power_of_two

# 8192 x 8192 = 2^26, "64 megapixels" in binary units: a full-resolution camera photo fits
# with room to spare, while the float copy of the largest allowed picture (768 MiB) still
# fits in a laptop's memory.
MAX_PIXELS = 8192 * 8192

# Pillow format names we decode, in the order shown to a user. "JPEG" also opens camera
# MPO files; "DIB" is a BMP without its file header.
_WANTED_FORMATS = ("PNG", "JPEG", "BMP", "DIB", "TIFF", "WEBP", "GIF", "AVIF")
_FORMAT_LABELS = {"WEBP": "WebP"}

# What a decoder may raise on a damaged file is open-ended (OSError, SyntaxError,
# struct.error, EOFError, ValueError, IndexError, ZeroDivisionError, ...); MemoryError is
# what an absurd size field inside an otherwise small file looks like.
_DECODE_ERRORS = (Exception,)


@functools.cache
def supported_formats() -> tuple[str, ...]:
    """The Pillow format names :func:`read_rgb` accepts on this installation."""
    Image.init()
    return tuple(f for f in _WANTED_FORMATS if f in Image.OPEN)


def supported_formats_text() -> str:
    """The accepted formats in words, e.g. ``"PNG, JPEG, BMP, TIFF, WebP, GIF"``."""
    hidden = {"DIB"}  # a variant of BMP, not a separate choice for a user
    return ", ".join(_FORMAT_LABELS.get(f, f) for f in supported_formats() if f not in hidden)


def supported_extensions() -> tuple[str, ...]:
    """File name extensions (``".png"``, ...) of the accepted formats, for file dialogs."""
    fmts = set(supported_formats())
    return tuple(sorted(ext for ext, fmt in Image.registered_extensions().items() if fmt in fmts))


# ---------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------


def read_rgb(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an image file as RGB.

    Returns float32 ``[H, W, 3]`` in [0, 1], C-contiguous, H and W as displayed (after
    EXIF rotation). Raises :class:`InputError` (one line naming the file) for anything a
    user can get wrong; see the module docstring for formats and modes.
    """
    label = _label(path)
    try:
        p = Path(path)
        st = p.stat()
    except FileNotFoundError:
        raise InputError(f"{label}: no such file") from None
    except PermissionError:
        raise InputError(f"{label}: permission denied") from None
    except (OSError, ValueError) as exc:  # e.g. a name too long, a NUL byte in the name
        raise InputError(f"{label}: cannot open ({_one_line(exc)})") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{label}: is a folder, not an image file")
    if not stat.S_ISREG(st.st_mode):
        # A FIFO or a device would block or never end; no picture lives there.
        raise InputError(f"{label}: not a regular file")
    if st.st_size == 0:
        raise InputError(f"{label}: the file is empty")
    try:
        fh = open(p, "rb")  # noqa: SIM115 - closed below; Pillow must not own the handle
    except PermissionError:
        raise InputError(f"{label}: permission denied (cannot read the file)") from None
    except OSError as exc:
        raise InputError(f"{label}: cannot open ({_one_line(exc)})") from None
    with fh:
        return _decode(fh, label)


def read_rgb_bytes(data: bytes | bytearray | memoryview, name: str = "clipboard") -> np.ndarray:
    """Decode an encoded image (the bytes of a PNG, JPEG, ... file) as RGB.

    ``name`` says where the bytes came from; it is the label in error messages.
    Returns float32 ``[H, W, 3]`` in [0, 1], C-contiguous; raises :class:`InputError`.
    """
    label = _label(name)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InputError(f"{label}: expected encoded image bytes, got {type(data).__name__}")
    if len(data) == 0:
        raise InputError(f"{label}: no image data (0 bytes)")
    return _decode(io.BytesIO(bytes(data)), label)


def as_rgb(array: np.ndarray, name: str = "image") -> np.ndarray:
    """Turn a decoded pixel array into RGB.

    array: ``[H, W]``, ``[H, W, 1]`` (gray), ``[H, W, 3]`` (RGB) or ``[H, W, 4]`` (RGBA,
    straight, not premultiplied alpha), of dtype bool, uint8 (/255), uint16 (/65535) or
    float (taken as [0, 1] and clipped; NaN and infinities become 0). Alpha is composited
    on white. Channels must be last and in R, G, B(, A) order.
    Returns a new float32 ``[H, W, 3]`` in [0, 1], C-contiguous; raises :class:`InputError`.
    """
    label = _label(name)
    a = np.asarray(array)
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4):
        raise InputError(f"{label}: expected pixels [H, W], [H, W, 1], [H, W, 3] or [H, W, 4], got shape {a.shape}")
    h, w = a.shape[:2]
    if h < 1 or w < 1:
        raise InputError(f"{label}: the picture is empty ({w}x{h} pixels)")
    _check_pixels(w, h, label)
    if a.dtype == np.bool_:
        f = a.astype(np.float32)
    elif a.dtype == np.uint8 or a.dtype == np.uint16:
        f = a.astype(np.float32)
        np.divide(f, np.float32(np.iinfo(a.dtype).max), out=f)
    elif np.issubdtype(a.dtype, np.floating):
        f = a.astype(np.float32)
        np.nan_to_num(f, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
        np.clip(f, 0.0, 1.0, out=f)
    else:
        raise InputError(f"{label}: pixels of type {a.dtype} are not supported (use uint8, uint16 or float)")
    return _to_rgb(f)


def load_image(path: str | os.PathLike[str], size: int = 256) -> tuple[np.ndarray, FitInfo]:
    """Read an image file and fit it to ``size``: :func:`read_rgb` then :func:`fit_to_size`.

    Returns float32 ``[size, size, 3]`` in [0, 1] and a :class:`FitInfo`.
    """
    _check_size(size)  # before decoding, so a bad size never costs a decode
    return fit_to_size(read_rgb(path), size)


def _label(path: object) -> str:
    return repr(os.fspath(path)) if isinstance(path, (str, os.PathLike)) else repr(path)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


_LIMIT_TEXT = f"the limit of 8192x8192 = {MAX_PIXELS / 1e6:.1f} million pixels"


def _check_pixels(w: int, h: int, label: str) -> None:
    if w * h > MAX_PIXELS:
        raise InputError(f"{label}: {w}x{h} is {w * h / 1e6:.1f} million pixels, over {_LIMIT_TEXT}")


def _decode(fp: IO[bytes], label: str) -> np.ndarray:
    """Open, check the header's size, decode the first frame; float32 ``[H, W, 3]``."""
    # Pillow's warnings are recorded, never shown. Warnings filters are process-wide, so
    # another thread's warnings are also caught while a picture decodes (milliseconds).
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            im = Image.open(fp, formats=supported_formats())
        except Image.UnidentifiedImageError:
            raise InputError(f"{label}: not an image file in a supported format ({supported_formats_text()})") from None
        except Image.DecompressionBombError as exc:
            found = re.search(r"\((\d+) pixels\)", str(exc))
            size = f"{int(found[1]):,} pixels" if found else "too many pixels"
            raise InputError(f"{label}: the header says {size}, over {_LIMIT_TEXT}") from None
        except _DECODE_ERRORS as exc:
            raise InputError(f"{label}: cannot read the image header ({_one_line(exc)})") from exc
        with im:
            w, h = im.size
            if w < 1 or h < 1:
                raise InputError(f"{label}: the picture is empty ({w}x{h} pixels)")
            _check_pixels(w, h, label)
            # Only reachable if someone lowered Image.MAX_IMAGE_PIXELS below our limit.
            if any(issubclass(c.category, Image.DecompressionBombWarning) for c in caught):
                raise InputError(
                    f"{label}: {w}x{h} pixels is over Pillow's decompression-bomb limit "
                    f"({Image.MAX_IMAGE_PIXELS:,} pixels)"
                )
            try:
                im.seek(0)  # the first frame of an animation or a multi-page TIFF
                im.load()
            except MemoryError:
                raise InputError(f"{label}: not enough memory for a {w}x{h} picture") from None
            except _DECODE_ERRORS as exc:
                raise InputError(f"{label}: the image data is corrupt or truncated ({_one_line(exc)})") from exc
            try:
                # Rotation works on any mode, so it happens before conversion (which may
                # allocate a bigger copy).
                ImageOps.exif_transpose(im, in_place=True)
            except _DECODE_ERRORS:
                pass  # a damaged EXIF block should not cost the picture; show it unrotated
            try:
                return _pixels(im, label)
            except MemoryError:
                raise InputError(f"{label}: not enough memory for a {w}x{h} picture") from None
            except (OSError, ValueError) as exc:  # a damaged palette or colour data
                raise InputError(f"{label}: cannot convert the picture to RGB ({_one_line(exc)})") from exc


def _pixels(im: Image.Image, label: str) -> np.ndarray:
    """A decoded Pillow image as float32 ``[H, W, 3]`` in [0, 1]."""
    mode = im.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        f = np.asarray(im).astype(np.float32)
        np.divide(f, np.float32(65535), out=f)
        return _to_rgb(f[:, :, None])
    if mode == "I":
        a = np.asarray(im)
        if a.min() >= 0 and a.max() <= 65535:
            return _to_rgb((a.astype(np.float32) / np.float32(65535))[:, :, None])
        return _to_rgb(_stretch(a.astype(np.float64))[:, :, None])
    if mode == "F":
        f = np.asarray(im).astype(np.float32)
        finite = np.isfinite(f)
        f[~finite] = 0.0
        if f.min() < 0.0 or f.max() > 1.0:
            f = _stretch(f)
        return _to_rgb(f[:, :, None])
    if mode in ("LA", "RGBA"):
        a = np.asarray(im)
    elif mode == "La":  # premultiplied; Pillow unpremultiplies when converting
        a = np.asarray(im.convert("LA"))
    elif im.has_transparency_data:
        # Palette, gray or RGB with a transparent colour (GIF, PNG tRNS); RGBa, PA.
        a = np.asarray(im.convert("RGBA"))
    elif mode in ("1", "L"):
        a = np.asarray(im.convert("L"))
    elif mode == "RGB":
        a = np.asarray(im)
    else:  # P, CMYK, YCbCr, RGBX, HSV, ...
        try:
            a = np.asarray(im.convert("RGB"))
        except ValueError:
            raise InputError(f"{label}: pictures in Pillow mode {mode!r} are not supported") from None
    f = a.astype(np.float32)
    np.divide(f, np.float32(255), out=f)
    return _to_rgb(f if f.ndim == 3 else f[:, :, None])


def _stretch(a: np.ndarray) -> np.ndarray:
    lo, hi = float(a.min()), float(a.max())
    if hi <= lo:
        return np.zeros(a.shape, np.float32)
    return ((a - lo) / (hi - lo)).astype(np.float32)


def _to_rgb(f: np.ndarray) -> np.ndarray:
    """float32 ``[H, W, 1|2|3|4]`` in [0, 1] (gray, gray+alpha, RGB, RGBA) -> ``[H, W, 3]``."""
    c = f.shape[2]
    if c in (2, 4):  # composite on white: out = colour * alpha + 1 * (1 - alpha)
        alpha = f[:, :, c - 1 : c]
        out = f[:, :, : c - 1] * alpha
        out += np.float32(1) - alpha
        f, c = out, c - 1
    if c == 1:
        f = np.repeat(f, 3, axis=2)
    return np.ascontiguousarray(np.clip(f, 0.0, 1.0, out=f), dtype=np.float32)


# ---------------------------------------------------------------------------------------
# Fitting
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FitInfo:
    """What :func:`fit_to_size` did, in words a user can read."""

    original: tuple[int, int]  # (width, height) as decoded
    crop: tuple[int, int, int, int]  # (left, top, right, bottom) in the original
    size: int

    def describe(self) -> str:
        w, h = self.original
        left, top, right, bottom = self.crop
        cw, ch = right - left, bottom - top
        parts = [f"{w}x{h}"]
        if (cw, ch) != (w, h):
            parts.append(f"centre-cropped to {cw}x{ch}")
        if cw != self.size:
            parts.append(f"resized to {self.size}x{self.size}")
        return ", ".join(parts)


def _check_size(size: int) -> None:
    if not (is_power_of_two(size) and SIZE_MIN <= size <= SIZE_MAX):
        raise InputError(f"size must be a power of two from {SIZE_MIN} to {SIZE_MAX}, not {size}")


def _box_reduce(crop: np.ndarray, f: int, scale: np.float32) -> np.ndarray:
    """Mean of each f x f block of ``crop`` ``[f*n, f*n, 3]`` -> float32 ``[n, n, 3]`` times scale."""
    n = crop.shape[0] // f
    if crop.dtype == np.uint8 and f <= 16:
        # 8-bit pixels (video frames): the block sums are exact in uint16 (at most 16^2 * 255),
        # so this gives the same floats as summing in float32, about 4x faster (a 512^2 frame
        # fitted to 256 per played frame, on the decoder thread).
        rows = crop[0::f].astype(np.uint16)
        for i in range(1, f):
            rows += crop[i::f]
        sums = rows[:, 0::f].copy()
        for j in range(1, f):
            sums += rows[:, j::f]
        out = sums.astype(np.float32)
    elif f > 4:  # few large blocks: one reshaped sum beats f^2 strided adds
        c = crop.astype(np.float32).reshape(n, f, n * f * 3).sum(axis=1)
        out = c.reshape(n, n, f, 3).sum(axis=2)
    else:  # strided adds keep numpy on contiguous inner loops (2x faster at f = 2)
        out = np.zeros((n, n, 3), np.float32)
        for i in range(f):
            rows = crop[i::f].astype(np.float32)
            for j in range(f):
                out += rows[:, j::f]
    out *= np.float32(scale / (f * f))
    return np.ascontiguousarray(out)


def fit_to_size(rgb: np.ndarray, size: int) -> tuple[np.ndarray, FitInfo]:
    """Centre-crop ``rgb`` to a square and resize it to ``size``.

    rgb: float32 ``[H, W, 3]`` in [0, 1] (uint8 ``[H, W, 3]`` is accepted too).
    Returns float32 ``[size, size, 3]`` in [0, 1], C-contiguous, and a :class:`FitInfo`. The
    frame is a new read-only array (never a view of ``rgb``): nothing changes it after it is
    made, so the engine may keep what it computes from it (cnnviz.core.frame_cache).
    """
    out, info = _fit(rgb, size)
    if np.may_share_memory(out, rgb):
        out = np.array(out, dtype=np.float32, order="C")
    return freeze(out), info


def _fit(rgb: np.ndarray, size: int) -> tuple[np.ndarray, FitInfo]:
    _check_size(size)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise InputError(f"expected an RGB picture [H, W, 3], got shape {tuple(rgb.shape)}")
    h, w = rgb.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = rgb[top : top + side, left : left + side]
    info = FitInfo(original=(w, h), crop=(left, top, left + side, top + side), size=size)
    if side == size:
        if rgb.dtype == np.uint8:  # one new array, divided in place (a frame per played frame)
            out = np.array(crop, dtype=np.float32, order="C")
            out /= np.float32(255)
            return out, info
        return np.ascontiguousarray(crop, dtype=np.float32), info
    scale = np.float32(1 / 255) if rgb.dtype == np.uint8 else np.float32(1)
    if side > size and side % size == 0:
        # An exact integer reduction is a box average, the pyramid's own 2x2 mean repeated:
        # a 512^2 video frame fitted to 256 gives exactly that frame's pyramid level I_1.
        return _box_reduce(crop, side // size, scale), info
    resample = Image.Resampling.LANCZOS if side > size else Image.Resampling.BICUBIC
    if rgb.dtype == np.uint8:
        # 8-bit sources (video frames, most photos) resize as one RGB image: ~5x faster than
        # three float planes, and 8 bits in means nothing is lost by staying in 8 bits.
        small = Image.fromarray(np.ascontiguousarray(crop), mode="RGB").resize((size, size), resample)
        out = np.asarray(small, dtype=np.float32) * np.float32(1 / 255)
        return np.ascontiguousarray(out), info
    # Resize each channel as a float image ("F" mode) so 16-bit and float sources keep
    # their precision; Pillow's resize antialiases when shrinking.
    src = crop.astype(np.float32)
    planes = [
        np.asarray(Image.fromarray(np.ascontiguousarray(src[..., c]), mode="F").resize((size, size), resample))
        for c in range(3)
    ]
    out = np.clip(np.stack(planes, axis=-1), 0.0, 1.0).astype(np.float32)
    return np.ascontiguousarray(out), info
