"""What a decision run saw and what its model said, stored as artifacts for the audit.

The large payloads (the context packet or market snapshot, the prompt, the model's raw answers)
go to the artifact store by content hash; the run row keeps their keys (``decisions show``).
"""

from __future__ import annotations

import logging
from typing import Any

from autotrader.core.db import Store
from autotrader.decisions.engines.base import DecisionRequest, EngineResult, MarketSnapshot
from autotrader.llm import repo as llm_repo

log = logging.getLogger("autotrader.decisions")


class RunArtifacts:
    """Stores a run's payloads in ``artifacts`` (None: store nothing); ``store`` is the
    connection the invocation rows are read from."""

    def __init__(self, artifacts: Any, store: Store) -> None:
        self.artifacts = artifacts
        self.db = store
        self._context_keys: dict[tuple, str] = {}  # this tick's market-context artifacts

    def start_tick(self) -> None:
        self._context_keys.clear()

    def on(self, store: Store) -> RunArtifacts:
        """The same artifact backend over another connection: a runner thread stores its run's
        payloads itself, in parallel, instead of queueing them on the main connection."""
        if self.artifacts is None:
            return self
        from autotrader.artifacts.index import Artifacts

        return RunArtifacts(Artifacts(store, self.artifacts.backend, self.artifacts.clock), store)

    def store(self, request: DecisionRequest | None, result: EngineResult) -> dict[str, str | None]:
        """Store the run's large payloads (before the trading transaction: an upload must not
        hold the write lock) and return their keys for the run row. A store that fails (S3
        down) costs the run its artifact keys, logged, never the decision."""
        if self.artifacts is None or request is None:
            return {}
        try:
            return self._put(request, result)
        except Exception:
            log.warning("run %s: artifacts not stored", request.run_id, exc_info=True)
            return {}

    def _put(self, request: DecisionRequest, result: EngineResult) -> dict[str, str | None]:
        keys: dict[str, str | None] = {}
        packet = request.packet
        if packet is not None:
            from autotrader.context.packet import packet_to_dict

            keys["context_artifact"] = self.artifacts.put_json(
                packet_to_dict(packet), kind="context"
            )
            keys["prompt_artifact"] = self.artifacts.put_text(packet.prompt, kind="prompt")
            keys["prompt_hash"] = packet.prompt_hash
        else:
            keys["context_artifact"] = self._market_context(request)
        if result.invocation_ids:
            rows = llm_repo.invocation_outputs(self.db, result.invocation_ids)
            keys["response_artifact"] = self.artifacts.put_json(rows, kind="response")
        return keys

    def _market_context(self, request: DecisionRequest) -> str:
        """The key of the context a market-only engine saw. Within a tick every run on the same
        (symbol, bar size, instant, strategy) saw the same bytes: they are encoded and stored
        once (content addressing would dedupe them anyway, after paying for the encoding)."""
        market = request.market
        memo = (market.symbol, market.granularity, request.now_ms, request.strategy.strategy_id)
        key = self._context_keys.get(memo)
        if key is None:
            payload = {"market": market_json(market), "strategy": request.strategy.strategy_id}
            key = self._context_keys[memo] = self.artifacts.put_json(payload, kind="context")
        return key


def market_json(market: MarketSnapshot) -> dict:
    """The snapshot as JSON-ready data: what ``dataclasses.asdict`` gives, without its deep
    copy of every bar (which cost more than the whole decision)."""
    return {
        "symbol": market.symbol,
        "price": market.price,
        "price_time": market.price_time,
        "granularity": market.granularity,
        "bars": [dict(vars(bar)) for bar in market.bars],
    }
