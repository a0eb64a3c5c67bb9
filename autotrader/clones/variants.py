"""The four built-in strategy variants (Apex, Trendsurfer, Contrarian, Sovereign) and how a
trading prompt's own settings merge over them. Pure: no I/O.

A variant is a persona: what it trades, how it sizes, when it exits. Each one is three parts,
written once and used by every engine:

- a **behaviour prompt** for model engines (``llm``, ``committee``): the persona in plain words
  followed by its sizing and exit habits rendered from the same numbers the rules engine uses;
- **default engine parameters** for the ``rules`` engine (policy families, size, leverage,
  shorting, RSI thresholds);
- **exit-plan habits**: stop and target distance, an invalidation level judged on a bar's close,
  a time exit and a re-entry cooldown. The rules engine takes the stop, target, time exit and
  cooldown as its ``stop_pct``/``target_pct``/``time_exit_hours``/``cooldown_minutes``; its
  invalidation is each policy's own exit signal, so only model engines are asked for an
  ``invalidation_price``.

``docs/variants.md`` describes the personas; :data:`PRESETS` is their definition.

Precedence when a trading prompt names a variant (or its clone carries one), highest first:

1. the trading prompt's own ``engineParams`` keys replace the variant's (``policy`` and
   ``policies`` are one setting: naming either replaces the variant's policy list);
2. the trading prompt's ``customBehaviorPrompt`` and per-asset prompts are kept whole and
   follow the variant's behaviour prompt, marked as the owner's instructions that take
   precedence over it;
3. the variant's defaults;
4. the engine's own defaults (``RulesParams``) for anything neither sets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from autotrader.clones.engine_params import schema_for
from autotrader.clones.vocabulary import Variant
from autotrader.core.errors import InvalidInputError

OWNER_HEADING = "Owner's instructions (they take precedence over the variant):"
# Keys that name the same setting: a trading prompt giving one replaces the variant's others.
_SAME_SETTING = ({"policy", "policies"},)


@dataclass(frozen=True)
class ExitHabits:
    """How a variant plans its exits. Percentages are fractions of the entry price."""

    stop_pct: Decimal  # protective stop, touched intrabar
    target_pct: Decimal  # profit target
    invalidation_pct: Decimal  # a bar *closing* this far against the entry disproves the idea
    time_exit_hours: Decimal  # close the position this long after opening
    cooldown_minutes: Decimal  # once closed, no new OPEN of the symbol before open + this

    def rules_params(self) -> dict[str, Any]:
        """The habits as ``rules`` engine parameters (JSON numbers, exact as decimal text)."""
        return {
            "stop_pct": _number(self.stop_pct),
            "target_pct": _number(self.target_pct),
            "time_exit_hours": _number(self.time_exit_hours),
            "cooldown_minutes": _number(self.cooldown_minutes),
        }

    def describe(self) -> str:
        return (
            f"Every OPEN carries a full exit plan: a stop {_pct(self.stop_pct)} from the entry "
            f"price, a target {_pct(self.target_pct)} from it, an invalidation_price "
            f"{_pct(self.invalidation_pct)} against the entry (a bar closing beyond it proves "
            "the idea wrong; say why in invalidation), a time_exit "
            f"{_number(self.time_exit_hours)} h after now and a cooldown_until "
            f"{_number(self.cooldown_minutes)} min after now."
        )


@dataclass(frozen=True)
class VariantPreset:
    """One built-in variant: its persona and the defaults it gives a trading prompt."""

    variant: Variant
    title: str  # two or three words: "the momentum hunter"
    persona: str  # what it trades and when it stands aside, in plain words
    notional_usd: str  # typical position value per trade (decimal text, USD)
    leverage: int
    engine_params: Mapping[str, Any]  # rules parameters besides size, leverage and exits
    exits: ExitHabits

    def behavior_prompt(self) -> str:
        """The persona for model engines: who it is, how it sizes, how it exits."""
        sizing = (
            f"Size each OPEN at about {self.notional_usd} USD of position value (notional_usd) "
            f"at {self.leverage}x leverage; never more than the account limits allow."
        )
        return (
            f"Strategy variant: {self.variant.value}, {self.title}. {self.persona} {sizing} "
            f"{self.exits.describe()}"
        )

    def default_engine_params(self) -> dict[str, Any]:
        """The variant's engine parameters: its own, its size and leverage, its exit habits."""
        return {
            **self.engine_params,
            "notional_usd": self.notional_usd,
            "leverage": self.leverage,
            **self.exits.rules_params(),
        }


