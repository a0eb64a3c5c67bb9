"""A loopback fake of the OpenAI API (Responses and Chat Completions), for tests that run the
real ``openai`` SDK against it with ``base_url=fake.url``.

It answers ``POST /v1/responses`` and ``POST /v1/chat/completions`` with bodies shaped as the SDK
parses them (``openai.types.responses.Response``, ``openai.types.chat.ChatCompletion``), and
errors as the API sends them (``{"error": {"message", "type", "param", "code"}}``). Replies are
scripted in order; when the script is empty, ``responder(body)`` decides (if set), else
``default``.

Usage::

    with FakeOpenAI() as fake:
        fake.reply_json({"action": "HOLD", "symbol": "BTC"})
        fake.fail(429)                       # the next reply after that is a rate limit
        fake.delay(2.0)                      # the next request waits 2 s before answering
        fake.responder = lambda body: Reply.json(plans[schema_name_of(body)])
        fake.responder = lambda body: Reply.text("prose").after(2.0)   # per request, late

``tests/fakes/roundtable.py`` is a responder that answers each desk roundtable turn in the name
of the speaker whose turn it is, with any turn scripted to be hostile.
        client = openai.OpenAI(api_key="sk-test", base_url=fake.url)

Failure replies carry ``retry-after-ms`` (1 ms by default) so the SDK's retries stay fast; the
401 reply echoes the whole API key it received, which is worse than the real API (it masks most
of it) and so proves the client redacts it.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from tests.fakes._loopback import Loopback, QuietHandler

_ERROR_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    502: ("server_error", None),
    503: ("server_error", None),
}
_CREATED = 1_700_000_000


@dataclass(frozen=True)
class Reply:
    """One scripted answer. Build it with the class methods."""

    kind: str  # text | truncated | refusal | error
    content: str = ""  # the answer text (kinds text and truncated)
    status: int = 200
    message: str = ""
    input_tokens: int | None = None
    output_tokens: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # how long the server waits before answering (a timeout, say)

    @classmethod
    def json(cls, obj: Any, **usage: int) -> Reply:
        """A well-formed answer whose text is ``obj`` as JSON."""
        return cls("text", json.dumps(obj), **usage)

    @classmethod
    def text(cls, text: str, **usage: int) -> Reply:
        """An answer whose text is ``text`` verbatim (prose, broken JSON, NaN, ...)."""
        return cls("text", text, **usage)

    @classmethod
    def truncated(cls, text: str, **usage: int) -> Reply:
        """An answer cut off by the token cap: Responses ``status: incomplete`` with
        ``incomplete_details.reason = max_output_tokens``; Chat ``finish_reason: length``."""
        return cls("truncated", text, **usage)

    @classmethod
    def refusal(cls, message: str, **usage: int) -> Reply:
        """The model refuses: a ``refusal`` content part / ``message.refusal``."""
        return cls("refusal", message=message, **usage)

    @classmethod
    def error(cls, status: int, message: str | None = None, *, retry_after_ms: int = 1) -> Reply:
        """An HTTP error with the API's error body (and a short ``retry-after-ms``)."""
        headers = {"retry-after-ms": str(retry_after_ms)} if retry_after_ms > 0 else {}
        return cls("error", status=status, message=message or "", headers=headers)

    def after(self, seconds: float) -> Reply:
        """The same answer, sent ``seconds`` late: a responder's way to make one request time
        out (``delay`` does it for the next requests in arrival order)."""
        return replace(self, delay_s=seconds)


Responder = Callable[[dict[str, Any]], "Reply | dict | str | None"]


def schema_name_of(body: dict[str, Any]) -> str | None:
    """The structured-output schema name a request asks for (either API), or None."""
    fmt = (body.get("text") or {}).get("format") or {}
    if fmt.get("name"):
        return fmt["name"]
    return ((body.get("response_format") or {}).get("json_schema") or {}).get("name")


def prompt_of(body: dict[str, Any]) -> str:
    """All message text of a request (either API), joined by newlines."""
    messages = body.get("input") or body.get("messages") or []
    if isinstance(messages, str):
        return messages
    return "\n".join(_content_text(m.get("content")) for m in messages if isinstance(m, dict))


class _Handler(QuietHandler):
    def do_POST(self) -> None:
        raw = self.read_body()
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {"_unparsed": raw.decode("utf-8", "replace")}
        status, payload, headers = self.server.fake._answer(
            self.path, body, self.headers.get("Authorization", "")
        )
        self.reply(status, payload, headers.items())


