"""The seed's company as data: six agents, their fifteen relationships, twelve trigger rules, the
six patterns of the reaction matrix and the six roundtable formats. ``desk init`` writes what is
missing and never overwrites an edit. Thresholds in trigger conditions are fractions (``-0.30``
= -30 %)."""

from __future__ import annotations

from dataclasses import dataclass, field

from autotrader.desk.vocabulary import AgentId, RoundtableFormat, StepKind, TriggerKind, Weekday


@dataclass(frozen=True)
class AgentProfile:
    id: AgentId
    name: str
    role: str
    personality: str
    tone: str
    quirk: str
    voice: str
    directive: str


AGENTS: tuple[AgentProfile, ...] = (
    AgentProfile(
        AgentId.ATLAS,
        "ATLAS",
        "Strategy / Coordinator: overall strategy, final decisions, portfolio management",
        "Direct, data-driven, decisive",
        "What's the edge here?",
        "Always asks about risk-reward ratio",
        "Results-oriented, cuts through noise",
        "You are the portfolio manager. Make final calls on entries/exits. Balance aggression "
        "with protection. You care about edge, not excitement.",
    ),
    AgentProfile(
        AgentId.SAGE,
        "SAGE",
        "Risk Manager / Analyst: risk analysis, position sizing, exposure monitoring",
        "Cautious, analytical, protective",
        "What's the max drawdown scenario?",
        "Cites probability and exposure metrics constantly",
        "Measured, skeptical, demands evidence",
        "You are the risk manager. Your job is to protect capital. Push back on risky plays. "
        "Demand stop-losses. You're the voice of caution.",
    ),
    AgentProfile(
        AgentId.SCOUT,
        "SCOUT",
        "Execution / Market Monitor: executes trades, monitors fills, tracks positions",
        "Precise, detail-oriented, responsive",
        "Fill confirmed at $X, watching for slippage",
        "Reports exact prices and timestamps",
        "Technical, accurate, no speculation",
        "You are the executor. Report facts: fills, prices, slippage, position updates. No "
        "opinions, just data.",
    ),
    AgentProfile(
        AgentId.GROWTH,
        "GROWTH",
        "Performance Analyst: analyzes wins/losses, finds patterns, optimizes strategy",
        "Curious, pattern-seeking, optimization-focused",
        "Here's what the data shows...",
        "Always looking for edges in past performance",
        "Analytical but action-oriented",
        "You analyze outcomes. What worked? What didn't? Find the patterns. Turn data into "
        "actionable insights.",
    ),
    AgentProfile(
        AgentId.INTEL,
        "INTEL",
        "Research / Signal Scanner: scans markets, identifies opportunities",
        "Alert, proactive, information-hungry",
        "Seeing accumulation in [TOKEN], 3 whales buying",
        "Surfaces opportunities before others notice",
        "Fast-paced, factual, opportunity-focused",
        "You are the scout. Find opportunities. Monitor signals. Watch for edge. Report what "
        "matters, filter noise.",
    ),
    AgentProfile(
        AgentId.OBSERVER,
        "OBSERVER",
        "Quality Control / System Monitor: monitors system health, catches errors, enforces rules",
        "Methodical, detail-oriented, quality-focused",
        "Process deviation detected...",
        "Flags when rules aren't followed",
        "Process-oriented, neutral, corrective",
        "You monitor quality. Check if rules are followed. Flag deviations. Ensure the system "
        "operates correctly.",
    ),
)

ATLAS, SAGE, SCOUT, GROWTH, INTEL, OBSERVER = AgentId

RELATIONSHIPS: tuple[tuple[AgentId, AgentId, float], ...] = (
    (ATLAS, SAGE, 0.80),
    (SAGE, OBSERVER, 0.80),
    (SCOUT, INTEL, 0.75),
    (GROWTH, INTEL, 0.70),
    (ATLAS, GROWTH, 0.60),
    (ATLAS, SCOUT, 0.60),
    (ATLAS, OBSERVER, 0.55),
    (SAGE, GROWTH, 0.55),
    (SAGE, SCOUT, 0.50),
    (SCOUT, OBSERVER, 0.50),
    (ATLAS, INTEL, 0.35),
    (SAGE, INTEL, 0.30),
    (INTEL, OBSERVER, 0.40),
    (GROWTH, OBSERVER, 0.45),
    (SCOUT, GROWTH, 0.50),
)
"""Initial affinities (0.10–0.95); low pairs make for debate. Conversations move them later."""


