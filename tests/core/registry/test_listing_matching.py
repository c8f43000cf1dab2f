"""Synced models the catalog does not know under their provider: matched by name to
another provider's entry (never its price), or given what /models said."""

from __future__ import annotations

import pytest

from jarvis_cli.core.context import Context
from jarvis_cli.core.providers.base import Capabilities, ModelInfo
from jarvis_cli.core.registry.catalog import CatalogEntry
from jarvis_cli.core.registry.listing import apply_listing, matched_catalog_id
from jarvis_cli.core.registry.matching import NameIndex, match_key
from jarvis_cli.core.registry.model_registry import ModelRegistry

CATALOG = {
    e.model_id: e
    for e in (
        CatalogEntry("openai", "gpt-4o-mini", "chat", 128000, 16384, 0.15, 0.6, True, True, None),
        CatalogEntry("openrouter", "openai/gpt-4o-mini", "chat", 128000, None, 0.2, 0.8),
        CatalogEntry(
            "together", "meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo", "chat", 131072, None, 0.18
        ),
        CatalogEntry("openai", "text-embedding-3-small", "embedding", 8191, None, 0.02, 0.0),
    )
}


@pytest.fixture
def registry() -> ModelRegistry:
    return ModelRegistry(Context())


def test_match_keys() -> None:
    assert match_key("meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo") == "llama-3.1-8b-instruct"
    assert match_key("meta-llama/Llama-3.1-8B-Instruct") == "llama-3.1-8b-instruct"
    assert match_key("llama3.1:8b") == "llama3.1"
    assert match_key("-turbo") == "-turbo"


def test_first_party_entry_wins_and_never_the_own_provider() -> None:
    index = NameIndex(CATALOG)
    assert index.find("box", "gpt-4o-mini") == "openai/gpt-4o-mini"
    assert index.find("vllm", "openai/gpt-4o-mini") == "openrouter/openai/gpt-4o-mini"
    assert index.find("vllm", "meta-llama/Llama-3.1-8B-Instruct") == (
        "together/meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo"
    )
    assert index.find("openai", "gpt-4o-mini") is None  # the first match is its own
    assert index.find("box", "house-model") is None


def test_matched_models_get_the_facts_but_not_the_price(registry: ModelRegistry) -> None:
    infos = [
        ModelInfo(id="gpt-4o-mini", name="gpt-4o-mini"),
        ModelInfo(id="text-embedding-3-small", name="text-embedding-3-small"),
        ModelInfo(id="meta-llama/Llama-3.1-8B-Instruct", name="x", context_length=32768),
    ]
    apply_listing(registry, "box", infos, CATALOG)
    mini = registry.get("box/gpt-4o-mini")
    assert mini is not None and mini.type == "chat" and mini.context_length == 128000
    assert mini.capabilities.function_calling is True and mini.capabilities.vision is True
    assert (mini.input_cost_per_mtok, mini.output_cost_per_mtok) == (None, None)
    embed = registry.get("box/text-embedding-3-small")
    assert embed is not None and embed.type == "embedding"
    llama = registry.get("box/meta-llama/Llama-3.1-8B-Instruct")
    assert llama is not None and llama.type == "chat"
    assert llama.context_length == 32768  # what this server said beats the hosted entry
    assert matched_catalog_id(CATALOG, "box", "gpt-4o-mini") == "openai/gpt-4o-mini"
    assert matched_catalog_id(CATALOG, "openai", "gpt-4o-mini") is None


def test_unmatched_models_keep_the_metadata_their_listing_gave(registry: ModelRegistry) -> None:
    info = ModelInfo(
        id="house/special",
        name="house/special",
        capabilities=Capabilities(chat=True, embeddings=False, vision=True),
        context_length=65536,
        input_cost_per_mtok=0.5,
        output_cost_per_mtok=1.5,
        max_output_tokens=4096,
    )
    apply_listing(registry, "router", [info], CATALOG)
    model = registry.get("router/house/special")
    assert model is not None and model.source == "sync"
    assert (model.context_length, model.max_output_tokens) == (65536, 4096)
    assert (model.input_cost_per_mtok, model.output_cost_per_mtok) == (0.5, 1.5)
    assert model.capabilities.chat is True and model.capabilities.vision is True
