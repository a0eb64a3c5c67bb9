"""JsonHttpClient: retries, backoff, Retry-After and error translation, over httpx.MockTransport."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from autotrader.core.errors import InvalidInputError, TemporaryError
from autotrader.market.sources._http import JsonHttpClient

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """Serves scripted responses in order and remembers the requests and sleeps."""

    def __init__(self, *responses: httpx.Response | Exception) -> None:
        self._responses: Iterator[httpx.Response | Exception] = iter(responses)
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        item = next(self._responses)
        if isinstance(item, Exception):
            raise item
        return item

    def client(self, **kwargs: object) -> JsonHttpClient:
        return JsonHttpClient(
            "https://api.example.test",
            name="Polymarket",
            transport=httpx.MockTransport(self.handler),
            sleep=self.sleeps.append,
            **kwargs,  # type: ignore[arg-type]
        )


def ok(body: object) -> httpx.Response:
    return httpx.Response(200, json=body)


def test_returns_decoded_json_and_sends_params_as_text() -> None:
    rec = Recorder(ok({"a": [1, 2]}))
    client = rec.client()
    assert client.get_json(
        "/markets", {"active": True, "closed": False, "limit": 5, "x": None}
    ) == {"a": [1, 2]}
    request = rec.requests[0]
    assert request.url.path == "/markets"
    assert dict(request.url.params) == {"active": "true", "closed": "false", "limit": "5"}
    assert request.headers["User-Agent"].startswith("autotrader/")
    assert rec.sleeps == []


def test_retries_a_500_then_succeeds() -> None:
    rec = Recorder(httpx.Response(500), ok([1]))
    assert rec.client().get_json("/markets") == [1]
    assert len(rec.requests) == 2
    assert rec.sleeps == [0.5]


def test_persistent_503_raises_temporary_error_after_backing_off_exponentially() -> None:
    rec = Recorder(*[httpx.Response(503) for _ in range(4)])
    with pytest.raises(TemporaryError, match=r"GET /markets failed after 4 attempts: HTTP 503"):
        rec.client(max_retries=3).get_json("/markets")
    assert len(rec.requests) == 4
    assert rec.sleeps == [0.5, 1.0, 2.0]


def test_backoff_is_capped() -> None:
    rec = Recorder(*[httpx.Response(502) for _ in range(4)])
    with pytest.raises(TemporaryError):
        rec.client(backoff_s=10.0, max_backoff_s=15.0).get_json("/x")
    assert rec.sleeps == [10.0, 15.0, 15.0]


def test_429_honours_retry_after_seconds() -> None:
    rec = Recorder(httpx.Response(429, headers={"Retry-After": "7"}), ok({"ok": True}))
    assert rec.client().get_json("/markets") == {"ok": True}
    assert rec.sleeps == [7.0]


def test_retry_after_is_capped_and_nonsense_falls_back_to_backoff() -> None:
    rec = Recorder(
        httpx.Response(429, headers={"Retry-After": "86400"}),
        httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),
        ok([]),
    )
    assert rec.client(max_retry_after_s=60.0).get_json("/markets") == []
    assert rec.sleeps == [60.0, 1.0]


def test_persistent_429_says_rate_limited() -> None:
    rec = Recorder(*[httpx.Response(429) for _ in range(2)])
    with pytest.raises(TemporaryError, match="rate limited"):
        rec.client(max_retries=1).get_json("/markets")


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectTimeout("slow"),
        httpx.ReadTimeout("slow"),
        httpx.ConnectError("refused"),
        httpx.RemoteProtocolError("eof"),
    ],
)
def test_transport_failures_are_retried(failure: Exception) -> None:
    rec = Recorder(failure, ok({"ok": 1}))
    assert rec.client().get_json("/book") == {"ok": 1}
    assert rec.sleeps == [0.5]


def test_persistent_timeout_becomes_temporary_error() -> None:
    rec = Recorder(*[httpx.ReadTimeout("slow") for _ in range(3)])
    with pytest.raises(TemporaryError, match="timed out"):
        rec.client(max_retries=2).get_json("/book")
    assert len(rec.sleeps) == 2


def test_persistent_connection_error_names_the_kind_only() -> None:
    rec = Recorder(*[httpx.ConnectError("[Errno 111] secret-host:443") for _ in range(2)])
    with pytest.raises(TemporaryError) as caught:
        rec.client(max_retries=1).get_json("/book")
    assert "ConnectError" in str(caught.value)
    assert "secret-host" not in str(caught.value)


def test_404_is_invalid_input_and_not_retried() -> None:
    rec = Recorder(httpx.Response(404, json={"error": "nope"}))
    with pytest.raises(InvalidInputError, match=r"^Polymarket: market 'x' not found$"):
        rec.client().get_json("/markets/x", what="market 'x'")
    assert rec.sleeps == []


def test_400_is_invalid_input() -> None:
    rec = Recorder(httpx.Response(400, text="Invalid token id"))
    with pytest.raises(InvalidInputError, match="order book for token '1' rejected as invalid"):
        rec.client().get_json("/book", {"token_id": "1"}, what="order book for token '1'")


def test_other_4xx_is_temporary_and_not_retried() -> None:
    rec = Recorder(httpx.Response(403))
    with pytest.raises(TemporaryError, match="HTTP 403"):
        rec.client().get_json("/markets")
    assert rec.sleeps == []


def test_body_that_is_not_json_is_temporary_error() -> None:
    rec = Recorder(
        httpx.Response(200, text="<html>maintenance</html>", headers={"Content-Type": "text/html"})
    )
    with pytest.raises(TemporaryError, match=r"not JSON \(text/html\)"):
        rec.client().get_json("/markets")


def test_messages_are_one_line_without_query_values() -> None:
    rec = Recorder(*[httpx.Response(500) for _ in range(2)])
    with pytest.raises(TemporaryError) as caught:
        rec.client(max_retries=1).get_json("/markets", {"api_key": "s3cr3t"})
    message = str(caught.value)
    assert "\n" not in message
    assert "s3cr3t" not in message


def test_zero_retries_makes_one_attempt() -> None:
    rec = Recorder(httpx.Response(500))
    with pytest.raises(TemporaryError, match="after 1 attempt: HTTP 500"):
        rec.client(max_retries=0).get_json("/x")
    assert rec.sleeps == []


def test_negative_retries_are_refused() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        JsonHttpClient("https://api.example.test", max_retries=-1)


def test_context_manager_closes() -> None:
    rec = Recorder(ok(1))
    with rec.client() as client:
        assert client.get_json("/x") == 1
