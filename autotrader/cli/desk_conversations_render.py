"""Rendering the desk's conversations, memories and relationships for the terminal. What agents
and models wrote is printed as text, never as markup."""

from __future__ import annotations

import json

from autotrader.cli._render import out, say, styled, table
from autotrader.core.clock import iso_utc
from autotrader.core.money import to_text

_STYLE = {"succeeded": "green", "failed": "red", "running": "yellow", "queued": "yellow"}


def _status(value: str):
    return styled(value, _STYLE.get(value, ""))


def roundtables(rows: list[dict]) -> None:
    body = [
        (r["id"], iso_utc(r["created_at"]), r["format"], _status(r["status"]),
         ",".join(r["participants"]), r["turns_planned"] or "", r["topic"],
         r["summary"] or r["error"] or "")
        for r in rows
    ]  # fmt: skip
    columns = ["id", "at (UTC)", "format", "status", "at the table", "turns", "topic", "outcome"]
    out.print(table("Roundtables", columns, body))


def transcript(story: dict) -> None:
    r = story["roundtable"]
    say(
        styled(f"roundtable {r['id']}", "bold"),
        f" ({r['format']}, {r['status']}) at "
        f"{iso_utc(r['started_at'] or r['created_at'])}: {len(story['turns'])} of "
        f"{r['turns_planned'] or '?'} turns, temperature {r['temperature']}",
    )
    out.print(f"topic: {r['topic']}", markup=False)
    out.print(f"at the table: {', '.join(r['participants'])}", markup=False)
    for turn in story["turns"]:
        spent = f"{turn['tokens']} tokens, {to_text(turn['cost_usd'])} USD"
        spent += ", cached" if turn["cached"] else ""
        head = f"{turn['seq'] + 1:>2}. {turn['speaker'].upper()}"
        if turn["status"] == "ok":
            extra = ", ".join(
                part
                for part in (turn["reaction"], turn["vote"] and f"votes {turn['vote']}")
                if part
            )
            out.print(f"{head} ({extra}; {spent})", markup=False)
            out.print(f"    {turn['message']}", markup=False)
        else:
            out.print(
                f"{head} — bad turn, {turn['status']}: {turn['error']} ({spent})", markup=False
            )
    say(
        f"{story['cached_turns']} cached; {story['tokens']} tokens; "
        f"{to_text(story['cost_usd'])} USD"
    )
    if r["summary"] or r["error"]:
        out.print(f"outcome: {r['summary'] or r['error']}", markup=False)
    _produced(story)


def _produced(story: dict) -> None:
    candidates = [
        (t["seq"] + 1, t["speaker"], c["type"], c["confidence"], c["content"], _became(c))
        for t in story["turns"]
        for c in t["memory_candidates"]
    ]
    if candidates:
        columns = ["turn", "agent", "type", "confidence", "content", "became"]
        out.print(table("Memory candidates", columns, candidates))
    items = [
        (t["seq"] + 1, t["speaker"], a["title"],
         f"proposal {a['proposal_id']} {a['status']}" if "proposal_id" in a else "",
         a.get("gate") or a.get("skipped") or "", a.get("reason") or "")
        for t in story["turns"]
        for a in t["action_items"]
    ]  # fmt: skip
    if items:
        columns = ["turn", "agent", "action item", "proposal", "gate", "why"]
        out.print(table("Action items", columns, items))
    if story["decided"]:
        p = story["decided"]
        out.print(
            f"proposal {p['id']} on the table: {p['status']} ({p['gate'] or 'every gate passed'}):"
            f" {p['reason']}",
            markup=False,
        )
    if story["drift"]:
        rows = [
            (f"{d['agent_a']}–{d['agent_b']}", f"{d['before']:.2f}", f"{d['after']:.2f}",
             f"{d['after'] - d['before']:+.3f}", d["reason"])
            for d in story["drift"]
        ]  # fmt: skip
        out.print(table("Relationship drift", ["pair", "before", "after", "moved", "why"], rows))


