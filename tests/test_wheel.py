"""A wheel built from the tree carries the sample image, the sample clip and every preset, and
an install of it finds them without the source tree (cnnviz.paths uses importlib.resources)."""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESOURCES = ROOT / "cnnviz" / "resources"


def _can_build_wheels() -> str | None:
    """Why a wheel cannot be built here without the network, or None."""
    try:
        version = importlib.metadata.version("setuptools")
    except importlib.metadata.PackageNotFoundError:
        return "setuptools is not installed in this environment"
    major_minor = tuple(int(p) for p in version.split(".")[:2] if p.isdigit())
    # bdist_wheel moved into setuptools in 70.1; older ones need the wheel package.
    if major_minor < (70, 1) and importlib.util.find_spec("wheel") is None:
        return f"setuptools {version} needs the wheel package to build wheels"
    if importlib.util.find_spec("pip") is None:
        return "pip is not installed in this environment"
    return None


pytestmark = pytest.mark.skipif(_can_build_wheels() is not None, reason=str(_can_build_wheels()))


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """``pip wheel`` on a copy of the tree (so the build leaves nothing in the checkout)."""
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "cnnviz", src / "cnnviz", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = base / "dist"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            str(out),
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (built,) = out.glob("cnnviz-*.whl")
    return built


def test_the_wheel_carries_the_resources(wheel):
    presets = sorted(RESOURCES.glob("presets/*.json"))
    assert len(presets) >= 8
    decks = sorted(RESOURCES.glob("decks/*.json"))
    assert decks
    wanted = [RESOURCES / "chelsea.png", RESOURCES / "chelsea_zoom.mp4", RESOURCES / "README.md", *presets, *decks]
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        for path in wanted:
            name = path.relative_to(ROOT).as_posix()
            assert name in names, f"{name} is missing from {wheel.name}"
            assert _digest(z.read(name)) == _digest(path.read_bytes()), f"{name} differs in the wheel"
        assert "cnnviz/paths.py" in names and "cnnviz/core/engine.py" in names
        assert not any(n.startswith(("tests/", "scripts/")) for n in names)


def test_an_installed_wheel_finds_its_resources_without_the_tree(wheel, tmp_path):
    target = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    check = (
        "import cnnviz, cnnviz.paths as p\n"
        "from cnnviz.settings import Settings\n"
        f"assert cnnviz.__file__.startswith({str(target)!r}), cnnviz.__file__\n"
        "assert p.SAMPLE_IMAGE.is_file() and p.SAMPLE_VIDEO.is_file() and p.PRESETS.is_dir()\n"
        "presets = sorted(p.PRESETS.glob('*.json'))\n"
        "for f in presets: Settings.load(f)\n"
        "from cnnviz.deck import bundled_deck_path, load_deck\n"
        "assert len(load_deck(bundled_deck_path())) > 1\n"
        "print(len(presets), p.RESOURCES)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(target)}
    # From an empty folder: neither the checkout nor its resources/ can be found by accident.
    run = subprocess.run(
        [sys.executable, "-c", check], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stdout + run.stderr
    count, where = run.stdout.split(maxsplit=1)
    assert int(count) == len(list(RESOURCES.glob("presets/*.json")))
    assert where.strip().startswith(str(target))
