"""Hyperliquid trading through ccxt, for one wallet: orders, their status and fills, positions.

The one place that signs. ccxt signs each ``/exchange`` action locally with the agent key; the
key lives only inside the ccxt instance, and nothing here puts it in a message or a log line
(ccxt's errors carry the exchange's answer, never the request).

Two ccxt habits are switched off because they act on the user's wallet without being asked:
approving ccxt's own builder fee and setting its referral code, each a signed action sent before
the first order.

Errors are translated at this edge:

- a read that fails on the network (timeout, 429, 5xx) is retried with back-off, then
  :class:`TemporaryError`;
- an order the exchange refuses is :class:`ExchangeRefusal` with the exchange's message;
- an order whose answer never came is :class:`SubmitUncertain`: it may rest on the exchange
  already, so it is never sent again blind — the caller resolves it by its client order id.

Importing this module imports ccxt (slow); nothing imports it at CLI start-up.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import ccxt

from autotrader.core.errors import ConfigError, TemporaryError
from autotrader.live.errors import ExchangeRefusal, SubmitUncertain
from autotrader.live.models import (
    AccountSnapshot,
    ExchangeFill,
    ExchangePosition,
    Execution,
    OrderRequest,
)

_MAX_BACKOFF_S = 30.0
_T = TypeVar("_T")


class _Hyperliquid(ccxt.hyperliquid):
    def handle_builder_fee_approval(self) -> bool:
        return True  # never approve a third party's fee on the user's wallet


class HyperliquidTrader:
    """One wallet on one Hyperliquid deployment (mainnet or testnet)."""

    def __init__(
        self,
        *,
        base_url: str,
        wallet: str,
        private_key: str,
        testnet: bool,
        markets: dict[str, Any],
        timeout_ms: int = 10_000,
        max_retries: int = 3,
        backoff_s: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        rate_limit_ms: int | None = None,
    ) -> None:
        config: dict[str, Any] = {
            "enableRateLimit": True,
            "timeout": int(timeout_ms),
            "walletAddress": wallet,
            "privateKey": private_key,
            # The referral code is set once per wallet by ccxt unless it thinks it already was.
            "options": {"refSet": True, "enableUnifiedMargin": False},
        }
        if rate_limit_ms is not None:
            config["rateLimit"] = rate_limit_ms
        exchange = _Hyperliquid(config)
        if testnet:
            exchange.set_sandbox_mode(True)  # testnet actions are signed for the testnet chain
        exchange.urls["api"] = {"public": base_url, "private": base_url}
        exchange.set_markets(markets)
        self._exchange = exchange
        self.wallet = wallet
        self._max_retries = max_retries
        self._backoff_s = backoff_s
        self._sleep = sleep

    def market_symbol(self, symbol: str) -> str:
        """``BTC`` → ccxt's ``BTC/USDC:USDC`` (the perp)."""
        return f"{symbol}/USDC:USDC"

    def lists(self, symbol: str) -> bool:
        """Whether the venue's markets (as loaded) have the perp of ``symbol``."""
        return self.market_symbol(symbol) in self._exchange.markets

    # -- orders --------------------------------------------------------------------------------

    def place(self, order: OrderRequest) -> Execution:
        """Send one IOC limit order with its client order id; the exchange's answer, with fills.

        Raises :class:`ExchangeRefusal` or :class:`SubmitUncertain` (never retried here).
        """
        params = {
            "timeInForce": "Ioc",
            "clientOrderId": order.cloid,
            "reduceOnly": order.reduce_only,
        }
        try:
            created = self._exchange.create_order(
                self.market_symbol(order.symbol),
                "limit",
                order.side,
                str(order.qty),
                str(order.limit_price),
                params,
            )
        except ccxt.NetworkError as exc:
            raise SubmitUncertain(_brief(exc)) from exc
        except ccxt.BaseError as exc:
            raise ExchangeRefusal(_exchange_message(exc)) from exc
        info = created.get("info") or {}
        oid = (info.get("filled") or info.get("resting") or {}).get("oid")
        if oid is None:
            raise ExchangeRefusal(f"unexpected answer: {json.dumps(info)[:200]}")
        return Execution(str(oid), self.fills_of(str(oid)))

    def place_trigger(
        self,
        symbol: str,
        side: str,
        qty: Decimal,
        trigger_price: Decimal,
        *,
        stop: bool,
        cloid: str,
    ) -> str:
        """Rest a reduce-only market trigger order (a stop or a target); its exchange id.

        Raises :class:`ExchangeRefusal`, or :class:`SubmitUncertain` when no answer came.
        """
        level = "stopLossPrice" if stop else "takeProfitPrice"
        params = {level: str(trigger_price), "reduceOnly": True, "clientOrderId": cloid}
        try:
            created = self._exchange.create_order(
                self.market_symbol(symbol), "market", side, str(qty), str(trigger_price), params
            )
        except ccxt.NetworkError as exc:
            raise SubmitUncertain(_brief(exc)) from exc
        except ccxt.BaseError as exc:
            raise ExchangeRefusal(_exchange_message(exc)) from exc
        oid = ((created.get("info") or {}).get("resting") or {}).get("oid")
        if oid is None:
            raise ExchangeRefusal(f"unexpected answer: {json.dumps(created.get('info'))[:200]}")
        return str(oid)

    def find(self, symbol: str, cloid: str) -> Execution | None:
        """The order with this client order id and its fills, or None when the exchange has none."""
        try:
            found = self._read(
                "orderStatus",
                lambda: self._exchange.fetch_order(
                    "", self.market_symbol(symbol), {"clientOrderId": cloid}
                ),
            )
        except _NotFound:
            return None
        oid = found.get("id")
        return None if oid is None else Execution(str(oid), self.fills_of(str(oid)))

    def fills_of(self, oid: str) -> tuple[ExchangeFill, ...]:
        trades = self._read("userFills", lambda: self._exchange.fetch_my_trades())
        return tuple(
            ExchangeFill(
                qty=Decimal(t["info"]["sz"]),
                price=Decimal(t["info"]["px"]),
                fee=Decimal(t["info"]["fee"]),
            )
            for t in trades
            if str(t["info"].get("oid")) == oid
        )

    def open_orders(self) -> list[dict[str, Any]]:
        """The wallet's resting orders as the exchange reports them (raw rows)."""
        rows = self._read("openOrders", lambda: self._exchange.fetch_open_orders())
        return [row["info"] for row in rows]

    def cancel(self, symbol: str, oid: str) -> bool:
        """Cancel a resting order; False when it no longer rests (filled or cancelled)."""
        try:
            self._read(
                "cancel", lambda: self._exchange.cancel_order(oid, self.market_symbol(symbol))
            )
        except _NotFound:
            return False  # "never placed, already canceled, or filled", as the exchange says
        except TemporaryError as exc:
            if isinstance(exc.__cause__, ccxt.NetworkError):
                raise
            return False  # the exchange says it is not there to cancel
        return True

    # -- the wallet ----------------------------------------------------------------------------

    def signer_approved(self) -> str:
        """Why the key may sign for the wallet: it is the wallet's own key, or an agent the
        wallet approved (``extraAgents``). Raises ``ConfigError`` otherwise."""
        signer = ccxt.Exchange.eth_get_address_from_private_key(self._exchange.privateKey).lower()
        if signer == self.wallet.lower():
            return "the key is the wallet's own"
        agents = self._read(
            "extraAgents",
            lambda: self._exchange.publicPostInfo({"type": "extraAgents", "user": self.wallet}),
        )
        for agent in agents if isinstance(agents, list) else []:
            if str(agent.get("address", "")).lower() == signer:
                return f"the key is the approved agent {agent.get('name') or signer}"
        raise ConfigError(
            [
                f"AUTOTRADER_LIVE_PRIVATE_KEY signs as {signer}, which is neither the wallet nor "
                "an agent it approved: orders would be refused"
            ],
            header="live credentials",
        )

    def snapshot(self) -> AccountSnapshot:
        """Account value, total open notional and positions (``clearinghouseState``)."""
        state = self._read(
            "clearinghouseState",
            lambda: self._exchange.publicPostInfo(
                {"type": "clearinghouseState", "user": self.wallet}
            ),
        )
        summary = state.get("marginSummary") or {}
        positions = tuple(
            ExchangePosition(
                symbol=p["position"]["coin"],
                size=Decimal(p["position"]["szi"]),
                entry_price=Decimal(p["position"]["entryPx"] or "0"),
                notional=Decimal(p["position"]["positionValue"]),
            )
            for p in state.get("assetPositions") or []
        )
        return AccountSnapshot(
            account_value=Decimal(summary.get("accountValue") or "0"),
            total_notional=Decimal(summary.get("totalNtlPos") or "0"),
            positions=positions,
        )

    # -- error translation ---------------------------------------------------------------------

    def _read(self, operation: str, request: Callable[[], _T]) -> _T:
        """Run a read (or an idempotent cancel), retrying network failures with back-off."""
        attempts = self._max_retries + 1
        for attempt in range(attempts):
            try:
                return request()
            except ccxt.OrderNotFound as exc:
                raise _NotFound(operation) from exc
            except ccxt.NetworkError as exc:
                if attempt + 1 >= attempts:
                    raise TemporaryError(
                        f"Hyperliquid {operation} failed after {attempts} attempt(s): {_brief(exc)}"
                    ) from exc
                self._sleep(min(self._backoff_s * 2**attempt, _MAX_BACKOFF_S))
            except ccxt.BaseError as exc:
                raise TemporaryError(
                    f"Hyperliquid {operation} failed: {_exchange_message(exc)}"
                ) from exc
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


class _NotFound(Exception):
    pass


def _brief(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def _exchange_message(exc: BaseException) -> str:
    """The exchange's own reason from a ccxt error (``hyperliquid {body}``), else a summary."""
    text = str(exc)
    _, _, body = text.partition(" ")
    try:
        payload = json.loads(body)
    except ValueError:
        return text[:200]
    if isinstance(payload, dict):
        if payload.get("status") == "err":
            return str(payload.get("response"))[:200]
        statuses = ((payload.get("response") or {}).get("data") or {}).get("statuses") or []
        for status in statuses:
            if isinstance(status, dict) and status.get("error"):
                return str(status["error"])[:200]
    return text[:200]
