"""Help > "What am I looking at": per mode, the equations being computed and what each curve is.

The equations are typeset with matplotlib's mathtext (rendered to a PNG in memory, no figure),
large enough to read from the back of a hall and scaled with the window's zoom; without
matplotlib they fall back to plain Unicode. The text follows docs/theory.md.
"""

from __future__ import annotations

import functools
import io
from typing import TYPE_CHECKING

from PySide6.QtCore import QUrl
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QDialog, QTextBrowser, QVBoxLayout

from . import theme

if TYPE_CHECKING:
    from .main_window import MainWindow

# (mathtext, the same in Unicode for a machine without matplotlib)
Eq = tuple[str, str]

PYRAMID: tuple[list[Eq], list[tuple[str, str]]] = (
    [
        (
            r"$I_{s+1}[x,y] = \frac{1}{4}\sum_{a,b\in\{0,1\}} I_s[2x+a,\,2y+b], \qquad L_{0,s} = I_s$",
            "I_{s+1}[x,y] = ¼ Σ_{a,b∈{0,1}} I_s[2x+a, 2y+b],   L_{0,s} = I_s",
        ),
        (
            r"$L_{l+1,s} = f\left(W_{\leftarrow} \star L_{l,s+1} + W_{\uparrow} \star_2 L_{l,s} + B\right)$",
            "L_{l+1,s} = f( W← ⋆ L_{l,s+1} + W↑ ⋆₂ L_{l,s} + B )",
        ),
        (
            r"$v_{l+1,s} = \sigma_w^2\, I_l\,\left(T_1\, q_{l,s+1} + T_2\, q_{l,s}\right), \qquad "
            r"q_{l+1,s} = \mathrm{E}_z\left[f(\sqrt{v}\,z)^2\right]$",
            "v_{l+1,s} = σ_w² I_l (T₁ q_{l,s+1} + T₂ q_{l,s}),   q_{l+1,s} = E_z[f(√v z)²]",
        ),
        (
            r"$L'_{l,s} = L_{l,s+1}$  when  $I' = I_1$  (weights shared across scales)",
            "L′_{l,s} = L_{l,s+1} when I′ = I₁ (weights shared across scales)",
        ),
    ],
    [
        (
            "The grid",
            "each cell is one map L<sub>l,s</sub>: column s = scale, row = l + s, so every row "
            "holds maps of one size. ← feeds a cell from the next-coarser scale (stride 1), ↑ from the same "
            "scale one level down (stride 2). The diagonal is the input pyramid I<sub>s</sub>.",
        ),
        (
            "Variance",
            "Var(L<sub>l,s</sub>) measured (solid, one colour per scale s) and the mean-field "
            "theory above (dashed). Flat: the initialisation keeps the signal; falling: it fades; rising: it explodes.",
        ),
        (
            "Gradient RMS",
            "the root mean square of ∂/∂L<sub>l,s</sub> when N(0, 1) noise is injected as the "
            "gradient at every scale of the top level and propagated back. Theory dashed.",
        ),
        (
            "Dead ReLU / Saturated",
            "ReLU: the percentage of exact zeros. tanh: |u| > 0.9, sigmoid: u &lt; 0.1 "
            "or u &gt; 0.9, where the slope is small and gradients fade.",
        ),
        (
            "Equivariance",
            "max |L′<sub>l,s</sub> − L<sub>l,s+1</sub>| / max |L|, where L′ is the same network on "
            "the image shrunk 2× by 2×2 averaging. Shared weights: float rounding only (below the dashed line).",
        ),
        (
            "Histogram",
            "the values of the selected layer (click a cell), on a log count axis; the red line is the mean.",
        ),
        (
            "Colours",
            "per map, per level, global, or global log<sub>10</sub>|value| (key L): the log scale shows "
            "fading and exploding signals in the maps themselves; magenta marks inf/NaN.",
        ),
    ],
)

INIT: tuple[list[Eq], list[tuple[str, str]]] = (
    [
        (r"$L_{l+1} = L_l + f\left(W_{l+1} \star L_l - B_{l+1}\right)$", "L_{l+1} = L_l + f(W_{l+1} ⋆ L_l − B_{l+1})"),
        (
            r"$\sigma_l^2 = (1 + D^2 J \sigma_w^2)^{\,l}\ \mathrm{Var}(L_0), \qquad "
            r"\sigma_{l,\mathrm{grad}}^2 = (1 + D^2 J \sigma_w^2)^{\,L-l}$",
            "σ_l² = (1 + D²Jσ_w²)^l Var(L₀),   σ²_{l,grad} = (1 + D²Jσ_w²)^(L−l)",
        ),
        (
            r"$\sigma_L^2 = 2 \;\Rightarrow\; \sigma_w \approx \sqrt{\ln 2 \,/\, (L D^2 J)}$",
            "σ_L² = 2  ⇒  σ_w ≈ √(ln 2 / (L D² J))",
        ),
        (
            r"$y = \sum_{i=1}^{d} W_i\, x_i, \quad \mathrm{Var}(y) = d\,\sigma_w^2, \quad "
            r"u = f(y), \quad \mathrm{E}[u] = \frac{1}{2}, \quad \mathrm{Var}(u) \leq \frac{1}{4}$",
            "y = Σ_{i≤d} W_i x_i,  Var(y) = d σ_w²,  u = f(y),  E[u] = ½,  Var(u) ≤ ¼ (sigmoid)",
        ),
    ],
    [
        (
            "Residual stack: variance",
            "Var(L<sub>l</sub>) measured (blue dots) and (1 + D²Jσ<sub>w</sub>²)<sup>l</sup> "
            "Var(L<sub>0</sub>) (orange dashes). The ln 2 rule keeps the top at twice the input.",
        ),
        (
            "Residual stack: gradient variance",
            "Var(∂/∂L<sub>l</sub>) with a unit-variance N(0, 1) gradient injected "
            "at the top level L, against (1 + D²Jσ<sub>w</sub>²)<sup>L−l</sup>.",
        ),
        (
            "Single unit",
            "histograms of y and u = f(y) over many draws of x and W; the orange curve is N(0, dσ<sub>w</sub>²), "
            "the orange line E[u] = ½ (sigmoid).",
        ),
        ("Magenta", "levels where the values overflowed to inf/NaN: shaded bands, never drawn as numbers."),
    ],
)