@dataclass(frozen=True)
class TriggerSeed:
    name: str
    kind: TriggerKind
    agent: AgentId
    step_kind: StepKind
    conditions: dict = field(default_factory=dict)
    topics: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    cooldown_minutes: int = 0
    interval_minutes: int | None = None


HIGH_CONFIDENCE = 0.80
"""The seed's "high confidence" (the signal_high_confidence trigger's threshold): a signal above
it is tagged ``high_confidence``."""

TRIGGERS: tuple[TriggerSeed, ...] = (
    # reactive: facts (trade outcomes, open positions, signals)
    TriggerSeed(
        "trade_big_win", TriggerKind.REACTIVE, GROWTH, StepKind.REVIEW_PERFORMANCE,
        {"pnl_pct_above": 0.50}, ("why_it_worked",), ("trade", "big_win"), 60,
    ),
    TriggerSeed(
        "trade_big_loss", TriggerKind.REACTIVE, SAGE, StepKind.REVIEW_PERFORMANCE,
        {"pnl_pct_below": -0.30}, ("what_went_wrong",), ("trade", "big_loss"), 60,
    ),
    TriggerSeed(
        "position_at_risk", TriggerKind.REACTIVE, ATLAS, StepKind.MONITOR_POSITION,
        {"pnl_pct_below": -0.20}, ("hold_or_cut",), ("position", "at_risk"), 30,
    ),
    TriggerSeed(
        "signal_high_confidence", TriggerKind.REACTIVE, SCOUT, StepKind.EXECUTE_TRADE,
        {"confidence_above": HIGH_CONFIDENCE}, ("execution_plan",), ("signal", "execution"), 15,
    ),
    TriggerSeed(
        "max_positions_reached", TriggerKind.REACTIVE, OBSERVER, StepKind.CALCULATE_RISK,
        {"open_positions_at_least": 3}, ("exposure",), ("risk", "exposure"), 60,
    ),
    TriggerSeed(
        "stop_loss_hit", TriggerKind.REACTIVE, GROWTH, StepKind.REVIEW_PERFORMANCE,
        {"close_trigger": "STOP"}, ("entry_timing",), ("trade", "stop_loss"), 30,
    ),
    # proactive: a schedule ("KOL activity" has no source here: volume, funding, Polymarket)
    TriggerSeed(
        "proactive_scan_signals", TriggerKind.PROACTIVE, INTEL, StepKind.ANALYZE_SIGNAL,
        {"timeframe": "5m"}, ("top_gainers", "volume_spikes", "funding", "polymarket"),
        ("proactive", "scan"), interval_minutes=30,
    ),
    TriggerSeed(
        "proactive_review_positions", TriggerKind.PROACTIVE, ATLAS, StepKind.MONITOR_POSITION,
        {"open_positions_at_least": 1}, ("exit_timing", "scale_decisions"),
        ("proactive", "review"), interval_minutes=120,
    ),
    TriggerSeed(
        "proactive_risk_analysis", TriggerKind.PROACTIVE, SAGE, StepKind.CALCULATE_RISK,
        {}, ("exposure", "correlation", "drawdown"), ("proactive", "risk"), interval_minutes=240,
    ),
    TriggerSeed(
        "proactive_performance_review", TriggerKind.PROACTIVE, GROWTH, StepKind.REVIEW_PERFORMANCE,
        {}, ("win_rate", "avg_winner", "avg_loser"), ("proactive", "performance"),
        interval_minutes=360,
    ),
    TriggerSeed(
        "proactive_market_research", TriggerKind.PROACTIVE, INTEL, StepKind.ANALYZE_SIGNAL,
        {"timeframe": "1h"}, ("technicals", "funding", "polymarket"), ("proactive", "research"),
        interval_minutes=180,
    ),
    TriggerSeed(
        "proactive_system_health", TriggerKind.PROACTIVE, OBSERVER, StepKind.CHECK_HEALTH,
        {}, ("error_rate", "execution_quality", "rule_compliance"), ("proactive", "health"),
        interval_minutes=480,
    ),
)  # fmt: skip


