"""Numbers written for people: in the window, the lecture decks and the command line's tables.

Qt-free, so the window (gui/theme.py), the decks (deck.py) and the text reports (report.py,
cli_video.py) write a number the same way.
"""

from __future__ import annotations

import math


def human(x: float, digits: int = 3, plain_below: float = 1e4) -> str:
    """A number for a person: plain from 1e-3 up to ``plain_below``, scientific outside
    (``2.1e-05``, ``1.2e7``), ``0``, ``∞``, ``−∞`` and ``NaN`` as they are."""
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < plain_below:
        return f"{x:.{digits}g}"
    return f"{x:.{max(digits - 1, 1)}e}".replace("e-0", "e-").replace("e+0", "e").replace("e+", "e")


def cell(x: float | None, width: int = 10) -> str:
    """A table cell for a number, right-aligned in ``width`` characters: 4 significant digits,
    ``-`` for a missing value or NaN, ``inf`` / ``-inf`` (plain ASCII: tables are piped and grepped)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-".rjust(width)
    if isinstance(x, float) and math.isinf(x):
        return ("inf" if x > 0 else "-inf").rjust(width)
    return f"{x:.4g}".rjust(width)
