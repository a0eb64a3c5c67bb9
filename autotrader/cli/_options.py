"""Options shared by every command group, so ``--db`` and ``--json`` mean one thing everywhere.

Numbers typed on the command line are read by one parser per kind: ids (:func:`id_option`,
:func:`id_argument`: 1 … 2^63−1, what SQLite can hold), decimals (:func:`decimal_option`: money,
prices, fees and rates through ``core.money.to_decimal``) and bounded counts
(:func:`count_option`). A refused value is a usage error (exit 2) naming the option.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Annotated, Any

import typer

# Counts (ticks, limits, pages, token budgets, position limits) stay far below 64 bits.
MAX_COUNT = 1_000_000_000


class IdParser:
    """Reads an id (``core.ids``); typer calls it with the option's text."""

    def __call__(self, value: str | int) -> int:
        from autotrader.core.ids import id_problem

        problem = id_problem(str(value))
        if problem is not None:
            raise _usage_error(problem)
        return int(value)


class DecimalParser:
    """Reads a decimal with ``core.money.to_decimal``: ASCII digits, finite, at most 15 digits
    before the point and 18 after it, never negative; never zero either when ``positive``."""

    def __init__(self, *, positive: bool) -> None:
        self.positive = positive

    def __call__(self, value: str | Decimal) -> Decimal:
        from autotrader.core.errors import InvalidInputError
        from autotrader.core.money import to_decimal

        try:
            number = to_decimal(value, field=None)
        except InvalidInputError as exc:
            raise _usage_error(str(exc)) from None
        if self.positive and number <= 0:
            raise _usage_error(f"must be greater than 0, got {value}")
        if number < 0:
            raise _usage_error(f"must not be negative, got {value}")
        return number


def _usage_error(message: str) -> Exception:
    """What a parser raises: typer shows it as "Invalid value for '--x': message", exit 2."""
    from pydantic_core import PydanticCustomError

    return PydanticCustomError("invalid_value", message)  # no context: braces stay as typed


def id_option(flag: str, help: str) -> Any:
    """An option naming a row by id, e.g. ``Annotated[int, id_option("--account", "...")]``."""
    return typer.Option(flag, parser=IdParser(), metavar="ID", help=help)


def id_argument(help: str) -> Any:
    """An argument naming a row by id (``prop accounts show 1``)."""
    return typer.Argument(parser=IdParser(), help=help)


def decimal_option(flag: str, help: str, *, positive: bool = False) -> Any:
    """An amount, price, fee or rate (``Annotated[Decimal, decimal_option("--balance", ...)]``);
    ``positive`` where zero means nothing (a balance, a size, a price)."""
    return typer.Option(flag, parser=DecimalParser(positive=positive), metavar="DECIMAL", help=help)


def count_option(flag: str, help: str, *, low: int = 1, high: int = MAX_COUNT) -> Any:
    """A whole number within ``low`` … ``high`` (both shown in the help)."""
    return typer.Option(flag, min=low, max=high, help=help)


def _store_location(value: str | None) -> str | None:
    """A folder is no SQLite file: a usage error, as typer says it for a file option."""
    from autotrader.core.store_url import is_postgres, sqlite_path

    if value is not None and not is_postgres(value) and sqlite_path(value).is_dir():
        raise typer.BadParameter(f"File '{value}' is a directory.")
    return value


DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Store to use: a SQLite file or a postgresql:// URL (overrides AUTOTRADER_DB).",
        show_default=False,
        callback=_store_location,
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print machine-readable JSON (decimals as strings).")
]
ForceOption = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Replace an existing file (never the store or its -wal/-shm/-journal files).",
    ),
]
LoopOption = Annotated[
    bool, typer.Option("--loop", help="Keep running as a worker instead of one pass.")
]
IntervalOption = Annotated[
    float | None,
    typer.Option(
        "--interval",
        min=0.01,
        max=86_400,
        help="Seconds between ticks with --loop (default AUTOTRADER_WORKER_INTERVAL).",
        show_default=False,
    ),
]
MaxTicksOption = Annotated[
    int | None,
    count_option("--max-ticks", "Stop after this many ticks (for tests and cron)."),
]


def split_csv(value: str | None, *, name: str, allowed: Iterable[str] | None = None) -> list[str]:
    """Parse a comma-separated option: ``[]`` when it is not given (``None``); a given value
    must name at least one item, and unknown items are one clear error naming them all."""
    from autotrader.core.errors import InvalidInputError, quoted

    if value is None:
        return []
    known = None if allowed is None else tuple(str(item) for item in allowed)
    items = [item.strip() for item in value.split(",") if item.strip()]
    if not items:
        choose = f" (choose from {', '.join(known)})" if known else ""
        raise InvalidInputError(f"{name}: give at least one value{choose}")
    if known is not None:
        unknown = [item for item in items if item not in known]
        if unknown:
            names = ", ".join(map(quoted, unknown))
            raise InvalidInputError(f"{name}: unknown {names} (choose from {', '.join(known)})")
    return list(dict.fromkeys(items))


def choice(value: str | None, *, name: str, allowed: Iterable[str]) -> str | None:
    """A single-valued option from a closed set, stripped (``None`` when not given): an empty,
    unknown or comma-listed value is one clear error naming the choices."""
    from autotrader.core.errors import InvalidInputError, quoted

    if value is None:
        return None
    known = tuple(str(item) for item in allowed)
    text = value.strip()
    if text not in known:
        raise InvalidInputError(f"{name}: {quoted(text)} is not one of {', '.join(known)}")
    return text


def parse_time(value: str, *, name: str) -> int:
    """An ISO-8601 option value as epoch ms, or an InvalidInputError naming the option."""
    from autotrader.core.clock import parse_iso_utc
    from autotrader.core.errors import InvalidInputError

    try:
        return parse_iso_utc(value)
    except ValueError as exc:
        raise InvalidInputError(f"{name}: {exc}") from None


def parse_symbol(value: str, *, name: str) -> str:
    """A market symbol as typed (``btc`` is ``BTC``); anything that cannot be one — control
    characters, quotes, ten thousand characters — is one clear error before anything runs."""
    import re

    from autotrader.core.errors import InvalidInputError, quoted
    from autotrader.market.models import SYMBOL_PATTERN

    symbol = value.strip().upper()
    if not re.fullmatch(SYMBOL_PATTERN, symbol):
        raise InvalidInputError(
            f"{name}: {quoted(value)} is not a symbol (1 to 32 of A-Z 0-9 / : _ -)"
        )
    return symbol


def parse_symbols(value: str | None, *, name: str) -> list[str]:
    """A comma-separated list of symbols (``--symbols BTC,ETH``); ``[]`` when not given."""
    return [parse_symbol(item, name=name) for item in split_csv(value, name=name)]


def parse_ids(value: str | None, *, name: str) -> list[int]:
    """A comma-separated list of ids (``--compare 2,3``); ``[]`` when not given."""
    from autotrader.core.ids import parse_id

    return [parse_id(item, field=name) for item in split_csv(value, name=name)]


_DURATION_UNITS_MS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def parse_duration(value: str, *, name: str) -> int:
    """A duration such as ``15m``, ``1h`` or ``1d`` as milliseconds, or an InvalidInputError
    naming the option."""
    import re

    from autotrader.core.errors import InvalidInputError, quoted

    match = re.fullmatch(r"\s*([1-9][0-9]{0,5})\s*([smhd])\s*", value)
    if match is None:
        raise InvalidInputError(
            f"{name}: give a duration such as 15m, 1h or 1d, not {quoted(value)}"
        )
    return int(match[1]) * _DURATION_UNITS_MS[match[2]]
