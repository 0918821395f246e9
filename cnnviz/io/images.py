"""Images in, RGB float [0, 1] out, fitted to a 2^k square.

The documented default fit: centre-crop to the largest square, then resize (Pillow's
Lanczos with antialiasing when shrinking, bicubic when enlarging) to ``size``. The same
function fits video frames, so an image and a video frame of the same picture agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..errors import InputError
from ..settings import SIZE_MAX, SIZE_MIN, is_power_of_two


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


def fit_to_size(rgb: np.ndarray, size: int) -> tuple[np.ndarray, FitInfo]:
    """Centre-crop ``rgb`` to a square and resize it to ``size``.

    rgb: float32 ``[H, W, 3]`` in [0, 1] (uint8 ``[H, W, 3]`` is accepted too).
    Returns float32 ``[size, size, 3]`` in [0, 1], C-contiguous, and a :class:`FitInfo`.
    """
    if not (is_power_of_two(size) and SIZE_MIN <= size <= SIZE_MAX):
        raise InputError(f"size must be a power of two from {SIZE_MIN} to {SIZE_MAX}, not {size}")
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise InputError(f"expected an RGB picture [H, W, 3], got shape {tuple(rgb.shape)}")
    h, w = rgb.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = rgb[top : top + side, left : left + side]
    info = FitInfo(original=(w, h), crop=(left, top, left + side, top + side), size=size)
    if side == size:
        out = np.asarray(crop, dtype=np.float32)
        if rgb.dtype == np.uint8:
            out = out / np.float32(255)
        return np.ascontiguousarray(out), info
    # Resize each channel as a float image ("F" mode) so 16-bit and float sources keep
    # their precision; Pillow's resize antialiases when shrinking.
    src = crop.astype(np.float32) / (255.0 if rgb.dtype == np.uint8 else 1.0)
    resample = Image.Resampling.LANCZOS if side > size else Image.Resampling.BICUBIC
    planes = [
        np.asarray(Image.fromarray(np.ascontiguousarray(src[..., c]), mode="F").resize((size, size), resample))
        for c in range(3)
    ]
    out = np.clip(np.stack(planes, axis=-1), 0.0, 1.0).astype(np.float32)
    return np.ascontiguousarray(out), info
