"""Pruning at the core: what budgets keep, the metrics cache, the once-a-day automatic run."""

from __future__ import annotations

import time
from pathlib import Path

from jarvis_cli.core.runs.budget import period_start
from jarvis_cli.core.runs.log_prune import budget_keep_from, maybe_auto_prune, prune_log
from jarvis_cli.core.selection.metrics import PerformanceMonitor
from jarvis_cli.core.store.config import BudgetLimits, Budgets
from jarvis_cli.core.store.database import Store

DAY = 86_400.0


def _add_call(store: Store, at: float, model_id: str = "a/m", latency: float = 100.0) -> None:
    with store.write() as conn:
        conn.execute(
            "INSERT INTO calls(request_id, at, model_id, provider, kind, attempt, ok, latency_ms)"
            " VALUES ('r', ?, ?, 'a', 'chat', 1, 1, ?)",
            (at, model_id, latency),
        )


def test_budget_keep_from_is_the_earliest_period_in_force() -> None:
    now = time.time()
    assert budget_keep_from(Budgets(), now) is None
    assert budget_keep_from(Budgets(daily_usd=1.0), now) == period_start("daily", now)
    per_provider = Budgets(providers={"x": BudgetLimits(monthly_usd=5.0)}, daily_usd=1.0)
    assert budget_keep_from(per_provider, now) == period_start("monthly", now)


def test_pruning_attempts_rebuilds_the_metrics_cache(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "jarvis.db")
    now = time.time()
    _add_call(store, now - 10 * DAY, latency=5000.0)
    _add_call(store, now - 60, latency=100.0)
    monitor = PerformanceMonitor(store.conn, window_calls=200, window_days=30, cached=True)
    assert monitor.get("a/m", now=now).calls == 2
    report = prune_log(store, Budgets(), older_than_s=DAY, now=now)
    assert report.attempts_deleted == 1
    after = monitor.get("a/m", now=now)
    fresh = PerformanceMonitor(store.conn, window_calls=200, window_days=30).get("a/m", now=now)
    assert after == fresh and after.calls == 1
    store.close()


def test_auto_prune_runs_at_most_once_a_day(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "jarvis.db")
    now = time.time()
    assert maybe_auto_prune(store, Budgets(), None, now=now) is None  # not configured
    _add_call(store, now - 40 * DAY)
    first = maybe_auto_prune(store, Budgets(), 30, now=now)
    assert first is not None and first.attempts_deleted == 1
    _add_call(store, now - 40 * DAY)
    assert maybe_auto_prune(store, Budgets(), 30, now=now + DAY / 2) is None
    again = maybe_auto_prune(store, Budgets(), 30, now=now + DAY + 1)
    assert again is not None and again.attempts_deleted == 1
    store.close()
