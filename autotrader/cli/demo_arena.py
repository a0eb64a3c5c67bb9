"""The demo's arena: two hopefuls — the rules engine with two parameter sets — audition through
the decisions day (on lenient criteria, so the race has its entrants), are judged and admitted
as the last day starts, and race each other over it beside clone 42's audition: tickets bought
and verified by hand, the accounts traded by the decision loop, the race launched and settled
by the races job's services, and the settlement table printed at the end."""

from __future__ import annotations

import json
from decimal import Decimal

import typer

from autotrader.cli import arena as arena_cli
from autotrader.cli import lifecycle_arena, lifecycle_auditions
from autotrader.cli._context import actor, settings_for
from autotrader.cli._render import say
from autotrader.cli.demo import step
from autotrader.core.clock import MINUTE_MS, iso_utc

# clone id → (name, its creator, public name, the rules engine's parameters)
HOPEFULS = {
    7: ("trend-rider", "trend-lab", "Trend Rider",
        {"policies": ["trend_macd", "bollinger_breakout"], "granularity": "1h",
         "notional_usd": "2000", "leverage": 3, "stop_pct": 0.01, "target_pct": 0.02,
         "time_exit_hours": 6}),
    8: ("mean-reverter", "revert-lab", "Mean Reverter",
        {"policies": ["rsi_mean_reversion"], "granularity": "1h", "rsi_low": 45,
         "rsi_high": 55, "rsi_exit": 50, "notional_usd": "1500", "leverage": 2,
         "stop_pct": 0.015, "target_pct": 0.01, "time_exit_hours": 4}),
}  # fmt: skip
LENIENT = {"audition_pass_return_pct": Decimal(-100), "audition_pass_max_drawdown_pct":
           Decimal(100), "audition_pass_sharpe": None, "audition_min_trades": 0}  # fmt: skip
# (holder, the entrant it backs, USDC)
TICKETS = (("alice", 7, "25"), ("bob", 8, "40"), ("demo-owner", 7, "10"), ("bob", 7, "5.5"))
START_AFTER_MS = 30 * MINUTE_MS  # the race starts half an hour into the last day ...
DURATION_H = 22  # ... and ends before the bundled data does


def hopefuls_chapter(ctx: typer.Context, store, path) -> None:
    """Before the decisions day: the hopefuls' graphs, fees, profiles and auditions."""
    from autotrader.clones.management import create_clone
    from autotrader.clones.pipelines import read_pipeline_file, save
    from autotrader.demo import example_pipeline
    from autotrader.lifecycle import moderation
    from autotrader.lifecycle.auditions import RetryPolicy, submit
    from autotrader.lifecycle.fees import FeePolicy, request_fee, verify_fee
    from autotrader.lifecycle.models import AuditionRules
    from autotrader.lifecycle.profiles import set_profile
    from autotrader.lifecycle.verifiers import ManualVerifier

    step("arena hopefuls: the rules engine with two parameter sets, auditioning through the day")
    settings = settings_for(ctx).model_copy(update={"audition_duration_hours": 24.0, **LENIENT})
    clock, who = settings.clock(), actor()
    graph = read_pipeline_file(example_pipeline())
    for clone_id, (name, creator, public, params) in HOPEFULS.items():
        create_clone(store, clock, name=name, clone_id=clone_id, owner=creator)
        prompt = next(n for n in graph["nodes"] if n["type"] == "trading_prompt")
        save(store, clock, clone_id, {**graph, "nodes": [
            {**n, "engineParams": params} if n is prompt else n for n in graph["nodes"]
        ]})  # fmt: skip
        policy = FeePolicy.from_settings(settings)
        fee = request_fee(store, clock, clone_id, policy, actor=who)
        verify_fee(store, clock, fee["id"], ManualVerifier(clock, reference=f"demo-wire-{name}",
                   reason="demo: paid by wire"), policy, actor=who)  # fmt: skip
        version = set_profile(store, clock, clone_id, name=public, bio=f"{creator}'s rules.",
                              avatar_url=None, denied=(), actor=who)  # fmt: skip
        moderation.approve(store, clock, version["id"], reason="reads fine", actor=who)
        audition = submit(store, clock, clone_id, AuditionRules.from_settings(settings),
                          RetryPolicy.from_settings(settings), actor=who)  # fmt: skip
        say(
            f"clone {clone_id} {public!r} ({creator}): {json.dumps(params['policies'])},"
            f" {params['leverage']}x; fee paid, profile approved, audition {audition['id']}"
            f" until {iso_utc(audition['ends_at'])} (lenient criteria: the demo needs two"
            " entrants)"
        )


