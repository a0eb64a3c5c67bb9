"""``ledger trace``: from any link of the chain, the whole "why" of a trade.

ledger entries ← fill → order → intent (every gate result) → decision run → model
invocation(s) → prompt/response artifact keys. Start from ``entry:N``, ``fill:N``, ``order:N``,
``intent:N``, ``position:N`` (all its fills) or ``run:N`` (every intent the run produced,
rejected ones included).

The prop links are read through ``ledger.queries.trace``; decision runs and their actions,
model invocations and tool calls, and artifact index rows through the decisions, llm and
artifacts repos. ``notes`` says what could not be followed and why. Read-only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from autotrader.artifacts import repo as artifacts_repo
from autotrader.core.db import Store
from autotrader.core.errors import InvalidInputError, NotFoundError
from autotrader.core.ids import id_problem
from autotrader.decisions import repo as decisions_repo
from autotrader.ledger.queries import trace as q
from autotrader.llm import repo as llm_repo

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
_REF = re.compile(r"^\s*(?:([a-z]+)\s*[:#]\s*)?([^\s:#]+)\s*$")
_ARTIFACT_COLUMNS = {
    "decision_runs": ("context_artifact", "prompt_artifact", "response_artifact"),
    "invocations": ("request_artifact", "response_artifact"),
}
_ARTIFACT_INFO = ("kind", "size", "content_type", "backend")  # what a trace tells of each key


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
    problem = id_problem(match.group(2))
    if problem is not None:
        raise InvalidInputError(f"cannot read {text!r}: {problem}")
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
        result.account = q.account_summary(store, account_id)
    return result


class _Tracer:
    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def one(row: dict | None, number: int, what: str) -> dict:
        if row is None:
            raise NotFoundError(f"{what} {number} does not exist")
        return row

    # -- starting points ---------------------------------------------------------------------

    def from_entry(self, result: Trace, number: int) -> None:
        entry = self.one(q.ledger_entry(self.store, number), number, "ledger entry")
        if entry["fill_id"] is not None:
            self.from_fill(result, entry["fill_id"])
        elif entry["position_id"] is not None:
            self.from_position(result, entry["position_id"])
        else:
            result.other_entries.append(entry)
            result.notes.append(f"entry {number} ({entry['kind']}) names no fill or position")

    def from_fill(self, result: Trace, number: int) -> None:
        fill = self.one(q.fill(self.store, number), number, "fill")
        result.chains.append(self.chain_of_fill(fill))
        result.position = self.position(fill["position_id"])

    def from_order(self, result: Trace, number: int) -> None:
        order = self.one(q.order(self.store, number), number, "order")
        fill = q.fill_of_order(self.store, number)
        if fill is not None:
            return self.from_fill(result, fill["id"])
        result.chains.append(FillChain(self.intent(order["intent_id"]), order))
        result.notes.append(f"order {number} has no fill")
        return None

    def from_intent(self, result: Trace, number: int) -> None:
        intent = self.intent(number)
        if intent is None:
            raise NotFoundError(f"intent {number} does not exist")
        order = q.order_of_intent(self.store, number)
        if order is not None:
            return self.from_order(result, order["id"])
        result.chains.append(FillChain(intent))
        return None

    def from_position(self, result: Trace, number: int) -> None:
        result.position = self.position(number)
        if result.position is None:
            raise NotFoundError(f"position {number} does not exist")
        for fill in q.fills_of_position(self.store, number):
            result.chains.append(self.chain_of_fill(fill))
        result.other_entries = q.position_entries_without_fill(self.store, number)

    def from_run(self, result: Trace, number: int) -> None:
        self.one(decisions_repo.get_run(self.store, number), number, "decision run")
        for intent_id in q.intent_ids_of_run(self.store, number):
            self.from_intent(result, intent_id)
        if not result.chains:
            result.notes.append(f"run {number} produced no intent (a HOLD, a skip or a failure)")
        result.runs.append(RunTrace({"id": number}))  # filled in by follow_runs

    # -- links -------------------------------------------------------------------------------

    def intent(self, number: int) -> dict | None:
        row = q.intent(self.store, number)
        if row is not None:
            for key in ("gate_results", "payload"):
                row[key] = _json(row[key])
        return row

    def position(self, number: int) -> dict | None:
        return q.position(self.store, number)

    def chain_of_fill(self, fill: dict) -> FillChain:
        order = q.order(self.store, fill["order_id"])
        intent = self.intent(order["intent_id"]) if order else None
        entries = q.entries_of_fill(self.store, fill["id"])
        return FillChain(intent, order, fill, entries)

    def follow_runs(self, result: Trace) -> None:
        """Attach every decision run the chains name, with its actions, invocations and
        artifact keys."""
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
        result.runs = [self.run(run_id, result) for run_id in wanted]
        result.runs = [r for r in result.runs if r is not None]

    def run(self, run_id: int, result: Trace) -> RunTrace | None:
        run = decisions_repo.get_run(self.store, run_id)
        if run is None:
            result.notes.append(f"decision run {run_id} is named but missing")
            return None
        found = RunTrace(run)
        found.actions = decisions_repo.actions(self.store, run_id)
        for action in found.actions:
            action["gate_results"] = _json(action.get("gate_results"))
        found.invocations = llm_repo.invocations_for_run(self.store, run_id)
        for invocation in found.invocations:
            raw = invocation.pop("raw_text", None)  # verbatim output: size only, on screen
            invocation["raw_text_chars"] = len(raw) if raw is not None else None
        found.tool_calls = llm_repo.tool_calls_for_run(self.store, run_id)
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
        for item in keys:
            stored = artifacts_repo.get_artifact(self.store, item["key"])
            item |= {k: stored[k] for k in _ARTIFACT_INFO} if stored else {"missing": True}
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
