"""The only SQL for model arena tables."""

from __future__ import annotations

from autotrader.core.db import Store


def get_arena(store: Store, name: str) -> dict | None:
    return store.query_one("SELECT * FROM model_arenas WHERE name = ?", (name,))


def arena_names(store: Store) -> list[str]:
    return [row["name"] for row in store.query("SELECT name FROM model_arenas ORDER BY name")]


def insert_arena(store: Store, *, name: str, spec: str, started_at: int, now_ms: int) -> None:
    store.insert(
        "model_arenas",
        {"name": name, "spec": spec, "started_at": started_at, "created_at": now_ms},
        returning="name",
    )


def insert_member(
    store: Store, *, arena: str, model: str, variant: str, clone_id: int, account_id: int
) -> None:
    store.insert(
        "model_arena_members",
        {
            "arena": arena,
            "model": model,
            "variant": variant,
            "clone_id": clone_id,
            "account_id": account_id,
        },
        returning="clone_id",
    )


def members(store: Store, arena: str) -> list[dict]:
    """The arena's cells: ``model, variant, clone_id, account_id``, in the order set up."""
    return store.query(
        "SELECT model, variant, clone_id, account_id FROM model_arena_members WHERE arena = ?"
        " ORDER BY rowid",
        (arena,),
    )
