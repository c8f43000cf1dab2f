"""Usage reports for `jarvis stats` and the attempt log for `jarvis log`."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from jarvis_cli.core.errors import ExitCode, UsageError
from jarvis_cli.core.runs.usage import parse_duration, recent_calls, usage_report
from jarvis_cli.core.store.config import Budgets
from jarvis_cli.core.store.database import Store


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("30m", 1800), ("12h", 43200), ("7d", 604800), ("2w", 1209600), ("1.5h", 5400)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["7", "d", "-1d", "7 days", ""])
def test_parse_duration_rejects_garbage(text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_duration(text)
    assert info.value.exit_code == ExitCode.USAGE
    assert "bad duration" in str(info.value)


def seed(store: Store, now: float) -> None:
    rows = []
    for i in range(10):  # fast model: 100..190 ms, all ok
        rows.append(("a", now - 100 + i, "p/fast", "p", 1, 100 + 10 * i, 20, 10, 5, 0.001))
    for i in range(4):  # slow model: one failure
        ok = 0 if i == 0 else 1
        rows.append(("b", now - 50 + i, "q/slow", "q", ok, 1000 + 100 * i, 300, 10, 5, 0.002))
    rows.append(("c", now - 30 * 86_400, "p/fast", "p", 1, 5, 5, 1000, 1000, 9.0))  # old
    with store.write() as conn:
        conn.executemany(
            "INSERT INTO calls(request_id, at, model_id, provider, kind, attempt, ok, latency_ms,"
            " ttft_ms, prompt_tokens, completion_tokens, cost_usd)"
            " VALUES (?, ?, ?, ?, 'chat', 1, ?, ?, ?, ?, ?, ?)",
            rows,
        )


def test_usage_report_aggregates_window(home: Path) -> None:
    store = Store.open(home / "jarvis.db")
    now = time.time()
    seed(store, now)
    report = usage_report(store.conn, Budgets(), since_s=7 * 86_400, now=now)
    by_id = {m.model_id: m for m in report.models}
    assert set(by_id) == {"p/fast", "q/slow"}
    fast, slow = by_id["p/fast"], by_id["q/slow"]
    assert (fast.calls, fast.successes) == (10, 10)
    assert fast.latency_p50_ms == 140  # nearest rank 5 of 100..190
    assert fast.latency_p95_ms == 190
    assert fast.prompt_tokens == 100 and fast.completion_tokens == 50
    assert fast.cost_usd == pytest.approx(0.01)
    assert (slow.calls, slow.successes) == (4, 3)
    assert slow.success_rate == 0.75
    assert slow.latency_p50_ms == 1200  # failures do not count as latency samples
    assert report.total_calls == 14
    assert report.total_cost_usd == pytest.approx(0.018)
    only = usage_report(store.conn, Budgets(), since_s=7 * 86_400, model_id="q/slow", now=now)
    assert [m.model_id for m in only.models] == ["q/slow"]


def test_recent_calls_newest_first(home: Path) -> None:
    store = Store.open(home / "jarvis.db")
    now = time.time()
    seed(store, now)
    rows = recent_calls(store.conn, 3)
    assert [r.model_id for r in rows] == ["q/slow"] * 3
    assert rows[0].at > rows[1].at > rows[2].at
    assert rows[-1].ok is True
