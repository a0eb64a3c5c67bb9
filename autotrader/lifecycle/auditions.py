"""Auditions: a verified fee buys one bounded prop account, traded like any account, judged at
the end of its window against the pass criteria.

Submitting opens the audition account (``clones.accounts.open_clone_account``, kind
``audition``) with the rules fixed at that moment. The auditions job evaluates the due ones — the
window has ended, or the account stopped early (a drawdown freeze fails an audition then and
there): it marks the accounts to market, finalizes each (open positions flattened at the latest
price, ``prop.admin``), reads the result from the ledger's own leaderboard computation and
decides, recording every criterion's value and threshold. A pass enters the promotion queue.

Evaluation is claimed (``store.claim``) and every step is idempotent — a finalized account is
not finalized again, a decided audition is not decided again — so any number of workers may run
it, and one killed mid-batch leaves work the next claims once the claim is stale.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from autotrader.clones.accounts import open_clone_account
from autotrader.clones.owners import owner_of_clone
from autotrader.core.clock import HOUR_MS, Clock, iso_utc
from autotrader.core.db import Store
from autotrader.core.errors import ConflictError, NotFoundError
from autotrader.lifecycle import promotion, state
from autotrader.lifecycle.models import AuditionRules, Criterion
from autotrader.lifecycle.repo import auditions as repo
from autotrader.lifecycle.repo import fees as fees_repo
from autotrader.lifecycle.state import Concerns
from autotrader.lifecycle.vocabulary import AuditionStatus, EventKind, FeeStatus
from autotrader.prop import repo as prop_repo
from autotrader.prop.vocabulary import AccountKind, AccountStatus

if TYPE_CHECKING:
    from autotrader.core.settings import Settings
    from autotrader.ledger.leaderboard import LeaderRow
    from autotrader.prop.gates import Precision

STOPPED = (AccountStatus.FROZEN, AccountStatus.LIQUIDATED)  # an account that cannot trade on
CHUNK = 50  # auditions finalized (or decided) per transaction


@dataclass(frozen=True)
class RetryPolicy:
    cooldown_ms: int
    max_attempts: int

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            cooldown_ms=round(settings.audition_cooldown_hours * HOUR_MS),
            max_attempts=settings.audition_max_attempts,
        )


def require_audition(store: Store, audition_id: int) -> dict:
    row = repo.get_audition(store, audition_id)
    if row is None:
        raise NotFoundError(
            f"audition {audition_id} does not exist (see `lifecycle auditions list`)"
        )
    return _decode(row)


def _decode(row: dict) -> dict:
    row["rules"] = AuditionRules.model_validate_json(row["rules"])
    row["result"] = json.loads(row["result"]) if row["result"] else None
    return row


def list_auditions(store: Store, *, clone_id: int | None = None, status: str | None = None):
    if status is not None:
        AuditionStatus(status)
    return [_decode(r) for r in repo.list_auditions(store, clone_id=clone_id, status=status)]


def audition_of_account(store: Store, account_id: int) -> dict | None:
    row = repo.audition_of_account(store, account_id)
    return _decode(row) if row else None


def submit(
    store: Store,
    clock: Clock,
    clone_id: int,
    rules: AuditionRules,
    policy: RetryPolicy,
    *,
    actor: str,
    fee_id: int | None = None,
    retry: bool = False,
) -> dict:
    """Start the clone's audition on a verified, unused fee (``fee_id``, or its oldest one).

    Refused, with nothing changed, when: the clone is not waiting on a fee (a double submit: the
    error names its stage); the fee is another clone's, unpaid or used; a first submit follows
    an earlier attempt (use ``retry``); a retry has no failure behind it, is inside the cooldown
    or past the attempts allowed."""
    now = clock.now_ms()
    with store.atomic():
        owner_of_clone(store, clone_id)  # NotFoundError for an unknown clone
        if not state.can(store, clone_id, EventKind.AUDITION_STARTED):
            raise state.refusal(
                clone_id, state.stage_of(store, clone_id), EventKind.AUDITION_STARTED
            )
        earlier = repo.attempts(store, clone_id)
        _check_attempt(clone_id, earlier, policy, now, retry=retry)
        fee = _paid_fee(store, clone_id, fee_id)
        account_id = open_clone_account(
            store,
            clock,
            clone_id=clone_id,
            kind=AccountKind.AUDITION,
            starting_balance=rules.starting_balance,
            rules=rules.account_rules(),
        )
        audition_id = repo.insert_audition(
            store,
            clone_id=clone_id,
            attempt=len(earlier) + 1,
            fee_id=fee["id"],
            account_id=account_id,
            status=AuditionStatus.RUNNING.value,
            rules=rules.model_dump_json(),
            started_at=now,
            ends_at=now + rules.duration_ms,
        )
        state.transition(
            store,
            clone_id,
            EventKind.AUDITION_STARTED,
            actor=actor,
            reason=f"attempt {len(earlier) + 1} on fee {fee['id']},"
            f" until {iso_utc(now + rules.duration_ms)}",
            now_ms=now,
            concerns=Concerns(fee["id"], audition_id, account_id),
        )
    return require_audition(store, audition_id)


def _check_attempt(
    clone_id: int, earlier: list[dict], policy: RetryPolicy, now: int, *, retry: bool
) -> None:
    if not retry:
        if earlier:
            raise ConflictError(
                f"clone {clone_id} auditioned before (attempt {len(earlier)}"
                f" {earlier[-1]['status']}): use `lifecycle auditions retry`"
            )
        return
    if not earlier or earlier[-1]["status"] != AuditionStatus.FAILED:
        raise ConflictError(f"clone {clone_id} has no failed audition to retry")
    if len(earlier) >= policy.max_attempts:
        raise ConflictError(f"clone {clone_id} has taken all {policy.max_attempts} attempts")
    ready = earlier[-1]["decided_at"] + policy.cooldown_ms
    if now < ready:
        raise ConflictError(
            f"clone {clone_id} may retry from {iso_utc(ready)} (cooldown after attempt"
            f" {len(earlier)})"
        )


def _paid_fee(store: Store, clone_id: int, fee_id: int | None) -> dict:
    if fee_id is None:
        fee = fees_repo.unused_verified_fee(store, clone_id)
        if fee is None:
            raise ConflictError(
                f"clone {clone_id} has no verified, unused audition fee"
                " (`lifecycle fees request`, then `lifecycle fees verify`)"
            )
        return fee
    fee = fees_repo.get_fee(store, fee_id)
    if fee is None:
        raise NotFoundError(f"audition fee {fee_id} does not exist")
    if fee["clone_id"] != clone_id:
        raise ConflictError(
            f"audition fee {fee_id} belongs to clone {fee['clone_id']}, not {clone_id}"
        )
    if fee["status"] != FeeStatus.VERIFIED:
        raise ConflictError(f"audition fee {fee_id} is {fee['status']}, not verified")
    if fees_repo.fee_is_used(store, fee_id):
        raise ConflictError(f"audition fee {fee_id} already paid for an audition")
    return fee


def require_due(store: Store, audition_id: int, now_ms: int) -> dict:
    """The audition, when it may be evaluated now; ``ConflictError`` when it is decided or its
    window is still open (and its account still trading) — evaluating early is refused."""
    audition = require_audition(store, audition_id)
    if audition["status"] != AuditionStatus.RUNNING:
        raise ConflictError(f"audition {audition_id} is already decided: {audition['status']}")
    account = prop_repo.get_account(store, audition["account_id"])
    stopped = account is not None and account["status"] in STOPPED
    if audition["ends_at"] > now_ms and not stopped:
        raise ConflictError(
            f"audition {audition_id} runs until {iso_utc(audition['ends_at'])}: it cannot be"
            " evaluated early"
        )
    return audition


# -- evaluation ------------------------------------------------------------------------------


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
            _decode(row)
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


def live_state(store: Store, audition: dict, now_ms: int):
    """A running audition's account as it stands (equity, drawdown, positions); None once
    decided (the result holds the final numbers)."""
    from autotrader.prop.accounts import account_state

    if audition["status"] != AuditionStatus.RUNNING:
        return None
    return account_state(store, audition["account_id"], now_ms)
