"""Model facts from models.dev: the catalog merge (scripts/build_catalog.py), the new
capability columns and facts in the store, old stores and old snapshots."""

from __future__ import annotations

import importlib.util
import json
import os
import sqlite3
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from jarvis_cli.core.context import Context
from jarvis_cli.core.errors import UsageError
from jarvis_cli.core.providers.base import Capabilities
from jarvis_cli.core.registry.catalog import (
    CATALOG_FORMAT,
    ROW_FIELDS,
    CatalogEntry,
    bundled_catalog,
    parse_litellm,
)
from jarvis_cli.core.registry.model_registry import (
    CATALOG_DIGEST_META,
    ModelRegistry,
    normalize_capability,
)
from jarvis_cli.core.registry.model_table import ModelTable, load_model_table
from jarvis_cli.core.registry.rows import read_records
from jarvis_cli.core.store.migrations import MIGRATIONS, SCHEMA_VERSION
from jarvis_cli.core.store.snapshots import data_version

REPO = Path(__file__).resolve().parents[3]


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_catalog", REPO / "scripts" / "build_catalog.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_catalog"] = module
    spec.loader.exec_module(module)
    return module


bc = _load_script()

MODELS_DEV: dict[str, Any] = {
    "models": {
        "openai/gpt-5": {
            "name": "GPT-5",
            "tool_call": True,
            "structured_output": True,
            "reasoning": True,
            "modalities": {"input": ["text", "image", "pdf"], "output": ["text"]},
            "limit": {"context": 400000, "output": 128000},
            "cost": {"input": 1.25, "output": 10},
            "release_date": "2025-08-07",
            "open_weights": False,
        },
        # A dated snapshot is matched through its base name; family comes from any
        # provider listing the same bare name.
        "azure/gpt-5": {"name": "GPT-5", "family": "gpt", "release_date": "2025-08-07"},
        "openai/gpt-4o-mini": {
            "name": "GPT-4o mini",
            "tool_call": True,
            "modalities": {"input": ["text", "image"], "output": ["text"]},
            "cost": {"input": 0.15, "output": 0.9},  # disagrees with the price map
            "family": "gpt-mini",
            "release_date": "2024-07-18",
        },
        # OpenRouter overlays a price on the vendor's own entry.
        "openrouter/openai/gpt-5": {
            "cost": {"input": 1.25, "output": 10},
            "modalities": {"input": ["text", "image"]},
        },
        "openrouter/black-forest/flux-image": {
            "name": "Flux",
            "modalities": {"input": ["text"], "output": ["image"]},
        },
    }
}


def _md() -> Any:
    return bc.ModelsDev(MODELS_DEV, {"openai", "openrouter", "anthropic"})


def test_models_dev_flags_and_facts_merge_into_a_price_map_entry() -> None:
    md = _md()
    entry = CatalogEntry(
        "openai", "gpt-5-2025-08-07", "chat", None, None, 1.25, 10.0, None, False, None
    )
    merged = bc.merge_entry(entry, md.match("openai", entry.name), md, hosted=True)
    assert merged.function_calling is True and merged.structured_output is True
    assert merged.reasoning is True and merged.pdf_input is True
    assert merged.vision is True  # models.dev says image input; the map said False
    assert merged.audio is False
    # Limits the map lacked are filled; its prices stay.
    assert (merged.context_length, merged.max_output_tokens) == (400000, 128000)
    assert (merged.input_cost_per_mtok, merged.output_cost_per_mtok) == (1.25, 10.0)
    assert (merged.family, merged.release_date, merged.open_weights) == ("gpt", "2025-08-07", False)


def test_an_unmatched_entry_keeps_the_price_map_facts() -> None:
    md = _md()
    entry = CatalogEntry("anthropic", "claude-x", "chat", 1000, 100, 1.0, 2.0, True, None, None)
    merged = bc.merge_entry(entry, md.match("anthropic", "claude-x"), md, hosted=True)
    assert merged == entry


