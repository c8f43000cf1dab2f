"""ModelRegistry against a real SQLite store in the test's JARVIS_HOME."""

from __future__ import annotations

import time

import pytest

from jarvis_cli.core.context import Context
from jarvis_cli.core.errors import UsageError
from jarvis_cli.core.providers.base import Capabilities, ModelInfo
from jarvis_cli.core.registry.catalog import CatalogEntry
from jarvis_cli.core.registry.listing import apply_listing
from jarvis_cli.core.registry.model_registry import (
    CATALOG_DIGEST_META,
    ModelRegistry,
    infer_unknown,
)
from jarvis_cli.core.store.config import save_raw


@pytest.fixture
def registry() -> ModelRegistry:
    return ModelRegistry(Context())


def _infos(*names: str) -> list[ModelInfo]:
    return [ModelInfo(id=n, name=n) for n in names]


CATALOG = {
    "openai/gpt-4o-mini": CatalogEntry(
        "openai", "gpt-4o-mini", "chat", 128000, 16384, 0.15, 0.6, True, True, None
    )
}


def test_fresh_store_lists_catalog_models_with_prices(registry: ModelRegistry) -> None:
    model = registry.get("openai/gpt-4o-mini")
    assert model is not None
    assert (model.input_cost_per_mtok, model.output_cost_per_mtok) == (0.15, 0.6)
    assert model.context_length == 128000 and model.type == "chat"
    assert model.source == "catalog" and model.status == "active"
    assert model.capabilities.chat is True and model.capabilities.vision is True
    assert len(registry.list_models()) > 500


def test_ensure_catalog_is_a_no_op_once_registered(registry: ModelRegistry) -> None:
    registry.ensure_catalog()
    store = registry.ctx.store
    with store.write() as conn:
        conn.execute("UPDATE models SET input_cost_per_mtok = 99 WHERE id = 'openai/gpt-4o-mini'")
    registry.ensure_catalog()
    model = registry.get("openai/gpt-4o-mini")
    assert model is not None and model.input_cost_per_mtok == 99


def test_changed_catalog_refreshes_catalog_rows_but_not_overrides(
    registry: ModelRegistry,
) -> None:
    registry.ensure_catalog()
    registry.set_overrides("openai/gpt-4o-mini", {"output_cost_per_mtok": 1.25})
    store = registry.ctx.store
    with store.write() as conn:
        conn.execute("UPDATE models SET input_cost_per_mtok = 99 WHERE id = 'openai/gpt-4o-mini'")
        store.set_meta(conn, CATALOG_DIGEST_META, "an older catalog")
    model = registry.get("openai/gpt-4o-mini")
    assert model is not None
    assert model.input_cost_per_mtok == 0.15  # refreshed from the bundled catalog
    assert model.output_cost_per_mtok == 1.25  # the user's value survives


def test_filters_by_provider_kind_and_capability(registry: ModelRegistry) -> None:
    embeds = registry.list_models(provider="openai", kind="embedding")
    assert embeds and all(m.type == "embedding" and m.provider == "openai" for m in embeds)
    vision = registry.list_models(capability="vision")
    assert vision and all(m.capabilities.vision for m in vision)
    assert registry.list_models(capability="embedding") == registry.list_models(
        capability="embeddings"
    )


def test_unknown_capability_is_a_usage_error(registry: ModelRegistry) -> None:
    with pytest.raises(UsageError, match="unknown capability 'telepathy'"):
        registry.list_models(capability="telepathy")


def test_listing_adds_models_with_catalog_facts_or_unknowns(registry: ModelRegistry) -> None:
    result = apply_listing(registry, "openai", _infos("gpt-4o-mini", "brand-new"), CATALOG)
    assert (result.listed, result.added) == (2, 1)
    known = registry.get("openai/gpt-4o-mini")
    new = registry.get("openai/brand-new")
    assert known is not None and known.source == "sync" and known.input_cost_per_mtok == 0.15
    assert known.synced_at is not None
    assert new is not None and new.source == "sync"
    assert new.type is None and new.context_length is None  # unknown stays unknown
    assert new.input_cost_per_mtok is None and new.capabilities == Capabilities()


