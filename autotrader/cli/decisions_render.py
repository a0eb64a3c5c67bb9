"""Rendering the story of one decision run (``decisions show``) for the terminal."""

from __future__ import annotations

import json

from autotrader.cli._render import out, say, table
from autotrader.core.clock import iso_utc


def render_story(story: dict) -> None:
    run = story["run"]
    say(
        f"[bold]run {run['id']}[/bold]: clone {run['clone_id']} account {run['account_id']} "
        f"{run['symbol']} strategy {run['strategy_id']} engine {run['engine']} ({run['model']})"
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
        if inv["raw_text"]:
            out.print(f"  model output: {inv['raw_text'][:600]}", markup=False)
    for action in story["actions"]:
        say(
            f"\n[bold]action {action['seq']}[/bold]: {json.dumps(action['intent'], sort_keys=True)}"
        )
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
