"""``ledger trace``: from any link of the chain, the whole "why" of a trade.

ledger entries ← fill → order → intent (every gate result) → decision run → model
invocation(s) → prompt/response artifact keys. Start from ``entry:N``, ``fill:N``, ``order:N``,
``intent:N``, ``position:N`` (all its fills) or ``run:N`` (every intent the run produced,
rejected ones included).

The decision tables (``decision_runs``, ``decision_actions``, ``invocations``, ``artifacts``) are
read only when they exist, so traces deepen by themselves as those features land; ``notes`` says
what could not be followed and why. Read-only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from autotrader.core.db import Store
from autotrader.core.errors import InvalidInputError, NotFoundError
from autotrader.ledger.queries import existing_tables

KINDS = {
    "entry": "entry",
    "ledger": "entry",
    "fill": "fill",
    "order": "order",
    "intent": "intent",
    "position": "position",
    "pos": "position",
    "run": "run",
    "decision": "run",
}
_REF = re.compile(r"^\s*(?:([a-z]+)\s*[:#]\s*)?(\d+)\s*$")
_ARTIFACT_COLUMNS = {
    "decision_runs": ("context_artifact", "prompt_artifact", "response_artifact"),
    "invocations": ("request_artifact", "response_artifact"),
}


@dataclass
class FillChain:
    """One intent and what it became: its order, fill and ledger entries (any may be absent:
    a rejected intent has neither order nor fill)."""

    intent: dict | None
    order: dict | None = None
    fill: dict | None = None
    entries: list[dict] = field(default_factory=list)


@dataclass
class RunTrace:
    run: dict
    actions: list[dict] = field(default_factory=list)
    invocations: list[dict] = field(default_factory=list)
    tool_calls: list[dict] = field(default_factory=list)  # model answer → the action it caused
    artifacts: list[dict] = field(default_factory=list)  # {key, source, kind, size, ...}


@dataclass
class Trace:
    ref: str
    account: dict | None = None
    position: dict | None = None
    chains: list[FillChain] = field(default_factory=list)
    other_entries: list[dict] = field(default_factory=list)  # funding, liquidation, deposits
    runs: list[RunTrace] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def parse_ref(text: str, kind: str | None = None) -> tuple[str, int]:
    """``"fill:12"`` → ``("fill", 12)``; a bare ``"12"`` needs ``kind`` (from --fill, ...)."""
    match = _REF.match(text.lower())
    if not match:
        raise InvalidInputError(f"cannot read {text!r}: give e.g. fill:12, order:7, run:3")
    typed, number = match.group(1), int(match.group(2))
    if typed is not None and typed not in KINDS:
        raise InvalidInputError(f"unknown kind {typed!r} (one of {', '.join(sorted(KINDS))})")
    chosen = KINDS[typed] if typed else kind
    if chosen is None:
        raise InvalidInputError(
            f"{text!r} is ambiguous: say what it is (fill:{number}, order:{number}, "
            f"position:{number}, run:{number}, or --fill/--order/--position/--run)"
        )
    if kind is not None and typed is not None and KINDS[typed] != kind:
        raise InvalidInputError(f"{text!r} contradicts --{kind}")
    return chosen, number


def trace(store: Store, kind: str, number: int) -> Trace:
    """The chain around ``kind:number``. Raises NotFoundError when it does not exist."""
    tracer = _Tracer(store)
    result = Trace(ref=f"{kind}:{number}")
    getattr(tracer, f"from_{kind}")(result, number)
    tracer.follow_runs(result)
    if result.account is None and (account_id := tracer.account_of(result)) is not None:
        result.account = store.query_one(
            "SELECT id, clone_id, kind, status, starting_balance FROM prop_accounts WHERE id = ?",
            (account_id,),
        )
    return result


class _Tracer:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.tables = existing_tables(store)

    def one(self, sql: str, number: int, what: str) -> dict:
        row = self.store.query_one(sql, (number,))
        if row is None:
            raise NotFoundError(f"{what} {number} does not exist")
        return row

    # -- starting points ---------------------------------------------------------------------

    def from_entry(self, result: Trace, number: int) -> None:
        entry = self.one("SELECT * FROM ledger_entries WHERE id = ?", number, "ledger entry")
        if entry["fill_id"] is not None:
            self.from_fill(result, entry["fill_id"])
        elif entry["position_id"] is not None:
            self.from_position(result, entry["position_id"])
        else:
            result.other_entries.append(entry)
            result.notes.append(f"entry {number} ({entry['kind']}) names no fill or position")

    def from_fill(self, result: Trace, number: int) -> None:
        fill = self.one("SELECT * FROM prop_fills WHERE id = ?", number, "fill")
        result.chains.append(self.chain_of_fill(fill))
        result.position = self.position(fill["position_id"])

    def from_order(self, result: Trace, number: int) -> None:
        order = self.one("SELECT * FROM prop_orders WHERE id = ?", number, "order")
        fill = self.store.query_one("SELECT * FROM prop_fills WHERE order_id = ?", (number,))
        if fill is not None:
            return self.from_fill(result, fill["id"])
        result.chains.append(FillChain(self.intent(order["intent_id"]), order))
        result.notes.append(f"order {number} has no fill")
        return None

    def from_intent(self, result: Trace, number: int) -> None:
        intent = self.intent(number)
        if intent is None:
            raise NotFoundError(f"intent {number} does not exist")
        order = self.store.query_one("SELECT * FROM prop_orders WHERE intent_id = ?", (number,))
        if order is not None:
            return self.from_order(result, order["id"])
        result.chains.append(FillChain(intent))
        return None

    def from_position(self, result: Trace, number: int) -> None:
        result.position = self.position(number)
        if result.position is None:
            raise NotFoundError(f"position {number} does not exist")
        for fill in self.store.query(
            "SELECT * FROM prop_fills WHERE position_id = ? ORDER BY id", (number,)
        ):
            result.chains.append(self.chain_of_fill(fill))
        result.other_entries = self.store.query(
            "SELECT * FROM ledger_entries WHERE position_id = ? AND fill_id IS NULL ORDER BY id",
            (number,),
        )

    def from_run(self, result: Trace, number: int) -> None:
        if "decision_runs" not in self.tables:
            raise NotFoundError("this store has no decision runs yet (decision_runs missing)")
        self.one("SELECT id FROM decision_runs WHERE id = ?", number, "decision run")
        for intent in self.store.query(
            "SELECT id FROM prop_intents WHERE decision_run_id = ? ORDER BY id", (number,)
        ):
            self.from_intent(result, intent["id"])
        if not result.chains:
            result.notes.append(f"run {number} produced no intent (a HOLD, a skip or a failure)")
        result.runs.append(RunTrace({"id": number}))  # filled in by follow_runs

    # -- links -------------------------------------------------------------------------------

    def intent(self, number: int) -> dict | None:
        row = self.store.query_one("SELECT * FROM prop_intents WHERE id = ?", (number,))
        if row is not None:
            for key in ("gate_results", "payload"):
                row[key] = _json(row[key])
        return row

    def position(self, number: int) -> dict | None:
        return self.store.query_one("SELECT * FROM positions WHERE id = ?", (number,))

    def chain_of_fill(self, fill: dict) -> FillChain:
        order = self.store.query_one("SELECT * FROM prop_orders WHERE id = ?", (fill["order_id"],))
        intent = self.intent(order["intent_id"]) if order else None
        entries = self.store.query(
            "SELECT * FROM ledger_entries WHERE fill_id = ? ORDER BY id", (fill["id"],)
        )
        return FillChain(intent, order, fill, entries)

    def follow_runs(self, result: Trace) -> None:
        """Attach every decision run the chains name, with its actions, invocations and
        artifact keys — as far as the tables exist."""
        wanted = [r.run["id"] for r in result.runs]
        for chain in result.chains:
            run_id = (chain.intent or {}).get("decision_run_id")
            if run_id is not None and run_id not in wanted:
                wanted.append(run_id)
        origins = {(c.intent or {}).get("origin") for c in result.chains} - {None}
        if not wanted:
            if origins:
                result.notes.append(f"no decision run: intent origin {', '.join(sorted(origins))}")
            result.runs = []
            return
        if "decision_runs" not in self.tables:
            result.notes.append(f"decision runs {wanted} named, but decision_runs is not here yet")
            result.runs = []
            return
        result.runs = [self.run(run_id, result) for run_id in wanted]
        result.runs = [r for r in result.runs if r is not None]

    def run(self, run_id: int, result: Trace) -> RunTrace | None:
        run = self.store.query_one("SELECT * FROM decision_runs WHERE id = ?", (run_id,))
        if run is None:
            result.notes.append(f"decision run {run_id} is named but missing")
            return None
        found = RunTrace(run)
        if "decision_actions" in self.tables:
            found.actions = self.store.query(
                "SELECT * FROM decision_actions WHERE run_id = ? ORDER BY seq", (run_id,)
            )
            for action in found.actions:
                action["gate_results"] = _json(action.get("gate_results"))
        if "invocations" in self.tables:
            found.invocations = self.store.query(
                "SELECT * FROM invocations WHERE run_id = ? ORDER BY id", (run_id,)
            )
            for invocation in found.invocations:
                raw = invocation.pop("raw_text", None)  # verbatim output: size only, on screen
                invocation["raw_text_chars"] = len(raw) if raw is not None else None
            if "tool_calls" in self.tables:
                found.tool_calls = self.store.query(
                    "SELECT t.id, t.invocation_id, t.name, t.action_id FROM tool_calls t"
                    " JOIN invocations i ON i.id = t.invocation_id WHERE i.run_id = ?"
                    " ORDER BY t.id",
                    (run_id,),
                )
        else:
            result.notes.append("model invocations are not recorded in this store yet")
        found.artifacts = self.artifacts(found)
        return found

    def artifacts(self, found: RunTrace) -> list[dict]:
        keys: list[dict] = []
        sources = [("decision_runs", f"run {found.run['id']}", found.run)]
        sources += [("invocations", f"invocation {i['id']}", i) for i in found.invocations]
        for table, source, row in sources:
            for column in _ARTIFACT_COLUMNS[table]:
                if row.get(column):
                    keys.append({"key": row[column], "source": f"{source} {column}"})
        if keys and "artifacts" in self.tables:
            for item in keys:
                stored = self.store.query_one(
                    "SELECT kind, size, content_type, backend FROM artifacts WHERE key = ?",
                    (item["key"],),
                )
                item |= stored or {"missing": True}
        return keys

    def account_of(self, result: Trace) -> int | None:
        for row in (result.position, *(c.fill or c.intent for c in result.chains)):
            if row:
                return row["account_id"]
        return result.other_entries[0]["account_id"] if result.other_entries else None


def _json(text: str | None):
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text  # shown as stored: verify and the gates never wrote this
