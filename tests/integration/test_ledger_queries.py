"""Ledger reads on a store the real engine wrote (``tests.fakes.ledger_scenario``): pages and
totals, trades, leaderboard, exports, traces and plots."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from decimal import Decimal as D

import pytest

from autotrader.core.errors import InvalidInputError, NotFoundError
from autotrader.ledger import export as ledger_export
from autotrader.ledger.leaderboard import leaderboard
from autotrader.ledger.plot import plot_equity
from autotrader.ledger.queries import (
    LedgerFilter,
    TradeFilter,
    equity_series,
    iter_entries,
    kind_totals,
    ledger_page,
    trades,
)
from autotrader.ledger.trace import parse_ref, trace
from autotrader.market.view import execution_price
from autotrader.prop import pnl
from autotrader.prop.models import Side
from tests.fakes.ledger_scenario import build_scenario_file, open_copy

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_scenario_file(tmp_path_factory.mktemp("ledger-queries"))


@pytest.fixture
def store(built, tmp_path):
    store = open_copy(built[0], tmp_path)
    yield store
    store.close()


@pytest.fixture
def now(built) -> int:
    return built[1].end_ms


def all_entries(store) -> list[dict]:
    return store.query("SELECT * FROM ledger_entries ORDER BY id")


def raw(store, *statements: str) -> None:
    with closing(sqlite3.connect(store.path, isolation_level=None)) as conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        for statement in statements:
            conn.execute(statement)


# -- ledger pages ---------------------------------------------------------------------------------


def test_pages_list_entries_newest_first_without_gaps_or_repeats(store):
    seen = []
    for page in (1, 2, 3):
        result = ledger_page(store, LedgerFilter(), limit=8, page=page, with_totals=False)
        seen += [e["id"] for e in result.entries]
        assert result.has_more is (page < 3)
    assert seen == sorted(seen, reverse=True)
    assert sorted(seen) == [e["id"] for e in all_entries(store)]


def test_entries_carry_decimals_and_the_clone(store):
    entry = ledger_page(store, LedgerFilter(kinds=("REALIZED_PNL",)), limit=1).entries[0]
    assert entry["amount"] == D("4.18655")
    assert isinstance(entry["balance_after"], D)
    assert (entry["account_id"], entry["clone_id"]) == (2, 7)


def test_totals_cover_the_whole_filter_not_just_the_page(store):
    result = ledger_page(store, LedgerFilter(account_id=2), limit=2)
    assert len(result.entries) == 2
    rows = [e for e in all_entries(store) if e["account_id"] == 2]
    expected: dict[str, D] = {}
    for e in rows:
        expected[e["kind"]] = expected.get(e["kind"], D(0)) + D(e["amount"])
    assert {t.kind: t.amount for t in result.totals} == expected
    assert sum(t.count for t in result.totals) == len(rows)
    assert result.net == D(rows[-1]["balance_after"])  # Σ entries = the balance


@pytest.mark.parametrize(
    ("flt", "where"),
    [
        (LedgerFilter(clone_id=42), lambda e: e["account_id"] in (1, 3)),
        (LedgerFilter(kinds=("FEE", "FUNDING")), lambda e: e["kind"] in ("FEE", "FUNDING")),
        (LedgerFilter(symbol="ETH"), lambda e: e["symbol"] == "ETH"),
        (LedgerFilter(account_id=2, symbol="BTC"), lambda e: e["id"] in (6, 11, 12, 13, 14, 15)),
    ],
)
def test_filters_select_exactly_the_matching_entries(store, flt, where):
    expected = [e["id"] for e in reversed(all_entries(store)) if where(e)]
    assert [e["id"] for e in ledger_page(store, flt, limit=100).entries] == expected
    assert sum(t.count for t in kind_totals(store, flt)) == len(expected)


def test_time_filters_are_inclusive_then_exclusive(store):
    times = sorted({e["created_at"] for e in all_entries(store)})
    since, until = times[2], times[5]
    flt = LedgerFilter(since_ms=since, until_ms=until)
    got = {e["created_at"] for e in ledger_page(store, flt, limit=100).entries}
    assert got == set(times[2:5])


def test_unknown_kinds_and_bad_pages_are_refused():
    with pytest.raises(InvalidInputError, match="BONUS"):
        LedgerFilter(kinds=("BONUS",))
    with pytest.raises(InvalidInputError):
        ledger_page(None, LedgerFilter(), page=0)  # type: ignore[arg-type]


def test_iter_entries_streams_everything_oldest_first_in_batches(store):
    ids = [e["id"] for e in iter_entries(store, LedgerFilter(), batch=3)]
    assert ids == sorted(ids)
    assert len(ids) == 22


# -- trades ---------------------------------------------------------------------------------------


def test_closed_trades_have_fee_exact_pnl(store, now):
    report = trades(store, TradeFilter(status="closed"), now_ms=now)
    assert [t.position_id for t in report.closed] == [3, 2, 1]  # newest close first
    btc = report.closed[0]
    assert (btc.side, btc.qty, btc.close_trigger) == ("LONG", D("0.02263"), "MANUAL")
    assert btc.net_pnl == btc.realized - btc.fees + btc.funding == D("2.7771977285")
    row = store.query_one("SELECT * FROM positions WHERE id = 3")
    assert btc.realized == D(row["realized_pnl"])
    assert btc.fees == D(row["fees_paid"])
    assert btc.funding == D(row["funding_paid"])
    assert btc.holding_ms == 4 * 3_600_000
    margin = btc.qty * btc.entry_price / btc.leverage
    assert btc.return_pct == (btc.net_pnl / margin * 100).quantize(D("0.0001"))
    assert {t.close_trigger for t in report.closed} == {"MANUAL", "STOP", "TARGET"}


def test_open_positions_are_marked_at_the_latest_price(store, now):
    (eth,) = trades(store, TradeFilter(status="open"), now_ms=now).open
    mark = execution_price(store, "ETH", now).price
    assert eth.mark_price == mark
    assert eth.unrealized == pnl.unrealized_pnl(Side.LONG, eth.qty, eth.entry_price, mark)
    assert eth.net_pnl == eth.unrealized - eth.fees + eth.funding
    assert eth.closed_at is None


def test_trade_filters(store, now):
    assert [t.position_id for t in trades(store, TradeFilter(clone_id=7), now_ms=now).closed] == [3]
    report = trades(store, TradeFilter(symbol="ETH"), now_ms=now)
    assert [t.position_id for t in report.closed + report.open] == [2, 4]
    late = trades(store, TradeFilter(since_ms=now - 3_600_000), now_ms=now)
    assert (late.closed, [t.position_id for t in late.open]) == ([], [4])


# -- leaderboard ----------------------------------------------------------------------------------


def test_leaderboard_has_one_row_per_account_sorted_by_return(store, now):
    rows = leaderboard(store, now_ms=now)
    assert [r.group for r in rows] == ["2", "3", "1"]
    first = {r.group: r for r in rows}["1"]
    assert first.trades == 2
    assert first.win_rate == pytest.approx(0.5)
    assert first.fees_paid == D("0.89995689") + D("0.674925264") + D("0.89185698") + D("0.66553596")
    assert first.pnl == first.equity - D(10_000)
    assert first.model_cost_usd == 0


def test_leaderboard_sorts_by_any_column_with_missing_values_last(store, now):
    rows = leaderboard(store, now_ms=now, sort="sharpe", ascending=True)
    assert rows[-1].sharpe is None  # account 3 never moved
    assert [r.group for r in leaderboard(store, now_ms=now, sort="group")] == ["3", "2", "1"]
    with pytest.raises(InvalidInputError, match="unknown column"):
        leaderboard(store, now_ms=now, sort="luck")


def test_leaderboard_by_clone_sums_its_accounts(store, now):
    rows = {r.group: r for r in leaderboard(store, now_ms=now, by="clone")}
    assert set(rows) == {"42", "7"}
    assert rows["42"].accounts == [1, 3]
    assert rows["42"].starting_balance == D(15_000)
    by_account = {r.group: r for r in leaderboard(store, now_ms=now)}
    assert rows["42"].pnl == by_account["1"].pnl + by_account["3"].pnl
    assert leaderboard(store, now_ms=now, kind="race")[0].accounts == [3]


def test_leaderboard_counts_model_cost_and_decisions_when_the_tables_exist(store, now):
    link_a_decision_run(store, now)
    row = {r.group: r for r in leaderboard(store, now_ms=now)}["2"]
    assert row.model_cost_usd == D("0.0042")
    assert row.last_decision_at == now - 1000


# -- exports --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
@pytest.mark.parametrize("what", ["ledger", "trades", "snapshots"])
def test_exports_read_back_equal(store, now, tmp_path, fmt, what):
    path = tmp_path / f"{what}.{fmt}"
    result = ledger_export.export(
        store, what=what, fmt=fmt, flt=LedgerFilter(), now_ms=now, out=path
    )
    written = list(ledger_export.records(store, what, LedgerFilter(), now_ms=now))
    assert result.rows == len(written) > 0
    assert ledger_export.load(path, fmt, what) == written
    decimals = [k for k, kind in ledger_export.SCHEMAS[what].items() if kind == "decimal"]
    assert all(isinstance(r[k], str) for r in written for k in decimals if r[k] is not None)


def test_parquet_needs_a_file(store, now):
    with pytest.raises(InvalidInputError, match="--out"):
        ledger_export.export(store, what="ledger", fmt="parquet", flt=LedgerFilter(), now_ms=now)


# -- traces ---------------------------------------------------------------------------------------


def link_a_decision_run(store, now: int) -> None:
    """Pretend a decision run (with one model call and its artifacts) produced intent 8."""
    tables = {r[0] for r in store.tuples("SELECT name FROM sqlite_master WHERE type='table'")}
    if not {"decision_runs", "invocations", "artifacts"} <= tables:
        pytest.skip("decision tables not in this build yet")
    raw(
        store,
        "INSERT INTO decision_runs (id, clone_id, account_id, strategy_id, symbol, bucket,"
        " status, engine, model, trace_id, due_at, started_at, finished_at, prompt_artifact,"
        f" response_artifact, created_at) VALUES (5, 7, 2, 'momentum', 'ETH', {now}, 'succeeded',"
        f" 'llm', 'gpt-test', 'trace-abc', {now}, {now - 2000}, {now - 1000}, 'p1', 'r1', {now})",
        "INSERT INTO invocations (run_id, role, model, api, schema_name, request_hash,"
        " prompt_hash, status, raw_text, input_tokens, output_tokens, latency_ms, cost_usd,"
        " request_artifact, response_artifact, created_at) VALUES (5, 'single', 'gpt-test',"
        " 'responses', 'TradeIntent', 'h', 'p', 'ok', '{\"action\": \"OPEN\"}', 1000, 200, 850,"
        f" '0.0042', 'q1', 'r1', {now})",
        "INSERT INTO artifacts (key, kind, size, content_type, backend, created_at) VALUES"
        f" ('p1', 'prompt', 1234, 'text/plain', 'file', {now})",
        "UPDATE prop_intents SET decision_run_id = 5, origin = 'decision' WHERE id = 8",
    )


def test_parse_ref_reads_typed_ids_and_flags():
    assert parse_ref("fill:12") == ("fill", 12)
    assert parse_ref("12", "order") == ("order", 12)
    assert parse_ref("pos#3") == ("position", 3)
    with pytest.raises(InvalidInputError, match="ambiguous"):
        parse_ref("12")
    with pytest.raises(InvalidInputError, match="contradicts"):
        parse_ref("fill:12", "order")


def test_trace_of_a_fill_walks_back_to_its_gates(store):
    result = trace(store, "fill", 4)
    (chain,) = result.chains
    assert [e["kind"] for e in chain.entries] == ["REALIZED_PNL", "FEE"]
    assert chain.order["trigger"] == "STOP"
    assert chain.intent["origin"] == "trigger"
    assert chain.intent["gate_results"][0]["code"] == "stop"
    assert result.position["id"] == 1
    assert result.account["clone_id"] == 42
    assert any("origin trigger" in note for note in result.notes)


def test_trace_of_a_position_has_every_fill_and_its_funding(store):
    result = trace(store, "position", 3)
    assert [c.fill["id"] for c in result.chains] == [3, 6]
    assert [e["kind"] for e in result.other_entries] == ["FUNDING"] * 3
    assert all(len(c.intent["gate_results"]) > 1 for c in result.chains)  # manual: real gates


def test_trace_follows_a_decision_run_to_its_invocations_and_artifacts(store, now):
    link_a_decision_run(store, now)
    for kind, number in (("entry", 18), ("fill", 7), ("order", 7), ("run", 5)):
        result = trace(store, kind, number)
        (run,) = result.runs
        assert run.run["model"] == "gpt-test"
        (invocation,) = run.invocations
        assert invocation["cost_usd"] == "0.0042"
        assert "raw_text" not in invocation
        assert invocation["raw_text_chars"] > 0
        keys = {a["key"]: a for a in run.artifacts}
        assert set(keys) == {"p1", "r1", "q1"}
        assert keys["p1"]["size"] == 1234
        assert keys["q1"]["missing"] is True


def test_trace_of_a_missing_thing_is_not_found(store):
    with pytest.raises(NotFoundError, match="fill 99"):
        trace(store, "fill", 99)


# -- plots ----------------------------------------------------------------------------------------


def test_equity_series_starts_at_the_deposit(store, built):
    points = equity_series(store, 2)
    assert points[0] == (built[1].start_ms, D(10_000))
    assert [t for t, _ in points] == sorted(t for t, _ in points)
    with pytest.raises(NotFoundError):
        equity_series(store, 99)


def test_plot_writes_a_png_for_one_account_and_a_comparison(store, tmp_path):
    single = plot_equity(store, 2, tmp_path / "one.png")
    assert single.path.read_bytes()[:8] == PNG
    assert single.trades == 3
    compared = plot_equity(store, 1, tmp_path / "cmp.png", compare=[2, 3, 1])
    assert compared.accounts == [1, 2, 3]
    assert compared.path.read_bytes()[:8] == PNG
    with pytest.raises(InvalidInputError, match="png"):
        plot_equity(store, 1, tmp_path / "chart.jpg")
