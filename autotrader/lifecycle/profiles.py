"""Public clone profiles: a name, a bio and an avatar URL, shown only once a moderator approves.

``set_profile`` runs the automatic checks first and refuses, with nothing stored, a profile that
fails any of them (every problem in one line): length limits; control, zero-width, bidi-override
and other invisible characters; https-only URLs; a deny-list; and a name that folds (case- and
confusable-insensitively, ``lifecycle.confusables``) to another clone's public name. A profile
that passes becomes a pending version in the moderation queue (``lifecycle.moderation``); the
last approved version stays public meanwhile.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.resources import files
from urllib.parse import urlsplit

from autotrader.clones.owners import owner_of_clone
from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.core.errors import InvalidInputError, NotFoundError
from autotrader.lifecycle import state
from autotrader.lifecycle.confusables import name_keys
from autotrader.lifecycle.repo import profiles as repo
from autotrader.lifecycle.vocabulary import EventKind, ProfileStatus

NAME_CHARS = (2, 32)
BIO_CHARS = 280
URL_CHARS = 300
# Invisible although not of a format category: fillers and a blank that render as nothing.
_INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f")
_REFUSED_CATEGORIES = {
    "Cc": "a control character",
    "Cf": "an invisible formatting character (zero-width, bidi override, …)",
    "Co": "a private-use character",
    "Cs": "a lone surrogate",
    "Cn": "an unassigned character",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
}


@dataclass(frozen=True)
class ProfileDraft:
    """A profile as submitted, normalized (NFC, trimmed)."""

    name: str
    bio: str
    avatar_url: str | None


def builtin_denylist() -> tuple[str, ...]:
    """The words shipped with the package (impersonation of the product and its staff)."""
    text = files("autotrader").joinpath("data", "profile_denylist.txt").read_text("utf-8")
    return tuple(w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#"))


def denylist(extra: str = "") -> tuple[str, ...]:
    """The built-in words and the setting's extra ones (comma-separated)."""
    return builtin_denylist() + tuple(w.strip() for w in extra.split(",") if w.strip())


def check_profile(
    name: str, bio: str, avatar_url: str | None, *, denied: Iterable[str]
) -> ProfileDraft:
    """The normalized draft, or ``InvalidInputError`` listing every automatic check it fails."""
    draft = ProfileDraft(
        unicodedata.normalize("NFC", name or "").strip(),
        unicodedata.normalize("NFC", bio or "").strip(),
        unicodedata.normalize("NFC", avatar_url).strip() if avatar_url else None,
    )
    problems = []
    low, high = NAME_CHARS
    if not low <= len(draft.name) <= high:
        problems.append(f"--name: {low}–{high} characters (got {len(draft.name)})")
    if len(draft.bio) > BIO_CHARS:
        problems.append(f"--bio: at most {BIO_CHARS} characters (got {len(draft.bio)})")
    problems += _hostile("--name", draft.name, allow_newlines=False)
    problems += _hostile("--bio", draft.bio, allow_newlines=True)
    if draft.avatar_url is not None:
        problems += _hostile("--avatar-url", draft.avatar_url, allow_newlines=False)
        problems += _url_problems(draft.avatar_url)
    lowered = draft.bio.lower()
    if "http://" in lowered or "javascript:" in lowered or "data:" in lowered:
        problems.append("--bio: links must be https")
    problems += _denied(draft, denied)
    if problems:
        raise InvalidInputError("profile refused: " + "; ".join(problems))
    return draft


def _hostile(field: str, text: str, *, allow_newlines: bool) -> list[str]:
    found: dict[str, str] = {}
    for char in text:
        if allow_newlines and char == "\n":
            continue
        category = unicodedata.category(char)
        what = _REFUSED_CATEGORIES.get(category) or (
            "an invisible character" if char in _INVISIBLE else None
        )
        if what is not None:
            found.setdefault(what, f"U+{ord(char):04X}")
    return [f"{field}: contains {what} ({code})" for what, code in found.items()]


def _url_problems(url: str) -> list[str]:
    if len(url) > URL_CHARS:
        return [f"--avatar-url: at most {URL_CHARS} characters"]
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading it validates the port
    except ValueError:
        return ["--avatar-url: not a URL"]
    problems = []
    if parts.scheme != "https":
        problems.append("--avatar-url: must be an https:// URL")
    if not parts.hostname or not url.isascii() or any(c.isspace() for c in url):
        problems.append("--avatar-url: needs a host, in ASCII, without spaces")
    if parts.username is not None or parts.password is not None:
        problems.append("--avatar-url: must not carry credentials")
    return problems


def _denied(draft: ProfileDraft, denied: Iterable[str]) -> list[str]:
    texts = name_keys(draft.name) + name_keys(draft.bio)
    hits = sorted(
        {w for w in denied for key in name_keys(w) if key and any(key in t for t in texts)}
    )
    return [f"uses a denied word: {', '.join(hits)}"] if hits else []


def name_collision(store: Store, clone_id: int, name: str) -> int | None:
    """Another clone whose public name reads the same as ``name``, if any."""
    others = repo.public_holders_of(store, *name_keys(name)) - {clone_id}
    return min(others) if others else None


def set_profile(
    store: Store,
    clock: Clock,
    clone_id: int,
    *,
    name: str,
    bio: str,
    avatar_url: str | None,
    denied: Iterable[str],
    actor: str,
) -> dict:
    """Submit a new version of the clone's profile (pending review); see the module docstring.
    An older version still waiting for review is superseded by this one."""
    draft = check_profile(name, bio, avatar_url, denied=denied)
    key, look_alike = name_keys(draft.name)
    now = clock.now_ms()
    with store.atomic():
        owner = owner_of_clone(store, clone_id)
        holder = name_collision(store, clone_id, draft.name)
        if holder is not None:
            raise InvalidInputError(
                f"profile refused: --name {draft.name!r} reads the same as clone {holder}'s public"
                " name (compared case- and confusable-insensitively)"
            )
        repo.supersede_pending(store, clone_id)
        version = repo.next_version(store, clone_id)
        version_id = repo.insert_version(
            store,
            clone_id=clone_id,
            version=version,
            owner=owner.handle,
            name=draft.name,
            bio=draft.bio,
            avatar_url=draft.avatar_url,
            name_key=key,
            look_alike_key=look_alike,
            status=ProfileStatus.PENDING.value,
            submitted_by=actor,
            submitted_at=now,
        )
        state.note(
            store,
            clone_id,
            EventKind.PROFILE_SUBMITTED,
            actor=actor,
            reason=f"version {version} ({draft.name!r}) waits for moderation",
            now_ms=now,
        )
    return require_version(store, version_id)


def require_version(store: Store, version_id: int) -> dict:
    row = repo.get_version(store, version_id)
    if row is None:
        raise NotFoundError(f"profile version {version_id} does not exist")
    return row


def profile_of(store: Store, clone_id: int) -> dict:
    """What the public sees (the approved version, or None) and every version submitted."""
    owner_of_clone(store, clone_id)
    return {
        "clone_id": clone_id,
        "public": repo.public_version(store, clone_id),
        "versions": repo.versions(store, clone_id),
    }
