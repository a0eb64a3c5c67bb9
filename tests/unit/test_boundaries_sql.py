"""The storage boundary stays true: only ``autotrader/core/`` touches the SQLite driver, SQL text
lives only in repo/queries modules and migrations, and a package's SQL reads only its own tables
(reads over another package's tables go through that package's query functions).

Each failure names the offending file and line. See docs/architecture.md ("Storage boundary").
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "autotrader"
CORE = PACKAGE / "core"

# The one documented exception to "a package reads only its own tables" (docs/architecture.md,
# "Storage boundary"): the ledger is the read-only audit layer over prop, so ledger's queries
# modules read prop's tables directly. Reads of any other package's tables go through that
# package's repo functions.
ALLOWED_CROSS_READS: dict[str, set[str]] = {
    "ledger": {
        "ledger_entries",
        "prop_accounts",
        "prop_fills",
        "prop_orders",
        "prop_intents",
        "positions",
        "account_snapshots",
    },
}

# Tables SQLite (or the migration runner) owns; they belong to core.
CORE_TABLES = {"sqlite_master", "sqlite_schema", "sqlite_sequence", "_sqlite_migrations"}
# A migration may read the schema catalog of the tables it changes (to rebuild one, say);
# everything else asks ``Store.tables()``.
CATALOG = {"sqlite_master", "sqlite_schema"}

# Uppercase keywords with their structural partner, so prose ("select the rows from ...") in
# docstrings and messages never matches.
SQL = re.compile(
    r"\bSELECT\b[\s\S]*?\bFROM\b"
    r"|\bSELECT\s+(?:1|\d+|\?|COUNT|MAX|MIN|SUM|EXISTS|COALESCE)\b"
    r"|\bINSERT\s+(?:INTO|OR)\b"
    r"|\bUPDATE\s+(?:\w+|\{\})\s+SET\b"
    r"|\bDELETE\s+FROM\b"
    r"|\b(?:CREATE|DROP)\s+(?:UNIQUE\s+|TEMP\s+|TEMPORARY\s+|VIRTUAL\s+)?"
    r"(?:TABLE|INDEX|TRIGGER|VIEW)\b"
    r"|\bALTER\s+TABLE\b"
    r"|\bPRAGMA\s+(?:\w+|\{\})"
    r"|\bWITH\s+(?:RECURSIVE\s+)?\w+\s+AS\s*\("
)
TABLE_REFERENCE = re.compile(
    r"\b(FROM|JOIN|INTO|UPDATE|TABLE(?:\s+IF\s+(?:NOT\s+)?EXISTS)?)\s+([A-Za-z_][A-Za-z0-9_]*)"
)
READS = {"FROM", "JOIN"}  # the allowance is read-only: INTO/UPDATE/TABLE name a write
CREATE_TABLE = re.compile(r"\bCREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([A-Za-z_]\w*)")
# Names after FROM that are not tables: SQL keywords and functions (json_each(...)). Any other
# name the ownership map does not know (``DO UPDATE SET``) is skipped too.
NOT_TABLES = {"SELECT", "VALUES", "json_each", "json_tree", "excluded"}
# Store helpers that write SQL for a table named by their first argument.
TABLE_HELPERS = {"insert", "insert_or_ignore", "upsert", "claim"}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _package_of(path: Path) -> str:
    """The top-level folder under autotrader/ (``ledger``, ``prop``...); '' for top-level files."""
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else ""


def _is_sql_module(path: Path) -> bool:
    """Where SQL may live: repo.py, queries.py, migrations.py, anything inside a repo/ or
    queries/ sub-package, and the stores themselves (SQLite's, PostgreSQL's and its dialect)."""
    if path in {CORE / "db.py", CORE / "postgres.py", CORE / "pg_dialect.py"}:
        return True
    if path.name in {"repo.py", "queries.py", "migrations.py"}:
        return True
    return any(part in {"repo", "queries"} for part in path.relative_to(PACKAGE).parts[:-1])


@cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _docstring_nodes(tree: ast.Module) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _strings(path: Path) -> list[tuple[int, str]]:
    """Every string constant and f-string (constant parts joined, each placeholder ``{}``) with
    its line, in line order, docstrings left out."""
    return sorted(_string_nodes(path), key=lambda item: item[0])


def _string_nodes(path: Path) -> Iterator[tuple[int, str]]:
    tree = _tree(path)
    skip = _docstring_nodes(tree)
    inside_fstring: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = []
            for value in node.values:
                inside_fstring.add(id(value))
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    parts.append(value.value)
                else:
                    # A placeholder is no identifier: ``FROM {table}`` names no table, and
                    # ``FROM ledger_entries{where}`` still names ledger_entries.
                    parts.append(" {} ")
            yield node.lineno, "".join(parts)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in skip
            and id(node) not in inside_fstring
        ):
            yield node.lineno, node.value


def _helper_tables(path: Path, owners: dict[str, str]) -> Iterator[tuple[int, str]]:
    """``store.insert("table", ...)`` and its siblings (``TABLE_HELPERS``): the tables they
    write, by line (only names the ownership map knows: ``list.insert(0, x)`` is no table)."""
    for node in ast.walk(_tree(path)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in TABLE_HELPERS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value in owners
        ):
            yield node.lineno, node.args[0].value


@cache
def _owners() -> dict[str, str]:
    """Table name -> the package whose migrations.py creates it."""
    owners = dict.fromkeys(CORE_TABLES, "core")
    for migrations in sorted(PACKAGE.glob("*/migrations.py")):
        for _, text in _strings(migrations):
            for table in CREATE_TABLE.findall(text):
                owners[table] = migrations.parent.name
    return owners


def _report(title: str, offences: list[str]) -> str:
    def where(offence: str) -> tuple[str, int]:
        path, line, _ = offence.split(":", 2)
        return path, int(line)

    return f"{title}:\n" + "\n".join(sorted(offences, key=where))


DRIVERS = ("sqlite3", "psycopg")


def _is_driver(module: str) -> bool:
    return any(module == name or module.startswith(f"{name}.") for name in DRIVERS)


def test_no_module_outside_core_touches_the_sqlite_driver():
    offences = []
    for path in _modules():
        if path.is_relative_to(CORE):
            continue
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if _is_driver(alias.name):
                        offences.append(f"{_rel(path)}:{node.lineno}: imports {alias.name}")
            elif isinstance(node, ast.ImportFrom):
                if node.module and _is_driver(node.module):
                    offences.append(f"{_rel(path)}:{node.lineno}: imports from {node.module}")
            elif isinstance(node, ast.Attribute) and node.attr in {"conn", "_conn"}:
                offences.append(
                    f"{_rel(path)}:{node.lineno}: touches the driver connection (.{node.attr})"
                )
    assert not offences, _report("only autotrader/core/ may touch a database driver", offences)


def test_sql_lives_only_in_repo_query_and_migration_modules():
    owners = _owners()
    offences = []
    for path in _modules():
        if _is_sql_module(path):
            continue
        for line, text in _strings(path):
            match = SQL.search(text)
            if match:
                snippet = " ".join(text[match.start() :].split())[:60]
                offences.append(f"{_rel(path)}:{line}: SQL {snippet!r}")
        for line, table in _helper_tables(path, owners):
            offences.append(f"{_rel(path)}:{line}: store helper on table {table!r}")
    assert not offences, _report(
        "SQL belongs in the package's repo/queries modules or migrations", offences
    )


def test_packages_read_only_their_own_tables():
    owners = _owners()
    offences = []
    for path in _modules():
        if not _is_sql_module(path):
            continue
        package = _package_of(path)
        allowed = ALLOWED_CROSS_READS.get(package, set())
        if path.name == "migrations.py":
            allowed = allowed | CATALOG
        for line, text in _strings(path):
            if not SQL.search(text):
                continue
            for keyword, table in sorted(set(TABLE_REFERENCE.findall(text))):
                owner = owners.get(table)
                if table in NOT_TABLES or owner is None or owner == package:
                    continue
                if table in allowed and keyword in READS:
                    continue
                verb = "reads" if keyword in READS else "writes"
                offences.append(
                    f"{_rel(path)}:{line}: {verb} {table!r}, a table of {owner!r}"
                    f" (go through the {owner} package's repo functions)"
                )
        for line, table in _helper_tables(path, owners):
            if owners[table] != package:
                offences.append(
                    f"{_rel(path)}:{line}: writes {table!r}, a table of {owners[table]!r}"
                    f" (go through the {owners[table]} package's repo functions)"
                )
    assert not offences, _report("a package's SQL reads only its own tables", offences)


def test_the_ownership_map_knows_every_table(tmp_path):
    """The scan above is only as good as its map: every table a migrated store has is found in
    some package's migrations.py, and the documented allowance names real prop tables."""
    from autotrader.core.db import Store
    from autotrader.schema import MIGRATION_SETS

    owners = _owners()
    with Store(tmp_path / "owners.db", migrations=MIGRATION_SETS) as store:
        unknown = sorted(store.tables() - set(owners))
    assert unknown == [], f"tables no migrations.py CREATEs by name: {unknown}"
    assert owners["invocations"] == "llm"
    for package, tables in ALLOWED_CROSS_READS.items():
        assert {owners.get(table) for table in tables} == {"prop"}, package
