"""Audition fees are real money: exact, idempotent, every outcome recorded with its reason.

The Hyperliquid verifier runs through the real client (ccxt) against the loopback fake's
``userNonFundingLedgerUpdates``; the manual verifier is an admin's recorded act."""

from __future__ import annotations

from decimal import Decimal

import pytest

from autotrader.core.clock import HOUR_MS, MINUTE_MS
from autotrader.core.errors import ConflictError, NotFoundError, TemporaryError
from autotrader.lifecycle import economy, state
from autotrader.lifecycle.fees import (
    FeePolicy,
    fee_detail,
    reconcile,
    request_fee,
    verify_fee,
)
from autotrader.lifecycle.verifiers import HyperliquidVerifier, ManualVerifier
from autotrader.lifecycle.vocabulary import Stage
from autotrader.market.sources.hyperliquid import HyperliquidSource
from tests.fakes.hyperliquid_server import FakeHyperliquid, real_ledger_updates, transfer_row
from tests.fakes.lifecycle import (
    ACTOR,
    ADDRESS,
    CLONE_ID,
    OWNER,
    STRANGER,
    TREASURY,
    lifecycle_settings,
    lifecycle_store,
    tx,
)


@pytest.fixture
def world(tmp_path):
    store, clock = lifecycle_store(tmp_path / "fees.db")
    settings = lifecycle_settings()
    yield store, clock, settings, FeePolicy.from_settings(settings)
    store.close()


@pytest.fixture
def treasury():
    with FakeHyperliquid() as fake:
        fake.add_ledger_updates(TREASURY, real_ledger_updates())
        yield fake


def hyperliquid(fake: FakeHyperliquid, clock) -> HyperliquidVerifier:
    client = HyperliquidSource(
        base_url=fake.url, max_retries=1, backoff_s=0, rate_limit_ms=1, clock=clock
    )
    return HyperliquidVerifier(client, clock, treasury=TREASURY)


def paid_in(fake, fee, amount: str, *, n: int = 1, sender: str = ADDRESS, at: int | None = None):
    fake.add_ledger_updates(
        TREASURY,
        [transfer_row(sender=sender, destination=TREASURY, amount=amount, tx=tx(n),
                      time_ms=fee["created_at"] + MINUTE_MS if at is None else at)],
    )  # fmt: skip


def manual(clock, reference="wire-7", reason="paid by wire", amount=None):
    return ManualVerifier(clock, reference=reference, reason=reason, amount=amount)


def entitlements(store):
    from autotrader.clones.management import require_clone

    clone = require_clone(store, CLONE_ID)
    return clone.max_model_strength, clone.max_active_assets


# -- requesting ----------------------------------------------------------------------------------


def test_a_requested_fee_is_pending_with_its_amount_reference_and_expiry(world):
    store, clock, _, policy = world
    fee = request_fee(store, clock, CLONE_ID, policy, actor=ACTOR)
    assert fee["status"] == "pending"
    assert fee["amount"] == Decimal(25)
    assert fee["reference"].startswith("AF-42-")
    assert fee["expires_at"] == clock.now_ms() + 24 * HOUR_MS
    assert fee["payer_address"] == ADDRESS
    assert state.stage_of(store, CLONE_ID) == Stage.FEE_PENDING


def test_refuses_a_second_fee_while_one_is_pending_naming_the_stage(world):
    store, clock, _, policy = world
    request_fee(store, clock, CLONE_ID, policy, actor=ACTOR)
    with pytest.raises(ConflictError, match="clone 42 is fee_pending"):
        request_fee(store, clock, CLONE_ID, policy, actor=ACTOR)
    assert len(store.query("SELECT id FROM audition_fees")) == 1


def test_refuses_a_fee_for_an_unknown_clone(world):
    store, clock, _, policy = world
    with pytest.raises(NotFoundError, match="clone 7 does not exist"):
        request_fee(store, clock, 7, policy, actor=ACTOR)


# -- manual verification ---------------------------------------------------------------------------


def test_a_manual_verification_pays_the_fee_once_and_grants_the_audition_tier(world):
    store, clock, _, policy = world
    fee = request_fee(store, clock, CLONE_ID, policy, actor=ACTOR)
    assert entitlements(store) == (2, 10)
    result = verify_fee(store, clock, fee["id"], manual(clock), policy, actor=ACTOR)
    assert result.settlement.paid
    assert [o.outcome for o in result.settlement.outcomes] == ["verified"]
    assert result.fee["status"] == "verified"
    assert result.fee["verified_by"] == ACTOR
    assert entitlements(store) == (3, 10)
    assert economy.balance(store, "protocol:fees") == Decimal(25)
    assert economy.balance(store, OWNER) == 0
    with pytest.raises(ConflictError, match="already verified"):
        verify_fee(store, clock, fee["id"], manual(clock, "wire-8"), policy, actor=ACTOR)
    assert economy.balance(store, "protocol:fees") == Decimal(25)
    assert economy.verify_economy(store) == []


