"""Evaluating due auditions: the auditions job's pass.

Due means the window has ended, or the account stopped early (a drawdown freeze fails an
audition then and there). The pass marks the accounts to market, finalizes each (open positions
flattened at the latest price, ``prop.admin``), reads the result from the ledger's own
leaderboard computation and decides, recording every criterion's value and threshold. A pass
enters the promotion queue.

Evaluation is claimed (``store.claim``) and every step is idempotent — a finalized account is
not finalized again, a decided audition is not decided again — so any number of workers may run
it, and one killed mid-batch leaves work the next claims once the claim is stale.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.lifecycle import promotion, state
from autotrader.lifecycle.auditions import STOPPED, decode
from autotrader.lifecycle.models import AuditionRules, Criterion
from autotrader.lifecycle.repo import auditions as repo
from autotrader.lifecycle.state import Concerns
from autotrader.lifecycle.vocabulary import AuditionStatus, EventKind
from autotrader.prop import repo as prop_repo
from autotrader.prop.vocabulary import AccountKind, AccountStatus

if TYPE_CHECKING:
    from autotrader.ledger.leaderboard import LeaderRow
    from autotrader.prop.gates import Precision

CHUNK = 50  # auditions finalized (or decided) per transaction


@dataclass
class Decision:
    audition_id: int
    clone_id: int
    passed: bool
    reason: str
    criteria: list[Criterion]


@dataclass
class EvaluationReport:
    claimed: int = 0
    decisions: list[Decision] = field(default_factory=list)

    def summary(self) -> str:
        passed = sum(d.passed for d in self.decisions)
        return (
            f"{len(self.decisions)} auditions decided ({passed} passed,"
            f" {len(self.decisions) - passed} failed) of {self.claimed} claimed"
        )


class AuditionEvaluator:
    """Evaluates due auditions, a claimed batch at a time (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        precision: Precision,
        *,
        worker_id: str,
        stale_after_ms: int,
        batch: int = 500,
    ) -> None:
        self.store = store
        self.clock = clock
        self.precision = precision
        self.worker_id = worker_id
        self.stale_after_ms = stale_after_ms
        self.batch = batch

    def evaluate_due(self, *, audition_id: int | None = None) -> EvaluationReport:
        """Claim and decide every due audition (or only ``audition_id``), batch by batch."""
        report = EvaluationReport()
        while True:
            claimed = self._claim(audition_id)
            if not claimed:
                return report
            report.claimed += len(claimed)
            report.decisions += self._evaluate(claimed)
            if audition_id is not None:
                return report

    def _claim(self, audition_id: int | None) -> list[dict]:
        now = self.clock.now_ms()
        running = repo.running_accounts(self.store)
        stopped = [
            a["id"]
            for status in STOPPED
            for a in prop_repo.list_accounts(self.store, kind=AccountKind.AUDITION, status=status)
            if a["id"] in running
        ]
        return [
            decode(row)
            for row in repo.claim_due(
                self.store,
                now_ms=now,
                stopped_accounts=stopped,
                worker_id=self.worker_id,
                stale_before_ms=now - self.stale_after_ms,
                limit=self.batch,
                audition_id=audition_id,
            )
        ]

    def _evaluate(self, claimed: list[dict]) -> list[Decision]:
        from autotrader.ledger.leaderboard import account_rows
        from autotrader.prop.mtm import MarkToMarket

        now = self.clock.now_ms()
        accounts = [a["account_id"] for a in claimed]
        # The final mark: exits, funding and a snapshot as of now, before anything is flattened.
        MarkToMarket(self.store, self.clock, self.precision).run(accounts)
        stopped_early: dict[int, str] = {}
        for chunk in _chunks(claimed):
            with self.store.atomic():
                for audition in chunk:
                    self._finalize(audition, stopped_early)
        rows = account_rows(self.store, accounts, now_ms=now)
        decisions = []
        for chunk in _chunks(claimed):
            with self.store.atomic():
                for audition in chunk:
                    row = rows[audition["account_id"]]
                    decision = self._decide(audition, row, stopped_early, now)
                    if decision is not None:
                        decisions.append(decision)
        return decisions

    def _finalize(self, audition: dict, stopped_early: dict[int, str]) -> None:
        """Flatten and finalize the audition's account, unless a crashed pass already did."""
        from autotrader.prop.admin import admin_action

        account = prop_repo.get_account(self.store, audition["account_id"])
        if account["status"] in STOPPED:
            stopped_early[audition["id"]] = (
                f"stopped early ({account['status']}: {account['status_reason']})"
            )
        if account["status"] != AccountStatus.FINALIZED:
            admin_action(
                self.store,
                self.clock,
                self.precision,
                account_id=account["id"],
                action="finalize",
                reason=f"audition {audition['id']} "
                + ("stopped early" if audition["id"] in stopped_early else "window ended"),
            )

    def _decide(
        self, audition: dict, row: LeaderRow, stopped_early: dict[int, str], now: int
    ) -> Decision | None:
        """Judge one audition and record the verdict, inside the caller's transaction; None when
        it was decided already (a crashed pass resumed, or another worker)."""
        criteria = judge(audition["rules"], row)
        early = stopped_early.get(audition["id"])
        passed = early is None and all(c.passed for c in criteria)
        failed = [c.name for c in criteria if not c.passed]
        reason = early or ("every criterion met" if passed else f"missed: {', '.join(failed)}")
        result = {
            "metrics": _metrics(row),
            "criteria": [_criterion_json(c) for c in criteria],
            "stopped_early": early,
        }
        score = float(row.return_pct)
        concerns = Concerns(audition["fee_id"], audition["id"], audition["account_id"])
        status = AuditionStatus.PASSED if passed else AuditionStatus.FAILED
        if not repo.decide(
            self.store,
            audition["id"],
            status=status.value,
            result=json.dumps(result, default=str, sort_keys=True),
            score=score,
            reason=reason,
            now_ms=now,
        ):
            return None  # another worker decided it meanwhile
        event = EventKind.AUDITION_PASSED if passed else EventKind.AUDITION_FAILED
        state.transition(
            self.store,
            audition["clone_id"],
            event,
            actor=self.worker_id,
            reason=reason,
            now_ms=now,
            concerns=concerns,
        )
        if passed:
            promotion.enqueue(self.store, audition, score=score, actor=self.worker_id, now_ms=now)
        return Decision(audition["id"], audition["clone_id"], passed, reason, criteria)


