"""The window's name for :mod:`cnnviz.maps` (Qt-free, shared with the exports)."""

from ..maps import (
    GAP,
    MIN_TILE,
    ZERO_LOG,
    MapImage,
    grid_keys,
    levels_by_key,
    levels_for,
    log_image,
    map_image,
    map_images,
    pyramid_rgb,
    same_arrays,
)

__all__ = [
    "GAP",
    "MIN_TILE",
    "ZERO_LOG",
    "MapImage",
    "grid_keys",
    "levels_by_key",
    "levels_for",
    "log_image",
    "map_image",
    "map_images",
    "pyramid_rgb",
    "same_arrays",
]
