"""A loopback fake of Hyperliquid's trading API for one wallet, for tests that run real ccxt.

It extends :class:`FakeHyperliquid` (the public ``/info`` market data) with what a trading
client needs:

- ``POST /exchange`` with the actions ccxt sends — ``order`` (limit and IOC "market" orders,
  reduce-only trigger orders), ``cancel``, ``cancelByCloid`` and ``batchModify``. The signature
  is not verified, but every payload's shape is checked the way the exchange checks it (a
  malformed one gets a 422), so a test fails when ccxt or we send something Hyperliquid would
  refuse.
- ``POST /info`` for the wallet: ``orderStatus`` (by exchange id or cloid), ``openOrders`` /
  ``frontendOpenOrders``, ``userFills`` / ``userFillsByTime``, ``clearinghouseState`` and
  ``extraAgents`` (the API wallets it approved, :meth:`approve_agent`).

The book is a single price per coin (:meth:`set_price`): an order that crosses it fills there,
up to the coin's available liquidity (:meth:`set_liquidity`, for partial fills); taker fees are
charged at :data:`TAKER_FEE`. Moving the price (:meth:`set_price`) fires trigger orders, so a
stop or target hit on the exchange shows up as the exchange's own fills. Tests can refuse the
next order with the exchange's message (:meth:`refuse_next`), or accept it and then stall the
answer past the client's timeout (:meth:`stall_after_accept`), the "response lost" case.

Usage::

    with FakeHyperliquidExchange(wallet=WALLET) as fake:
        fake.set_price("BTC", "60000")
        exchange = ccxt.hyperliquid({"urls": {"api": {"public": fake.url, "private": fake.url}},
                                     "walletAddress": WALLET, "privateKey": KEY})
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tests.fakes.hyperliquid_server import FakeHyperliquid

TAKER_FEE = Decimal("0.00045")
WALLET = "0x" + "ab" * 20
PRIVATE_KEY = "0x" + "11" * 32  # a throwaway test key: ccxt signs with it, the fake never checks
_CLOID = re.compile(r"^0x[0-9a-f]{32}$")
_ORDER_KEYS = {"a", "b", "p", "s", "r", "t"}


class PayloadError(ValueError):
    """A request Hyperliquid would refuse to deserialize (answered with a 422)."""


@dataclass
class FakeOrder:
    oid: int
    coin: str
    is_buy: bool
    limit_px: Decimal
    orig_sz: Decimal
    reduce_only: bool
    tif: str | None
    cloid: str | None
    timestamp: int
    trigger_px: Decimal | None = None
    tpsl: str | None = None
    remaining: Decimal = Decimal(0)
    status: str = "open"
    status_timestamp: int = 0

    def wire(self) -> dict[str, Any]:
        """The order as ``orderStatus`` and ``frontendOpenOrders`` answer it."""
        trigger = self.trigger_px is not None
        order_type = (
            ("Stop Market" if self.tpsl == "sl" else "Take Profit Market")
            if trigger
            else ("Market" if self.tif == "Ioc" else "Limit")
        )
        row: dict[str, Any] = {
            "coin": self.coin,
            "side": "B" if self.is_buy else "A",
            "limitPx": _text(self.limit_px),
            "sz": _text(self.remaining),
            "oid": self.oid,
            "timestamp": self.timestamp,
            "triggerCondition": "N/A" if not trigger else f"Price crosses {self.trigger_px}",
            "isTrigger": trigger,
            "triggerPx": _text(self.trigger_px) if trigger else "0.0",
            "children": [],
            "isPositionTpsl": False,
            "reduceOnly": self.reduce_only,
            "orderType": order_type,
            "origSz": _text(self.orig_sz),
            "tif": self.tif,
            "cloid": self.cloid,
        }
        return row


@dataclass
class _Position:
    szi: Decimal = Decimal(0)  # signed size: + long, − short
    entry_px: Decimal = Decimal(0)
    leverage: int = 1


@dataclass
class _Wallet:
    cash: Decimal = Decimal("10000")  # USDC: deposits + realized PnL − fees
    positions: dict[str, _Position] = field(default_factory=dict)


class FakeHyperliquidExchange(FakeHyperliquid):
    """Hyperliquid ``/info`` + ``/exchange`` for one wallet on 127.0.0.1 (a free port).

    ``orders`` holds every order the exchange accepted (by exchange id), ``fills`` every fill
    it made, ``actions`` every ``/exchange`` action it received (refused ones included).
    """

    def __init__(self, *, wallet: str = WALLET, balance: str = "10000", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.wallet = wallet.lower()
        self.orders: dict[int, FakeOrder] = {}
        self.fills: list[dict[str, Any]] = []
        self.actions: list[dict[str, Any]] = []
        self._account = _Wallet(cash=Decimal(balance))
        self._prices: dict[str, Decimal] = {}
        self._liquidity: dict[str, Decimal] = {}
        self._refusals: list[str] = []
        self._agents: list[dict[str, Any]] = []
        self._stalls: list[float] = []
        self._next_oid = 1000
        self._next_tid = 1
        self._now_ms = 1_700_000_000_000

    # -- seeding and fault injection -----------------------------------------------------------

    def set_price(self, coin: str, price: str) -> None:
        """The coin's one price; resting trigger orders it crosses fire (the exchange's fills)."""
        with self._lock:
            self._prices[coin] = Decimal(price)
            self._fire_triggers(coin)

    def set_liquidity(self, coin: str, qty: str | None) -> None:
        """At most ``qty`` of ``coin`` fills per order (the rest of an IOC order is cancelled)."""
        with self._lock:
            if qty is None:
                self._liquidity.pop(coin, None)
            else:
                self._liquidity[coin] = Decimal(qty)

    def refuse_next(self, message: str) -> None:
        """Refuse the next order with ``message`` in its status, as Hyperliquid reports it."""
        with self._lock:
            self._refusals.append(message)

    def stall_after_accept(self, seconds: float) -> None:
        """Accept (and fill) the next order, then wait ``seconds`` before answering."""
        with self._lock:
            self._stalls.append(seconds)

    def approve_agent(self, address: str, name: str = "autotrader") -> None:
        """The wallet approves ``address`` as an API (agent) wallet that may sign for it."""
        with self._lock:
            self._agents.append({"name": name, "address": address.lower(), "validUntil": 2**53})

    def open_position(self, coin: str, szi: str, entry_px: str) -> None:
        """A position the store knows nothing of (opened on the exchange's own UI, say)."""
        with self._lock:
            self._account.positions[coin] = _Position(Decimal(szi), Decimal(entry_px))

    def rest_order(self, coin: str, *, is_buy: bool, px: str, sz: str, cloid: str) -> int:
        """A good-till-cancelled limit order resting on the book (left by a process that died,
        say); its exchange id."""
        with self._lock:
            order = FakeOrder(
                oid=self._next_oid,
                coin=coin,
                is_buy=is_buy,
                limit_px=Decimal(px),
                orig_sz=Decimal(sz),
                reduce_only=False,
                tif="Gtc",
                cloid=cloid,
                timestamp=self._now_ms,
                remaining=Decimal(sz),
                status_timestamp=self._now_ms,
            )
            self._next_oid += 1
            self.orders[order.oid] = order
            return order.oid

    # -- what reached the exchange ------------------------------------------------------------

    def placed_orders(self) -> list[FakeOrder]:
        """Every accepted order, oldest first."""
        with self._lock:
            return sorted(self.orders.values(), key=lambda o: o.oid)

    def open_orders(self) -> list[FakeOrder]:
        with self._lock:
            return [o for o in self.orders.values() if o.status == "open"]

    def position(self, coin: str) -> Decimal:
        """The signed size held in ``coin`` (0 when flat)."""
        with self._lock:
            held = self._account.positions.get(coin)
            return held.szi if held else Decimal(0)

    # -- routing -------------------------------------------------------------------------------

    def _route(self, path: str, request_type: Any, body: Any) -> tuple[int, Any]:
        if path.rstrip("/") == "/exchange":
            return self._exchange(body)
        answer = self._wallet_info(request_type, body)
        if answer is not None:
            return answer
        return super()._route(path, request_type, body)

    def _exchange(self, body: Any) -> tuple[int, Any]:
        try:
            action = _check_signed(body)
        except PayloadError as exc:
            return 422, f"Failed to deserialize the JSON body into the target type: {exc}".encode()
        kind, stall = action["type"], 0.0
        with self._lock:
            self.actions.append(action)
            self._now_ms += 1000
            try:
                if kind == "order":
                    statuses = [self._place(order) for order in action["orders"]]
                    stall = self._stalls.pop(0) if self._stalls else 0.0
                elif kind in ("cancel", "cancelByCloid"):
                    by_cloid = kind == "cancelByCloid"
                    statuses = [self._cancel(c, by_cloid=by_cloid) for c in action["cancels"]]
                else:
                    statuses = [self._modify(m) for m in action["modifies"]]
            except PayloadError as exc:
                return 422, f"Failed to deserialize the JSON body: {exc}".encode()
        if stall:
            time.sleep(stall)
        return 200, {"status": "ok", "response": {"type": kind, "data": {"statuses": statuses}}}

    # -- /exchange actions (called with the lock held) --------------------------------------------

    def _place(self, wire: dict[str, Any]) -> Any:
        coin = self._coin(wire["a"])
        if self._refusals:
            return {"error": self._refusals.pop(0)}
        cloid = wire.get("c")
        if cloid is not None and any(o.cloid == cloid for o in self.orders.values()):
            return {"error": "Duplicate cloid"}  # what protects a blind resubmission
        kind = wire["t"]
        trigger = kind.get("trigger")
        order = FakeOrder(
            oid=self._next_oid,
            coin=coin,
            is_buy=bool(wire["b"]),
            limit_px=Decimal(wire["p"]),
            orig_sz=Decimal(wire["s"]),
            reduce_only=bool(wire["r"]),
            tif=(kind.get("limit") or {}).get("tif"),
            cloid=cloid,
            timestamp=self._now_ms,
            trigger_px=Decimal(trigger["triggerPx"]) if trigger else None,
            tpsl=trigger["tpsl"] if trigger else None,
            status_timestamp=self._now_ms,
        )
        order.remaining = order.orig_sz
        if order.orig_sz * order.limit_px < 10 and not order.reduce_only:
            return {"error": "Order must have minimum value of $10."}
        self._next_oid += 1
        self.orders[order.oid] = order
        if trigger:
            return {"resting": {"oid": order.oid, **({"cloid": cloid} if cloid else {})}}
        self._match(order)
        if order.orig_sz == order.remaining:
            order.status = "canceled" if order.tif == "Ioc" else "open"
            if order.tif == "Ioc":
                return {"error": "Order could not immediately match against any resting orders."}
            return {"resting": {"oid": order.oid}}
        filled = order.orig_sz - order.remaining
        if order.tif == "Ioc" or order.remaining == 0:
            order.status = "filled" if order.remaining == 0 else "canceled"
        avg = self._avg_px(order.oid)
        return {"filled": {"totalSz": _text(filled), "avgPx": _text(avg), "oid": order.oid}}

    def _cancel(self, wire: dict[str, Any], *, by_cloid: bool) -> Any:
        if by_cloid:
            match = [o for o in self.orders.values() if o.cloid == wire["cloid"]]
        else:
            match = [o for o in self.orders.values() if o.oid == int(wire["o"])]
        if not match or match[0].status != "open":
            return {"error": "Order was never placed, already canceled, or filled."}
        match[0].status = "canceled"
        match[0].status_timestamp = self._now_ms
        return "success"

    def _modify(self, wire: dict[str, Any]) -> Any:
        _check_order(wire["order"])
        old = self.orders.get(int(wire["oid"]))
        if old is None or old.status != "open":
            return {"error": "Cannot modify canceled or filled order"}
        old.status = "canceled"
        replacement = dict(wire["order"])
        replacement.pop("c", None)  # the cloid stays with the order being replaced
        status = self._place(replacement)
        return status

    def _match(self, order: FakeOrder) -> None:
        price = self._prices.get(order.coin)
        if price is None:
            return
        crosses = price <= order.limit_px if order.is_buy else price >= order.limit_px
        if not crosses:
            return
        qty = order.remaining
        if order.reduce_only:
            held = self._account.positions.get(order.coin)
            qty = min(qty, abs(held.szi) if held else Decimal(0))
        available = self._liquidity.get(order.coin)
        if available is not None:
            qty = min(qty, available)
        if qty > 0:
            self._fill(order, qty, price)

    def _fill(self, order: FakeOrder, qty: Decimal, price: Decimal) -> None:
        held = self._account.positions.setdefault(order.coin, _Position())
        signed = qty if order.is_buy else -qty
        closed_pnl = Decimal(0)
        start = held.szi
        if held.szi == 0 or (held.szi > 0) == (signed > 0):
            total = abs(held.szi) + qty
            held.entry_px = (abs(held.szi) * held.entry_px + qty * price) / total
            direction = "Open Long" if order.is_buy else "Open Short"
        else:
            closing = min(qty, abs(held.szi))
            sign = 1 if held.szi > 0 else -1
            closed_pnl = (price - held.entry_px) * closing * sign
            direction = "Close Long" if held.szi > 0 else "Close Short"
        held.szi += signed
        if held.szi == 0:
            del self._account.positions[order.coin]
        fee = (qty * price * TAKER_FEE).quantize(Decimal("0.000001"))
        self._account.cash += closed_pnl - fee
        order.remaining -= qty
        order.status_timestamp = self._now_ms
        self.fills.append(
            {
                "coin": order.coin,
                "px": _text(price),
                "sz": _text(qty),
                "side": "B" if order.is_buy else "A",
                "time": self._now_ms,
                "startPosition": _text(start),
                "dir": direction,
                "closedPnl": _text(closed_pnl),
                "hash": "0x" + f"{self._next_tid:064x}",
                "oid": order.oid,
                "crossed": True,
                "fee": _text(fee),
                "tid": self._next_tid,
                "feeToken": "USDC",
                **({"cloid": order.cloid} if order.cloid else {}),
            }
        )
        self._next_tid += 1

    def _fire_triggers(self, coin: str) -> None:
        price = self._prices[coin]
        for order in sorted(self.orders.values(), key=lambda o: o.oid):
            if order.coin != coin or order.status != "open" or order.trigger_px is None:
                continue
            # A stop sells below (buys above) its trigger; a target the other way round.
            selling = not order.is_buy
            below = price <= order.trigger_px
            hit = below if (order.tpsl == "sl") == selling else not below
            if not hit:
                continue
            held = self._account.positions.get(coin)
            if held is None or held.szi == 0:
                order.status = "canceled"
                continue
            self._fill(order, min(order.remaining, abs(held.szi)), price)
            order.status = "filled"

    def _avg_px(self, oid: int) -> Decimal:
        rows = [f for f in self.fills if f["oid"] == oid]
        qty = sum((Decimal(f["sz"]) for f in rows), Decimal(0))
        return sum((Decimal(f["sz"]) * Decimal(f["px"]) for f in rows), Decimal(0)) / qty

    def _coin(self, asset: Any) -> str:
        universe = self._fixtures["meta"]["universe"]
        if not isinstance(asset, int) or not 0 <= asset < len(universe):
            raise PayloadError(f"unknown asset {asset!r}")
        return universe[asset]["name"]

    # -- /info for the wallet ------------------------------------------------------------------

    def _wallet_info(self, request_type: Any, body: Any) -> tuple[int, Any] | None:
        handlers = {
            "orderStatus": self._order_status,
            "openOrders": self._open_orders_info,
            "frontendOpenOrders": self._open_orders_info,
            "userFills": self._user_fills,
            "userFillsByTime": self._user_fills,
            "clearinghouseState": self._clearinghouse,
            "extraAgents": lambda body: list(self._agents),
        }
        handler = handlers.get(str(request_type))
        if handler is None:
            return None
        if not isinstance(body.get("user"), str) or not body["user"].startswith("0x"):
            return 422, b"Failed to deserialize the JSON body into the target type"
        with self._lock:
            if body["user"].lower() != self.wallet:
                return 200, _EMPTY.get(str(request_type), [])
            return 200, handler(body)

    def _order_status(self, body: dict[str, Any]) -> Any:
        wanted = body.get("oid")
        for order in self.orders.values():
            if wanted in (order.oid, order.cloid):
                return {
                    "status": "order",
                    "order": {
                        "order": order.wire(),
                        "status": order.status,
                        "statusTimestamp": order.status_timestamp,
                    },
                }
        return {"status": "unknownOid"}

    def _open_orders_info(self, body: dict[str, Any]) -> Any:
        return [o.wire() for o in self.orders.values() if o.status == "open"]

    def _user_fills(self, body: dict[str, Any]) -> Any:
        start = int(body.get("startTime") or 0)
        return [f for f in reversed(self.fills) if f["time"] >= start]

    def _clearinghouse(self, body: dict[str, Any]) -> Any:
        positions, notional, unrealized = [], Decimal(0), Decimal(0)
        for coin, held in self._account.positions.items():
            mark = self._prices.get(coin, held.entry_px)
            value = abs(held.szi) * mark
            pnl = (mark - held.entry_px) * held.szi
            notional += value
            unrealized += pnl
            positions.append(
                {
                    "type": "oneWay",
                    "position": {
                        "coin": coin,
                        "szi": _text(held.szi),
                        "leverage": {"type": "cross", "value": held.leverage},
                        "entryPx": _text(held.entry_px),
                        "positionValue": _text(value),
                        "unrealizedPnl": _text(pnl),
                        "returnOnEquity": "0.0",
                        "liquidationPx": None,
                        "marginUsed": _text(value / held.leverage),
                        "maxLeverage": 50,
                        "cumFunding": {"allTime": "0.0", "sinceOpen": "0.0", "sinceChange": "0.0"},
                    },
                }
            )
        value = self._account.cash + unrealized
        summary = {
            "accountValue": _text(value),
            "totalNtlPos": _text(notional),
            "totalRawUsd": _text(self._account.cash),
            "totalMarginUsed": _text(notional),
        }
        return {
            "marginSummary": summary,
            "crossMarginSummary": summary,
            "crossMaintenanceMarginUsed": "0.0",
            "withdrawable": _text(value - notional),
            "assetPositions": positions,
            "time": self._now_ms,
        }


_EMPTY: dict[str, Any] = {"orderStatus": {"status": "unknownOid"}}


def _text(value: Decimal | None) -> str:
    if value is None:
        return "0.0"
    text = format(value.normalize(), "f")
    return text if "." in text else text + ".0"


def _check_signed(body: Any) -> dict[str, Any]:
    """The action of a signed ``/exchange`` request, or :class:`PayloadError`."""
    if not isinstance(body, dict):
        raise PayloadError("body is not an object")
    if not isinstance(body.get("nonce"), int):
        raise PayloadError("nonce must be an integer (ms)")
    signature = body.get("signature")
    if not isinstance(signature, dict) or set(signature) != {"r", "s", "v"}:
        raise PayloadError("signature must be {r, s, v}")
    action = body.get("action")
    if not isinstance(action, dict):
        raise PayloadError("action must be an object")
    kind = action.get("type")
    if kind == "order":
        if action.get("grouping") not in ("na", "normalTpsl", "positionTpsl"):
            raise PayloadError("grouping")
        for order in _list(action, "orders"):
            _check_order(order)
    elif kind == "cancel":
        for cancel in _list(action, "cancels"):
            if set(cancel) != {"a", "o"} or not isinstance(cancel["o"], int):
                raise PayloadError("cancel must be {a, o}")
    elif kind == "cancelByCloid":
        for cancel in _list(action, "cancels"):
            if set(cancel) != {"asset", "cloid"} or not _CLOID.match(str(cancel["cloid"])):
                raise PayloadError("cancelByCloid must be {asset, cloid}")
    elif kind == "batchModify":
        for modify in _list(action, "modifies"):
            if set(modify) != {"oid", "order"}:
                raise PayloadError("modify must be {oid, order}")
    else:
        raise PayloadError(f"unsupported action {kind!r}")
    return action


def _check_order(order: Any) -> None:
    if not isinstance(order, dict) or not _ORDER_KEYS <= set(order) <= _ORDER_KEYS | {"c"}:
        raise PayloadError("order must be {a, b, p, s, r, t[, c]}")
    if not isinstance(order["b"], bool) or not isinstance(order["r"], bool):
        raise PayloadError("b and r are booleans")
    for key in ("p", "s"):
        try:
            if Decimal(order[key]) <= 0:
                raise PayloadError(f"{key} must be positive")
        except (TypeError, ArithmeticError, ValueError) as exc:
            raise PayloadError(f"{key} must be a decimal string") from exc
    if "c" in order and not _CLOID.match(str(order["c"])):
        raise PayloadError("cloid must be 0x + 32 hex digits")
    kind = order["t"]
    if not isinstance(kind, dict) or len(kind) != 1:
        raise PayloadError("t must be {limit} or {trigger}")
    if "limit" in kind:
        if kind["limit"].get("tif") not in ("Gtc", "Ioc", "Alo"):
            raise PayloadError("tif")
    elif "trigger" in kind:
        trigger = kind["trigger"]
        if set(trigger) != {"isMarket", "triggerPx", "tpsl"} or trigger["tpsl"] not in ("tp", "sl"):
            raise PayloadError("trigger must be {isMarket, triggerPx, tpsl}")
    else:
        raise PayloadError("t must be {limit} or {trigger}")


def _list(action: dict[str, Any], key: str) -> list[Any]:
    items = action.get(key)
    if not isinstance(items, list) or not items:
        raise PayloadError(f"{key} must be a non-empty list")
    return items
