"""Rendering the story of one decision run (``decisions show``) for the terminal."""

from __future__ import annotations

import json

from autotrader.cli._render import out, say, styled, table
from autotrader.core.clock import iso_utc


def render_story(story: dict) -> None:
    run = story["run"]
    say(
        styled(f"run {run['id']}", "bold"),
        f": clone {run['clone_id']} account {run['account_id']} "
        f"{run['symbol']} strategy {run['strategy_id']} engine {run['engine']} ({run['model']})",
    )
    say(
        f"status {run['status']}, due {iso_utc(run['due_at'])}, attempts {run['attempts']}, "
        f"trace {run['trace_id']}"
        + (f", error: {run['error']}" if run["error"] else "")
        + (f", skipped: {run['skip_reason']}" if run["skip_reason"] else "")
    )
    for key in ("prompt_hash", "context_artifact", "prompt_artifact", "response_artifact"):
        if run.get(key):
            say(f"{key}: {run[key]}")
    _render_context(story.get("context"))
    if run.get("plan"):
        say(f"plan: {json.dumps(run['plan'], sort_keys=True)}")
    if run.get("verdict"):
        say(f"verdict: {json.dumps(run['verdict'], sort_keys=True)}")
    if run.get("notes"):
        say(f"notes: {run['notes']}")
    for inv in story["invocations"]:
        say(
            f"invocation {inv['id']} {inv['role']} {inv['model']} ({inv['api']}): {inv['status']}"
            f"{' cached' if inv['cached'] else ''}, {inv['input_tokens']}→{inv['output_tokens']} "
            f"tokens, {inv['latency_ms']} ms, ${inv['cost_usd']}"
            + (f", {inv['error']}" if inv["error"] else "")
        )
        for message in inv.get("messages") or []:
            text = " ".join(message["content"].split())
            out.print(f"  {inv['role']} prompt ({message['role']}): {text[:600]}", markup=False)
        if inv["raw_text"]:
            say(f"  model output: {inv['raw_text'][:600]}")
    for action in story["actions"]:
        intent = json.dumps(action["intent"], sort_keys=True)
        say("\n", styled(f"action {action['seq']}", "bold"), f": {intent}")
        rows = [
            (g["gate"], "pass" if g["passed"] else "FAIL", g["code"], g["reason"])
            for g in action["gate_results"]
        ]
        if rows:
            out.print(table(None, ["gate", "result", "code", "reason"], rows))
        fill = action["fill"]
        outcome = action["status"] + (
            f" ({action['reject_code']})" if action["reject_code"] else ""
        )
        say(
            f"→ {outcome}"
            + (
                f": {fill['side']} {fill['qty']} {fill['symbol']} @ {fill['price']}, "
                f"fee {fill['fee']}"
                if fill
                else ""
            )
        )


def render_memory(views: list) -> None:
    """Per clone: the posteriors table (the Planner's view), then its latest experiments."""
    if not views:
        say("no experiments yet: a policy's outcomes are remembered once an intent names it")
        return
    for view in views:
        rows = [
            (
                p.policy_id,
                p.trades,
                p.wins,
                f"{p.mean_return:+.4%}",
                f"Beta({p.alpha:g}, {p.beta:g})",
                f"{p.alpha / (p.alpha + p.beta):.2f}",
            )
            for p in view.posteriors
        ]
        columns = ["policy", "closed trades", "wins", "mean return", "posterior", "mean win rate"]
        out.print(table(f"Clone {view.clone_id}: policy posteriors", columns, rows))
        rows = [
            (
                e["id"],
                e["run_id"],
                e["policy_id"],
                e["symbol"],
                e["action"],
                e["outcome"],
                e["position_id"] or "",
                e["detail"] or "",
                iso_utc(e["created_at"]),
            )
            for e in view.experiments
        ]
        columns = ["id", "run", "policy", "asset", "action", "outcome", "position", "code", "at"]
        out.print(table(f"Clone {view.clone_id}: latest experiments", columns, rows))


_BAR_COLUMNS = (
    "open_time", "close", "rsi14", "ema20", "sma20", "macd_hist", "bb_lower", "bb_upper",
)  # fmt: skip


def _render_context(context: dict | None) -> None:
    """The market a market-only run saw (its bars, rebuilt from market memory); a context
    packet is named by its artifact keys above and shown whole by ``--json``."""
    if not context:
        return
    if "problem" in context and "market" not in context:
        say(f"context: [red]{context['problem']}[/red]")
        return
    market = context.get("market")
    if market is None:
        return
    how = "verified" if context.get("verified") else f"[red]{context.get('problem')}[/red]"
    say(
        f"context: {market['symbol']} {market['granularity']} at price {market['price']} "
        f"({iso_utc(market['price_time']) if market['price_time'] else 'no price'}), "
        f"bars from market memory, {how}"
    )
    rows = [
        [iso_utc(bar["open_time"])] + [_number(bar.get(name)) for name in _BAR_COLUMNS[1:]]
        for bar in market["bars"]
    ]
    if rows:
        out.print(table(None, list(_BAR_COLUMNS), rows))


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.6g}"
