"""The risk-calculator's steps: the analyses that read the book and the record.

- ``calculate_risk`` (SAGE): exposure, what the book risks against the portfolio budget, the
  correlation of the held symbols (and the step's) from stored 1h candles, and a size for the
  step's symbol and side. Warnings — risk near its budget, positions without a stop, correlated
  positions on the same side, a full book — tag the report ``risk, warning``.
- ``review_performance`` (GROWTH): one position's outcome, or the record: win rate, average
  winner and loser, profit factor, the latest Sharpe ratio.
- ``check_health`` (OBSERVER): over the last 8 hours, the share of steps that failed, trades the
  prop gates refused, disabled workers, and positions without a stop where one is required. A
  failing worker or an unprotected position is a rule violation (``error, rule_violation``).
"""

from __future__ import annotations

from decimal import Decimal

from autotrader.core.clock import HOUR_MS, Clock
from autotrader.core.db import Store
from autotrader.core.money import ZERO, to_text
from autotrader.desk.missions import Handler, StepResult
from autotrader.desk.models import StepDraft
from autotrader.desk.policies import load_policies
from autotrader.desk.repo import config as config_repo
from autotrader.desk.repo import learning as learning_repo
from autotrader.desk.repo import loop as loop_repo
from autotrader.desk.risk import (
    HIGH_CORRELATION,
    correlations,
    default_stop,
    exposure,
    read_book,
    size_entry,
)
from autotrader.desk.setup import desk_account_id
from autotrader.desk.vocabulary import TRADE_STEPS, StepKind, StepStatus, WorkerState
from autotrader.ledger import metrics
from autotrader.market.view import execution_price
from autotrader.prop.models import Side

HEALTH_WINDOW_MS = 8 * HOUR_MS
RISK_WARNING_SHARE = Decimal("0.8")  # of the portfolio risk budget
ERROR_RATE_ALERT = 0.2


def _pct(value: Decimal) -> str:
    return f"{value:.2%}"


