"""Auditions: a verified fee buys one bounded prop account, judged at the window's end on the
ledger's own metrics; passes enter the promotion queue, the arena admits from it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from autotrader.core.clock import HOUR_MS
from autotrader.core.errors import ConflictError, InvalidInputError
from autotrader.lifecycle import moderation, promotion, state
from autotrader.lifecycle.auditions import RetryPolicy, list_auditions, require_due, submit
from autotrader.lifecycle.fees import FeePolicy, request_fee
from autotrader.lifecycle.models import AuditionRules
from autotrader.lifecycle.profiles import denylist, set_profile
from autotrader.lifecycle.vocabulary import Stage
from autotrader.prop import repo as prop_repo
from tests.fakes.lifecycle import (
    ACTOR,
    CLONE_ID,
    end_window,
    evaluator,
    lifecycle_settings,
    lifecycle_store,
    paid_fee,
    start_audition,
)


@pytest.fixture
def world(tmp_path):
    store, clock = lifecycle_store(tmp_path / "auditions.db", clones=(42, 43, 44))
    yield store, clock, lifecycle_settings()
    store.close()


def submit_again(store, clock, settings, clone_id=CLONE_ID, **kwargs):
    return submit(
        store,
        clock,
        clone_id,
        AuditionRules.from_settings(settings),
        RetryPolicy.from_settings(settings),
        actor=ACTOR,
        **kwargs,
    )


def approve_profile(store, clock, clone_id: int, name: str) -> None:
    version = set_profile(store, clock, clone_id, name=name, bio="", avatar_url=None,
                          denied=denylist(), actor=ACTOR)  # fmt: skip
    moderation.approve(store, clock, version["id"], reason="fine", actor=ACTOR)


def test_submitting_opens_a_bounded_audition_account_with_the_rules_of_the_day(world):
    store, clock, settings = world
    audition = start_audition(store, clock, settings)
    account = prop_repo.get_account(store, audition["account_id"])
    assert (account["kind"], account["clone_id"], account["status"]) == ("audition", 42, "active")
    assert account["starting_balance"] == Decimal(10_000)
    assert account["rules"].max_leverage == 5
    assert account["rules"].allowed_symbols == ("BTC", "ETH")
    assert audition["ends_at"] == clock.now_ms() + 24 * HOUR_MS
    assert state.stage_of(store, CLONE_ID) == Stage.AUDITIONING


def test_refuses_a_double_submit_naming_the_stage_and_changes_nothing(world):
    store, clock, settings = world
    start_audition(store, clock, settings)
    with pytest.raises(ConflictError, match="clone 42 is auditioning: it cannot start"):
        submit_again(store, clock, settings)
    assert len(store.query("SELECT id FROM auditions")) == 1
    assert len(prop_repo.list_accounts(store, clone_id=CLONE_ID)) == 1


def test_refuses_a_fee_of_another_clone(world):
    store, clock, settings = world
    theirs = paid_fee(store, clock, settings, 43)
    request_fee(store, clock, CLONE_ID, FeePolicy.from_settings(settings), actor=ACTOR)
    with pytest.raises(ConflictError, match=f"fee {theirs['id']} belongs to clone 43, not 42"):
        submit_again(store, clock, settings, fee_id=theirs["id"])


def test_refuses_to_submit_on_a_fee_that_is_not_verified(world):
    store, clock, settings = world
    fee = request_fee(store, clock, CLONE_ID, FeePolicy.from_settings(settings), actor=ACTOR)
    with pytest.raises(ConflictError, match="is pending, not verified"):
        submit_again(store, clock, settings, fee_id=fee["id"])
    with pytest.raises(ConflictError, match="no verified, unused audition fee"):
        submit_again(store, clock, settings)


def test_refuses_to_evaluate_an_audition_early(world):
    store, clock, settings = world
    audition = start_audition(store, clock, settings)
    with pytest.raises(ConflictError, match="cannot be evaluated early"):
        require_due(store, audition["id"], clock.now_ms())
    assert evaluator(store, clock, settings).evaluate_due().decisions == []


def test_a_passing_audition_is_finalized_judged_and_queued(world):
    store, clock, settings = world
    audition = start_audition(store, clock, settings)
    end_window(clock, settings)
    report = evaluator(store, clock, settings).evaluate_due()
    (decision,) = report.decisions
    assert decision.passed
    assert {c.name: c.passed for c in decision.criteria} == {
        "return_pct": True,
        "max_drawdown_pct": True,
        "trades": True,
    }
    account = prop_repo.get_account(store, audition["account_id"])
    assert account["status"] == "finalized"
    assert state.stage_of(store, CLONE_ID) == Stage.QUEUED
    assert [e["clone_id"] for e in promotion.queue(store)] == [CLONE_ID]
    events = [e["event"] for e in state.timeline(store, CLONE_ID)]
    assert events[-3:] == ["audition_started", "audition_passed", "queued"]
    assert evaluator(store, clock, settings).evaluate_due().decisions == []  # idempotent


def test_a_drawdown_freeze_fails_an_audition_early(world):
    store, clock, settings = world
    audition = start_audition(store, clock, settings)
    prop_repo.set_account_status(
        store, audition["account_id"], "frozen", reason="max drawdown breached", now_ms=1
    )
    (decision,) = evaluator(store, clock, settings).evaluate_due().decisions
    assert not decision.passed
    assert "stopped early (frozen: max drawdown breached)" in decision.reason
    assert state.stage_of(store, CLONE_ID) == Stage.FAILED


def test_a_retry_needs_a_new_fee_the_cooldown_and_an_attempt_left(world):
    store, clock, settings = world
    settings = settings.model_copy(update={"audition_max_attempts": 2})
    start_audition(store, clock, settings)
    (first,) = [a["account_id"] for a in list_auditions(store)]
    prop_repo.set_account_status(store, first, "frozen", reason="drawdown", now_ms=1)
    evaluator(store, clock, settings).evaluate_due()
    assert state.stage_of(store, CLONE_ID) == Stage.FAILED
    with pytest.raises(ConflictError, match="clone 42 is failed: it cannot start"):
        submit_again(store, clock, settings, retry=True)
    paid_fee(store, clock, settings, reference="wire-retry")
    with pytest.raises(ConflictError, match="may retry from"):
        submit_again(store, clock, settings, retry=True)
    with pytest.raises(ConflictError, match="use `lifecycle auditions retry`"):
        submit_again(store, clock, settings)
    clock.advance(ms=24 * HOUR_MS)
    second = submit_again(store, clock, settings, retry=True)
    assert second["attempt"] == 2
    store.execute(
        "UPDATE prop_accounts SET status = 'frozen' WHERE id = ?", (second["account_id"],)
    )
    evaluator(store, clock, settings).evaluate_due()
    with pytest.raises(ConflictError, match="taken all 2 audition attempts"):
        request_fee(store, clock, CLONE_ID, FeePolicy.from_settings(settings), actor=ACTOR)
    history = [(a["attempt"], a["status"]) for a in list_auditions(store, clone_id=CLONE_ID)]
    assert history == [(1, "failed"), (2, "failed")]


def test_arena_entry_needs_an_approved_profile_and_the_clone_keeps_its_place(world):
    store, clock, settings = world
    for clone_id in (42, 43):
        start_audition(store, clock, settings, clone_id)
    end_window(clock, settings)
    evaluator(store, clock, settings).evaluate_due()
    always_entitled = lambda clone_id: None  # noqa: E731 - the clones' rule has its own tests
    approve_profile(store, clock, 43, "Second")
    first = promotion.admit_from_queue(store, clock, slots=1, actor=ACTOR,
                                       entitlements=always_entitled)  # fmt: skip
    assert first.admitted == [43]
    assert first.deferred == {42: "no approved public profile"}
    assert [e["clone_id"] for e in promotion.queue(store)] == [42]
    approve_profile(store, clock, 42, "First")
    full = promotion.admit_from_queue(store, clock, slots=1, actor=ACTOR,
                                      entitlements=always_entitled)  # fmt: skip
    assert full.admitted == []  # the one slot is taken
    promotion.retire(store, clock, 43, reason="season over", actor=ACTOR)
    freed = promotion.admit_from_queue(store, clock, slots=1, actor=ACTOR,
                                       entitlements=always_entitled)  # fmt: skip
    assert freed.admitted == [42]
    assert state.stage_of(store, 43) == Stage.RETIRED
    assert [s["status"] for s in promotion.arena(store)] == ["retired", "active"]


def test_a_deferral_is_recorded_once_per_reason(world):
    store, clock, settings = world
    start_audition(store, clock, settings)
    end_window(clock, settings)
    evaluator(store, clock, settings).evaluate_due()
    for _ in range(3):
        promotion.admit_from_queue(store, clock, slots=1, actor=ACTOR, entitlements=lambda c: None)
    events = [e["event"] for e in state.timeline(store, CLONE_ID)]
    assert events.count("admission_deferred") == 1


def test_entitlements_that_no_longer_hold_keep_a_clone_out(world):
    store, clock, settings = world
    start_audition(store, clock, settings)
    end_window(clock, settings)
    evaluator(store, clock, settings).evaluate_due()
    approve_profile(store, clock, CLONE_ID, "Momentum")
    report = promotion.admit_from_queue(
        store, clock, slots=1, actor=ACTOR, entitlements=promotion.entitlement_check(store)
    )
    assert report.admitted == []
    assert report.deferred[CLONE_ID].startswith("clone 42 has no pipeline yet")


def test_remove_and_retire_are_admin_acts_with_a_reason_refused_from_the_wrong_stage(world):
    store, clock, settings = world
    with pytest.raises(ConflictError, match="clone 42 is sandbox: it cannot retire"):
        promotion.retire(store, clock, CLONE_ID, reason="x", actor=ACTOR)
    start_audition(store, clock, settings)
    end_window(clock, settings)
    evaluator(store, clock, settings).evaluate_due()
    with pytest.raises(InvalidInputError, match="--reason is required"):
        promotion.remove(store, clock, CLONE_ID, reason=" ", actor=ACTOR)
    assert promotion.remove(store, clock, CLONE_ID, reason="broke the rules", actor=ACTOR) == (
        Stage.REMOVED
    )
    assert promotion.queue(store) == []
