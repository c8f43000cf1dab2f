"""The pure selection core: hand-made registry records and metrics, no store."""

from __future__ import annotations

import random

import pytest

from jarvis_cli.core.errors import ExitCode, NoSuitableModelError
from jarvis_cli.core.providers.base import Capabilities
from jarvis_cli.core.registry.records import ModelRecord
from jarvis_cli.core.selection import speed
from jarvis_cli.core.selection.cost import TokenEstimate
from jarvis_cli.core.selection.metrics import ModelMetrics
from jarvis_cli.core.selection.quality import FALLBACK_DEFAULT, source_margin
from jarvis_cli.core.selection.ranking import rank
from jarvis_cli.core.selection.scoring import BUILTIN_WEIGHTS, Weights
from jarvis_cli.core.selection.types import RankInputs, SelectionRequest, SelectionResult

CHAT = Capabilities(chat=True, completion=False, embeddings=False, vision=False)
NOW = 1_700_000_000.0


def model(
    model_id: str,
    price_in: float | None = 1.0,
    price_out: float | None = 1.0,
    *,
    caps: Capabilities = CHAT,
    context: int | None = 128_000,
    max_output: int | None = None,
    status: str = "active",
    quality: float | None = None,
) -> ModelRecord:
    provider, _, name = model_id.partition("/")
    return ModelRecord(
        id=model_id,
        provider=provider,
        name=name,
        type="embedding" if caps.embeddings else "chat",
        capabilities=caps,
        context_length=context,
        max_output_tokens=max_output,
        input_cost_per_mtok=price_in,
        output_cost_per_mtok=price_out,
        quality=quality,
        status=status,
    )


def measured(model_id: str, calls: int, ok: int, p50: float | None) -> ModelMetrics:
    return ModelMetrics(
        model_id=model_id,
        calls=calls,
        successes=ok,
        latency_p50_ms=p50,
        latency_p95_ms=None if p50 is None else p50 * 2,
    )


def run(
    models: list[ModelRecord],
    strategy: str = "balanced",
    *,
    metrics: list[ModelMetrics] = (),  # type: ignore[assignment]
    usable: dict[str, bool] | None = None,
    tokens: TokenEstimate = TokenEstimate(1000, 500, "default"),
    cooling: dict[str, float] | None = None,
    quality: dict[str, float] | None = None,
    max_fallbacks: int = 2,
    **request: object,
) -> SelectionResult:
    providers = {m.provider for m in models}
    inputs = RankInputs(
        strategy=strategy,
        weights=Weights.normalized(BUILTIN_WEIGHTS[strategy], name=strategy),
        tokens=tokens,
        usable_providers=usable if usable is not None else dict.fromkeys(providers, True),
        cooling_until=cooling or {},
        quality_overrides=quality or {},
        max_fallbacks=max_fallbacks,
        now=NOW,
    )
    found = {m.model_id: m for m in metrics}
    if strategy == "cost":
        # These models are unscored: test the cost arithmetic with the quality floor off
        # (`--min-quality 0`); test_cost_floor_* test the floor itself.
        request.setdefault("min_quality", 0.0)
    return rank(SelectionRequest(**request), models, inputs, found)  # type: ignore[arg-type]


def reasons(result: SelectionResult) -> dict[str, tuple[str, str]]:
    return {e.model_id: (e.code, e.reason) for e in result.excluded}


# --- strategies -----------------------------------------------------------------


def test_cost_strategy_picks_the_cheapest_qualifying_model() -> None:
    models = [
        model("a/pricey", 10, 30),
        model("b/cheapest-but-too-small", 0.01, 0.01, context=100),
        model("c/cheap", 0.1, 0.4),
        model("d/mid", 1, 2),
    ]
    result = run(models, "cost")
    assert result.model_id == "c/cheap"
    assert result.estimated_cost_usd == pytest.approx((1000 * 0.1 + 500 * 0.4) / 1e6)
    assert reasons(result)["b/cheapest-but-too-small"][0] == "context"
    assert "cheaper" in result.reasoning and "c/cheap" in result.reasoning


def test_cost_strategy_tells_apart_models_the_seed_would_have_scored_equal() -> None:
    # The seed's fixed $0.10 cap gave all of these ~1.0; log-scale normalization does not.
    models = [model("a/x", 0.05, 0.1), model("b/y", 0.5, 1), model("c/z", 5, 10)]
    result = run(models, "cost")
    scores = [round(c.scores.cost, 3) for c in result.candidates]
    assert [c.model.id for c in result.candidates] == ["a/x", "b/y", "c/z"]
    assert scores == pytest.approx([1.0, 0.5, 0.0], abs=0.01)


