"""SQLite SQL, as the repos and migrations write it, translated into PostgreSQL's dialect.

Every package writes one dialect (SQLite's): the PostgreSQL store translates each distinct
statement once (sqlglot parses it as SQLite and writes it as PostgreSQL; the result is cached)
and adds what sqlglot cannot know:

- placeholders: ``?`` and ``:name`` become ``$1, $2, ...`` (psycopg's raw cursor binds them
  server-side, so a ``%`` in a ``LIKE`` pattern needs no escaping), with the order of the named
  parameters kept in :class:`Translated`;
- ``INSERT OR IGNORE`` becomes ``ON CONFLICT DO NOTHING``;
- tables: SQLite's ``INTEGER`` is 64 bits (epoch ms need them), PostgreSQL's 32, so every
  integer column is ``BIGINT``; ``INTEGER PRIMARY KEY`` (SQLite's rowid alias) is an identity
  column; ``STRICT`` and ``WITHOUT ROWID`` are SQLite's storage options and go;
- the append-only triggers (``BEFORE UPDATE|DELETE ... RAISE(ABORT, 'message')``) become one
  plpgsql function per table and event raising the same message;
- ``group_concat`` casts what it joins to text (``STRING_AGG`` joins only text);
- a subquery in FROM gets the name PostgreSQL 15 requires;
- SQLite's ``strftime('%s', 'now')`` (now in epoch seconds) and ``total(x)`` (a sum that is 0.0
  over no rows).

Index and conflict-target columns lose the ``NULLS FIRST`` sqlglot adds to keep SQLite's order
of NULLs: PostgreSQL does not accept it in a conflict target. Queries keep it (same results).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.dialects.sqlite import SQLite
from sqlglot.tokens import TokenType

_TRIGGER = re.compile(
    r"^\s*CREATE\s+TRIGGER\s+(?P<name>\w+)\s+BEFORE\s+(?P<event>UPDATE|DELETE)\s+ON\s+"
    r"(?P<table>\w+)\s+BEGIN\s+SELECT\s+RAISE\s*\(\s*ABORT\s*,\s*'(?P<message>[^']*)'\s*\)\s*;"
    r"\s*END\s*$",
    re.IGNORECASE,
)
_NOW_SECONDS = re.compile(r"strftime\(\s*'%s'\s*,\s*'now'\s*\)", re.IGNORECASE)
_SQLITE_ONLY_PROPERTIES = (exp.StrictProperty, exp.WithoutRowidProperty)
_POSITIONAL = "positional__"  # the name a ``?`` gets while translating (its index follows)


@dataclass(frozen=True)
class Translated:
    """One statement in PostgreSQL's dialect, and how to order its parameters."""

    sql: str
    # What ``$1, $2, ...`` take from the caller's parameters: an index into a sequence (``?``)
    # or a key of a mapping (``:name``).
    keys: tuple[int | str, ...] = ()

    def bind(self, params: Sequence[Any] | Mapping[str, Any]) -> list:
        """The parameter list for ``$1, $2, ...``."""
        return [params[key] for key in self.keys]  # type: ignore[index]


@lru_cache(maxsize=4096)
def translate(sql: str) -> tuple[Translated, ...]:
    """``sql`` (one or more SQLite statements) as PostgreSQL statements, in order."""
    trigger = _TRIGGER.match(sql)
    if trigger:
        return _append_only_trigger(**trigger.groupdict())
    sql = _NOW_SECONDS.sub("CAST(EXTRACT(EPOCH FROM now()) AS BIGINT)", _name_positionals(sql))
    return tuple(_translate(tree) for tree in sqlglot.parse(sql, read="sqlite") if tree)


@lru_cache(maxsize=256)
def translate_claim(sql: str) -> Translated:
    """A claim (``UPDATE t SET ... WHERE key IN (SELECT key ... LIMIT ?) RETURNING *``) whose
    inner select locks the rows it picks and skips rows another worker has locked: workers on
    many hosts claim different rows at once instead of queueing on the same ones."""
    tree = sqlglot.parse_one(_name_positionals(sql), read="sqlite")
    for select in tree.find_all(exp.Select):
        select.set("locks", [exp.Lock(update=True, wait=False)])  # FOR UPDATE SKIP LOCKED
    return _translate(tree)


