"""Rendering the desk for the terminal (``--json`` prints the same data as JSON instead)."""

from __future__ import annotations

import json
from typing import Any

from autotrader.cli._render import out, say, styled, table
from autotrader.core.clock import iso_utc

_STATUS_STYLE = {
    "rejected": "red",
    "failed": "red",
    "disabled": "red",
    "accepted": "green",
    "succeeded": "green",
    "pending": "yellow",
    "running": "yellow",
}


def _status(value: str) -> Any:
    return styled(value, _STATUS_STYLE[value]) if value in _STATUS_STYLE else value


def _tags(tags: list[str]) -> str:
    return ",".join(tags)


def status(report) -> None:
    say(
        styled("desk", "bold"),
        f" as of {report.as_of}: clone {report.clone_id}, prop account "
        f"{report.account_id}, equity {report.equity} USD, cash {report.cash} USD",
    )
    if report.positions:
        rows = [
            (p["id"], p["symbol"], p["side"], p["qty"], p["entry_price"], p["mark"], p["pnl_pct"],
             p["stop"] or "")
            for p in report.positions
        ]  # fmt: skip
        columns = ["position", "symbol", "side", "qty", "entry", "mark", "pnl", "stop"]
        out.print(table("Open positions", columns, rows))
    rows = [
        (w.name, _status(w.state), w.consecutive_failures, w.live_processes, w.last_tick_at or "",
         w.last_error or w.last_tick or "")
        for w in report.workers
    ]  # fmt: skip
    columns = ["worker", "breaker", "failures", "processes", "last tick (UTC)", "last error / tick"]
    out.print(table("Workers", columns, rows))
    if report.heartbeat:
        rows = [
            (h["operation"], h["at"], h["duration_ms"], _status(h["status"]),
             h["error"] or h["summary"] or "")
            for h in report.heartbeat
        ]  # fmt: skip
        out.print(table("Last heartbeat", ["operation", "at", "ms", "status", "result"], rows))
    else:
        say("no heartbeat yet: `autotrader desk heartbeat`")
    counts = {**report.today, **report.totals}
    say("; ".join(f"{name}: {_counts(value)}" for name, value in counts.items()))


