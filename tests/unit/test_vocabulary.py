"""One word, one definition: each closed set is an enum, and the database CHECK constraints
that list the same set agree with it. Adding a ledger kind is one migration that keeps the
CHECK and the append-only triggers."""

from __future__ import annotations

import re

import pytest

from autotrader.alerts.vocabulary import AlertEvent, DeliveryStatus
from autotrader.arena.vocabulary import EntrantStatus, PayoutKind, RaceStatus, TicketStatus
from autotrader.clones.graph import VariantName
from autotrader.clones.plan import Engine, EngineName
from autotrader.clones.vocabulary import Variant
from autotrader.core._sqlite_utils import Migrations
from autotrader.core.errors import OperationalError
from autotrader.decisions.vocabulary import ActionStatus, RunStatus
from autotrader.desk import vocabulary as desk
from autotrader.lifecycle.vocabulary import (
    AuditionStatus,
    EconomyKind,
    EventKind,
    FeeStatus,
    Outcome,
    PaymentPurpose,
    ProfileStatus,
    QueueStatus,
    SlotStatus,
    Stage,
    VerifierName,
)
from autotrader.llm.vocabulary import ModelRole
from autotrader.prop.migrations import extend_ledger_kinds
from autotrader.prop.vocabulary import AccountKind, AccountStatus, LedgerKind, PositionStatus
from autotrader.prop.vocabulary import Side as PositionSide
from autotrader.schema import MIGRATION_SETS