def _chunks(rows: list[dict]) -> Iterable[list[dict]]:
    """Units of work of a few auditions each: fewer commits than one per audition, and the
    write lock is never held long enough to stall the other workers."""
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def judge(rules: AuditionRules, row: LeaderRow) -> list[Criterion]:
    """Every pass criterion with its value, comparator and threshold (an undefined Sharpe
    — too few snapshots, no variance — does not meet a threshold; a Sharpe threshold of None
    is not judged)."""
    c = rules.criteria

    def at_least(name: str, value: Any, threshold: Any) -> Criterion:
        return Criterion(name, value, ">=", threshold, value is not None and value >= threshold)

    def at_most(name: str, value: Any, threshold: Any) -> Criterion:
        return Criterion(name, value, "<=", threshold, value is not None and value <= threshold)

    judged = [
        at_least("return_pct", row.return_pct, c.min_return_pct),
        at_most("max_drawdown_pct", row.max_drawdown_pct, c.max_drawdown_pct),
        at_least("trades", row.trades, c.min_trades),
    ]
    if c.min_sharpe is not None:
        judged.insert(2, at_least("sharpe", row.sharpe, c.min_sharpe))
    return judged


def _metrics(row: LeaderRow) -> dict[str, Any]:
    names = ("starting_balance", "equity", "pnl", "return_pct", "max_drawdown_pct", "sharpe",
             "sortino", "win_rate", "profit_factor", "trades", "fees_paid")  # fmt: skip
    return {name: getattr(row, name) for name in names}


def _criterion_json(c: Criterion) -> dict[str, Any]:
    return {
        "name": c.name,
        "value": c.value,
        "comparator": c.comparator,
        "threshold": c.threshold,
        "passed": c.passed,
    }
