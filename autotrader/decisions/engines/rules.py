"""The ``rules`` engine: deterministic policy families over stored indicators, with exit plans.

Each run reads the last two bars of the snapshot (``prev``, ``last``) and asks the configured
policies, in order, for a signal; the first one that wants something other than HOLD wins.

======================  ===============  ==================================================
family (``policy``)     policy_id        signal
======================  ===============  ==================================================
``trend_macd``          ``ema_macd``     LONG: MACD histogram turns positive (MACD crosses
                                         over its signal) while the close is above EMA20
                                         and SMA20; SHORT mirrored. Exit: MACD back under
                                         (over) its signal.
``rsi_mean_reversion``  ``rsi_mr``       LONG: RSI14 crosses up through ``rsi_low``; SHORT:
                                         crosses down through ``rsi_high``. Exit: RSI back
                                         over (under) ``rsi_exit``.
``bollinger_breakout``  ``bb_breakout``  LONG: the close breaks above the upper band from
                                         inside; SHORT: below the lower band. Exit: the
                                         close is back at the middle band.
======================  ===============  ==================================================

Parameters (``strategy.engine_params``) are :class:`autotrader.clones.engine_params.RulesParams`,
the schema the pipeline validator checks at save time: ``policy`` (one family) or ``policies``
(a list, default ``["trend_macd", "rsi_mean_reversion"]``; policy ids are accepted too),
``notional_usd`` ("500", a decimal string), ``leverage`` (2), ``stop_pct`` (0.02),
``target_pct`` (0.04), ``time_exit_hours`` (24; null for none), ``cooldown_minutes`` (60; 0 for
none), ``allow_short`` (true), ``rsi_low`` (30), ``rsi_high`` (70), ``rsi_exit`` (50) and
``granularity`` (the bar size the request builder reads). Keys the schema does not know (only
in graphs saved before it) are ignored and named in the notes; a bad value is a recorded error
and a HOLD.

Positions: an OPEN is never proposed while a position is open. A signal on the position's side
is a HOLD; an entry signal on the other side is a CLOSE (never a flip: the next run may open);
a policy's own exit closes only positions that policy opened. Which policy opened a position is
read from the ``[policy_id]`` tag this engine writes at the start of the exit plan's
``invalidation`` text (``PositionView`` carries no policy id). Every OPEN carries an exit plan:
stop and target at ``stop_pct``/``target_pct`` from the price on the correct side, five
significant digits rounded away from the price, a time exit and a cooldown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, cast

from pydantic import ValidationError

from autotrader.clones.engine_params import FAMILIES, RulesParams, parse_engine_params
from autotrader.clones.plan import EngineName
from autotrader.core.clock import HOUR_MS, MINUTE_MS, iso_utc
from autotrader.core.money import to_text
from autotrader.decisions.engines.base import DecisionRequest, EngineResult, IndicatorBar
from autotrader.decisions.engines.hold import clip, hold_result
from autotrader.prop.gates import PositionView
from autotrader.prop.models import (
    Action,
    ExitPlan,
    Side,
    TradeIntent,
    validation_summary,
)

_SIGNIFICANT_DIGITS = 5
_MIN_BARS = 2
_OWNER_TAG = re.compile(r"^\[([a-z0-9_]{1,64})\]")


def parse_rules_params(raw: Any) -> tuple[RulesParams, tuple[str, ...]]:
    """``engine_params`` read with the rules schema: the parameters and the ignored keys.

    Raises ``ValueError`` with one line naming each bad parameter and why.
    """
    try:
        params, ignored = parse_engine_params(EngineName.RULES, raw)
    except ValidationError as exc:
        raise ValueError(validation_summary(exc)) from None
    return cast(RulesParams, params), ignored


# -- policies ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Signal:
    side: Side  # entry: the side to open; exit: the side of the position to close
    confidence: float
    why: str


@dataclass(frozen=True)
class _Reading:
    """What one policy makes of the last two bars."""

    entry: _Signal | None = None
    exits: Mapping[Side, _Signal] = field(default_factory=dict)  # for positions it opened
    missing: tuple[str, ...] = ()
    idle: str = ""  # why there is no entry, for the notes


_Values = dict[str, float]  # a bar's fields that are not None


def _values(bar: IndicatorBar) -> _Values:
    return {name: value for name, value in vars(bar).items() if value is not None}


def _confidence(excess: float, full: float) -> float:
    """0.5 for a bare signal, rising linearly to 1.0 when ``excess`` reaches ``full``."""
    if full <= 0:
        return 0.5
    return round(0.5 + 0.5 * min(1.0, max(0.0, excess / full)), 2)


def _missing(prev: _Values, last: _Values, both: tuple, last_only: tuple) -> tuple[str, ...]:
    gaps = [f"{n} (2 bars)" for n in both if n not in prev or n not in last]
    return tuple(gaps + [n for n in last_only if n not in last])


def _rsi_mean_reversion(prev: _Values, last: _Values, p: RulesParams) -> _Reading:
    missing = _missing(prev, last, ("rsi14",), ())
    if missing:
        return _Reading(missing=missing)
    a, b = prev["rsi14"], last["rsi14"]
    low, high, mid = p.rsi_low, p.rsi_high, p.rsi_exit
    entry = None
    if a < low <= b:
        why = f"RSI {a:.1f}→{b:.1f} crossed up {low:g}: oversold bounce"
        entry = _Signal(Side.LONG, _confidence(low - a, 10), why)
    elif a > high >= b:
        why = f"RSI {a:.1f}→{b:.1f} crossed down {high:g}: overbought fade"
        entry = _Signal(Side.SHORT, _confidence(a - high, 10), why)
    exits = {}
    if b >= mid:
        why = f"RSI {b:.1f} back over {mid:g}: the bounce has played out"
        exits[Side.LONG] = _Signal(Side.LONG, _confidence(b - mid, 10), why)
    if b <= mid:
        why = f"RSI {b:.1f} back under {mid:g}: the fade has played out"
        exits[Side.SHORT] = _Signal(Side.SHORT, _confidence(mid - b, 10), why)
    return _Reading(entry, exits, idle=f"RSI {a:.1f}→{b:.1f}, no cross of {low:g} or {high:g}")


def _trend_macd(prev: _Values, last: _Values, p: RulesParams) -> _Reading:
    missing = _missing(prev, last, ("macd_hist",), ("ema20", "sma20"))
    if missing:
        return _Reading(missing=missing)
    h0, h1, close, ema, sma = (
        prev["macd_hist"], last["macd_hist"], last["close"], last["ema20"], last["sma20"]
    )  # fmt: skip
    entry = None
    # Confidence grows with the close's distance beyond both averages (full at 1 %).
    if h0 <= 0 < h1 and close > ema and close > sma:
        why = f"MACD crossed over signal, close {close:.6g} above EMA20/SMA20: uptrend"
        entry = _Signal(Side.LONG, _confidence(min(close - ema, close - sma) / close, 0.01), why)
    elif h0 >= 0 > h1 and close < ema and close < sma:
        why = f"MACD crossed under signal, close {close:.6g} below EMA20/SMA20: downtrend"
        entry = _Signal(Side.SHORT, _confidence(min(ema - close, sma - close) / close, 0.01), why)
    exits = {}
    # Exit confidence grows with the histogram's size (full at 0.1 % of the price).
    if h1 < 0:
        why = "MACD back under its signal: uptrend faded"
        exits[Side.LONG] = _Signal(Side.LONG, _confidence(-h1 / close, 0.001), why)
    if h1 > 0:
        why = "MACD back over its signal: downtrend faded"
        exits[Side.SHORT] = _Signal(Side.SHORT, _confidence(h1 / close, 0.001), why)
    where = "over" if h1 > 0 else "under"
    return _Reading(entry, exits, idle=f"MACD {where} signal, no confirmed cross")


def _bollinger_breakout(prev: _Values, last: _Values, p: RulesParams) -> _Reading:
    missing = _missing(prev, last, ("bb_upper", "bb_lower"), ("bb_middle",))
    if missing:
        return _Reading(missing=missing)
    close, upper, lower, mid = last["close"], last["bb_upper"], last["bb_lower"], last["bb_middle"]
    width = upper - lower
    entry = None
    # Confidence grows with how far the close is beyond the band (full at a quarter width).
    if prev["close"] <= prev["bb_upper"] and close > upper:
        why = f"close {close:.6g} broke above the upper band {upper:.6g}: breakout"
        entry = _Signal(Side.LONG, _confidence(close - upper, width / 4), why)
    elif prev["close"] >= prev["bb_lower"] and close < lower:
        why = f"close {close:.6g} broke below the lower band {lower:.6g}: breakdown"
        entry = _Signal(Side.SHORT, _confidence(lower - close, width / 4), why)
    exits = {}
    if close <= mid:
        why = f"close {close:.6g} back at the middle band {mid:.6g}: breakout failed"
        exits[Side.LONG] = _Signal(Side.LONG, _confidence(mid - close, width / 4), why)
    if close >= mid:
        why = f"close {close:.6g} back at the middle band {mid:.6g}: breakdown failed"
        exits[Side.SHORT] = _Signal(Side.SHORT, _confidence(close - mid, width / 4), why)
    return _Reading(entry, exits, idle=f"close {close:.6g} inside the bands")


_READERS: dict[str, Callable[[_Values, _Values, RulesParams], _Reading]] = {
    "trend_macd": _trend_macd,
    "rsi_mean_reversion": _rsi_mean_reversion,
    "bollinger_breakout": _bollinger_breakout,
}
_INVALIDATION = {
    ("trend_macd", Side.LONG): "MACD crosses back under its signal",
    ("trend_macd", Side.SHORT): "MACD crosses back over its signal",
    ("rsi_mean_reversion", Side.LONG): "RSI keeps falling instead of bouncing",
    ("rsi_mean_reversion", Side.SHORT): "RSI keeps rising instead of fading",
    ("bollinger_breakout", Side.LONG): "the close falls back to the middle band",
    ("bollinger_breakout", Side.SHORT): "the close rises back to the middle band",
}


# -- the engine -------------------------------------------------------------------------------


_PARSED_KEPT = 256  # parameter objects whose parse is remembered, at most


class RulesEngine:
    """Deterministic: the same request always gives the same result. Never raises."""

    name = EngineName.RULES
    market_bars = _MIN_BARS  # it reads the last two bars: the snapshot builds no others

    def __init__(self) -> None:
        # id(engine_params) → (the object, its parse or the error): a strategy's parameters
        # are parsed once, not on every decision (a backtest decides thousands of times).
        self._parsed: dict[int, tuple[Any, tuple[RulesParams, tuple[str, ...]] | str]] = {}

    def _params(self, raw: Any) -> tuple[RulesParams, tuple[str, ...]] | str:
        """``parse_rules_params(raw)``, or the error line when the parameters are bad."""
        hit = self._parsed.get(id(raw))
        if hit is not None and hit[0] is raw:
            return hit[1]
        try:
            parsed: tuple[RulesParams, tuple[str, ...]] | str = parse_rules_params(raw)
        except ValueError as exc:
            parsed = clip(f"bad rules parameters: {exc}", 300)
        if len(self._parsed) >= _PARSED_KEPT:
            self._parsed.clear()
        self._parsed[id(raw)] = (raw, parsed)  # holding ``raw`` keeps its id from being reused
        return parsed

    def decide(self, request: DecisionRequest) -> EngineResult:
        symbol, market, position = request.symbol, request.market, request.position
        parsed = self._params(request.strategy.engine_params)
        if isinstance(parsed, str):
            return hold_result(symbol, parsed, error=parsed)
        params, ignored = parsed
        extra = f" (ignored parameters: {', '.join(ignored)})" if ignored else ""
        if market.price is None:
            return hold_result(symbol, f"missing data: no execution price for {symbol}{extra}")
        if len(market.bars) < _MIN_BARS:
            have = len(market.bars)
            note = f"missing data: need {_MIN_BARS} {market.granularity} bars, have {have}"
            return hold_result(symbol, note + extra)
        if position is not None and position.closing:
            return hold_result(symbol, f"a close of the {position.side} position is in flight")
        prev, last = _values(market.bars[-2]), _values(market.bars[-1])
        owner = _owner(position)
        notes: list[str] = []
        missing: list[str] = []
        for family in params.families:
            pid = FAMILIES[family]
            reading = _READERS[family](prev, last, params)
            if reading.missing:
                missing.append(f"{pid} needs {', '.join(reading.missing)}")
                continue
            entry = reading.entry
            if position is None:
                if entry is None:
                    notes.append(f"{pid}: {reading.idle}")
                elif entry.side is Side.SHORT and not params.allow_short:
                    notes.append(f"{pid}: short signal ignored (allow_short is false)")
                else:
                    return _open(request, params, family, entry, extra)
                continue
            side = position.side
            if entry is not None and entry.side is side.opposite:
                why = f"{entry.why}; close {side} first"
                return _close(symbol, side, pid, entry.confidence, why, extra)
            exit_signal = reading.exits.get(side)
            if exit_signal is not None and owner == pid:
                return _close(symbol, side, pid, exit_signal.confidence, exit_signal.why, extra)
            if entry is not None:
                notes.append(f"{pid}: {side} signal, but a {side} position is already open")
            else:
                notes.append(f"{pid}: {reading.idle}")
        if missing and not notes:
            return hold_result(symbol, "missing data: " + "; ".join(missing) + extra)
        return hold_result(symbol, "no signal: " + "; ".join(notes + missing) + extra)


def _owner(position: PositionView | None) -> str | None:
    """The policy id this engine tagged the position's exit plan with, if any."""
    plan = position.exit_plan if position is not None else None
    match = _OWNER_TAG.match(plan.invalidation or "") if plan is not None else None
    return match.group(1) if match else None