def test_performance_strategy_picks_the_lowest_measured_latency() -> None:
    models = [model("a/slow", 0.1, 0.1), model("b/fast", 10, 10), model("c/mid", 1, 1)]
    metrics = [
        measured("a/slow", 50, 50, 3000),
        measured("b/fast", 50, 45, 400),
        measured("c/mid", 50, 50, 900),
    ]
    result = run(models, "performance", metrics=metrics)
    assert result.model_id == "b/fast"
    assert result.estimated_latency_ms == 400
    assert "faster" in result.reasoning and "400 ms" in result.reasoning


def test_unmeasured_model_gets_its_size_class_prior_not_the_median_of_others() -> None:
    # Issue 24: the median of measured candidates made every unmeasured model tie; the
    # prior now comes from the model's own size class (selection/speed.py).
    models = [model("a/m1"), model("b/m2"), model("c/m3"), model("d/new", 2, 5)]
    metrics = [
        measured("a/m1", 10, 10, 500),
        measured("b/m2", 10, 10, 1000),
        measured("c/m3", 10, 10, 2000),
    ]
    result = run(models, "performance", metrics=metrics)
    new = next(c for c in result.candidates if c.model.id == "d/new")
    medium = speed.CLASSES["medium"]
    assert new.expected_latency_ms == medium.ttft_ms + 500 * 1000 / medium.tokens_per_s
    assert not new.latency_measured
    assert any("latency unmeasured: prior: medium class, 500 output tokens" in n for n in new.notes)


def test_reliability_strategy_picks_the_highest_smoothed_success_rate() -> None:
    models = [model("a/lucky"), model("b/solid"), model("c/flaky"), model("d/new")]
    metrics = [
        measured("a/lucky", 1, 1, 500),  # 1/1 -> 0.909, not 100 %
        measured("b/solid", 200, 196, 500),  # 0.98 -> 0.976
        measured("c/flaky", 100, 70, 500),
    ]
    result = run(models, "reliability", metrics=metrics)
    assert result.model_id == "b/solid"
    lucky = next(c for c in result.candidates if c.model.id == "a/lucky")
    assert lucky.smoothed_success_rate == pytest.approx(10 / 11)
    assert [c.model.id for c in result.candidates][-1] == "c/flaky"


def test_balanced_strategy_prefers_a_compromise_over_either_extreme() -> None:
    models = [
        model("a/cheap-slow", 0.1, 0.1),
        model("b/fast-pricey", 10, 10),
        model("c/middle", 1, 1),
    ]
    metrics = [
        measured("a/cheap-slow", 20, 20, 4000),
        measured("b/fast-pricey", 20, 20, 500),
        measured("c/middle", 20, 20, 1000),
    ]
    assert run(models, "cost", metrics=metrics).model_id == "a/cheap-slow"
    assert run(models, "performance", metrics=metrics).model_id == "b/fast-pricey"
    assert run(models, "balanced", metrics=metrics).model_id == "c/middle"


def test_relative_sub_scores_of_a_single_candidate_are_one_but_unscored_quality_is_not() -> None:
    one = run([model("a/only")], "balanced")
    assert one.chosen.scores.as_dict() == {
        "performance": 1.0,
        "cost": 1.0,
        "reliability": 1.0,
        # absolute, and ranked on its lower bound: no 1.0 for being the best of the unknown
        "quality": FALLBACK_DEFAULT - source_margin("none"),
    }
    assert one.chosen.quality_source == "none"
    assert "the only qualifying model" in one.reasoning
    same = run([model("a/x"), model("b/y")], "balanced")
    w = same.weights
    expected = (
        w.performance
        + w.cost
        + w.reliability
        + w.quality * (FALLBACK_DEFAULT - source_margin("none"))
    )
    assert all(c.total == pytest.approx(expected) for c in same.candidates)


def test_user_quality_beats_config_quality_and_acts_in_balanced() -> None:
    models = [model("a/x", quality=0.9), model("b/y")]
    assert run(models, "balanced").model_id == "a/x"
    flipped = run(models, "balanced", quality={"b/y": 1.0, "a/x": 0.1})
    assert flipped.model_id == "b/y"
    assert (flipped.chosen.quality, flipped.chosen.quality_source) == (1.0, "config")
    user = flipped.candidates[1]
    assert (user.model.id, user.quality, user.quality_source) == ("a/x", 0.9, "user")


