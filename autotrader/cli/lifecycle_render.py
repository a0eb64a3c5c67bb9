"""Rendering of the lifecycle commands: fees and their outcomes, auditions and their criteria,
profiles, the arena, the economy ledger and a clone's timeline."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from autotrader.cli._render import out, print_json, say, styled, table
from autotrader.core.clock import iso_utc
from autotrader.core.money import to_text


def _money(value: Any) -> str:
    return to_text(value) if isinstance(value, Decimal) else ("" if value is None else str(value))


def fee(fee: dict, *, as_json: bool) -> None:
    if as_json:
        print_json(fee)
        return
    rows = [
        ("clone", fee["clone_id"]),
        ("owner", fee["owner"]),
        ("pays from", fee["payer_address"] or "(no address: manual verification only)"),
        ("amount", f"{_money(fee['amount'])} USDC"),
        ("reference", fee["reference"]),
        ("status", fee["status"]),
        ("requested", iso_utc(fee["created_at"])),
        ("expires", iso_utc(fee["expires_at"])),
        (
            "verified",
            f"{iso_utc(fee['verified_at'])} by {fee['verified_by']} ({fee['verifier']})"
            if fee["verified_at"]
            else "",
        ),
        ("transfer", fee["transfer_reference"] or ""),
        ("audition", fee.get("audition_id") or ""),
    ]
    out.print(table(f"Audition fee {fee['id']}", ["", ""], rows))
    if fee.get("outcomes"):
        outcomes(fee["outcomes"])


def fees(rows: list[dict], *, as_json: bool) -> None:
    if as_json:
        print_json(rows)
        return
    if not rows:
        say("no audition fees")
        return
    body = [
        (
            f["id"],
            f["clone_id"],
            f["owner"],
            _money(f["amount"]),
            f["status"],
            f["reference"],
            iso_utc(f["expires_at"]),
            f["transfer_reference"] or "",
        )
        for f in rows
    ]
    columns = ["id", "clone", "owner", "USDC", "status", "reference", "expires", "transfer"]
    out.print(table("Audition fees", columns, body))


def outcomes(rows: Iterable[dict]) -> None:
    body = [
        (
            o["outcome"],
            o["verifier"],
            o["reference"] or "",
            o["amount"] or "",
            o["reason"],
            iso_utc(o["created_at"]),
        )
        for o in rows
    ]
    columns = ["outcome", "verifier", "reference", "USDC", "reason", "at"]
    out.print(table("Verification outcomes", columns, body))


def verification(result, *, as_json: bool) -> None:
    settlement = result.settlement
    if as_json:
        print_json(
            {
                "fee": result.fee,
                "paid": settlement.paid,
                "outcomes": settlement.outcomes,
                "owner_balance": settlement.balance,
            }
        )
        return
    for o in settlement.outcomes:
        colour = "green" if o.outcome in ("verified", "overpaid") else "red"
        say(f"[{colour}]{o.outcome}[/{colour}]: {o.reason}")
    fee = result.fee
    if settlement.paid:
        say(f"audition fee {fee['id']} verified: clone {fee['clone_id']} may audition once")
    else:
        say(f"audition fee {fee['id']} is still {fee['status']}")


def audition(a: dict, *, live: Any = None, as_json: bool) -> None:
    if as_json:
        print_json({**a, "live": live})
        return
    rules = a["rules"]
    rows = [
        ("clone", a["clone_id"]),
        ("attempt", a["attempt"]),
        ("fee", a["fee_id"]),
        ("account", a["account_id"]),
        ("status", a["status"]),
        ("window", f"{iso_utc(a['started_at'])} → {iso_utc(a['ends_at'])}"),
        (
            "rules",
            f"{_money(rules.starting_balance)} USDC, ≤ {rules.max_leverage}x, freeze at "
            f"{rules.max_drawdown:.0%} drawdown, symbols "
            + (", ".join(rules.allowed_symbols) or "any"),
        ),
        ("decided", iso_utc(a["decided_at"]) if a["decided_at"] else ""),
        ("reason", a["reason"] or ""),
    ]
    out.print(table(f"Audition {a['id']}", ["", ""], rows))
    result = a["result"]
    if result:
        criteria(result["criteria"])
        m = result["metrics"]
        say(
            f"equity {m['equity']} USDC (start {m['starting_balance']}, PnL {m['pnl']}),"
            f" {m['trades']} trades, fees {m['fees_paid']}, win rate {m['win_rate']}"
        )
    elif live is not None:
        say(
            f"so far: equity {_money(live.equity)} USDC, drawdown {live.drawdown:.2%},"
            f" {len(live.positions)} open positions"
        )


def criteria(rows: list[dict]) -> None:
    body = [
        (
            c["name"],
            c["value"] if c["value"] is not None else "n/a",
            f"{c['comparator']} {c['threshold']}",
            styled("pass", "green") if c["passed"] else styled("FAIL", "red"),
        )
        for c in rows
    ]
    out.print(table("Pass criteria", ["criterion", "value", "threshold", "result"], body))


def decisions(report) -> None:
    for d in report.decisions:
        verdict = styled("PASSED", "green") if d.passed else styled("FAILED", "red")
        say(f"audition {d.audition_id} (clone {d.clone_id}): ", verdict, f" — {d.reason}")
        criteria(
            [
                {
                    "name": c.name,
                    "value": c.value,
                    "comparator": c.comparator,
                    "threshold": c.threshold,
                    "passed": c.passed,
                }
                for c in d.criteria
            ]
        )
    if not report.decisions:
        say("no audition is due")


def auditions(rows: list[dict], *, as_json: bool) -> None:
    if as_json:
        print_json(rows)
        return
    if not rows:
        say("no auditions")
        return
    body = [
        (
            a["id"],
            a["clone_id"],
            a["attempt"],
            a["account_id"],
            a["status"],
            iso_utc(a["ends_at"]),
            "" if a["score"] is None else f"{a['score']:.4f}",
            a["reason"] or "",
        )
        for a in rows
    ]
    columns = ["id", "clone", "attempt", "account", "status", "ends", "score", "reason"]
    out.print(table("Auditions", columns, body))


def profile(data: dict, *, as_json: bool) -> None:
    if as_json:
        print_json(data)
        return
    public = data["public"]
    shown = f"{public['name']!r} (version {public['version']})" if public else "none approved"
    say(f"public profile of clone {data['clone_id']}: {shown}")
    versions(data["versions"], title="Versions")


def versions(rows: list[dict], *, title: str) -> None:
    if not rows:
        say("nothing waits for moderation" if title == "Moderation queue" else "no versions")
        return
    body = [
        (
            v["id"],
            v["clone_id"],
            v["version"],
            v["name"],
            v["bio"][:60],
            v["avatar_url"] or "",
            v["status"],
            v["review_reason"] or "",
        )
        for v in rows
    ]
    columns = ["id", "clone", "version", "name", "bio", "avatar", "status", "review"]
    out.print(table(title, columns, body))


def slots(rows: list[dict], *, as_json: bool, title: str = "Arena") -> None:
    if as_json:
        print_json(rows)
        return
    if not rows:
        say("the arena is empty")
        return
    body = [
        (
            s["id"],
            s["clone_id"],
            s["status"],
            iso_utc(s["admitted_at"]),
            iso_utc(s["ended_at"]) if s["ended_at"] else "",
            s["reason"] or "",
        )
        for s in rows
    ]
    out.print(table(title, ["slot", "clone", "status", "admitted", "ended", "reason"], body))


def queue(rows: list[dict], *, as_json: bool) -> None:
    if as_json:
        print_json(rows)
        return
    if not rows:
        say("the promotion queue is empty")
        return
    body = [
        (
            n,
            e["clone_id"],
            e["audition_id"],
            f"{e['score']:.4f}",
            iso_utc(e["queued_at"]),
            e["deferral"] or "",
        )
        for n, e in enumerate(rows, 1)
    ]
    columns = ["place", "clone", "audition", "score", "queued", "last deferral"]
    out.print(table("Promotion queue", columns, body))


def timeline(clone_id: int, stage: str, events: list[dict], *, as_json: bool) -> None:
    if as_json:
        print_json({"clone_id": clone_id, "stage": stage, "events": events})
        return
    say(f"clone {clone_id} is ", styled(stage, "bold"))
    timeline_table(events)


def timeline_table(events: list[dict], *, title: str = "Timeline") -> None:
    if not events:
        say("no lifecycle events yet")
        return
    body = [
        (
            iso_utc(e["created_at"]),
            e["event"],
            e["from_stage"]
            if e["from_stage"] == e["to_stage"]
            else f"{e['from_stage']} → {e['to_stage']}",
            e["actor"],
            ", ".join(
                f"{k} {e[k + '_id']}"
                for k in ("fee", "audition", "account")
                if e[k + "_id"] is not None
            ),
            e["reason"] or "",
        )
        for e in events
    ]
    columns = ["at (UTC)", "event", "stage", "who", "concerns", "why"]
    out.print(table(title, columns, body))


def economy(entries: list[dict], balances: dict, problems: list[str], *, as_json: bool) -> None:
    if as_json:
        print_json({"entries": entries, "balances": balances, "problems": problems})
        return
    body = [
        (
            e["id"],
            e["txn"],
            e["holder"],
            e["kind"],
            _money(e["amount"]),
            _money(e["balance_after"]),
            e["reason"] or "",
            iso_utc(e["created_at"]),
        )
        for e in entries
    ]
    columns = ["id", "booking", "holder", "kind", "USDC", "balance after", "why", "at"]
    out.print(table("Economy ledger (newest first)", columns, body))
    out.print(table("Balances", ["holder", "USDC"], [(h, _money(b)) for h, b in balances.items()]))
    say("conservation: ok" if not problems else styled(f"{len(problems)} problems", "red"))
