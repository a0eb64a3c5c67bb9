"""Arena records and contracts. No I/O here.

:class:`RaceRules` are what a race's accounts trade under and :class:`RaceTerms` how its pool is
split; both are fixed into the race when it is created (changing the settings later never
changes the terms a ticket was bought on). :class:`ArenaPolicy` holds the thresholds read at the
moment they apply: ticket limits and expiry, strikes, retention.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from autotrader.arena.vocabulary import RuleSet
from autotrader.core.clock import DAY_MS, HOUR_MS
from autotrader.prop.models import AccountRules

if TYPE_CHECKING:
    from autotrader.core.settings import Settings

_Share = Field(ge=0, lt=1)
_Weights = Field(min_length=1, max_length=100)
# The named rule sets beside the settings' own: (max leverage, drawdown that freezes).
_PRESETS = {
    RuleSet.CONSERVATIVE: (2, Decimal("0.10")),
    RuleSet.AGGRESSIVE: (20, Decimal("0.50")),
}


class RaceRules(BaseModel):
    """The identical rules and balance every entrant's race account gets."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: RuleSet
    starting_balance: Decimal = Field(gt=0, le=Decimal("1e12"))
    max_leverage: int = Field(ge=1, le=100)
    max_drawdown: Decimal = Field(gt=0, le=1, description="Fraction that freezes the account.")
    allowed_symbols: tuple[str, ...] = ()

    @classmethod
    def named(cls, settings: Settings, name: RuleSet | str) -> RaceRules:
        """The rule set ``name``: ``standard`` is the ARENA_RACE_* settings; the others change
        its leverage and drawdown (same balance and symbols, so races stay comparable)."""
        rule_set = RuleSet(name)
        leverage, drawdown = _PRESETS.get(
            rule_set, (settings.arena_race_max_leverage, settings.arena_race_max_drawdown)
        )
        symbols = tuple(s for s in settings.arena_race_symbols.split(",") if s)
        return cls(
            name=rule_set,
            starting_balance=settings.arena_race_balance,
            max_leverage=leverage,
            max_drawdown=drawdown,
            allowed_symbols=symbols,
        )

    def account_rules(self) -> AccountRules:
        return AccountRules(
            max_leverage=self.max_leverage,
            max_drawdown=self.max_drawdown,
            allowed_symbols=self.allowed_symbols,
        )


class RaceTerms(BaseModel):
    """How a race's pool is split (shares are fractions of the pool; weights are relative)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rake_share: Decimal = _Share
    creator_share: Decimal = _Share
    payout_weights: tuple[Decimal, ...] = _Weights  # 1st, 2nd, ... paying position
    royalty_weights: tuple[Decimal, ...] = _Weights  # 1st, 2nd, ... finisher's owner
    min_entrants: int = Field(ge=2, le=1000)

    @field_validator("payout_weights", "royalty_weights")
    @classmethod
    def _positive(cls, weights: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
        if any(not w.is_finite() or w <= 0 for w in weights):
            raise ValueError("every weight must be a positive decimal")
        return weights

    @model_validator(mode="after")
    def _room_for_holders(self) -> RaceTerms:
        if self.rake_share + self.creator_share >= 1:
            raise ValueError("rake and creator shares leave nothing to the ticket holders")
        return self

    @property
    def distribution_share(self) -> Decimal:
        return 1 - self.rake_share - self.creator_share

    @classmethod
    def from_settings(cls, settings: Settings) -> RaceTerms:
        def weights(text: str) -> tuple[Decimal, ...]:
            return tuple(Decimal(w) for w in text.split(","))

        return cls(
            rake_share=settings.arena_rake_share,
            creator_share=settings.arena_creator_share,
            payout_weights=weights(settings.arena_payout_weights),
            royalty_weights=weights(settings.arena_royalty_weights),
            min_entrants=settings.arena_min_entrants,
        )


@dataclass(frozen=True)
class ArenaPolicy:
    """Thresholds applied when they act (not fixed into a race)."""

    ticket_min: Decimal
    ticket_max: Decimal
    ticket_expiry_ms: int
    strike_bottom: int  # finishers in the bottom N of a race get a strike
    strikes_to_retire: int
    retention_ms: int  # a settled race is archived this long after it settled

    @classmethod
    def from_settings(cls, settings: Settings) -> ArenaPolicy:
        return cls(
            ticket_min=settings.arena_ticket_min_usdc,
            ticket_max=settings.arena_ticket_max_usdc,
            ticket_expiry_ms=round(settings.arena_ticket_expiry_hours * HOUR_MS),
            strike_bottom=settings.arena_strike_bottom,
            strikes_to_retire=settings.arena_strikes_to_retire,
            retention_ms=round(settings.arena_retention_days * DAY_MS),
        )
