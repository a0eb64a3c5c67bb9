"""The openai SDK edge: the two APIs' request arguments, reading their answers, and turning SDK
errors into one line.

Responses: ``client.responses.create(input=[system, user], text={"format": {"type":
"json_schema", "name", "schema", "strict": True}}, max_output_tokens, temperature)``; the text is
``output_text``, a refusal is a ``refusal`` content part, a cut-off answer has ``status:
incomplete`` and ``incomplete_details.reason``; usage is ``input_tokens``/``output_tokens``.

Chat Completions: ``client.chat.completions.create(messages, response_format={"type":
"json_schema", "json_schema": {"name", "schema", "strict": True}}, max_tokens, temperature)``;
the text is ``choices[0].message.content``, a refusal ``message.refusal``, a cut-off answer
``finish_reason == "length"``; usage is ``prompt_tokens``/``completion_tokens``.

Nothing here touches the store or knows the API key; the caller redacts what it records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from autotrader.llm.structured import one_line


@dataclass(frozen=True)
class WireRequest:
    """One structured-output request, independent of the API that carries it."""

    model: str
    api: str  # responses | chat
    messages: list[dict[str, str]]
    schema_name: str
    strict_schema: dict[str, Any]
    temperature: float | None  # None: not sent (reasoning models refuse one)
    max_output_tokens: int

    def canonical(self) -> dict[str, Any]:
        """Everything that shapes the answer, for the request hash."""
        return {
            "model": self.model,
            "api": self.api,
            "schema_name": self.schema_name,
            "schema": self.strict_schema,
            "messages": self.messages,
            "temperature": self.temperature,
            "max_output_tokens": self.max_output_tokens,
        }


@dataclass(frozen=True)
class WireReply:
    """What came back over HTTP, before validation: ``ok`` means "there is text to read"."""

    status: str  # ok | refused | truncated | failed
    text: str | None = None
    error: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0


def send(sdk: Any, request: WireRequest) -> WireReply:
    """Make the call on an ``openai.OpenAI`` client. Raises whatever the SDK raises."""
    if request.api == "responses":
        return read_responses(sdk.responses.create(**responses_args(request)))
    return read_chat(sdk.chat.completions.create(**chat_args(request)))


def responses_args(request: WireRequest) -> dict[str, Any]:
    args: dict[str, Any] = {
        "model": request.model,
        "input": request.messages,
        "text": {
            "format": {
                "type": "json_schema",
                "name": request.schema_name,
                "schema": request.strict_schema,
                "strict": True,
            }
        },
        "max_output_tokens": request.max_output_tokens,
    }
    if request.temperature is not None:
        args["temperature"] = request.temperature
    return args


def chat_args(request: WireRequest) -> dict[str, Any]:
    args: dict[str, Any] = {
        "model": request.model,
        "messages": request.messages,
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": request.schema_name,
                "schema": request.strict_schema,
                "strict": True,
            },
        },
        # max_tokens, not max_completion_tokens: the Chat path is for OpenAI-compatible servers,
        # and the older name is the one they all accept.
        "max_tokens": request.max_output_tokens,
    }
    if request.temperature is not None:
        args["temperature"] = request.temperature
    return args


def read_responses(response: Any) -> WireReply:
    """A Responses API ``Response`` → reply. A refusal wins over any text next to it."""
    tokens = _tokens(getattr(response, "usage", None), "input_tokens", "output_tokens")
    refusals = [
        part.refusal
        for item in response.output or []
        if getattr(item, "type", None) == "message"
        for part in item.content or []
        if getattr(part, "type", None) == "refusal"
    ]
    text = response.output_text or None  # "" when the answer has no output_text part
    if response.status == "failed":
        error = getattr(response.error, "message", None) or "the response failed"
        return WireReply("failed", text, f"the model failed: {error}", *tokens)
    if refusals:
        return WireReply("refused", text, "model refused: " + " ".join(refusals), *tokens)
    if response.status == "incomplete":
        reason = getattr(response.incomplete_details, "reason", None) or "unknown"
        if reason == "content_filter":
            return WireReply("refused", text, "stopped by the content filter", *tokens)
        return WireReply("truncated", text, f"answer cut off ({reason})", *tokens)
    return WireReply("ok", response.output_text, None, *tokens)


def read_chat(completion: Any) -> WireReply:
    """A ``ChatCompletion`` → reply, from its first choice."""
    tokens = _tokens(getattr(completion, "usage", None), "prompt_tokens", "completion_tokens")
    if not completion.choices:
        return WireReply("failed", None, "the server answered without choices", *tokens)
    choice = completion.choices[0]
    message = choice.message
    text = message.content
    if message.refusal:
        return WireReply("refused", text, "model refused: " + message.refusal, *tokens)
    if choice.finish_reason == "length":
        return WireReply("truncated", text, "answer cut off (max_tokens)", *tokens)
    if choice.finish_reason == "content_filter":
        return WireReply("refused", text, "stopped by the content filter", *tokens)
    return WireReply("ok", text, None, *tokens)


def describe_error(
    exc: Exception, *, attempts: int | None, timeout_s: float, base_url: str | None
) -> str:
    """One line for an SDK or transport failure. ``attempts`` None: unknown, not stated.

    A 401 never repeats the server's message, which quotes part of the key; the caller still
    redacts the line, since other servers may echo more.
    """
    import openai

    tries = "" if attempts is None else f" after {attempts} attempt{'s' * (attempts != 1)}"
    if isinstance(exc, openai.APITimeoutError):
        line = f"timeout: no answer within {timeout_s:g} s{tries}"
    elif isinstance(exc, openai.APIConnectionError):
        line = f"cannot connect to the model server at {_host(base_url)}: {_cause(exc)}{tries}"
    elif isinstance(exc, openai.AuthenticationError):
        line = "authentication failed (HTTP 401): check OPENAI_API_KEY"
    elif isinstance(exc, openai.RateLimitError):
        line = f"rate limited (HTTP 429){tries}: {_server_message(exc)}"
    elif isinstance(exc, openai.APIStatusError) and exc.status_code >= 500:
        line = f"server error (HTTP {exc.status_code}){tries}: {_server_message(exc)}"
    elif isinstance(exc, openai.APIStatusError):
        line = f"request refused (HTTP {exc.status_code}): {_server_message(exc)}"
    elif isinstance(exc, openai.OpenAIError):
        line = f"model client error: {type(exc).__name__}: {exc}"
    else:
        line = f"unexpected error reading the answer: {type(exc).__name__}: {exc}"
    return one_line(line)


def _tokens(usage: Any, input_name: str, output_name: str) -> tuple[int, int]:
    if usage is None:
        return 0, 0  # some compatible servers send no usage: the call is then recorded as free
    return int(getattr(usage, input_name, 0) or 0), int(getattr(usage, output_name, 0) or 0)


def _server_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    message = body.get("message") if isinstance(body, dict) else None
    return one_line(str(message or getattr(exc, "message", "") or "no message"), 160)


def _cause(exc: BaseException) -> str:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        seen = seen.__cause__ or seen.__context__
    root = exc.__cause__ or exc
    return one_line(f"{type(root).__name__}: {root}", 120)


def _host(base_url: str | None) -> str:
    parts = urlsplit(base_url or "https://api.openai.com/v1")
    # hostname and port only: a base URL may carry credentials in its user-info part.
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