def test_an_overpayment_is_kept_as_the_owners_credit_and_rounding_is_its_own_row(world):
    store, clock, _, policy = world
    fee = request_fee(store, clock, CLONE_ID, policy, actor=ACTOR)
    received = Decimal("30.0000007")
    result = verify_fee(
        store, clock, fee["id"], manual(clock, amount=received), policy, actor=ACTOR
    )
    assert [o.outcome for o in result.settlement.outcomes] == ["overpaid"]
    assert economy.balance(store, OWNER) == Decimal(5)
    assert economy.balance(store, "protocol:rounding") == Decimal("0.0000007")
    kinds = store.query("SELECT holder, kind, amount FROM economy_entries ORDER BY id")
    assert kinds == [
        {"holder": OWNER, "kind": "DEPOSIT", "amount": "30"},
        {"holder": "protocol:rounding", "kind": "ROUNDING", "amount": "0.0000007"},
        {"holder": OWNER, "kind": "AUDITION_FEE", "amount": "-25"},
        {"holder": "protocol:fees", "kind": "AUDITION_FEE", "amount": "25"},
    ]
    assert economy.verify_economy(store) == []


def test_an_underpayment_is_credited_but_leaves_the_fee_pending(world):
    store, clock, _, policy = world
    fee = request_fee(store, clock, CLONE_ID, policy, actor=ACTOR)
    result = verify_fee(
        store, clock, fee["id"], manual(clock, amount=Decimal(20)), policy, actor=ACTOR
    )
    assert not result.settlement.paid
    assert [o.outcome for o in result.settlement.outcomes] == ["underpaid"]
    assert "5 more is due" in result.settlement.outcomes[0].reason
    assert result.fee["status"] == "pending"
    assert economy.balance(store, OWNER) == Decimal(20)
    assert entitlements(store) == (2, 10)
    topped = verify_fee(
        store, clock, fee["id"], manual(clock, "wire-8", amount=Decimal(5)), policy, actor=ACTOR
    )
    assert topped.settlement.paid
    assert economy.balance(store, OWNER) == 0


def test_a_reference_verifies_one_payment_ever(world):
    store, clock, _, policy = world
    first = request_fee(store, clock, CLONE_ID, policy, actor=ACTOR)
    verify_fee(store, clock, first["id"], manual(clock, "wire-7"), policy, actor=ACTOR)
    from autotrader.clones.management import create_clone

    create_clone(store, clock, name="other", clone_id=43, owner=OWNER)
    second = request_fee(store, clock, 43, policy, actor=ACTOR)
    result = verify_fee(store, clock, second["id"], manual(clock, "wire-7"), policy, actor=ACTOR)
    assert not result.settlement.paid
    assert [o.outcome for o in result.settlement.outcomes] == ["reused"]
    assert "already paid towards audition_fee 1" in result.settlement.outcomes[0].reason
    assert result.fee["status"] == "pending"
    assert economy.balance(store, "protocol:fees") == Decimal(25)


def test_an_expired_fee_is_verified_only_by_an_explicit_admin_act(world):
    store, clock, _, policy = world
    fee = request_fee(store, clock, CLONE_ID, policy, actor=ACTOR)
    clock.advance(ms=25 * HOUR_MS)
    assert reconcile(store, clock, policy, verifier=None, actor=ACTOR).expired == [fee["id"]]
    assert state.stage_of(store, CLONE_ID) == Stage.SANDBOX
    with pytest.raises(ConflictError, match=r"expired .* --override-expiry"):
        verify_fee(store, clock, fee["id"], manual(clock), policy, actor=ACTOR)
    result = verify_fee(
        store, clock, fee["id"], manual(clock), policy, actor=ACTOR, override_expiry=True
    )
    assert result.settlement.paid
    assert result.fee["status"] == "verified"
    assert state.stage_of(store, CLONE_ID) == Stage.FEE_PENDING  # ready to audition


def test_a_manual_verification_needs_a_reason(world):
    _, clock, _, _ = world
    from autotrader.core.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="--reason is required"):
        manual(clock, reason="  ")


# -- the treasury's Hyperliquid transfers --------------------------------------------------------


