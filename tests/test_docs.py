"""The README's links and docs/theory.md's pointers into the code stay true."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
THEORY = ROOT / "docs" / "theory.md"


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    return {_slug(m.group(1)) for m in re.finditer(r"^#+ (.+)$", path.read_text(encoding="utf-8"), re.M)}


def test_readme_links_point_at_files_and_headings_that_exist():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)#\s]+)(?:#([^)\s]+))?\)", text)
    assert ("docs/theory.md", "") in links or any(path == "docs/theory.md" for path, _ in links)
    for path, anchor in links:
        if "://" in path:
            continue
        target = ROOT / path
        assert target.exists(), f"README links to {path}, which does not exist"
        if anchor:
            assert anchor in _anchors(target), f"README links to {path}#{anchor}, no such heading"
    assert "../shared" not in text, "the README points outside the repository"


def _code_table() -> list[tuple[str, str]]:
    """(module, name) for every entry of docs/theory.md's 'Where the code lives' table."""
    table = THEORY.read_text(encoding="utf-8").split("## Where the code lives", 1)[1]
    pairs = []
    for row in table.splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[1].startswith("`cnnviz/"):
            continue
        modules = [m.removesuffix(".py").replace("/", ".") for m in re.findall(r"`([^`]+\.py)`", cells[1])]
        for name in re.findall(r"`([^`]+)`", cells[2]):
            pairs.append((",".join(modules), name))
    return pairs


@pytest.mark.parametrize(("modules", "name"), _code_table())
def test_theory_names_the_code_that_exists(modules, name):
    head, _, attr = name.partition(".")
    found = []
    for module in modules.split(","):
        obj = importlib.import_module(module)
        if hasattr(obj, head) and (not attr or hasattr(getattr(obj, head), attr)):
            found.append(module)
    assert found, f"docs/theory.md says {name} lives in {modules}"


def test_theory_uses_renderable_inline_maths():
    """Inline $...$ opens and closes on one line, without inner padding (GitHub's rule)."""
    in_block = False
    for number, line in enumerate(THEORY.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip().startswith("```"):
            in_block = not in_block
            continue
        if in_block:
            continue
        assert line.count("$") % 2 == 0, f"docs/theory.md:{number}: inline maths split over lines"
        for body in re.findall(r"\$([^$]*)\$", line):
            assert body == body.strip(), f"docs/theory.md:{number}: ${body}$ is padded"
