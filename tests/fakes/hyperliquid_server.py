"""A loopback fake of Hyperliquid's public ``POST /info`` API, for tests that run real ccxt.

ccxt sends every public Hyperliquid call as ``POST {urls.api.public}/info`` with a JSON body
whose ``type`` selects the query. This server answers the types ccxt needs to load markets and
read funding (``meta``, ``metaAndAssetCtxs``, ``spotMeta``, ``spotMetaAndAssetCtxs``,
``perpDexs``, ``allMids``) from a fixture file of real payloads in tests/data/ccxt/,
``predictedFundings`` from the documented example answer there plus the coins a test predicts
(:meth:`FakeHyperliquid.predict_funding`, in the same shape),
``candleSnapshot`` from candle series the test seeds, and ``userNonFundingLedgerUpdates`` (an
address's deposits, withdrawals and transfers, for the treasury's payment verifier) from rows the
test adds — real rows from tests/data/ccxt/ and transfers built by :func:`transfer_row`. Tests can
inject HTTP failures and slow responses.

Usage::

    with FakeHyperliquid() as fake:
        fake.set_candles("BTC", "1m", make_candle_rows("BTC", "1m", start_ms, 100))
        exchange = ccxt.hyperliquid({"urls": {"api": {"public": fake.url, "private": fake.url}}})
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tests.conftest import TEST_DATA
from tests.fakes._loopback import Loopback, QuietHandler

FIXTURE_NAME = "hyperliquid_info_fixtures.json"
LEDGER_FIXTURE = "hyperliquid_user_non_funding_ledger_updates.json"
PREDICTED_FIXTURE = "hyperliquid_predicted_fundings.json"
HYPERLIQUID_MAX_CANDLES = 5000  # the real API never returns more per candleSnapshot request
INTERVAL_MS = {"1m": 60_000, "5m": 300_000, "15m": 900_000, "1h": 3_600_000, "1d": 86_400_000}
_STATIC_TYPES = ("meta", "metaAndAssetCtxs", "spotMeta", "spotMetaAndAssetCtxs", "perpDexs")


def fixture_path() -> Path:
    """The fixture file of real ``/info`` payloads, shipped in ``tests/data/ccxt/``."""
    return TEST_DATA / "ccxt" / FIXTURE_NAME


def load_info_fixtures() -> dict[str, Any]:
    """The raw ``POST /info`` payloads keyed by request type."""
    return json.loads(fixture_path().read_text(encoding="utf-8"))


def real_ledger_updates() -> list[dict[str, Any]]:
    """A real ``userNonFundingLedgerUpdates`` answer: a withdrawal, an account-class transfer and
    a deposit — none of them a transfer to anyone (tests/data/ccxt/)."""
    data = json.loads((TEST_DATA / "ccxt" / LEDGER_FIXTURE).read_text(encoding="utf-8"))
    return data["userNonFundingLedgerUpdates"]


def documented_predicted_fundings() -> list[Any]:
    """The ``predictedFundings`` example answer of Hyperliquid's docs (AVAX on three venues)."""
    data = json.loads((TEST_DATA / "ccxt" / PREDICTED_FIXTURE).read_text(encoding="utf-8"))
    return data["predictedFundings"]


def transfer_row(
    *,
    sender: str,
    destination: str,
    amount: str,
    time_ms: int,
    tx: str,
    kind: str = "internalTransfer",
) -> dict[str, Any]:
    """A USDC transfer as Hyperliquid reports it in ``userNonFundingLedgerUpdates`` (addresses
    in lowercase, amounts as strings): an ``internalTransfer`` (field ``usdc``) or a ``send``
    (field ``amount``, token USDC). ``tx`` is the transaction hash (``0x`` + 64 hex digits)."""
    delta: dict[str, Any] = {
        "type": kind,
        "user": sender.lower(),
        "destination": destination.lower(),
    }
    if kind == "send":
        delta |= {"sourceDex": "", "destinationDex": "", "token": "USDC", "amount": amount,
                  "usdcValue": amount, "fee": "0.0", "nativeTokenFee": "0.0", "nonce": time_ms,
                  "feeToken": "USDC"}  # fmt: skip
    else:
        delta |= {"usdc": amount, "fee": "0.0"}
    return {"time": time_ms, "hash": tx, "delta": delta}