# --- filters and reasons ----------------------------------------------------------


def test_budget_constraint_excludes_with_the_estimated_cost_as_reason() -> None:
    models = [model("a/cheap", 0.1, 0.1), model("b/pricey", 100, 100)]
    result = run(models, "performance", max_cost_usd=0.01)
    assert result.model_id == "a/cheap"
    code, reason = reasons(result)["b/pricey"]
    assert code == "budget"
    assert reason == "estimated $0.150000 > max $0.01"


def test_unknown_price_is_excluded_under_a_budget_and_scored_worst_without_one() -> None:
    models = [model("a/cheap", 0.5, 0.5), model("a/known", 50, 50), model("b/unknown", None, None)]
    with_budget = run(models, "cost", max_cost_usd=1.0)
    assert reasons(with_budget)["b/unknown"] == ("price_unknown", "price unknown (budget given)")
    without = run(models, "cost")
    by_id = {c.model.id: c for c in without.candidates}
    assert by_id["b/unknown"].estimated_cost_usd is None
    assert by_id["b/unknown"].scores.cost == by_id["a/known"].scores.cost == 0.0
    assert "price unknown: scored as the most expensive candidate" in by_id["b/unknown"].notes
    assert without.model_id == "a/cheap"


def test_free_local_model_is_free_only_when_the_catalog_says_zero() -> None:
    models = [model("ollama/free", 0.0, 0.0), model("ollama/unpriced", None, None), model("a/paid")]
    result = run(models, "cost")
    assert result.model_id == "ollama/free"
    assert result.estimated_cost_usd == 0.0
    assert next(c for c in result.candidates if c.model.id == "ollama/unpriced").scores.cost == 0


def test_latency_constraint_binds_on_measurements_and_on_priors() -> None:
    # Issue 24: unmeasured models used to be kept and flagged ("not checked against
    # --max-latency"); now their prior binds like a measurement.
    models = [model("a/slow"), model("b/fast"), model("c/unmeasured", 2, 5)]
    metrics = [measured("a/slow", 10, 10, 5000), measured("b/fast", 10, 10, 300)]
    result = run(models, "balanced", metrics=metrics, max_latency_ms=1000)
    assert reasons(result)["a/slow"] == (
        "latency",
        "expected latency 5,000 ms (measured) > max 1000 ms",
    )
    assert reasons(result)["c/unmeasured"] == (
        "latency",
        "expected latency 6,950 ms (prior: medium class, 500 output tokens) > max 1000 ms",
    )
    assert [c.model.id for c in result.candidates] == ["b/fast"]


def test_every_filter_leaves_a_reason() -> None:
    models = [
        model("a/embed", caps=Capabilities(chat=False, embeddings=True)),
        model("a/blind", caps=CHAT._replace(vision=False)),
        model("a/unknown-vision", caps=CHAT._replace(vision=None)),
        model("a/gone", caps=CHAT._replace(vision=True), status="unavailable"),
        model("nokey/m", caps=CHAT._replace(vision=True)),
        model("a/small", caps=CHAT._replace(vision=True), context=1000),
        model("a/short", caps=CHAT._replace(vision=True), max_output=100),
        model("a/hot", caps=CHAT._replace(vision=True)),
        model("ghost/m", caps=CHAT._replace(vision=True)),
        model("a/ok", caps=CHAT._replace(vision=True)),
    ]
    result = run(
        models,
        usable={"a": True, "nokey": False},
        cooling={"a/hot": NOW + 60},
        capabilities=("vision",),
    )
    assert result.model_id == "a/ok"
    got = reasons(result)
    assert got["a/embed"] == ("type", "does not serve chat requests")
    assert got["a/blind"] == ("capability", "no vision support")
    assert got["a/unknown-vision"] == ("capability", "vision support unknown")
    assert got["a/gone"] == ("unavailable", "marked unavailable")
    assert got["nokey/m"] == ("no_key", "no key for nokey")
    assert got["a/small"][0] == "context" and "context is 1000" in got["a/small"][1]
    assert got["a/short"][0] == "context" and "max is 100" in got["a/short"][1]
    assert got["a/hot"][0] == "cooldown" and got["a/hot"][1].startswith("cooling down until ")
    assert got["ghost/m"] == ("provider_unknown", "provider ghost is not configured")
    assert len(result.excluded) == len(models) - 1


