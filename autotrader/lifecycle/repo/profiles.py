"""SQL of public profiles: every submitted version, and the one public per clone."""

from __future__ import annotations

from autotrader.core.db import Store


def insert_version(store: Store, **values: object) -> int:
    return store.insert("profile_versions", values)


def next_version(store: Store, clone_id: int) -> int:
    return int(
        store.scalar(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM profile_versions WHERE clone_id = ?",
            (clone_id,),
        )
    )


def get_version(store: Store, version_id: int) -> dict | None:
    return store.query_one("SELECT * FROM profile_versions WHERE id = ?", (version_id,))


def supersede_pending(store: Store, clone_id: int) -> int:
    """Mark the clone's pending versions superseded by a newer edit; how many."""
    return store.execute(
        "UPDATE profile_versions SET status = 'superseded' WHERE clone_id = ?"
        " AND status = 'pending'",
        (clone_id,),
    )


def review(
    store: Store, version_id: int, status: str, *, actor: str, reason: str, now_ms: int
) -> bool:
    """pending → approved|rejected; False when it was not pending (nothing changed)."""
    return (
        store.execute(
            "UPDATE profile_versions SET status = ?, reviewed_by = ?, reviewed_at = ?,"
            " review_reason = ? WHERE id = ? AND status = 'pending'",
            (status, actor, now_ms, reason, version_id),
        )
        == 1
    )


def pending(store: Store) -> list[dict]:
    """The moderation queue, oldest submission first."""
    return store.query("SELECT * FROM profile_versions WHERE status = 'pending' ORDER BY id")


def versions(store: Store, clone_id: int) -> list[dict]:
    return store.query(
        "SELECT * FROM profile_versions WHERE clone_id = ? ORDER BY version", (clone_id,)
    )


def public_version(store: Store, clone_id: int) -> dict | None:
    return store.query_one(
        "SELECT v.* FROM public_profiles p JOIN profile_versions v ON v.id = p.version_id"
        " WHERE p.clone_id = ?",
        (clone_id,),
    )


def public_holders_of(store: Store, name_key: str, look_alike_key: str) -> set[int]:
    """The clones whose public name folds to either key."""
    return {
        clone_id
        for (clone_id,) in store.tuples(
            "SELECT clone_id FROM public_profiles WHERE name_key = ? OR look_alike_key = ?",
            (name_key, look_alike_key),
        )
    }


def publish(
    store: Store, *, clone_id: int, version_id: int, name_key: str, look_alike_key: str, now_ms: int
) -> None:
    store.upsert(
        "public_profiles",
        {
            "clone_id": clone_id,
            "version_id": version_id,
            "name_key": name_key,
            "look_alike_key": look_alike_key,
            "approved_at": now_ms,
        },
        key=["clone_id"],
    )


def public_clone_ids(store: Store) -> set[int]:
    return {clone_id for (clone_id,) in store.tuples("SELECT clone_id FROM public_profiles")}
