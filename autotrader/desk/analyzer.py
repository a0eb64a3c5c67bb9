"""The signal-analyzer's step: analyze_signal over market memory → signals with confidence.

Each symbol the step names (else the desk's watchlist) is read on its bar size (5m or 1h,
default 1h) by :func:`autotrader.desk.signals.analyze`. A directional reading becomes a signal —
``buy``/``sell``, or ``scale`` when the desk already holds the symbol on that side — once per
bar, and INTEL reports it: tagged ``high_confidence`` above the signal_high_confidence rule's
threshold, which is what the reaction matrix and SCOUT's trigger listen for.
"""

from __future__ import annotations

from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.desk.events import Event, emit
from autotrader.desk.missions import Handler, StepResult
from autotrader.desk.models import StepDraft
from autotrader.desk.repo import learning as repo
from autotrader.desk.risk import read_book
from autotrader.desk.setup import desk_account_id
from autotrader.desk.signals import Analysis, analyze
from autotrader.desk.triggers import high_confidence
from autotrader.desk.vocabulary import AgentId, SignalType, StepKind
from autotrader.prop.models import Side

DEFAULT_TIMEFRAME = "1h"


class SignalAnalyzer:
    def __init__(self, store: Store, clock: Clock, *, watchlist: tuple[str, ...]) -> None:
        self.store = store
        self.clock = clock
        self.watchlist = watchlist

    def handlers(self) -> dict[StepKind, Handler]:
        return {StepKind.ANALYZE_SIGNAL: self.analyze_signal}

    def analyze_signal(self, step: dict) -> StepResult:
        draft = StepDraft.model_validate(step["payload"])
        symbols = draft.symbols or ((draft.symbol,) if draft.symbol else self.watchlist)
        timeframe = draft.timeframe or DEFAULT_TIMEFRAME
        now = self.clock.now_ms()
        book = read_book(self.store, desk_account_id(self.store), now)
        threshold = high_confidence(self.store)
        readings: dict[str, dict] = {}
        found: list[str] = []
        for symbol in symbols:
            analysis = analyze(self.store, symbol, timeframe, now)
            if isinstance(analysis, str):
                readings[symbol] = {"note": analysis}
                continue
            readings[symbol] = {"score": analysis.score, **analysis.metadata()}
            if analysis.side is None:
                continue
            held = book.position(symbol=symbol)
            signal_type = (
                SignalType.SCALE
                if held is not None and held.side is analysis.side
                else SignalType.BUY
                if analysis.side is Side.LONG
                else SignalType.SELL
            )
            signal_id = self._record(step, analysis, signal_type, threshold, now)
            readings[symbol]["signal_id"] = signal_id
            if signal_id is not None:
                found.append(f"{symbol} {signal_type} {analysis.confidence:.2f}")
        return StepResult(
            title=f"scanned {', '.join(symbols)} ({timeframe}): "
            + (f"{len(found)} signals — {', '.join(found)}" if found else "no new signal"),
            output={"timeframe": timeframe, "readings": readings},
            tags=("scan",),
        )

    def _record(
        self, step: dict, analysis: Analysis, signal_type: SignalType, threshold: float, now: int
    ) -> int | None:
        """Store the signal and report it; None when this bar already gave it (a rescan)."""
        assert analysis.side is not None
        signal_id = repo.insert_signal(
            self.store,
            {
                "symbol": analysis.symbol,
                "signal_type": signal_type.value,
                "side": analysis.side.value,
                "source": analysis.source.value,
                "confidence": analysis.confidence,
                "price": analysis.price,
                "timeframe": analysis.timeframe,
                "bar_time": analysis.bar_time,
                "metadata": analysis.metadata(),
                "step_id": step["id"],
                "created_at": now,
            },
        )
        if signal_id is None:
            return None
        strong = ("high_confidence",) if analysis.confidence > threshold else ()
        emit(
            self.store,
            Event(
                AgentId.INTEL,
                "signal",
                f"{analysis.symbol} {signal_type} signal, confidence {analysis.confidence:.2f} "
                f"({analysis.source}, {analysis.timeframe})",
                ("signal", signal_type.value, analysis.source.value, *strong),
                summary="; ".join(analysis.notes),
                mission_id=step["mission_id"],
                step_id=step["id"],
                signal_id=signal_id,
                symbol=analysis.symbol,
                side=analysis.side.value,
            ),
            now_ms=now,
        )
        return signal_id