def test_expired_cooldown_does_not_exclude() -> None:
    result = run([model("a/x"), model("b/y")], cooling={"a/x": NOW - 1})
    assert "a/x" not in reasons(result)


def test_preferred_provider_restricts_candidates_with_a_reason() -> None:
    result = run([model("a/x", 0.1, 0.1), model("b/y", 9, 9)], "cost", preferred_provider="b")
    assert result.model_id == "b/y"
    assert reasons(result)["a/x"] == ("provider", "provider is a, not b")


def test_embedding_requests_select_embedding_models() -> None:
    emb = Capabilities(chat=False, completion=False, embeddings=True)
    result = run([model("a/chat"), model("a/emb", caps=emb)], kind="embedding")
    assert result.model_id == "a/emb"


def test_unusable_providers_are_included_and_marked_with_include_unusable() -> None:
    models = [model("a/x", 5, 5), model("nokey/cheap", 0.1, 0.1)]
    usable = {"a": True, "nokey": False}
    normal = run(models, "cost", usable=usable)
    assert normal.model_id == "a/x"
    everything = run(models, "cost", usable=usable, include_unusable=True)
    assert everything.model_id == "nokey/cheap"
    assert not everything.usable
    assert [c.usable for c in everything.candidates] == [False, True]


def test_include_unusable_still_leaves_out_local_servers_nobody_set_up() -> None:
    models = [model("a/x", 5, 5), model("ollama/free", 0, 0)]
    usable = {"a": False, "ollama": False}
    inputs_reason = {"ollama": ("not_set_up", "ollama is not set up")}
    inputs = RankInputs(
        strategy="cost",
        weights=Weights.normalized(BUILTIN_WEIGHTS["cost"], name="cost"),
        tokens=TokenEstimate(1000, 500, "default"),
        usable_providers=usable,
        unusable_reasons=inputs_reason,
        now=NOW,
    )
    result = rank(SelectionRequest(include_unusable=True, min_quality=0.0), models, inputs)
    assert result.model_id == "a/x"  # a key would unlock it; ollama needs a server
    assert reasons(result)["ollama/free"] == ("not_set_up", "ollama is not set up")


# --- preferred model, fallbacks, ties ----------------------------------------------


def test_preferred_model_is_used_when_it_qualifies() -> None:
    models = [model("a/cheap", 0.1, 0.1), model("b/pricey", 9, 9)]
    result = run(models, "cost", preferred_model="b/pricey")
    assert result.model_id == "b/pricey"
    assert result.preferred_model is not None and result.preferred_model.used
    assert result.fallbacks == ("a/cheap",)
    assert "preferred model" in result.reasoning


def test_preferred_model_that_does_not_qualify_says_why() -> None:
    models = [model("a/cheap", 0.1, 0.1), model("b/pricey", 900, 900)]
    result = run(models, "cost", preferred_model="b/pricey", max_cost_usd=0.01)
    assert result.model_id == "a/cheap"
    assert result.preferred_model is not None and not result.preferred_model.used
    assert result.preferred_model.reason is not None
    assert result.preferred_model.reason.startswith("estimated $")
    assert "preferred b/pricey not used" in result.reasoning
    missing = run(models, "cost", preferred_model="z/nope")
    assert missing.preferred_model is not None
    assert missing.preferred_model.reason == "not in the registry"


def test_fallbacks_come_from_other_providers_first() -> None:
    models = [
        model("a/best", 0.1, 0.1),
        model("a/second", 0.2, 0.2),
        model("a/third", 0.3, 0.3),
        model("b/fourth", 0.4, 0.4),
        model("c/fifth", 0.5, 0.5),
    ]
    assert run(models, "cost").fallbacks == ("b/fourth", "c/fifth")
    assert run(models, "cost", max_fallbacks=3).fallbacks == ("b/fourth", "c/fifth", "a/second")
    assert run(models, "cost", max_fallbacks=0).fallbacks == ()
    only_a = [m for m in models if m.provider == "a"]
    assert run(only_a, "cost").fallbacks == ("a/second", "a/third")


def test_fallbacks_are_all_qualifying_and_usable() -> None:
    models = [model("a/best", 0.1, 0.1), model("b/over", 500, 500), model("nokey/m", 0.2, 0.2)]
    result = run(models, "cost", usable={"a": True, "b": True, "nokey": False}, max_cost_usd=0.1)
    assert result.fallbacks == ()


