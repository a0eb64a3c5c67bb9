"""Dependencies point one way: the import table in docs/architecture.md is the real graph.

Every import of an ``autotrader`` package (at module level or inside a function) is checked
against the table's row for the importing package; nothing imports ``cli``; there are no cycles.
A failure names the file and line of the offending import.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "autotrader"
DOC = ROOT / "docs" / "architecture.md"


def _units() -> set[str]:
    """Top-level packages and modules of autotrader (``core``, ``bootstrap``, ...)."""
    units = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    units |= {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    return units


def _allowed() -> dict[str, set[str] | None]:
    """The doc's import table: package → packages it may import (None: anything)."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Import rules", 1)[1].split("\n## ", 1)[0]
    table: dict[str, set[str] | None] = {}
    for line in section.splitlines():
        match = re.match(r"^\| (\S+) \| (.+) \|$", line)
        if not match or match[1] in ("package", "---"):
            continue
        cell = match[2].strip()
        if cell.startswith("every "):
            table[match[1]] = None
        else:
            table[match[1]] = set() if cell == "—" else {p.strip() for p in cell.split(",")}
    return table


def _imports() -> list[tuple[str, str, Path, int]]:
    """(importing unit, imported unit, file, line) for every autotrader import."""
    units = _units()
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).parts
        importer = parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")
        if importer == "__init__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module == "autotrader":
                    targets = [alias.name for alias in node.names]
                elif node.module.startswith("autotrader."):
                    targets = [node.module.split(".")[1]]
            elif isinstance(node, ast.Import):
                targets = [
                    a.name.split(".")[1] for a in node.names if a.name.startswith("autotrader.")
                ]
            for target in targets:
                if target in units and target != importer:
                    found.append((importer, target, path.relative_to(ROOT), node.lineno))
    return found


def test_the_doc_lists_every_package_and_wiring_module():
    assert set(_allowed()) == _units(), "docs/architecture.md import table is out of date"


def test_every_import_follows_the_table_in_docs_architecture():
    allowed = _allowed()
    broken = [
        f"{path}:{line}: {importer} imports {target} "
        f"(docs/architecture.md allows {importer} → {sorted(allowed[importer] or [])})"
        for importer, target, path, line in _imports()
        if allowed.get(importer) is not None and target not in allowed[importer]
    ]
    assert not broken, "\n".join(broken)


def test_nothing_imports_the_cli():
    broken = [
        f"{path}:{line}: {importer} imports cli"
        for importer, target, path, line in _imports()
        if target == "cli" and importer not in ("cli", "__main__")
    ]
    assert not broken, "\n".join(broken)


def test_there_are_no_cycles_between_packages():
    edges: dict[str, set[str]] = {}
    for importer, target, _, _ in _imports():
        edges.setdefault(importer, set()).add(target)

    def cycle_from(start: str) -> list[str] | None:
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in edges.get(node, ()):
                if nxt == start:
                    return [*path, start]
                if nxt not in path:
                    stack.append((nxt, [*path, nxt]))
        return None

    cycles = [c for unit in sorted(edges) if (c := cycle_from(unit))]
    assert not cycles, "import cycles: " + "; ".join(" → ".join(c) for c in cycles)