def make_candle_rows(
    coin: str,
    interval: str,
    start_ms: int,
    count: int,
    *,
    base_price: float = 100.0,
) -> list[dict[str, Any]]:
    """``count`` consecutive Hyperliquid candle rows from ``start_ms``, the same on every call.

    Rows have Hyperliquid's shape (``t`` open ms, ``T`` close ms, prices and volume as strings)
    and always satisfy ``low <= open, close <= high``.
    """
    step = INTERVAL_MS[interval]
    rows = []
    for i in range(count):
        open_ = base_price + (i % 7) - 3
        close = base_price + (i % 5) - 2
        rows.append(
            {
                "t": start_ms + i * step,
                "T": start_ms + (i + 1) * step - 1,
                "s": coin,
                "i": interval,
                "o": f"{open_:.1f}",
                "c": f"{close:.1f}",
                "h": f"{max(open_, close) + 1.5:.1f}",
                "l": f"{min(open_, close) - 1.5:.1f}",
                "v": f"{10 + i % 3}.25",
                "n": 5 + i % 4,
            }
        )
    return rows


class _Handler(QuietHandler):
    def do_POST(self) -> None:
        try:
            body = json.loads(self.read_body() or b"null")
        except ValueError:
            body = None
        self.reply(*self.server.fake._answer(self.path, body))


