"""The process policy: freed tensor memory is kept for the next run (glibc), so a run in a
series (video frames, a slider drag) does not fault its maps' pages in again."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from cnnviz.core.device import ThreadPolicy

_SCRIPT = """
import resource
import numpy as np
from cnnviz.core.device import configure_threads
policy = configure_threads(1)
from cnnviz.core import engine
from cnnviz.settings import Settings
frame = np.random.default_rng(0).random((256, 256, 3), dtype=np.float32)
s = Settings(size=256, depth=6)
for _ in range(3):
    engine.run(s, frame)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(3):
    engine.run(s, frame)
print(policy.malloc_kept, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _page_faults(malloc: str) -> tuple[bool, int]:
    env = dict(os.environ, CNNVIZ_MALLOC=malloc, OMP_NUM_THREADS="1")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True, check=True)
    kept, faults = out.stdout.split()
    return kept == "True", int(faults)


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")
def test_repeated_runs_reuse_their_memory_instead_of_faulting_it_in():
    kept, faults = _page_faults("1")
    untouched, faults_default = _page_faults("0")
    assert kept and not untouched
    # 256^2, depth 6: about 10 MB of maps and gradients per run; glibc's default gave ~2500
    # page faults per run back and forth, kept memory almost none
    assert faults < 400 < faults_default


def test_the_policy_says_what_it_set():
    assert "freed memory kept" in ThreadPolicy(1, 1, 2, malloc_kept=True).describe()
    assert "freed memory" not in ThreadPolicy(1, 1, 2).describe()