def test_a_transfer_from_the_owner_pays_the_fee(world, treasury):
    store, clock, _, policy = world
    fee = request_fee(store, clock, CLONE_ID, policy, actor=ACTOR)
    paid_in(treasury, fee, "25.0")
    clock.advance(ms=2 * MINUTE_MS)
    result = verify_fee(store, clock, fee["id"], hyperliquid(treasury, clock), policy, actor=ACTOR)
    assert result.settlement.paid
    assert result.fee["transfer_reference"] == tx(1)
    body = treasury.requests_of("userNonFundingLedgerUpdates")[-1]
    assert body["user"] == TREASURY
    assert body["startTime"] == fee["created_at"]


def test_an_overpaying_send_is_verified_with_the_rest_as_credit(world, treasury):
    store, clock, _, policy = world
    fee = request_fee(store, clock, CLONE_ID, policy, actor=ACTOR)
    treasury.add_ledger_updates(TREASURY, [transfer_row(
        sender=ADDRESS, destination=TREASURY, amount="40.5", tx=tx(2), kind="send",
        time_ms=fee["created_at"] + 1)])  # fmt: skip
    clock.advance(ms=MINUTE_MS)
    result = verify_fee(store, clock, fee["id"], hyperliquid(treasury, clock), policy, actor=ACTOR)
    assert [o.outcome for o in result.settlement.outcomes] == ["overpaid"]
    assert economy.balance(store, OWNER) == Decimal("15.5")


def test_an_underpaying_transfer_is_recorded_and_the_fee_stays_pending(world, treasury):
    store, clock, _, policy = world
    fee = request_fee(store, clock, CLONE_ID, policy, actor=ACTOR)
    paid_in(treasury, fee, "24.999999")
    clock.advance(ms=2 * MINUTE_MS)
    result = verify_fee(store, clock, fee["id"], hyperliquid(treasury, clock), policy, actor=ACTOR)
    assert [o.outcome for o in result.settlement.outcomes] == ["underpaid"]
    assert result.fee["status"] == "pending"
    again = verify_fee(store, clock, fee["id"], hyperliquid(treasury, clock), policy, actor=ACTOR)
    assert again.settlement.outcomes == []  # the same transfer is not counted twice
    assert economy.balance(store, OWNER) == Decimal("24.999999")


def test_a_named_transfer_from_another_address_is_a_wrong_sender_and_not_credited(world, treasury):
    store, clock, _, policy = world
    fee = request_fee(store, clock, CLONE_ID, policy, actor=ACTOR)
    paid_in(treasury, fee, "25", sender=STRANGER)
    clock.advance(ms=2 * MINUTE_MS)
    result = verify_fee(
        store, clock, fee["id"], hyperliquid(treasury, clock), policy, actor=ACTOR, transfer=tx(1)
    )
    assert [o.outcome for o in result.settlement.outcomes] == ["wrong_sender"]
    assert STRANGER in result.settlement.outcomes[0].reason
    assert store.query("SELECT * FROM economy_entries") == []
    assert store.query("SELECT * FROM payment_references") == []


def test_a_transfer_after_the_window_is_late_credit_not_payment(world, treasury):
    store, clock, _, policy = world
    fee = request_fee(store, clock, CLONE_ID, policy, actor=ACTOR)
    paid_in(treasury, fee, "25", at=fee["expires_at"] + 1)
    clock.set(fee["expires_at"] + HOUR_MS)
    report = reconcile(store, clock, policy, verifier=hyperliquid(treasury, clock), actor=ACTOR)
    assert report.verified == []
    assert report.expired == [fee["id"]]
    outcomes = fee_detail(store, fee["id"])["outcomes"]
    assert [o["outcome"] for o in outcomes] == ["late"]
    assert economy.balance(store, OWNER) == Decimal(25)  # never lost: the next fee can use it


def test_a_reused_transfer_hash_is_refused_for_a_second_fee(world, treasury):
    store, clock, _, policy = world
    from autotrader.clones.management import create_clone

    create_clone(store, clock, name="twin", clone_id=43, owner=OWNER)
    fee = request_fee(store, clock, CLONE_ID, policy, actor=ACTOR)
    second = request_fee(store, clock, 43, policy, actor=ACTOR)
    paid_in(treasury, fee, "25")
    clock.advance(ms=2 * MINUTE_MS)
    verify_fee(store, clock, fee["id"], hyperliquid(treasury, clock), policy, actor=ACTOR)
    result = verify_fee(
        store, clock, second["id"], hyperliquid(treasury, clock), policy, actor=ACTOR,
        transfer=tx(1),
    )  # fmt: skip
    assert [o.outcome for o in result.settlement.outcomes] == ["reused"]
    assert result.fee["status"] == "pending"
    assert economy.balance(store, "protocol:fees") == Decimal(25)
    assert economy.balance(store, OWNER) == 0