def _counts(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{n} {k}" for k, n in sorted(value.items())) or "none"
    return str(value)


def heartbeat(report) -> None:
    rows = [
        (r.name, r.duration_ms, _status(r.status), r.summary, "; ".join(r.errors))
        for r in report.runs
    ]
    out.print(table("Heartbeat", ["operation", "ms", "status", "did", "errors"], rows))
    say(f"heartbeat took {report.duration_ms} ms")


def agents(rows: list[dict]) -> None:
    body = [(a["id"], a["name"], a["role"], a["tone"]) for a in rows]
    out.print(table("Agents", ["id", "name", "role", "tone"], body))


def agent(view) -> None:
    a = view.agent
    say(styled(a["name"], "bold"), f" ({a['id']}): {a['role']}")
    for name in ("personality", "tone", "quirk", "voice", "directive"):
        out.print(f"{name}: {a[name]}", markup=False)
    rows = [
        (r["other"], f"{r['affinity']:.2f}", r["total_interactions"]) for r in view.relationships
    ]
    out.print(table("Relationships", ["with", "affinity", "interactions"], rows))
    if view.memories:
        rows = [
            (m["type"], f"{m['confidence']:.2f}", m["evidence_count"],
             "yes" if m["promoted_at"] else "", m["content"])
            for m in view.memories
        ]  # fmt: skip
        out.print(
            table("Memories", ["type", "confidence", "evidence", "promoted", "content"], rows)
        )


def policies(values: dict[str, dict]) -> None:
    for key, value in values.items():
        out.print(f"{key}: {json.dumps(value, sort_keys=True)}", markup=False)


def proposals(rows: list[dict]) -> None:
    body = [
        (p["id"], iso_utc(p["created_at"]), p["agent_id"], p["mission_kind"] or "",
         _status(p["status"]), p["gate"] or "", p["title"], p["reason"] or "")
        for p in rows
    ]  # fmt: skip
    columns = ["id", "at (UTC)", "agent", "kind", "status", "gate", "title", "why"]
    out.print(table("Proposals", columns, body))


def proposal_story(story: dict) -> None:
    p = story["proposal"]
    say(
        styled(f"proposal {p['id']}", "bold"),
        f" by {p['agent_id']} ({p['source']} {p['source_ref'] or ''}): {p['status']}",
    )
    out.print(f"{p['title']}\n{p['rationale']}", markup=False)
    for step in p["steps"]:
        out.print(f"  step: {json.dumps(step, sort_keys=True)}", markup=False)
    rows = [
        (g["gate"], "pass" if g["passed"] else "FAIL", g["reason"],
         ", ".join(f"{k}={v}" for k, v in g["numbers"].items()))
        for g in p["gate_results"]
    ]  # fmt: skip
    out.print(table("Gates", ["gate", "result", "reason", "numbers"], rows))
    if story["mission"]:
        _steps(story["mission"], story["steps"])


def missions(rows: list[dict]) -> None:
    body = [
        (m["id"], iso_utc(m["created_at"]), m["agent_id"], m["kind"], _status(m["status"]),
         m["title"], m["error"] or "")
        for m in rows
    ]  # fmt: skip
    out.print(
        table("Missions", ["id", "at (UTC)", "agent", "kind", "status", "title", "error"], body)
    )


def _steps(mission: dict, steps: list[dict]) -> None:
    say(
        styled(f"mission {mission['id']}", "bold"),
        f" ({mission['kind']}, {mission['status']}) from proposal {mission['proposal_id']}: "
        f"{mission['title']}",
    )
    rows = [
        (s["seq"], s["kind"], _status(s["status"]), s["claimed_by"] or "",
         s["error"] or json.dumps(s["output"] or {}, sort_keys=True)[:200])
        for s in steps
    ]  # fmt: skip
    out.print(table("Steps", ["#", "kind", "status", "worker", "output / error"], rows))


def mission_story(story: dict) -> None:
    _steps(story["mission"], story["steps"])
    events(story["events"])


def events(rows: list[dict]) -> None:
    body = [
        (e["id"], iso_utc(e["created_at"]), e["agent_id"], e["kind"], e["title"], _tags(e["tags"]))
        for e in rows
    ]
    out.print(table("Events", ["id", "at (UTC)", "agent", "kind", "title", "tags"], body))


def signals(rows: list[dict]) -> None:
    body = [
        (s["id"], iso_utc(s["created_at"]), s["symbol"], s["signal_type"], s["source"],
         f"{s['confidence']:.2f}", s["price"], s["timeframe"], iso_utc(s["bar_time"]))
        for s in rows
    ]  # fmt: skip
    columns = ["id", "at (UTC)", "symbol", "type", "source", "confidence", "price", "tf", "bar"]
    out.print(table("Signals", columns, body))


def record(title: str, row: dict) -> None:
    say(styled(title, "bold"))
    for key, value in row.items():
        shown = (
            iso_utc(value) if key.endswith(("_at", "_time")) and isinstance(value, int) else value
        )
        if isinstance(shown, dict | list):
            shown = json.dumps(shown, sort_keys=True, default=str)
        out.print(f"{key}: {shown}", markup=False)


def triggers(rows: list[dict]) -> None:
    body = [
        (r["name"], r["kind"], r["agent_id"], r["step_kind"], json.dumps(r["conditions"]),
         r["interval_minutes"] or "", r["cooldown_minutes"], "on" if r["enabled"] else "off",
         r["fire_count"], iso_utc(r["last_fired_at"]))
        for r in rows
    ]  # fmt: skip
    columns = ["rule", "kind", "agent", "step", "conditions", "every", "cooldown", "", "fired",
               "last fired (UTC)"]  # fmt: skip
    out.print(table("Trigger rules", columns, body))


def patterns(rows: list[dict]) -> None:
    body = [
        (p["name"], p["source"], _tags(p["tags"]), p["target_agent"], p["reaction_type"],
         p["step_kind"], f"{p['probability']:g}", p["cooldown_minutes"],
         "on" if p["enabled"] else "off")
        for p in rows
    ]  # fmt: skip
    columns = ["pattern", "source", "tags", "target", "type", "step", "p", "cooldown", ""]
    out.print(table("Reaction matrix", columns, body))


def report(found) -> None:
    say(styled("desk report", "bold"), f": {found.days} days to {found.as_of} (from {found.since})")
    rows = [
        (m.name, _value(m.value, m.unit), m.target,
         "" if m.met is None else "yes" if m.met else "no", _detail(m.detail))
        for m in found.metrics
    ]  # fmt: skip
    columns = ["metric", "value", "the seed asks", "met", "detail"]
    out.print(table("Success metrics", columns, rows))


def _value(value, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "rate":
        return f"{value:.1%}"
    return f"{value} {unit}"


def _detail(detail: dict) -> str:
    return json.dumps(detail, sort_keys=True, default=str)[:300]
