"""How ``autotrader ledger`` prints: rich tables for people, JSON/CSV for machines.

Amounts are shown exactly (the ledger's own Decimal text, signed, with thousands separators):
an audit view that rounds would not add up. Ratios are rounded for reading only.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import asdict
from decimal import Decimal
from typing import TYPE_CHECKING

from rich.text import Text
from rich.tree import Tree

from autotrader.cli._render import line, out, print_json, say, styled, table
from autotrader.core.clock import iso_utc

if TYPE_CHECKING:
    from autotrader.ledger.leaderboard import LeaderRow
    from autotrader.ledger.nav import NavPoint
    from autotrader.ledger.policies import PolicyRow
    from autotrader.ledger.queries import KindTotal, LedgerPage, TradesReport
    from autotrader.ledger.trace import FillChain, Trace
    from autotrader.ledger.verify import VerifyReport

__all__ = ["say"]


def money(value: Decimal | None, *, sign: bool = False) -> str:
    """Exact Decimal text with separators: ``-1,234.5678``; ``+`` on request."""
    if value is None:
        return ""
    if not value:
        return "0"
    return format(value.normalize(), "+,f" if sign else ",f")


def signed(value: Decimal | None) -> Text | str:
    """A signed amount, green when it adds, red when it takes."""
    if value is None:
        return ""
    style = "green" if value > 0 else "red" if value < 0 else ""
    return styled(money(value, sign=True), style)


def ratio(value: float | None, places: int = 2) -> str:
    return "" if value is None else f"{value:.{places}f}"


def duration(ms: int | None) -> str:
    """``3d 4h``, ``2h 05m``, ``12m``, ``40s``."""
    if ms is None:
        return ""
    seconds = ms // 1000
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m" if minutes else f"{seconds}s"


def reference(entry: dict) -> str:
    """The ids an entry names, typed as ``ledger trace`` reads them."""
    refs = [
        f"{label}:{entry[key]}"
        for label, key in (
            ("fill", "fill_id"),
            ("order", "order_id"),
            ("position", "position_id"),
            ("run", "decision_run_id"),
        )
        if entry.get(key) is not None
    ]
    return " ".join(refs) or (entry.get("reason") or "")


# -- show ---------------------------------------------------------------------------------------


def ledger_page(
    page: LedgerPage,
    totals: Callable[[], list[KindTotal]] | None,
    *,
    as_json: bool,
    as_csv: bool,
) -> None:
    """The page, then (if ``totals``) the footer it computes — called after the page is on
    screen, so a large ledger shows its newest entries at once."""
    if as_json:
        found = totals() if totals else None
        print_json(
            {
                "page": page.page,
                "limit": page.limit,
                "has_more": page.has_more,
                "entries": [e | {"time": iso_utc(e["created_at"])} for e in page.entries],
                "totals": found,
                "net": sum((t.amount for t in found), Decimal(0)) if found is not None else None,
            }
        )
        return
    if as_csv:
        from autotrader.ledger.export import SCHEMAS, normalise, write_csv

        schema = SCHEMAS["ledger"]
        rows = (normalise(e | {"time": iso_utc(e["created_at"])}, schema) for e in page.entries)
        write_csv(rows, schema, sys.stdout)
        return
    if not page.entries:
        say("no ledger entries match" + (f" on page {page.page}" if page.page > 1 else ""))
    else:
        columns = ["time", "account", "clone", "kind", "symbol", "amount", "balance after", "ref"]
        body = [
            (
                iso_utc(e["created_at"]),
                e["account_id"],
                e["clone_id"],
                e["kind"],
                e["symbol"],
                signed(e["amount"]),
                money(e["balance_after"]),
                reference(e),
            )
            for e in page.entries
        ]
        grid = table(f"Ledger, newest first (page {page.page})", columns, body)
        for name in ("amount", "balance after"):
            grid.columns[columns.index(name)].justify = "right"
        out.print(grid)
        if page.has_more:
            say(f"more: --page {page.page + 1}")
    found = totals() if totals else None
    if found:
        net = sum((t.amount for t in found), Decimal(0))
        body = [(t.kind, t.count, signed(t.amount)) for t in found]
        body.append(("net", sum(t.count for t in found), signed(net)))
        grid = table("Totals over the filter", ["kind", "entries", "total"], body)
        grid.columns[1].justify = grid.columns[2].justify = "right"
        out.print(grid)


# -- trades -------------------------------------------------------------------------------------


def trades(report: TradesReport, *, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "as_of": iso_utc(report.as_of_ms),
                "closed": [asdict(t) for t in report.closed],
                "open": [asdict(t) for t in report.open],
            }
        )
        return
    if not report.closed and not report.open:
        say("no trades match")
        return
    if report.closed:
        columns = ["pos", "acct", "symbol", "side", "qty", "entry", "exit", "lev", "fees"]
        columns += ["funding", "realized", "net pnl", "%", "held", "trigger"]
        body = [
            (
                t.position_id,
                t.account_id,
                t.symbol,
                t.side,
                money(t.qty),
                money(t.entry_price),
                money(t.exit_price),
                f"{t.leverage:.4g}x",
                money(t.fees),
                money(t.funding, sign=True),
                money(t.realized + t.liquidation, sign=True),
                signed(t.net_pnl),
                _percent(t.return_pct),
                duration(t.holding_ms),
                t.close_trigger,
            )
            for t in report.closed
        ]
        out.print(_right(table("Closed trades (newest first)", columns, body), 4, 13))
    if report.open:
        columns = ["pos", "acct", "symbol", "side", "qty", "entry", "mark", "lev", "fees"]
        columns += ["funding", "unrealized", "net pnl", "%", "held"]
        body = [
            (
                t.position_id,
                t.account_id,
                t.symbol,
                t.side,
                money(t.qty),
                money(t.entry_price),
                money(t.mark_price),
                f"{t.leverage:.4g}x",
                money(t.fees),
                money(t.funding, sign=True),
                signed(t.unrealized),
                signed(t.net_pnl),
                _percent(t.return_pct),
                duration(t.holding_ms),
            )
            for t in report.open
        ]
        title = f"Open positions, marked as of {iso_utc(report.as_of_ms)}"
        out.print(_right(table(title, columns, body), 4, 13))


def _percent(value: Decimal | None) -> Text | str:
    if value is None:
        return ""
    text = f"{value:+.2f}%" if value else "0.00%"
    return styled(text, "green" if value > 0 else "red" if value < 0 else "")


def _right(grid, first: int, last: int | None):
    for column in grid.columns[first:last]:
        column.justify = "right"
    return grid


# -- trace --------------------------------------------------------------------------------------


def trace(result: Trace, *, as_json: bool, lifecycle: list[dict] | None = None) -> None:
    if as_json:
        print_json(asdict(result) | ({"lifecycle": lifecycle} if lifecycle is not None else {}))
        return
    account = result.account or {}
    root = Tree(
        line(
            styled(f"trace {result.ref}", "bold"),
            f" — account {account['id']} (clone {account['clone_id']}, {account['kind']})"
            if account
            else "",
        )
    )
    if result.position:
        p = result.position
        root.add(
            f"position {p['id']}: {p['side']} {p['symbol']} {p['status']}, max qty {p['max_qty']}"
            f" @ {p['entry_price']}, {p['leverage']}x"
            + (f", closed by {p['close_trigger']} @ {p['exit_price']}" if p["closed_at"] else "")
        )
    for chain in result.chains:
        _chain(root.add(_chain_title(chain)), chain)
    for entry in result.other_entries:
        root.add(_entry_line(entry))
    for run in result.runs:
        r = run.run
        node = root.add(
            f"decision run {r['id']}: {r.get('status')} — engine {r.get('engine')}, model "
            f"{r.get('model') or '-'}, {r.get('strategy_id')} {r.get('symbol')}, trace "
            f"{r.get('trace_id')}, at {iso_utc(r.get('started_at') or r.get('created_at'))}"
            + (f" — error: {r['error']}" if r.get("error") else "")
        )
        for action in run.actions:
            node.add(
                f"action {action['seq']}: {action['action']} {action['symbol']} → "
                f"{action['status']}" + (f" ({action['reason']})" if action.get("reason") else "")
            )
        for inv in run.invocations:
            node.add(
                f"invocation {inv['id']}: {inv.get('role')} {inv.get('model')} via "
                f"{inv.get('api')} — {inv.get('status')}, {inv.get('input_tokens')} in / "
                f"{inv.get('output_tokens')} out tokens, {inv.get('latency_ms')} ms, "
                f"${inv.get('cost_usd')}" + (" (cached)" if inv.get("cached") else "")
            )
        for call in run.tool_calls:
            node.add(
                f"tool call {call['name']}: invocation {call['invocation_id']} → "
                f"action {call['action_id']}"
            )
        for artifact in run.artifacts:
            extra = " (missing from the artifact index)" if artifact.get("missing") else ""
            size = f", {artifact['size']} bytes" if artifact.get("size") is not None else ""
            node.add(f"artifact {artifact['key']} — {artifact['source']}{size}{extra}")
    out.print(root)
    for note in result.notes:
        say(f"note: {note}")
    if lifecycle is not None:
        from autotrader.cli.lifecycle_render import timeline_table

        timeline_table(lifecycle, title=f"Lifecycle of audition account {account['id']}")


def _chain_title(chain: FillChain) -> str:
    fill = chain.fill
    if fill is None:
        intent = chain.intent or {}
        return f"intent {intent.get('id')}: {intent.get('action')} {intent.get('symbol')}"
    return (
        f"fill {fill['id']}: {fill['side']} {fill['qty']} {fill['symbol']} @ {fill['price']}"
        f" (reference {fill['reference_price']}, slippage {fill['slippage_bps']} bps,"
        f" fee {fill['fee']}) at {iso_utc(fill['created_at'])}"
    )


def _chain(node: Tree, chain: FillChain) -> None:
    for entry in chain.entries:
        node.add(_entry_line(entry))
    if chain.order:
        o = chain.order
        node.add(
            f"order {o['id']}: {o['side']} {o['purpose']} {o['qty']} {o['type']} {o['status']}"
            + (f", trigger {o['trigger']}" if o.get("trigger") else "")
        )
    intent = chain.intent
    if intent is None:
        node.add(Text("intent: MISSING (run `autotrader ledger verify`)", style="red"))
        return
    payload = intent["payload"] if isinstance(intent["payload"], dict) else {}
    branch = node.add(
        f"intent {intent['id']}: {intent['origin']} {intent['action']} {intent['symbol']} → "
        f"{intent['status']}"
        + (f" ({intent['reject_code']})" if intent["reject_code"] else "")
        + (f", run {intent['decision_run_id']}" if intent["decision_run_id"] else "")
    )
    if payload.get("hypothesis"):
        branch.add(line(f"hypothesis: {payload['hypothesis']}"))
    for gate in intent["gate_results"] or []:
        mark = styled("pass ", "green") if gate.get("passed") else styled("FAIL ", "red")
        code = f" [{gate.get('code')}]" if gate.get("code") != gate.get("gate") else ""
        branch.add(line(mark, f"{gate.get('gate')}{code}: {gate.get('reason')}"))


def _entry_line(entry: dict) -> Text:
    amount = Decimal(entry["amount"])
    return line(
        f"ledger entry {entry['id']}: {entry['kind']} ",
        styled(money(amount, sign=True), "green" if amount > 0 else "red"),
        f" → balance {money(Decimal(entry['balance_after']))}",
    )


# -- verify -------------------------------------------------------------------------------------


def verify(report: VerifyReport, *, as_json: bool) -> None:
    if as_json:
        print_json({"ok": report.ok, "summary": report.summary(), **asdict(report)})
        return
    for v in report.violations:
        where = f"account {v.account_id}" if v.account_id is not None else "store"
        say(styled(f"[{v.check}] {where}: {v.message}", "red"))
        for row in v.rows:
            cells = ", ".join(f"{k}={row[k]}" for k in row if row[k] is not None)
            say(f"    {cells}")
    for note in report.notes:
        say(styled(f"note: {note}", "yellow"))
    say(styled(report.summary(), "green" if report.ok else "bold red"))


# -- leaderboard --------------------------------------------------------------------------------


def nav(points: list[NavPoint], *, by: str, as_json: bool) -> None:
    from autotrader.ledger.nav import nav_records

    if as_json:
        print_json(list(nav_records(points)))
        return
    if not points:
        say("no prop accounts yet")
        return
    body = [(p.group, iso_utc(p.time), money(p.nav), p.accounts) for p in points]
    out.print(
        _right(table(f"Net asset value by {by}", [by, "time", "NAV", "accounts"], body), 2, 4)
    )


def policy_leaderboard(rows: list[PolicyRow], *, sort: str, as_json: bool) -> None:
    if as_json:
        print_json([asdict(r) for r in rows])
        return
    if not rows:
        say("no policy has acted yet: an intent names its policy_id")
        return
    columns = ["#", "policy", "clones", "opened", "open", "rejected", "trades", "win", "pf"]
    columns += ["pnl", "mean return"]
    body = [
        (
            rank,
            r.policy,
            ", ".join(map(str, r.clone_ids)),
            r.opened,
            r.open_now,
            r.rejected,
            r.trades,
            "" if r.win_rate is None else f"{r.win_rate:.0%}",
            ratio(r.profit_factor),
            signed(r.pnl.quantize(Decimal("0.01"))),
            _percent(r.mean_return_pct),
        )
        for rank, r in enumerate(rows, 1)
    ]
    grid = _right(table(f"Leaderboard by policy, sorted by {sort}", columns, body), 3, None)
    grid.columns[0].justify = "right"
    out.print(grid)


def leaderboard(rows: list[LeaderRow], *, by: str, sort: str, as_json: bool) -> None:
    if as_json:
        print_json(
            [
                {k: v for k, v in asdict(r).items() if k not in ("series", "trade_pnls")}
                | {"last_decision": iso_utc(r.last_decision_at) or None}
                for r in rows
            ]
        )
        return
    if not rows:
        say("no prop accounts yet")
        return
    # The model and variant columns, less the one the rows are grouped by (it is the group).
    labels = [label for label in ("model", "variant") if label != by]
    columns = ["#", by, "kind", *labels, "equity", "pnl", "return", "max dd"]
    columns += ["sharpe", "sortino", "win", "pf", "trades", "fees", "model $", "$/pt"]
    columns += ["last decision"]
    body = [
        (
            rank,
            r.group,
            ", ".join(r.kinds),
            *(getattr(r, label) for label in labels),
            money(r.equity.quantize(Decimal("0.01"))),
            signed(r.pnl.quantize(Decimal("0.01"))),
            _percent(r.return_pct),
            f"{r.max_drawdown_pct:.2f}%",
            ratio(r.sharpe),
            ratio(r.sortino),
            "" if r.win_rate is None else f"{r.win_rate:.0%}",
            ratio(r.profit_factor),
            r.trades,
            money(r.fees_paid.quantize(Decimal("0.01"))),
            money(r.model_cost_usd),
            "" if r.cost_per_return_point is None else money(r.cost_per_return_point),
            iso_utc(r.last_decision_at),
        )
        for rank, r in enumerate(rows, 1)
    ]
    first_number = 3 + len(labels)
    grid = _right(table(f"Leaderboard by {by}, sorted by {sort}", columns, body), first_number, -1)
    grid.columns[0].justify = "right"
    out.print(grid)
