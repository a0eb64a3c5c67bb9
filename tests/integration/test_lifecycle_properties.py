"""Random sequences of lifecycle commands over two clones never reach an illegal state: every
stage agrees with the rows behind it, no fee is paid (nor grants) twice, the arena never holds
more clones than slots, real money always adds up, and a refused command changes nothing."""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from autotrader.core.clock import HOUR_MS
from autotrader.core.errors import UserError
from autotrader.lifecycle import economy, moderation, promotion, state
from autotrader.lifecycle.auditions import RetryPolicy, submit
from autotrader.lifecycle.fees import FeePolicy, list_fees, reconcile, request_fee, verify_fee
from autotrader.lifecycle.models import AuditionRules
from autotrader.lifecycle.profiles import set_profile
from autotrader.lifecycle.verifiers import ManualVerifier
from autotrader.lifecycle.vocabulary import Stage
from tests.conftest import examples
from tests.fakes.lifecycle import ACTOR, evaluator, lifecycle_settings, lifecycle_store

CLONES = (42, 43)
SLOTS = 1
TABLES = ("audition_fees", "payment_references", "economy_entries", "auditions",
          "lifecycle_events", "profile_versions", "public_profiles", "promotion_queue",
          "arena_slots", "prop_accounts")  # fmt: skip

clone = st.sampled_from(CLONES)
# The path to the arena is listed twice, so sequences walk it far enough to be interesting.
path_step = st.one_of(
    st.tuples(st.just("request"), clone),
    st.tuples(
        st.just("verify"),
        clone,
        st.integers(1, 15).map(lambda n: f"wire-{n}"),
        st.sampled_from(["25", "40", "10"]),
    ),
    st.tuples(st.just("submit"), clone, st.booleans()),
    st.tuples(st.just("wait"), st.sampled_from([12, 30])),
    st.tuples(st.just("evaluate")),
)
command = st.one_of(
    path_step,
    path_step,
    st.tuples(st.just("request"), clone),
    st.tuples(
        st.just("verify"),
        st.integers(1, 8),
        st.sampled_from(["w1", "w2", "w3"]),
        st.sampled_from(["10", "25", "40"]),
    ),
    st.tuples(st.just("submit"), clone, st.booleans()),
    st.tuples(st.just("wait"), st.sampled_from([1, 12, 30])),
    st.tuples(st.just("evaluate")),
    st.tuples(st.just("reconcile")),
    st.tuples(st.just("profile"), clone, st.sampled_from(["Alpha", "ALPHA", "Beta", "Gamma"])),
    st.tuples(st.just("approve"), clone),
    st.tuples(st.just("admit")),
    st.tuples(st.just("remove"), clone),
    st.tuples(st.just("retire"), clone),
)


class World:
    def __init__(self, folder: Path) -> None:
        self.store, self.clock = lifecycle_store(folder / "p.db", clones=CLONES)
        self.settings = lifecycle_settings(audition_cooldown_hours=6.0, arena_slots=SLOTS)
        self.policy = FeePolicy.from_settings(self.settings)
        self.rules = AuditionRules.from_settings(self.settings)
        self.retry = RetryPolicy.from_settings(self.settings)
        self.evaluator = evaluator(self.store, self.clock, self.settings)

    def run(self, cmd: tuple) -> None:
        s, c = self.store, self.clock
        name, *args = cmd
        if name == "request":
            request_fee(s, c, args[0], self.policy, actor=ACTOR)
        elif name == "verify":
            clone_id, reference, amount = args
            pending = list_fees(s, clone_id=clone_id, status="pending")
            if pending:
                verifier = ManualVerifier(
                    c, reference=reference, reason="r", amount=Decimal(amount)
                )
                verify_fee(s, c, pending[-1]["id"], verifier, self.policy, actor=ACTOR)
        elif name == "submit":
            submit(s, c, args[0], self.rules, self.retry, actor=ACTOR, retry=args[1])
        elif name == "wait":
            c.advance(ms=args[0] * HOUR_MS)
        elif name == "evaluate":
            self.evaluator.evaluate_due()
        elif name == "reconcile":
            reconcile(s, c, self.policy, verifier=None, actor=ACTOR)
        elif name == "profile":
            set_profile(s, c, args[0], name=args[1], bio="", avatar_url=None, denied=(),
                        actor=ACTOR)  # fmt: skip
        elif name == "approve":
            waiting = [v for v in moderation.queue(s) if v["clone_id"] == args[0]]
            if waiting:
                moderation.approve(s, c, waiting[0]["id"], reason="ok", actor=ACTOR)
        elif name == "admit":
            promotion.admit_from_queue(s, c, slots=SLOTS, actor=ACTOR, entitlements=lambda _: None)
        elif name == "remove":
            promotion.remove(s, c, args[0], reason="r", actor=ACTOR)
        else:
            promotion.retire(s, c, args[0], reason="r", actor=ACTOR)

    def counts(self) -> dict[str, int]:
        return {t: self.store.scalar(f"SELECT COUNT(*) FROM {t}") for t in TABLES}


def check_invariants(world: World) -> None:
    q = world.store.query
    for clone_id in CLONES:
        stage = state.stage_of(world.store, clone_id)
        running = q(
            "SELECT id FROM auditions WHERE clone_id = ? AND status = 'running'", (clone_id,)
        )
        assert (stage == Stage.AUDITIONING) == (len(running) == 1), (clone_id, stage)
        waiting = q("SELECT id FROM promotion_queue WHERE clone_id = ? AND status = 'waiting'",
                    (clone_id,))  # fmt: skip
        assert (stage == Stage.QUEUED) == bool(waiting), (clone_id, stage)
        active = q("SELECT id FROM arena_slots WHERE clone_id = ? AND status = 'active'",
                   (clone_id,))  # fmt: skip
        assert (stage == Stage.ARENA) == bool(active), (clone_id, stage)
        pending = q("SELECT id FROM audition_fees WHERE clone_id = ? AND status = 'pending'",
                    (clone_id,))  # fmt: skip
        if pending:
            assert stage == Stage.FEE_PENDING
        events = state.timeline(world.store, clone_id)
        current = "sandbox"
        for event in events:
            assert event["from_stage"] == current, event
            current = event["to_stage"]
        assert current == stage
    paid = q("SELECT txn, COUNT(*) AS legs FROM economy_entries WHERE kind = 'AUDITION_FEE'"
             " GROUP BY txn")  # fmt: skip
    verified = q("SELECT id FROM audition_fees WHERE status = 'verified'")
    assert sorted(r["txn"] for r in paid) == sorted(f"audition_fee:{r['id']}" for r in verified)
    assert all(r["legs"] == 2 for r in paid)
    fee_uses = q("SELECT fee_id, COUNT(*) AS n FROM auditions GROUP BY fee_id HAVING n > 1")
    assert fee_uses == []
    assert world.store.scalar("SELECT COUNT(*) FROM arena_slots WHERE status = 'active'") <= SLOTS
    assert economy.verify_economy(world.store) == []


@settings(max_examples=examples(40))
@given(st.lists(command, min_size=1, max_size=40))
def test_random_lifecycle_commands_never_reach_an_illegal_state(commands):
    with tempfile.TemporaryDirectory() as folder:
        world = World(Path(folder))
        try:
            for cmd in commands:
                before = world.counts()
                try:
                    world.run(cmd)
                except UserError:
                    assert world.counts() == before, f"{cmd} was refused but changed the store"
                check_invariants(world)
        finally:
            world.store.close()
