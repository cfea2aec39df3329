"""No import cycle among the modules of bot/ and retrieval/.

Every ``.py`` file under those two packages is parsed (never imported) and each import
statement becomes an edge of the module graph:

- every import counts wherever it is: at module level, inside functions (a lazy import still
  closes a circle the moment it runs) and inside ``if TYPE_CHECKING:`` blocks too (a type-only
  import back is still a circle in the design: bot/telegram/callbacks.py and handlers.py were
  one, through such a block, before ``bot.telegram.state`` took the shared types);
- ``from a.b import c`` is an edge to ``a.b.c`` when that is a module of ours, else to ``a.b``
  (``c`` is a name defined there); ``import a.b`` is an edge to ``a.b``; an import of a package
  is an import of its ``__init__`` (module ``a.b`` for ``a/b/__init__.py``). The parent
  packages Python imports on the way are not edges, or every package whose ``__init__``
  re-exports a submodule would be a "cycle";
- relative imports are resolved against the importing module; imports of anything outside
  bot/ and retrieval/ are ignored.

The test fails listing one concrete circle per strongly connected component.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.paths import REPO

PACKAGES = ("bot", "retrieval")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def find_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            if "__pycache__" not in path.parts:
                modules[module_name(path)] = path
    return modules


def _absolute(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """``name`` if it is one of our modules, else its longest prefix that is (None: not ours)."""
    parts = name.split(".")
    while parts:
        if ".".join(parts) in modules:
            return ".".join(parts)
        parts.pop()
    return None


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    targets: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found = [_known(alias.name, modules) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, name, path.name == "__init__.py")
            found = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else _known(base, modules)
                     for alias in node.names]
        else:
            continue
        targets.update(target for target in found if target is not None and target != name)
    return targets


def import_graph() -> dict[str, set[str]]:
    modules = find_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm (iterative): the components with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))
    return components


def a_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One circle through the first module of ``component``: a → … → a (shortest, by BFS)."""
    members, start = set(component), component[0]
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & members):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if child not in came_from:
                    came_from[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"no circle in component {component}")


def test_the_graph_sees_the_packages() -> None:
    graph = import_graph()
    assert "bot.cli.commands" in graph and "retrieval.service" in graph
    assert "bot.settings" in graph["bot.cli.commands"]
    assert "retrieval.embed.onnx" in graph["retrieval.embed.backends"]  # imported in a function
    assert "bot.telegram.handlers" not in graph["bot.telegram.callbacks"]


def test_a_circle_is_found_and_named() -> None:
    graph = {"a": {"b"}, "b": {"c", "d"}, "c": {"a"}, "d": set(), "e": {"a", "e2"}, "e2": {"e"}}
    assert strongly_connected(graph) == [["a", "b", "c"], ["e", "e2"]]
    assert a_cycle(graph, ["a", "b", "c"]) == ["a", "b", "c", "a"]


def test_no_import_cycle() -> None:
    graph = import_graph()
    circles = [" → ".join(a_cycle(graph, component)) for component in strongly_connected(graph)]
    assert not circles, "import cycles:\n" + "\n".join(circles)
