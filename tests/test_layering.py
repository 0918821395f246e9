"""The layering contract, read from the source (ast): who may import whom.

- ``cnnviz.core`` computes on arrays: it imports neither Qt (PySide6, pyqtgraph, superqt) nor
  ``cnnviz.io`` (files) nor ``cnnviz.gui``, at module level or inside a function.
- ``cnnviz.gui`` sees the core only through the Result, the device information and the engine
  entry point, and the engine only inside the worker's functions (so that importing the window
  does not import torch): :data:`GUI_MAY_IMPORT_FROM_CORE`.
- Nothing outside ``cnnviz.gui`` imports Qt; ``cnnviz.io`` never imports the gui.
- No import cycles among cnnviz modules at module level (imports inside functions and under
  ``if TYPE_CHECKING:`` do not run at import time and are left out).

Known violations that a pending move fixes are strict xfails: when the move lands the test
passes, the xfail turns into a failure, and the entry below is deleted with the move.
"""

from __future__ import annotations

import ast
import graphlib
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cnnviz"
QT = ("PySide6", "pyqtgraph", "superqt", "shiboken6")

# What a gui module may import from cnnviz.core: module -> where (anywhere / only lazily, i.e.
# inside a function, and only from these gui modules).
GUI_MAY_IMPORT_FROM_CORE: dict[str, tuple[str, ...] | None] = {
    "cnnviz.core.result": None,  # anywhere in the gui
    "cnnviz.core.device": None,
    "cnnviz.core.budget": None,  # the window's estimate and memory check before a request (torch-free arithmetic)
    "cnnviz.core.engine": ("cnnviz.gui.worker", "cnnviz.gui.playback"),  # inside the worker's functions only
    # The video entry points, lazily too: Problem 2's network (playback.compute runs on the worker
    # thread; the live camera hands it its last T frames as a ClipInput) and the whole-clip
    # statistics (on the over-time dock's own thread).
    "cnnviz.core.video_engine": ("cnnviz.gui.playback", "cnnviz.gui.camera"),
    "cnnviz.core.video_stats": ("cnnviz.gui.over_time",),
}

# (rule, importer, imported) -> the move that removes it.
KNOWN: dict[tuple[str, str, str], str] = {}


@dataclass(frozen=True)
class Import:
    importer: str
    target: str  # a cnnviz module, or the top-level name of a third-party package
    line: int
    lazy: bool  # inside a function body, or under ``if TYPE_CHECKING:``


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(importer: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = importer if MODULES[importer].name == "__init__.py" else importer.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def _targets(importer: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = _resolve(importer, node)
        # ``from pkg import mod`` imports the module pkg.mod; ``from mod import name`` imports mod.
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
    out = []
    for name in names:
        if name.split(".")[0] != "cnnviz":
            name = name.split(".")[0]
        else:
            while name not in MODULES and "." in name:
                name = name.rpartition(".")[0]
        if name not in out:
            out.append(name)
    return out


def imports_of(module: str) -> list[Import]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"), filename=str(MODULES[module]))
    found: list[Import] = []

    def visit(node: ast.AST, lazy: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                found.extend(Import(module, t, child.lineno, lazy) for t in _targets(module, child))
            else:
                runs_later = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
                visit(child, lazy or runs_later or (isinstance(child, ast.If) and _is_type_checking(child)))

    visit(tree, False)
    return found


ALL = [imp for module in MODULES for imp in imports_of(module)]


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _violations(rule: str) -> list[Import]:
    bad = []
    for imp in ALL:
        if rule == "core-qt":
            hit = _in(imp.importer, "cnnviz.core") and imp.target in QT
        elif rule == "core-io":
            hit = _in(imp.importer, "cnnviz.core") and _in(imp.target, "cnnviz.io")
        elif rule == "core-gui":
            hit = _in(imp.importer, "cnnviz.core") and _in(imp.target, "cnnviz.gui")
        elif rule == "qt-outside-gui":
            hit = not _in(imp.importer, "cnnviz.gui") and imp.target in QT
        elif rule == "io-gui":
            hit = _in(imp.importer, "cnnviz.io") and _in(imp.target, "cnnviz.gui")
        elif rule == "gui-core":
            hit = False
            # ``from cnnviz.core import name`` counts too: the package's lazy exports reach everything.
            if _in(imp.importer, "cnnviz.gui") and _in(imp.target, "cnnviz.core"):
                if imp.target not in GUI_MAY_IMPORT_FROM_CORE:
                    hit = True
                else:
                    only = GUI_MAY_IMPORT_FROM_CORE[imp.target]
                    hit = only is not None and not (imp.lazy and imp.importer in only)
        else:
            raise AssertionError(rule)
        if hit:
            bad.append(imp)
    return bad


def _cases() -> list:
    params = []
    for rule in ("core-qt", "core-io", "core-gui", "qt-outside-gui", "io-gui", "gui-core"):
        known = {key: why for key, why in KNOWN.items() if key[0] == rule}
        params.append(pytest.param(rule, (), id=rule))
        for (_, importer, target), why in known.items():
            params.append(
                pytest.param(
                    rule,
                    (importer, target),
                    id=f"{rule}:{importer}->{target}",
                    marks=pytest.mark.xfail(strict=True, reason=f"known until {why}"),
                )
            )
    return params


@pytest.mark.parametrize(("rule", "known"), _cases())
def test_layering_rule(rule, known):
    """Each rule holds, apart from the known violations (each checked on its own, strictly)."""
    skip = {key[1:] for key in KNOWN if key[0] == rule}
    if known:
        bad = [i for i in _violations(rule) if (i.importer, i.target) == known]
    else:
        bad = [i for i in _violations(rule) if (i.importer, i.target) not in skip]
    where = [f"{MODULES[i.importer].relative_to(PACKAGE.parent)}:{i.line} imports {i.target}" for i in bad]
    assert not where, f"layering rule {rule!r} broken:\n" + "\n".join(where)


def test_the_gui_core_rule_is_not_vacuous():
    """The reader sees the imports it checks: the gui does import core.result."""
    assert any(i.importer.startswith("cnnviz.gui") and i.target == "cnnviz.core.result" for i in ALL)
    assert any(i.importer == "cnnviz.core.engine" and i.target == "cnnviz.core.scale_net" for i in ALL)


def _graph() -> dict[str, set[str]]:
    """cnnviz module -> the cnnviz modules it imports when it is itself imported."""
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for imp in ALL:
        if imp.lazy or not imp.target.startswith("cnnviz"):
            continue
        target = imp.target
        # Importing a.b.c runs a/__init__ and a/b/__init__ first, unless the importer is
        # inside them (then they are already being imported).
        while target:
            if target != imp.importer and not _in(imp.importer, target):
                graph[imp.importer].add(target)
            target = target.rpartition(".")[0]
    return graph


def test_no_import_cycles_at_module_level():
    try:
        tuple(graphlib.TopologicalSorter(_graph()).static_order())
    except graphlib.CycleError as err:
        pytest.fail(f"import cycle among cnnviz modules: {' -> '.join(err.args[1])}")


def test_the_cycle_check_finds_a_cycle():
    graph = _graph()
    graph["cnnviz.errors"] = graph["cnnviz.errors"] | {"cnnviz.settings"}  # settings imports errors
    with pytest.raises(graphlib.CycleError):
        tuple(graphlib.TopologicalSorter(graph).static_order())
