"""No import loops in training/ or service/ (issue #41): every module's imports, read from its source, inside
functions too (where a loop would otherwise hide), form a graph without cycles, so each package reads bottom-up."""

from __future__ import annotations

import ast
from collections import deque
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("training", "service")

Graph = dict[str, dict[str, int]]  # module → {module it imports: line of the first such import}


def modules(root: Path, package: str) -> dict[str, Path]:
    """Dotted name → source file of every module of `package` under `root`; a package is its __init__.py."""
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imported(name: str, path: Path, known: set[str]) -> dict[str, int]:
    """The modules of `known` that module `name` imports anywhere in its source, relative imports resolved."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def within(target: str) -> str:  # the module itself, or the package holding the imported name
        while target and target not in known:
            target = target.rpartition(".")[0]
        return target

    edges: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [within(alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            origin = ".".join([*base, *([node.module] if node.module else [])])
            # `from pkg import sub` imports the module pkg.sub; `from mod import name` the module mod
            targets = [f"{origin}.{a.name}" if f"{origin}.{a.name}" in known else within(origin) for a in node.names]
        else:
            continue
        for target in targets:
            if target and target != name:
                edges[target] = min(edges.get(target, node.lineno), node.lineno)
    return edges


def import_graph(root: Path, package: str) -> Graph:
    found = modules(root, package)
    return {name: imported(name, path, set(found)) for name, path in found.items()}


def reachable(graph: Graph, start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def cycles(graph: Graph) -> list[str]:
    """One shortest loop per group of modules that import each other, as `a -> b (line 3) -> a (line 7)`."""
    reach = {name: reachable(graph, name) for name in graph}
    found, done = [], set()
    for start in sorted(graph):
        if start in done or start not in reach[start]:
            continue
        group = {m for m in reach[start] if start in reach[m]}
        done |= group
        previous: dict[str, str] = {}
        queue = deque([start])
        while queue:  # breadth first, within the group, back to start
            here = queue.popleft()
            if start in graph[here]:
                break
            for nxt in graph[here]:
                if nxt in group and nxt not in previous:
                    previous[nxt] = here
                    queue.append(nxt)
        path = [here]
        while path[-1] != start:
            path.append(previous[path[-1]])
        path.reverse()
        steps = [f"{b} (line {graph[a][b]})" for a, b in zip(path, [*path[1:], start], strict=True)]
        found.append(" -> ".join([start, *steps]) + f"; the group: {', '.join(sorted(group))}")
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycles(package: str) -> None:
    graph = import_graph(REPO, package)
    assert len(graph) > 5, f"found only {sorted(graph)} under {package}/"
    loops = cycles(graph)
    assert not loops, f"{package}/ imports in a loop:\n" + "\n".join(loops)


def test_the_walk_finds_a_loop_hidden_inside_a_function(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    sources = {
        "__init__.py": "",
        "a.py": "from . import b\n",
        "b.py": "import os\n\n\ndef f():\n    from .sub.c import g\n",
        "sub/__init__.py": "",
        "sub/c.py": "from ..a import x\nfrom pkg import sub\n",
        "d.py": "import pkg.a\n",
    }
    for name, text in sources.items():
        (tmp_path / "pkg" / name).write_text(text)
    graph = import_graph(tmp_path, "pkg")
    assert graph["pkg.b"] == {"pkg.sub.c": 5} and graph["pkg.sub.c"] == {"pkg.a": 1, "pkg.sub": 2}
    assert graph["pkg.d"] == {"pkg.a": 1}
    assert cycles(graph) == [
        "pkg.a -> pkg.b (line 1) -> pkg.sub.c (line 5) -> pkg.a (line 1); the group: pkg.a, pkg.b, pkg.sub.c"
    ]
