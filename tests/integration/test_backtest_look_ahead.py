"""No look-ahead: what a backtest books up to an instant T must not change when the history
after T does. A strategy that peeks at later bars fails this check."""

from __future__ import annotations

from decimal import Decimal

import pytest

from autotrader.backtest.driver import BacktestDriver
from autotrader.backtest.history import HistoryMarket, load_history
from autotrader.backtest.runs import REPLAYED_ENGINES
from autotrader.clones.pipelines import compiled
from autotrader.context.packet import build_context
from autotrader.core.clock import SimulatedClock
from autotrader.decisions.engines.base import DecisionRequest, EngineResult
from autotrader.decisions.engines.hold import hold_result
from autotrader.prop.accounts import open_account
from autotrader.prop.factory import precision
from autotrader.prop.models import AccountRules, Action, Side, TradeIntent
from tests.fakes.decisions import (
    CLONE_ID,
    HOUR,
    copy_store,
    market_template,
    open_test_store,
    replay_end,
    replay_start,
)

SINCE = replay_start()
UNTIL = replay_end() - HOUR
CUT = SINCE + 12 * HOUR  # the history after this instant is rewritten


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return market_template(tmp_path_factory)


class PeekingEngine:
    """Trades in and out on every tick, sized by how the close an hour *after* now compares
    with now: it reads the future."""

    name = "rules"

    def __init__(self) -> None:
        self.history = None

    def decide(self, request: DecisionRequest) -> EngineResult:
        symbol = request.symbol
        if request.position is not None:
            return EngineResult(intents=[TradeIntent(action=Action.CLOSE, symbol=symbol)])
        later = self.history.symbols[symbol].price(request.now_ms + HOUR)
        if later is None or request.market.price is None:
            return hold_result(symbol, "nothing to peek at")
        size = (500 * later.price / request.market.price).quantize(Decimal(1))
        intent = TradeIntent(
            action=Action.OPEN, symbol=symbol, side=Side.LONG, notional_usd=str(size)
        )
        return EngineResult(intents=[intent])


def _rewrite_future(store) -> None:
    """Every bar opened after CUT moves 3 % up: a different future, the same past."""
    store.execute(
        "UPDATE candles SET open = open * 1.03, high = high * 1.03, low = low * 1.03,"
        " close = close * 1.03 WHERE open_time >= ?",
        (CUT,),
    )


def _booked_by_cut(template, folder, *, rewrite: bool, engines=None) -> list[tuple]:
    source = open_test_store(copy_store(template, folder / "source.db"))
    if rewrite:
        _rewrite_future(source)
    target = open_test_store(folder / "backtest.db")
    clock = SimulatedClock(SINCE)
    history = load_history(source, ["BTC", "ETH"], ["1h"], since_ms=SINCE, until_ms=UNTIL)
    engines = engines or REPLAYED_ENGINES
    for engine in engines.values():
        if isinstance(engine, PeekingEngine):
            engine.history = history
    with target.atomic():
        account = open_account(
            target, clock, clone_id=CLONE_ID, kind="sandbox", starting_balance=Decimal(10_000),
            rules=AccountRules(max_daily_trades=100_000),
        )  # fmt: skip
        BacktestDriver(target, history, precision(source, clock), engines, clock).run(
            clone_id=CLONE_ID,
            model="",
            account_id=account,
            strategies=compiled(source, CLONE_ID).strategies,
        )
    rows = [
        tuple(r.values())
        for r in target.query(
            "SELECT kind, amount, symbol, created_at FROM ledger_entries"
            " WHERE created_at <= ? ORDER BY id",
            (CUT,),
        )
    ]
    source.close()
    target.close()
    return rows


def test_what_is_booked_before_an_instant_does_not_depend_on_what_came_after(template, tmp_path):
    original = _booked_by_cut(template, tmp_path / "a", rewrite=False)
    rewritten = _booked_by_cut(template, tmp_path / "b", rewrite=True)
    assert len(original) > 3, "the check needs trades before the cut"
    assert rewritten == original


def test_a_strategy_that_peeks_at_later_bars_fails_the_check(template, tmp_path):
    original = _booked_by_cut(template, tmp_path / "a", rewrite=False, engines=_peeking())
    rewritten = _booked_by_cut(template, tmp_path / "b", rewrite=True, engines=_peeking())
    assert rewritten != original


def _peeking() -> dict:
    return {"rules": PeekingEngine()}


def _prompts(template, folder, *, rewrite: bool, instants: list[int]) -> list[str]:
    """The BTC prompt an llm strategy reads at each instant, built from the history."""
    source = open_test_store(copy_store(template, folder / "source.db"))
    if rewrite:
        _rewrite_future(source)
    strategy = compiled(source, CLONE_ID).strategies[0]
    history = load_history(source, ["BTC"], ["1h"], since_ms=SINCE, until_ms=UNTIL,
                           context=[("BTC", "1h")],
                           funding_since_ms=SINCE - 24 * HOUR)  # fmt: skip
    prompts = [
        build_context(
            source,
            SimulatedClock(now),
            strategy,
            "BTC",
            account_id=None,
            market=HistoryMarket(history, now),
        ).prompt
        for now in instants
    ]
    source.close()
    return prompts


def test_a_later_bar_changes_nothing_in_the_prompt_of_an_earlier_instant(template, tmp_path):
    # On the hour, half past (a forming hour rolled up from closed 5m bars), and at the cut.
    before = [CUT - 3 * HOUR, CUT - HOUR // 2, CUT - 5 * 60_000, CUT]
    original = _prompts(template, tmp_path / "a", rewrite=False, instants=[*before, CUT + HOUR])
    rewritten = _prompts(template, tmp_path / "b", rewrite=True, instants=[*before, CUT + HOUR])
    assert rewritten[:-1] == original[:-1]
    assert rewritten[-1] != original[-1], "an instant after the cut sees the rewritten bars"


def test_a_prompt_from_the_history_shows_as_many_bars_as_the_read_plan_asks(template, tmp_path):
    # Half past: 23 closed hours and the forming one, rolled up from closed 5m bars.
    [prompt] = _prompts(template, tmp_path, rewrite=False, instants=[CUT - HOUR // 2])
    assert "### ohlcv BTC 1h (source file): 24 bars, oldest first" in prompt