class RaceDay:
    """The race beside clone 42's audition: ``open`` as the last day starts, ``hour`` after each
    replayed hour of it (the lifecycle chapter's replay calls both)."""

    def __init__(self, ctx: typer.Context, store, path) -> None:
        self.ctx, self.store, self.path = ctx, store, path

    def open(self) -> None:
        from autotrader.arena.models import ArenaPolicy
        from autotrader.arena.tickets import buy
        from autotrader.clones.owners import ensure_owner
        from autotrader.core.money import to_decimal

        step("the arena's first race: the hopefuls judged and admitted, tickets on sale")
        lifecycle_auditions.run_once(self.ctx, audition=None, db=self.path)
        lifecycle_arena.entry_run_once(self.ctx, db=self.path)
        settings = settings_for(self.ctx)
        clock = settings.clock()
        arena_cli.races_create(self.ctx, start=iso_utc(clock.now_ms() + START_AFTER_MS),
                               duration=f"{DURATION_H}h", entrants=None,
                               clones=",".join(map(str, HOPEFULS)), rules="standard",
                               db=self.path, as_json=False)  # fmt: skip
        policy = ArenaPolicy.from_settings(settings)
        for holder in ("alice", "bob"):
            ensure_owner(self.store, clock, holder)
        for holder, clone_id, amount in TICKETS:
            ticket = buy(self.store, clock, race_id=1, clone_id=clone_id, owner=holder,
                         amount=to_decimal(amount), policy=policy)  # fmt: skip
            say(f"{holder} buys ticket {ticket['id']}: {amount} USDC on clone {clone_id}"
                f" (pending, reference {ticket['reference']})")  # fmt: skip
            arena_cli.tickets_verify(self.ctx, ticket_id=ticket["id"], verifier="manual",
                                     reference=f"demo-ticket-{ticket['id']}",
                                     reason="demo: paid by wire", amount=None, tx=None,
                                     db=self.path, as_json=False)  # fmt: skip

    def hour(self, runner, mtm, clock) -> None:
        """The race's hour: the decision loop trades its accounts, mark-to-market marks them,
        the races job launches the race at its start and settles it after its end."""
        from autotrader.arena.models import ArenaPolicy
        from autotrader.arena.races import launch_due
        from autotrader.arena.settlement import RaceSettler
        from autotrader.prop import repo as prop_repo

        for clone_id in HOPEFULS:
            runner.tick(clone_id=clone_id, only_scheduled=True)
        when = iso_utc(clock.now_ms())
        for race_id in launch_due(self.store, clock, actor="demo").launched:
            say(f"{when}  race {race_id} launched: a fresh race account per entrant")
        racing = prop_repo.list_accounts(self.store, kind="race", status="active")
        if racing:
            report = mtm.run([a["id"] for a in racing])
            if report.exits:
                say(f"{when}  race mark-to-market: {report.summary()}")
        policy = ArenaPolicy.from_settings(settings_for(self.ctx))
        settler = RaceSettler(self.store, clock, mtm.precision, policy, worker_id="demo",
                              stale_after_ms=60_000)  # fmt: skip
        for settled in settler.settle_due().settled:
            placed = ", ".join(f"{n}. clone {c}" for n, c in enumerate(settled.finish, start=1))
            say(f"{when}  race {settled.race_id} settled: {placed}")


def result_chapter(ctx: typer.Context, path, *, quiet: bool) -> None:
    """After the day: the race's settlement table, the payouts, the balances, and the audit."""
    from autotrader.cli import ledger as ledger_cli

    step("the race's result: finish, settlement table, payouts, balances; verify rechecks it")
    arena_cli.races_show(ctx, race_id=1, db=path, as_json=False)
    if not quiet:
        arena_cli.payouts_list(ctx, owner=None, race=1, kind="payout,royalty", db=path,
                               as_json=False)  # fmt: skip
    arena_cli.balances(ctx, db=path, as_json=False)
    ledger_cli.verify(ctx, account=None, db=path, as_json=False)