def _open(
    request: DecisionRequest, p: RulesParams, family: str, signal: _Signal, extra: str
) -> EngineResult:
    pid, symbol, price = FAMILIES[family], request.symbol, request.market.price
    assert price is not None
    try:
        intent = TradeIntent(
            action=Action.OPEN,
            symbol=symbol,
            side=signal.side,
            notional_usd=p.notional_usd,
            leverage=p.leverage,
            exit_plan=exit_plan(price, signal.side, p, family, request.now_ms),
            confidence=signal.confidence,
            policy_id=pid,
            hypothesis=clip(signal.why),
        )
    except ValidationError as exc:  # e.g. a price so small its levels need > 18 decimals
        reason = f"{pid}: cannot build the OPEN: {validation_summary(exc)}"
        return hold_result(symbol, reason, error=reason)
    except ArithmeticError as exc:  # Decimal trouble with an absurd price
        reason = f"{pid}: cannot build the OPEN: {type(exc).__name__} at price {price}"
        return hold_result(symbol, reason, error=reason)
    return EngineResult(intents=[intent], notes=f"{pid}: OPEN {signal.side}: {signal.why}{extra}")


def _close(
    symbol: str, side: Side, pid: str, confidence: float, why: str, extra: str
) -> EngineResult:
    try:
        intent = TradeIntent(
            action=Action.CLOSE,
            symbol=symbol,
            side=side,
            confidence=confidence,
            policy_id=pid,
            hypothesis=clip(why),
        )
    except ValidationError as exc:
        reason = f"{pid}: cannot build the CLOSE: {validation_summary(exc)}"
        return hold_result(symbol, reason, error=reason)
    return EngineResult(intents=[intent], notes=f"{pid}: CLOSE {side}: {why}{extra}")


