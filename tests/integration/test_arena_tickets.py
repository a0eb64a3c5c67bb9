"""Tickets are real money: bought only while a race accumulates, on an entrant, by a known
owner, for a sane amount; paid through the lifecycle's verifiers (by hand, or from the
treasury's Hyperliquid transfers through the real client against the loopback fake), each
transfer paying one purchase ever; stale ones expire; bad input changes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from autotrader.arena.tickets import reconcile, ticket_detail, verify_ticket
from autotrader.arena.verify import verify_races
from autotrader.core.clock import HOUR_MS, MINUTE_MS
from autotrader.core.errors import ConflictError, InvalidInputError, NotFoundError, TemporaryError
from autotrader.lifecycle import economy
from autotrader.lifecycle.verifiers import HyperliquidVerifier, ManualVerifier
from autotrader.market.sources.hyperliquid import HyperliquidSource
from tests.fakes.arena import (
    ACTOR,
    OWNERS,
    TREASURY,
    arena_store,
    buy,
    contents,
    launch,
    new_race,
    paid_ticket,
    pay,
    run_race,
)
from tests.fakes.hyperliquid_server import FakeHyperliquid, transfer_row
from tests.fakes.lifecycle import tx


@pytest.fixture
def world(tmp_path):
    store, clock, settings = arena_store(tmp_path / "tickets.db")
    race = new_race(store, clock, settings, starts_in_ms=2 * HOUR_MS)
    yield store, clock, settings, race
    store.close()


@pytest.fixture
def treasury():
    with FakeHyperliquid() as fake:
        yield fake


def hyperliquid(fake: FakeHyperliquid, clock) -> HyperliquidVerifier:
    client = HyperliquidSource(
        base_url=fake.url, max_retries=1, backoff_s=0, rate_limit_ms=1, clock=clock
    )
    return HyperliquidVerifier(client, clock, treasury=TREASURY)


def sent(fake, ticket, amount: str, *, n: int, owner: str = "bob", at: int | None = None):
    fake.add_ledger_updates(
        TREASURY,
        [transfer_row(sender=OWNERS[owner], destination=TREASURY, amount=amount, tx=tx(n),
                      time_ms=ticket["created_at"] + MINUTE_MS if at is None else at)],
    )  # fmt: skip


def test_a_bought_ticket_is_pending_until_its_window_closes_at_the_latest_at_the_start(world):
    store, clock, settings, race = world
    ticket = buy(store, clock, settings, race["id"], 43, "bob", "25")
    assert (ticket["status"], ticket["amount"], ticket["owner"]) == ("pending", Decimal(25), "bob")
    assert ticket["payer_address"] == OWNERS["bob"]
    assert ticket["expires_at"] == clock.now_ms() + HOUR_MS
    assert ticket["reference"].startswith(f"AT-{race['id']}-")
    clock.set(race["starts_at"] - MINUTE_MS)
    late = buy(store, clock, settings, race["id"], 43, "bob", "5")
    assert late["expires_at"] == race["starts_at"]


def test_a_manual_verification_moves_the_stake_into_the_races_pool(world):
    store, clock, settings, race = world
    result = pay(store, clock, buy(store, clock, settings, race["id"], 42, "bob", "25"))
    assert result.settlement.paid
    assert result.ticket["status"] == "paid"
    assert economy.balance(store, "protocol:race:1") == Decimal(25)
    assert economy.balance(store, "bob") == 0
    assert [o["outcome"] for o in ticket_detail(store, result.ticket["id"])["outcomes"]] == [
        "verified"
    ]
    assert verify_races(store) == []
    assert economy.verify_economy(store) == []


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "must be more than 0"),
        ("-5", "must be more than 0"),
        ("NaN", "not a finite amount"),
        ("Infinity", "not a finite amount"),
        ("1e12", "more than 1,000,000,000"),
        ("20000", "a ticket costs 1 to 10000 USDC"),
        ("0.5", "a ticket costs 1 to 10000 USDC"),
        ("2.0000001", "more than six decimals"),
    ],
)
def test_refuses_an_amount_no_ticket_can_have_and_changes_nothing(world, amount, message):
    store, clock, settings, race = world
    before = contents(store)
    with pytest.raises(InvalidInputError, match=message):
        buy(store, clock, settings, race["id"], 42, "bob", amount)
    assert contents(store) == before


def test_refuses_an_unknown_owner_a_non_entrant_and_an_unknown_race(world):
    store, clock, settings, race = world
    other = new_race(store, clock, settings, clones=[42, 43])
    before = contents(store)
    with pytest.raises(NotFoundError, match="owner 'mallory' does not exist"):
        buy(store, clock, settings, race["id"], 42, "mallory", "5")
    with pytest.raises(InvalidInputError, match="1–32 letters"):
        buy(store, clock, settings, race["id"], 42, "protocol:rake", "5")
    with pytest.raises(InvalidInputError, match="clone 44 is not an entrant of race 2"):
        buy(store, clock, settings, other["id"], 44, "bob", "5")
    with pytest.raises(NotFoundError, match="race 99 does not exist"):
        buy(store, clock, settings, 99, 42, "bob", "5")
    assert contents(store) == before


def test_refuses_to_sell_a_ticket_once_the_race_has_started_or_launched(world):
    store, clock, settings, race = world
    clock.set(race["starts_at"])
    before = contents(store)
    with pytest.raises(ConflictError, match="tickets are sold only while it accumulates"):
        buy(store, clock, settings, race["id"], 42, "bob", "5")  # due, not yet launched
    launch(store, clock)
    with pytest.raises(ConflictError, match="race 1 is live"):
        buy(store, clock, settings, race["id"], 42, "bob", "5")
    assert contents(store)["arena_tickets"] == before["arena_tickets"]


def test_a_reused_payment_reference_is_refused_and_changes_nothing(world):
    store, clock, settings, race = world
    first = buy(store, clock, settings, race["id"], 42, "bob", "5")
    second = buy(store, clock, settings, race["id"], 43, "bob", "5")
    pay(store, clock, first, reference="wire-1")
    before = contents(store)
    with pytest.raises(ConflictError, match="wire-1 already paid towards ticket 1"):
        pay(store, clock, second, reference="wire-1")
    assert contents(store) == before
    with pytest.raises(ConflictError, match="ticket 1 is paid, not pending"):
        pay(store, clock, first, reference="wire-2")


def test_a_manual_attestation_after_the_window_is_credit_not_a_ticket(world):
    store, clock, settings, race = world
    ticket = buy(store, clock, settings, race["id"], 42, "bob", "5")
    clock.set(ticket["expires_at"] + 1)
    result = pay(store, clock, ticket)
    assert not result.settlement.paid
    assert [o.outcome for o in result.settlement.outcomes] == ["late"]
    assert economy.balance(store, "bob") == Decimal(5)  # never lost: the owner's credit
    assert economy.balance(store, "protocol:race:1") == 0


def test_a_transfer_from_the_owner_pays_the_ticket_once(world, treasury):
    store, clock, settings, race = world
    ticket = buy(store, clock, settings, race["id"], 42, "bob", "25")
    other = buy(store, clock, settings, race["id"], 43, "bob", "25")
    sent(treasury, ticket, "25", n=1)
    clock.advance(ms=2 * MINUTE_MS)
    verifier = hyperliquid(treasury, clock)
    paid = verify_ticket(store, clock, ticket["id"], verifier, actor=ACTOR, transfer=tx(1))
    assert paid.settlement.paid
    assert paid.ticket["transfer_reference"] == tx(1)
    before = contents(store)
    with pytest.raises(ConflictError, match="a transfer verifies one payment, ever"):
        verify_ticket(store, clock, other["id"], verifier, actor=ACTOR, transfer=tx(1))
    assert contents(store) == before


def test_reconcile_pays_what_the_treasury_received_in_time_and_expires_the_rest(world, treasury):
    store, clock, settings, race = world
    paid = buy(store, clock, settings, race["id"], 42, "bob", "25")
    unpaid = buy(store, clock, settings, race["id"], 43, "dave", "10")
    sent(treasury, paid, "30", n=1, at=paid["expires_at"] - 1)  # 5 over: bob's credit
    clock.set(paid["expires_at"] + MINUTE_MS)
    report = reconcile(store, clock, verifier=hyperliquid(treasury, clock), actor=ACTOR)
    assert (report.paid, report.expired) == ([paid["id"]], [unpaid["id"]])
    assert economy.balance(store, "bob") == Decimal(5)
    again = reconcile(store, clock, verifier=hyperliquid(treasury, clock), actor=ACTOR)
    assert (again.scanned, again.paid, again.expired) == (0, [], [])


def test_an_unreadable_treasury_expires_nothing(world, treasury):
    store, clock, settings, race = world
    ticket = buy(store, clock, settings, race["id"], 42, "bob", "25")
    treasury.fail_next(10, 502, request_type="userNonFundingLedgerUpdates")
    clock.set(ticket["expires_at"] + MINUTE_MS)
    report = reconcile(store, clock, verifier=hyperliquid(treasury, clock), actor=ACTOR)
    assert report.error is not None
    assert report.expired == []
    assert ticket_detail(store, ticket["id"])["status"] == "pending"
    with pytest.raises(TemporaryError):
        verify_ticket(store, clock, ticket["id"], hyperliquid(treasury, clock), actor=ACTOR)


def test_a_payment_made_in_time_pays_even_when_verified_after_the_launch(world, treasury):
    store, clock, settings, race = world
    ticket = buy(store, clock, settings, race["id"], 42, "bob", "25")
    sent(treasury, ticket, "25", n=4)
    clock.set(race["starts_at"])
    launch(store, clock)
    report = reconcile(store, clock, verifier=hyperliquid(treasury, clock), actor=ACTOR)
    assert report.paid == [ticket["id"]]


def test_the_pool_closes_when_the_race_settles(world):
    store, clock, settings, race = world
    paid_ticket(store, clock, settings, race["id"], 42, "bob", "5")
    pending = buy(store, clock, settings, race["id"], 43, "bob", "5")
    clock.set(race["starts_at"] - 1)
    run_race(store, clock, settings, race)
    detail = ticket_detail(store, pending["id"])
    assert (detail["status"], detail["reason"]) == ("expired", "unpaid when race 1 settled")
    with pytest.raises(ConflictError, match="ticket 2 is expired"):
        verify_ticket(store, clock, pending["id"],
                      ManualVerifier(clock, reference="late", reason="x"), actor=ACTOR)  # fmt: skip
