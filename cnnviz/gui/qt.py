"""One place that imports pyqtgraph, after pinning its Qt binding and options.

Every gui module imports ``pg`` from here, so pyqtgraph never picks another binding and the
fast image path (row-major arrays, no OpenGL) is configured before the first item exists.
"""

from __future__ import annotations

import os

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import pyqtgraph as pg  # noqa: E402

pg.setConfigOptions(imageAxisOrder="row-major", useOpenGL=False, antialias=True,
                    background="w", foreground="#202020")

__all__ = ["pg"]
