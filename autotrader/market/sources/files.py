"""Read candles from a file for replay import: CSV, JSON, Feather or Parquet.

The layout is detected, not configured: a timestamp column (the first present of
``TIME_COLUMNS``, case-insensitive) whose unit is inferred (epoch s / ms / µs / ns by magnitude,
date strings, or datetime64), and OHLCV columns by name (``open`` or ``o``, ...). Rows are sorted
by time and checked by ``validate_candle_rows``, so a bad row (NaN, high < low, duplicate time,
off the timeframe grid) is rejected on its own and the rest is imported. A file whose layout
cannot be understood raises ``InvalidInputError`` with one line saying what was expected.

The bar spacing is read from the file too (the most common step between consecutive bars, so a
gap or a stray row does not change it): a caller's timeframe is checked against it, never
trusted over it, or a 5-minute file would be stored as 1-minute bars.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from autotrader.core.errors import InvalidInputError, NotFoundError
from autotrader.core.jsonload import load_json
from autotrader.market.models import TIMEFRAME_MS, Candle, Rejection
from autotrader.market.validation import validate_candle_rows

TIME_COLUMNS: tuple[str, ...] = (
    "timestamp_ms",
    "timestamp",
    "date",
    "time",
    "datetime",
    "open_time",
    "t",
)
SUFFIXES: tuple[str, ...] = (".csv", ".json", ".feather", ".parquet")
_PRICE_COLUMNS: dict[str, tuple[str, ...]] = {
    "open": ("open", "o"),
    "high": ("high", "h"),
    "low": ("low", "l"),
    "close": ("close", "c"),
    "volume": ("volume", "v", "vol"),
}
_CCXT_COLUMNS = ("t", "o", "h", "l", "c", "v")
# Epoch magnitudes: today is ~1.7e9 s = 1.7e12 ms = 1.7e15 µs = 1.7e18 ns; each limit below sits
# between two units (1e11 s is the year 5138, 1e11 ms is 1973).
_UNIT_LIMITS: tuple[tuple[float, str, int, int], ...] = (
    # (upper bound of |value|, name, multiply by, divide by) to get milliseconds
    (1e11, "seconds", 1000, 1),
    (1e14, "milliseconds", 1, 1),
    (1e17, "microseconds", 1, 1_000),
    (math.inf, "nanoseconds", 1, 1_000_000),
)


@dataclass(frozen=True)
class ImportResult:
    """What a file yielded: accepted candles in time order, rejected rows, the detected layout.

    ``Rejection.index`` is the 0-based data row in the file (header not counted).
    """

    candles: list[Candle]
    rejections: list[Rejection]
    layout: str  # e.g. "csv, timestamp column 'timestamp_ms' in milliseconds"
    rows_read: int
    timeframe: str  # the bar spacing the file holds: "1m", "5m" or "1h"


def read_candle_file(
    path: str | Path, *, symbol: str, timeframe: str | None = None
) -> ImportResult:
    """Read, validate and return the candles of a ``.csv``/``.json``/``.feather``/``.parquet``.

    Times become epoch ms UTC (naive dates are taken as UTC). The timeframe is inferred from the
    bar spacing; ``timeframe``, when given, must agree with it (a one-bar file has no spacing
    and needs it). Raises ``NotFoundError`` if the file does not exist and ``InvalidInputError``
    (one line, naming the file and what was expected) if it is unreadable, empty, of an unknown
    type, lacks a timestamp column or open/high/low/close columns, or its spacing is not a
    supported timeframe or not the one asked for. Bad individual rows are returned as
    rejections, not raised.
    """
    file = Path(path)
    if not file.exists():
        raise NotFoundError(f"{file}: no such file")
    if not file.is_file():
        raise InvalidInputError(f"{file.name}: not a file; expected a candle file")
    suffix = file.suffix.lower()
    if suffix not in SUFFIXES:
        raise InvalidInputError(
            f"{file.name}: unknown file type {suffix or '(none)'!r}; expected {', '.join(SUFFIXES)}"
        )
    frame, source = _read_frame(file, suffix)
    if frame.empty:
        raise InvalidInputError(f"{file.name}: no rows; expected a table of candles")
    time_column = _find_time_column(file, frame)
    prices = _find_price_columns(file, frame)
    times, unit = _times_ms(file, frame[time_column], time_column)
    layout = f"{source}, timestamp column {time_column!r} {unit}"
    if prices["volume"] is None:
        layout += ", no volume column (volume set to 0)"
    timeframe = _checked_timeframe(file, times, timeframe)
    rows = _rows(frame, times, prices)
    candles, rejections = _validate_sorted(rows, symbol=symbol, timeframe=timeframe)
    return ImportResult(candles, rejections, layout, rows_read=len(rows), timeframe=timeframe)


def infer_timeframe(times: list[int | None]) -> str | None:
    """The timeframe whose step is the most common gap between consecutive distinct times, or
    ``None`` when there are fewer than two. Raises ``ValueError`` naming a step that is no
    supported timeframe."""
    ordered = sorted({t for t in times if t is not None})
    steps = Counter(later - earlier for earlier, later in pairwise(ordered))
    if not steps:
        return None
    step, _count = steps.most_common(1)[0]
    by_step = {ms: name for name, ms in TIMEFRAME_MS.items()}
    if step not in by_step:
        raise ValueError(f"bars are {_describe_step(step)} apart")
    return by_step[step]


def _checked_timeframe(file: Path, times: list[int | None], asked: str | None) -> str:
    supported = ", ".join(TIMEFRAME_MS)
    try:
        found = infer_timeframe(times)
    except ValueError as error:
        raise InvalidInputError(f"{file.name}: {error}; expected {supported} bars") from None
    if found is None:
        if asked is None:
            raise InvalidInputError(
                f"{file.name}: one bar has no spacing to read the timeframe from; pass --timeframe"
            )
        return asked
    if asked is not None and asked != found:
        raise InvalidInputError(
            f"{file.name}: bars are {found} apart, not {asked}; pass --timeframe {found} or omit it"
        )
    return found


def _describe_step(step_ms: int) -> str:
    if step_ms % 60_000 == 0:
        return f"{step_ms // 60_000} minutes"
    return f"{step_ms / 1000:g} seconds"


def _read_frame(file: Path, suffix: str) -> tuple[Any, str]:
    """The file as a DataFrame with a default index, and a short description of its format."""
    import pandas as pd  # heavy import, kept out of CLI start-up

    try:
        if suffix == ".csv":
            frame, source = pd.read_csv(file), "csv"
        elif suffix == ".json":
            frame, source = _read_json(file)
        elif suffix == ".feather":
            frame, source = pd.read_feather(file), "feather"
        else:
            frame, source = pd.read_parquet(file), "parquet"
    except pd.errors.EmptyDataError:
        raise InvalidInputError(f"{file.name}: empty file; expected a table of candles") from None
    except InvalidInputError:
        raise
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as error:
        # pyarrow's ArrowInvalid and json's JSONDecodeError are ValueErrors
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise InvalidInputError(
            f"{file.name}: cannot read as {suffix[1:]} ({reason}); expected a table of candles"
        ) from None
    if not isinstance(frame.index, pd.RangeIndex):
        # parquet keeps a pandas index, often the date: make it a column like any other
        frame = frame.reset_index()
    frame.columns = [str(name).strip() for name in frame.columns]
    return frame, source


def _read_json(file: Path) -> tuple[Any, str]:
    import pandas as pd

    payload = load_json(file.read_bytes(), what=file.name)
    expected = "expected a list of [t, o, h, l, c, v] arrays or of objects with t/o/h/l/c/v keys"
    if not isinstance(payload, list):
        raise InvalidInputError(f"{file.name}: JSON is not a list; {expected}")
    if all(isinstance(item, dict) for item in payload):
        return pd.DataFrame.from_records(payload), "json objects"
    if all(isinstance(item, list) for item in payload):
        # short rows are padded with None, so they are rejected row by row, not the file
        rows = [(item + [None] * 6)[:6] for item in payload]
        return pd.DataFrame(rows, columns=list(_CCXT_COLUMNS)), "json ccxt arrays [t,o,h,l,c,v]"
    raise InvalidInputError(
        f"{file.name}: JSON rows are neither all arrays nor all objects; {expected}"
    )


def _by_lower_name(frame: Any) -> dict[str, str]:
    """Column names keyed by their lower case; the first column of a given name wins."""
    by_lower: dict[str, str] = {}
    for name in frame.columns:
        by_lower.setdefault(name.lower(), name)
    return by_lower


def _find_time_column(file: Path, frame: Any) -> str:
    by_lower = _by_lower_name(frame)
    for candidate in TIME_COLUMNS:
        if candidate in by_lower:
            return by_lower[candidate]
    raise InvalidInputError(
        f"{file.name}: no timestamp column; expected one of {', '.join(TIME_COLUMNS)}"
    )


def _find_price_columns(file: Path, frame: Any) -> dict[str, str | None]:
    by_lower = _by_lower_name(frame)
    found: dict[str, str | None] = {}
    for field, aliases in _PRICE_COLUMNS.items():
        found[field] = next((by_lower[a] for a in aliases if a in by_lower), None)
    missing = [field for field in ("open", "high", "low", "close") if found[field] is None]
    if missing:
        raise InvalidInputError(
            f"{file.name}: no {', '.join(missing)} column; expected open, high, low, close"
            " and optionally volume (any case, or o, h, l, c, v)"
        )
    return found


def _times_ms(file: Path, column: Any, name: str) -> tuple[list[int | None], str]:
    """Epoch ms per row (``None`` where unreadable) and how the column was read."""
    import pandas as pd

    if isinstance(column.dtype, pd.DatetimeTZDtype):
        return _datetimes_ms(column.dt.tz_convert("UTC").dt.tz_localize(None)), "as UTC datetimes"
    if pd.api.types.is_datetime64_dtype(column):
        return _datetimes_ms(column), "as datetimes (naive, taken as UTC)"
    if pd.api.types.is_bool_dtype(column):
        raise InvalidInputError(f"{file.name}: timestamp column {name!r} holds true/false")
    numbers = pd.to_numeric(column, errors="coerce")
    # mostly numbers: an epoch column with a few junk cells, which become per-row rejections
    if numbers.notna().sum() * 2 > column.notna().sum():
        return _epoch_ms(numbers)
    parsed = pd.to_datetime(column, utc=True, errors="coerce", format="ISO8601")
    if parsed.notna().any():
        return _datetimes_ms(parsed.dt.tz_localize(None)), "as date strings (UTC unless offset)"
    raise InvalidInputError(
        f"{file.name}: timestamp column {name!r} is not readable; expected epoch seconds, ms,"
        " µs or ns, or ISO-8601 date strings"
    )


def _datetimes_ms(naive_utc: Any) -> list[int | None]:
    missing = naive_utc.isna().to_numpy()
    # numpy, unlike pandas, casts NaT to an integer (masked out just below) instead of raising
    millis = naive_utc.to_numpy().astype("datetime64[ms]").astype("int64").tolist()
    return [None if gap else value for value, gap in zip(millis, missing, strict=True)]


def _epoch_ms(numbers: Any) -> tuple[list[int | None], str]:
    magnitude = float(numbers.abs().median())
    _limit, unit, multiply, divide = next(u for u in _UNIT_LIMITS if magnitude <= u[0])
    if numbers.dtype.kind in "iu":
        # integer arithmetic keeps ns/µs epochs exact (a float64 holds only ~16 digits)
        millis = (numbers * multiply // divide).tolist()
    else:
        millis = [
            None if not math.isfinite(value) else round(value * multiply / divide)
            for value in numbers.tolist()
        ]
    return millis, f"in {unit}"


def _rows(
    frame: Any, times: list[int | None], prices: dict[str, str | None]
) -> list[tuple[Any, ...]]:
    # tolist() turns numpy scalars into Python ones, which the validator expects
    zero = [0.0] * len(frame)
    columns = [
        frame[prices[field]].tolist() if prices[field] is not None else zero
        for field in ("open", "high", "low", "close", "volume")
    ]
    return list(zip(times, *columns, strict=True))


def _validate_sorted(
    rows: list[tuple[Any, ...]], *, symbol: str, timeframe: str
) -> tuple[list[Candle], list[Rejection]]:
    """Validate rows in time order; rejections point back at the rows' places in the file."""
    # files are often written newest-first; unreadable times go last (and are rejected there)
    order = sorted(range(len(rows)), key=lambda i: (rows[i][0] is None, rows[i][0] or 0))
    candles, rejections = validate_candle_rows(
        (rows[i] for i in order), symbol=symbol, timeframe=timeframe
    )
    in_file_order = [
        Rejection(order[r.index], r.reason, r.detail)
        for r in sorted(rejections, key=lambda r: order[r.index])
    ]
    return candles, in_file_order
