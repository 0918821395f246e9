"""What importing the core costs: torch only where it is needed, never Qt nor cnnviz.io."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **env},
    )


NO_TORCH = "import sys; bad = 'torch' in sys.modules; sys.exit('torch imported' if bad else 0)"


@pytest.mark.parametrize("module", ["cnnviz.core", "cnnviz.core.result", "cnnviz.core.device", "cnnviz.core.theory"])
def test_torch_free_core_modules_do_not_import_torch(module):
    proc = _python(f"import {module}; {NO_TORCH}")
    assert proc.returncode == 0, proc.stderr + proc.stdout


def test_importing_the_window_leaves_torch_to_the_worker_thread():
    proc = _python(f"import cnnviz.gui.main_window, cnnviz.gui.worker; {NO_TORCH}")
    assert proc.returncode == 0, proc.stderr + proc.stdout


def test_a_notebook_users_import_works():
    proc = _python(
        "from cnnviz.core import image_pyramid, ScaleSharedNet, ResidualStack, VideoNet, run\n"
        "import numpy as np\n"
        "from cnnviz.settings import Settings\n"
        "r = run(Settings(size=32, depth=2, channels=2), np.zeros((32, 32, 3), np.float32), profile='stats')\n"
        "assert len(r.pyramid.layers) == 6 + 5 + 4 and callable(image_pyramid)\n"
        "import cnnviz.core as core\n"
        "assert {'run', 'ScaleSharedNet'} <= set(dir(core))\n"
        "try:\n    core.nothing_here\nexcept AttributeError:\n    pass\nelse:\n    raise SystemExit('no error')\n"
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout


def test_core_imports_neither_qt_nor_io():
    bad = []
    for path in sorted((ROOT / "cnnviz" / "core").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [("." * node.level) + (node.module or "")]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                if name.startswith(("..io", "cnnviz.io", "PySide6", "pyqtgraph", "..gui", "cnnviz.gui")):
                    bad.append(f"{path.name}: {name}")
    assert not bad


def test_thread_requests_are_clamped_to_the_cores_there_are():
    from cnnviz.core.device import available_cores, torch_threads

    cores = available_cores()
    assert torch_threads(100000) == cores
    assert torch_threads("nonsense") == torch_threads(0) == max(1, cores - 1)
    assert torch_threads(-3) == max(1, cores - 1)
    # applied in a fresh process from the environment, as the window and the CLI do
    proc = _python(
        "from cnnviz.core.device import configure_threads; import torch, numpy as np;"
        "p = configure_threads(); x = torch.randn(64, 64, requires_grad=True); (x @ x).sum().backward();"
        "np.ones((300, 300)) @ np.ones((300, 300));"
        "assert torch.get_num_threads() == p.torch_threads; print(p.torch_threads)",
        CNNVIZ_TORCH_THREADS="100000",
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert int(proc.stdout.split()[-1]) == cores
