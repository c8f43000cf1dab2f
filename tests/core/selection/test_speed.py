"""Speed priors and measured latencies (selection/speed.py), judged metrics and
throughput (selection/metrics.py, faults.py) over a real store (issue 24)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from jarvis_cli.core.selection import speed
from jarvis_cli.core.selection.faults import NOT_MODEL_FAULTS, is_model_fault
from jarvis_cli.core.selection.metrics import PerformanceMonitor
from jarvis_cli.core.store.database import Store

NOW = 1_800_000_000.0
NAN = math.nan


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("gpt-5-nano", "small"),
        ("gpt-4o-mini-2024-07-18", "small"),
        ("gemini-2.5-flash-lite", "small"),
        ("claude-haiku-4-5", "small"),
        ("claude-opus-4-6", "large"),
        ("gemini-2.5-pro", "large"),
        ("mistral-large-latest", "large"),
        ("meta-llama/Llama-3.1-8B-Instruct", "small"),
        ("llama-3.1-405b", "large"),
        ("qwen3-235b-a22b-instruct", "medium"),  # 22B active parameters
        ("qwen3-30b-a3b", "small"),
        ("llama-3.3-70b-versatile", "medium"),
        ("claude-sonnet-4-5", None),  # the name says nothing: the price decides
        ("gpt-5", None),
        ("minimax-m2", None),  # "mini" inside a word is not a size
    ],
)
def test_size_class_from_the_name(name: str, size: str | None) -> None:
    assert speed.class_from_name(name) == size


def test_size_class_from_the_price_when_the_name_says_nothing() -> None:
    assert [speed.class_from_price(p) for p in (0.4, 10.0, 75.0, NAN, 0.0)] == [
        "small", "medium", "large", "medium", "medium",
    ]  # fmt: skip
    assert speed.size_classes([0, 1, 2], {1: "large"}, [0.4, 0.4, 75.0]) == [
        "small", "large", "large",
    ]  # fmt: skip


def test_expected_latency_measured_first_then_the_prior() -> None:
    small, medium = speed.CLASSES["small"], speed.CLASSES["medium"]
    got = speed.expected_latencies(
        "chat",
        500,
        ["medium", "medium", "medium", "small", "small"],
        lambda k: k == 4,
        [200.0, 300.0, NAN, NAN, NAN],  # ttft
        [100.0, NAN, NAN, NAN, NAN],  # tokens/s
        [900.0, 950.0, 1234.0, NAN, NAN],  # whole-request p50
    )
    assert got.latency_ms == [
        200.0 + 500 * 1000 / 100.0,  # measured TTFT and throughput
        300.0 + 500 * 1000 / medium.tokens_per_s,  # measured TTFT, the prior's throughput
        1234.0,  # only non-streamed measurements: their median
        small.ttft_ms + 500 * 1000 / small.tokens_per_s,  # prior
        small.ttft_ms + speed.REASONING_TTFT_MS + 500 * 1000 / small.tokens_per_s,
    ]
    assert got.measured == [True, True, True, False, False]
    embed = speed.expected_latencies("embedding", 0, ["large"], lambda k: True, [NAN], [NAN], [NAN])
    assert embed.latency_ms == [speed.EMBEDDING_MS]
    assert (
        speed.describe(False, "small", True, 500)
        == "prior: small class, reasoning, 500 output tokens"
    )


def test_only_the_models_own_failures_count() -> None:
    assert not is_model_fault(True, None)
    for cls in ("unavailable", "rate_limited", "bad_response", "bad_output", "provider_error"):
        assert is_model_fault(False, cls)
    for cls in ("interrupted", "auth", "bad_request", "context_too_long", "not_found", "budget"):
        assert cls in NOT_MODEL_FAULTS and not is_model_fault(False, cls)


@pytest.mark.parametrize("cached", [False, True])
def test_judged_monitor_leaves_out_what_was_not_the_models_fault(
    tmp_path: Path, cached: bool
) -> None:
    store = Store.open(tmp_path / "data" / "jarvis.db")
    rows = [
        (1, None, 1000.0, 200.0, 41),  # 40 tokens after the first in 800 ms: 51.25 tok/s
        (1, None, 600.0, 100.0, 26),
        (0, "interrupted", 5000.0, None, None),
        (0, "auth", 10.0, None, None),
        (0, "bad_request", 10.0, None, None),
        (0, "unavailable", 30_000.0, None, None),
    ]
    with store.write() as conn:
        conn.executemany(
            "INSERT INTO calls(request_id, at, model_id, provider, kind, attempt, ok, "
            "error_class, latency_ms, ttft_ms, completion_tokens) "
            "VALUES ('r', ?, 'a/x', 'a', 'chat', 1, ?, ?, ?, ?, ?)",
            [(NOW - 100 + k, *r) for k, r in enumerate(rows)],
        )
    judged = PerformanceMonitor(
        store.conn, window_calls=200, window_days=30, cached=cached, judged=True
    ).get("a/x", now=NOW)
    every = PerformanceMonitor(store.conn, window_calls=200, window_days=30).get("a/x", now=NOW)
    assert (judged.calls, judged.successes) == (3, 2)  # two answers and the 503
    assert (every.calls, every.successes) == (6, 2)
    # nearest-rank median of 51.25 and 52.0 tokens/s (41 / 0.8 s, 26 / 0.5 s)
    assert judged.tps_p50 == pytest.approx(41 * 1000 / 800)
    assert judged.ttft_p50_ms == 100.0
    store.close()
