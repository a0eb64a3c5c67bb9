"""The demo's lifecycle chapter, after the decisions day: clone 42 pays its audition fee (verified
by hand), gets a public profile approved, auditions over the last bundled day on a bounded
account, is judged with every criterion printed and — when it passes — enters the arena."""

from __future__ import annotations

import typer

from autotrader.cli import lifecycle, lifecycle_arena, lifecycle_auditions, lifecycle_fees
from autotrader.cli import prop as prop_cli
from autotrader.cli._context import settings_for, state
from autotrader.cli._render import say
from autotrader.cli.demo import CLONE_ID, move_clock, step
from autotrader.core.clock import HOUR_MS

AUDITION_HOURS = 24  # the last bundled day


def lifecycle_chapter(
    ctx: typer.Context, store, path, *, sandbox: int, quiet: bool, alongside=None
) -> None:
    """``alongside`` (the arena's race day) opens once the audition has started and runs each
    replayed hour after the audition's own tick."""
    st = state(ctx)
    st.settings = st.settings.model_copy(update={"audition_duration_hours": float(AUDITION_HOURS)})

    step(f"lifecycle: clone {CLONE_ID}'s audition fee, verified by hand, and its public profile")
    prop_cli.finalize(ctx, account=sandbox, reason="the sandbox day is over", db=path)
    lifecycle.rules_show(ctx, db=path, as_json=False)
    lifecycle_fees.request(ctx, clone_id=CLONE_ID, db=path, as_json=False)
    fee = _latest_fee(store)
    lifecycle_fees.verify(ctx, fee_id=fee, verifier="manual", reference="demo-wire-0042",
                          reason="demo: paid by wire, checked by hand", amount=None, tx=None,
                          override_expiry=False, db=path, as_json=False)  # fmt: skip
    bio = "MACD trend, RSI reversion and Bollinger breakouts on BTC and ETH."
    lifecycle_arena.profiles_set(ctx, clone_id=CLONE_ID, name="Demo Momentum", bio=bio,
                                 avatar_url=None, db=path, as_json=False)  # fmt: skip
    lifecycle_arena.moderation_approve(ctx, version_id=_pending_version(store),
                                       reason="reads fine", db=path)  # fmt: skip

    step(f"the audition: a bounded account, traded by the rules engine over {AUDITION_HOURS} h")
    lifecycle_auditions.submit(ctx, clone_id=CLONE_ID, fee=fee, db=path, as_json=False)
    if alongside is not None:
        alongside.open()
    _replay_audition(ctx, store, path, alongside)
    lifecycle_auditions.run_once(ctx, audition=None, db=path)

    step(f"the promotion queue and the arena; clone {CLONE_ID}'s timeline")
    _after_the_verdict(store)
    lifecycle_arena.entry_run_once(ctx, db=path)
    lifecycle_arena.arena_list(ctx, status=None, db=path, as_json=False)
    lifecycle.status(ctx, clone_id=CLONE_ID, db=path, as_json=False)
    if not quiet:
        lifecycle_fees.economy_show(ctx, holder=None, limit=10, db=path, as_json=False)


def _after_the_verdict(store) -> None:
    from autotrader.lifecycle.auditions import list_auditions

    verdict = list_auditions(store, clone_id=CLONE_ID)[-1]["status"]
    if verdict == "passed":
        say(f"clone {CLONE_ID} passed: it waits in the promotion queue for a free arena slot")
    else:
        say(f"clone {CLONE_ID} failed: after the cooldown it may pay a new fee and"
            " `lifecycle auditions retry` (every attempt stays in its history)")  # fmt: skip


def _latest_fee(store) -> int:
    from autotrader.lifecycle.fees import list_fees

    return list_fees(store, clone_id=CLONE_ID)[-1]["id"]


def _pending_version(store) -> int:
    from autotrader.lifecycle.moderation import queue

    return next(v["id"] for v in queue(store) if v["clone_id"] == CLONE_ID)


def _replay_audition(ctx: typer.Context, store, path, alongside) -> None:
    from autotrader.bootstrap import decision_runner, precision
    from autotrader.core.clock import SimulatedClock, iso_utc
    from autotrader.lifecycle.auditions import list_auditions
    from autotrader.prop.mtm import MarkToMarket

    (audition,) = list_auditions(store, clone_id=CLONE_ID, status="running")
    clock = SimulatedClock(audition["started_at"])
    runner = decision_runner(settings_for(ctx, path), store, clock, worker_id="demo")
    mtm = MarkToMarket(store, clock, precision(store, clock))
    for _ in range(AUDITION_HOURS):
        clock.advance(ms=HOUR_MS)
        outcome = runner.tick(clone_id=CLONE_ID, only_scheduled=True)
        report = mtm.run([audition["account_id"]])
        when = iso_utc(clock.now_ms())
        for run in outcome.runs:
            for action in run.actions:
                fill = action.get("fill")
                if fill:
                    say(f"{when}  audition {run.symbol} {action['action']}: {fill['side']} "
                        f"{fill['qty']} @ {fill['price']}")  # fmt: skip
        if report.exits:
            say(f"{when}  mark-to-market: {report.summary()}")
        if alongside is not None:
            alongside.hour(runner, mtm, clock)
    move_clock(ctx, clock.now_ms())
    say(f"the audition window closed at {iso_utc(clock.now_ms())}")
