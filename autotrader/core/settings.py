"""Settings: environment variables (``AUTOTRADER_*``), a ``.env`` file, then defaults.

Precedence, highest first: explicit overrides (command-line flags such as ``--db``), environment
variables, the ``.env`` file in the working directory, built-in defaults. Standard names are used
where they exist (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``).

Settings are loaded once, by the CLI, and passed down; nothing else reads the environment.
``describe_settings`` says where each effective value came from, with secrets masked.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from dotenv import dotenv_values
from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from autotrader.core.errors import ConfigError
from autotrader.core.store_url import is_postgres, masked, password, sqlite_path

APP_NAME = "autotrader"
ENV_PREFIX = "AUTOTRADER_"
DEFAULT_ENV_FILE = ".env"
_EVENTS_PREFIX = re.compile(r"^[a-z.,]+=(?=[a-z][a-z0-9+.-]*://)")  # `exit,account=tgram://…`


def default_data_dir() -> Path:
    """The platform's per-user data folder, so cron, tmux and a shell all find the same store."""
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


# An address to bind: an IPv4 or IPv6 address or a host name, in ASCII (what getaddrinfo reads).
HOST_PATTERN = r"^[A-Za-z0-9:.\-]{1,253}$"


class Settings(BaseSettings):
    """Every setting of autotrader. Field docs are the help text of ``config show``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=DEFAULT_ENV_FILE,
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
        populate_by_name=True,
        allow_inf_nan=False,
    )

    # -- core -------------------------------------------------------------------------------
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Folder for the store, artifacts and demo files.",
    )
    db: str | None = Field(
        default=None,
        description=(
            "The store: a SQLite file path (default: autotrader.db in the data dir) or a"
            " postgresql://user:password@host/db URL."
        ),
    )
    mode: Literal["paper", "testnet", "real"] = Field(
        default="paper",
        description="Reserved. Live trading is chosen per account (`prop accounts create "
        "--venue`), not by this mode.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Log level."
    )
    log_format: Literal["auto", "rich", "json"] = Field(
        default="auto",
        description="Log format: rich on a terminal, JSON lines otherwise (auto), or forced.",
    )
    debug: bool = Field(default=False, description="Show tracebacks for errors.")
    db_busy_timeout_ms: int = Field(
        default=10_000, ge=0, le=600_000, description="How long a writer waits for the lock."
    )

    # -- workers ----------------------------------------------------------------------------
    worker_interval: float = Field(
        default=60.0, ge=0.01, le=86_400, description="Seconds between worker ticks."
    )
    worker_jitter: float = Field(
        default=0.1, ge=0, le=1, description="Random spread of the interval, as a fraction."
    )
    worker_max_interval: float = Field(
        default=900.0, ge=0.01, le=86_400, description="Longest back-off after failures (seconds)."
    )
    worker_breaker_failures: int = Field(
        default=5,
        ge=1,
        le=1000,
        description="Consecutive failures after which a worker reports itself degraded.",
    )
    worker_stale_after: float = Field(
        default=300.0,
        ge=1,
        le=604_800,
        description="A heartbeat older than this (seconds) is stale.",
    )

    now: str | None = Field(
        default=None,
        description="Replay clock: run as of this ISO-8601 UTC time instead of the wall clock.",
    )

    # -- market data sources -----------------------------------------------------------------
    hyperliquid_url: str = Field(
        default="https://api.hyperliquid.xyz", description="Hyperliquid API base URL (ccxt)."
    )
    polymarket_gamma_url: str = Field(
        default="https://gamma-api.polymarket.com", description="Polymarket Gamma API base URL."
    )
    polymarket_clob_url: str = Field(
        default="https://clob.polymarket.com", description="Polymarket CLOB API base URL."
    )
    defillama_url: str = Field(
        default="https://api.llama.fi", description="DefiLlama API base URL."
    )
    defillama_stablecoins_url: str = Field(
        default="https://stablecoins.llama.fi", description="DefiLlama stablecoins API base URL."
    )
    defillama_open_interest_path: str = Field(
        default="/overview/open-interest",
        description="Path of DefiLlama's perp DEX open interest overview on its API.",
    )
    http_timeout: float = Field(
        default=10.0, ge=0.1, le=300, description="Timeout of one market-data HTTP call (seconds)."
    )
    http_retries: int = Field(
        default=3, ge=0, le=10, description="Retries of a failed market-data call (with back-off)."
    )
    ingest_symbols: str = Field(
        default="BTC,ETH,SOL",
        description="Symbols `ingest run-once`/`worker` fetch when --symbols is not given.",
    )
    ingest_lookback_hours: float = Field(
        default=24.0, ge=0.1, le=168, description="How far back a first fetch of a symbol reaches."
    )
    retention_1m_hours: float = Field(
        default=24.0,
        ge=1,
        le=8_760,
        description="Keep this many hours of 1m/5m candles (before the clock).",
    )
    retention_1h_days: float = Field(
        default=7.0,
        ge=1,
        le=3_650,
        description="Keep this many days of 1h candles (before the clock).",
    )
    retention_observations_days: float = Field(
        default=7.0,
        ge=1,
        le=3_650,
        description="Keep funding, Polymarket and DefiLlama rows this long (days).",
    )
    ingest_slow_interval: float = Field(
        default=3600.0,
        ge=0,
        le=604_800,
        description="`ingest worker` fetches Polymarket and DefiLlama at most this often (s).",
    )
    hyperliquid_rate_limit_ms: int = Field(
        default=200, ge=1, le=60_000, description="Spacing between Hyperliquid requests (ms)."
    )
    ingest_stale_after: float = Field(
        default=600.0,
        ge=1,
        le=604_800,
        description="Price channels lagging more than this (s) are stale.",
    )
    hyperliquid_ws_url: str = Field(
        default="wss://api.hyperliquid.xyz/ws",
        description="Hyperliquid WebSocket URL `ingest stream` subscribes to 1m candles on.",
    )
    stream_reconnect_base: float = Field(
        default=1.0,
        ge=0.001,
        le=60,
        description="`ingest stream`: wait before the first reconnect, doubled each failure (s).",
    )
    stream_reconnect_max: float = Field(
        default=60.0,
        ge=0.001,
        le=3_600,
        description="`ingest stream`: the longest wait between reconnects (s).",
    )
    stream_reconnect_jitter: float = Field(
        default=0.2, ge=0, le=1, description="`ingest stream`: random spread of that wait."
    )

    # -- live execution (accounts on the hyperliquid-testnet and hyperliquid venues) -----------
    hyperliquid_testnet_url: str = Field(
        default="https://api.hyperliquid-testnet.xyz",
        description="Hyperliquid testnet API base URL (the hyperliquid-testnet venue).",
    )
    live_wallet_address: SecretStr | None = Field(
        default=None, description="Wallet address live accounts trade for (0x…, secret)."
    )
    live_private_key: SecretStr | None = Field(
        default=None, description="Private key of the API/agent wallet that signs live orders."
    )
    deposit_cap_usdc: Decimal | None = Field(
        default=None,
        ge=1,
        le=Decimal("1e9"),
        description="Most a live account's open notional plus pending orders may reach (USDC).",
    )
    live_halt: bool = Field(
        default=False, description="Stop every live order submission (protective cancels go on)."
    )
    live_halt_file: Path | None = Field(
        default=None,
        description="While this file exists no live order is sent (default: live.halt in the "
        "data dir).",
    )

    # -- the agent (`autotrader agent run`) ---------------------------------------------------
    agent_min_sleep_s: float = Field(
        default=30.0,
        ge=1,
        le=3_600,
        description="Shortest wait between two steps of `agent run` (s), whatever the Planner "
        "asks.",
    )
    agent_max_sleep_s: float = Field(
        default=3_600.0,
        ge=1,
        le=86_400,
        description="Longest wait between two steps of `agent run` (s): it wakes at least this "
        "often.",
    )
    agent_reconcile_interval_s: float = Field(
        default=300.0,
        ge=10,
        le=86_400,
        description="How often `agent run` reconciles its live venues with the store (s).",
    )

    # -- model provider (used by the llm and committee engines) ------------------------------
    openai_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("OPENAI_API_KEY", "AUTOTRADER_OPENAI_API_KEY"),
        description="API key for the OpenAI-compatible model provider.",
    )
    openai_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OPENAI_BASE_URL", "AUTOTRADER_OPENAI_BASE_URL"),
        description="Base URL of an OpenAI-compatible server (OpenRouter, Ollama, vLLM).",
    )
    ollama_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OLLAMA_BASE_URL", "AUTOTRADER_OLLAMA_BASE_URL"),
        description="Base URL of the Ollama server of the registry's ollama models "
        "(default: OPENAI_BASE_URL).",
    )
    vllm_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("VLLM_BASE_URL", "AUTOTRADER_VLLM_BASE_URL"),
        description="Base URL of the vLLM server of the registry's vllm models "
        "(default: OPENAI_BASE_URL).",
    )

    llm_api: Literal["responses", "chat"] | None = Field(
        default=None,
        description="Force every model call onto one API (default: each model's API in the "
        "registry; responses for a model it does not list).",
    )
    model_planner: str | None = Field(
        default=None, description="Model for the Planner (default: the clone's model)."
    )
    model_trader: str | None = Field(
        default=None, description="Model for the Trader (default: the clone's model)."
    )
    model_judge: str | None = Field(
        default=None, description="Model for the Judge (default: the clone's model)."
    )
    llm_temperature: float = Field(default=0.2, ge=0, le=2, description="Sampling temperature.")
    llm_max_output_tokens: int = Field(
        default=800, ge=16, le=32_000, description="Cap on tokens a model may answer with."
    )
    llm_temperature_planner: float = Field(
        default=0.5, ge=0, le=2, description="The Planner's sampling temperature."
    )
    llm_temperature_trader: float = Field(
        default=0.5, ge=0, le=2, description="The Trader's sampling temperature."
    )
    llm_temperature_judge: float = Field(
        default=0.5, ge=0, le=2, description="The Judge's sampling temperature."
    )
    llm_max_output_tokens_planner: int = Field(
        default=200, ge=16, le=32_000, description="The Planner's answer cap (tokens)."
    )
    llm_max_output_tokens_trader: int = Field(
        default=200, ge=16, le=32_000, description="The Trader's answer cap (tokens)."
    )
    llm_max_output_tokens_judge: int = Field(
        default=120, ge=16, le=32_000, description="The Judge's answer cap (tokens)."
    )
    llm_timeout: float = Field(default=60.0, ge=0.1, le=600, description="One model call (s).")
    llm_retries: int = Field(
        default=2, ge=0, le=10, description="Retries after a 429/5xx/timeout (with back-off)."
    )
    llm_cache: Literal["on", "off"] = Field(
        default="on",
        description="Reuse a stored response for an identical (model, API, schema, prompt).",
    )
    decision_safe_mode_failures: int = Field(
        default=3,
        ge=1,
        le=100,
        description="Consecutive failed model runs that put a clone in safe mode (holds only) "
        "until a call succeeds.",
    )
    decision_concurrency: int = Field(
        default=8, ge=1, le=64, description="Due decision runs evaluated at once."
    )

    # -- the desk ----------------------------------------------------------------------------
    desk_model: str | None = Field(
        default=None,
        description="Model of the desk's roundtables and initiatives (default: the desk "
        "clone's model).",
    )
    desk_timezone: str = Field(
        default="America/Los_Angeles",
        description="Time zone of the desk's roundtable schedule (an IANA name; the seed's "
        "times are US Pacific).",
    )

    # -- artifacts (prompts, contexts, responses) --------------------------------------------
    artifacts: Literal["file", "memory", "s3"] = Field(
        default="file", description="Where large payloads go: file (data dir), memory, or s3."
    )
    artifacts_dir: Path | None = Field(
        default=None, description="Folder of the file artifact store (default: data dir)."
    )
    s3_bucket: str | None = Field(default=None, description="Bucket of the s3 artifact store.")
    s3_prefix: str = Field(default="autotrader/", description="Key prefix in the bucket.")
    s3_endpoint_url: str | None = Field(
        default=None, description="S3-compatible endpoint (Cloudflare R2, MinIO); AWS if unset."
    )
    s3_region: str | None = Field(default=None, description="Region of the bucket.")

    # -- lifecycle: audition fees, auditions, profiles, the arena --------------------------------
    treasury_address: str | None = Field(
        default=None,
        description="EVM address (Hyperliquid) audition fees are paid to; unset: only manual "
        "verification.",
    )
    audition_fee_usdc: Decimal = Field(
        default=Decimal(25),
        ge=Decimal("0.000001"),
        le=1_000_000,
        decimal_places=6,
        description="Audition fee, USDC.",
    )
    audition_fee_expiry_hours: float = Field(
        default=24.0, ge=0.1, le=2160, description="A pending fee expires after this (hours)."
    )
    audition_cooldown_hours: float = Field(
        default=24.0, ge=0, le=8760, description="Wait after a failed audition before a retry (h)."
    )
    audition_max_attempts: int = Field(
        default=3, ge=1, le=100, description="Auditions a clone may take in all."
    )
    audition_balance: Decimal = Field(
        default=Decimal(10_000), ge=1, le=Decimal("1e9"), description="An audition's balance."
    )
    audition_max_leverage: int = Field(
        default=5, ge=1, le=100, description="Highest leverage in an audition."
    )
    audition_max_drawdown: Decimal = Field(
        default=Decimal("0.15"),
        ge=Decimal("0.001"),
        le=1,
        description="Drawdown (fraction) that fails early.",
    )
    audition_symbols: str = Field(
        default="BTC,ETH", description="Symbols an audition may trade, comma-separated; empty: any."
    )
    audition_duration_hours: float = Field(
        default=168.0, ge=0.1, le=8760, description="How long an audition trades (hours)."
    )
    audition_min_trades: int = Field(
        default=3, ge=0, le=100_000, description="Pass criterion: closed trades at least."
    )
    audition_pass_return_pct: Decimal = Field(
        default=Decimal(0), ge=-100, le=1_000_000, description="Pass criterion: return % at least."
    )
    audition_pass_max_drawdown_pct: Decimal = Field(
        default=Decimal(10), ge=0, le=100, description="Pass criterion: max drawdown % at most."
    )
    audition_pass_sharpe: float | None = Field(
        default=0.0,
        ge=-1000,
        le=1000,
        description="Pass criterion: Sharpe ratio at least (empty: not judged).",
    )
    audition_max_model_strength: int = Field(
        default=3, ge=0, le=10, description="Model tier a verified fee entitles to."
    )
    audition_max_active_assets: int = Field(
        default=10, ge=1, le=1000, description="Asset capacity a verified fee entitles to."
    )
    arena_slots: int = Field(default=10, ge=0, le=100_000, description="Clones the arena holds.")
    profile_denylist: str = Field(
        default="", description="Words public profiles may not use, comma-separated (extra)."
    )

    # -- arena: races, tickets, settlement, strikes ------------------------------------------
    arena_min_entrants: int = Field(
        default=2, ge=2, le=1000, description="Fewer entrants at the launch cancel a race."
    )
    arena_race_balance: Decimal = Field(
        default=Decimal(10_000), ge=1, le=Decimal("1e9"), description="A race account's balance."
    )
    arena_race_max_leverage: int = Field(
        default=5, ge=1, le=100, description="Highest leverage in a standard race."
    )
    arena_race_max_drawdown: Decimal = Field(
        default=Decimal("0.25"),
        ge=Decimal("0.01"),
        le=1,
        description="Drawdown (fraction) freezing a racer.",
    )
    arena_race_symbols: str = Field(
        default="BTC,ETH", description="Symbols a race account may trade; empty: any."
    )
    arena_rake_share: Decimal = Field(
        default=Decimal("0.05"),
        ge=0,
        le=Decimal("0.99"),
        description="The protocol's share of a race's pool.",
    )
    arena_creator_share: Decimal = Field(
        default=Decimal("0.10"),
        ge=0,
        le=Decimal("0.99"),
        description="The top finishers' owners' share.",
    )
    arena_payout_weights: str = Field(
        default="0.6,0.25,0.15",
        description="Distribution pool share of each paying position (1st, 2nd, ...).",
    )
    arena_royalty_weights: str = Field(
        default="0.5,0.3,0.2", description="Creator pool share of each top finisher (1st, ...)."
    )
    arena_ticket_min_usdc: Decimal = Field(
        default=Decimal(1),
        ge=Decimal("0.000001"),
        le=1_000_000,
        decimal_places=6,
        description="Smallest ticket.",
    )
    arena_ticket_max_usdc: Decimal = Field(
        default=Decimal(10_000),
        ge=Decimal("0.000001"),
        le=1_000_000,
        decimal_places=6,
        description="Largest ticket.",
    )
    arena_ticket_expiry_hours: float = Field(
        default=1.0,
        ge=0.01,
        le=720,
        description="A pending ticket expires after this (or at start).",
    )
    arena_strike_bottom: int = Field(
        default=1, ge=0, le=1000, description="Finishers in a race's bottom N get a strike."
    )
    arena_strikes_to_retire: int = Field(
        default=3, ge=1, le=1000, description="Strikes that retire a clone from the arena."
    )
    arena_retention_days: float = Field(
        default=30.0, ge=0, le=3650, description="A settled race is archived after this (days)."
    )

    @field_validator("db", mode="before")
    @classmethod
    def _db_location(cls, value: Any) -> Any:
        """A URL as given; a path with ``~`` expanded; blank is the default store."""
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        if not isinstance(value, str) or is_postgres(value):
            return value
        return str(Path(value).expanduser()) if value.strip() else None

    @field_validator("treasury_address")
    @classmethod
    def _valid_treasury(cls, value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        from autotrader.core.errors import InvalidInputError
        from autotrader.core.evm import checksum_address

        try:
            return checksum_address(value, field="address")
        except InvalidInputError as exc:
            raise ValueError(str(exc).removeprefix("address: ")) from None

    @field_validator("audition_symbols")
    @classmethod
    def _valid_audition_symbols(cls, value: str) -> str:
        import re

        symbols = [s.strip().upper() for s in value.split(",") if s.strip()]
        bad = [s for s in symbols if not re.fullmatch(r"[A-Z0-9/:_-]{1,32}", s)]
        if bad:
            raise ValueError(f"not symbols: {', '.join(bad)}")
        return ",".join(symbols)

    @field_validator("arena_race_symbols")
    @classmethod
    def _valid_race_symbols(cls, value: str) -> str:
        return cls._valid_audition_symbols(value)

    @field_validator("arena_creator_share")
    @classmethod
    def _room_for_ticket_holders(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        rake = info.data.get("arena_rake_share")
        if rake is not None and rake + value >= 1:
            raise ValueError(f"with a rake of {rake}, the ticket holders would get nothing")
        return value

    @field_validator("arena_payout_weights", "arena_royalty_weights")
    @classmethod
    def _valid_weights(cls, value: str) -> str:
        parts = [p.strip() for p in value.split(",") if p.strip()]
        try:
            weights = [Decimal(p) for p in parts]
        except ArithmeticError:
            raise ValueError("give positive decimals, comma-separated: 0.6,0.25,0.15") from None
        if not weights or len(weights) > 100 or any(not w.is_finite() or w <= 0 for w in weights):
            raise ValueError("give 1–100 positive decimals, comma-separated: 0.6,0.25,0.15")
        return ",".join(parts)

    @field_validator("audition_pass_sharpe", mode="before")
    @classmethod
    def _optional_sharpe(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    # -- serve (HTTP API and dashboard) --------------------------------------------------------
    server_host: str = Field(
        default="127.0.0.1",
        pattern=HOST_PATTERN,
        description="Address `autotrader serve` binds (loopback; put a reverse proxy in front):"
        " an IP address or a host name.",
    )
    server_port: int = Field(default=8000, ge=1, le=65_535, description="Port of `serve`.")
    server_token: SecretStr | None = Field(
        default=None,
        description="Bearer token for the admin routes; without one they do not exist.",
    )
    server_cors_origins: str = Field(
        default="",
        description="Origins allowed to call the API from a browser, comma-separated (off).",
    )
    server_rate_limit: int = Field(
        default=600, ge=1, le=1_000_000, description="Requests per minute per client address."
    )
    server_max_body_bytes: int = Field(
        default=262_144, ge=1_024, le=16_777_216, description="Largest request body accepted."
    )
    server_refresh_s: float = Field(
        default=15.0, ge=1, le=3_600, description="Seconds between dashboard refreshes."
    )

    # -- alerts ------------------------------------------------------------------------------------
    alert_urls: SecretStr | None = Field(
        default=None,
        description="Apprise URLs, whitespace-separated; `EVENTS=URL` narrows one channel.",
    )
    alert_events: str = Field(
        default="all",
        description="Events that alert at all: all, or e.g. fill,exit,account,worker.",
    )
    alert_rate_limit: int = Field(
        default=30, ge=1, le=10_000, description="Messages per channel per hour; the rest drop."
    )
    alert_retries: int = Field(
        default=3, ge=0, le=20, description="Retries of a failed delivery (with back-off)."
    )

    @field_validator("data_dir", "artifacts_dir", mode="before")
    @classmethod
    def _expand_user(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not value.strip():
                return None
            return Path(value).expanduser()
        return value

    @field_validator("now")
    @classmethod
    def _valid_now(cls, value: str | None) -> str | None:
        if value:
            from autotrader.core.clock import MAX_TIME_MS, MIN_TIME_MS, iso_utc, parse_iso_utc

            # The message never repeats the value: a key pasted here must not be echoed.
            bounds = f"between {iso_utc(MIN_TIME_MS)} and {iso_utc(MAX_TIME_MS)}"
            try:
                when = parse_iso_utc(value)
            except ValueError:
                raise ValueError(f"not an ISO-8601 UTC time {bounds}") from None
            if not MIN_TIME_MS <= when < MAX_TIME_MS:
                raise ValueError(f"the replay clock must be {bounds}")
        return value or None

    @field_validator("desk_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("an IANA time zone, e.g. America/Los_Angeles or UTC") from None
        return value

    @field_validator("ingest_symbols")
    @classmethod
    def _valid_symbols(cls, value: str) -> str:
        symbols = [s.strip() for s in value.split(",") if s.strip()]
        if not symbols:
            raise ValueError("name at least one symbol, e.g. BTC,ETH")
        return ",".join(symbols)

    @property
    def symbol_list(self) -> list[str]:
        return self.ingest_symbols.split(",")

    def clock(self):
        """The clock commands run on: simulated at ``AUTOTRADER_NOW`` when set, else the wall."""
        from autotrader.core.clock import SimulatedClock, SystemClock, parse_iso_utc

        return SimulatedClock(parse_iso_utc(self.now)) if self.now else SystemClock()

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("mode", "log_format", mode="before")
    @classmethod
    def _lower_choice(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @property
    def model_configured(self) -> bool:
        """Whether a model can be called: an API key, or the base URL of a local server."""
        key = self.openai_api_key.get_secret_value() if self.openai_api_key else ""
        return bool(key or self.openai_base_url or self.ollama_base_url or self.vllm_base_url)

    @property
    def db_url(self) -> str | None:
        """The PostgreSQL URL when the store is a PostgreSQL database, else None."""
        return self.db if self.db is not None and is_postgres(self.db) else None

    @property
    def db_path(self) -> Path:
        """The effective SQLite store path (meaningless when :attr:`db_url` is set)."""
        return sqlite_path(self.db) if self.db is not None else self.data_dir / "autotrader.db"

    @property
    def store_location(self) -> str | Path:
        """What ``open_store`` opens: the PostgreSQL URL or the SQLite path."""
        return self.db_url or self.db_path

    @property
    def halt_path(self) -> Path:
        """The file whose presence halts every live submission (`autotrader live halt`)."""
        return self.live_halt_file or self.data_dir / "live.halt"

    def secret_values(self) -> list[str]:
        """Every secret in clear text, for the log redaction filter (never printed): the API key,
        the server's token, the live wallet's key and address, every alert URL and any
        credential embedded in a URL setting."""
        from autotrader.core.secrets import credentials_in

        secrets = [
            self.openai_api_key,
            self.server_token,
            self.live_private_key,
            self.live_wallet_address,
        ]
        found = [s.get_secret_value() for s in secrets if s is not None and s.get_secret_value()]
        if self.db_url and password(self.db_url):
            found.append(password(self.db_url))
        # Every alert URL carries its channel's credentials (a bot token, a webhook key); an
        # entry's `EVENTS=` prefix is not part of what a log line would show.
        if self.alert_urls is not None:
            entries = self.alert_urls.get_secret_value().split()
            found += [_EVENTS_PREFIX.sub("", entry) for entry in entries]
        for name in Settings.model_fields:
            value = getattr(self, name)
            if isinstance(value, str | Path):
                found += credentials_in(str(value))
        return found


# -- loading and describing ------------------------------------------------------------------


def env_names(field_name: str) -> list[str]:
    """The environment variable names a field is read from, preferred name first."""
    field = Settings.model_fields[field_name]
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    return [f"{ENV_PREFIX}{field_name.upper()}"]


# An input is repeated in a problem line only when it is a number: anything else may be a key
# pasted into the wrong setting (an API key in AUTOTRADER_MODE must not reach the terminal).
_ECHOED_INPUT = re.compile(
    r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$|^[+-]?(?:inf|infinity|nan)$",
    re.IGNORECASE,
)


def _problem_line(error: Mapping[str, Any]) -> str:
    field_name = str(error["loc"][0]) if error.get("loc") else "?"
    name = env_names(field_name)[0] if field_name in Settings.model_fields else field_name
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    given = error.get("input")
    if isinstance(given, int | float) or (
        isinstance(given, str) and len(given) <= 32 and _ECHOED_INPUT.match(given.strip())
    ):
        return f"{name}: {message} (got {str(given).strip()!r})"
    return f"{name}: {message}"


def load_settings(*, env_file: str | Path | None = DEFAULT_ENV_FILE, **overrides: Any) -> Settings:
    """Load settings; ``overrides`` (e.g. ``db=`` from ``--db``) win over everything.

    Raises ``ConfigError`` listing every invalid setting, one line each, and one line for an
    ``env_file`` that cannot be read as UTF-8 text.
    """
    clean = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(_env_file=env_file, **clean)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise ConfigError([_problem_line(error) for error in exc.errors()]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{env_file}: not a UTF-8 text file (settings, one per line)"]) from None
    except OSError as exc:
        raise ConfigError([f"{env_file}: cannot be read ({exc.strerror or exc})"]) from None


def setting_range(field_name: str) -> tuple[float | None, float | None]:
    """The inclusive ``(low, high)`` bounds of a numeric setting (``None`` where unbounded)."""
    low = high = None
    for constraint in Settings.model_fields[field_name].metadata:
        low = getattr(constraint, "ge", low)
        high = getattr(constraint, "le", high)
    return low, high


def is_numeric(field_name: str) -> bool:
    """Whether a setting holds a number (int, float or Decimal, optional or not)."""
    annotation = Settings.model_fields[field_name].annotation
    return any(annotation in (kind, kind | None) for kind in (int, float, Decimal))


def _about(field_name: str) -> str:
    """A setting's description, with its range for a number (``config show``'s about column)."""
    field = Settings.model_fields[field_name]
    about = field.description or ""
    if is_numeric(field_name):
        low, high = setting_range(field_name)
        about += f" (range {low:g} to {high:g})"
    return about


# Settings holding a URL: checked to be http(s) URLs, shown with their credentials masked.
URL_SETTINGS = tuple(name for name in Settings.model_fields if name.endswith("_url"))
_HTTP_URL = re.compile(r"^https?://[^/?#\s]+", re.IGNORECASE)
_WS_URL = re.compile(r"^wss?://[^/?#\s]+", re.IGNORECASE)


@dataclass(frozen=True)
class SettingView:
    """One effective setting as ``config show`` prints it."""

    name: str
    value: str
    source: str  # "--flag", "env", ".env", or "default"
    description: str


def describe_settings(
    settings: Settings,
    *,
    env_file: str | Path | None = DEFAULT_ENV_FILE,
    overridden: set[str] | frozenset[str] = frozenset(),
    environ: Mapping[str, str] | None = None,
) -> list[SettingView]:
    """Every setting with its effective value and where it came from. Secrets are masked, and
    so are credentials in URLs; a URL setting holding something else is not shown at all."""
    from autotrader.core.secrets import MASK, is_url, mask_credentials, mask_secret

    environ = os.environ if environ is None else environ
    file_values: dict[str, str | None] = {}
    if env_file is not None and Path(env_file).is_file():
        file_values = dict(dotenv_values(env_file))
    views: list[SettingView] = []
    for field_name in Settings.model_fields:
        names = env_names(field_name)
        if field_name in overridden:
            source = f"--{field_name.replace('_', '-')}"
        elif any(name in environ for name in names):
            source = "env"
        elif any(name in file_values or name.lower() in file_values for name in names):
            source = ".env"
        else:
            source = "default"
        value = getattr(settings, field_name)
        if isinstance(value, SecretStr):
            shown = mask_secret(value.get_secret_value())
        elif value is None:
            shown = ""
        elif field_name in URL_SETTINGS and not is_url(value):
            shown = f"{MASK} (not a URL)"
        else:
            shown = mask_credentials(str(value))
        if field_name == "db" and value is None:
            shown = f"{mask_credentials(str(settings.db_path))} (derived)"
        elif field_name == "db" and settings.db_url:
            shown = masked(settings.db_url)
        views.append(SettingView(names[0], shown, source, _about(field_name)))
    return views


def _sqlite_store_problems(path: Path) -> list[str]:
    """Why a SQLite store could not be created or written at ``path`` (empty when it can)."""
    problems: list[str] = []
    existing = path.parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    from autotrader.core.secrets import mask_credentials

    shown, store = mask_credentials(str(existing)), mask_credentials(str(path))
    if existing.exists() and not existing.is_dir():
        problems.append(f"AUTOTRADER_DB: {shown} is a file, not a folder")
    elif not os.access(existing, os.W_OK):
        problems.append(f"AUTOTRADER_DB: cannot write to {shown}")
    if path.exists() and path.is_dir():
        problems.append(f"AUTOTRADER_DB: {store} is a folder, not a file")
    return problems


def check_settings(settings: Settings) -> list[str]:
    """Problems that types alone cannot catch, one line each (empty when all is well)."""
    problems: list[str] = []
    if settings.mode != "paper":
        problems.append(
            f"AUTOTRADER_MODE: {settings.mode!r} is reserved; live trading is chosen per "
            "account (`prop accounts create --venue`)"
        )
    if settings.worker_max_interval < settings.worker_interval:
        problems.append(
            "AUTOTRADER_WORKER_MAX_INTERVAL: must be at least AUTOTRADER_WORKER_INTERVAL "
            f"({settings.worker_max_interval} < {settings.worker_interval})"
        )
    if settings.agent_max_sleep_s < settings.agent_min_sleep_s:
        problems.append(
            "AUTOTRADER_AGENT_MAX_SLEEP_S: must be at least AUTOTRADER_AGENT_MIN_SLEEP_S "
            f"({settings.agent_max_sleep_s} < {settings.agent_min_sleep_s})"
        )
    if not settings.db_url:
        problems += _sqlite_store_problems(settings.db_path)
    if settings.artifacts == "s3" and not settings.s3_bucket:
        problems.append("AUTOTRADER_S3_BUCKET: required when AUTOTRADER_ARTIFACTS=s3")
    for field_name in URL_SETTINGS:
        url = getattr(settings, field_name)
        websocket = field_name.endswith("_ws_url")
        if url is not None and not (_WS_URL if websocket else _HTTP_URL).match(url):
            # Not echoed: what sits in a URL setting may be a pasted key.
            schemes = "a ws:// or wss://" if websocket else "an http:// or https://"
            problems.append(f"{env_names(field_name)[0]}: must be {schemes} URL")
    return problems
