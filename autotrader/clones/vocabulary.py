"""The clones package's closed vocabularies, each defined once (standard library only, so the CLI
can name them without importing pydantic)."""

from __future__ import annotations

from enum import StrEnum


class Variant(StrEnum):
    """The built-in strategy variants a clone can run (personas in ``clones.variants``).

    A model runs at most one active clone per variant: ``(model, variant)`` is unique among
    clones that trade, so a model arena is a grid of models × variants.
    """

    APEX = "Apex"
    TRENDSURFER = "Trendsurfer"
    CONTRARIAN = "Contrarian"
    SOVEREIGN = "Sovereign"


class BaseUrlSetting(StrEnum):
    """The settings a registry model's requests may take their base URL from: hosted or routed
    models at ``OPENAI_BASE_URL``, local servers at their own (unset, ``OPENAI_BASE_URL``'s)."""

    OPENAI = "OPENAI_BASE_URL"
    OLLAMA = "OLLAMA_BASE_URL"
    VLLM = "VLLM_BASE_URL"
