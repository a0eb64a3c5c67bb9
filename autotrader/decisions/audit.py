"""What a decision run saw and what its model said, stored as artifacts for the audit.

The large payloads (the context packet, the prompt, the model's raw answers) go to the artifact
store by content hash; a market-only run's context goes there as a reference to market memory
(``decisions.market_context``). The run row keeps their keys (``decisions show``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from autotrader.core.db import Store
from autotrader.core.errors import OperationalError
from autotrader.decisions.engines.base import DecisionRequest, EngineResult
from autotrader.decisions.market_context import market_reference
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

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """A tick's block: its artifacts are flushed to disk together when it ends. A flush
        that fails is logged (the decisions already stand), never raised."""
        if self.artifacts is None:
            yield
            return
        body_done = False
        try:
            with self.artifacts.batch():
                yield
                body_done = True
        except OperationalError:
            if not body_done:
                raise  # the tick's own error: the worker must see it
            log.warning("artifacts of this tick not flushed to disk", exc_info=True)

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
        """The key of the context a market-only engine saw, stored by reference to market
        memory (:mod:`autotrader.decisions.market_context`). Within a tick every run on the
        same (symbol, bar size, instant, strategy) saw the same rows: one reference serves them."""
        market = request.market
        memo = (market.symbol, market.granularity, request.now_ms, request.strategy.strategy_id)
        key = self._context_keys.get(memo)
        if key is None:
            key = self._context_keys[memo] = self.artifacts.put_json(
                market_reference(request), kind="context"
            )
        return key