def test_openrouter_overlays_complete_from_the_vendor_entry() -> None:
    entries = {e.name: e for e in bc.models_dev_only("openrouter", _md(), hosted=True)}
    assert set(entries) == {"openai/gpt-5"}  # the image model is not a chat model
    gpt = entries["openai/gpt-5"]
    assert gpt.type == "chat" and gpt.reasoning is True and gpt.context_length == 400000
    assert gpt.pdf_input is False  # the overlay's own modalities win
    assert (gpt.family, gpt.input_cost_per_mtok) == ("gpt", 1.25)


def test_price_disagreements_are_reported() -> None:
    entries = [
        CatalogEntry("openai", "gpt-4o-mini", "chat", None, None, 0.15, 0.6),
        CatalogEntry("openai", "gpt-5", "chat", None, None, 1.25, 10.0),
    ]
    assert bc.price_disagreements(entries, _md()) == [("openai/gpt-4o-mini", "out", 0.6, 0.9)]


def test_litellm_flags_for_the_new_capabilities_are_read() -> None:
    data = {
        "gpt-x": {
            "litellm_provider": "openai",
            "mode": "chat",
            "supports_response_schema": True,
            "supports_reasoning": False,
            "supports_pdf_input": True,
        }
    }
    (entry,) = parse_litellm(data, {"openai": "openai"}, source="map").entries
    caps = entry.capabilities()
    assert (caps.structured_output, caps.reasoning, caps.pdf_input) == (True, False, True)
    assert entry.family is None  # the price map has no family


def test_bundled_catalog_is_format_2_with_models_dev_facts() -> None:
    doc = json.loads(bundled_catalog().raw)
    assert doc["format"] == CATALOG_FORMAT == 2 and doc["fields"] == list(ROW_FIELDS)
    entries = {e.model_id: e for e in bundled_catalog().entries()}
    opus = entries["anthropic/claude-opus-4-5"]
    assert (opus.family, opus.release_date) == ("claude-opus", "2025-11-24")
    assert opus.capabilities().reasoning is True and opus.capabilities().pdf_input is True
    assert entries["openrouter/openai/gpt-5"].family == "gpt"
    assert "models.dev" in doc["license"] and "models.dev" in doc["source"]


@pytest.mark.parametrize("name", ["structured_output", "reasoning", "pdf_input"])
def test_new_capabilities_are_known_capability_names(name: str) -> None:
    assert normalize_capability(name.upper()) == name


def test_unknown_capability_names_the_new_ones_in_its_hint() -> None:
    with pytest.raises(UsageError) as err:
        normalize_capability("telepathy")
    assert "structured_output" in str(err.value.hint) and "reasoning" in str(err.value.hint)


# --- the store ----------------------------------------------------------------------------


def test_facts_reach_model_records_in_a_fresh_store() -> None:
    registry = ModelRegistry(Context())
    opus = registry.get("anthropic/claude-opus-4-5")
    assert opus is not None
    assert (opus.family, opus.release_date, opus.open_weights) == (
        "claude-opus",
        "2025-11-24",
        False,
    )
    assert opus.capabilities.reasoning is True and opus.capabilities.structured_output is True
    reasoning = registry.list_models(capability="reasoning")
    assert "anthropic/claude-opus-4-5" in {m.id for m in reasoning}
    assert all(m.capabilities.reasoning is True for m in reasoning)
    # The columnar snapshot selection scans carries them too.
    table = registry.table()
    i = table.index("anthropic/claude-opus-4-5")
    assert i is not None and table.family(i) == "claude-opus" and table.record(i) == opus


def test_import_prices_keeps_the_catalog_only_facts() -> None:
    registry = ModelRegistry(Context())
    entry = CatalogEntry("anthropic", "claude-opus-4-5", "chat", 200000, 64000, 4.0, 20.0)
    assert registry.import_entries([entry]) == (1, 0)
    opus = registry.get("anthropic/claude-opus-4-5")
    assert opus is not None and opus.input_cost_per_mtok == 4.0 and opus.source == "import"
    assert opus.family == "claude-opus" and opus.release_date == "2025-11-24"


