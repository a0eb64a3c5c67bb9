"""``alerts test``: one message to every configured channel, now, with the outcome of each."""

from __future__ import annotations

from dataclasses import dataclass

from autotrader.alerts.channels import Channel, send
from autotrader.core.clock import Clock, iso_utc
from autotrader.core.errors import ConfigError


@dataclass(frozen=True)
class ChannelCheck:
    channel: str
    ok: bool
    error: str | None


def check_channels(channels: list[Channel], clock: Clock, *, sender=send) -> list[ChannelCheck]:
    """Send a test message through each channel; ConfigError when none is configured."""
    if not channels:
        raise ConfigError(["AUTOTRADER_ALERT_URLS: no alert channel is configured"])
    title = "autotrader: test alert"
    body = f"A test message from `autotrader alerts test` at {iso_utc(clock.now_ms())}."
    results = []
    for channel in channels:
        error = sender(channel, title, body)
        results.append(ChannelCheck(channel.name, error is None, error))
    return results
