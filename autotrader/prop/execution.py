"""Submitting an intent: gates, then (if accepted) the fill — one transaction, idempotent.

``PropDesk.submit`` is the one way an intent becomes a trade, for people (``prop order``),
decision engines and the desk's own triggers alike. Everything it decides is stored: the intent,
every gate result, and for an accepted OPEN/CLOSE the order, fill, position and ledger entries.
A rejected intent changes nothing but the audit. Given an idempotency key it already saw for
the same intent, it returns the earlier outcome instead of trading again, so retries and racing
workers fill once; keys are scoped by account and origin (:mod:`autotrader.prop.idempotency`),
and a key reused for another intent is a ``ConflictError``.
``PropDesk.submit_many`` runs several intents of one account as one transaction, where the
caller can accept that they commit (or fail) together.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from autotrader.core.clock import Clock, iso_utc
from autotrader.core.db import Store
from autotrader.core.errors import NotFoundError, OperationalError
from autotrader.core.money import ZERO, to_text
from autotrader.market import repo as market_repo
from autotrader.market.models import AssetInfo
from autotrader.market.view import ExecutionPrice, execution_price
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
from autotrader.prop.idempotency import caller_key, require_same_intent, unkeyed_fill_key
from autotrader.prop.models import AccountStatus, Action, ExitPlan, Side, TradeIntent
from autotrader.prop.venue import ExecutionVenue
from autotrader.prop.vocabulary import IntentOrigin, Venue


@dataclass(frozen=True)
class _Origin:
    """Where an intent came from (a caller origin), the caller's key and the decision run."""

    name: IntentOrigin
    idempotency_key: str | None
    decision_run_id: int | None

    def stored_key(self, account_id: int) -> str | None:
        """The key as stored: scoped by account and origin (None without a key)."""
        if not self.idempotency_key:
            return None
        return caller_key(self.name, account_id, self.idempotency_key)


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


class MarketSnapshot:
    """Market memory as of one instant: each symbol's execution price and registry entry read
    once. A submit (or a batch of them) prices its intents and marks every open position at
    one ``now_ms``; without it the same lookups ran once per use."""

    def __init__(self, store: Store, now_ms: int) -> None:
        self.store = store
        self.now_ms = now_ms
        self._prices: dict[str, ExecutionPrice | None] = {}
        self._assets: dict[str, AssetInfo | None] = {}

    def price(self, symbol: str) -> ExecutionPrice | None:
        if symbol not in self._prices:
            self._prices[symbol] = execution_price(self.store, symbol, self.now_ms)
        return self._prices[symbol]

    def asset(self, symbol: str) -> AssetInfo | None:
        if symbol not in self._assets:
            self._assets[symbol] = market_repo.get_asset(self.store, symbol)
        return self._assets[symbol]


def mark_price(
    store: Store, row: dict, now_ms: int, market: MarketSnapshot | None = None
) -> Decimal:
    """The latest price for an open position (its last mark, then its entry, as fallbacks)."""
    if market is not None and market.now_ms == now_ms:
        latest = market.price(row["symbol"])
    else:
        latest = execution_price(store, row["symbol"], now_ms)
    if latest is not None:
        return latest.price
    return row["last_mark_price"] or row["entry_price"]


def account_view(
    store: Store,
    account: dict,
    now_ms: int,
    *,
    action: Action | None = None,
    market: MarketSnapshot | None = None,
) -> AccountView:
    """What the gates need to know about an account, computed from its rows.

    The day's trade count and the cooldowns matter to an OPEN only; for another ``action``
    they are left empty (the CLOSE and exit-plan gates never read them). ``None`` reads all.
    """
    rows = prop_repo.open_positions(store, account["id"])
    balance = prop_repo.balance(store, account["id"])
    unrealized = sum(
        (
            pnl.unrealized_pnl(
                Side(r["side"]), r["qty"], r["entry_price"], mark_price(store, r, now_ms, market)
            )
            for r in rows
        ),
        ZERO,
    )
    opening = action is None or action is Action.OPEN
    cap = account.get("deposit_cap")
    return AccountView(
        id=account["id"],
        status=AccountStatus(account["status"]),
        rules=account["rules"],
        balance=balance,
        margin_used=prop_repo.margin_used(rows),
        equity=balance + unrealized,
        positions={r["symbol"]: position_view(r) for r in rows},
        trades_today=_trades_today(store, account, now_ms) if opening else 0,
        cooldowns=prop_repo.cooldowns(store, account["id"], now_ms) if opening else {},
        deposit_cap=cap,
        open_notional=_open_notional(store, rows, now_ms, market) if cap is not None else ZERO,
    )


