"""cnnviz: see inside a scale-shared convolutional network.

The computational core (:mod:`cnnviz.core`) is pure torch + numpy and never imports Qt;
the window (:mod:`cnnviz.gui`), the CLI (:mod:`cnnviz.cli`) and the exports all drive the
same path ``Settings -> core.engine.run -> Result``.
"""

__version__ = "0.1.0"
