#!/usr/bin/env python3
"""Write cnnviz/resources/chelsea_zoom.mp4: a smooth factor-2 zoom into cnnviz/resources/chelsea.png.

The zoom is geometric (zoom(t) = 2 ** (t / T), equal time per octave), so every frame is the
first one scaled about one fixed point: a structure of size m at the start has size 2m at
the end and walks from scale s to scale s+1 of the pyramid, the scale-sharing lesson in motion.

Frame i shows the window P + (box0 - P) / z_i (box0 = the centred 300x300 square of the
451x300 picture; P = FIXED_POINT, chosen so the last frame is centred between the eyes),
resampled with Pillow's Lanczos filter at sub-pixel precision (a float crop box, so the zoom
does not jitter). 512x512, 25 fps, 4 s, H.264
(libx264, CRF 18, one encoder thread and a fixed GOP of 25, so the output is reproducible
and any second can be reached from a keyframe), yuv420p, faststart. The picture has 300
pixels across, so 512 upsamples it (1.7x at the start, 3.4x at the end).

Usage: python scripts/make_sample_video.py [--out PATH] [--seconds 4] [--fps 25] [--size 512]
"""

from __future__ import annotations

import argparse
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "cnnviz" / "resources" / "chelsea.png"  # package data (cnnviz.paths)
OUT = ROOT / "cnnviz" / "resources" / "chelsea_zoom.mp4"
FIXED_POINT = (260.0, 120.0)  # (x, y) in chelsea.png: the last frame centres between the eyes
ZOOM = 2.0


def zoom_boxes(
    width: int, height: int, frames: int, fixed: tuple[float, float] = FIXED_POINT
) -> list[tuple[float, float, float, float]]:
    """Crop boxes (left, top, right, bottom) in the source, one per frame, zoom 1 -> ZOOM geometrically."""
    side = min(width, height)
    left0, top0 = (width - side) / 2, (height - side) / 2
    px, py = fixed
    boxes = []
    for i in range(frames):
        z = ZOOM ** (i / (frames - 1)) if frames > 1 else 1.0
        boxes.append(
            (px + (left0 - px) / z, py + (top0 - py) / z, px + (left0 + side - px) / z, py + (top0 + side - py) / z)
        )
    return boxes


def make(out: Path = OUT, seconds: float = 4.0, fps: int = 25, size: int = 512, source: Path = SOURCE) -> Path:
    """Render and encode the clip; returns ``out``."""
    image = Image.open(source).convert("RGB")
    frames = round(seconds * fps)
    out.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(out), mode="w", options={"movflags": "+faststart"}) as container:
        container.metadata["title"] = "chelsea_zoom: geometric factor-2 zoom into chelsea.png"
        container.metadata["comment"] = (
            "made by cnnviz scripts/make_sample_video.py from scikit-image's chelsea.png (CC0)"
        )
        stream = container.add_stream(
            "libx264",
            rate=Fraction(fps),
            options={
                "crf": "18",
                "preset": "medium",
                "g": str(fps),
                "keyint_min": str(fps),
                "threads": "1",
                "bframes": "2",
            },
        )
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        for box in zoom_boxes(image.width, image.height, frames):
            picture = image.resize((size, size), Image.Resampling.LANCZOS, box=box)
            frame = av.VideoFrame.from_ndarray(np.asarray(picture), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(allow_abbrev=False, description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args(argv)
    path = make(args.out, args.seconds, args.fps, args.size)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
