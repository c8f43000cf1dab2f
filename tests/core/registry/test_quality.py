"""The quality table: build rules (scripts/build_quality.py) and the loader (quality.py)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from jarvis_cli.core.errors import JarvisError
from jarvis_cli.core.registry import quality
from jarvis_cli.core.registry.quality import (
    CATEGORIES,
    DEFAULT_QUALITY,
    UNSCORED_SOURCE,
    QualityEntry,
    bundled_quality,
    parse_quality,
)
from jarvis_cli.core.store.database import Store

REPO = Path(__file__).resolve().parents[3]
SHARED_QUALITY = REPO.parent / "shared" / "data" / "quality"
TASKS = {
    "Reasoning": ["zebra_puzzle"],
    "Coding": ["code_generation", "code_completion"],
    "Agentic Coding": ["python"],
    "Mathematics": ["olympiad"],
    "Data Analysis": ["tablejoin"],
    "Language": ["typos"],
    "IF": ["summarize"],
}
COLUMNS = [t for names in TASKS.values() for t in names]


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_quality", REPO / "scripts" / "build_quality.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_quality"] = module
    spec.loader.exec_module(module)
    return module


bq = _load_script()


def _row(name: str, score: float, **tasks: float) -> list[Any]:
    """A LiveBench row with every task at `score` except those given."""
    return [name, *(tasks.get(t, score) for t in COLUMNS)]


def _write_data(tmp: Path, new: list[list[Any]], old: list[list[Any]], aider: str = "") -> Path:
    data = tmp / "quality"
    data.mkdir()
    (data / bq.LIVEBENCH_CATEGORIES).write_text(json.dumps(TASKS))
    for rows, (_, filename) in zip((new, old), bq.LIVEBENCH_TABLES, strict=True):
        lines = [",".join(["model", *COLUMNS])]
        lines += [",".join(str(v) for v in row) for row in rows]
        (data / filename).write_text("\n".join(lines) + "\n")
    (data / bq.AIDER_FILE).write_text(aider)
    return data


def _write_catalog(tmp: Path, models: list[tuple[str, str, str | None, str | None]]) -> Path:
    """A catalog.json of chat models: (provider, name, family, release_date)."""
    fields = ["provider", "name", "type", "family", "release_date"]
    rows = [[p, n, "chat", f, d] for p, n, f, d in models]
    path = tmp / "catalog.json"
    path.write_text(json.dumps({"format": 2, "fields": fields, "models": rows}))
    return path


# --- name rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("benchmark", "base", "config"),
    [
        ("claude-opus-4-8-xhigh-effort", "claude-opus-4-8", "xhigh-effort"),
        ("gpt-5.2-2025-12-11-high", "gpt-5.2", "high"),
        ("gpt-5.2-2025-12-11-nothinking", "gpt-5.2", "nothinking"),
        (
            "claude-opus-4-5-20251101-thinking-64k-high-effort",
            "claude-opus-4-5",
            "thinking-64k-high-effort",
        ),
        (
            "claude-sonnet-4-6-thinking-auto-medium-effort",
            "claude-sonnet-4-6",
            "thinking-auto-medium-effort",
        ),
        ("gemini-2.5-flash-06-05-highthinking", "gemini-2.5-flash", "highthinking"),
        ("gemini-3-pro-preview-11-2025-high", "gemini-3-pro-preview", "high"),
        ("claude-4-sonnet-20250514-base", "claude-4-sonnet", ""),
        ("gpt-5-mini", "gpt-5-mini", ""),
        # Model names that merely look like configurations stay whole.
        ("kimi-k2-thinking", "kimi-k2-thinking", ""),
        ("deepseek-v3.2-thinking", "deepseek-v3.2-thinking", ""),
    ],
)
def test_benchmark_names_normalise_to_base_and_configuration(
    benchmark: str, base: str, config: str
) -> None:
    assert bq.normalise_benchmark(benchmark) == (base, config)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("gpt-5.2-2025-12-11", "gpt-5.2"),
        ("claude-opus-4-5-20251101", "claude-opus-4-5"),
        ("anthropic/claude-opus-4.5", "claude-opus-4-5"),  # OpenRouter writes dots
        ("openai/gpt-5", "gpt-5"),
        ("Qwen/Qwen3-235B-A22B-Instruct-2507-tput", "qwen3-235b-a22b-instruct-2507"),
        ("accounts/fireworks/models/kimi-k2p6", "kimi-k2.6"),
        ("google/gemma-4-31b-it:free", "gemma-4-31b-it"),
        ("gpt-4-0613", "gpt-4-0613"),  # not a date the catalog strips
    ],
)
def test_catalog_names_normalise_to_the_same_keys(name: str, key: str) -> None:
    assert bq.catalog_key(name) == key


def test_benchmark_rows_score_every_provider_carrying_the_model(tmp_path: Path) -> None:
    data = _write_data(
        tmp_path,
        new=[_row("claude-opus-4-8-xhigh-effort", 80)],
        old=[_row("gpt-5.2-2025-12-11-high", 70), _row("deepseek-v3.2-thinking", 60)],
    )
    catalog = _write_catalog(
        tmp_path,
        [
            ("anthropic", "claude-opus-4-8", None, None),
            ("openrouter", "anthropic/claude-opus-4.8", None, None),
            ("openai", "gpt-5.2", None, None),
            ("openai", "gpt-5.2-2025-12-11", None, None),
            ("openrouter", "openai/gpt-5.2", None, None),
            ("deepseek", "deepseek-reasoner", None, None),  # via the explicit table
            ("openai", "gpt-5.4", None, None),
        ],
    )
    built = bq.build(data, catalog)
    assert built.entries["anthropic/claude-opus-4-8"][2] == "livebench 2026-06-25"
    assert built.entries["openrouter/anthropic/claude-opus-4.8"][0] == pytest.approx(0.8)
    for model_id in ("openai/gpt-5.2", "openai/gpt-5.2-2025-12-11", "openrouter/openai/gpt-5.2"):
        assert built.entries[model_id][0] == pytest.approx(0.7)
        assert built.entries[model_id][2] == "livebench 2026-01-08"
    assert built.entries["deepseek/deepseek-reasoner"][0] == pytest.approx(0.6)
    assert "openai/gpt-5.4" not in built.entries
    assert built.unmatched_livebench == []


def test_unmatched_benchmark_rows_are_reported(tmp_path: Path) -> None:
    data = _write_data(tmp_path, new=[_row("grok-4-1-fast-reasoning", 50)], old=[])
    catalog = _write_catalog(tmp_path, [("openai", "gpt-5", None, None)])
    assert bq.build(data, catalog).unmatched_livebench == ["grok-4-1-fast-reasoning"]


# --- configurations -------------------------------------------------------------------


def test_the_api_default_configuration_is_taken_not_the_best(tmp_path: Path) -> None:
    # Anthropic's default is high effort without thinking; the thinking rows score higher.
    data = _write_data(
        tmp_path,
        new=[],
        old=[
            _row("claude-opus-4-5-20251101-thinking-64k-high-effort", 90),
            _row("claude-opus-4-5-20251101-high-effort", 60),
            _row("claude-opus-4-5-20251101-low-effort", 40),
            # An unsuffixed row is the default whatever the vendor table says.
            _row("gpt-5-mini-high", 90),
            _row("gpt-5-mini", 50),
            # GPT-5.2 defaults to reasoning effort none.
            _row("gpt-5.2-2025-12-11-high", 90),
            _row("gpt-5.2-2025-12-11-nothinking", 45),
        ],
    )
    catalog = _write_catalog(
        tmp_path,
        [
            ("anthropic", "claude-opus-4-5", None, None),
            ("openai", "gpt-5-mini", None, None),
            ("openai", "gpt-5.2", None, None),
        ],
    )
    entries = bq.build(data, catalog).entries
    assert entries["anthropic/claude-opus-4-5"][0] == pytest.approx(0.60)
    assert entries["openai/gpt-5-mini"][0] == pytest.approx(0.50)
    assert entries["openai/gpt-5.2"][0] == pytest.approx(0.45)


def test_without_a_default_configuration_the_median_is_taken(tmp_path: Path) -> None:
    data = _write_data(
        tmp_path,
        new=[],
        old=[_row("glm-5-low", 30), _row("glm-5-high", 80), _row("glm-5-xhigh", 50)],
    )
    catalog = _write_catalog(tmp_path, [("together", "zai-org/GLM-5", None, None)])
    overall, categories, source, _ = bq.build(data, catalog).entries["together/zai-org/GLM-5"]
    assert overall == pytest.approx(0.50) and categories["coding"] == pytest.approx(0.50)
    assert source == "livebench 2026-01-08"


def test_the_newer_table_wins_for_the_same_configuration(tmp_path: Path) -> None:
    data = _write_data(
        tmp_path,
        new=[_row("gpt-5.5", 77)],
        old=[_row("gpt-5.5", 60), _row("gpt-5.5-high", 99)],
    )
    catalog = _write_catalog(tmp_path, [("openai", "gpt-5.5", None, None)])
    overall, _, source, date = bq.build(data, catalog).entries["openai/gpt-5.5"]
    assert overall == pytest.approx(0.77)
    assert (source, date) == ("livebench 2026-06-25", "2026-06-25")


def test_a_zero_task_score_is_a_failed_run_not_a_measurement(tmp_path: Path) -> None:
    data = _write_data(
        tmp_path,
        new=[_row("gpt-5.5", 80, olympiad=0.0, code_completion=0.0)],
        old=[],
    )
    catalog = _write_catalog(tmp_path, [("openai", "gpt-5.5", None, None)])
    overall, categories, _, _ = bq.build(data, catalog).entries["openai/gpt-5.5"]
    # Mathematics had only the failed task: missing, not 0; coding keeps its other task.
    assert "mathematics" not in categories
    assert categories["coding"] == pytest.approx(0.80)
    assert overall == pytest.approx(0.80)


def test_overall_leaves_out_instruction_following(tmp_path: Path) -> None:
    data = _write_data(tmp_path, new=[], old=[_row("gpt-5-nano", 60, summarize=0.5)])
    catalog = _write_catalog(tmp_path, [("openai", "gpt-5-nano", None, None)])
    overall, categories, _, _ = bq.build(data, catalog).entries["openai/gpt-5-nano"]
    assert categories["instruction_following"] == pytest.approx(0.005)
    assert overall == pytest.approx(0.60)


# --- Aider and family priors ----------------------------------------------------------------

AIDER = """\
- dirname: a
  model: gpt-4.1
  pass_rate_2: 52.4
  command: aider --model gpt-4.1
  date: 2025-04-14