def _old_store(path: Path) -> None:
    """A store as jarvis wrote it before migration 4, with a registered catalog."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    os.chmod(path, 0o600)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "CREATE TABLE schema_migrations("
        "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
    )
    for version, (name, migration) in enumerate(MIGRATIONS[:3], start=1):
        migration(conn)
        conn.execute("INSERT INTO schema_migrations VALUES (?, ?, 0)", (version, name))
    conn.execute(
        "INSERT INTO models(id, provider, name, type, cap_chat, input_cost_per_mtok, "
        "status, source) VALUES "
        "('anthropic/claude-opus-4-5', 'anthropic', 'claude-opus-4-5', 'chat', 1, 5.0, "
        "'active', 'catalog')"
    )
    # Even a digest equal to the new catalog's must not stop the re-registration.
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?)",
        (CATALOG_DIGEST_META, bundled_catalog().digest),
    )
    conn.execute("COMMIT")
    conn.close()


def test_a_store_from_before_the_migration_gains_the_columns_and_the_facts() -> None:
    ctx = Context()
    path = ctx.paths.db_file
    _old_store(path)
    store = ctx.store  # opening migrates
    assert store.schema_version() == SCHEMA_VERSION
    columns = {r[1] for r in store.conn.execute("PRAGMA table_info(models)")}
    assert {"cap_structured_output", "cap_reasoning", "cap_pdf_input"} <= columns
    assert {"family", "release_date", "open_weights"} <= columns
    opus = ModelRegistry(ctx).get("anthropic/claude-opus-4-5")
    assert opus is not None and opus.family == "claude-opus"
    assert opus.capabilities.reasoning is True
    assert store.get_meta(CATALOG_DIGEST_META) == bundled_catalog().digest


def test_a_snapshot_of_the_previous_format_is_rebuilt_not_misread() -> None:
    ctx = Context()
    registry = ModelRegistry(ctx)
    table = registry.table()
    conn = ctx.store.conn
    version = data_version(conn, "models")
    # The same table as the previous format wrote it: JMT1, six capability flags.
    current = table.encode()
    size = int.from_bytes(current[4:8], "little")
    header = json.loads(current[8 : 8 + size])
    header["shapes"] = [[p, t, caps[:6], st, src] for p, t, caps, st, src in header["shapes"]]
    del header["facts"]
    old_header = json.dumps(header).encode()
    old = b"JMT1" + len(old_header).to_bytes(4, "little") + old_header + current[8 + size :]
    with pytest.raises(ValueError):
        ModelTable.decode(old)
    with ctx.store.write() as w:
        w.execute(
            "UPDATE snapshots SET data = ?, version = ? WHERE name = 'model_table'", (old, version)
        )
    rebuilt = load_model_table(conn)
    expected = sorted(read_records(conn), key=lambda r: r.id)
    assert [rebuilt.record(i) for i in range(len(rebuilt))] == expected
    stored = conn.execute("SELECT data FROM snapshots WHERE name = 'model_table'").fetchone()[0]
    assert bytes(stored[:4]) == b"JMT2"


def test_capabilities_default_to_unknown() -> None:
    caps = Capabilities()
    assert (caps.structured_output, caps.reasoning, caps.pdf_input) == (None, None, None)


def test_an_overlay_without_the_vendor_entry_takes_what_most_resellers_state() -> None:
    doc = {
        "models": {
            "openrouter/acme/widget-1": {"cost": {"input": 1, "output": 2}},
            "reseller-a/widget-1": {
                "name": "Widget",
                "structured_output": True,
                "family": "widget",
                "modalities": {"input": ["text"], "output": ["text"]},
            },
            "reseller-b/acme/widget-1": {
                "name": "Widget",
                "structured_output": True,
                "family": "widget",
                "modalities": {"input": ["text"], "output": ["text"]},
            },
            "reseller-c/widget-1": {
                "name": "Widget",
                "structured_output": False,
                "modalities": {"input": ["text"], "output": ["text"]},
            },
        }
    }
    md = bc.ModelsDev(doc, {"openrouter"})
    (entry,) = bc.models_dev_only("openrouter", md, hosted=True)
    assert entry.name == "acme/widget-1" and entry.structured_output is True
    assert (entry.family, entry.input_cost_per_mtok) == ("widget", 1.0)
