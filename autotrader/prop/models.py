"""Prop trading records and the intent contract. No I/O here.

:class:`TradeIntent` is what decision engines (rules, an LLM, a committee) and people submit; it is
validated here (shape, ranges, which fields each action needs) and then judged by the safety gates
in :mod:`autotrader.prop.gates` against the account and the market. :func:`parse_intent` turns any
payload into an intent or one ``InvalidInputError`` line, never a traceback, and
:func:`intent_json_schema` is the strict JSON Schema a model is constrained by.

Sizes and prices in an intent are decimal *strings* (``"0.015"``), never floats: they become
``Decimal`` through the ``*_decimal`` properties. Times are ISO-8601 UTC strings in the contract
and epoch milliseconds through the ``*_ms`` properties.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from autotrader.core.clock import MAX_TIME_MS, MIN_TIME_MS, iso_utc, parse_iso_utc
from autotrader.core.errors import InvalidInputError
from autotrader.core.jsonschema import strict_json_schema
from autotrader.market.models import SYMBOL_PATTERN
from autotrader.prop.vocabulary import (  # noqa: F401 - re-exported: the contract's vocabulary
    AccountKind,
    AccountStatus,
    Action,
    CloseTrigger,
    LedgerKind,
    MarginMode,
    PositionStatus,
    Side,
)

MAX_AMOUNT = Decimal("1e12")  # no quantity, notional or price in this product comes near it
# Plain decimal text: ASCII digits only ([0-9], not \d, which would admit other scripts' digits),
# at most 13 integer and 18 fractional digits, so Decimal math on it stays exact.
DECIMAL_PATTERN = r"^[0-9]{1,13}(\.[0-9]{1,18})?$"
_MAX_PAYLOAD_CHARS = 100_000
_MAX_LISTED_ERRORS = 8
_PATTERN_HINTS = {
    DECIMAL_PATTERN: 'must be a plain decimal string such as "0.5" (no sign, exponent or comma)',
    SYMBOL_PATTERN: "must be 1 to 32 characters from A-Z 0-9 / : _ -",
}


# The schema a model sees for a timestamp; pydantic validates it with _iso_time below.
IsoTime = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]


def _decimal_text(value: Any) -> Any:
    """Before-validator for decimal strings: ints become text, floats and bools are refused."""
    if isinstance(value, bool | float):
        raise ValueError('give a decimal string such as "0.5", not a JSON number')
    if isinstance(value, int):
        return str(value)
    return value


def _check_amount(value: str | None) -> str | None:
    """After the pattern matched: the amount must be > 0 and <= MAX_AMOUNT."""
    if value is None:
        return None
    number = Decimal(value)
    if number <= 0:
        raise ValueError("must be greater than 0")
    if number > MAX_AMOUNT:
        raise ValueError(f"must be at most {MAX_AMOUNT:f}")
    return value


def _iso_time(value: str | None) -> str | None:
    """Normalise an ISO-8601 time to ``YYYY-MM-DDTHH:MM:SS[.mmm]Z`` (naive = UTC)."""
    if value is None:
        return None
    try:
        ms = parse_iso_utc(value)
    except (ValueError, OverflowError):
        raise ValueError("must be an ISO-8601 UTC time such as 2025-01-31T12:00:00Z") from None
    if not MIN_TIME_MS <= ms < MAX_TIME_MS:
        raise ValueError("must be between 2000 and 2100")
    return iso_utc(ms)


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


class ExitPlan(BaseModel):
    """How a position ends: protective stop, profit target, thesis invalidation, time exit."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    stop: str | None = Field(
        None,
        pattern=DECIMAL_PATTERN,
        description="Stop-loss price in USD as a decimal string. A long's stop is below the "
        "entry price, a short's above. null for none.",
    )
    target: str | None = Field(
        None,
        pattern=DECIMAL_PATTERN,
        description="Take-profit price in USD as a decimal string. A long's target is above the "
        "entry price, a short's below. null for none.",
    )
    invalidation: str | None = Field(
        None,
        max_length=200,
        description="What observation would prove the trade idea wrong, in plain words.",
    )
    invalidation_price: str | None = Field(
        None,
        pattern=DECIMAL_PATTERN,
        description="Price in USD as a decimal string at which the idea is wrong: the position "
        "is closed once a bar closes at or beyond it (a long's is below the entry price, a "
        "short's above). null for none.",
    )
    time_exit: IsoTime | None = Field(
        None,
        description="Close the position at this ISO-8601 UTC time (e.g. 2025-01-31T12:00:00Z). "
        "null for none.",
    )
    cooldown_until: IsoTime | None = Field(
        None,
        description="After the position closes, do not open this symbol again before this "
        "ISO-8601 UTC time. null for none.",
    )

    _prices = field_validator("stop", "target", "invalidation_price", mode="before")(
        staticmethod(_decimal_text)
    )
    _prices_range = field_validator("stop", "target", "invalidation_price")(
        staticmethod(_check_amount)
    )
    _times = field_validator("time_exit", "cooldown_until")(staticmethod(_iso_time))

    @property
    def stop_decimal(self) -> Decimal | None:
        return Decimal(self.stop) if self.stop is not None else None

    @property
    def target_decimal(self) -> Decimal | None:
        return Decimal(self.target) if self.target is not None else None

    @property
    def invalidation_price_decimal(self) -> Decimal | None:
        return Decimal(self.invalidation_price) if self.invalidation_price is not None else None

    @property
    def time_exit_ms(self) -> int | None:
        """``time_exit`` as UTC epoch milliseconds."""
        return parse_iso_utc(self.time_exit) if self.time_exit is not None else None

    @property
    def cooldown_until_ms(self) -> int | None:
        """``cooldown_until`` as UTC epoch milliseconds."""
        return parse_iso_utc(self.cooldown_until) if self.cooldown_until is not None else None