class FakeOpenAI:
    """The fake server on 127.0.0.1 (a free port), served from a daemon thread.

    ``url`` ends in ``/v1`` (give it to the SDK as ``base_url``); ``requests`` holds
    ``{"path", "body", "authorization"}`` of every request in arrival order, failed and timed-out
    ones included; ``max_in_flight`` shows whether concurrent calls really overlapped.
    """

    def __init__(self, default: Reply | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.default = default or Reply.json({"action": "HOLD", "symbol": "BTC"})
        self.responder: Responder | None = None
        self._script: list[Reply] = []
        self._delays: list[float] = []
        self._in_flight = 0
        self.max_in_flight = 0  # the most requests being answered at one moment
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._loopback = Loopback(_Handler, self)

    @property
    def url(self) -> str:
        return f"{self._loopback.url}/v1"

    # -- scripting -------------------------------------------------------------------------

    def reply(self, reply: Reply, n: int = 1) -> None:
        """Answer the next ``n`` requests (after those already scripted) with ``reply``."""
        with self._lock:
            self._script.extend([reply] * n)

    def reply_json(self, obj: Any, **usage: int) -> None:
        self.reply(Reply.json(obj, **usage))

    def reply_text(self, text: str, **usage: int) -> None:
        self.reply(Reply.text(text, **usage))

    def reply_truncated(self, text: str, **usage: int) -> None:
        self.reply(Reply.truncated(text, **usage))

    def reply_refusal(self, message: str, **usage: int) -> None:
        self.reply(Reply.refusal(message, **usage))

    def fail(self, status: int, n: int = 1, *, message: str | None = None) -> None:
        """Answer the next ``n`` scripted requests with HTTP ``status`` (429, 500, 503, 401...)."""
        self.reply(Reply.error(status, message), n)

    def delay(self, seconds: float, n: int = 1) -> None:
        """Wait ``seconds`` before answering each of the next ``n`` requests. A delayed request
        still takes its reply from the script, even when the client gave up on it."""
        with self._lock:
            self._delays.extend([seconds] * n)

    def paths(self) -> list[str]:
        return [r["path"] for r in self.requests]

    # -- lifecycle --------------------------------------------------------------------------

    def close(self) -> None:
        self._loopback.close()

    def __enter__(self) -> FakeOpenAI:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- answering --------------------------------------------------------------------------

    def _answer(
        self, path: str, body: dict[str, Any], authorization: str
    ) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            self.requests.append({"path": path, "body": body, "authorization": authorization})
            delay = self._delays.pop(0) if self._delays else 0.0
            scripted = self._script.pop(0) if self._script else None
            responder = self.responder
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            if delay:
                time.sleep(delay)
            return self._reply(path, body, authorization, scripted, responder)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _reply(
        self,
        path: str,
        body: dict[str, Any],
        authorization: str,
        scripted: Reply | None,
        responder: Responder | None,
    ) -> tuple[int, Any, dict[str, str]]:
        route = path.split("?", 1)[0].rstrip("/")
        if route not in ("/v1/responses", "/v1/chat/completions"):
            return 404, _error_body(404, f"Invalid URL (POST {path})"), {}
        reply = scripted or _as_reply(responder(body) if responder else None) or self.default
        if reply.delay_s:
            time.sleep(reply.delay_s)
        if reply.kind == "error":
            message = reply.message or _default_error_message(reply.status, authorization)
            return reply.status, _error_body(reply.status, message), reply.headers
        number = next(self._ids)
        if route == "/v1/responses":
            return 200, _responses_body(number, body, reply), reply.headers
        return 200, _chat_body(number, body, reply), reply.headers


def _as_reply(value: Reply | dict | str | None) -> Reply | None:
    if value is None or isinstance(value, Reply):
        return value
    if isinstance(value, str):
        return Reply.text(value)
    return Reply.json(value)


def _usage(body: dict[str, Any], reply: Reply) -> tuple[int, int]:
    # Roughly four characters per token, like the real tokenizer on English text.
    prompt_tokens = reply.input_tokens
    if prompt_tokens is None:
        prompt_tokens = max(1, len(prompt_of(body)) // 4)
    output_tokens = reply.output_tokens
    if output_tokens is None:
        output_tokens = max(1, len(reply.content or reply.message) // 4)
    return prompt_tokens, output_tokens


def _responses_body(number: int, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    input_tokens, output_tokens = _usage(body, reply)
    if reply.kind == "refusal":
        content = [{"type": "refusal", "refusal": reply.message}]
    else:
        content = [
            {"type": "output_text", "text": reply.content, "annotations": [], "logprobs": []}
        ]
    incomplete = reply.kind == "truncated"
    return {
        "id": f"resp_{number:08d}",
        "object": "response",
        "created_at": _CREATED + number,
        "status": "incomplete" if incomplete else "completed",
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
        "instructions": None,
        "max_output_tokens": body.get("max_output_tokens"),
        "model": body.get("model", ""),
        "output": [
            {
                "type": "message",
                "id": f"msg_{number:08d}",
                "status": "incomplete" if incomplete else "completed",
                "role": "assistant",
                "content": content,
            }
        ],
        "parallel_tool_calls": True,
        "temperature": body.get("temperature"),
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "text": body.get("text") or {"format": {"type": "text"}},
        "truncation": "disabled",
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens,
        },
    }


def _chat_body(number: int, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    prompt_tokens, completion_tokens = _usage(body, reply)
    refused = reply.kind == "refusal"
    return {
        "id": f"chatcmpl-{number:08d}",
        "object": "chat.completion",
        "created": _CREATED + number,
        "model": body.get("model", ""),
        "system_fingerprint": None,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None if refused else reply.content,
                    "refusal": reply.message if refused else None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": "length" if reply.kind == "truncated" else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _error_body(status: int, message: str) -> dict[str, Any]:
    kind, code = _ERROR_TYPES.get(status, ("server_error" if status >= 500 else "error", None))
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def _default_error_message(status: int, authorization: str) -> str:
    if status == 401:
        key = authorization.removeprefix("Bearer ").strip()
        return f"Incorrect API key provided: {key}. You can find your API key in your settings."
    if status == 429:
        return "Rate limit reached for requests. Please try again in 1ms."
    if status >= 500:
        return "The server had an error while processing your request. Sorry about that!"
    return f"HTTP {status}"


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""
