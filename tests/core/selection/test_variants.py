"""Versions and variants of a model, from its name."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from jarvis_cli.core.providers.base import Capabilities
from jarvis_cli.core.registry.model_table import ModelTable
from jarvis_cli.core.registry.records import ModelRecord
from jarvis_cli.core.selection.variants import (
    SNAPSHOT,
    NameFacts,
    base_name,
    name_facts,
    not_chat_word,
    variant_kind,
)


@pytest.mark.parametrize(
    ("name", "base"),
    [
        ("gpt-5-nano-2025-08-07", "gpt-5-nano"),
        ("claude-3-5-sonnet-20241022", "claude-3-5-sonnet"),
        ("mistral-large-2411", "mistral-large"),
        ("mistral-large-latest", "mistral-large"),
        ("gemini-2.0-flash-001", "gemini-2.0-flash"),
        ("llama3:latest", "llama3"),
        ("gpt-5-nano", "gpt-5-nano"),
        ("mixtral-8x7b-32768", "mixtral-8x7b-32768"),  # a context size, not a date
        ("meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-8B-Instruct"),
        ("2024", "2024"),
    ],
)
def test_base_name_strips_one_date_snapshot_or_latest(name: str, base: str) -> None:
    assert base_name(name) == base


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("gpt-4o-mini-audio-preview-2024-12-17", "audio"),
        ("gpt-4o-realtime-preview", "realtime"),
        ("gpt-4o-search-preview", "search"),
        ("gemini-2.5-flash-preview-05-20", "preview"),
        ("gpt-4o-mini-tts", "tts"),
        ("gpt-image-1", "image"),
        ("omni-moderation-latest", "moderation"),
        ("gpt-4o-transcribe", "transcribe"),
        ("gpt-4o-mini", None),
        ("o3-deep-research", None),
        ("ft:gpt-4.1-nano-2025-04-14", "fine-tune"),
    ],
)
def test_variant_kind_names_the_first_variant_word(name: str, kind: str | None) -> None:
    assert variant_kind(name) == kind


def test_not_chat_words() -> None:
    assert not_chat_word("text-embedding-3-small") == "embed"
    assert not_chat_word("whisper-1") == "whisper"
    assert not_chat_word("gpt-4o-mini") is None


def test_name_facts_are_stored_per_table_version_and_rebuilt_when_corrupt(
    tmp_path: Path,
) -> None:
    records = [
        ModelRecord(f"p/{n}", "p", n, "chat", Capabilities(chat=True))
        for n in ("gpt-5-nano", "gpt-5-nano-2025-08-07", "gpt-4o-audio-preview", "x-embed")
    ]
    table = ModelTable.from_records(records, version="7")
    conn = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    conn.execute("CREATE TABLE snapshots(name TEXT PRIMARY KEY, version TEXT, data BLOB)")
    scored = {"q/gpt-5-nano": 1}  # a bundled quality entry of the same name elsewhere
    facts = name_facts(conn, table, scored.keys())
    assert facts == NameFacts.of(table, scored.keys())
    assert facts.scored == {1: "q/gpt-5-nano", 2: "q/gpt-5-nano"}  # by name, by base name
    # positions in id order: gpt-4o-audio-preview, gpt-5-nano, gpt-5-nano-2025-08-07, x-embed
    assert facts.base == {2: "gpt-5-nano"} and facts.variant == {0: "audio"}
    assert facts.not_chat == {3: "embed"}
    stored = conn.execute("SELECT version FROM snapshots WHERE name = ?", (SNAPSHOT,)).fetchone()
    assert stored is not None and stored[0].startswith("n2:7:1:")  # + the bundled ids' digest
    conn.execute("UPDATE snapshots SET data = x'00' WHERE name = ?", (SNAPSHOT,))
    assert name_facts(conn, table, scored.keys()) == facts
    # Other bundled ids (a jarvis upgrade) are not served the old snapshot.
    assert name_facts(conn, table, ()).scored == {}