@dataclass(frozen=True)
class PatternSeed:
    name: str
    source: str  # an agent id or "*"
    tags: tuple[str, ...]
    target: AgentId
    reaction_type: str
    step_kind: StepKind
    probability: float
    cooldown_minutes: int


REACTION_MATRIX: tuple[PatternSeed, ...] = (
    PatternSeed("big_loss_diagnosis", "*", ("trade", "big_loss"), SAGE, "diagnose",
                StepKind.REVIEW_PERFORMANCE, 1.0, 60),
    PatternSeed("signal_evaluation", "intel", ("signal", "high_confidence"), ATLAS, "evaluate",
                StepKind.CALCULATE_RISK, 0.8, 30),
    PatternSeed("trade_analysis", "scout", ("trade", "executed"), GROWTH, "analyze",
                StepKind.REVIEW_PERFORMANCE, 0.3, 120),
    PatternSeed("risk_review", "sage", ("risk", "warning"), ATLAS, "review",
                StepKind.MONITOR_POSITION, 1.0, 15),
    PatternSeed("strategy_proposal", "growth", ("insight", "pattern"), ATLAS, "propose_strategy",
                StepKind.ANALYZE_SIGNAL, 0.6, 180),
    PatternSeed("error_alert", "observer", ("error", "rule_violation"), ATLAS, "alert",
                StepKind.CHECK_HEALTH, 1.0, 5),
)  # fmt: skip


@dataclass(frozen=True)
class FormatSeed:
    format: RoundtableFormat
    purpose: str
    participants: tuple[AgentId, ...]  # always at the table; the first opens
    pool: tuple[AgentId, ...]  # drawn from to fill the table
    seats: tuple[int, int]  # how many sit at the table, at least and at most
    turns: tuple[int, int]
    temperature: float
    days: tuple[Weekday, ...]  # () = ad hoc
    at: str | None  # wall-clock time in the desk's time zone
    probability: float
    conditions: dict = field(default_factory=dict)


EVERY_DAY = tuple(Weekday)
DEBATE_BELOW = 0.4
"""A pair whose affinity is below this has a debate (the seed's ad-hoc schedule)."""

FORMATS: tuple[FormatSeed, ...] = (
    FormatSeed(RoundtableFormat.MORNING_STANDUP, "Align on the day's strategy, surface "
               "opportunities", (ATLAS, SAGE, INTEL), (SCOUT, GROWTH, OBSERVER), (4, 6), (6, 12),
               0.6, EVERY_DAY, "06:30", 1.0),
    FormatSeed(RoundtableFormat.POSITION_REVIEW, "Review open positions, decide hold, exit or "
               "scale", (ATLAS, SAGE), (SCOUT, GROWTH), (3, 4), (4, 8), 0.5, EVERY_DAY, "11:00",
               0.8, {"open_positions_at_least": 1}),
    FormatSeed(RoundtableFormat.POST_MORTEM, "Analyze the day's trades, extract lessons",
               (ATLAS, SAGE, GROWTH), (SCOUT, INTEL), (4, 5), (8, 15), 0.7, EVERY_DAY, "13:30",
               1.0),
    FormatSeed(RoundtableFormat.DEBATE, "Argue different trade perspectives", (),
               (ATLAS, SAGE, SCOUT, GROWTH, INTEL, OBSERVER), (2, 3), (6, 10), 0.8, (), None, 0.6,
               {"affinity_below": DEBATE_BELOW}),
    FormatSeed(RoundtableFormat.STRATEGY_SESSION, "Deep dive on the approach, adjust the "
               "systems", (ATLAS, GROWTH), (SAGE, INTEL), (3, 4), (10, 16), 0.65, (Weekday.SUN,),
               "19:00", 1.0),
    FormatSeed(RoundtableFormat.WATERCOOLER, "Informal chat, surprising insights", (),
               (ATLAS, SAGE, SCOUT, GROWTH, INTEL, OBSERVER), (2, 3), (3, 6), 0.9, EVERY_DAY,
               "18:00", 0.4),
)  # fmt: skip
"""The seed's six formats. Its times are US Pacific (6:30 AM market open, 11:00 midday, 1:30 PM
market close, 6 PM evening); "Sunday evening" is read as 19:00, after the watercooler. A debate
has no time: it meets when a pair's affinity is below 0.4, the pair plus (by draw) a third."""