def exit_plan(price: Decimal, side: Side, p: RulesParams, family: str, now_ms: int) -> ExitPlan:
    """The exit plan of an OPEN at ``price``: stop ``stop_pct`` against the position and
    target ``target_pct`` for it, each rounded to five significant digits *away* from the price
    (so rounding never moves a level towards the fill), the time exit and cooldown as ISO UTC
    times from ``now_ms``, and the ``[policy_id]``-tagged invalidation.

    The cooldown is ``cooldown_minutes`` from the OPEN: ``ExitPlan.cooldown_until`` is an
    absolute time fixed at open, and the close time is not known yet.
    """
    sign = Decimal(side.sign)
    stop = _round_away(price * (1 - sign * p.stop_pct), up=side is Side.SHORT)
    target = _round_away(price * (1 + sign * p.target_pct), up=side is Side.LONG)
    hours, minutes = p.time_exit_hours, p.cooldown_minutes
    return ExitPlan(
        stop=stop,
        target=target,
        invalidation=f"[{FAMILIES[family]}] {_INVALIDATION[(family, side)]}",
        time_exit=iso_utc(now_ms + int(hours * HOUR_MS)) if hours else None,
        cooldown_until=iso_utc(now_ms + int(minutes * MINUTE_MS)) if minutes else None,
    )


def _round_away(value: Decimal, *, up: bool) -> str:
    quantum = Decimal(1).scaleb(value.adjusted() - (_SIGNIFICANT_DIGITS - 1))
    return to_text(value.quantize(quantum, rounding=ROUND_CEILING if up else ROUND_FLOOR))
