"""Per-model runtime stats (``clones models stats``): how much each model ran, failed and cost.

Derived on every read from the audit rows, never kept as counters that could drift: model calls
and their answers from the llm package's invocations and tool calls, decision runs from this
package's runs. A model is named as the registry names it (what clones run and invocations
record).

- ``runs``, ``failed_runs``: finished decision runs of the engines that call a model (``llm``,
  ``committee``) on clones running it; a failed run is a failed workflow — the run itself broke
  (execution failed, or its worker died too often), not merely a HOLD.
- ``invocations``, ``cached``: model calls, and those answered from the response cache.
- ``failed_tool_calls``: calls whose output could not become an action — invalid or truncated
  output, a refusal, a transport failure (each ended its run in a recorded HOLD).
- ``tool_calls``: the actions model answers became (CREATE_POSITION, CLOSE_POSITION, ...).
- tokens, ``model_minutes`` (the calls' total latency) and ``cost_usd`` (exact Decimal).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from autotrader.clones.plan import MODEL_ENGINES
from autotrader.core.db import Store
from autotrader.decisions import repo
from autotrader.llm import repo as llm_repo

_MINUTE_MS = Decimal(60_000)
_HUNDREDTH = Decimal("0.01")


@dataclass(frozen=True)
class ModelStats:
    model: str
    runs: int
    failed_runs: int
    invocations: int
    cached: int
    failed_tool_calls: int
    tool_calls: int
    input_tokens: int
    output_tokens: int
    model_minutes: Decimal  # Σ call latency, in minutes (to the hundredth)
    cost_usd: Decimal


def model_stats(store: Store) -> list[ModelStats]:
    """One row per model that ran a decision or answered a call, by model name."""
    runs = repo.finished_runs_by_model(store, MODEL_ENGINES)
    usage = {row["model"]: row for row in llm_repo.usage_by_model(store)}
    tool_calls = llm_repo.tool_calls_by_model(store)
    stats = []
    for model in sorted(runs.keys() | usage.keys()):
        finished, failed = runs.get(model, (0, 0))
        calls = usage.get(model)
        stats.append(
            ModelStats(
                model=model,
                runs=finished,
                failed_runs=failed,
                invocations=calls["invocations"] if calls else 0,
                cached=calls["cached"] if calls else 0,
                failed_tool_calls=calls["failed"] if calls else 0,
                tool_calls=tool_calls.get(model, 0),
                input_tokens=calls["input_tokens"] if calls else 0,
                output_tokens=calls["output_tokens"] if calls else 0,
                model_minutes=minutes(calls["latency_ms"] if calls else 0),
                cost_usd=sum(map(Decimal, calls["costs"]), Decimal(0)) if calls else Decimal(0),
            )
        )
    return stats


def minutes(latency_ms: int) -> Decimal:
    """Milliseconds as minutes, to the hundredth."""
    return (Decimal(latency_ms) / _MINUTE_MS).quantize(_HUNDREDTH)
