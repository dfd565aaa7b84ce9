"""The package's layout keeps the data flow one-way: no module imports, directly or through
others, a module that imports it back.

The graph counts every ``import`` a module runs, at module level or inside a function
(a deferred import is still a dependency); imports under ``if TYPE_CHECKING:`` are for type
checkers only and are left out.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "acsi_sem"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))
           if "_shipped" not in path.parts}


def _is_type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imported_modules(path: Path) -> set[str]:
    """The package's modules that ``path`` imports when it runs (any depth in the code)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if _is_type_checking_block(child):
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and not child.level:
                for alias in child.names:
                    submodule = f"{child.module}.{alias.name}"
                    found.add(submodule if submodule in MODULES else child.module)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {name for name in found if name in MODULES} - {module_name(path)}


def import_graph() -> dict[str, set[str]]:
    return {name: imported_modules(path) for name, path in MODULES.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as ``[a, b, ..., a]``, or ``None``."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return [*path[path.index(target):], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[node] = "done"
        path.pop()
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_the_graph_walk_finds_a_planted_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_imports_itself_back() -> None:
    assert find_cycle(import_graph()) is None


def test_the_stages_depend_only_downstream() -> None:
    graph = import_graph()
    # The parser produces statements; the specification builds on them, never the reverse.
    assert "acsi_sem.model.spec" not in graph["acsi_sem.model.syntax"]
    # Reports read results; results (data) import no report at module level.
    results_tree = ast.parse(MODULES["acsi_sem.results"].read_text(encoding="utf-8"))
    top_level = {node.module for node in results_tree.body if isinstance(node, ast.ImportFrom)}
    assert not {name for name in top_level if name and name.startswith("acsi_sem.report")}
    # The command's shared helpers sit below every sub-command module.
    assert not {name for name in graph["acsi_sem.cli.common"] if name.startswith("acsi_sem.cli")}
    # The model and survey stages know nothing of estimators, results or reports.
    for name, targets in graph.items():
        if name.startswith(("acsi_sem.model", "acsi_sem.survey")):
            later = {target for target in targets if target.startswith(
                ("acsi_sem.estimators", "acsi_sem.results", "acsi_sem.report", "acsi_sem.cli"))}
            assert not later, f"{name} imports {later}"


def test_every_module_imports_in_a_fresh_interpreter() -> None:
    # __main__ runs the command when imported; the CLI tests run it.
    names = sorted(name for name in MODULES if not name.endswith("__main__"))
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    completed = subprocess.run([sys.executable, "-c", code, *names], cwd=ROOT,
                               capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert len(names) > 60
