"""Tables of clones: the model registry, clones, their owners and entitlements, and versioned
strategy graphs (every accepted save is a new version; layout metadata is stored beside the
graph). A clone may carry a strategy variant; ``(model, variant)`` is unique among clones that
trade."""

from __future__ import annotations

from autotrader.core._sqlite_utils import Database, Migrations

migrations = Migrations("clones")

# name, provider, base URL setting, API model, API, strength, USD per 1M input / output tokens
SEED_MODELS = (
    ("gpt-5-nano", "openai", "OPENAI_BASE_URL", "gpt-5-nano", "responses", 1, "0.05", "0.40"),
    ("gpt-5-mini", "openai", "OPENAI_BASE_URL", "gpt-5-mini", "responses", 2, "0.25", "2.00"),
    ("gpt-4.1-mini", "openai", "OPENAI_BASE_URL", "gpt-4.1-mini", "responses", 2, "0.40", "1.60"),
    ("gpt-4.1", "openai", "OPENAI_BASE_URL", "gpt-4.1", "responses", 3, "2.00", "8.00"),
    ("gpt-5", "openai", "OPENAI_BASE_URL", "gpt-5", "responses", 4, "1.25", "10.00"),
    ("llama3.1-8b", "ollama", "OPENAI_BASE_URL", "llama3.1:8b", "chat", 1, "0", "0"),
    ("qwen2.5-32b", "vllm", "OPENAI_BASE_URL", "Qwen/Qwen2.5-32B-Instruct", "chat", 2, "0", "0"),
)


@migrations()
def m001_models(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE models (
            name TEXT PRIMARY KEY,
            provider TEXT NOT NULL,
            base_url_setting TEXT NOT NULL,        -- which setting holds the base URL
            api_model TEXT NOT NULL,               -- the model name the API expects
            api TEXT NOT NULL CHECK (api IN ('responses', 'chat')),
            strength INTEGER NOT NULL CHECK (strength BETWEEN 0 AND 10),
            input_usd_per_mtok TEXT NOT NULL,      -- Decimal text, USD per 1M input tokens
            output_usd_per_mtok TEXT NOT NULL,
            created_at INTEGER NOT NULL
        ) STRICT
        """
    )
    for model in SEED_MODELS:
        db.execute(
            "INSERT INTO models VALUES (?, ?, ?, ?, ?, ?, ?, ?, strftime('%s', 'now') * 1000)",
            model,
        )


@migrations()
def m002_clones(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE clones (
            id INTEGER PRIMARY KEY,
            owner TEXT NOT NULL DEFAULT 'local',
            name TEXT NOT NULL,
            display_name TEXT,
            description TEXT,
            model TEXT NOT NULL REFERENCES models (name),
            trading_enabled INTEGER NOT NULL DEFAULT 1,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            UNIQUE (owner, name)
        ) STRICT
        """
    )
    db.execute(
        """
        CREATE TABLE clone_entitlements (
            clone_id INTEGER PRIMARY KEY REFERENCES clones (id),
            max_model_strength INTEGER NOT NULL,
            max_active_assets INTEGER NOT NULL,
            reason TEXT,
            updated_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute(
        """
        CREATE TABLE clone_pipelines (
            id INTEGER PRIMARY KEY,
            clone_id INTEGER NOT NULL REFERENCES clones (id),
            version INTEGER NOT NULL,
            graph TEXT NOT NULL,                   -- canonical JSON of the executable graph
            layout TEXT NOT NULL,                  -- canonical JSON of the layout metadata
            warnings TEXT NOT NULL,                -- JSON list of save-time warnings
            created_at INTEGER NOT NULL,
            UNIQUE (clone_id, version)
        ) STRICT
        """
    )


@migrations()
def m003_owners(db: Database) -> None:
    # Fees, public profiles and (later) royalties belong to owners. `clones.owner` already names
    # one by handle; every handle in use becomes an owner without an address.
    db.execute(
        """
        CREATE TABLE owners (
            handle TEXT PRIMARY KEY,
            evm_address TEXT UNIQUE,               -- EIP-55 checksummed; NULL until named
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute(
        "INSERT INTO owners (handle, created_at, updated_at) SELECT DISTINCT owner,"
        " strftime('%s', 'now') * 1000, strftime('%s', 'now') * 1000 FROM clones"
    )


@migrations()
def m004_clone_variants(db: Database) -> None:
    # No CHECK on the names: the service validates them against ``clones.vocabulary.Variant``,
    # and a fifth variant must not need a rebuild of a table every other package references.
    db.execute("ALTER TABLE clones ADD COLUMN variant TEXT")
    # A model runs at most one trading clone per variant (the arena grid's cells). The service
    # refuses a duplicate first, naming the clone that holds the pair; this is the backstop.
    db.execute(
        "CREATE UNIQUE INDEX idx_clones_model_variant ON clones (model, variant)"
        " WHERE variant IS NOT NULL AND trading_enabled = 1"
    )


@migrations()
def m005_local_model_servers(db: Database) -> None:
    # The seeded Ollama and vLLM models were read from OPENAI_BASE_URL with the OpenAI models:
    # each local server gets a setting of its own (unset, it still falls back to that one).
    for provider, setting in (("ollama", "OLLAMA_BASE_URL"), ("vllm", "VLLM_BASE_URL")):
        db.execute(
            "UPDATE models SET base_url_setting = ?"
            " WHERE provider = ? AND base_url_setting = 'OPENAI_BASE_URL'",
            (setting, provider),
        )
