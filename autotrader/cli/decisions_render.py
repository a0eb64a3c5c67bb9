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
