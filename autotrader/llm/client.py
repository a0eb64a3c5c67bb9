"""The model client: one structured-output call over the openai SDK, audited, cached, costed.

:meth:`ModelClient.complete` sends a system and a user message to a model through either the
Responses API (``text.format`` json_schema, strict) or Chat Completions (``response_format``
json_schema, strict; for OpenAI-compatible servers such as OpenRouter, Ollama, vLLM), and
validates the answer against a pydantic model. Whatever happens - prose, broken or hostile JSON,
a refusal, a truncation, a timeout, 429/5xx after the SDK's retries, a bad key, a dead server -
the call returns a :class:`ModelResult` with a status and a one-line reason and writes exactly
one ``invocations`` row. The model's text is only ever parsed as data.

Retries and back-off are the SDK's (``max_retries=config.retries``; exponential back-off with
jitter, or the server's ``retry-after``), on 408/409/429/5xx, timeouts and connection errors; the
``timeout`` applies to each attempt. The API key is given to the SDK explicitly (the SDK would
otherwise read ``OPENAI_API_KEY`` itself). Secrets are redacted at this boundary, with the log
filter's own rules (the key, token-shaped strings): from a reply's text and error line as they
arrive, from a cached answer as it is read, and from what an answer parses to (JSON escapes can
spell a key the text does not show) — so nothing downstream (invocation rows, the cache, results,
engines, decision records, artifacts, ``decisions show``, logs) ever holds one.
The SDK edge (both APIs' arguments and answers, error lines) lives in :mod:`autotrader.llm.wire`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.core.errors import InvalidInputError
from autotrader.core.jsonschema import strict_json_schema
from autotrader.core.logging import RedactionFilter
from autotrader.llm import repo
from autotrader.llm.structured import (
    StructuredOutcome,
    canonical_json,
    one_line,
    parse_structured,
)
from autotrader.llm.wire import WireReply, WireRequest, describe_error, send

logger = logging.getLogger(__name__)

APIS = ("responses", "chat")
PriceFor = Callable[[str], tuple[Decimal, Decimal]]
_SCHEMA_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Reasoning models reject a temperature other than their default with HTTP 400, so none is sent.
_NO_TEMPERATURE = re.compile(r"^(?:.*/)?(?:gpt-5(?!-chat)|o[1-9])")
# Local OpenAI-compatible servers ignore the key, but the SDK refuses to start without one.
_PLACEHOLDER_KEY = "no-key"
_PER_MILLION = Decimal(1_000_000)
_FRAMING_TOKENS = 16  # per message, above its text: role markers and separators (about 4)


@dataclass(frozen=True)
class ModelRoute:
    """How one model is reached: the name its API expects (the registry's ``llama3.1-8b`` is
    Ollama's ``llama3.1:8b``), the API flavour it serves and its server's base URL (None: the
    configured one)."""

    api_model: str
    api: str
    base_url: str | None = None


RouteFor = Callable[[str], ModelRoute | None]


@dataclass(frozen=True)
class CallEstimate:
    """What a call about to be sent may cost: ``max_cost_usd`` is an upper bound (Decimal USD)
    from the model's price — input tokens bounded by the UTF-8 bytes of the messages and the
    schema (a byte-level BPE token is at least one byte) plus a few tokens of framing per
    message, output tokens by the answer cap — or None when the model has no known price."""

    role: str
    model: str
    max_cost_usd: Decimal | None


Admit = Callable[[CallEstimate], str | None]
"""Asked after a cache miss, before anything is sent: None sends the call; a one-line reason
refuses it (the call is recorded as ``failed`` with that reason, and nothing goes out)."""
Archive = Callable[[Any, str], str]
"""Stores a JSON payload as an artifact of a kind (``request``, ``response``); returns its key."""


@dataclass(frozen=True)
class Sampling:
    """One role's sampling: its temperature and its answer cap (tokens)."""

    temperature: float
    max_output_tokens: int


# The committee's roles, by the specs (seed 002 §5.1: temperature 0.5, 120-200 output tokens).
SAMPLED_ROLES = ("planner", "trader", "judge")


@dataclass(frozen=True)
class LlmConfig:
    """How the client talks to the model provider. ``api_key`` never shows in ``repr``.

    ``api`` None routes each call by the model's own API (its :class:`ModelRoute`, else
    ``responses``); a value forces every call onto that API. ``sampling`` holds per-role
    temperature and answer cap; other roles use ``temperature`` and ``max_output_tokens``.
    Reasoning models get no temperature (they refuse one) and the general cap, never a role's:
    their hidden reasoning spends output tokens, and 200 would cut every answer off.

    ``timeout_s`` bounds each HTTP attempt; a call may take up to ``retries + 1`` attempts plus
    the SDK's back-off (0.5 s doubling, at most 8 s, or the server's ``retry-after``).
    """

    api: str | None = None
    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None
    temperature: float | None = 0.2
    max_output_tokens: int = 800
    timeout_s: float = 60.0
    retries: int = 2
    cache_enabled: bool = True
    sampling: Mapping[str, Sampling] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Any) -> LlmConfig:
        """Build from ``Settings`` (``llm_*``, ``openai_api_key``, ``openai_base_url``)."""
        secret = settings.openai_api_key
        key = secret.get_secret_value() if secret is not None else None
        return cls(
            api=settings.llm_api,
            api_key=key or None,
            base_url=settings.openai_base_url or None,
            temperature=settings.llm_temperature,
            max_output_tokens=settings.llm_max_output_tokens,
            timeout_s=settings.llm_timeout,
            retries=settings.llm_retries,
            cache_enabled=settings.llm_cache == "on",
            sampling={
                role: Sampling(
                    getattr(settings, f"llm_temperature_{role}"),
                    getattr(settings, f"llm_max_output_tokens_{role}"),
                )
                for role in SAMPLED_ROLES
            },
        )


