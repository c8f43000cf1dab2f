"""Quality for the task, the strategies that use it, versions, variants, assumed types
and the exit-6 message (pure ranking; the CLI and bundled data are tested elsewhere)."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from jarvis_cli.core.errors import ExitCode, NoSuitableModelError
from jarvis_cli.core.providers.base import Capabilities
from jarvis_cli.core.registry.records import ModelRecord
from jarvis_cli.core.selection.cost import TokenEstimate
from jarvis_cli.core.selection.metrics import ModelMetrics
from jarvis_cli.core.selection.quality import QualityFacts, short_mark
from jarvis_cli.core.selection.ranking import rank
from jarvis_cli.core.selection.scoring import BUILTIN_WEIGHTS, Weights
from jarvis_cli.core.selection.types import RankInputs, SelectionRequest, SelectionResult

NOW = 1_700_000_000.0
CHAT = Capabilities(chat=True, completion=False, embeddings=False)
CODE = "Refactor this function:\n```python\ndef f(x):\n    return x\n```"


class Entry(NamedTuple):
    overall: float
    coding: float
    source: str = "livebench 2026-06-25"
    date: str | None = "2026-06-25"

    def for_task(self, task: str | None) -> float:
        return self.coding if task == "coding" else self.overall


def chat(model_id: str, price: float | None = 1.0, **kw: object) -> ModelRecord:
    provider, _, name = model_id.partition("/")
    fields: dict[str, object] = {
        "type": "chat",
        "capabilities": CHAT,
        "context_length": 128_000,
        "input_cost_per_mtok": price,
        "output_cost_per_mtok": None if price is None else price * 4,
    }
    fields.update(kw)
    return ModelRecord(model_id, provider, name, **fields)  # type: ignore[arg-type]


def run(
    models: list[ModelRecord],
    strategy: str,
    entries: dict[str, Entry] | None = None,
    *,
    usable: dict[str, bool] | None = None,
    metrics: dict[str, ModelMetrics] | None = None,
    cooling: dict[str, float] | None = None,
    **request: object,
) -> SelectionResult:
    providers = {m.provider for m in models}
    inputs = RankInputs(
        strategy=strategy,
        weights=Weights.normalized(BUILTIN_WEIGHTS[strategy], name=strategy),
        tokens=TokenEstimate(1000, 500, "default"),
        usable_providers=usable if usable is not None else dict.fromkeys(providers, True),
        unusable_reasons={p: ("no_key", f"no key for {p}") for p in providers},
        cooling_until=cooling or {},
        now=NOW,
        quality=QualityFacts(entries or {}, 0.3),
    )
    return rank(SelectionRequest(**request), models, inputs, metrics or {})  # type: ignore[arg-type]


# A small market: price per Mtok input (output is 4x), overall and coding scores.
MARKET = {
    "openai/flagship": (10.0, 0.80, 0.82),
    "anthropic/opus": (15.0, 0.79, 0.84),
    "openai/mini": (1.0, 0.70, 0.75),
    "gemini/flash": (0.5, 0.68, 0.66),
    "openai/nano": (0.05, 0.45, 0.40),
}


def market() -> tuple[list[ModelRecord], dict[str, Entry]]:
    models = [chat(m, price) for m, (price, _, _) in MARKET.items()]
    entries = {m: Entry(overall, coding) for m, (_, overall, coding) in MARKET.items()}
    return models, entries


def test_the_strategies_differ_on_a_coding_prompt() -> None:
    models, entries = market()
    picks = {s: run(models, s, entries, prompt=CODE) for s in ("quality", "balanced", "cost")}
    assert picks["quality"].model_id == "anthropic/opus"  # best coding score
    assert picks["cost"].model_id == "openai/nano"  # cheapest
    best = picks["quality"].chosen
    balanced = picks["balanced"].chosen
    assert balanced.quality >= 0.85 * best.quality
    assert balanced.estimated_cost_usd is not None and best.estimated_cost_usd is not None
    assert balanced.estimated_cost_usd <= 0.5 * best.estimated_cost_usd
    assert picks["balanced"].task.category == "coding"
    assert balanced.quality_source == "livebench 2026-06-25"


def test_the_task_decides_which_score_counts() -> None:
    models, entries = market()
    assert run(models, "quality", entries, prompt=CODE).model_id == "anthropic/opus"
    assert run(models, "quality", entries, prompt="hello").model_id == "openai/flagship"
    forced = run(models, "quality", entries, prompt="hello", task="coding")
    assert (forced.model_id, forced.task) == ("anthropic/opus", ("coding", "--task"))


def test_min_quality_is_a_floor_for_every_strategy() -> None:
    models, entries = market()
    result = run(models, "cost", entries, prompt=CODE, min_quality=0.6)
    assert result.model_id == "gemini/flash"
    why = {e.model_id: (e.code, e.reason) for e in result.excluded}
    assert why["openai/nano"] == (
        "min_quality",
        "quality 0.40 (livebench 2026-06-25) < --min-quality 0.6",
    )


def test_unscored_models_get_the_low_default_never_one() -> None:
    models, entries = market()
    models.append(chat("other/mystery", 0.01))
    result = run(models, "quality", entries, prompt="hello")
    mystery = next(c for c in result.candidates if c.model.id == "other/mystery")
    # ranked on the lower bound: the default less the margin of an unscored model
    assert (mystery.quality, mystery.quality_source, mystery.quality_margin) == (0.3, "none", 0.15)
    assert mystery.scores.quality == pytest.approx(0.15)
    assert not mystery.quality_known
    assert result.candidates[-1].model.id == "other/mystery"
    alone = run([chat("other/mystery")], "quality")
    assert alone.chosen.scores.quality == pytest.approx(0.15) and alone.confidence == 0.0


def test_a_model_listed_elsewhere_borrows_the_score_by_name() -> None:
    entries = {"openai/gpt-4o-mini": Entry(0.6, 0.55, "aider polyglot", None)}
    result = run([chat("box/gpt-4o-mini", None)], "quality", entries)
    c = result.chosen
    assert (c.quality, c.quality_source, c.quality_model) == (
        0.6,
        "aider polyglot",
        "openai/gpt-4o-mini",
    )
    vllm = run([chat("vllm/openai/gpt-4o-mini", None)], "quality", entries).chosen
    assert vllm.quality_model == "openai/gpt-4o-mini"


def test_short_marks_for_the_table() -> None:
    assert [short_mark(s) for s in ("livebench 2026-06-25", "aider polyglot")] == ["lb", "aider"]
    assert [short_mark(s) for s in ("family prior: openai/gpt-5", "config", "user", "none")] == [
        "prior",
        "cfg",
        "user",
        "?",
    ]


def test_cost_and_performance_break_ties_by_quality() -> None:
    models = [chat("a/weak", 1.0), chat("b/strong", 1.0)]
    entries = {"a/weak": Entry(0.4, 0.4), "b/strong": Entry(0.7, 0.7)}
    assert run(models, "cost", entries).model_id == "b/strong"
    assert run(models, "performance", entries).model_id == "b/strong"
    assert run(models, "reliability", entries).model_id == "b/strong"


# --- one row per model, variants --------------------------------------------------


def test_dated_snapshots_and_latest_aliases_are_one_candidate() -> None:
    models = [
        chat("openai/gpt-5-nano"),
        chat("openai/gpt-5-nano-2025-08-07"),
        chat("mistral/mistral-large-2407"),
        chat("mistral/mistral-large-2411"),
        chat("mistral/mistral-large-latest"),
    ]
    result = run(models, "cost", min_quality=0.0)
    rows = {c.model.id: c.versions for c in result.candidates}
    assert rows == {"openai/gpt-5-nano": 2, "mistral/mistral-large-latest": 3}
    why = {e.model_id: (e.code, e.reason) for e in result.excluded}
    assert why["openai/gpt-5-nano-2025-08-07"] == (
        "version",
        "a version of openai/gpt-5-nano (--all-versions lists every version)",
    )
    every = run(models, "cost", min_quality=0.0, all_versions=True)
    assert len(every.candidates) == 5 and not every.excluded
    pinned = run(models, "cost", min_quality=0.0, preferred_model="openai/gpt-5-nano-2025-08-07")
    assert pinned.model_id == "openai/gpt-5-nano-2025-08-07"


def test_without_an_alias_the_latest_snapshot_stands_for_the_model() -> None:
    models = [chat("anthropic/claude-x-20240620"), chat("anthropic/claude-x-20241022")]
    result = run(models, "cost", min_quality=0.0)
    assert [c.model.id for c in result.candidates] == ["anthropic/claude-x-20241022"]


def test_variants_are_left_out_of_a_plain_text_request_unless_asked_for() -> None:
    models = [
        chat("openai/gpt-4o-mini", 1.0),
        chat("openai/gpt-4o-mini-audio-preview", 0.1, capabilities=CHAT._replace(audio=True)),
        chat("openai/gpt-4o-search-preview", 0.1),
    ]
    result = run(models, "cost", min_quality=0.0)
    assert result.model_id == "openai/gpt-4o-mini"
    why = {e.model_id: e for e in result.excluded}
    assert why["openai/gpt-4o-mini-audio-preview"].code == "variant"
    assert why["openai/gpt-4o-search-preview"].reason.startswith("search variant")
    asked = run(models, "cost", min_quality=0.0, preferred_model="openai/gpt-4o-search-preview")
    assert asked.model_id == "openai/gpt-4o-search-preview"
    audio = run(models, "cost", min_quality=0.0, capabilities=("audio",))
    assert audio.model_id == "openai/gpt-4o-mini-audio-preview"


# --- unknown types ----------------------------------------------------------------


def test_a_model_of_unknown_type_is_assumed_chat_unless_its_name_says_otherwise() -> None:
    unknown = Capabilities()
    models = [
        chat("box/gpt-4o-mini", None, type=None, capabilities=unknown),
        chat("box/text-embedding-3-small", None, type=None, capabilities=unknown),
    ]
    result = run(models, "balanced")
    assert result.model_id == "box/gpt-4o-mini"
    assert result.chosen.type_assumed
    assert any(n.startswith("type assumed: chat") for n in result.chosen.notes)
    (excluded,) = result.excluded
    assert excluded.code == "type"
    assert "its name says 'embed'" in excluded.reason
    assert "`jarvis models set box/text-embedding-3-small --type chat`" in excluded.reason
    with pytest.raises(NoSuitableModelError):
        run(models, "balanced", kind="embedding", output_tokens=0)


# --- exit 6 -----------------------------------------------------------------------


def test_no_suitable_model_names_the_closest_models_with_fixes_before_no_key_counts() -> None:
    models = [
        chat("box/whisper-large", None, type=None, capabilities=Capabilities()),
        chat("box/priceless", None),
        chat("box/cooling", 0.01),
        chat("box/dated-2024-01-01", 500.0),
        *[chat(f"nokey/m{i}", 0.01) for i in range(4)],
    ]
    with pytest.raises(NoSuitableModelError) as info:
        run(
            models,
            "balanced",
            usable={"box": True, "nokey": False},
            cooling={"box/cooling": NOW + 42},
            max_cost_usd=0.01,
        )
    err = info.value
    assert err.exit_code == ExitCode.NO_MODEL
    lines = err.message.splitlines()
    assert lines[0] == "no suitable model for this chat request: 8 models excluded"
    assert lines[1] == "closest to qualifying:"
    # --max-cost was given: relaxing it is the fix the user most likely wants, first
    assert (
        lines[2] == "  box/dated-2024-01-01: estimated $1.500000 > max $0.01 "
        "-> raise --max-cost to $1.500000"
    )
    assert lines[3] == (
        "  box/priceless: price unknown (budget given) -> "
        "jarvis models set box/priceless --input-price USD --output-price USD"
    )
    assert lines[4].startswith("  box/whisper-large: type unknown")
    assert lines[4].endswith("-> jarvis models set box/whisper-large --type chat")
    assert lines[5].startswith("  box/cooling: cooling down until ")
    assert lines[5].endswith("(wait 42 s) -> wait 42 s")
    assert lines[6].startswith("exclusions by reason: ")
    assert lines[6].index("1 budget") < lines[6].index("4 no key (e.g. nokey/m0")
    assert all("nokey/" not in line for line in lines[1:6])
    assert getattr(err, "excluded", None) and len(err.excluded) == 8  # type: ignore[attr-defined]
