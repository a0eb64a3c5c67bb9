"""The desk's closed vocabularies, each defined once (standard library only: the CLI imports
them). A CHECK constraint listing one of these sets is pinned to it by
``tests/unit/test_vocabulary.py``."""

from __future__ import annotations

from enum import StrEnum


class AgentId(StrEnum):
    """The six agents of the company (their role, directive, tone and quirk are data)."""

    ATLAS = "atlas"  # strategy, final calls
    SAGE = "sage"  # risk
    SCOUT = "scout"  # execution, positions
    GROWTH = "growth"  # performance
    INTEL = "intel"  # research, signals
    OBSERVER = "observer"  # quality control


class StepKind(StrEnum):
    """What one mission step does; each kind has one worker (:data:`STEP_WORKER`)."""

    ANALYZE_SIGNAL = "analyze_signal"
    CALCULATE_RISK = "calculate_risk"
    REVIEW_PERFORMANCE = "review_performance"
    CHECK_HEALTH = "check_health"
    MONITOR_POSITION = "monitor_position"
    EXECUTE_TRADE = "execute_trade"
    SCALE_POSITION = "scale_position"
    CLOSE_POSITION = "close_position"


TRADE_STEPS = frozenset({StepKind.EXECUTE_TRADE, StepKind.SCALE_POSITION, StepKind.CLOSE_POSITION})
"""Steps that change the desk's positions."""


class DeskWorker(StrEnum):
    """The desk's workers; each is the registered job ``desk-<name>``."""

    TRADE_EXECUTOR = "trade-executor"
    POSITION_MONITOR = "position-monitor"
    SIGNAL_ANALYZER = "signal-analyzer"
    RISK_CALCULATOR = "risk-calculator"
    INITIATIVE = "initiative"
    ROUNDTABLE = "roundtable"

    @property
    def job(self) -> str:
        return f"desk-{self.value}"


STEP_WORKER: dict[StepKind, DeskWorker] = {
    StepKind.ANALYZE_SIGNAL: DeskWorker.SIGNAL_ANALYZER,
    StepKind.CALCULATE_RISK: DeskWorker.RISK_CALCULATOR,
    StepKind.REVIEW_PERFORMANCE: DeskWorker.RISK_CALCULATOR,
    StepKind.CHECK_HEALTH: DeskWorker.RISK_CALCULATOR,
    StepKind.MONITOR_POSITION: DeskWorker.POSITION_MONITOR,
    StepKind.EXECUTE_TRADE: DeskWorker.TRADE_EXECUTOR,
    StepKind.SCALE_POSITION: DeskWorker.TRADE_EXECUTOR,
    StepKind.CLOSE_POSITION: DeskWorker.TRADE_EXECUTOR,
}
"""Which worker claims each step kind."""

STEP_AGENT: dict[StepKind, AgentId] = {
    StepKind.ANALYZE_SIGNAL: AgentId.INTEL,
    StepKind.CALCULATE_RISK: AgentId.SAGE,
    StepKind.REVIEW_PERFORMANCE: AgentId.GROWTH,
    StepKind.CHECK_HEALTH: AgentId.OBSERVER,
    StepKind.MONITOR_POSITION: AgentId.SCOUT,
    StepKind.EXECUTE_TRADE: AgentId.SCOUT,
    StepKind.SCALE_POSITION: AgentId.SCOUT,
    StepKind.CLOSE_POSITION: AgentId.SCOUT,
}
"""The agent who reports a step's outcome (its event's source): trades and positions are
SCOUT's, signals INTEL's, risk SAGE's, performance GROWTH's, health OBSERVER's."""


class ProposalStatus(StrEnum):
    """pending (waiting for a roundtable) → accepted | rejected; or rejected at once by a gate."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class ProposalSource(StrEnum):
    """What made an agent propose."""

    TRIGGER = "trigger"
    REACTION = "reaction"
    INITIATIVE = "initiative"
    WORKER = "worker"  # a worker suggesting a follow-up (the position monitor's exits)


class MissionKind(StrEnum):
    """The seed's four trade missions, and ``analysis`` for missions that only read."""

    ENTRY = "entry"
    EXIT = "exit"
    SCALE = "scale"
    HEDGE = "hedge"
    ANALYSIS = "analysis"


