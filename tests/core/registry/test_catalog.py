"""The LiteLLM-format parser and the bundled catalog."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from jarvis_cli.core.errors import ExitCode, UsageError
from jarvis_cli.core.providers.presets import PRESETS
from jarvis_cli.core.registry.catalog import (
    CATALOG_FILE,
    bundled_catalog,
    parse_litellm,
    per_mtok,
    provider_names,
    read_price_file,
)

REPO = Path(__file__).resolve().parents[3]
SHARED_MAP = REPO.parent / "shared" / "data" / "model_prices_and_context_window.json"
NAMES = provider_names(PRESETS.values())


def test_provider_names_map_litellm_names_to_jarvis_providers() -> None:
    assert NAMES["together_ai"] == "together"
    assert NAMES["fireworks_ai"] == "fireworks"
    assert NAMES["text-completion-openai"] == "openai"
    assert NAMES["openai"] == "openai"


def test_per_mtok_converts_and_rejects_junk() -> None:
    assert per_mtok(1.5e-07) == 0.15
    assert per_mtok(0) == 0.0
    assert per_mtok("0.1") is None and per_mtok(True) is None and per_mtok(-1) is None


def test_parse_strips_provider_prefix_and_keeps_supported_modes() -> None:
    data = {
        "sample_spec": {"litellm_provider": "x", "mode": "chat"},
        "groq/llama-3.1-8b-instant": {
            "litellm_provider": "groq",
            "mode": "chat",
            "input_cost_per_token": 5e-08,
            "output_cost_per_token": 8e-08,
            "max_input_tokens": 128000,
            "supports_function_calling": True,
        },
        "fireworks_ai/accounts/fireworks/models/x": {
            "litellm_provider": "fireworks_ai",
            "mode": "chat",
        },
        "together-ai-up-to-4b": {"litellm_provider": "together_ai", "mode": "chat"},
        "dall-e-3": {"litellm_provider": "openai", "mode": "image_generation"},
        "bedrock/foo": {"litellm_provider": "bedrock", "mode": "chat"},
        "no-mode": {"litellm_provider": "openai", "input_cost_per_token": 1e-6},
        # Listed as chat or completion, but an image generator, a classifier and speech:
        "fireworks_ai/accounts/fireworks/models/flux-1-dev-controlnet-union": {
            "litellm_provider": "fireworks_ai",
            "mode": "chat",
        },
        "groq/meta-llama/llama-prompt-guard-2-22m": {"litellm_provider": "groq", "mode": "chat"},
        "gemini/gemini-2.5-pro-preview-tts": {"litellm_provider": "gemini", "mode": "chat"},
        "openai/gpt-4o-mini-tts-free": {"litellm_provider": "openai", "mode": "completion"},
        # ...while these are what they say (an embedding model; "stts" is not "tts"):
        "groq/guardian-chat-notreally": {"litellm_provider": "groq", "mode": "embedding"},
        "openai/text-stts-model": {"litellm_provider": "openai", "mode": "chat"},
    }
    parsed = parse_litellm(data, NAMES, source="test")
    by_id = {e.model_id: e for e in parsed.entries}
    assert set(by_id) == {
        "groq/llama-3.1-8b-instant",
        "fireworks/accounts/fireworks/models/x",
        "groq/guardian-chat-notreally",
        "openai/text-stts-model",
    }
    groq = by_id["groq/llama-3.1-8b-instant"]
    assert (groq.input_cost_per_mtok, groq.output_cost_per_mtok) == (0.05, 0.08)
    assert groq.context_length == 128000 and groq.function_calling is True
    assert groq.vision is None  # absent = unknown
    assert by_id["fireworks/accounts/fireworks/models/x"].input_cost_per_mtok is None
    assert parsed.skipped_provider == 1 and parsed.skipped_mode == 2 + 4


def test_duplicate_keys_fill_missing_facts() -> None:
    data = {
        "deepseek-chat": {
            "litellm_provider": "deepseek",
            "mode": "chat",
            "input_cost_per_token": 1e-6,
        },
        "deepseek/deepseek-chat": {
            "litellm_provider": "deepseek",
            "mode": "chat",
            "input_cost_per_token": 9e-6,
            "max_input_tokens": 64000,
        },
    }
    (entry,) = parse_litellm(data, NAMES, source="t").entries
    assert entry.input_cost_per_mtok == 1.0 and entry.context_length == 64000


@pytest.mark.parametrize("data", [[], {}, {"a": 1}, {"a": {"foo": "bar"}}, "text"])
def test_parse_rejects_what_is_not_a_litellm_map(data: object) -> None:
    with pytest.raises(UsageError, match="not a LiteLLM price map") as info:
        parse_litellm(data, NAMES, source="f.json")
    assert info.value.exit_code == ExitCode.USAGE


def test_read_price_file_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        read_price_file(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(UsageError, match="invalid JSON"):
        read_price_file(bad)


def test_bundled_catalog_is_compact_and_has_the_known_facts() -> None:
    catalog = bundled_catalog()
    assert len(catalog.raw) < 200_000
    entries = {e.model_id: e for e in catalog.entries()}
    mini = entries["openai/gpt-4o-mini"]
    assert (mini.input_cost_per_mtok, mini.output_cost_per_mtok) == (0.15, 0.6)
    assert {e.provider for e in entries.values()} <= set(PRESETS)
    assert {e.type for e in entries.values()} == {"chat", "completion", "embedding"}


def test_notice_ships_with_the_catalog() -> None:
    notice = (CATALOG_FILE.parent / "NOTICE").read_text()
    assert "MIT License" in notice and "Berri AI" in notice


@pytest.mark.skipif(not SHARED_MAP.exists(), reason="../shared/data price map not present")
def test_committed_catalog_matches_the_build_script() -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "build_catalog.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.skipif(not SHARED_MAP.exists(), reason="../shared/data price map not present")
def test_real_price_map_parses() -> None:
    parsed = parse_litellm(json.loads(SHARED_MAP.read_bytes()), NAMES, source="map")
    assert len(parsed.entries) > 500


def test_hosted_zero_price_is_unknown_but_local_zero_is_free() -> None:
    data = {
        "gemini/gemini-exp-1114": {
            "litellm_provider": "gemini",
            "mode": "chat",
            "input_cost_per_token": 0,
            "output_cost_per_token": 0,
        },
        "ollama/llama3": {
            "litellm_provider": "ollama",
            "mode": "chat",
            "input_cost_per_token": 0,
            "output_cost_per_token": 0,
        },
    }
    names = {"gemini": "gemini", "ollama": "ollama"}
    by_id = {
        e.model_id: e for e in parse_litellm(data, names, source="t", hosted={"gemini"}).entries
    }
    assert by_id["gemini/gemini-exp-1114"].input_cost_per_mtok is None
    assert by_id["gemini/gemini-exp-1114"].output_cost_per_mtok is None
    assert by_id["ollama/llama3"].input_cost_per_mtok == 0.0
    # Without the rule (e.g. a map for local providers only) a 0 stays 0.
    (plain,) = [e for e in parse_litellm(data, names, source="t").entries if e.provider == "gemini"]
    assert plain.input_cost_per_mtok == 0.0


def test_bundled_catalog_has_no_free_hosted_models() -> None:
    from jarvis_cli.core.providers.presets import PRESETS
    from jarvis_cli.core.registry.catalog import bundled_catalog

    hosted = {p.name for p in PRESETS.values() if p.needs_key}
    free = [
        e.model_id
        for e in bundled_catalog().entries()
        if e.provider in hosted and e.input_cost_per_mtok == 0
    ]
    assert free == []
