"""The reasoning sentence: the figures a developer needs to agree with a choice."""

from __future__ import annotations

from jarvis_cli.core.providers.base import Capabilities
from jarvis_cli.core.selection.cost import TokenEstimate
from tests.core.selection.test_ranking import measured, model, run

EMBED = Capabilities(chat=False, completion=False, embeddings=True, vision=False)


def test_a_cheaper_but_weaker_winner_says_what_it_gave_up() -> None:
    # balanced: b is 10x cheaper and a little worse; the sentence must say both
    models = [model("a/strong", 3, 15), model("b/cheap", 0.3, 1.5)]
    result = run(models, "balanced", quality={"a/strong": 0.80, "b/cheap": 0.75})
    assert result.model_id == "b/cheap"
    assert result.reasoning.startswith(
        "b/cheap chosen by the balanced strategy: cheaper ($0.00105 vs $0.0105) than "
        "runner-up a/strong, despite lower quality (0.75 vs 0.80, both [quality] in "
        "config.toml); score "
    ), result.reasoning


def test_a_dearer_winner_says_it_is_dearer() -> None:
    models = [model("a/strong", 3, 15), model("b/cheap", 0.3, 1.5)]
    result = run(models, "quality", quality={"a/strong": 0.90, "b/cheap": 0.60})
    assert result.model_id == "a/strong"
    assert "higher quality (0.90 vs 0.60, both [quality] in config.toml)" in result.reasoning
    # quality alone has no weight on cost: nothing is given up in the strategy's terms
    assert "dearer" not in result.reasoning


def test_tiny_costs_are_shown_with_the_digits_that_tell_them_apart() -> None:
    # embedding prices: per-request costs below a millionth of a dollar were "$0 vs $0"
    models = [
        model("a/small", 0.02, 0.0, caps=EMBED),
        model("b/large", 0.13, 0.0, caps=EMBED),
    ]
    result = run(models, "cost", kind="embedding")
    assert "cheaper ($0.00002 vs $0.00013)" in result.reasoning, result.reasoning
    few = run(models, "cost", kind="embedding", tokens=TokenEstimate(10, 0, "prompt"))
    assert "cheaper ($2.00e-07 vs $1.30e-06)" in few.reasoning, few.reasoning
    assert "$0 vs" not in few.reasoning
    # near-equal costs get more digits instead of reading "$0.0002 vs $0.0002"
    near = run([model("a/x", 0.05, 0.4), model("b/y", 0.1, 0.4)], "cost")
    assert "cheaper ($0.00025 vs $0.0003)" in near.reasoning, near.reasoning


def test_latency_figures_are_in_the_tables_units_and_say_measured_or_prior() -> None:
    models = [model("a/slow", 0.1, 0.1), model("b/fast", 10, 10)]
    metrics = [measured("a/slow", 50, 50, 3000), measured("b/fast", 1, 1, 400)]
    result = run(models, "performance", metrics=metrics)
    assert "faster (400 ms measured over 1 call vs 3.0 s measured over 50 calls)" in (
        result.reasoning
    ), result.reasoning
    unmeasured = run([model("a/x", 0.1, 0.1), model("b/y", 30, 60)], "balanced")
    assert "both size-class priors, unmeasured" in unmeasured.reasoning or (
        "faster" not in unmeasured.reasoning
    )


def test_a_tie_says_which_quality_broke_it() -> None:
    models = [model("a/x", 1, 1), model("b/y", 1, 1)]
    result = run(models, "performance", quality={"a/x": 0.4, "b/y": 0.7})
    assert result.model_id == "b/y"
    assert (
        "tied with runner-up a/x on every weighted factor; ties break by quality (here "
        "0.70 vs 0.40, both [quality] in config.toml), then the balanced score"
    ) in result.reasoning, result.reasoning


def test_a_lower_value_that_wins_on_its_lower_bound_says_so() -> None:
    # 0.20 with no uncertainty beats the unscored default 0.30±.15 (ranked on 0.15):
    # "higher quality (0.20 vs 0.30)" alone read as a contradiction
    models = [model("a/unscored", 1, 1), model("b/rated", 1, 1)]
    result = run(models, "quality", quality={"b/rated": 0.20})
    assert result.model_id == "b/rated"
    assert (
        "higher quality (0.20 [quality] in config.toml vs 0.30 unscored default; ranked on "
        "quality less its uncertainty: 0.20 vs 0.15)"
    ) in result.reasoning, result.reasoning
