"""Saving, validating and compiling clones' strategy graphs.

Every accepted save is a new version; the executable graph and its layout metadata are stored
apart (the compiler and context builder never see the layout). A save with any error-level
problem is refused whole with every problem listed; warnings (e.g. funding asked of a spot
asset, which the compiler skips) are stored with the version.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from autotrader.clones import repo
from autotrader.clones.management import require_clone
from autotrader.clones.plan import CompiledPipeline
from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.core.errors import InvalidInputError, NotFoundError
from autotrader.market.registry import ensure_assets, known_assets

# A graph with every node and prompt at its size limit fits in a few hundred kilobytes.
MAX_PIPELINE_BYTES = 5_000_000


class PipelineRejected(InvalidInputError):
    """A graph failed validation; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            f"pipeline rejected with {len(problems)} problem(s): " + "; ".join(problems)
        )


def read_pipeline_file(path: Path) -> Any:
    """Parse a pipeline JSON file; a missing, malformed, oversized or absurdly nested file is
    one clear line."""
    from autotrader.core.jsonload import read_json_file

    return read_json_file(path, max_bytes=MAX_PIPELINE_BYTES)


def _context(store: Store):
    """The registry and taxonomy a graph is checked and compiled against (reads only)."""
    from autotrader.market.taxonomy import load_taxonomy

    return known_assets(store), load_taxonomy()


def _line(problem: Any) -> str:
    """``node (path): reason`` — the CLI prefixes errors with ``error:``; warnings say so."""
    where = problem.node_id or problem.path or "graph"
    if problem.node_id and problem.path:
        where = f"{problem.node_id} ({problem.path})"
    prefix = "" if problem.severity == "error" else f"{problem.severity}: "
    return f"{prefix}{where}: {problem.reason}"


def validate(store: Store, data: Any, *, clone_id: int | None = None) -> list[Any]:
    """Every problem of ``data`` (errors and warnings), checked against the registry and, when
    ``clone_id`` is given, the clone's entitlements and model."""
    from autotrader.clones.validation import validate_pipeline

    assets, taxonomy = _context(store)
    clone = require_clone(store, clone_id) if clone_id is not None else None
    return validate_pipeline(
        data,
        assets=assets,
        taxonomy=taxonomy,
        max_active_assets=clone.max_active_assets if clone else None,
        max_model_strength=clone.max_model_strength if clone else None,
        model_strength=clone.model_strength if clone else None,
        clone_variant=clone.variant if clone else None,
    )


def save(store: Store, clock: Clock, clone_id: int, data: Any) -> tuple[int, list[str]]:
    """Validate and store a new version; returns (version, warning lines).

    Raises ``PipelineRejected`` listing every error when the graph is not acceptable.
    """
    from autotrader.clones.graph import canonical_json, split_layout

    ensure_assets(store, clock)  # the registry a saved graph names is the store's own
    problems = validate(store, data, clone_id=clone_id)
    errors = [_line(p) for p in problems if p.severity == "error"]
    if errors:
        raise PipelineRejected(errors)
    warnings = [_line(p) for p in problems if p.severity != "error"]
    graph, layout = split_layout(data)
    with store.atomic():
        version = repo.insert_pipeline(
            store,
            clone_id,
            graph=canonical_json(graph),
            layout=canonical_json(layout),
            warnings=warnings,
            now_ms=clock.now_ms(),
        )
    return version, warnings


def stored(store: Store, clone_id: int, version: int | None = None) -> dict:
    """The stored graph row (latest version by default), or NotFoundError."""
    require_clone(store, clone_id)
    row = repo.pipeline(store, clone_id, version)
    if row is None:
        which = f"version {version}" if version else "pipeline"
        raise NotFoundError(
            f"clone {clone_id} has no {which} yet; save one with "
            f"`autotrader clones pipeline set FILE --clone-id {clone_id}`"
        )
    return row


def compiled(store: Store, clone_id: int, version: int | None = None) -> CompiledPipeline:
    """Compile a stored graph against the current registry; the clone's variant applies to
    trading prompts that name none."""
    from autotrader.clones.compiler import compile_pipeline
    from autotrader.clones.graph import parse_pipeline
    from autotrader.clones.vocabulary import Variant

    row = stored(store, clone_id, version)
    clone = require_clone(store, clone_id)
    assets, taxonomy = _context(store)
    return compile_pipeline(
        parse_pipeline(row["graph"]),
        clone_id=clone_id,
        version=row["version"],
        assets=assets,
        taxonomy=taxonomy,
        variant=Variant(clone.variant) if clone.variant else None,
    )
