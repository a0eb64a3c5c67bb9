"""Submitting an intent: gates, then (if accepted) the fill — one transaction, idempotent.

``PropDesk.submit`` is the one way an intent becomes a trade, for people (``prop order``),
decision engines and the desk's own triggers alike. Everything it decides is stored: the intent,
every gate result, and for an accepted OPEN/CLOSE the order, fill, position and ledger entries.
A rejected intent changes nothing but the audit. Given an idempotency key it already saw, it
returns the earlier outcome instead of trading again, so retries and racing workers fill once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from autotrader.core.clock import Clock, iso_utc
from autotrader.core.db import Store
from autotrader.core.errors import NotFoundError
from autotrader.core.money import ZERO
from autotrader.market import repo as market_repo
from autotrader.market.view import execution_price
from autotrader.prop import pnl
from autotrader.prop import repo as prop_repo
from autotrader.prop.booking import Booked, book_fill, exit_plan_columns
from autotrader.prop.gates import (
    AccountView,
    GateContext,
    GateDecision,
    PositionView,
    Precision,
    evaluate_intent,
)
from autotrader.prop.models import AccountStatus, ExitPlan, Side, TradeIntent


@dataclass(frozen=True)
class Submission:
    """The outcome of one submitted intent."""

    intent_id: int
    accepted: bool
    reject_code: str | None
    reason: str
    gate_results: list[dict[str, Any]]
    booked: Booked | None = None
    replayed: bool = False  # the idempotency key was seen before; nothing new happened
    fill: dict[str, Any] | None = field(default=None)


def _utc_midnight(now_ms: int) -> int:
    day = datetime.fromtimestamp(now_ms / 1000, tz=UTC).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return int(day.timestamp() * 1000)


def position_view(row: dict) -> PositionView:
    plan = ExitPlan(
        stop=str(row["stop"]) if row["stop"] is not None else None,
        target=str(row["target"]) if row["target"] is not None else None,
        invalidation=row["invalidation"],
        invalidation_price=str(row["invalidation_price"])
        if row["invalidation_price"] is not None
        else None,
        time_exit=iso_utc(row["time_exit"]) if row["time_exit"] else None,
        cooldown_until=iso_utc(row["cooldown_until"]) if row["cooldown_until"] else None,
    )
    return PositionView(
        symbol=row["symbol"],
        side=Side(row["side"]),
        qty=row["qty"],
        entry_price=row["entry_price"],
        margin=row["margin"],
        leverage=max(1, int(row["leverage"])),
        exit_plan=plan,
    )


def mark_price(store: Store, row: dict, now_ms: int) -> Decimal:
    """The latest price for an open position (its last mark, then its entry, as fallbacks)."""
    latest = execution_price(store, row["symbol"], now_ms)
    if latest is not None:
        return latest.price
    return row["last_mark_price"] or row["entry_price"]


def account_view(store: Store, account: dict, now_ms: int) -> AccountView:
    """What the gates need to know about an account, computed from its rows."""
    rows = prop_repo.open_positions(store, account["id"])
    balance = prop_repo.balance(store, account["id"])
    unrealized = sum(
        (
            pnl.unrealized_pnl(
                Side(r["side"]), r["qty"], r["entry_price"], mark_price(store, r, now_ms)
            )
            for r in rows
        ),
        ZERO,
    )
    return AccountView(
        id=account["id"],
        status=AccountStatus(account["status"]),
        rules=account["rules"],
        balance=balance,
        margin_used=prop_repo.margin_used(rows),
        equity=balance + unrealized,
        positions={r["symbol"]: position_view(r) for r in rows},
        trades_today=prop_repo.opens_since(store, account["id"], _utc_midnight(now_ms)),
        cooldowns=prop_repo.cooldowns(store, account["id"], now_ms),
    )


class PropDesk:
    """Gates and paper fills for prop accounts, over one store."""

    def __init__(self, store: Store, clock: Clock, precision: Precision) -> None:
        self.store = store
        self.clock = clock
        self.precision = precision

    def submit(
        self,
        account_id: int,
        intent: TradeIntent,
        *,
        origin: str = "manual",
        idempotency_key: str | None = None,
        decision_run_id: int | None = None,
        symbols_already_acted: frozenset[str] = frozenset(),
        dry_run: bool = False,
    ) -> Submission:
        """Gate ``intent`` and, when accepted (and not ``dry_run``), fill it — atomically."""
        with self.store.atomic():
            if idempotency_key:
                earlier = prop_repo.intent_by_key(self.store, idempotency_key)
                if earlier is not None:
                    return self._replay(earlier)
            account = prop_repo.get_account(self.store, account_id)
            if account is None:
                raise NotFoundError(f"prop account {account_id} does not exist")
            now = self.clock.now_ms()
            decision, asset = self._evaluate(account, intent, now, symbols_already_acted)
            results = [
                {"gate": r.gate, "code": r.code, "passed": r.passed, "reason": r.reason}
                for r in decision.results
            ]
            failure = decision.first_failure
            intent_id = prop_repo.insert_intent(
                self.store,
                account_id=account_id,
                origin=origin,
                decision_run_id=decision_run_id,
                symbol=intent.symbol,
                action=intent.action.value,
                payload=intent.model_dump(mode="json"),
                accepted=decision.accepted,
                reject_code=failure.code if failure else None,
                gate_results=results,
                idempotency_key=idempotency_key,
                now_ms=now,
            )
            booked = None
            if decision.accepted and decision.fill is not None and not dry_run:
                booked = book_fill(
                    self.store,
                    account_id=account_id,
                    intent_id=intent_id,
                    fill=decision.fill,
                    exit_plan=intent.exit_plan,
                    asset=asset,
                    rules=account["rules"],
                    idempotency_key=idempotency_key or f"intent:{intent_id}",
                    now_ms=now,
                    trigger="MANUAL" if not decision.fill.is_open else None,
                    decision_run_id=decision_run_id,
                )
            if decision.accepted and intent.action.value == "UPDATE_EXIT_PLAN" and not dry_run:
                self._update_exit_plan(account_id, intent, now)
        reason = (
            failure.reason if failure else (decision.results[-1].reason if decision.results else "")
        )
        return Submission(
            intent_id=intent_id,
            accepted=decision.accepted,
            reject_code=failure.code if failure else None,
            reason=reason,
            gate_results=results,
            booked=booked,
            fill=prop_repo.fills_for_intent(self.store, intent_id) if booked else None,
        )

    def _evaluate(
        self, account: dict, intent: TradeIntent, now: int, acted: frozenset[str]
    ) -> tuple[GateDecision, Any]:
        asset = market_repo.get_asset(self.store, intent.symbol)
        price = execution_price(self.store, intent.symbol, now)
        ctx = GateContext(
            intent=intent,
            account=account_view(self.store, account, now),
            asset=asset,
            reference_price=price.price if price else None,
            price_time_ms=price.as_of if price else None,
            precision=self.precision,
            now_ms=now,
            symbols_already_acted=acted,
        )
        return evaluate_intent(ctx), asset

    def _update_exit_plan(self, account_id: int, intent: TradeIntent, now: int) -> None:
        position = {p["symbol"]: p for p in prop_repo.open_positions(self.store, account_id)}[
            intent.symbol
        ]
        columns = {
            "stop": None,
            "target": None,
            "invalidation": None,
            "invalidation_price": None,
            "time_exit": None,
            "cooldown_until": None,
        }
        columns |= exit_plan_columns(intent.exit_plan)
        prop_repo.update_position(self.store, position["id"], updated_at=now, **columns)

    def _replay(self, row: dict) -> Submission:
        import json

        fill = prop_repo.fills_for_intent(self.store, row["id"])
        booked = None
        if fill is not None:
            position = prop_repo.get_position(self.store, fill["position_id"])
            booked = Booked(
                fill["order_id"], fill["id"], fill["position_id"], position["status"] == "CLOSED"
            )
        results = json.loads(row["gate_results"])
        failed = next((r for r in results if not r["passed"]), None)
        return Submission(
            intent_id=row["id"],
            accepted=row["status"] == "accepted",
            reject_code=row["reject_code"],
            reason=failed["reason"] if failed else "replayed",
            gate_results=results,
            booked=booked,
            replayed=True,
            fill=fill,
        )