- dirname: b
  model: DeepSeek Chat V2.5
  pass_rate_2: 17.8
  command: aider --model deepseek/deepseek-chat
  date: 2024-12-21

- dirname: c
  model: o3 (high) + gpt-4.1
  pass_rate_2: 78.2
  command: aider --model o3
  date: 2025-06-27
"""


def test_aider_fills_models_livebench_lacks_and_skips_moving_aliases(tmp_path: Path) -> None:
    data = _write_data(tmp_path, new=[], old=[_row("gpt-5-nano", 60)], aider=AIDER)
    catalog = _write_catalog(
        tmp_path,
        [
            ("openai", "gpt-4.1", None, None),
            ("openai", "o3", None, None),
            ("deepseek", "deepseek-chat", None, None),
            ("openai", "gpt-5-nano", None, None),
        ],
    )
    built = bq.build(data, catalog)
    # Fewer than 4 models in both: pass_rate_2 / 100 as is (documented fallback).
    assert built.fits["coding"][:2] == (1.0, 0.0)
    overall, categories, source, date = built.entries["openai/gpt-4.1"]
    assert categories == {"coding": pytest.approx(0.524)} and overall == pytest.approx(0.524)
    assert (source, date) == ("aider polyglot", "2025-04-14")
    assert "deepseek/deepseek-chat" not in built.entries  # alias moved since the run
    assert "openai/o3" not in built.entries  # a two-model run
    assert built.entries["openai/gpt-5-nano"][2] == "livebench 2026-01-08"


def test_family_prior_is_the_newest_scored_model_released_before(tmp_path: Path) -> None:
    data = _write_data(
        tmp_path,
        new=[],
        old=[
            _row("claude-sonnet-4-5-20250929", 50),
            _row("claude-sonnet-4-6-thinking-auto-high-effort", 70),
            _row("claude-opus-4-5-20251101-high-effort", 90),
        ],
    )
    catalog = _write_catalog(
        tmp_path,
        [
            ("anthropic", "claude-sonnet-4-5", "claude-sonnet", "2025-09-29"),
            ("anthropic", "claude-sonnet-4-6", "claude-sonnet", "2026-02-17"),
            ("anthropic", "claude-opus-4-5", "claude-opus", "2025-11-24"),
            # Newer than both sonnets: inherits from the newest, 4-6.
            ("anthropic", "claude-sonnet-5", "claude-sonnet", "2026-06-30"),
            # Between them: inherits from its predecessor 4-5, never from 4-6.
            ("anthropic", "claude-sonnet-4-5-1", "claude-sonnet", "2025-12-01"),
            # Older than every scored sonnet: no prior (would overstate it).
            ("anthropic", "claude-3-7-sonnet", "claude-sonnet", "2025-02-19"),
            ("anthropic", "claude-mythos-5", None, "2026-06-01"),  # no family
            ("openai", "gpt-audio", "claude-sonnet", "2026-07-01"),  # not a text model
            # A family the name does not bear out (models.dev mislabels some).
            ("openrouter", "inflection/inflection-3-pi", "claude-sonnet", "2026-07-01"),
        ],
    )
    entries = bq.build(data, catalog).entries
    assert entries["anthropic/claude-sonnet-5"][0] == pytest.approx(0.70)
    assert entries["anthropic/claude-sonnet-5"][2] == "family prior: anthropic/claude-sonnet-4-6"
    assert entries["anthropic/claude-sonnet-4-5-1"][2] == (
        "family prior: anthropic/claude-sonnet-4-5"
    )
    assert "anthropic/claude-3-7-sonnet" not in entries
    assert "anthropic/claude-mythos-5" not in entries
    assert "openai/gpt-audio" not in entries
    assert "openrouter/inflection/inflection-3-pi" not in entries


@pytest.mark.parametrize(
    ("family", "name", "fits"),
    [
        ("claude-sonnet", "claude-sonnet-5", True),
        ("gemini-flash-lite", "gemini-3.1-flash-lite", True),
        ("o-mini", "o4-mini-high", True),
        ("kimi-k2", "accounts/fireworks/models/kimi-k2p6", True),
        ("gpt-codex", "gpt-5.2-chat-latest", False),
        ("o-mini", "gpt-4o-mini-search-preview", False),
        ("gpt", "inflection/inflection-3-pi", False),
    ],
)
def test_a_prior_needs_a_name_that_bears_the_family_out(family: str, name: str, fits: bool) -> None:
    assert bq.family_fits(family, name) is fits


# --- the file and its loader ----------------------------------------------------------------


def test_the_built_table_round_trips_through_the_loader(tmp_path: Path) -> None:
    data = _write_data(
        tmp_path,
        new=[_row("gpt-5.5", 80, python=40.0)],
        old=[_row("claude-sonnet-4-5-20250929", 50)],
        aider=AIDER,
    )
    catalog = _write_catalog(
        tmp_path,
        [
            ("openai", "gpt-5.5", "gpt", "2026-04-23"),
            ("openai", "gpt-5.6", "gpt", "2026-06-01"),
            ("anthropic", "claude-sonnet-4-5", None, None),
            ("openai", "gpt-4.1", None, None),
        ],
    )
    built = bq.build(data, catalog)
    loaded = parse_quality(json.loads(bq.render(built)))
    assert set(loaded) == set(built.entries)
    gpt = loaded["openai/gpt-5.5"]
    assert gpt.source == "livebench 2026-06-25" and gpt.date == "2026-06-25"
    assert gpt.for_task("agentic_coding") == pytest.approx(0.40)
    assert gpt.for_task("coding") == pytest.approx(0.80)
    assert gpt.for_task(None) == gpt.overall
    assert loaded["openai/gpt-5.6"].source == "family prior: openai/gpt-5.5"
    aider_only = loaded["openai/gpt-4.1"]
    assert aider_only.source == "aider polyglot"
    # A category the model has no score for falls back to its overall score.
    assert aider_only.for_task("mathematics") == aider_only.overall
    # Deterministic: the same inputs render byte-identical files.
    assert bq.render(bq.build(data, catalog)) == bq.render(built)


@pytest.mark.parametrize(
    "doc",
    [
        [],
        {"format": 99, "categories": list(CATEGORIES), "sources": [], "models": []},
        {"format": 1, "categories": ["coding"], "sources": [], "models": []},
    ],
)
def test_a_foreign_document_is_refused(doc: object) -> None:
    with pytest.raises(ValueError):
        parse_quality(doc)


def test_an_unreadable_bundled_table_is_a_jarvis_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "quality.json"
    broken.write_text("{not json")
    monkeypatch.setattr(quality, "QUALITY_FILE", broken)
    bundled_quality.cache_clear()
    try:
        with pytest.raises(JarvisError, match=r"quality table .* is unreadable"):
            bundled_quality()
    finally:
        bundled_quality.cache_clear()


def test_contract_constants() -> None:
    assert CATEGORIES == (
        "reasoning",
        "coding",
        "agentic_coding",
        "mathematics",
        "data_analysis",
        "language",
        "instruction_following",
    )
    assert 0 < DEFAULT_QUALITY < 0.5 and UNSCORED_SOURCE == "none"
    entry = QualityEntry(0.5, {"coding": 0.9}, "aider polyglot", None)
    assert entry.for_task("coding") == 0.9 and entry.for_task("language") == 0.5


# --- the bundled table ----------------------------------------------------------------------


def test_bundled_table_scores_are_in_range_and_sourced() -> None:
    table = bundled_quality()
    assert len(table) > 200
    for model_id, entry in table.items():
        assert "/" in model_id
        assert 0.0 <= entry.overall <= 1.0
        assert all(c in CATEGORIES and 0.0 <= v <= 1.0 for c, v in entry.categories.items())
        assert entry.source.startswith(("livebench 2026-", "aider polyglot", "family prior: "))
        if entry.source.startswith("family prior: "):
            assert entry.source.removeprefix("family prior: ") in table


def test_bundled_table_ranks_coding_models_as_the_benchmarks_do() -> None:
    table = bundled_quality()
    # LiveBench's top coders of 2026 score above the small and old models.
    for strong in ("anthropic/claude-opus-4-7", "openai/gpt-5.5", "gemini/gemini-3.1-pro-preview"):
        for weak in ("openai/gpt-4o-mini", "openai/gpt-5-nano", "gemini/gemini-2.5-flash-lite"):
            assert table[strong].for_task("coding") > table[weak].for_task("coding"), (strong, weak)
    # Dated snapshots carry the scores of their model.
    assert table["openai/gpt-5.2-2025-12-11"] == table["openai/gpt-5.2"]
    assert table["openrouter/openai/gpt-5"].overall == table["openai/gpt-5"].overall


def test_bundled_table_loads_fast_and_once() -> None:
    bundled_quality.cache_clear()
    start = time.perf_counter()
    first = bundled_quality()
    elapsed = time.perf_counter() - start
    assert bundled_quality() is first
    # Target < 5 ms; the bound is generous for a loaded machine.
    assert elapsed < 0.25, elapsed


@pytest.mark.skipif(not SHARED_QUALITY.exists(), reason="../shared/data/quality not present")
def test_committed_quality_table_matches_the_build_script() -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "build_quality.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr


# --- the table kept in the store (a selection's copy) --------------------------------------


def _fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a new process: nothing parsed or taken from the store yet."""
    bundled_quality.cache_clear()
    monkeypatch.setattr(quality, "_FROM_STORE", {})


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "jarvis.db")
    try:
        yield opened
    finally:
        opened.close()
        bundled_quality.cache_clear()