COST: tuple[list[Eq], list[tuple[str, str]]] = (
    [
        (
            r"$\mathrm{multiplies} = B \cdot X \cdot Y \cdot \Delta X \cdot \Delta Y \cdot I \cdot J$",
            "multiplies = B·X·Y·ΔX·ΔY·I·J",
        ),
        (
            r"$\mathrm{cost}(L_{l,s}) = 2 \cdot B\, n^2 D^2 I J, \qquad n = 2^{\,k-l-s}$",
            "cost(L_{l,s}) = 2 · B n² D² I J,   n = 2^(k−l−s)   (← and ↑ branch)",
        ),
    ],
    [
        ("Bars", "multiplies per level l, both branches and all scales together."),
        (
            "Table",
            "each layer's two convolutions by the formula, beside torch's FlopCounterMode ÷ 2 "
            "(it counts a multiply-add as 2 FLOPs): ✓ where they agree.",
        ),
    ],
)

MODES = {
    "pyramid": ("Pyramid · Problem 3", PYRAMID),
    "init": ("Init lab · Problems 4 and 5", INIT),
    "cost": ("Cost · Problem 1", COST),
}


@functools.lru_cache(maxsize=64)
def math_png(tex: str, pixel_size: int) -> bytes | None:
    """``tex`` (mathtext) as PNG bytes with glyphs about ``pixel_size`` pixels tall; None without matplotlib."""
    try:
        from matplotlib import mathtext
        from matplotlib.font_manager import FontProperties
    except ImportError:
        return None
    buf = io.BytesIO()
    # fontsize in points at dpi 72: one point is one pixel
    mathtext.math_to_image(tex, buf, prop=FontProperties(size=pixel_size), dpi=72, format="png")
    return buf.getvalue()


class MathBrowser(QTextBrowser):
    """A text browser whose ``<img src='eq-...'>`` are typeset equations from :attr:`images`."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.images: dict[str, QImage] = {}

    def loadResource(self, kind: int, url: QUrl | str):
        image = self.images.get(url.toString() if isinstance(url, QUrl) else url)
        if image is not None:
            return image
        return super().loadResource(kind, url)


def explanation_html(mode: str, zoom: float, images: dict[str, QImage] | None = None) -> str:
    """The page for ``mode``; equations become images put in ``images`` by name (Unicode without it)."""
    title, (equations, curves) = MODES[mode]
    size = theme.px(zoom, 1.35)
    parts = [f"<h2>{title}: what is computed</h2>"]
    for i, (tex, plain) in enumerate(equations):
        png = math_png(tex, size) if images is not None else None
        if png is not None and images is not None:
            url = f"eq-{mode}-{i}-{size}"
            images[url] = QImage.fromData(png)
            parts.append(f"<p style='margin-left:12px'><img src='{url}'></p>")
        else:
            parts.append(f"<p style='margin-left:12px; font-size:{size}px'>{plain}</p>")
    parts.append("<h2>What each picture shows</h2><table cellspacing='6'>")
    parts += [f"<tr><td valign='top'><b>{name}</b></td><td>{text}</td></tr>" for name, text in curves]
    parts.append("</table><p style='color:#606060'>Keys: F1. The maths in full: docs/theory.md in the project.</p>")
    return "".join(parts)


def show_explanation(window: MainWindow) -> QDialog:
    """Open (or refresh) the dialog for the window's current mode, at its zoom."""
    dialog = getattr(window, "_explanation", None)
    if dialog is None:
        dialog = QDialog(window)
        dialog.setWindowTitle("What am I looking at")
        made = MathBrowser(dialog)
        made.setObjectName("explanation")
        QVBoxLayout(dialog).addWidget(made)
        dialog.resize(980, 720)
        window._explanation = dialog  # type: ignore[attr-defined]
    browser = dialog.findChild(MathBrowser)
    assert browser is not None
    z = window.view.zoom
    dialog.setFont(theme.font(z))
    browser.setFont(theme.font(z))
    browser.images = {}
    browser.setHtml(explanation_html(window.settings.mode, z, browser.images))
    dialog.setWindowTitle(f"What am I looking at — {MODES[window.settings.mode][0]}")
    dialog.show()
    return dialog