class TradeIntent(BaseModel):
    """One trading decision for one symbol. The safety gates decide whether it happens.

    OPEN needs side and exactly one of qty or notional_usd (adding to a same-side position is
    allowed; opening the opposite side of an open position is not: CLOSE it first). CLOSE closes
    the whole position, or qty of it. UPDATE_EXIT_PLAN replaces the open position's exit plan.
    HOLD does nothing. Sizes and prices are decimal strings.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    action: Action = Field(description="OPEN, CLOSE, HOLD or UPDATE_EXIT_PLAN.")
    symbol: str = Field(
        pattern=SYMBOL_PATTERN,
        description="The asset as the market registry names it, e.g. BTC or ETH (upper case).",
    )
    side: Side | None = Field(
        None,
        description="LONG or SHORT. Required for OPEN; for CLOSE and UPDATE_EXIT_PLAN it may be "
        "given to assert the open position's side, else null.",
    )
    qty: str | None = Field(
        None,
        pattern=DECIMAL_PATTERN,
        description='Size in units of the asset, as a decimal string (e.g. "0.015"). OPEN: give '
        "qty or notional_usd, not both. CLOSE: qty closes part of the position, null closes all.",
    )
    notional_usd: str | None = Field(
        None,
        pattern=DECIMAL_PATTERN,
        description="OPEN only: size in USD of position value (not margin), as a decimal string.",
    )
    leverage: int = Field(
        1,
        ge=1,
        le=100,
        description="Leverage for OPEN (1 = no leverage); margin = notional / leverage. Ignored "
        "by other actions.",
    )
    exit_plan: ExitPlan | None = Field(
        None,
        description="OPEN: optional exit plan for the position. UPDATE_EXIT_PLAN: required, "
        "replaces the whole plan. Otherwise null.",
    )
    confidence: float | None = Field(
        None, ge=0, le=1, allow_inf_nan=False, description="Confidence from 0 to 1, or null."
    )
    policy_id: str | None = Field(
        None, max_length=64, description="Identifier of the policy or rule that produced this."
    )
    hypothesis: str | None = Field(
        None, max_length=120, description="The trade idea in one short sentence."
    )

    _enums = field_validator("action", "side", "symbol", mode="before")(staticmethod(_upper))
    _sizes = field_validator("qty", "notional_usd", mode="before")(staticmethod(_decimal_text))
    _sizes_range = field_validator("qty", "notional_usd")(staticmethod(_check_amount))

    @field_validator("leverage", mode="before")
    @classmethod
    def _no_bool_leverage(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("must be a whole number from 1 to 100")
        return value

    @model_validator(mode="after")
    def _fields_fit_the_action(self) -> TradeIntent:
        action = self.action
        if action is Action.OPEN:
            if self.side is None:
                raise ValueError("side is required for OPEN")
            if (self.qty is None) == (self.notional_usd is None):
                raise ValueError("OPEN needs exactly one of qty or notional_usd")
        elif action is Action.CLOSE:
            if self.notional_usd is not None:
                raise ValueError("CLOSE takes qty (partial) or nothing (all), not notional_usd")
            if self.exit_plan is not None:
                raise ValueError("CLOSE takes no exit_plan")
        elif action is Action.UPDATE_EXIT_PLAN:
            if self.exit_plan is None:
                raise ValueError("UPDATE_EXIT_PLAN needs exit_plan")
            if self.qty is not None or self.notional_usd is not None:
                raise ValueError("UPDATE_EXIT_PLAN takes no qty or notional_usd")
        elif self.qty is not None or self.notional_usd is not None or self.exit_plan is not None:
            raise ValueError("HOLD takes no qty, notional_usd or exit_plan")
        return self

    @property
    def qty_decimal(self) -> Decimal | None:
        """``qty`` as a Decimal (units of the asset), or None."""
        return Decimal(self.qty) if self.qty is not None else None

    @property
    def notional_decimal(self) -> Decimal | None:
        """``notional_usd`` as a Decimal (USD), or None."""
        return Decimal(self.notional_usd) if self.notional_usd is not None else None

    @property
    def leverage_decimal(self) -> Decimal:
        return Decimal(self.leverage)


def parse_intent(data: dict[str, Any] | str) -> TradeIntent:
    """Validate a payload (a dict, or JSON text of an object) into a :class:`TradeIntent`.

    Raises ``InvalidInputError`` and only that, whatever the input, with one line listing each
    problem as ``path: reason`` (e.g. ``invalid intent: qty: must be greater than 0``), so a
    malformed model answer becomes a recorded rejection, never a crash.
    """
    if isinstance(data, str):
        if len(data) > _MAX_PAYLOAD_CHARS:
            raise InvalidInputError(f"invalid intent: longer than {_MAX_PAYLOAD_CHARS} characters")
        try:
            data = json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise InvalidInputError(f"invalid intent: not JSON ({_one_line(str(exc))})") from None
    if not isinstance(data, dict):
        raise InvalidInputError(f"invalid intent: expected a JSON object, got {_kind(data)}")
    try:
        return TradeIntent.model_validate(data)
    except ValidationError as exc:
        raise InvalidInputError(f"invalid intent: {validation_summary(exc)}") from None
    except (ValueError, TypeError, ArithmeticError, RecursionError) as exc:
        # Defence in depth: validators raise ValueError (wrapped by pydantic); anything else
        # escaping must still be a recorded rejection rather than a crashed decision run.
        raise InvalidInputError(f"invalid intent: {_one_line(str(exc))}") from None


def validation_summary(error: ValidationError) -> str:
    """One line, ``path: reason; path: reason``, for a pydantic ``ValidationError``."""
    parts = []
    for item in error.errors(include_url=False, include_input=False)[:_MAX_LISTED_ERRORS]:
        path = ".".join(str(p) for p in item.get("loc", ()))
        message = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        if item.get("type") == "string_pattern_mismatch":
            pattern = (item.get("ctx") or {}).get("pattern")
            message = _PATTERN_HINTS.get(pattern, message)
        text = f"{path}: {message}" if path else message
        parts.append(_one_line(text))
    if error.error_count() > _MAX_LISTED_ERRORS:
        parts.append(f"and {error.error_count() - _MAX_LISTED_ERRORS} more")
    return "; ".join(parts)


def intent_json_schema() -> dict[str, Any]:
    """The strict JSON Schema of :class:`TradeIntent` for OpenAI structured outputs."""
    return strict_json_schema(TradeIntent)


def _one_line(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _kind(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), type(value).__name__
    )


_Fraction = Annotated[Decimal, Field(gt=0, le=1)]
_FeeRate = Annotated[Decimal, Field(ge=0, le=Decimal("0.01"))]


class AccountRules(BaseModel):
    """The limits one prop account trades under. Amounts are Decimal (USD), rates are fractions.

    Stored with the account as JSON (``model_dump(mode="json")`` writes Decimals as strings).
    Floats are refused for the Decimal fields, as everywhere money is concerned.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_leverage: int = Field(10, ge=1, le=100, description="Highest leverage an OPEN may use.")
    max_position_notional: Decimal = Field(
        Decimal(5000), gt=0, le=MAX_AMOUNT, description="USD value cap of one position."
    )
    max_open_positions: int = Field(5, ge=1, le=1000)
    max_daily_trades: int = Field(50, ge=1, le=100_000, description="OPENs per UTC day.")
    max_drawdown: _Fraction = Field(
        Decimal("0.2"), description="Drawdown from peak equity that freezes the account."
    )
    allowed_symbols: tuple[str, ...] = Field(
        (), description="Symbols that may be opened; empty = all."
    )
    margin_mode: MarginMode = MarginMode.ISOLATED
    taker_fee: _FeeRate = Decimal("0.00045")
    maker_fee: _FeeRate = Decimal("0.00015")
    slippage_bps: Decimal = Field(Decimal(5), ge=0, le=500, description="Against the trader.")
    require_stop: bool = False
    max_price_age_s: int = Field(300, ge=1, le=86_400, description="Older prices are stale.")
    # The seeds' trade_limits and risk_controls; None leaves each gate off.
    min_confidence: _Fraction | None = Field(
        None, description="An OPEN whose confidence is below this (or missing) is rejected."
    )
    max_position_risk: _Fraction | None = Field(
        None,
        description="Most of equity one position may lose at its stop (no stop: its margin).",
    )
    max_portfolio_risk: _Fraction | None = Field(
        None, description="Most of equity all open positions together may lose at their stops."
    )
    default_stop_pct: _Fraction | None = Field(
        None,
        description="Without require_stop, an OPEN without a stop gets one this far from its "
        "fill (0.3 = 30%).",
    )

    @field_validator(
        "max_position_notional",
        "max_drawdown",
        "taker_fee",
        "maker_fee",
        "slippage_bps",
        "min_confidence",
        "max_position_risk",
        "max_portfolio_risk",
        "default_stop_pct",
        mode="before",
    )
    @classmethod
    def _no_float(cls, value: Any) -> Any:
        if isinstance(value, bool | float):
            raise ValueError("give a decimal string, not a float")
        return value

    @field_validator("allowed_symbols", mode="before")
    @classmethod
    def _normalise_symbols(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return tuple(_upper(item) for item in value)
        return value

    def allows(self, symbol: str) -> bool:
        """True when ``symbol`` may be opened under these rules (empty list = every symbol)."""
        return not self.allowed_symbols or symbol in self.allowed_symbols
