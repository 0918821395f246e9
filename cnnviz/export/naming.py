"""What each mode exports and what the files are called: deterministic names from the settings.

A name is ``<stem>_<figure>.<ext>`` for a figure and ``<stem>.<ext>`` for the data, where the
stem says the mode and the settings that tell two exports apart, e.g. ``pyramid_he_d6_J16_s0``
(mode, init rule or sigma_w^2, depth, channels J, seed), followed only by the settings that
differ from the defaults (``_tanh``, ``_n128``, ``_D5``, ``_unshared``; for the video network
``_st1`` stride, ``_Dt5`` kernel in time, ``_T4`` window, e.g. ``video-net_he_d6_J16_s0_T4``). No timestamps: the
same settings always give the same names. The window's save dialog proposes the same stem.
"""

from __future__ import annotations

from ..errors import ExportError
from ..scene import Scene
from ..settings import Settings

# The figures of each mode, in the order they are written (each one plot of the window).
FIGURES: dict[str, tuple[str, ...]] = {
    "pyramid": ("grid", "variance", "gradient", "zeros", "equivariance", "histogram"),
    "init": ("residual_variance", "residual_gradient", "unit_y", "unit_u"),
    "cost": ("multiplies",),
    "video-net": ("layers", "video_variance", "video_gradient", "video_cost"),
}
CLIP_MODES = ("video-net",)  # modes that need a video clip (Problem 2's network reads T frames)
EXPORT_MODES = tuple(FIGURES)
FIGURE_FORMATS = ("png", "svg", "pdf")
DATA_FORMATS = ("csv", "json", "npz")
FORMATS = FIGURE_FORMATS + DATA_FORMATS

_DEFAULTS = Settings()


def _init_token(value: str | float) -> str:
    """A rule name as it is; a variance sigma_w^2 as ``v`` and 3 digits, '.' written 'p' (``v0p0123``)."""
    if isinstance(value, str):
        return value
    return "v" + f"{float(value):.3g}".replace(".", "p").replace("+", "")


def stem(scene: Scene | Settings, mode: str | None = None) -> str:
    """The common start of every file name of ``mode`` (default: the scene's mode).

    >>> stem(Settings())
    'pyramid_he_d6_J16_s0'
    """
    s = scene.settings if isinstance(scene, Scene) else scene
    mode = mode or s.mode
    if mode not in FIGURES:
        raise ExportError(f"mode must be one of {', '.join(FIGURES)}, not {mode!r}")
    d = _DEFAULTS
    if mode == "init":
        parts = [mode, _init_token(s.residual_init), f"d{s.residual_depth}", f"J{s.channels}", f"s{s.seed}"]
        if s.residual_activation != d.residual_activation:
            parts.append(s.residual_activation)
        if s.residual_input != d.residual_input:
            parts.append(s.residual_input)
        elif s.noise_size != d.noise_size:
            parts.append(f"n{s.noise_size}")
        if s.kernel != d.kernel:
            parts.append(f"D{s.kernel}")
        if s.unit_dim != d.unit_dim:
            parts.append(f"u{s.unit_dim}")
        if s.unit_activation != d.unit_activation:
            parts.append(f"u{s.unit_activation}")
        if s.unit_init != d.unit_init:
            parts.append(f"u{_init_token(s.unit_init)}")
    else:
        parts = [mode, _init_token(s.init), f"d{s.depth}", f"J{s.channels}", f"s{s.seed}"]
        if s.activation != d.activation:
            parts.append(s.activation)
        if s.size != d.size:
            parts.append(f"n{s.size}")
        if s.kernel != d.kernel:
            parts.append(f"D{s.kernel}")
        if mode == "video-net":
            for token, value, default in (
                ("st", s.video_stride, d.video_stride),
                ("Dt", s.video_kernel_t, d.video_kernel_t),
                ("T", s.video_window, d.video_window),
            ):
                if value != default:
                    parts.append(f"{token}{value}")
        elif not s.shared:
            parts.append("unshared")
    return "_".join(parts)


def file_name(scene: Scene | Settings, fmt: str, figure: str | None = None, mode: str | None = None) -> str:
    """``<stem>_<figure>.<fmt>`` for a figure, ``<stem>.<fmt>`` for data (``figure`` None)."""
    if fmt not in FORMATS:
        raise ExportError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    base = stem(scene, mode)
    return f"{base}_{figure}.{fmt}" if figure else f"{base}.{fmt}"