class RiskCalculator:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def handlers(self) -> dict[StepKind, Handler]:
        return {
            StepKind.CALCULATE_RISK: self.calculate_risk,
            StepKind.REVIEW_PERFORMANCE: self.review_performance,
            StepKind.CHECK_HEALTH: self.check_health,
        }

    def calculate_risk(self, step: dict) -> StepResult:
        draft = StepDraft.model_validate(step["payload"])
        now = self.clock.now_ms()
        policies = load_policies(self.store)
        book = read_book(self.store, desk_account_id(self.store), now)
        held = exposure(book)
        budget = book.equity * policies.risk_controls.max_portfolio_risk
        symbols = sorted(
            {p.symbol for p in book.positions} | ({draft.symbol} if draft.symbol else set())
        )
        pairs = correlations(self.store, symbols, now_ms=now)
        warnings = []
        if budget > 0 and held.risk >= budget * RISK_WARNING_SHARE:
            warnings.append(f"risk {held.risk:.2f} USD is {held.risk / budget:.0%} of its budget")
        warnings += [f"{p.symbol} {p.side} has no stop" for p in book.positions if p.stop is None]
        sides = {p.symbol: p.side for p in book.positions}
        for pair, rho in pairs.items():
            a, b = pair.split("/")
            if (
                rho is not None
                and rho > HIGH_CORRELATION
                and a in sides
                and sides.get(b) == sides[a]
            ):
                warnings.append(f"{pair} correlated {rho:.2f}, both {sides[a]}")
        if len(book.positions) >= policies.trade_limits.max_open_positions:
            warnings.append(f"{len(book.positions)} positions: the book is full")
        output = {
            "equity": to_text(book.equity),
            "gross_exposure": to_text(held.gross.quantize(Decimal("0.01"))),
            "gross_pct": _pct(held.gross_pct),
            "net_exposure": to_text(held.net.quantize(Decimal("0.01"))),
            "risk_usd": to_text(held.risk.quantize(Decimal("0.01"))),
            "risk_budget_usd": to_text(budget.quantize(Decimal("0.01"))),
            "correlations": pairs,
            "warnings": warnings,
        }
        size = self._size(draft, book, policies, now)
        if size is not None:
            output["suggested_notional_usd"] = to_text(size)
        return StepResult(
            title=f"risk: {_pct(held.risk_pct)} of equity at risk, gross {_pct(held.gross_pct)}"
            + (f"; {len(warnings)} warnings" if warnings else ""),
            output=output,
            summary="; ".join(warnings),
            tags=("risk", "warning") if warnings else ("risk", "report"),
            symbol=draft.symbol,
        )

    def _size(self, draft: StepDraft, book, policies, now: int) -> Decimal | None:
        if draft.symbol is None:
            return None
        price = execution_price(self.store, draft.symbol, now)
        pct = policies.risk_controls.default_stop_loss_pct
        if price is None or pct is None:
            return None
        stop = default_stop(price.price, draft.side or Side.LONG, pct)
        return size_entry(
            equity=book.equity,
            entry=price.price,
            stop=stop,
            open_risk=book.open_risk,
            limits=policies.trade_limits,
            controls=policies.risk_controls,
        )

    def review_performance(self, step: dict) -> StepResult:
        draft = StepDraft.model_validate(step["payload"])
        if draft.position_id is not None:
            outcome = learning_repo.outcome_for_position(self.store, draft.position_id)
            if outcome is None:
                return StepResult(
                    title=f"position {draft.position_id}: no outcome recorded yet",
                    output={"position_id": draft.position_id},
                    tags=("performance", "review"),
                    position_id=draft.position_id,
                )
            return StepResult(
                title=f"{outcome['symbol']} {outcome['side']} {outcome['outcome_type']} "
                f"{outcome['pnl_pct']:+.2%} after {outcome['hold_time_ms'] // 60_000} min "
                f"({outcome['close_trigger']})",
                output={
                    "outcome_id": outcome["id"],
                    "pnl": to_text(outcome["pnl"]),
                    "lessons": outcome["lessons_learned"],
                },
                summary="; ".join(outcome["lessons_learned"]),
                tags=("performance", "review", outcome["outcome_type"]),
                position_id=draft.position_id,
                symbol=outcome["symbol"],
                pnl=outcome["pnl"],
            )
        rows = learning_repo.outcomes(self.store)
        pnls = [o["pnl"] for o in rows]
        winners = [o["pnl"] for o in rows if o["pnl"] > 0]
        losers = [o["pnl"] for o in rows if o["pnl"] < 0]
        latest = learning_repo.latest_history(self.store)
        output = {
            "trades": len(rows),
            "win_rate": metrics.win_rate(pnls),
            "avg_winner": to_text(sum(winners, ZERO) / len(winners)) if winners else None,
            "avg_loser": to_text(sum(losers, ZERO) / len(losers)) if losers else None,
            "profit_factor": metrics.profit_factor(pnls),
            "sharpe": latest["sharpe"] if latest else None,
        }
        rate = output["win_rate"]
        return StepResult(
            title=f"{len(rows)} trades"
            + (f", {rate:.0%} won" if rate is not None else "")
            + (f", net {to_text(sum(pnls, ZERO))} USD" if pnls else ""),
            output=output,
            tags=("performance", "review"),
        )

    def check_health(self, step: dict) -> StepResult:
        now = self.clock.now_ms()
        since = now - HEALTH_WINDOW_MS
        finished = loop_repo.finished_steps_since(self.store, since_ms=since)
        total = sum(n for (_, status), n in finished.items() if status != StepStatus.SKIPPED)
        failed = sum(n for (_, status), n in finished.items() if status == StepStatus.FAILED)
        refused = sum(
            n
            for (kind, status), n in finished.items()
            if status == StepStatus.FAILED and kind in TRADE_STEPS
        )
        disabled = [
            w["name"] for w in config_repo.workers(self.store) if w["state"] == WorkerState.DISABLED
        ]
        violations = [f"worker {name} is disabled" for name in disabled]
        if load_policies(self.store).risk_controls.stop_loss_required:
            book = read_book(self.store, desk_account_id(self.store), now)
            violations += [
                f"{p.symbol} {p.side} has no stop" for p in book.positions if p.stop is None
            ]
        rate = failed / total if total else 0.0
        output = {
            "steps_finished": total,
            "steps_failed": failed,
            "error_rate": round(rate, 4),
            "trades_failed": refused,
            "rejections_by_gate": loop_repo.rejections_since(self.store, since_ms=since),
            "violations": violations,
        }
        tags: tuple[str, ...] = ("health",)
        if violations:
            tags += ("error", "rule_violation")
        elif rate > ERROR_RATE_ALERT:
            tags += ("error",)
        return StepResult(
            title=f"health: {failed} of {total} steps failed in 8 h"
            + (f"; {len(violations)} rule violations" if violations else ""),
            output=output,
            summary="; ".join(violations),
            tags=tags,
        )