@dataclass(frozen=True)
class ModelResult:
    """What one :meth:`ModelClient.complete` call produced.

    ``status`` is ``ok`` (``parsed`` holds the validated object), ``invalid_output``,
    ``refused``, ``truncated`` or ``failed`` (``error`` says why in one line, ``kind`` classifies
    an invalid output, see :mod:`autotrader.llm.structured`). Cost is Decimal USD; a cache hit
    spends no tokens and costs 0.
    """

    status: str
    parsed: BaseModel | None
    error: str | None
    raw_text: str | None
    invocation_id: int
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    latency_ms: int = 0
    cached: bool = False
    attempts: int = 0
    kind: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class _Request:
    """A call as the client handles it: what goes on the wire plus what the audit needs."""

    wire: WireRequest
    model: str  # as the caller named it (the wire carries the API's name for it)
    role: str
    schema: type[BaseModel]
    request_hash: str
    prompt_hash: str
    cache_key: str
    run_id: int | None
    trace_id: str | None
    base_url: str | None  # the server this call goes to (None: the SDK's default, OpenAI)


class ModelClient:
    """Structured-output calls with an audit row each. Safe to call from many threads.

    ``store`` should be a connection of its own (the decision runner's threads call ``complete``
    while other connections run transactions); this client serialises its own use of it and never
    holds a transaction open during an HTTP call. ``price_for(model)`` gives USD per 1M input and
    output tokens; without it every call costs 0. ``route_for(model)`` says how a model the
    caller names is reached (:class:`ModelRoute`; None: by its own name over the configured API
    and base URL); the invocation records the caller's name, the wire carries the API's. One SDK
    client is kept per base URL. ``archive`` stores every call's full request (the messages,
    schema and sampling as sent) and answer as artifacts, linked from the invocation row; an
    archive that fails costs the call its links, logged, never its answer.
    """

    def __init__(
        self,
        config: LlmConfig,
        store: Store,
        clock: Clock,
        *,
        price_for: PriceFor | None = None,
        route_for: RouteFor | None = None,
        archive: Archive | None = None,
        openai_client: Any = None,
        cache_store: Store | None = None,
    ) -> None:
        if config.api is not None and config.api not in APIS:
            raise InvalidInputError(f"unknown model API {config.api!r}: use responses or chat")
        self.config = config
        self.store = store
        self.cache_store = cache_store if cache_store is not None else store
        self.clock = clock
        self.price_for = price_for
        self.route_for = route_for
        self.archive = archive
        self._injected_sdk = openai_client
        self._sdks: dict[str | None, Any] = {}  # built here, by base URL
        self._owns_sdk = openai_client is None
        self._db_lock = threading.Lock()
        self._sdk_lock = threading.Lock()
        self._local = threading.local()  # per-thread count of HTTP attempts of the current call
        self._redactor = RedactionFilter([config.api_key] if config.api_key else [])

    def __repr__(self) -> str:
        return (
            f"ModelClient(api={self.config.api!r}, base_url={self.config.base_url!r}, "
            f"cache={'on' if self.config.cache_enabled else 'off'})"
        )

    def close(self) -> None:
        """Close the HTTP client this object built (an injected one is left to its owner)."""
        with self._sdk_lock:
            sdks, self._sdks = list(self._sdks.values()), {}
        for sdk in sdks:
            sdk.close()

    # -- the one call ------------------------------------------------------------------------

    def complete(
        self,
        *,
        role: str,
        model: str,
        system: str,
        prompt: str,
        schema: type[BaseModel],
        schema_name: str,
        run_id: int | None = None,
        trace_id: str | None = None,
        api: str | None = None,
        use_cache: bool | None = None,
        temperature: float | None = None,
        admit: Admit | None = None,
    ) -> ModelResult:
        """Ask ``model`` for one ``schema`` object and record the invocation.

        ``api`` and ``temperature`` override the configured API and sampling temperature for
        this call (a desk conversation's format sets its own; reasoning models still get none).
        ``use_cache`` None follows the config, True/False force the response cache on/off for
        this call. ``admit`` decides whether a call the cache cannot answer may be sent (see
        :data:`Admit`). Returns a result for every model or transport failure; raises
        ``InvalidInputError`` only for a caller mistake (unknown role or API, a schema name the
        API refuses, a model strict mode cannot express) before anything is sent, and the store's
        own errors if the audit row cannot be written.
        """
        request = self._build(
            role,
            model,
            system,
            prompt,
            schema,
            schema_name,
            api,
            run_id=run_id,
            trace_id=trace_id,
            temperature=temperature,
        )
        caching = self.config.cache_enabled if use_cache is None else use_cache
        if caching:
            hit = self._from_cache(request, time.monotonic())
            if hit is not None:
                return hit
        if admit is not None:
            estimate = CallEstimate(request.role, request.model, self._max_cost(request))
            refusal = admit(estimate)
            if refusal is not None:
                return self._refused(request, refusal)
        self._local.attempts = self._local.sent = 0
        reply, latency_ms = self._send(request)
        return self._finish(request, reply, latency_ms, self._attempts(), caching=caching)

    # -- request building -----------------------------------------------------------------

    def _build(
        self,
        role: str,
        model: str,
        system: str,
        prompt: str,
        schema: type[BaseModel],
        schema_name: str,
        api: str | None,
        *,
        run_id: int | None,
        trace_id: str | None,
        temperature: float | None,
    ) -> _Request:
        route = self.route_for(model) if self.route_for and model else None
        api = api or self.config.api or (route.api if route else "responses")
        if role not in repo.ROLES:
            raise InvalidInputError(f"unknown role {role!r}: use one of {', '.join(repo.ROLES)}")
        if api not in APIS:
            raise InvalidInputError(f"unknown model API {api!r}: use responses or chat")
        if not _SCHEMA_NAME.fullmatch(schema_name):
            raise InvalidInputError(f"schema name {schema_name!r}: use 1-64 of A-Z a-z 0-9 _ -")
        if not model or not model.strip():
            raise InvalidInputError("no model given")
        try:
            strict = _strict_schema(schema)
        except ValueError as exc:
            raise InvalidInputError(f"{schema.__name__}: {exc}") from None
        messages = [{"role": "system", "content": system}, {"role": "user", "content": prompt}]
        api_model = route.api_model if route else model
        reasoning = bool(_NO_TEMPERATURE.match(api_model))
        role_sampling = None if reasoning else self.config.sampling.get(role)
        if temperature is None:
            temperature = role_sampling.temperature if role_sampling else self.config.temperature
        wire = WireRequest(
            model=api_model,
            api=api,
            messages=messages,
            schema_name=schema_name,
            strict_schema=strict,
            temperature=None if reasoning else temperature,
            max_output_tokens=(
                role_sampling.max_output_tokens if role_sampling else self.config.max_output_tokens
            ),
        )
        prompt_hash = _sha256(messages)
        schema_hash = _sha256({"name": schema_name, "schema": strict})
        return _Request(
            wire=wire,
            model=model,
            role=role,
            schema=schema,
            request_hash=_sha256(wire.canonical()),
            prompt_hash=prompt_hash,
            # The cache key leaves temperature and token cap out on purpose: a stored valid
            # answer for the same model, schema and prompt is the reproducible answer.
            cache_key=_sha256(
                {"model": api_model, "api": api, "schema": schema_hash, "prompt": prompt_hash}
            ),
            run_id=run_id,
            trace_id=trace_id,
            base_url=(route.base_url if route else None) or self.config.base_url,
        )

    # -- secrets ----------------------------------------------------------------------------

    def _redact(self, text: str | None) -> str | None:
        return None if text is None else self._redactor.redact(text)

    def _read(
        self, text: str | None, schema: type[BaseModel]
    ) -> tuple[StructuredOutcome, str | None]:
        """``text`` (already redacted) parsed as ``schema``, and the text to keep for it.

        JSON escapes (``\\u0073k-…``) can spell a secret the text does not show: then the
        parsed object, redacted and validated again, is the answer, and its JSON the text.
        """
        outcome = parse_structured(text, schema)
        if outcome.value is None:
            return outcome, text
        spelled = canonical_json(outcome.value)
        clean = self._redactor.redact(spelled)
        if clean == spelled:
            return outcome, text
        return parse_structured(clean, schema), clean

    # -- the cache ----------------------------------------------------------------------------

    def _from_cache(self, request: _Request, started: float) -> ModelResult | None:
        with self._db_lock:
            entry = repo.cache_get(self.cache_store, request.cache_key)
        if entry is None:
            return None
        # Redacted on the way in, and again on the way out: answers cached by older versions
        # were stored with only the key itself removed.
        outcome, raw_text = self._read(self._redact(entry.raw_text), request.schema)
        if not outcome.ok:
            # The schema's rules changed since the answer was stored: ask the model again.
            logger.info("cached answer no longer validates (%s); calling the model", outcome.error)
            return None
        assert outcome.value is not None
        record = replace(
            self._record(request, status="ok", raw_text=raw_text, cached=True),
            parsed_json=canonical_json(outcome.value),
            latency_ms=_elapsed_ms(started),
            **self._archived(request, raw_text, cached=True),
        )
        invocation_id = self._write(record)
        return ModelResult(
            status="ok",
            parsed=outcome.value,
            error=None,
            raw_text=raw_text,
            invocation_id=invocation_id,
            latency_ms=record.latency_ms,
            cached=True,
        )

    # -- sending ------------------------------------------------------------------------------

    def _send(self, request: _Request) -> tuple[WireReply, int]:
        """The model's reply, its text and error line redacted (nothing past here sees a secret
        the model or the server's error message echoed), and the call's latency (ms)."""
        reply, latency_ms = self._call(request)
        redacted = replace(reply, text=self._redact(reply.text), error=self._redact(reply.error))
        return redacted, latency_ms

    def _call(self, request: _Request) -> tuple[WireReply, int]:
        """Only the HTTP exchange is timed: importing the SDK and building its client (a
        second, once per process) is no part of a model's latency."""
        if not self.config.api_key and not request.base_url:
            why = "no API key: set OPENAI_API_KEY (or OPENAI_BASE_URL for a local server)"
            return WireReply("failed", error=why), 0
        started = None
        try:
            sdk = self._client(request.base_url)
            self._local.sent = 1
            started = time.monotonic()
            reply = send(sdk, request.wire)
        except Exception as exc:  # every SDK/transport failure becomes a recorded status
            line = describe_error(
                exc,
                attempts=self._attempts() if self._owns_sdk else None,
                timeout_s=self.config.timeout_s,
                base_url=request.base_url,
            )
            reply = WireReply("failed", error=line)
        return reply, 0 if started is None else _elapsed_ms(started)

    def _client(self, base_url: str | None) -> Any:
        if self._injected_sdk is not None:
            return self._injected_sdk
        with self._sdk_lock:
            sdk = self._sdks.get(base_url)
            if sdk is None:
                import openai

                http_client = openai.DefaultHttpxClient(
                    event_hooks={"request": [self._count_attempt]}
                )
                sdk = self._sdks[base_url] = openai.OpenAI(
                    api_key=self.config.api_key or _PLACEHOLDER_KEY,
                    base_url=base_url,
                    timeout=self.config.timeout_s,
                    max_retries=self.config.retries,
                    http_client=http_client,
                )
            return sdk

    def _count_attempt(self, _request: Any) -> None:
        # The sync SDK sends from the calling thread, so a thread-local count is per call.
        self._local.attempts = getattr(self._local, "attempts", 0) + 1

    def _attempts(self) -> int:
        """HTTP requests of the current call; an injected SDK client is not counted (1 if used)."""
        counted = getattr(self._local, "attempts", 0)
        if self._owns_sdk or counted:
            return counted
        return getattr(self._local, "sent", 0)

    # -- finishing ------------------------------------------------------------------------

    def _finish(
        self, request: _Request, reply: WireReply, latency_ms: int, attempts: int, *, caching: bool
    ) -> ModelResult:
        status, error, kind, parsed = reply.status, reply.error, None, None
        raw_text = reply.text
        if status == "ok":
            outcome, raw_text = self._read(reply.text, request.schema)
            if outcome.ok:
                parsed = outcome.value
            else:
                status, error, kind = "invalid_output", outcome.error, outcome.kind
        # Validation messages may quote the parsed (unescaped) text: redacted once more.
        error = self._redactor.redact(one_line(error)) if error else None
        cost = self._cost(request.model, reply.input_tokens, reply.output_tokens)
        record = self._record(request, status=status, raw_text=raw_text, cached=False)
        record = replace(
            record,
            error=error,
            parsed_json=canonical_json(parsed) if parsed is not None else None,
            input_tokens=reply.input_tokens,
            output_tokens=reply.output_tokens,
            latency_ms=latency_ms,
            cost_usd=cost,
            attempts=attempts,
            **self._archived(request, raw_text, status=status, error=error),
        )
        entry = None
        if caching and parsed is not None and raw_text is not None:
            entry = repo.CachedResponse(
                key=request.cache_key,
                model=request.wire.model,
                api=request.wire.api,
                raw_text=raw_text,
                input_tokens=reply.input_tokens,
                output_tokens=reply.output_tokens,
                created_at=record.created_at,
            )
        invocation_id = self._write(record, entry)
        if status != "ok":
            logger.warning(
                "%s call to %s (%s) %s: %s",
                request.role,
                request.wire.model,
                request.wire.api,
                status,
                error,
            )
        return ModelResult(
            status=status,
            parsed=parsed,
            error=error,
            raw_text=raw_text,
            invocation_id=invocation_id,
            input_tokens=reply.input_tokens,
            output_tokens=reply.output_tokens,
            cost_usd=cost,
            latency_ms=latency_ms,
            cached=False,
            attempts=attempts,
            kind=kind,
        )

    def _refused(self, request: _Request, reason: str) -> ModelResult:
        """A call ``admit`` refused: recorded as ``failed`` with the reason, never sent."""
        error = one_line(reason)
        record = replace(
            self._record(request, status="failed", raw_text=None, cached=False), error=error
        )
        return ModelResult(
            status="failed",
            parsed=None,
            error=error,
            raw_text=None,
            invocation_id=self._write(record),
        )

    def _record(
        self, request: _Request, *, status: str, raw_text: str | None, cached: bool
    ) -> repo.InvocationRecord:
        return repo.InvocationRecord(
            role=request.role,
            model=request.model,
            api=request.wire.api,
            schema_name=request.wire.schema_name,
            request_hash=request.request_hash,
            prompt_hash=request.prompt_hash,
            status=status,
            created_at=self.clock.now_ms(),
            trace_id=request.trace_id,
            run_id=request.run_id,
            raw_text=raw_text,
            cached=cached,
        )

    def _write(
        self, record: repo.InvocationRecord, entry: repo.CachedResponse | None = None
    ) -> int:
        # One lock per client connection: threads must not interleave statements inside each
        # other's transactions. The HTTP call is over before this is taken.
        with self._db_lock:
            with self.store.atomic():
                invocation_id = repo.insert_invocation(self.store, record)
                if entry is not None and self.cache_store is self.store:
                    repo.cache_put(self.store, entry)
            if entry is not None and self.cache_store is not self.store:
                with self.cache_store.atomic():
                    repo.cache_put(self.cache_store, entry)
        return invocation_id

    def _archived(self, request: _Request, raw_text: str | None, **answer: Any) -> dict:
        """The artifact keys of the call's request and answer (none without an archive)."""
        if self.archive is None:
            return {}
        wire = request.wire
        sent = {**wire.canonical(), "role": request.role}
        try:
            with self._db_lock:
                return {
                    "request_artifact": self.archive(sent, "request"),
                    "response_artifact": self.archive({"raw_text": raw_text, **answer}, "response"),
                }
        except Exception:
            logger.warning("%s call to %s: request not archived", request.role, wire.model,
                           exc_info=True)  # fmt: skip
            return {}

    def _max_cost(self, request: _Request) -> Decimal | None:
        """:attr:`CallEstimate.max_cost_usd` of ``request`` (None: no known price)."""
        if self.price_for is None:
            return None
        wire = request.wire
        sent = json.dumps(
            [wire.messages, wire.strict_schema], ensure_ascii=False, separators=(",", ":")
        )
        input_bound = len(sent.encode("utf-8")) + _FRAMING_TOKENS * len(wire.messages)
        try:
            per_input, per_output = self.price_for(request.model)
            return (
                Decimal(input_bound) * Decimal(per_input)
                + Decimal(wire.max_output_tokens) * Decimal(per_output)
            ) / _PER_MILLION
        except (LookupError, ValueError, TypeError, ArithmeticError):
            return None

    def _cost(self, model: str, input_tokens: int, output_tokens: int) -> Decimal:
        if self.price_for is None or (input_tokens == 0 and output_tokens == 0):
            return Decimal(0)
        try:
            per_input, per_output = self.price_for(model)
            return (
                Decimal(input_tokens) * Decimal(per_input)
                + Decimal(output_tokens) * Decimal(per_output)
            ) / _PER_MILLION
        except (LookupError, ValueError, TypeError, ArithmeticError) as exc:
            logger.warning("no price for model %s (%s); recording cost 0", model, exc)
            return Decimal(0)


# -- helpers ----------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _strict_schema(schema: type[BaseModel]) -> dict[str, Any]:
    return strict_json_schema(schema)


def _sha256(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
