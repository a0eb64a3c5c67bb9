"""Channels: where alerts go, read from ``AUTOTRADER_ALERT_URLS``, sent through apprise.

The setting holds apprise URLs separated by whitespace (``tgram://TOKEN/CHAT``,
``discord://ID/TOKEN``, ``json://host/path``, ``mailtos://…``). An entry may start with
``EVENTS=`` to narrow that channel (``exit,account=tgram://…``: apprise's own text-config
syntax for tags); ``AUTOTRADER_ALERT_EVENTS`` narrows every channel. A channel is named by its
scheme and position (``tgram#1``) wherever it is shown or stored: its URL holds credentials.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from autotrader.alerts.vocabulary import AlertEvent
from autotrader.core.errors import ConfigError
from autotrader.core.settings import Settings

SETTING = "AUTOTRADER_ALERT_URLS"
_ENTRY = re.compile(r"^(?:(?P<events>[a-z.,]+)=)?(?P<url>[a-z][a-z0-9+.-]*://\S+)$")
_EVENT_NAMES = frozenset(e.value for e in AlertEvent) | frozenset(e.family for e in AlertEvent)


@dataclass(frozen=True)
class Channel:
    name: str  # scheme#position, safe to show
    url: str = field(repr=False)  # a secret
    events: frozenset[str] = frozenset()  # empty: every event

    def wants(self, event: AlertEvent) -> bool:
        return allows(self.events, event)


def parse_event_filter(text: str, *, setting: str = "AUTOTRADER_ALERT_EVENTS") -> frozenset[str]:
    """``"fill,exit"`` → the names it allows; ``"all"`` (or empty) → every event (an empty
    set). ConfigError naming the setting for an unknown name."""
    names = {part.strip().lower() for part in text.split(",") if part.strip()}
    if not names or names == {"all"}:
        return frozenset()
    unknown = sorted(names - _EVENT_NAMES)
    if unknown:
        known = ", ".join(sorted(_EVENT_NAMES))
        raise ConfigError([f"{setting}: unknown event {', '.join(unknown)} (all, {known})"])
    return frozenset(names)


def allows(names: frozenset[str], event: AlertEvent) -> bool:
    """Whether a filter from :func:`parse_event_filter` lets ``event`` through."""
    return not names or event.value in names or event.family in names


def channels_from_settings(settings: Settings) -> list[Channel]:
    """Every configured channel; ConfigError (naming the entry by position, never by its
    text) for an entry that is not an apprise URL or names an unknown event."""
    text = settings.alert_urls.get_secret_value() if settings.alert_urls else ""
    result, problems = [], []
    for position, entry in enumerate(text.split(), start=1):
        match = _ENTRY.match(entry)
        if match is None:
            problems.append(f"{SETTING}: entry {position} is not an apprise URL (scheme://…)")
            continue
        try:
            events = parse_event_filter(
                match["events"] or "", setting=f"{SETTING} entry {position}"
            )
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        scheme = match["url"].split("://", 1)[0]
        result.append(Channel(f"{scheme}#{position}", match["url"], events))
    if problems:
        raise ConfigError(problems)
    return result


def send(channel: Channel, title: str, body: str) -> str | None:
    """Send one message; None when the channel accepted it, else why not (one line, with the
    channel's credentials blanked out). Never raises for a failing channel."""
    import apprise

    sender = apprise.Apprise()
    with apprise.LogCapture(level=apprise.logging.WARNING) as log:
        if not sender.add(channel.url):
            return "apprise does not understand this URL (see `apprise --details`)"
        if sender.notify(title=title, body=body):
            return None
        lines = [line.strip() for line in log.getvalue().splitlines() if line.strip()]
    return _redact(lines[0] if lines else "the channel refused the message", channel.url)


def _redact(text: str, url: str) -> str:
    """``text`` without any piece of ``url`` long enough to be a credential."""
    for piece in sorted(
        set(re.split(r"[/:@?&=#]+", url.split("://", 1)[-1])), key=len, reverse=True
    ):
        if len(piece) >= 6:
            text = text.replace(piece, "***")
    return text[:500]
