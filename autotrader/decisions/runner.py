"""The decision loop: due runs → context → engine → intents → gates → fills.

One tick: recover runs abandoned by dead workers, queue what is due, claim runs atomically,
evaluate them (model-backed engines concurrently, bounded by a setting, each on its own
connection so one slow model call never serialises the tick), then execute their intents
through the prop desk one run at a time: the run's actions, fills and final status commit
together. Intents carry idempotency keys ``run:{id}:{seq}``, so a run re-claimed after a crash
replays its fills instead of trading twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.decisions import repo
from autotrader.decisions.engines.base import DecisionRequest, Engine, EngineResult
from autotrader.decisions.scheduler import Scheduled, schedule
from autotrader.prop.execution import PropDesk
from autotrader.prop.models import Action

log = logging.getLogger("autotrader.decisions")

RequestBuilder = Callable[[Store, dict, Engine], DecisionRequest]
"""Builds an engine's request for a claimed run, on the given (thread's own) store."""


@dataclass
class RunOutcome:
    run_id: int
    symbol: str
    engine: str
    status: str
    actions: list[dict] = field(default_factory=list)
    error: str | None = None
    notes: str = ""


@dataclass
class TickOutcome:
    scheduled: Scheduled
    runs: list[RunOutcome] = field(default_factory=list)
    recovered: int = 0

    def summary(self) -> str:
        executed = sum(a["status"] == "executed" for r in self.runs for a in r.actions)
        rejected = sum(a["status"] == "rejected" for r in self.runs for a in r.actions)
        failed = sum(r.status == "failed" for r in self.runs)
        return (
            f"{len(self.runs)} runs ({len(self.scheduled.queued)} newly due, "
            f"{len(self.scheduled.skipped)} skipped), {executed} fills, {rejected} rejected, "
            f"{failed} failed" + (f", {self.recovered} recovered" if self.recovered else "")
        )


class DecisionRunner:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        engines: Mapping[str, Engine],
        desk: PropDesk,
        build_request: RequestBuilder,
        open_thread_store: Callable[[], Store],
        worker_id: str,
        concurrency: int = 8,
        stale_after_ms: int = 600_000,
        max_attempts: int = 3,
        batch: int = 200,
        artifacts: Any = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.engines = engines
        self.desk = desk
        self.build_request = build_request
        self.open_thread_store = open_thread_store
        self.worker_id = worker_id
        self.concurrency = concurrency
        self.stale_after_ms = stale_after_ms
        self.max_attempts = max_attempts
        self.batch = batch
        self.artifacts = artifacts

    def tick(
        self,
        *,
        clone_id: int | None = None,
        force: bool = False,
        asset: str | None = None,
        engine: str | None = None,
        dry_run: bool = False,
        only_scheduled: bool = False,
    ) -> TickOutcome:
        now = self.clock.now_ms()
        recovered, _ = repo.recover_stale(
            self.store,
            now_ms=now,
            stale_after_ms=self.stale_after_ms,
            max_attempts=self.max_attempts,
        )
        with self.store.atomic():
            scheduled = schedule(
                self.store,
                self.clock,
                clone_id=clone_id,
                force=force,
                asset=asset,
                engine=engine,
                dry_run=dry_run,
            )
        outcome = TickOutcome(scheduled, recovered=recovered)
        while True:
            claimed = repo.claim_runs(
                self.store,
                worker_id=self.worker_id,
                now_ms=self.clock.now_ms(),
                run_ids=scheduled.queued if only_scheduled else None,
                limit=self.batch,
            )
            if not claimed:
                break
            with self.store.atomic():
                for run in claimed:
                    repo.update_run(self.store, run["id"], attempts=run["attempts"] + 1)
            for run, request, result in self._evaluate(claimed):
                keys = self._store_artifacts(request, result)
                outcome.runs.append(self._execute(run, result, keys))
            if only_scheduled:
                break
        return outcome

    # -- evaluation -------------------------------------------------------------------------

    def _evaluate(
        self, runs: list[dict]
    ) -> list[tuple[dict, DecisionRequest | None, EngineResult]]:
        """Engine results in run order; model-backed engines run on a thread pool."""
        inline = [r for r in runs if not getattr(self._engine(r), "concurrent", False)]
        pooled = [r for r in runs if getattr(self._engine(r), "concurrent", False)]
        results = {r["id"]: self._decide(self.store, r) for r in inline}
        if pooled:
            with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
                for run, result in zip(
                    pooled, pool.map(self._decide_on_own_connection, pooled), strict=True
                ):
                    results[run["id"]] = result
        return [(run, *results[run["id"]]) for run in runs]

    def _engine(self, run: dict) -> Engine:
        return self.engines.get(run["engine"]) or self.engines["hold"]

    def _decide_on_own_connection(self, run: dict) -> tuple[DecisionRequest | None, EngineResult]:
        store = self.open_thread_store()
        try:
            return self._decide(store, run)
        finally:
            store.close()

    def _decide(self, store: Store, run: dict) -> tuple[DecisionRequest | None, EngineResult]:
        engine = self._engine(run)
        if run["engine"] not in self.engines:
            return None, EngineResult(error=f"unknown engine {run['engine']!r}; held")
        request = None
        try:
            request = self.build_request(store, run, engine)
            return request, engine.decide(request)
        except Exception as exc:  # an engine must never take the worker down
            log.exception("run %s: engine %s crashed", run["id"], run["engine"])
            return request, EngineResult(error=f"engine crashed: {type(exc).__name__}: {exc}"[:300])

    def _store_artifacts(
        self, request: DecisionRequest | None, result: EngineResult
    ) -> dict[str, str | None]:
        """Store the run's large payloads (before the trading transaction: an upload must not
        hold the write lock) and return their keys for the run row."""
        keys: dict[str, str | None] = {}
        if self.artifacts is None or request is None:
            return keys
        packet = request.packet
        if packet is not None:
            from autotrader.context.packet import packet_to_dict

            keys["context_artifact"] = self.artifacts.put_json(
                packet_to_dict(packet), kind="context"
            )
            keys["prompt_artifact"] = self.artifacts.put_text(packet.prompt, kind="prompt")
            keys["prompt_hash"] = packet.prompt_hash
        else:
            keys["context_artifact"] = self.artifacts.put_json(
                {"market": asdict(request.market), "strategy": request.strategy.strategy_id},
                kind="context",
            )
        if result.invocation_ids:
            rows = self.store.query(
                f"SELECT id, role, model, status, raw_text FROM invocations WHERE id IN "
                f"({', '.join('?' * len(result.invocation_ids))}) ORDER BY id",
                result.invocation_ids,
            )
            keys["response_artifact"] = self.artifacts.put_json(rows, kind="response")
        return keys

    # -- execution --------------------------------------------------------------------------

    def _execute(self, run: dict, result: EngineResult, keys: dict[str, str | None]) -> RunOutcome:
        started = time.perf_counter()
        outcome = RunOutcome(
            run["id"],
            run["symbol"],
            run["engine"],
            "succeeded",
            error=result.error,
            notes=result.notes,
        )
        now = self.clock.now_ms()
        with self.store.atomic():
            acted: set[str] = set()
            for seq, intent in enumerate(result.intents):
                outcome.actions.append(self._act(run, seq, intent, acted, now))
            if result.next_wakeup_secs:
                repo.set_next_due(
                    self.store,
                    run["clone_id"],
                    now + result.next_wakeup_secs * 1000,
                    run_id=run["id"],
                    now_ms=now,
                )
            repo.update_run(
                self.store,
                run["id"],
                status=outcome.status,
                finished_at=now,
                duration_ms=(now - run["claimed_at"])
                if run["claimed_at"]
                else round((time.perf_counter() - started) * 1000),
                error=result.error,
                notes=result.notes[:500] or None,
                plan=result.plan,
                verdict=result.verdict,
                **keys,
            )
        return outcome

    def _act(self, run: dict, seq: int, intent, acted: set[str], now: int) -> dict:
        common = {
            "run_id": run["id"],
            "seq": seq,
            "symbol": intent.symbol,
            "action": intent.action.value,
            "policy_id": intent.policy_id,
            "intent": intent.model_dump(mode="json"),
            "created_at": now,
        }
        if intent.action is Action.HOLD:
            repo.insert_action(self.store, status="hold", reason=intent.hypothesis, **common)
            return {
                "seq": seq,
                "action": "HOLD",
                "status": "hold",
                "reason": intent.hypothesis or "",
            }
        sub = self.desk.submit(
            run["account_id"],
            intent,
            origin="decision",
            idempotency_key=f"run:{run['id']}:{seq}",
            decision_run_id=run["id"],
            symbols_already_acted=frozenset(acted),
            dry_run=bool(run["dry_run"]),
        )
        acted.add(intent.symbol)
        booked = sub.booked
        status = "rejected" if not sub.accepted else ("executed" if booked else "accepted")
        action_id = repo.insert_action(
            self.store,
            status=status,
            intent_id=sub.intent_id,
            order_id=booked.order_id if booked else None,
            fill_id=booked.fill_id if booked else None,
            position_id=booked.position_id if booked else None,
            reject_code=sub.reject_code,
            reason=sub.reason,
            gate_results=sub.gate_results,
            **common,
        )
        if intent.policy_id and status in ("executed", "rejected"):
            repo.insert_experiment(
                self.store,
                clone_id=run["clone_id"],
                account_id=run["account_id"],
                run_id=run["id"],
                action_id=action_id,
                policy_id=intent.policy_id,
                symbol=intent.symbol,
                outcome=status,
                position_id=booked.position_id if booked else None,
                detail=sub.reject_code,
                created_at=now,
            )
        return {
            "seq": seq,
            "action": intent.action.value,
            "status": status,
            "reject_code": sub.reject_code,
            "reason": sub.reason,
            "fill": sub.fill,
        }