class MissionStatus(StrEnum):
    APPROVED = "approved"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


FINISHED_MISSIONS = frozenset({MissionStatus.SUCCEEDED, MissionStatus.FAILED})


class StepStatus(StrEnum):
    """queued → running → succeeded | failed; ``skipped`` once an earlier step failed."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


class SignalType(StrEnum):
    """buy/sell open a position; scale adds to one the desk already holds on that side."""

    BUY = "buy"
    SELL = "sell"
    SCALE = "scale"


class SignalSource(StrEnum):
    """The strongest input of a signal. The seed's "KOL activity" has no source here."""

    INDICATOR = "indicator"
    VOLUME = "volume"
    FUNDING = "funding"
    POLYMARKET = "polymarket"


class TriggerKind(StrEnum):
    REACTIVE = "reactive"  # facts: trade outcomes, positions, signals
    PROACTIVE = "proactive"  # a schedule


class ReactionStatus(StrEnum):
    QUEUED = "queued"
    PROCESSED = "processed"


class MemoryType(StrEnum):
    INSIGHT = "insight"
    PATTERN = "pattern"
    STRATEGY = "strategy"
    PREFERENCE = "preference"
    LESSON = "lesson"


class OutcomeType(StrEnum):
    WIN = "win"
    LOSS = "loss"
    BREAKEVEN = "breakeven"


class RoundtableFormat(StrEnum):
    """The seed's six conversation formats; each one's participants, turns, temperature,
    schedule and probability are data (``desk_roundtable_formats``)."""

    MORNING_STANDUP = "morning_standup"
    POSITION_REVIEW = "position_review"
    POST_MORTEM = "post_mortem"
    DEBATE = "debate"
    STRATEGY_SESSION = "strategy_session"
    WATERCOOLER = "watercooler"


class RoundtableStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class TurnStatus(StrEnum):
    """How one conversation turn went: ``ok``, or why it was a bad turn (recorded, and the
    conversation goes on with the next speaker)."""

    OK = "ok"
    INVALID_OUTPUT = "invalid_output"  # prose, broken JSON, extra or missing keys
    WRONG_SPEAKER = "wrong_speaker"  # valid JSON in another agent's name
    REFUSED = "refused"
    TRUNCATED = "truncated"
    FAILED = "failed"  # timeout, server error, unreachable


class Reaction(StrEnum):
    """What a speaker makes of the previous speaker's turn (what moves their affinity)."""

    AGREE = "agree"
    DISAGREE = "disagree"
    NEUTRAL = "neutral"


class Vote(StrEnum):
    """A speaker's vote on the proposal a roundtable decides."""

    APPROVE = "approve"
    REJECT = "reject"


class InfluenceDecision(StrEnum):
    """Where the memory influence policy is consulted: a conversation's topic, a proposal."""

    TOPIC = "topic"
    PROPOSAL = "proposal"


class Weekday(StrEnum):
    """The days a scheduled format meets, in the configured time zone (Monday first, as
    ``datetime.weekday()`` counts)."""

    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


class WorkerState(StrEnum):
    """A desk worker's own breaker state, kept in the store so it survives restarts."""

    ENABLED = "enabled"
    DISABLED = "disabled"


class PolicyKey(StrEnum):
    """The seven policy keys."""

    AUTO_APPROVE = "auto_approve"
    TRADE_LIMITS = "trade_limits"
    RISK_CONTROLS = "risk_controls"
    ROUNDTABLE_POLICY = "roundtable_policy"
    MEMORY_INFLUENCE_POLICY = "memory_influence_policy"
    RELATIONSHIP_DRIFT_POLICY = "relationship_drift_policy"
    INITIATIVE_POLICY = "initiative_policy"


class HeartbeatOp(StrEnum):
    """The heartbeat's six operations, in the order they run."""

    EVALUATE_TRIGGERS = "evaluate_triggers"
    PROCESS_REACTIONS = "process_reactions"
    PROMOTE_INSIGHTS = "promote_insights"
    LEARN_FROM_OUTCOMES = "learn_from_outcomes"
    RECOVER_STALE_STEPS = "recover_stale_steps"
    RECOVER_STALE_ROUNDTABLES = "recover_stale_roundtables"