def test_vanished_models_become_unavailable_and_come_back(registry: ModelRegistry) -> None:
    apply_listing(registry, "fakeprov", _infos("a-chat", "b-embed"), {})
    second = apply_listing(registry, "fakeprov", _infos("a-chat"), {})
    assert second.unavailable == 1
    gone = registry.get("fakeprov/b-embed")
    assert gone is not None and gone.status == "unavailable"
    assert [m.id for m in registry.list_models(provider="fakeprov")] == ["fakeprov/a-chat"]
    assert len(registry.list_models(provider="fakeprov", include_unavailable=True)) == 2
    third = apply_listing(registry, "fakeprov", _infos("a-chat", "b-embed"), {})
    assert third.reactivated == 1
    back = registry.get("fakeprov/b-embed")
    assert back is not None and back.status == "active"


def test_sync_of_one_provider_marks_its_unlisted_catalog_models_only(
    registry: ModelRegistry,
) -> None:
    apply_listing(registry, "openai", _infos("gpt-4o-mini"), CATALOG)
    other_openai = registry.get("openai/gpt-4o")
    assert other_openai is not None and other_openai.status == "unavailable"
    groq = registry.list_models(provider="groq")
    assert groq and all(m.status == "active" for m in groq)


def test_overrides_survive_syncs(registry: ModelRegistry) -> None:
    save_raw(
        registry.ctx.paths.config_file,
        {"providers": {"fakeprov": {"base_url": "http://127.0.0.1:9/v1"}}},
    )
    registry.ctx = Context()
    apply_listing(registry, "fakeprov", _infos("fake-chat"), {})
    registry.set_overrides(
        "fakeprov/fake-chat",
        {"input_cost_per_mtok": 1.0, "context_length": 32000, "quality": 0.8},
        capabilities={"vision": True},
    )
    apply_listing(registry, "fakeprov", _infos("fake-chat"), {}, now=time.time() + 5)
    model = registry.get("fakeprov/fake-chat")
    assert model is not None
    assert (model.input_cost_per_mtok, model.context_length, model.quality) == (1.0, 32000, 0.8)
    assert model.capabilities.vision is True and model.capabilities.chat is True


def test_set_on_unknown_model_creates_a_user_row(registry: ModelRegistry) -> None:
    model = registry.set_overrides("openai/my-finetune", {"type": "chat"})
    assert model.source == "user" and model.type == "chat"


def test_set_on_unknown_provider_is_a_usage_error(registry: ModelRegistry) -> None:
    with pytest.raises(UsageError, match="unknown provider 'nope'"):
        registry.set_overrides("nope/model", {"quality": 0.5})


def test_gemini_models_prefix_is_stripped(registry: ModelRegistry) -> None:
    apply_listing(registry, "gemini", _infos("models/gemini-x"), {})
    assert registry.get("gemini/gemini-x") is not None


def test_ollama_tag_latest_uses_catalog_facts_of_base_name(registry: ModelRegistry) -> None:
    catalog = {"ollama/llama3": CatalogEntry("ollama", "llama3", "chat", 8192, None, 0, 0)}
    apply_listing(registry, "ollama", _infos("llama3:latest"), catalog)
    model = registry.get("ollama/llama3:latest")
    assert model is not None and model.context_length == 8192 and model.type == "chat"


def test_listing_context_length_is_used_for_unknown_models(registry: ModelRegistry) -> None:
    apply_listing(registry, "fakeprov", [ModelInfo("m", "m", context_length=65536)], {})
    model = registry.get("fakeprov/m")
    assert model is not None and model.context_length == 65536


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("text-embedding-3-small", "embedding"),
        ("nomic-embed-text", "embedding"),
        ("fake-chat", "chat"),
        ("deepseek-chat", "chat"),
        ("llama3", None),
        ("chatterbox-tts", None),
    ],
)
def test_inference_for_unknown_models_is_conservative(name: str, kind: str | None) -> None:
    inferred, _ = infer_unknown(name)
    assert inferred == kind
