"""Save-time validation of a pipeline document: every problem at once, each one located.

:func:`validate_pipeline` accepts anything (text, decoded JSON, garbage) and never raises: each
problem is a :class:`Problem` with the node id (when one is involved), a JSON path such as
``nodes[2].decisionCadenceSec``, a stable ``code`` and a human ``reason``. Saving is refused
only when some problem has severity ``error``; warnings are kept with the saved version.

Errors
    ``invalid_json``, ``not_json`` (NaN, non-string keys), ``not_an_object``, ``missing_field``,
    ``unknown_field``, ``wrong_type``, ``out_of_range``, ``invalid_value``,
    ``unknown_node_type``, ``unsupported_version``, ``invalid_layout`` (layout not an object),
    ``duplicate_node_id``, ``unknown_node`` (edge end), ``invalid_edge`` (only
    data_stream → asset_selection → trading_prompt), ``cycle``, ``orphan_node``,
    ``incomplete_path`` (a node on no full data_stream → asset_selection → trading_prompt path),
    ``unreachable_prompt``, ``no_trading_prompt``, ``unknown_symbol``, ``unknown_category``,
    ``unknown_subcategory``, ``duplicate_override``, ``capacity_exceeded``, ``model_too_strong``,
    ``variant_mismatch`` (a prompt names another variant than its clone's),
    ``internal_error`` (a validator bug; reported instead of raised).
Warnings
    ``unsupported_channel`` (e.g. funding of a spot asset: skipped at compile),
    ``unsupported_scope`` (a DefiLlama channel/scope pair ingestion does not produce),
    ``duplicate_edge``, ``conflicting_symbol``, ``empty_selection``, ``inactive_asset``,
    ``empty_data_stream``, ``override_ignored``, ``override_unused``, ``no_coverage``,
    ``layout_invalid`` (malformed layout content), ``unknown_layout_node``.

A trading prompt's ``engineParams`` are checked by the schema of its engine
(:mod:`autotrader.clones.engine_params`, the one the engine parses them with), so their errors
carry the same codes, e.g. ``out_of_range`` at ``nodes[2].engineParams.leverage``.

Layout metadata only has to be an object; its content is never an error. Pure: the registry's
assets, the taxonomy and the clone's entitlements are passed in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from autotrader.clones.compiler import ALLOWED_EDGES
from autotrader.clones.engine_params import schema_for
from autotrader.clones.graph import (
    EDGE_ADAPTER,
    LAYOUT_KEY,
    NODE_ADAPTER,
    NODE_TYPES,
    Edge,
    Layout,
    json_path,
    load_document,
    schema_errors,
)
from autotrader.clones.universe import SymbolIndex
from autotrader.clones.validation_registry import RegistryChecks
from autotrader.core.errors import InvalidInputError
from autotrader.market.models import AssetInfo
from autotrader.market.taxonomy import Taxonomy

Severity = Literal["error", "warning"]
Path = Sequence[str | int]

_TOP_LEVEL = ("version", "nodes", "edges", LAYOUT_KEY)
_RANGE_ERRORS = frozenset(
    {"greater_than", "greater_than_equal", "less_than", "less_than_equal", "too_short",
     "too_long", "string_too_short", "string_too_long"}
)  # fmt: skip
_MAX_JSON_PROBLEMS = 20


@dataclass(frozen=True, slots=True)
class Problem:
    """One located problem. ``path`` is a JSON path into the document ("" for the whole)."""

    node_id: str | None
    path: str
    code: str
    reason: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = self.path or "pipeline"
        return f"{self.severity}: {where}: {self.reason}"


def errors(problems: Iterable[Problem]) -> list[Problem]:
    """Only the problems that refuse a save."""
    return [p for p in problems if p.severity == "error"]


def raise_for_errors(problems: Iterable[Problem]) -> None:
    """Raise InvalidInputError listing every error-level problem (none: return)."""
    found = errors(problems)
    if found:
        lines = "; ".join(str(p) for p in found)
        raise InvalidInputError(f"pipeline rejected with {len(found)} error(s): {lines}")


def validate_pipeline(
    data: Any,
    *,
    assets: Sequence[AssetInfo],
    taxonomy: Taxonomy | None,
    max_active_assets: int | None = None,
    max_model_strength: int | None = None,
    model_strength: int | None = None,
    clone_variant: str | None = None,
) -> list[Problem]:
    """Every problem of ``data`` (text or decoded JSON), errors first, then warnings.

    ``assets`` are the registry's categorised assets. Capacity counts the union of the
    universes of *enabled* trading prompts against ``max_active_assets``; ``model_strength``
    above ``max_model_strength`` is an error, and so is a trading prompt naming another variant
    than ``clone_variant``. A ``None`` limit is not checked. Never raises.
    """
    checker = _Checker(list(assets), taxonomy)
    try:
        checker.run(data)
        checker.check_model(model_strength, max_model_strength)
        checker.check_variant(clone_variant)
        checker.check_capacity(max_active_assets)
    except Exception as exc:  # the promise is "never raises": a bug becomes a located problem
        checker.add([], "internal_error", f"validator failed: {type(exc).__name__}: {exc}")
    return sorted(checker.problems, key=lambda p: p.severity != "error")


class _Checker(RegistryChecks):
    def __init__(self, assets: list[AssetInfo], taxonomy: Taxonomy | None) -> None:
        self.assets, self.taxonomy = assets, taxonomy
        self.symbols = SymbolIndex(assets)
        self.problems: list[Problem] = []
        self.declared: dict[str, tuple[str, int]] = {}  # node id → (type, index), first wins
        self.parsed: list[tuple[int, Any]] = []  # (index, node model), first of each id
        self.universe: set[str] = set()  # union over enabled trading prompts

    def add(self, path: Path, code: str, reason: str, *, node_id: str | None = None,
            severity: Severity = "error") -> None:  # fmt: skip
        self.problems.append(Problem(node_id, json_path(list(path)), code, reason, severity))

    def warn(self, path: Path, code: str, reason: str, *, node_id: str | None = None) -> None:
        self.add(path, code, reason, node_id=node_id, severity="warning")

    # -- document shape ---------------------------------------------------------------------------

    def run(self, data: Any) -> None:
        try:
            document = load_document(data)
        except InvalidInputError as exc:
            self.add([], "invalid_json", str(exc))
            return
        self._json_values(document)
        if not isinstance(document, Mapping):
            self.add([], "not_an_object", "a pipeline must be a JSON object")
            return
        raw_nodes, raw_edges = self._top_level(document)
        self._nodes(raw_nodes)
        edges = self._edges(raw_edges)
        allowed = self._structure(edges)
        self._layout(document)
        for index, node in self.parsed:
            getattr(self, f"_check_{node.type}")(index, node)
            if node.type == "trading_prompt":
                self._engine_params(index, node)
        self._compiled(allowed)

    def _json_values(self, document: Any) -> None:
        found = 0
        stack: list[tuple[Any, list[str | int]]] = [(document, [])]
        while stack and found < _MAX_JSON_PROBLEMS:
            value, path = stack.pop()
            reason = None
            if isinstance(value, Mapping):
                for key, child in value.items():
                    if isinstance(key, str):
                        stack.append((child, [*path, key]))
                    else:
                        reason = f"object key {key!r} is not a string"
            elif isinstance(value, list | tuple):
                stack.extend((child, [*path, i]) for i, child in enumerate(value))
            elif isinstance(value, float) and not math.isfinite(value):
                reason = f"{value} is not a JSON number"
            elif value is not None and not isinstance(value, str | int | float):
                reason = f"a {type(value).__name__} is not a JSON value"
            if reason:
                found += 1
                self.add(path, "not_json", reason)

    def _top_level(self, document: Mapping[str, Any]) -> tuple[list[Any], list[Any]]:
        for key in document:
            if key not in _TOP_LEVEL:
                self.add([str(key)], "unknown_field", f"unknown top-level key {key!r}")
        version = document.get("version")
        if "version" not in document:
            self.add(["version"], "missing_field", "'version' is required (1)")
        elif isinstance(version, bool) or not isinstance(version, int):
            self.add(["version"], "wrong_type", "'version' must be the integer 1")
        elif version != 1:
            self.add(["version"], "unsupported_version", f"unsupported version {version}")
        lists = []
        for key, required in (("nodes", True), ("edges", False)):
            value = document.get(key, None if required else [])
            if key not in document and required:
                self.add([key], "missing_field", f"'{key}' is required (a list)")
            elif not isinstance(value, list):
                self.add([key], "wrong_type", f"'{key}' must be a list")
            lists.append(value if isinstance(value, list) else [])
        return lists[0], lists[1]

    def _schema(self, exc: ValidationError, raw: Any, prefix: Path, node_id: str | None) -> None:
        for parts, kind, message in schema_errors(exc, raw, list(prefix)):
            code = {"missing": "missing_field", "extra_forbidden": "unknown_field",
                    "union_tag_not_found": "missing_field",
                    "union_tag_invalid": "unknown_node_type"}.get(kind)  # fmt: skip
            if code is None:
                is_type = kind.endswith("_type") or kind.endswith("_parsing")
                in_range = kind in _RANGE_ERRORS
                code = "wrong_type" if is_type else "out_of_range" if in_range else "invalid_value"
            self.add(parts, code, message, node_id=node_id)

    def _engine_params(self, i: int, node: Any) -> None:
        """The parameters checked by the schema of the engine that will read them."""
        try:
            schema_for(node.engine).model_validate(node.engine_params)
        except ValidationError as exc:
            self._schema(exc, node.engine_params, ["nodes", i, "engineParams"], node.id)

    def _nodes(self, raw_nodes: list[Any]) -> None:
        for i, raw in enumerate(raw_nodes):
            node_id = raw.get("id") if isinstance(raw, Mapping) else None
            node_type = raw.get("type") if isinstance(raw, Mapping) else None
            node_id = node_id if isinstance(node_id, str) else None
            first = True
            if node_id is not None and isinstance(node_type, str) and node_type in NODE_TYPES:
                if node_id in self.declared:
                    first = False
                    other = self.declared[node_id][1]
                    self.add(["nodes", i, "id"], "duplicate_node_id",
                             f"node id {node_id!r} is also used by nodes[{other}]",
                             node_id=node_id)  # fmt: skip
                else:
                    self.declared[node_id] = (node_type, i)
            try:
                node = NODE_ADAPTER.validate_python(raw)
            except ValidationError as exc:
                self._schema(exc, raw, ["nodes", i], node_id)
                continue
            if first:
                self.parsed.append((i, node))

    def _edges(self, raw_edges: list[Any]) -> list[tuple[int, Edge]]:
        edges = []
        for k, raw in enumerate(raw_edges):
            try:
                edges.append((k, EDGE_ADAPTER.validate_python(raw)))
            except ValidationError as exc:
                self._schema(exc, raw, ["edges", k], None)
        return edges

    # -- structure --------------------------------------------------------------------------------

    def _structure(self, edges: list[tuple[int, Edge]]) -> list[Edge]:
        """Check edges, cycles and paths; return the allowed, distinct edges."""
        known: list[tuple[int, Edge]] = []
        allowed: dict[tuple[str, str], Edge] = {}
        for k, edge in edges:
            ends = [(end, name, self.declared.get(name)) for end, name in
                    (("from", edge.source), ("to", edge.target))]  # fmt: skip
            for end, name, found in ends:
                if found is None:
                    self.add(["edges", k, end], "unknown_node", f"edge {end} unknown node {name!r}")
            if any(found is None for *_, found in ends):
                continue
            known.append((k, edge))
            kinds = (self.declared[edge.source][0], self.declared[edge.target][0])
            if kinds not in ALLOWED_EDGES:
                self.add(["edges", k], "invalid_edge",
                         f"{kinds[0]} → {kinds[1]} is not allowed; edges run data_stream → "
                         "asset_selection → trading_prompt", node_id=edge.source)  # fmt: skip
            elif (edge.source, edge.target) in allowed:
                self.warn(["edges", k], "duplicate_edge", "the same edge appears twice",
                          node_id=edge.source)  # fmt: skip
            else:
                allowed[(edge.source, edge.target)] = edge
        self._cycles(known)
        self._paths(set(allowed))
        return list(allowed.values())

    def _cycles(self, edges: list[tuple[int, Edge]]) -> None:
        """One error per edge that closes a cycle (iterative DFS: deep graphs cannot overflow)."""
        out: dict[str, list[tuple[str, int]]] = {}
        for k, edge in edges:
            out.setdefault(edge.source, []).append((edge.target, k))
        state: dict[str, int] = {}  # 1 on the current path, 2 done
        for root in sorted(out):
            if root in state:
                continue
            path, stack = [root], [iter(out.get(root, []))]
            state[root] = 1
            while stack:
                step = next(stack[-1], None)
                if step is None:
                    state[path.pop()] = 2
                    stack.pop()
                    continue
                target, k = step
                if state.get(target) == 1:
                    loop = [*path[path.index(target) :], target]
                    self.add(["edges", k], "cycle", "edge closes a cycle: " + " → ".join(loop),
                             node_id=target)  # fmt: skip
                elif target not in state:
                    state[target] = 1
                    path.append(target)
                    stack.append(iter(out.get(target, [])))

    def _paths(self, allowed: set[tuple[str, str]]) -> None:
        kind = {node_id: t for node_id, (t, _) in self.declared.items()}
        touched = {n for pair in allowed for n in pair}
        with_stream = {t for s, t in allowed if kind[s] == "data_stream"}
        with_prompt = {s for s, t in allowed if kind[t] == "trading_prompt"}
        complete = with_stream & with_prompt
        on_path = complete | {s for s, t in allowed if t in complete}
        on_path |= {t for s, t in allowed if s in complete}
        for node_id, (node_type, i) in self.declared.items():
            if node_id not in touched:
                self.add(["nodes", i], "orphan_node", f"{node_type} {node_id!r} has no edges",
                         node_id=node_id)  # fmt: skip
            elif node_id not in on_path:
                code, reason = _path_problem(node_type, node_id, node_id in with_stream)
                self.add(["nodes", i], code, reason, node_id=node_id)
        if "trading_prompt" not in kind.values():
            self.add(["nodes"], "no_trading_prompt", "the graph has no trading_prompt node")

    def _layout(self, document: Mapping[str, Any]) -> None:
        if LAYOUT_KEY not in document:
            return
        raw = document[LAYOUT_KEY]
        if not isinstance(raw, Mapping):
            self.add([LAYOUT_KEY], "invalid_layout", "layout must be a JSON object")
            return
        try:
            layout = Layout.model_validate(raw)
        except ValidationError as exc:
            for parts, _, message in schema_errors(exc, raw, [LAYOUT_KEY]):
                self.warn(parts, "layout_invalid", message)
            return
        clone = layout.strategy_clone
        for j, prompt_id in enumerate(clone.connected_prompt_node_ids if clone else []):
            if self.declared.get(prompt_id, ("",))[0] != "trading_prompt":
                path = [LAYOUT_KEY, "strategyClone", "connectedPromptNodeIds", j]
                self.warn(path, "unknown_layout_node", f"{prompt_id!r} is not a trading prompt")

    def check_model(self, strength: int | None, limit: int | None) -> None:
        if strength is not None and limit is not None and strength > limit:
            self.add([], "model_too_strong", f"the clone's model has strength {strength}, above "
                     f"its entitlement ({limit})")  # fmt: skip

    def check_variant(self, clone_variant: str | None) -> None:
        if clone_variant is None:
            return
        for i, node in self.parsed:
            if node.type == "trading_prompt" and node.variant not in (None, clone_variant):
                self.add(["nodes", i, "variant"], "variant_mismatch", f"the clone runs "
                         f"{clone_variant}; leave variant out or set it to {clone_variant!r}",
                         node_id=node.id)  # fmt: skip


def _path_problem(node_type: str, node_id: str, has_stream: bool) -> tuple[str, str]:
    if node_type == "trading_prompt":
        return "unreachable_prompt", (
            f"trading prompt {node_id!r} is not reachable from a data stream through an "
            "asset selection"
        )
    if node_type == "data_stream":
        return "incomplete_path", (
            f"data stream {node_id!r} feeds no asset selection connected to a trading prompt"
        )
    missing = "a trading prompt" if has_stream else "a data stream"
    return "incomplete_path", f"asset selection {node_id!r} is not connected to {missing}"
