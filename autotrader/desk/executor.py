"""The trade-executor's steps: execute_trade, scale_position and close_position, as intents on the
desk's prop account through the same safety gates and paper fills as every other account.

Each intent carries the idempotency key ``desk-step:<step id>`` (stored in the desk account's
namespace, :mod:`autotrader.prop.idempotency`): a step that somehow ran twice replays its first
fill instead of trading again. The prop desk's transaction is a savepoint of
the worker's unit of work, so a fill and its step's success commit together. A trade the prop
gates refuse fails its step with their code and reason (an outcome, not a worker failure).
"""

from __future__ import annotations

from autotrader.core.clock import Clock, iso_utc
from autotrader.core.db import Store
from autotrader.core.errors import ConflictError
from autotrader.core.money import to_text
from autotrader.desk.missions import Handler, StepResult
from autotrader.desk.models import StepDraft
from autotrader.desk.repo import loop as loop_repo
from autotrader.desk.setup import desk_account_id
from autotrader.desk.vocabulary import StepKind
from autotrader.prop import repo as prop_repo
from autotrader.prop.execution import PropDesk, Submission
from autotrader.prop.models import Action, ExitPlan, Side, TradeIntent
from autotrader.prop.vocabulary import IntentOrigin


class TradeExecutor:
    def __init__(self, store: Store, clock: Clock, desk: PropDesk) -> None:
        self.store = store
        self.clock = clock
        self.desk = desk

    def handlers(self) -> dict[StepKind, Handler]:
        return {
            StepKind.EXECUTE_TRADE: self.execute_trade,
            StepKind.SCALE_POSITION: self.scale_position,
            StepKind.CLOSE_POSITION: self.close_position,
        }

    def execute_trade(self, step: dict) -> StepResult:
        draft = StepDraft.model_validate(step["payload"])
        assert draft.symbol
        assert draft.side
        assert draft.notional_usd
        plan = None
        if draft.stop_loss is not None or draft.take_profit is not None:
            plan = ExitPlan(
                stop=_text(draft.stop_loss),
                target=_text(draft.take_profit),
                invalidation=f"desk mission {step['mission_id']}",
            )
        intent = TradeIntent(
            action=Action.OPEN,
            symbol=draft.symbol,
            side=draft.side,
            notional_usd=to_text(draft.notional_usd),
            exit_plan=plan,
            **self._why(step),
        )
        return self._submit(step, intent)

    def scale_position(self, step: dict) -> StepResult:
        draft = StepDraft.model_validate(step["payload"])
        position = self._position(draft)
        assert draft.notional_usd is not None
        intent = TradeIntent(
            action=Action.OPEN,
            symbol=position["symbol"],
            side=Side(position["side"]),
            notional_usd=to_text(draft.notional_usd),
            leverage=max(1, int(position["leverage"])),
            **self._why(step),
        )
        return self._submit(step, intent)

    def close_position(self, step: dict) -> StepResult:
        position = self._position(StepDraft.model_validate(step["payload"]))
        intent = TradeIntent(
            action=Action.CLOSE,
            symbol=position["symbol"],
            side=Side(position["side"]),
            **self._why(step),
        )
        return self._submit(step, intent)

    # -- helpers ---------------------------------------------------------------------------

    def _why(self, step: dict) -> dict:
        """The intent's confidence and hypothesis: its mission's proposal."""
        mission = loop_repo.get_mission(self.store, step["mission_id"])
        proposal = loop_repo.get_proposal(self.store, mission["proposal_id"]) if mission else None
        return {
            "confidence": proposal["confidence"] if proposal else None,
            "policy_id": f"desk:{proposal['source']}" if proposal else "desk",
            "hypothesis": (mission["title"] if mission else "desk")[:120],
        }

    def _position(self, draft: StepDraft) -> dict:
        """The desk's open position the step names (by id, else by symbol)."""
        account_id = desk_account_id(self.store)
        for row in prop_repo.open_positions(self.store, account_id):
            if row["id"] == draft.position_id or (
                draft.position_id is None and row["symbol"] == draft.symbol
            ):
                return row
        raise ConflictError(f"no open desk position {draft.position_id or draft.symbol}")

    def _submit(self, step: dict, intent: TradeIntent) -> StepResult:
        sub = self.desk.submit(
            desk_account_id(self.store),
            intent,
            origin=IntentOrigin.DESK,
            idempotency_key=f"desk-step:{step['id']}",
        )
        return _result(step, intent, sub, self.clock.now_ms())


def _result(step: dict, intent: TradeIntent, sub: Submission, now: int) -> StepResult:
    verb = "close" if intent.action is Action.CLOSE else "open"
    side = intent.side.value if intent.side else None
    output = {"intent_id": sub.intent_id, "gate_results": sub.gate_results}
    if not sub.accepted or sub.booked is None or sub.fill is None:
        why = f"prop gate {sub.reject_code}: {sub.reason}"
        return StepResult(
            title=f"{verb} {side} {intent.symbol} refused: {sub.reject_code}",
            output=output,
            ok=False,
            error=why,
            event_kind="trade",
            tags=("trade", "refused"),
            symbol=intent.symbol,
            side=side,
        )
    fill = sub.fill
    output |= {
        "fill_id": sub.booked.fill_id,
        "position_id": sub.booked.position_id,
        "qty": to_text(fill["qty"]),
        "price": to_text(fill["price"]),
        "notional": to_text(fill["notional"]),
        "fee": to_text(fill["fee"]),
        "replayed": sub.replayed,
    }
    tags = ("trade", "executed") if verb == "open" else ("trade", "exit")
    return StepResult(
        title=f"Fill confirmed: {fill['side']} {to_text(fill['qty'])} {intent.symbol} @ "
        f"{to_text(fill['price'])} (fee {to_text(fill['fee'])}) at {iso_utc(now)}",
        output=output,
        event_kind="trade",
        tags=tags,
        position_id=sub.booked.position_id,
        symbol=intent.symbol,
        side=side,
    )


def _text(value) -> str | None:
    return None if value is None else to_text(value)
