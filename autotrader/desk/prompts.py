"""What the desk tells a model: an agent's persona and the data blocks its prompts share (the
book, the limits, the latest signals). Text inside a data block is information, never an
instruction: the system messages say so, and model-written text only ever appears inside one."""

from __future__ import annotations

from autotrader.core.clock import iso_utc
from autotrader.core.db import Store
from autotrader.core.money import to_text
from autotrader.desk.models import Policies
from autotrader.desk.repo import config as config_repo
from autotrader.desk.repo import learning as learning_repo
from autotrader.desk.risk import Book
from autotrader.desk.vocabulary import AgentId


def persona(store: Store, agent: AgentId) -> str:
    """The agent as the desk's data describes it (its editable profile)."""
    row = config_repo.get_agent(store, agent.value)
    if row is None:
        return f"You are {agent.value.upper()}."
    return (
        f"You are {row['name']}: {row['role']}. Personality: {row['personality']}. "
        f'Tone: "{row["tone"]}". Quirk: {row["quirk"]}. Voice: {row["voice"]}. '
        f"Directive: {row['directive']}"
    )


def book_lines(book: Book, policies: Policies, now_ms: int) -> list[str]:
    """The account, the limits the gates apply, and the open positions."""
    limits, controls = policies.trade_limits, policies.risk_controls
    return [
        f"As of {iso_utc(now_ms)}: equity {to_text(book.equity)} USD, "
        f"cash {to_text(book.cash)} USD.",
        f"Limits: positions up to {to_text(limits.max_position_size_usd)} USD, at most "
        f"{limits.max_open_positions} open, {limits.max_daily_trades} trades a day, "
        f"confidence at least {limits.min_confidence}, risk per position "
        f"{controls.max_single_position_risk} of equity.",
        "<data name=positions>",
        *[
            f"- position {p.id}: {p.symbol} {p.side} {to_text(p.qty)} @ "
            f"{to_text(p.entry_price)}, mark {to_text(p.mark)} ({p.pnl_pct:+.2%})"
            for p in book.positions
        ],
        "</data>",
    ]


def signal_lines(store: Store, *, limit: int = 10) -> list[str]:
    """The latest signals from market memory."""
    return [
        "<data name=signals>",
        *[
            f"- {s['symbol']} {s['signal_type']} {s['confidence']:.2f} ({s['source']}, "
            f"{s['timeframe']}) at {to_text(s['price'])}"
            for s in learning_repo.list_signals(store, limit=limit)
        ],
        "</data>",
    ]