def _name_positionals(sql: str) -> str:
    """Each ``?`` as ``:positional__N`` (N from 0, in the order they appear), so that numbering
    them does not depend on the order sqlglot walks its tree in."""
    marks = [t.start for t in SQLite().tokenize(sql) if t.token_type == TokenType.PLACEHOLDER]
    for index, start in reversed(list(enumerate(marks))):
        sql = f"{sql[:start]}:{_POSITIONAL}{index}{sql[start + 1 :]}"
    return sql


def _translate(tree: exp.Expression) -> Translated:
    keys: list[int | str] = []
    positional: list[int] = []
    derived: list[exp.Subquery] = []

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder):
            name = node.name
            if name.startswith(_POSITIONAL):  # the n-th ? is $n, wherever the tree keeps it
                positional.append(int(name.removeprefix(_POSITIONAL)))
                return exp.var(f"${positional[-1] + 1}")
            if name not in keys:
                keys.append(name)
            return exp.var(f"${keys.index(name) + 1}")
        if (
            isinstance(node, exp.Subquery)
            and not node.alias
            and isinstance(node.parent, exp.From | exp.Join)
        ):
            # PostgreSQL before 16 wants a name for every subquery in FROM.
            derived.append(node)
            node.set("alias", exp.TableAlias(this=exp.to_identifier(f"derived{len(derived)}")))
        if isinstance(node, exp.GroupConcat) and not isinstance(node.this, exp.Distinct):
            # SQLite joins any values as text; STRING_AGG takes only text.
            node.set("this", exp.cast(node.this, exp.DataType.build("TEXT")))
            if node.args.get("separator") is None:
                node.set("separator", exp.Literal.string(","))
        if isinstance(node, exp.Anonymous) and node.name.lower() == "total":
            summed = exp.func("COALESCE", exp.func("SUM", *node.expressions), exp.Literal.number(0))
            return exp.cast(summed, exp.DataType.build("DOUBLE PRECISION"))
        if isinstance(node, exp.Ordered) and not isinstance(node.parent, exp.Order | exp.Window):
            # An index's or a conflict target's column: PostgreSQL's own NULL order, written as
            # nothing (an ON CONFLICT target takes no NULLS clause at all).
            node.set("nulls_first", bool(node.args.get("desc")))
        return node

    tree = tree.transform(rewrite)
    if isinstance(tree, exp.Insert) and (tree.args.get("alternative") or "").upper() == "IGNORE":
        tree.set("alternative", None)
        tree.set("conflict", exp.OnConflict(action=exp.var("DO NOTHING")))
    if isinstance(tree, exp.Create) and tree.kind == "TABLE":
        _postgres_table(tree)
    if isinstance(tree, exp.Alter):
        for column in tree.find_all(exp.ColumnDef):
            _postgres_column(column)
    if keys and positional:
        raise ValueError(f"a statement mixes ? and :name parameters: {tree.sql('sqlite')}")
    if positional:
        keys = list(range(len(positional)))
    return Translated(tree.sql(dialect="postgres"), tuple(keys))


def _postgres_table(create: exp.Create) -> None:
    properties = create.args.get("properties")
    if properties is not None:
        kept = [p for p in properties.expressions if not isinstance(p, _SQLITE_ONLY_PROPERTIES)]
        if kept:
            properties.set("expressions", kept)
        else:
            create.set("properties", None)
    for column in create.find_all(exp.ColumnDef):
        _postgres_column(column)


def _postgres_column(column: exp.ColumnDef) -> None:
    kind = column.args.get("kind")
    if kind is None or not kind.is_type(exp.DataType.Type.INT, exp.DataType.Type.BIGINT):
        return
    column.set("kind", exp.DataType.build("BIGINT"))
    constraints = column.args.get("constraints") or []
    if any(isinstance(c.kind, exp.PrimaryKeyColumnConstraint) for c in constraints):
        # SQLite's rowid alias: a new row without an id gets the next one.
        identity = exp.ColumnConstraint(
            kind=exp.GeneratedAsIdentityColumnConstraint(this=False)  # BY DEFAULT
        )
        column.set("constraints", [identity, *constraints])


def _append_only_trigger(name: str, event: str, table: str, message: str) -> tuple[Translated, ...]:
    function = f"{name}_refuse"
    return (
        Translated(
            f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN RAISE EXCEPTION '{message}' USING ERRCODE = 'restrict_violation'; END $$"
        ),
        Translated(
            f"CREATE TRIGGER {name} BEFORE {event.upper()} ON {table}"
            f" FOR EACH ROW EXECUTE FUNCTION {function}()"
        ),
    )