def _open_notional(
    store: Store, rows: list[dict], now_ms: int, market: MarketSnapshot | None
) -> Decimal:
    return sum((pnl.notional(r["qty"], mark_price(store, r, now_ms, market)) for r in rows), ZERO)


def _trades_today(store: Store, account: dict, now_ms: int) -> int:
    """OPENs since 00:00 UTC, counted only as far as the daily limit (all the gate needs)."""
    limit = account["rules"].max_daily_trades
    return prop_repo.opens_since(store, account["id"], _utc_midnight(now_ms), at_most=limit)


MarketAt = Callable[[Store, int], MarketSnapshot]
"""Market memory as of an instant: ``MarketSnapshot`` itself (live, over the store), or a
backtest's in-memory history, which answers the same ``price``/``asset`` questions."""


class PropDesk:
    """Gates and fills for prop accounts, over one store: paper fills here, a live account's
    through ``venue`` (without one, a live account's accepted fill is refused, never papered)."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        precision: Precision,
        venue: ExecutionVenue | None = None,
        *,
        market_at: MarketAt = MarketSnapshot,
    ) -> None:
        self.store = store
        self.clock = clock
        self.precision = precision
        self.venue = venue
        self.market_at = market_at

    def submit(
        self,
        account_id: int,
        intent: TradeIntent,
        *,
        origin: IntentOrigin = IntentOrigin.MANUAL,
        idempotency_key: str | None = None,
        decision_run_id: int | None = None,
        symbols_already_acted: frozenset[str] = frozenset(),
        dry_run: bool = False,
    ) -> Submission:
        """Gate ``intent`` and, when accepted (and not ``dry_run``), fill it — atomically.

        ``idempotency_key`` is the caller's: scoped by ``account_id`` and ``origin`` (a caller
        origin: manual or decision), it replays the earlier outcome for the same intent and
        raises ``ConflictError`` for another one.
        """
        with self.store.atomic():
            market = self.market_at(self.store, self.clock.now_ms())
            return self._submit(
                market,
                account_id,
                intent,
                _Origin(IntentOrigin(origin), idempotency_key, decision_run_id),
                symbols_already_acted,
                dry_run,
            )

    def submit_many(
        self,
        account_id: int,
        intents: Sequence[TradeIntent],
        *,
        origin: IntentOrigin = IntentOrigin.MANUAL,
        idempotency_keys: Sequence[str | None] | None = None,
        decision_run_id: int | None = None,
    ) -> list[Submission]:
        """Submit ``intents`` for one account, in order, as ONE transaction at one instant.

        Each intent is gated against what the earlier ones left, exactly as separate
        ``submit`` calls would, but the batch commits once (the commit, not the gates, is what
        costs most per intent) and reads each symbol's price once. All or nothing: an exception
        rolls the whole batch back. Inside a caller's ``store.atomic()`` it is a savepoint, so
        batches for several accounts can share one transaction too.
        """
        keys = list(idempotency_keys) if idempotency_keys is not None else [None] * len(intents)
        if len(keys) != len(intents):
            raise ValueError("give one idempotency key (or None) per intent")
        with self.store.atomic():
            market = self.market_at(self.store, self.clock.now_ms())
            return [
                self._submit(
                    market,
                    account_id,
                    intent,
                    _Origin(IntentOrigin(origin), key, decision_run_id),
                    frozenset(),
                )
                for intent, key in zip(intents, keys, strict=True)
            ]

    def _submit(
        self,
        market: MarketSnapshot,
        account_id: int,
        intent: TradeIntent,
        origin: _Origin,
        acted: frozenset[str],
        dry_run: bool = False,
    ) -> Submission:
        """One trading step inside the caller's transaction: replay, or gate, record, fill."""
        key = origin.stored_key(account_id)
        if key is not None:
            earlier = prop_repo.intent_by_key(self.store, key)
            if earlier is not None:
                require_same_intent(earlier, intent, origin.idempotency_key or "")
                return self._replay(earlier)
        account = prop_repo.get_account(self.store, account_id)
        if account is None:
            raise NotFoundError(f"prop account {account_id} does not exist")
        now = market.now_ms
        decision = self._evaluate(market, account, intent, acted)
        if decision.accepted and decision.fill is not None and not dry_run:
            decision = self._execute(account, decision, origin, now)
        results = [
            {"gate": r.gate, "code": r.code, "passed": r.passed, "reason": r.reason}
            for r in decision.results
        ]
        failure = decision.first_failure
        intent_id = prop_repo.insert_intent(
            self.store,
            account_id=account_id,
            origin=origin.name,
            decision_run_id=origin.decision_run_id,
            symbol=intent.symbol,
            action=intent.action.value,
            payload=intent.model_dump(mode="json"),
            accepted=decision.accepted,
            reject_code=failure.code if failure else None,
            gate_results=results,
            idempotency_key=key,
            now_ms=now,
        )
        booked = None
        if decision.accepted and not dry_run:
            fill_key = key or unkeyed_fill_key(intent_id)
            booked = self._apply(market, account, intent, intent_id, decision, origin, fill_key)
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

    def _apply(
        self,
        market: MarketSnapshot,
        account: dict,
        intent: TradeIntent,
        intent_id: int,
        decision: GateDecision,
        origin: _Origin,
        fill_key: str,
    ) -> Booked | None:
        """Do what an accepted intent asks: book its fill, or replace the exit plan."""
        if intent.action is Action.UPDATE_EXIT_PLAN:
            position_id = self._update_exit_plan(account["id"], intent, market.now_ms)
            self._protect(account, position_id, market.now_ms)
        if decision.fill is None:
            return None
        booked = book_fill(
            self.store,
            account_id=account["id"],
            intent_id=intent_id,
            fill=decision.fill,
            exit_plan=_with_default_stop(intent.exit_plan, decision.fill.default_stop),
            asset=market.asset(intent.symbol),
            rules=account["rules"],
            idempotency_key=fill_key,
            now_ms=market.now_ms,
            trigger="MANUAL" if not decision.fill.is_open else None,
            decision_run_id=origin.decision_run_id,
        )
        self._protect(account, booked.position_id, market.now_ms)
        return booked

    def _protect(self, account: dict, position_id: int, now_ms: int) -> None:
        """A live position's stop and target follow it on the exchange."""
        if Venue(account["venue"]).is_live and self.venue is not None:
            self.venue.protect(account, position_id, now_ms=now_ms)

    def _execute(
        self, account: dict, decision: GateDecision, origin: _Origin, now_ms: int
    ) -> GateDecision:
        """A live account's accepted fill goes to the exchange; its answer is the last result."""
        venue = Venue(account["venue"])
        if not venue.is_live:
            return decision
        if self.venue is None:
            raise OperationalError(
                f"prop account {account['id']} trades on {venue}, and this process has no live "
                "venue: run it through a command or worker that builds one (autotrader.live)"
            )
        assert decision.fill is not None
        outcome = self.venue.execute(
            account, decision.fill, idempotency_key=origin.idempotency_key, now_ms=now_ms
        )
        return GateDecision(results=(*decision.results, outcome.result), fill=outcome.fill)

    def _evaluate(
        self, market: MarketSnapshot, account: dict, intent: TradeIntent, acted: frozenset[str]
    ) -> GateDecision:
        now = market.now_ms
        price = market.price(intent.symbol)
        ctx = GateContext(
            intent=intent,
            account=account_view(self.store, account, now, action=intent.action, market=market),
            asset=market.asset(intent.symbol),
            reference_price=price.price if price else None,
            price_time_ms=price.as_of if price else None,
            precision=self.precision,
            now_ms=now,
            symbols_already_acted=acted,
        )
        return evaluate_intent(ctx)

    def _update_exit_plan(self, account_id: int, intent: TradeIntent, now: int) -> int:
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
        return position["id"]

    def _replay(self, row: dict) -> Submission:
        import json

        fill = prop_repo.fills_for_intent(self.store, row["id"])
        booked = None
        if fill is not None:
            # Closed by *this* fill: the position is closed and this was its last fill.
            position = prop_repo.get_position(self.store, fill["position_id"])
            closed = (
                position["status"] == "CLOSED"
                and prop_repo.last_fill_id(self.store, fill["position_id"]) == fill["id"]
            )
            booked = Booked(fill["order_id"], fill["id"], fill["position_id"], closed)
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


def _with_default_stop(plan: ExitPlan | None, stop: Decimal | None) -> ExitPlan | None:
    """The OPEN's exit plan with the stop the rules applied to it, if they did."""
    if stop is None:
        return plan
    return ExitPlan.model_validate({**(plan.model_dump() if plan else {}), "stop": to_text(stop)})