def _became(candidate: dict) -> str:
    """What became of a memory candidate (nothing, when its roundtable failed)."""
    if "memory_id" in candidate:
        return f"memory {candidate['memory_id']}"
    if "refused" in candidate:
        return f"refused: {candidate['refused']}"
    return "not kept: the roundtable failed"


def formats(rows: list[dict], zone: str) -> None:
    body = [
        (f["format"], ",".join(f["participants"]) or "(drawn)", ",".join(f["pool"]),
         f"{f['min_participants']}-{f['max_participants']}", f"{f['min_turns']}-{f['max_turns']}",
         f["temperature"], _when(f), f"{f['probability']:g}", json.dumps(f["conditions"]),
         "on" if f["enabled"] else "off")
        for f in rows
    ]  # fmt: skip
    columns = ["format", "always", "drawn from", "seats", "turns", "temp", "meets", "p",
               "conditions", ""]  # fmt: skip
    out.print(table(f"Roundtable formats (times in {zone})", columns, body))


def _when(fmt: dict) -> str:
    if not fmt["at"] or not fmt["days"]:
        return "ad hoc"
    days = "daily" if len(fmt["days"]) == 7 else ",".join(fmt["days"])
    return f"{days} {fmt['at']}"


def memories(rows: list[dict]) -> None:
    body = [
        (m["id"], m["agent_id"], m["type"], f"{m['confidence']:.2f}", m["evidence_count"],
         "yes" if m["promoted_at"] else "", m["key"], m["content"], m["source_trace"] or "")
        for m in rows
    ]  # fmt: skip
    columns = ["id", "agent", "type", "confidence", "evidence", "promoted", "key", "content",
               "source"]  # fmt: skip
    out.print(table("Memories", columns, body))


def memory_story(story: dict) -> None:
    m = story["memory"]
    say(
        styled(f"memory {m['id']}", "bold"),
        f": {m['agent_id']}'s {m['type']}, confidence "
        f"{m['confidence']:.2f} from {m['evidence_count']} pieces of evidence"
        + (f", promoted {iso_utc(m['promoted_at'])}" if m["promoted_at"] else ""),
    )
    out.print(m["content"], markup=False)
    out.print(
        f"key {m['key']}; tags {', '.join(m['tags']) or 'none'}; source {m['source_trace']}",
        markup=False,
    )
    rows = [
        (i["id"], iso_utc(i["created_at"]), i["decision"], i["subject"],
         f"roundtable {i['roundtable_id']}" if i["roundtable_id"] else
         f"proposal {i['proposal_id']}" if i["proposal_id"] else "", i["effect"])
        for i in story["influenced"]
    ]  # fmt: skip
    columns = ["id", "at (UTC)", "decision", "subject", "became", "effect"]
    if rows:
        out.print(table("Decisions it shaped", columns, rows))
    else:
        say("it has shaped no decision yet")


def relationships(rows: list[dict]) -> None:
    agents = sorted({r["agent_a"] for r in rows} | {r["agent_b"] for r in rows})
    affinity = {(r["agent_a"], r["agent_b"]): r["affinity"] for r in rows}

    def cell(a: str, b: str) -> str:
        if a == b:
            return "—"
        return f"{affinity.get(tuple(sorted((a, b))), 0):.2f}"  # type: ignore[arg-type]

    matrix = [(a, *(cell(a, b) for b in agents)) for a in agents]
    out.print(table("Affinity", ["", *agents], matrix))
    body = [
        (f"{r['agent_a']}–{r['agent_b']}", f"{r['affinity']:.2f}",
         f"{r['initial_affinity']:.2f}" if r["initial_affinity"] is not None else "",
         f"{r['affinity'] - (r['initial_affinity'] or r['affinity']):+.3f}",
         r["total_interactions"],
         "; ".join(f"{d['before']:.2f}→{d['after']:.2f} (roundtable {d['roundtable_id']}: "
                   f"{d['reason']})" for d in r["drift"]))
        for r in rows
    ]  # fmt: skip
    columns = ["pair", "affinity", "seeded", "drifted", "interactions", "latest drift"]
    out.print(table("Relationships", columns, body))
    if not any(r["drift"] for r in rows):
        say("no drift yet: relationships move after each roundtable")
