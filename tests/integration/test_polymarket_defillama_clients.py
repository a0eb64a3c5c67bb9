"""PolymarketSource and DefiLlamaSource through the real httpx client on a MockTransport.

No network: every request is answered by a fake server that routes on host and path and serves
the real samples in tests/data.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from autotrader.core.clock import SimulatedClock
from autotrader.core.errors import InvalidInputError, TemporaryError
from autotrader.market.sources.defillama import DefiLlamaSource
from autotrader.market.sources.polymarket import PolymarketSource
from tests.conftest import TEST_DATA

NOW = 1_773_300_000_000
GAMMA = "gamma-api.polymarket.com"
CLOB = "clob.polymarket.com"
LLAMA = "api.llama.fi"
STABLES = "stablecoins.llama.fi"


def load(relative: str) -> Any:
    return json.loads((TEST_DATA / relative).read_text(encoding="utf-8"))


def llama_example(path: str) -> Any:
    return load("defillama/openapi_free_schema_examples.json")[path]["schema_example"]


Reply = httpx.Response | Callable[[httpx.Request], httpx.Response]


class FakeServer:
    """Routes ``(host, path)`` to a response (or a list of them, served in turn)."""

    def __init__(self, routes: dict[tuple[str, str], Reply | list[Reply]]) -> None:
        self.routes = {key: list(v) if isinstance(v, list) else [v] for key, v in routes.items()}
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        replies = self.routes.get((request.url.host, request.url.path))
        if not replies:
            return httpx.Response(404, json={"error": "no route"})
        reply = replies.pop(0) if len(replies) > 1 else replies[0]
        return reply(request) if callable(reply) else reply

    def polymarket(self) -> PolymarketSource:
        return PolymarketSource(
            clock=SimulatedClock(NOW), transport=httpx.MockTransport(self), sleep=self.sleeps.append
        )

    def defillama(self) -> DefiLlamaSource:
        return DefiLlamaSource(
            clock=SimulatedClock(NOW), transport=httpx.MockTransport(self), sleep=self.sleeps.append
        )

    def params(self, index: int = -1) -> dict[str, str]:
        return dict(self.requests[index].url.params)


def ok(body: Any) -> httpx.Response:
    return httpx.Response(200, json=body)


# -- Polymarket --------------------------------------------------------------------------------


def test_discover_asks_gamma_for_open_markets_by_volume() -> None:
    market = load("polymarket/nautilus_gamma_market.json")
    server = FakeServer({(GAMMA, "/markets"): ok([market, {"question": None}])})

    with server.polymarket() as source:
        markets, rejections = source.discover(limit=50)

    assert server.params() == {
        "limit": "50",
        "order": "volume24hr",
        "ascending": "false",
        "active": "true",
        "closed": "false",
    }
    assert [m.question for m in markets] == ["Bitcoin Up or Down - March 12, 5:20AM-5:25AM ET"]
    assert markets[0].observed_at == NOW
    assert [(r.index, r.reason) for r in rejections] == [(1, "missing_question")]


def test_discover_by_tag_without_the_open_filter() -> None:
    server = FakeServer({(GAMMA, "/markets"): ok([])})
    server.polymarket().discover(limit=10, tag=21, active=False)
    params = server.params()
    assert params["tag_id"] == "21"
    assert "active" not in params
    assert "closed" not in params


def test_discover_refuses_an_absurd_limit() -> None:
    with pytest.raises(InvalidInputError, match="limit"):
        FakeServer({}).polymarket().discover(limit=0)


def test_search_uses_public_search() -> None:
    server = FakeServer(
        {(GAMMA, "/public-search"): ok(load("polymarket/nautilus_search_response.json"))}
    )
    markets, rejections = server.polymarket().search(" bitcoin ")
    assert server.params() == {"q": "bitcoin"}
    assert [m.slug for m in markets] == ["bitcoin-above-64k-on-march-11"]
    assert rejections == []


def test_event_by_slug() -> None:
    server = FakeServer({(GAMMA, "/events"): ok(load("polymarket/nautilus_gamma_event.json"))})
    markets, _ = server.polymarket().event("democratic-presidential-nominee-2028")
    assert server.params() == {"slug": "democratic-presidential-nominee-2028"}
    assert {m.event_slug for m in markets} == {"democratic-presidential-nominee-2028"}
    assert len(markets) == 2


def test_unknown_event_is_invalid_input() -> None:
    server = FakeServer({(GAMMA, "/events"): ok([])})
    with pytest.raises(InvalidInputError, match=r"^Polymarket: event 'nope' not found$"):
        server.polymarket().event("nope")


def test_book_goes_to_the_clob_host() -> None:
    server = FakeServer({(CLOB, "/book"): ok(load("polymarket/nautilus_it_book.json"))})
    book = server.polymarket().book("2336")
    assert server.requests[0].url.host == CLOB
    assert server.params() == {"token_id": "2336"}
    assert (book["best_bid"], book["best_ask"]) == (0.1, 0.14)


def test_a_500_then_200_is_retried_after_a_backoff_sleep() -> None:
    server = FakeServer({(GAMMA, "/markets"): [httpx.Response(500), ok([])]})
    assert server.polymarket().discover() == ([], [])
    assert len(server.requests) == 2
    assert server.sleeps == [0.5]


def test_persistent_503_is_a_temporary_error() -> None:
    server = FakeServer({(CLOB, "/book"): httpx.Response(503)})
    with pytest.raises(TemporaryError, match="Polymarket: GET /book failed after 4 attempts"):
        server.polymarket().book("1")
    assert server.sleeps == [0.5, 1.0, 2.0]


def test_429_retry_after_is_honoured() -> None:
    server = FakeServer(
        {(GAMMA, "/markets"): [httpx.Response(429, headers={"Retry-After": "3"}), ok([])]}
    )
    server.polymarket().discover()
    assert server.sleeps == [3.0]


def test_invalid_json_body_is_a_temporary_error() -> None:
    server = FakeServer({(GAMMA, "/public-search"): httpx.Response(200, text="{not json")})
    with pytest.raises(TemporaryError, match="not JSON"):
        server.polymarket().search("btc")


def test_unknown_token_is_invalid_input() -> None:
    server = FakeServer({})
    with pytest.raises(
        InvalidInputError, match=r"^Polymarket: order book for token '9' not found$"
    ):
        server.polymarket().book("9")
    assert server.sleeps == []


# -- DefiLlama ---------------------------------------------------------------------------------


def test_each_defillama_call_hits_its_path_and_host() -> None:
    server = FakeServer(
        {
            (LLAMA, "/v2/chains"): ok(llama_example("/v2/chains")),
            (LLAMA, "/v2/historicalChainTvl/Arbitrum Nova"): ok(
                llama_example("/v2/historicalChainTvl/{chain}")
            ),
            (LLAMA, "/v2/historicalChainTvl"): ok(llama_example("/v2/historicalChainTvl/{chain}")),
            (LLAMA, "/protocols"): ok(llama_example("/protocols")),
            (LLAMA, "/protocol/aave"): ok(llama_example("/protocol/{protocol}")),
            (LLAMA, "/overview/dexs"): ok(llama_example("/overview/dexs")),
            (LLAMA, "/overview/fees"): ok(llama_example("/overview/fees")),
            (STABLES, "/stablecoins"): ok(llama_example("/stablecoins")),
        }
    )
    with server.defillama() as source:
        chains, _ = source.chains()
        history, _ = source.chain_history("Arbitrum Nova")
        global_history, _ = source.global_history()
        protocols, _ = source.protocols()
        protocol, _ = source.protocol("aave")
        dexs, _ = source.dex_overview()
        fees, _ = source.fees_overview()
        stables, rejections = source.stablecoins()

    assert server.requests[1].url.raw_path == b"/v2/historicalChainTvl/Arbitrum%20Nova"
    assert dict(server.requests[5].url.params) == {
        "excludeTotalDataChart": "true",
        "excludeTotalDataChartBreakdown": "true",
    }
    assert server.requests[-1].url.host == STABLES
    assert server.params() == {"includePrices": "false"}
    assert server.sleeps == []

    assert chains[0].subject == "Ethereum"
    assert chains[0].time == NOW - NOW % 60_000
    assert history[0].subject == "Arbitrum Nova"
    assert history[0].time == 1_609_459_200_000
    assert global_history[0].scope == "global"
    assert {o.metric for o in protocols} == {"tvl", "tvl_change_1d", "tvl_change_7d"}
    assert protocol[0].subject == "aave"
    assert "dex_volume_24h" in {o.metric for o in dexs}
    assert {"fees_24h", "revenue_24h"} <= {o.metric for o in fees}
    assert [(o.subject, o.value) for o in stables] == [
        ("USDT", 159510682147.76874),
        ("all", 159510682147.76874),
    ]
    assert rejections == []


def test_open_interest_is_read_from_the_configured_path_without_charts() -> None:
    example = llama_example("/overview/open-interest")
    server = FakeServer(
        {(LLAMA, "/overview/open-interest"): ok(example), (LLAMA, "/v3/perps-oi"): ok(example)}
    )
    moved = DefiLlamaSource(
        open_interest_path="/v3/perps-oi",
        clock=SimulatedClock(NOW),
        transport=httpx.MockTransport(server),
    )
    with server.defillama() as source, moved:
        default, _ = source.open_interest()
        configured, rejections = moved.open_interest()

    assert [r.url.path for r in server.requests] == ["/overview/open-interest", "/v3/perps-oi"]
    assert server.params(0) == {
        "excludeTotalDataChart": "true",
        "excludeTotalDataChartBreakdown": "true",
    }
    assert default == configured
    assert ("hyperliquid-perps", "open_interest", 14304709847.0) in {
        (o.subject, o.metric, o.value) for o in default
    }
    assert rejections == []


def test_defillama_retries_a_502_then_succeeds() -> None:
    server = FakeServer({(LLAMA, "/protocols"): [httpx.Response(502), ok([])]})
    assert server.defillama().protocols() == ([], [])
    assert server.sleeps == [0.5]


def test_defillama_honours_retry_after() -> None:
    server = FakeServer(
        {(STABLES, "/stablecoins"): [httpx.Response(429, headers={"Retry-After": "2"}), ok({})]}
    )
    _, rejections = server.defillama().stablecoins()
    assert server.sleeps == [2.0]
    assert [r.reason for r in rejections] == ["not_a_stablecoin_list"]


def test_defillama_unknown_chain_is_invalid_input() -> None:
    with pytest.raises(InvalidInputError, match=r"^DefiLlama: chain 'Nope' not found$"):
        FakeServer({}).defillama().chain_history("Nope")


def test_defillama_persistent_timeout_is_temporary() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    server = FakeServer({(LLAMA, "/v2/chains"): timeout})
    with pytest.raises(TemporaryError, match=r"DefiLlama: GET /v2/chains failed .* timed out"):
        server.defillama().chains()
    assert len(server.requests) == 4


def test_defillama_html_error_page_is_temporary() -> None:
    server = FakeServer(
        {(LLAMA, "/overview/fees"): httpx.Response(200, html="<html>Cloudflare</html>")}
    )
    with pytest.raises(TemporaryError, match=r"not JSON \(text/html\)"):
        server.defillama().fees_overview()


def test_empty_names_are_refused_before_any_request() -> None:
    server = FakeServer({})
    with pytest.raises(InvalidInputError):
        server.defillama().chain_history(" ")
    with pytest.raises(InvalidInputError):
        server.defillama().protocol("")
    with pytest.raises(InvalidInputError):
        server.polymarket().search("  ")
    assert server.requests == []