def test_a_selection_takes_the_parsed_table_from_the_store(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fresh_process(monkeypatch)
    parsed = dict(quality.stored_quality(store.conn))  # parsed, then stored
    assert parsed == dict(bundled_quality())
    _fresh_process(monkeypatch)

    def no_parse(doc: Any) -> dict[str, QualityEntry]:
        raise AssertionError("parsed again")

    monkeypatch.setattr(quality, "parse_quality", no_parse)
    stored = quality.stored_quality(store.conn)
    assert stored == parsed
    assert all(type(e) is QualityEntry for e in stored.values())


def test_a_changed_table_file_is_parsed_again(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fresh_process(monkeypatch)
    before = quality.stored_quality(store.conn)
    doc = json.loads(quality.QUALITY_FILE.read_bytes())
    doc["models"][0][1] = 0.0123  # the first model's overall score
    changed = tmp_path / "quality.json"
    changed.write_text(json.dumps(doc))
    monkeypatch.setattr(quality, "QUALITY_FILE", changed)
    _fresh_process(monkeypatch)
    after = quality.stored_quality(store.conn)
    model_id = doc["models"][0][0]
    assert after[model_id].overall == 0.0123 != before[model_id].overall
    # A snapshot that does not decode is not trusted: the file is parsed again.
    store.conn.execute("UPDATE snapshots SET data = x'00' WHERE name = 'bundled_quality'")
    _fresh_process(monkeypatch)
    assert quality.stored_quality(store.conn)[model_id].overall == 0.0123
