"""docs/ARCHITECTURE.md stays true: its layer tables place every module of training/ and service/ exactly once,
name no module that is gone, and no module imports from a layer above its own."""

from __future__ import annotations

import re

import pytest

from tests.test_imports import REPO, imported, modules

DOC = REPO / "docs" / "ARCHITECTURE.md"


def layers(package: str) -> list[list[str]]:
    """The module names of each row of the `## <package>/, bottom to top` table, bottom first."""
    text = DOC.read_text()
    start = text.index(f"## {package}/, bottom to top")
    rows = []
    for line in text[start:].splitlines()[1:]:
        if line.startswith("## "):
            break
        cells = line.split("|")
        if len(cells) > 3 and re.match(r"\s*\d", cells[1]):
            rows.append(re.findall(r"`([\w.]+)`", cells[2]))
    return rows


def placed(package: str) -> dict[str, int]:
    """Dotted module → its layer (0 at the bottom); a package's row covers its modules."""
    return {f"{package}.{name}": i for i, names in enumerate(layers(package)) for name in names}


def layer_of(module: str, where: dict[str, int]) -> int | None:
    while module not in where and "." in module:
        module = module.rpartition(".")[0]
    return where.get(module)


@pytest.mark.parametrize("package", ["training", "service"])
def test_every_module_is_placed_once_and_every_name_exists(package):
    names = [name for row in layers(package) for name in row]
    assert len(names) == len(set(names)), f"a module is placed twice: {sorted(n for n in names if names.count(n) > 1)}"
    found = set(modules(REPO, package))
    where = placed(package)
    assert not (gone := sorted(set(where) - found)), f"docs/ARCHITECTURE.md names modules that do not exist: {gone}"
    unplaced = sorted(m for m in found if m != package and layer_of(m, where) is None)
    assert not unplaced, f"add these to docs/ARCHITECTURE.md's {package}/ table: {unplaced}"


@pytest.mark.parametrize("package", ["training", "service"])
def test_no_module_imports_from_a_layer_above(package):
    found = modules(REPO, package)
    where = placed(package)
    upward = [
        f"{module} (layer {layer_of(module, where)}) imports {target} (layer {layer_of(target, where)}) at line {line}"
        for module, path in found.items()
        for target, line in imported(module, path, set(found)).items()
        if target != package and layer_of(target, where) > layer_of(module, where)
    ]
    assert not upward, "\n".join(upward)


def test_the_layers_are_read_from_the_document():
    """The parser sees the tables (a heading renamed would otherwise leave nothing to check)."""
    assert [len(row) for row in layers("training")] == [16, 2, 8, 6, 2]
    assert len(layers("service")) == 5
