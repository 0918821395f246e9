"""Fixtures for the export tests: small, fast results of every mode and a stamped scene."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from cnnviz.core.engine import run
from cnnviz.core.result import PyramidResult
from cnnviz.scene import Scene, SourceRef, pixel_hash
from cnnviz.settings import Settings
from cnnviz.view_state import ViewState

SMALL = Settings(size=64, depth=3, channels=4)


@pytest.fixture(scope="session")
def frame() -> np.ndarray:
    """A 64x64 RGB test picture with structure at every scale: float32 [64, 64, 3] in [0, 1]."""
    y, x = np.mgrid[0:64, 0:64] / 63.0
    rgb = np.stack([x, y, 0.5 + 0.5 * np.sin(12 * x * y)], axis=-1)
    return np.ascontiguousarray(rgb, dtype=np.float32)


@pytest.fixture(scope="session")
def scene(frame) -> Scene:
    return Scene(
        settings=SMALL,
        view=ViewState(colormap="cividis", selected=(2, 1)),
        source=SourceRef(name="grad.png", pixels=pixel_hash(frame)),
    )


@pytest.fixture(scope="session")
def clip(frame) -> np.ndarray:
    """4 frames of the test picture sliding right by 2 pixels a frame: float32 [4, 64, 64, 3]."""
    return np.ascontiguousarray(np.stack([np.roll(frame, 2 * t, axis=1) for t in range(4)]))


@pytest.fixture(scope="session")
def results(frame, clip) -> dict:
    """One Result per export mode for the small settings (the video network with its full maps)."""
    from cnnviz.core.video_engine import ClipInput, run_video

    out = {m: run(SMALL.replace(mode=m), frame, source="grad.png") for m in ("pyramid", "init", "cost")}
    video = SMALL.replace(mode="video-net", video_window=4)
    out["video-net"] = run_video(video, ClipInput(clip, (3, 4, 5, 6)), source="clip.mp4", full_maps=True)
    return out


@dataclasses.dataclass(frozen=True)
class FullPyramid(PyramidResult):
    """A PyramidResult with the export profile's full-resolution maps (float32 [J, H, W] per (l, s))."""

    maps_full: dict = dataclasses.field(default_factory=dict)
    grads_full: dict = dataclasses.field(default_factory=dict)


@pytest.fixture(scope="session")
def full_result(results):
    """The pyramid Result with hand-made full-resolution maps and gradients of every layer."""
    res = results["pyramid"]
    p = res.pyramid
    rng = np.random.default_rng(0)
    maps, grads = {}, {}
    for st in p.layers:
        _, c, h, w = st.shape
        maps[st.level, st.scale] = rng.standard_normal((c, h, w)).astype(np.float32)
        if st.level >= 1:
            grads[st.level, st.scale] = rng.standard_normal((c, h, w)).astype(np.float32)
    names = {f.name for f in dataclasses.fields(PyramidResult)}
    if "maps_full" in names:  # the engine's export profile has these fields
        return dataclasses.replace(res, pyramid=dataclasses.replace(p, maps_full=maps, grads_full=grads))
    fields = {name: getattr(p, name) for name in names}
    return dataclasses.replace(res, pyramid=FullPyramid(**fields, maps_full=maps, grads_full=grads))