def test_ties_break_deterministically_whatever_the_input_order() -> None:
    models = [model(f"p{i}/m{i}") for i in range(8)]
    first = run(models, "performance")
    rng = random.Random(7)
    for _ in range(5):
        shuffled = models[:]
        rng.shuffle(shuffled)
        again = run(shuffled, "performance")
        assert [c.model.id for c in again.candidates] == [c.model.id for c in first.candidates]
    assert first.model_id == "p0/m0"
    assert "tied with runner-up p1/m1 on every weighted factor" in first.reasoning


# --- confidence -------------------------------------------------------------------


def _two(calls: int, fast_p50: float) -> SelectionResult:
    models = [model("a/x"), model("b/y")]
    metrics = [measured("a/x", calls, calls, fast_p50), measured("b/y", calls, calls, 1000)]
    return run(models, "performance", metrics=metrics)


def test_confidence_rises_with_more_measurements() -> None:
    few, some, many = _two(2, 500).confidence, _two(20, 500).confidence, _two(500, 500).confidence
    assert few < some < many <= 1.0
    assert many > 0.9


def test_confidence_rises_with_a_larger_margin() -> None:
    close, wide = _two(50, 950).confidence, _two(50, 300).confidence
    assert close < wide
    assert _two(50, 999.9).confidence == pytest.approx(_two(50, 1000).confidence, abs=0.01)


def test_confidence_is_not_constant_and_tied_choice_is_a_coin_flip() -> None:
    tie = run([model("a/x"), model("b/y")], "cost")
    assert tie.confidence == pytest.approx(0.5)
    decisive = run([model("a/x", 0.1, 0.1), model("b/y", 10, 10)], "cost")
    assert decisive.confidence == pytest.approx(1.0)
    unmeasured = run([model("a/x"), model("b/y")], "performance")
    assert unmeasured.confidence == 0.0


# --- no suitable model ------------------------------------------------------------


def test_no_suitable_model_lists_the_most_common_reasons_with_counts() -> None:
    models = [model(f"a/big{i}", 100, 100) for i in range(3)] + [model("a/tiny", context=10)]
    with pytest.raises(NoSuitableModelError) as info:
        run(models, "cost", max_cost_usd=0.001)
    err = info.value
    assert err.exit_code == ExitCode.NO_MODEL
    assert "4 models excluded" in err.message
    assert "3 budget (e.g. a/big0: estimated $0.150000 > max $0.001)" in err.message
    assert "1 context" in err.message


def test_empty_registry_is_no_suitable_model() -> None:
    with pytest.raises(NoSuitableModelError, match="registry is empty"):
        run([], "cost")


def test_cost_floor_keeps_rated_models_and_min_quality_0_opts_out() -> None:
    models = [model("a/unrated-cheap", 0.01, 0.01), model("b/rated", 1, 2, quality=0.6)]
    models.append(model("c/weak", 0.1, 0.1, quality=0.3))
    inputs = RankInputs(
        strategy="cost",
        weights=Weights.normalized(BUILTIN_WEIGHTS["cost"], name="cost"),
        tokens=TokenEstimate(1000, 500, "default"),
        usable_providers={"a": True, "b": True, "c": True},
        now=NOW,
    )
    floored = rank(SelectionRequest(), models, inputs)
    assert floored.model_id == "b/rated"
    why = reasons(floored)
    assert why["a/unrated-cheap"] == (
        "min_quality",
        "quality unknown for task general: the cost strategy picks among rated models "
        "(--min-quality 0 includes unrated ones)",
    )
    assert why["c/weak"] == (
        "min_quality",
        "quality 0.30 (user) < the cost strategy's floor 0.4 (--min-quality 0 turns it off)",
    )
    assert rank(SelectionRequest(min_quality=0.0), models, inputs).model_id == "a/unrated-cheap"
    # an explicit floor replaces the default one and compares values (unrated: 0.30)
    assert rank(SelectionRequest(min_quality=0.2), models, inputs).model_id == "a/unrated-cheap"
    assert rank(SelectionRequest(min_quality=0.35), models, inputs).model_id == "b/rated"
    embed = Capabilities(chat=False, completion=False, embeddings=True)
    vectors = [model("a/e1", 0.01, None, caps=embed), model("b/e2", 0.1, None, caps=embed)]
    picked = rank(
        SelectionRequest(kind="embedding"),
        vectors,
        inputs._replace(tokens=TokenEstimate(100, 0, "default")),
    )
    assert picked.model_id == "a/e1"  # no task quality for embeddings: no floor
