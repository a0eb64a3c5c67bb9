"""Rendering of the arena commands: races and their settlement table, tickets and their
verification, payouts, balances, the Hall of Fame."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from autotrader.cli._render import out, print_json, say, table
from autotrader.cli.lifecycle_render import outcomes
from autotrader.core.clock import iso_utc
from autotrader.core.money import to_text


def _money(value: Any) -> str:
    return to_text(value) if isinstance(value, Decimal) else ("" if value is None else str(value))


def race_created(race: dict, *, as_json: bool) -> None:
    if as_json:
        print_json(race)
        return
    say(f"race {race['id']} accumulates: tickets on sale until {iso_utc(race['starts_at'])},"
        f" racing until {iso_utc(race['ends_at'])} ({race['rules'].name} rules)")  # fmt: skip


def races(rows: list[dict], *, as_json: bool) -> None:
    if as_json:
        print_json(rows)
        return
    if not rows:
        say("no races yet (`arena races create`)")
        return
    body = [
        (r["id"], r["status"], iso_utc(r["starts_at"]), iso_utc(r["ends_at"]), r["rules"].name,
         r["reason"] or "")
        for r in rows
    ]  # fmt: skip
    out.print(table("Races", ["id", "status", "starts", "ends", "rules", "why"], body))


def race(detail: dict, *, as_json: bool) -> None:
    if as_json:
        print_json(detail)
        return
    rules, terms = detail["rules"], detail["terms"]
    facts = [
        ("status", detail["status"] + (f" ({detail['reason']})" if detail["reason"] else "")),
        ("starts", iso_utc(detail["starts_at"])),
        ("ends", iso_utc(detail["ends_at"])),
        ("rules", f"{rules.name}: {_money(rules.starting_balance)} USDC, at most"
                  f" {rules.max_leverage}x, frozen at a {rules.max_drawdown:.0%} drawdown,"
                  f" {', '.join(rules.allowed_symbols) or 'any symbol'}"),
        ("split", f"rake {terms.rake_share:.2%}, creators {terms.creator_share:.2%},"
                  f" ticket holders {terms.distribution_share:.2%}"),
        ("paying positions", " : ".join(map(_money, terms.payout_weights))),
        ("royalty positions", " : ".join(map(_money, terms.royalty_weights))),
    ]  # fmt: skip
    out.print(table(f"Race {detail['id']}", ["", ""], facts))
    entrants(detail["entrants"])
    if detail["settlement"] is not None:
        settlement(detail["settlement"], detail["rows"])
    elif detail["rows"]:
        rows_table(detail["rows"], title="Refunds")
    if detail["strikes"]:
        body = [(s["clone_id"], s["finish"], s["entrants"]) for s in detail["strikes"]]
        out.print(table("Strikes", ["clone", "finish", "of"], body))


def entrants(rows: list[dict]) -> None:
    body = [
        (e["finish"] or "", e["clone_id"], e["status"], e["account_id"] or "",
         _money(e["pool"].get("paid")), _money(e["pool"].get("pending")),
         _money(e["return_pct"]), _money(e["equity"]), e["trades"] if e["trades"] is not None
         else "", e["reason"] or "")
        for e in rows
    ]  # fmt: skip
    columns = ["finish", "clone", "status", "account", "paid USDC", "pending USDC", "return %",
               "equity", "trades", "why"]  # fmt: skip
    out.print(table("Entrants", columns, body))


def settlement(split: dict, rows: list[dict]) -> None:
    """The settlement table: the pool split, then every row it paid."""
    parts = [
        ("pool", _money(split["pool"]), f"{split['tickets']} paid tickets"),
        ("rake", _money(split["rake"]), "to the protocol"),
        ("creator pool", _money(split["creator_pool"]),
         f"royalties {_money(split['royalties'])}"),
        ("distribution pool", _money(split["distribution_pool"]),
         f"payouts {_money(split['payouts'])}, unclaimed {_money(split['unclaimed'])}"),
        ("dust", _money(split["dust"]), "rounding to 0.000001 USDC"),
    ]  # fmt: skip
    out.print(table(f"Settlement ({iso_utc(split['settled_at'])})", ["part", "USDC", ""], parts))
    rows_table(rows, title="Paid")
    total = sum((r["amount"] for r in rows if r["kind"] != "refund"), Decimal(0))
    verdict = "conserved" if total == split["pool"] else "NOT CONSERVED"
    say(f"Σ rows {_money(total)} = pool {_money(split['pool'])}: {verdict}")


def rows_table(rows: list[dict], *, title: str) -> None:
    body = [
        (r["race_id"], r["kind"], r["holder"], _money(r["amount"]), r["clone_id"] or "",
         r["finish"] or "", _money(r["stake"]), r["ticket_id"] or "")
        for r in rows
    ]  # fmt: skip
    columns = ["race", "kind", "holder", "USDC", "clone", "finish", "stake", "ticket"]
    out.print(table(title, columns, body))


def ticket(t: dict, *, as_json: bool) -> None:
    if as_json:
        print_json(t)
        return
    facts = [
        ("race", t["race_id"]),
        ("on clone", t["clone_id"]),
        ("owner", t["owner"]),
        ("pays from", t["payer_address"] or "(no address: manual verification only)"),
        ("amount", f"{_money(t['amount'])} USDC"),
        ("reference", t["reference"]),
        ("status", t["status"] + (f" ({t['reason']})" if t["reason"] else "")),
        ("bought", iso_utc(t["created_at"])),
        ("pay by", iso_utc(t["expires_at"])),
        ("paid", f"{iso_utc(t['paid_at'])} ({t['verifier']})" if t["paid_at"] else ""),
        ("transfer", t["transfer_reference"] or ""),
    ]
    out.print(table(f"Ticket {t['id']}", ["", ""], facts))
    if t.get("outcomes"):
        outcomes(t["outcomes"])


def tickets(rows: list[dict], *, as_json: bool) -> None:
    if as_json:
        print_json(rows)
        return
    if not rows:
        say("no tickets")
        return
    body = [
        (t["id"], t["race_id"], t["clone_id"], t["owner"], _money(t["amount"]), t["status"],
         t["reference"], iso_utc(t["expires_at"]))
        for t in rows
    ]  # fmt: skip
    columns = ["id", "race", "clone", "owner", "USDC", "status", "reference", "pay by"]
    out.print(table("Tickets", columns, body))


def verification(result, *, as_json: bool) -> None:
    settlement_ = result.settlement
    if as_json:
        print_json(
            {"ticket": result.ticket, "paid": settlement_.paid,
             "outcomes": settlement_.outcomes, "owner_balance": settlement_.balance}
        )  # fmt: skip
        return
    for o in settlement_.outcomes:
        colour = "green" if o.outcome in ("verified", "overpaid") else "red"
        say(f"[{colour}]{o.outcome}[/{colour}]: {o.reason}")
    t = result.ticket
    if settlement_.paid:
        say(f"ticket {t['id']} paid: {_money(t['amount'])} USDC on clone {t['clone_id']} in race"
            f" {t['race_id']}'s pool")  # fmt: skip
    else:
        say(f"ticket {t['id']} is still {t['status']}")


def payouts(rows: list[dict], *, as_json: bool) -> None:
    if as_json:
        print_json(rows)
        return
    if not rows:
        say("no payouts")
        return
    rows_table(rows, title="Payouts")
    total = sum((r["amount"] for r in rows), Decimal(0))
    say(f"{len(rows)} rows, {_money(total)} USDC")


def balances(rows: list[tuple[str, str, Decimal]], *, as_json: bool) -> None:
    if as_json:
        print_json([{"holder": h, "is": what, "balance": b} for h, what, b in rows])
        return
    if not rows:
        say("no real money yet")
        return
    out.print(table("Economy balances", ["holder", "is", "USDC"],
                    [(h, what, _money(b)) for h, what, b in rows]))  # fmt: skip


def hall_of_fame(records: list[dict], *, as_json: bool) -> None:
    if as_json:
        print_json(records)
        return
    if not records:
        say("the Hall of Fame is empty: no clone has retired from the arena")
        return
    body = [
        (r["clone_id"], r["profile"]["name"], r["profile"]["owner"], iso_utc(r["retired_at"]),
         r["races"], r["wins"], r["best_finish"] or "", _money(r["race_return_pct"]),
         _money(r["royalties"]), r["strikes"], r["reason"] or "")
        for r in records
    ]  # fmt: skip
    columns = ["clone", "name", "owner", "retired", "races", "wins", "best", "return %",
               "royalties USDC", "strikes", "why"]  # fmt: skip
    out.print(table("Hall of Fame", columns, body))


def tick(report, *, summary: str) -> None:
    """What one pass of the races job did."""
    say(f"arena-races: {summary}")
    result = report.result
    for race_id, why in result.launched.cancelled.items():
        say(f"race {race_id} cancelled: {why}")
    for settled in result.settled.settled:
        placed = ", ".join(f"{n}. clone {c}" for n, c in enumerate(settled.finish, start=1))
        say(f"race {settled.race_id} settled: {placed}; pool {_money(settled.split.pool)} USDC")
        for clone_id in settled.retired:
            say(f"clone {clone_id} retired: too many strikes (see `arena hall-of-fame`)")
