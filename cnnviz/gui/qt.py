"""One place that imports pyqtgraph, after pinning its Qt binding and options.

Every gui module imports ``pg`` from here, so pyqtgraph never picks another binding and the
fast image path (row-major arrays, no OpenGL) is configured before the first item exists.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")


def _none_refcount_leaks() -> bool:
    """True when calling a void Qt method takes a reference from None (PySide6 6.12.0)."""
    from PySide6.QtCore import QPoint

    point = QPoint()
    before = sys.getrefcount(None)
    for i in range(16):
        point.setX(i)
    return sys.getrefcount(None) <= before - 16


def keep_none_alive() -> bool:
    """Work around PySide6 6.12.0 returning None from void methods without a new reference.

    Each such call (QPainter.setPen, QLabel.setText, ...) takes one reference from None, and
    some paths through Python overrides of virtual methods take them from True; on CPython
    < 3.12, where these singletons are reference counted (3.12 made them immortal), the window
    then aborts with "none_dealloc" / "bool_dealloc" after some thousands of calls - a few
    dozen redraws. When the leak is detected, None, True and False get 2^40 extra references
    each, more than any session can use up.
    PySide6 6.11 does not leak; the real fix is a PySide6 without the bug or Python >= 3.12.
    Returns True when the workaround was applied.
    """
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False
    if hasattr(sys, "gettotalrefcount"):  # a debug build lays PyObject out differently
        return False
    if not _none_refcount_leaks():
        return False
    import ctypes

    for singleton in (None, True, False):
        ctypes.c_ssize_t.from_address(id(singleton)).value += 1 << 40  # ob_refcnt: PyObject's first field
    return True


NONE_WORKAROUND = keep_none_alive()

import pyqtgraph as pg  # noqa: E402

pg.setConfigOptions(imageAxisOrder="row-major", useOpenGL=False, antialias=True, background="w", foreground="#202020")

__all__ = ["NONE_WORKAROUND", "pg"]
