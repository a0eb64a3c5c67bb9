"""Building the lifecycle's services from settings: the fee and audition policies, the payment
verifier of the treasury (when one is configured) and the audition evaluator."""

from __future__ import annotations

from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.core.errors import ConfigError
from autotrader.core.settings import Settings


def treasury_verifier(settings: Settings, clock: Clock):
    """The Hyperliquid verifier of the treasury's transfers, or None without a treasury."""
    if not settings.treasury_address:
        return None
    from autotrader.lifecycle.verifiers import HyperliquidVerifier
    from autotrader.market.sources.hyperliquid import HyperliquidSource

    client = HyperliquidSource(
        base_url=settings.hyperliquid_url,
        timeout_ms=int(settings.http_timeout * 1000),
        max_retries=settings.http_retries,
        clock=clock,
        rate_limit_ms=settings.hyperliquid_rate_limit_ms,
    )
    return HyperliquidVerifier(client, clock, treasury=settings.treasury_address)


def require_treasury_verifier(settings: Settings, clock: Clock):
    verifier = treasury_verifier(settings, clock)
    if verifier is None:
        raise ConfigError(
            ["AUTOTRADER_TREASURY_ADDRESS: set it to verify fees from Hyperliquid transfers"],
            header="no treasury",
        )
    return verifier


def audition_evaluator(settings: Settings, store: Store, clock: Clock, *, worker_id: str):
    from autotrader.lifecycle.evaluation import AuditionEvaluator
    from autotrader.prop.factory import precision

    return AuditionEvaluator(
        store,
        clock,
        precision(store, clock),
        worker_id=worker_id,
        stale_after_ms=int(settings.worker_stale_after * 1000),
    )