PRESETS: MappingProxyType[Variant, VariantPreset] = MappingProxyType(
    {
        Variant.APEX: VariantPreset(
            Variant.APEX,
            "the momentum hunter",
            "It trades breakouts and strong momentum in either direction: a close through a "
            "Bollinger band, a MACD cross confirmed by the 20-period averages. It acts on the "
            "first clean signal, sizes the largest of the four and keeps its risk tight, taking "
            "quick profits and cutting a move that stalls.",
            notional_usd="2000",
            leverage=5,
            engine_params={"policies": ["bollinger_breakout", "trend_macd"], "allow_short": True},
            exits=ExitHabits(
                Decimal("0.015"), Decimal("0.03"), Decimal("0.0075"), Decimal(6), Decimal(30)
            ),
        ),
        Variant.TRENDSURFER: VariantPreset(
            Variant.TRENDSURFER,
            "the patient trend follower",
            "It trades only in the direction of the established 1h trend, entering on a MACD "
            "cross when the close is already beyond the 20-period averages, and holds while the "
            "trend lasts. Wide stops give the trend room; it exits when the trend breaks, not "
            "on noise.",
            notional_usd="1000",
            leverage=3,
            engine_params={"policies": ["trend_macd"], "allow_short": True},
            exits=ExitHabits(
                Decimal("0.03"), Decimal("0.06"), Decimal("0.015"), Decimal(48), Decimal(120)
            ),
        ),
        Variant.CONTRARIAN: VariantPreset(
            Variant.CONTRARIAN,
            "the mean-reversion fader",
            "It fades stretched moves: it buys when RSI turns up out of deep oversold and "
            "sells short when RSI turns down out of overbought, betting on a return to the "
            "mean. It sizes small and takes profit near the middle of the range; it never "
            "chases a breakout.",
            notional_usd="750",
            leverage=2,
            engine_params={
                "policies": ["rsi_mean_reversion"],
                "allow_short": True,
                "rsi_low": 25,
                "rsi_high": 75,
                "rsi_exit": 50,
            },
            exits=ExitHabits(
                Decimal("0.02"), Decimal("0.02"), Decimal("0.01"), Decimal(12), Decimal(60)
            ),
        ),
        Variant.SOVEREIGN: VariantPreset(
            Variant.SOVEREIGN,
            "the capital preserver",
            "Preserving capital comes first: HOLD is its default. It opens only long, only on "
            "a confirmed uptrend, at no leverage, and demands at least three times its risk in "
            "reward; after any trade it waits hours before it trades the asset again.",
            notional_usd="500",
            leverage=1,
            engine_params={"policies": ["trend_macd"], "allow_short": False},
            exits=ExitHabits(
                Decimal("0.01"), Decimal("0.03"), Decimal("0.005"), Decimal(24), Decimal(240)
            ),
        ),
    }
)


def parse_variant(name: str) -> Variant:
    """``name`` as a Variant, any letter case (``apex`` → Apex); InvalidInputError otherwise."""
    found = next((v for v in Variant if v.value.casefold() == name.strip().casefold()), None)
    if found is None:
        known = ", ".join(v.value for v in Variant)
        raise InvalidInputError(f"unknown variant {name!r} (choose from {known})")
    return found


def merged_prompt(variant: Variant | None, own: str) -> str:
    """The behaviour prompt a strategy runs with: the variant's persona, then the owner's own
    text (kept whole, marked as taking precedence); ``own`` alone without a variant."""
    if variant is None:
        return own
    persona = PRESETS[variant].behavior_prompt()
    return f"{persona}\n\n{OWNER_HEADING}\n{own}" if own.strip() else persona


def merged_params(variant: Variant | None, own: Mapping[str, Any], engine: str) -> dict[str, Any]:
    """Engine parameters: the variant's defaults that ``engine`` reads, with the trading
    prompt's own keys on top. Model engines read none of them (their persona carries the
    sizing and exits in words), so an ``llm`` prompt naming a variant compiles to exactly the
    parameters its engine validates."""
    if variant is None:
        return dict(own)
    reads = schema_for(engine).model_fields
    defaults = {k: v for k, v in PRESETS[variant].default_engine_params().items() if k in reads}
    for keys in _SAME_SETTING:
        if keys & own.keys():
            defaults = {k: v for k, v in defaults.items() if k not in keys}
    return {**defaults, **own}


def _number(value: Decimal) -> int | float:
    # JSON numbers, as the graph's own engineParams are written; the rules engine reads them
    # back through their text, so 0.015 stays exactly 0.015.
    return int(value) if value == value.to_integral_value() else float(value)


def _pct(fraction: Decimal) -> str:
    return f"{(fraction * 100).normalize():f} %"