def _check_values(store, table: str, column: str) -> set[str]:
    sql = store.scalar("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
    match = re.search(rf"\b{column} TEXT NOT NULL CHECK \({column} IN \(([^)]*)\)\)", sql)
    assert match, f"{table}.{column} has no CHECK (... IN (...)) constraint"
    return {value.strip().strip("'") for value in match[1].split(",")}


@pytest.mark.parametrize(
    ("table", "column", "enum"),
    [
        ("prop_accounts", "kind", AccountKind),
        ("prop_accounts", "status", AccountStatus),
        ("positions", "status", PositionStatus),
        ("ledger_entries", "kind", LedgerKind),
        ("decision_runs", "status", RunStatus),
        ("decision_actions", "status", ActionStatus),
        ("desk_agents", "id", desk.AgentId),
        ("desk_policies", "key", desk.PolicyKey),
        ("desk_workers", "name", desk.DeskWorker),
        ("desk_workers", "state", desk.WorkerState),
        ("desk_trigger_rules", "kind", desk.TriggerKind),
        ("desk_trigger_rules", "step_kind", desk.StepKind),
        ("desk_reaction_patterns", "step_kind", desk.StepKind),
        ("desk_proposals", "source", desk.ProposalSource),
        ("desk_proposals", "status", desk.ProposalStatus),
        ("desk_missions", "kind", desk.MissionKind),
        ("desk_missions", "status", desk.MissionStatus),
        ("desk_steps", "kind", desk.StepKind),
        ("desk_steps", "status", desk.StepStatus),
        ("desk_reactions", "status", desk.ReactionStatus),
        ("desk_roundtables", "format", desk.RoundtableFormat),
        ("desk_roundtables", "status", desk.RoundtableStatus),
        ("desk_signals", "signal_type", desk.SignalType),
        ("desk_signals", "side", PositionSide),
        ("desk_signals", "source", desk.SignalSource),
        ("desk_memories", "type", desk.MemoryType),
        ("desk_trade_outcomes", "outcome_type", desk.OutcomeType),
        ("economy_entries", "kind", EconomyKind),
        ("payment_references", "source", VerifierName),
        ("payment_references", "purpose", PaymentPurpose),
        ("payment_outcomes", "purpose", PaymentPurpose),
        ("payment_outcomes", "verifier", VerifierName),
        ("payment_outcomes", "outcome", Outcome),
        ("audition_fees", "status", FeeStatus),
        ("auditions", "status", AuditionStatus),
        ("profile_versions", "status", ProfileStatus),
        ("promotion_queue", "status", QueueStatus),
        ("arena_slots", "status", SlotStatus),
        ("clone_stages", "stage", Stage),
        ("lifecycle_events", "event", EventKind),
        ("lifecycle_events", "from_stage", Stage),
        ("lifecycle_events", "to_stage", Stage),
        ("arena_races", "status", RaceStatus),
        ("arena_entrants", "status", EntrantStatus),
        ("arena_tickets", "status", TicketStatus),
        ("arena_payouts", "kind", PayoutKind),
        ("alert_outbox", "event", AlertEvent),
        ("alert_deliveries", "status", DeliveryStatus),
        ("desk_roundtable_formats", "format", desk.RoundtableFormat),
        ("desk_roundtable_turns", "speaker", desk.AgentId),
        ("desk_roundtable_turns", "status", desk.TurnStatus),
        ("desk_memory_influences", "decision", desk.InfluenceDecision),
        ("invocations", "role", ModelRole),
    ],
)
def test_the_database_allows_exactly_the_enums_values(store, table, column, enum):
    assert _check_values(store, table, column) == {member.value for member in enum}


def test_the_graph_schema_accepts_exactly_the_engine_names():
    assert set(Engine.__args__) == {name.value for name in EngineName}


def test_the_graph_schema_accepts_exactly_the_variant_names():
    assert set(VariantName.__args__) == {variant.value for variant in Variant}


def _store_with(tmp_path, extra: Migrations):
    from autotrader.core.db import Store

    return Store(tmp_path / "kinds.db", migrations=(*MIGRATION_SETS, extra))


def test_extending_the_ledger_kinds_keeps_rows_indexes_and_the_append_only_rule(store, tmp_path):
    from autotrader.core.db import Store

    base = Store(tmp_path / "kinds.db", migrations=MIGRATION_SETS)
    base.execute(
        "INSERT INTO prop_accounts (clone_id, kind, starting_balance, status, rules, peak_equity,"
        " created_at, started_at, updated_at) VALUES (1, 'sandbox', '10', 'active', '{}', '10',"
        " 0, 0, 0)"
    )
    base.execute(
        "INSERT INTO ledger_entries (account_id, kind, amount, balance_after, created_at)"
        " VALUES (1, 'DEPOSIT', '10', '10', 0)"
    )
    indexes_before = base.scalar(
        "SELECT group_concat(name) FROM (SELECT name FROM sqlite_master"
        " WHERE tbl_name = 'ledger_entries' AND type = 'index' ORDER BY name)"
    )
    base.close()

    later = Migrations("later-feature")

    @later()
    def m001_fee_kinds(db):
        extend_ledger_kinds(db, "AUDITION_FEE", "PAYOUT")

    @later()
    def m002_more(db):
        extend_ledger_kinds(db, "ROYALTY")  # a second rebuild reads the renamed table

    store = _store_with(tmp_path, later)
    assert _check_values(store, "ledger_entries", "kind") == {
        *(k.value for k in LedgerKind),
        "AUDITION_FEE",
        "PAYOUT",
        "ROYALTY",
    }
    assert store.query("SELECT kind, amount FROM ledger_entries") == [
        {"kind": "DEPOSIT", "amount": "10"}
    ]
    store.execute(
        "INSERT INTO ledger_entries (account_id, kind, amount, balance_after, created_at)"
        " VALUES (1, 'ROYALTY', '1', '11', 1)"
    )
    with pytest.raises(OperationalError, match="CHECK constraint failed"):
        store.execute(
            "INSERT INTO ledger_entries (account_id, kind, amount, balance_after, created_at)"
            " VALUES (1, 'BOGUS', '1', '12', 2)"
        )
    with pytest.raises(OperationalError, match="append-only"):
        store.execute("UPDATE ledger_entries SET amount = '99'")
    with pytest.raises(OperationalError, match="append-only"):
        store.execute("DELETE FROM ledger_entries")
    assert indexes_before == store.scalar(
        "SELECT group_concat(name) FROM (SELECT name FROM sqlite_master"
        " WHERE tbl_name = 'ledger_entries' AND type = 'index' ORDER BY name)"
    )


def test_extending_the_economy_kinds_keeps_rows_and_the_append_only_rule(tmp_path):
    from autotrader.lifecycle.migrations import extend_economy_kinds, extend_payment_purposes

    later = Migrations("arena-like")

    @later()
    def m001_tickets(db):
        extend_economy_kinds(db, "TICKET", "PAYOUT")
        extend_payment_purposes(db, "ticket")

    store = _store_with(tmp_path, later)
    assert _check_values(store, "economy_entries", "kind") == {
        *(k.value for k in EconomyKind),
        "TICKET",
        "PAYOUT",
    }
    for table in ("payment_references", "payment_outcomes"):
        assert _check_values(store, table, "purpose") == {"audition_fee", "ticket"}
    store.execute(
        "INSERT INTO economy_entries (txn, holder, kind, amount, balance_after,"
        " idempotency_key, created_at) VALUES ('t', 'alice', 'TICKET', '-1', '-1', 't:0', 0)"
    )
    with pytest.raises(OperationalError, match="append-only"):
        store.execute("DELETE FROM economy_entries")
