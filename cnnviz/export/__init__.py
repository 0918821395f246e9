"""Exports: every figure of a mode and its numbers, stamped with the scene that made them.

- :mod:`~cnnviz.export.naming`: what each mode exports (:data:`FIGURES`) and the files' names
  (:func:`stem`, :func:`file_name`), deterministic from the settings.
- :mod:`~cnnviz.export.figures`: the window's plots drawn with matplotlib (PNG, SVG, PDF).
- :mod:`~cnnviz.export.data`: CSV, JSON and NPZ of a Result.
- :mod:`~cnnviz.export.stamp`: the stamp in each file and :func:`scene_from_file`.
- :mod:`~cnnviz.export.batch`: planning and writing many files (``cnnviz export``, the dialog).

No Qt anywhere here, and matplotlib is imported only when a figure is drawn.
"""

from .naming import DATA_FORMATS, EXPORT_MODES, FIGURE_FORMATS, FIGURES, FORMATS, file_name, stem
from .stamp import scene_from_file

__all__ = [
    "DATA_FORMATS",
    "EXPORT_MODES",
    "FIGURES",
    "FIGURE_FORMATS",
    "FORMATS",
    "file_name",
    "scene_from_file",
    "stem",
]
