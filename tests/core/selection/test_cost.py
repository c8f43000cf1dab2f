"""Token estimates and USD prices; unknown prices are never free."""

from __future__ import annotations

import pytest

from jarvis_cli.core.registry.records import ModelRecord
from jarvis_cli.core.selection.cost import (
    CostEstimator,
    cost_usd,
    default_output_tokens,
    estimate_request_tokens,
    estimate_tokens,
)


def priced(inp: float | None, out: float | None) -> ModelRecord:
    return ModelRecord(
        id="a/x", provider="a", name="x", input_cost_per_mtok=inp, output_cost_per_mtok=out
    )


def test_token_estimate_is_ceil_of_characters_over_four() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("abc") == 1
    assert estimate_tokens("abcd") == 1
    assert estimate_tokens("abcde") == 2
    assert estimate_tokens("x" * 4000) == 1000


def test_explicit_input_tokens_beat_the_prompt_and_defaults_apply() -> None:
    assert estimate_request_tokens("chat", prompt="x" * 40, input_tokens=7).input_tokens == 7
    from_prompt = estimate_request_tokens("chat", prompt="x" * 40)
    assert (from_prompt.input_tokens, from_prompt.input_source) == (10, "prompt")
    default = estimate_request_tokens("chat")
    assert (default.input_tokens, default.output_tokens, default.input_source) == (
        1000,
        500,
        "default",
    )
    assert default_output_tokens("embedding") == 0
    assert default_output_tokens("chat", max_tokens=100) == 100


def test_cost_uses_per_million_token_prices() -> None:
    assert CostEstimator().estimate(priced(2.0, 8.0), 1000, 500) == pytest.approx(0.006)


def test_unknown_price_is_none_never_zero() -> None:
    assert cost_usd(priced(None, 1.0), 1000, 500) is None
    assert cost_usd(priced(1.0, None), 1000, 500) is None
    assert cost_usd(priced(1.0, None), 1000, 0) == pytest.approx(0.001)  # embeddings
    assert cost_usd(priced(0.0, 0.0), 1000, 500) == 0.0
