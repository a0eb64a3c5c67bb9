"""The only SQL for clone tables: models, clones, owners, entitlements, pipeline versions."""

from __future__ import annotations

import json
from decimal import Decimal

from autotrader.core.db import Store
from autotrader.core.money import to_text

# -- models -----------------------------------------------------------------------------------


def _model(row: dict | None) -> dict | None:
    if row is not None:
        row["input_usd_per_mtok"] = Decimal(row["input_usd_per_mtok"])
        row["output_usd_per_mtok"] = Decimal(row["output_usd_per_mtok"])
    return row


def list_models(store: Store) -> list[dict]:
    return [_model(r) for r in store.query("SELECT * FROM models ORDER BY strength, name")]  # type: ignore[misc]


def get_model(store: Store, name: str) -> dict | None:
    return _model(store.query_one("SELECT * FROM models WHERE name = ?", (name,)))


def upsert_model(
    store: Store,
    *,
    name: str,
    provider: str,
    base_url_setting: str,
    api_model: str,
    api: str,
    strength: int,
    input_usd_per_mtok: Decimal,
    output_usd_per_mtok: Decimal,
    now_ms: int,
) -> None:
    store.execute(
        """
        INSERT INTO models (name, provider, base_url_setting, api_model, api, strength,
            input_usd_per_mtok, output_usd_per_mtok, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (name) DO UPDATE SET provider = excluded.provider,
            base_url_setting = excluded.base_url_setting, api_model = excluded.api_model,
            api = excluded.api, strength = excluded.strength,
            input_usd_per_mtok = excluded.input_usd_per_mtok,
            output_usd_per_mtok = excluded.output_usd_per_mtok
        """,
        (
            name,
            provider,
            base_url_setting,
            api_model,
            api,
            strength,
            to_text(input_usd_per_mtok),
            to_text(output_usd_per_mtok),
            now_ms,
        ),
    )


# -- clones and entitlements ---------------------------------------------------------------------


def insert_clone(
    store: Store,
    *,
    clone_id: int | None,
    owner: str,
    name: str,
    model: str,
    display_name: str | None,
    description: str | None,
    now_ms: int,
    variant: str | None = None,
) -> int:
    return store.insert(
        "clones",
        {
            "id": clone_id,
            "owner": owner,
            "name": name,
            "display_name": display_name,
            "description": description,
            "model": model,
            "variant": variant,
            "trading_enabled": 1,
            "created_at": now_ms,
            "updated_at": now_ms,
        },
    )


def get_clone(store: Store, clone_id: int) -> dict | None:
    return store.query_one(
        "SELECT c.*, e.max_model_strength, e.max_active_assets, m.strength AS model_strength,"
        " o.evm_address AS owner_address"
        " FROM clones c LEFT JOIN clone_entitlements e ON e.clone_id = c.id"
        " LEFT JOIN owners o ON o.handle = c.owner"
        " JOIN models m ON m.name = c.model WHERE c.id = ?",
        (clone_id,),
    )


def clone_by_name(store: Store, owner: str, name: str) -> dict | None:
    return store.query_one("SELECT * FROM clones WHERE owner = ? AND name = ?", (owner, name))


def list_clones(store: Store) -> list[dict]:
    return store.query(
        "SELECT c.*, e.max_model_strength, e.max_active_assets, m.strength AS model_strength,"
        " (SELECT MAX(version) FROM clone_pipelines p WHERE p.clone_id = c.id) AS pipeline_version,"
        " o.evm_address AS owner_address"
        " FROM clones c LEFT JOIN clone_entitlements e ON e.clone_id = c.id"
        " LEFT JOIN owners o ON o.handle = c.owner"
        " JOIN models m ON m.name = c.model ORDER BY c.id"
    )


def clone_models(store: Store) -> dict[int, str]:
    """Clone id → the name of the model it runs, for every clone."""
    return dict(store.tuples("SELECT id, model FROM clones"))


def clone_variants(store: Store) -> dict[int, str | None]:
    """Clone id → its strategy variant (None: it has none), for every clone."""
    return dict(store.tuples("SELECT id, variant FROM clones"))


