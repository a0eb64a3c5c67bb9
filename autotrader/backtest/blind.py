"""``backtest --blind``: prompts a model cannot place in history, and answers mapped back.

A model may remember what BTC did in February 2026. A blind prompt names each asset by a
stable alias (``ASSET_1``, …, in symbol order), moves every time it shows by one offset for the
run (whole weeks, into the future: weekdays and hours keep their place), and shows every price
multiplied by a factor per asset (quantities divided by it, so USD amounts — balance,
notional, fees, PnL — stay true). The model's answer is mapped back before anything reaches
the gates: the alias to its symbol, prices (stop, target, invalidation) divided by the factor,
quantities multiplied, times moved back.

The offset and factors are derived from what the run replays (clones, period, symbols), so a
rerun asks the same prompts and is answered from the cache; blind prompts differ from plain
ones, so they have cache entries of their own.

What it does not hide: the shape of the series (volatility, drawdowns, round-number
reactions), funding rates and their swings, the correlation between assets, and the relative
order of events — a model that recognises those can still place a period.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from autotrader.context.packet import ContextPacket, render_packet
from autotrader.context.render import fmt_decimal
from autotrader.core.clock import DAY_MS, iso_utc, parse_iso_utc
from autotrader.core.money import to_text
from autotrader.prop.models import TradeIntent

_WEEK_MS = 7 * DAY_MS
_PRICE_COLUMNS = frozenset(
    {"open", "high", "low", "close", "bb_upper", "bb_middle", "bb_lower", "sma20", "ema20",
     "macd", "macd_signal", "macd_hist", "mark_price", "oracle_price"}
)  # fmt: skip
_QUANTITY_COLUMNS = frozenset({"volume", "open_interest"})
_POSITION_PRICES = ("entry_price", "mark", "liquidation_price", "stop", "target",
                    "invalidation_price")  # fmt: skip
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z")
_PRICE_DIGITS = 10  # significant digits of a price mapped back to the real scale


@dataclass(frozen=True)
class Blinding:
    """One run's disguise: ``aliases`` by real symbol, ``shift_ms`` added to every time shown,
    ``factors`` (Decimal) multiplying each asset's prices."""

    aliases: dict[str, str]
    shift_ms: int
    factors: dict[str, Decimal]

    @classmethod
    def for_run(cls, symbols: Iterable[str], *, seed: str) -> Blinding:
        """The disguise of a run over ``symbols``, fixed by ``seed`` (what the run replays):
        a shift of 10 to 30 years in whole weeks, and factors between 0.1 and 10 with three
        significant digits, never within 10 % of 1."""
        ordered = sorted(set(symbols))
        digest = hashlib.sha256(seed.encode("utf-8")).digest()
        shift = (522 + int.from_bytes(digest[:4], "big") % 1040) * _WEEK_MS  # 10-30 years
        factors = {}
        for symbol in ordered:
            draw = hashlib.sha256(digest + symbol.encode("utf-8")).digest()
            exponent = Decimal(int.from_bytes(draw[:4], "big") % 1800 - 900) / 900  # [-1, 1)
            factor = Decimal(10) ** exponent
            if abs(factor - 1) < Decimal("0.1"):
                factor *= 3
            factors[symbol] = Decimal(f"{factor:.3g}")
        return cls({s: f"ASSET_{n}" for n, s in enumerate(ordered, 1)}, shift, factors)

    # -- the prompt ---------------------------------------------------------------------------

    def packet(self, packet: ContextPacket) -> ContextPacket:
        """``packet`` as the model sees it blind: its data disguised, the prompt rendered
        again from it (under the same budget)."""
        data = packet.data
        blind = {
            **data,
            "symbol": self._alias(data["symbol"]),
            "strategy_id": "strategy",
            "as_of": data["as_of"] + self.shift_ms,
            "as_of_iso": iso_utc(data["as_of"] + self.shift_ms),
            "behaviour_prompt": self._text(data["behaviour_prompt"]),
            "plan_note": self._text(data["plan_note"]),
            "reads": [self._read(read) for read in data["reads"]],
            "account": self._account(data["account"]),
            "memories": [
                {**m, "time": self._time(m["time"]), "text": self._text(m["text"])}
                for m in data["memories"]
            ],
        }
        return render_packet(blind, budget_tokens=packet.budget)

    def _read(self, read: dict[str, Any]) -> dict[str, Any]:
        symbol = read["context_symbol"]
        blind = {
            **read,
            "symbol": self._alias(read["symbol"]),
            "context_symbol": self._alias(symbol),
            "node_id": "",
            "note": self._text(read["note"]),
        }
        if "series" in read:
            blind["series"] = {**read["series"], "source": "history"}
        if "rows" in read:
            columns = read["columns"]
            blind["rows"] = [
                [self._cell(c, value, symbol) for c, value in zip(columns, row, strict=True)]
                for row in read["rows"]
            ]
        # Polymarket and DefiLlama are not replayed (their reads come back empty): nothing of
        # theirs reaches a blind prompt.
        blind.pop("markets", None)
        blind.pop("metrics", None)
        return blind

    def _cell(self, column: str, value: str | None, symbol: str) -> str | None:
        if value is None:
            return None
        if column == "time":
            return self._time(value)
        if column in _PRICE_COLUMNS:
            return fmt_decimal(Decimal(value) * self.factors.get(symbol, Decimal(1)))
        if column in _QUANTITY_COLUMNS:
            return fmt_decimal(Decimal(value) / self.factors.get(symbol, Decimal(1)))
        return value

    def _account(self, account: dict[str, Any] | None) -> dict[str, Any] | None:
        if account is None:
            return None
        limits = account["limits"]
        return {
            **account,
            "limits": {**limits, "cooldown_until": self._time(limits["cooldown_until"])},
            "positions": [self._position(p) for p in account["positions"]],
            "recent_fills": [self._fill(f) for f in account["recent_fills"]],
            "recent_rejections": [
                {**r, "time": self._time(r["time"]), "symbol": self._alias(r["symbol"])}
                for r in account["recent_rejections"]
            ],
        }

    def _fill(self, fill: dict[str, Any]) -> dict[str, Any]:
        symbol = fill["symbol"]
        return {
            **fill,
            "time": self._time(fill["time"]),
            "symbol": self._alias(symbol),
            "qty": self._quantity(fill["qty"], symbol),
            "price": self._price(fill["price"], symbol),
        }

    def _position(self, position: dict[str, Any]) -> dict[str, Any]:
        symbol = position["symbol"]
        blind = {**position, "symbol": self._alias(symbol)}
        for field in _POSITION_PRICES:
            blind[field] = self._price(position[field], symbol)
        blind["qty"] = self._quantity(position["qty"], symbol)
        blind["invalidation"] = self._text(position["invalidation"])
        blind["time_exit"] = self._time(position["time_exit"])
        blind["opened_at"] = self._time(position["opened_at"])
        return blind

    def _alias(self, symbol: str | None) -> str | None:
        return None if symbol is None else self.aliases.get(symbol, "ASSET_OTHER")

    def _price(self, value: Any, symbol: str) -> str | None:
        if value is None:
            return None
        return fmt_decimal(Decimal(str(value)) * self.factors.get(symbol, Decimal(1)))

    def _quantity(self, value: Any, symbol: str) -> str | None:
        if value is None:
            return None
        return to_text(Decimal(str(value)) / self.factors.get(symbol, Decimal(1)))

    def _time(self, text: str | None) -> str | None:
        """Every ISO-8601 UTC time in ``text`` moved by the shift (None and '' stay)."""
        return _moved(text, self.shift_ms)

    def _text(self, text: str | None) -> str | None:
        """Free text with every symbol replaced by its alias, and every time moved."""
        if not text:
            return text
        for symbol in sorted(self.aliases, key=len, reverse=True):
            text = re.sub(rf"\b{re.escape(symbol)}\b", self.aliases[symbol], text)
        return self._time(text)

    # -- the answer ---------------------------------------------------------------------------

    def intent(self, intent: TradeIntent) -> TradeIntent:
        """The model's answer in real terms: the symbol, prices, quantities and times a blind
        prompt disguised, mapped back (an alias this run did not give stays as it is: the
        engine already refuses an intent for another symbol)."""
        real = next((s for s, alias in self.aliases.items() if alias == intent.symbol), None)
        if real is None:
            return intent
        factor = self.factors[real]
        answer = intent.model_dump(mode="json") | {"symbol": real}
        if intent.qty is not None:
            answer["qty"] = to_text(Decimal(intent.qty) * factor)
        plan = answer["exit_plan"]
        if plan is not None:
            for field in ("stop", "target", "invalidation_price"):
                if plan[field] is not None:
                    plan[field] = _unscaled(plan[field], factor)
            for field in ("time_exit", "cooldown_until"):
                plan[field] = _moved(plan[field], -self.shift_ms)
        return TradeIntent.model_validate(answer)


def _moved(text: str | None, delta_ms: int) -> str | None:
    if not text:
        return text
    return _ISO.sub(lambda m: iso_utc(parse_iso_utc(m.group(0)) + delta_ms), text)


def _unscaled(value: str, factor: Decimal) -> str:
    return to_text(Decimal(f"{Decimal(value) / factor:.{_PRICE_DIGITS}g}"))
