"""How far a computation is, as a fraction of Problem 1's multiply count (no Qt).

The network's layers call a :class:`Tracker` with the multiplies they have just done (after each
scale, and after each row strip of a large convolution: :mod:`cnnviz.core.strips`), forward and
backward; the tracker turns them into a fraction of the run's total and hands it to the
front end's ``report(fraction)``, at most once per ``step`` of progress.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from .cost import conv_multiplies, scale_net_costs

Report = Callable[[float], None]


class Tracker:
    """``tracker(multiplies)`` adds work done; ``report(fraction)`` hears of it, fraction in [0, 1]."""

    def __init__(self, total: int, report: Report, step: float = 0.01) -> None:
        self.total, self.report, self.step = max(1, int(total)), report, step
        self.done = 0
        self._said = 0.0
        # work below this many multiplies cannot move the fraction by a step on its own: the
        # network reports such convolutions' backward passes together (ScaleSharedNet.level)
        self.fine = int(self.total * step)

    def __call__(self, multiplies: int) -> None:
        self.done += int(multiplies)
        fraction = min(1.0, self.done / self.total)
        if fraction - self._said >= self.step or (fraction >= 1.0 > self._said):
            self._said = fraction
            self.report(fraction)


@functools.lru_cache(maxsize=32)
def pyramid_total(k: int, depth: int, channels: int, kernel: int, grad_from_level: int = 1) -> int:
    """Multiplies of the scale-shared network's forward pass plus the input-gradient backward pass
    through the levels above ``grad_from_level`` (each costs what its forward did)."""
    rows = scale_net_costs(k, depth, channels, kernel)
    return sum(r.multiplies for r in rows) + sum(r.multiplies for r in rows if r.level > grad_from_level)


def residual_total(n: int, channels: int, kernel: int, depth: int) -> int:
    """The residual stack on ``n x n``: ``depth`` convolutions forward and as many backward."""
    return 2 * depth * conv_multiplies(1, n, n, kernel, kernel, channels, channels)