def test_malformed_rows_are_recorded_once_never_credited(world, treasury):
    store, clock, _, policy = world
    fee = request_fee(store, clock, CLONE_ID, policy, actor=ACTOR)
    row = transfer_row(sender=ADDRESS, destination=TREASURY, amount="NaN", tx=tx(3),
                       time_ms=fee["created_at"] + 1)  # fmt: skip
    treasury.add_ledger_updates(TREASURY, [row, "not an update", {"delta": None}])
    clock.advance(ms=MINUTE_MS)
    verifier = hyperliquid(treasury, clock)
    first = verify_fee(store, clock, fee["id"], verifier, policy, actor=ACTOR)
    assert [o.outcome for o in first.settlement.outcomes] == ["malformed"]
    assert "not a positive USDC amount" in first.settlement.outcomes[0].reason
    again = verify_fee(store, clock, fee["id"], verifier, policy, actor=ACTOR)
    assert again.settlement.outcomes == []
    assert store.query("SELECT * FROM economy_entries") == []


def test_a_named_transfer_the_treasury_never_received_changes_nothing(world, treasury):
    store, clock, _, policy = world
    fee = request_fee(store, clock, CLONE_ID, policy, actor=ACTOR)
    with pytest.raises(NotFoundError, match="not among the treasury's incoming transfers"):
        verify_fee(
            store, clock, fee["id"], hyperliquid(treasury, clock), policy, actor=ACTOR,
            transfer=tx(9),
        )  # fmt: skip
    assert store.query("SELECT * FROM payment_outcomes") == []


def test_an_exchange_5xx_changes_nothing_and_does_not_expire_the_fee(world, treasury):
    store, clock, _, policy = world
    fee = request_fee(store, clock, CLONE_ID, policy, actor=ACTOR)
    paid_in(treasury, fee, "25")
    treasury.fail_next(10, 502, request_type="userNonFundingLedgerUpdates")
    verifier = hyperliquid(treasury, clock)
    with pytest.raises(TemporaryError, match="ledger_updates"):
        verify_fee(store, clock, fee["id"], verifier, policy, actor=ACTOR)
    clock.set(fee["expires_at"] + HOUR_MS)
    report = reconcile(store, clock, policy, verifier=verifier, actor=ACTOR)
    assert report.error is not None
    assert report.expired == []
    assert fee_detail(store, fee["id"])["status"] == "pending"


def test_reconcile_verifies_what_the_treasury_received_in_time_and_expires_the_rest(
    world, treasury
):
    store, clock, _, policy = world
    from autotrader.clones.management import create_clone

    create_clone(store, clock, name="late", clone_id=43, owner="bob")  # bob has no address
    paid = request_fee(store, clock, CLONE_ID, policy, actor=ACTOR)
    unpaid = request_fee(store, clock, 43, policy, actor=ACTOR)
    paid_in(treasury, paid, "25", at=paid["expires_at"] - 1)
    clock.set(paid["expires_at"] + MINUTE_MS)
    report = reconcile(store, clock, policy, verifier=hyperliquid(treasury, clock), actor=ACTOR)
    assert report.verified == [paid["id"]]
    assert report.expired == [unpaid["id"]]
    again = reconcile(store, clock, policy, verifier=hyperliquid(treasury, clock), actor=ACTOR)
    assert (again.verified, again.expired, again.outcomes) == ([], [], 0)
    assert state.stage_of(store, 43) == Stage.SANDBOX


def test_a_row_whose_mixed_case_breaks_its_checksum_is_read_not_a_crash(world, treasury):
    store, clock, _, policy = world
    fee = request_fee(store, clock, CLONE_ID, policy, actor=ACTOR)
    row = transfer_row(sender=ADDRESS, destination=TREASURY, amount="25", tx=tx(4),
                       time_ms=fee["created_at"] + 1)  # fmt: skip
    row["delta"]["destination"] = "0x" + TREASURY[2:].swapcase()  # case no checksum allows
    treasury.add_ledger_updates(TREASURY, [row])
    clock.advance(ms=MINUTE_MS)
    result = verify_fee(store, clock, fee["id"], hyperliquid(treasury, clock), policy, actor=ACTOR)
    assert result.settlement.paid