def trading_clone_with(
    store: Store, model: str, variant: str, *, other_than: int | None = None
) -> dict | None:
    """The trading clone (other than ``other_than``) that runs ``variant`` on ``model``."""
    return store.query_one(
        "SELECT * FROM clones WHERE model = ? AND variant = ? AND trading_enabled = 1"
        " AND id IS NOT ?",
        (model, variant, other_than),
    )


def update_clone(store: Store, clone_id: int, *, now_ms: int, **values: object) -> None:
    allowed = {"model", "trading_enabled", "display_name", "description"}
    if set(values) - allowed:
        raise ValueError(f"not clone columns: {sorted(set(values) - allowed)}")
    assignments = ", ".join(f"{column} = ?" for column in values)
    store.execute(
        f"UPDATE clones SET {assignments}, updated_at = ? WHERE id = ?",
        [*values.values(), now_ms, clone_id],
    )


def set_entitlements(
    store: Store,
    clone_id: int,
    *,
    max_model_strength: int,
    max_active_assets: int,
    reason: str | None,
    now_ms: int,
) -> None:
    store.execute(
        """
        INSERT INTO clone_entitlements (clone_id, max_model_strength, max_active_assets, reason,
            updated_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (clone_id) DO UPDATE SET max_model_strength = excluded.max_model_strength,
            max_active_assets = excluded.max_active_assets, reason = excluded.reason,
            updated_at = excluded.updated_at
        """,
        (clone_id, max_model_strength, max_active_assets, reason, now_ms),
    )


# -- owners -------------------------------------------------------------------------------------


def get_owner(store: Store, handle: str) -> dict | None:
    return store.query_one("SELECT * FROM owners WHERE handle = ?", (handle,))


def owner_by_address(store: Store, address: str) -> dict | None:
    return store.query_one("SELECT * FROM owners WHERE evm_address = ?", (address,))


def list_owners(store: Store) -> list[dict]:
    return store.query(
        "SELECT o.*, (SELECT COUNT(*) FROM clones c WHERE c.owner = o.handle) AS clones"
        " FROM owners o ORDER BY o.handle"
    )


def insert_owner(store: Store, handle: str, *, evm_address: str | None, now_ms: int) -> None:
    store.insert(
        "owners",
        {"handle": handle, "evm_address": evm_address, "created_at": now_ms, "updated_at": now_ms},
        returning="handle",
    )


def set_owner_address(store: Store, handle: str, evm_address: str, *, now_ms: int) -> None:
    store.execute(
        "UPDATE owners SET evm_address = ?, updated_at = ? WHERE handle = ?",
        (evm_address, now_ms, handle),
    )


# -- pipelines ----------------------------------------------------------------------------------


def insert_pipeline(
    store: Store, clone_id: int, *, graph: str, layout: str, warnings: list[str], now_ms: int
) -> int:
    """Store a new version (the next integer) and return it."""
    version = store.scalar(
        "SELECT COALESCE(MAX(version), 0) + 1 FROM clone_pipelines WHERE clone_id = ?",
        (clone_id,),
    )
    store.execute(
        "INSERT INTO clone_pipelines (clone_id, version, graph, layout, warnings, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (clone_id, version, graph, layout, json.dumps(warnings), now_ms),
    )
    return int(version)


def pipeline(store: Store, clone_id: int, version: int | None = None) -> dict | None:
    if version is None:
        return store.query_one(
            "SELECT * FROM clone_pipelines WHERE clone_id = ? ORDER BY version DESC LIMIT 1",
            (clone_id,),
        )
    return store.query_one(
        "SELECT * FROM clone_pipelines WHERE clone_id = ? AND version = ?", (clone_id, version)
    )


def pipeline_history(store: Store, clone_id: int) -> list[dict]:
    return store.query(
        "SELECT clone_id, version, created_at, length(graph) AS graph_bytes, warnings"
        " FROM clone_pipelines WHERE clone_id = ? ORDER BY version DESC",
        (clone_id,),
    )