class FakeHyperliquid:
    """A Hyperliquid ``/info`` server on 127.0.0.1 (a free port), served from a daemon thread.

    ``url`` is the base URL to give ccxt; ``requests`` holds every parsed request body in
    arrival order (failed and delayed ones included).
    """

    def __init__(self, *, max_candles: int = HYPERLIQUID_MAX_CANDLES) -> None:
        self.max_candles = max_candles
        self.requests: list[Any] = []
        self._fixtures = load_info_fixtures()
        self._candles: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._ledger: dict[str, list[Any]] = {}
        self._predicted: list[Any] = documented_predicted_fundings()
        self._lock = threading.Lock()
        self._failures: list[tuple[int, str | None]] = []  # (status, only this type or any)
        self._odd_answers: dict[str, list[Any]] = {}  # request type → 200 bodies to send first
        self._delays: list[float] = []
        self._loopback = Loopback(_Handler, self)

    @property
    def url(self) -> str:
        return self._loopback.url

    # -- seeding and failure injection ------------------------------------------------------

    def set_candles(self, coin: str, interval: str, rows: Iterable[dict[str, Any]]) -> None:
        """Serve these rows (Hyperliquid's dict shape, any order, may be malformed) for coin."""
        with self._lock:
            self._candles[(coin, interval)] = list(rows)

    def add_ledger_updates(self, user: str, rows: Iterable[Any]) -> None:
        """Serve these ``userNonFundingLedgerUpdates`` rows for ``user`` (any case; rows may be
        malformed), newest first as Hyperliquid answers."""
        with self._lock:
            self._ledger.setdefault(user.lower(), []).extend(rows)

    def predict_funding(
        self, coin: str, rate: str, *, interval_hours: int = 1, next_ms: int = 0
    ) -> None:
        """Add ``coin`` to the ``predictedFundings`` answer: Binance's prediction beside it, as
        the real answer lists other venues first, and Hyperliquid's ``rate`` per
        ``interval_hours``."""
        venues = [
            ["BinPerp", {"fundingRate": "0.0001", "nextFundingTime": next_ms}],
            [
                "HlPerp",
                {
                    "fundingRate": rate,
                    "nextFundingTime": next_ms,
                    "fundingIntervalHours": interval_hours,
                },
            ],
        ]
        with self._lock:
            self._predicted.append([coin, venues])

    def fail_next(self, n: int, status: int = 500, *, request_type: str | None = None) -> None:
        """Answer the next ``n`` requests (of ``request_type`` only, if given) with ``status``."""
        with self._lock:
            self._failures.extend([(status, request_type)] * n)

    def answer_next(self, request_type: str, payload: Any) -> None:
        """Answer the next request of ``request_type`` with ``payload`` (HTTP 200), whatever it
        asks: a malformed payload from the exchange."""
        with self._lock:
            self._odd_answers.setdefault(request_type, []).append(payload)

    def delay_next(self, n: int, seconds: float) -> None:
        """Sleep ``seconds`` before answering each of the next ``n`` requests."""
        with self._lock:
            self._delays.extend([seconds] * n)

    def requests_of(self, request_type: str) -> list[dict[str, Any]]:
        """The recorded request bodies whose ``type`` is ``request_type``."""
        return [r for r in self.requests if isinstance(r, dict) and r.get("type") == request_type]

    # -- lifecycle --------------------------------------------------------------------------

    def close(self) -> None:
        self._loopback.close()

    def __enter__(self) -> FakeHyperliquid:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- answering ---------------------------------------------------------------------------

    def _answer(self, path: str, body: Any) -> tuple[int, Any]:
        request_type = body.get("type") if isinstance(body, dict) else None
        with self._lock:
            self.requests.append(body)
            delay = self._delays.pop(0) if self._delays else 0.0
            failure = self._take_failure(request_type)
            odd = self._odd_answers.get(str(request_type)) or []
            oddity = odd.pop(0) if odd else None
        if oddity is not None:
            return 200, oddity
        if delay:
            time.sleep(delay)
        if failure is not None:
            return failure, b"injected failure"
        return self._route(path, request_type, body)

    def _route(self, path: str, request_type: Any, body: Any) -> tuple[int, Any]:
        """Answer one request that no injected failure or delay took (subclasses add routes)."""
        if path.rstrip("/") != "/info":
            return 404, b"not found"
        if request_type in _STATIC_TYPES:
            return 200, self._fixtures[request_type]
        if request_type == "allMids":
            return 200, self._fixtures["allMids"]
        if request_type == "predictedFundings":
            return 200, self._predicted
        if request_type == "candleSnapshot":
            return 200, self._candle_snapshot(body.get("req") or {})
        if request_type == "userNonFundingLedgerUpdates":
            return 200, self._ledger_updates(body)
        # Hyperliquid answers an unknown or malformed body with 422 and a plain-text reason.
        return 422, b"Failed to deserialize the JSON body into the target type"

    def _take_failure(self, request_type: str | None) -> int | None:
        for i, (status, only_type) in enumerate(self._failures):
            if only_type is None or only_type == request_type:
                del self._failures[i]
                return status
        return None

    def _ledger_updates(self, body: dict[str, Any]) -> list[Any]:
        start = int(body.get("startTime") or 0)
        end = int(body.get("endTime") or 2**62)
        with self._lock:
            rows = list(self._ledger.get(str(body.get("user", "")).lower(), []))

        def at(row: Any) -> int | None:
            time = row.get("time") if isinstance(row, dict) else None
            return time if isinstance(time, int) else None

        # A row without a readable time is served whatever the range: the verifier must cope.
        kept = [r for r in rows if at(r) is None or start <= at(r) <= end]  # type: ignore[operator]
        return sorted(kept, key=lambda r: at(r) or 0, reverse=True)

    def _candle_snapshot(self, req: dict[str, Any]) -> list[dict[str, Any]]:
        start = int(req.get("startTime") or 0)
        end = int(req.get("endTime") or 2**62)
        with self._lock:
            rows = list(self._candles.get((str(req.get("coin")), str(req.get("interval"))), []))

        def open_time(row: dict[str, Any]) -> int:
            try:
                return int(row["t"])
            except (KeyError, TypeError, ValueError):
                return -1

        in_range = sorted((r for r in rows if start <= open_time(r) <= end), key=open_time)
        # The earliest rows of the range are served, so a client must advance from the last one.
        return in_range[: min(self.max_candles, HYPERLIQUID_MAX_CANDLES)]
