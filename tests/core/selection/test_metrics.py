"""PerformanceMonitor and cooldowns over a real store's calls table."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from jarvis_cli.core.selection.cooldown import cooldown_until, cooldowns
from jarvis_cli.core.selection.metrics import PerformanceMonitor
from jarvis_cli.core.store.config import CooldownPolicy
from jarvis_cli.core.store.database import Store

NOW = 1_800_000_000.0
DAY = 86_400.0


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "data" / "jarvis.db")


def add_call(
    store: Store,
    model_id: str,
    at: float,
    *,
    ok: bool = True,
    latency: float | None = 100.0,
    ttft: float | None = None,
    error_class: str | None = None,
) -> None:
    with store.write() as conn:
        conn.execute(
            "INSERT INTO calls(request_id, at, model_id, provider, kind, attempt, ok, "
            "error_class, latency_ms, ttft_ms) VALUES ('r', ?, ?, ?, 'chat', 1, ?, ?, ?, ?)",
            (at, model_id, model_id.split("/")[0], int(ok), error_class, latency, ttft),
        )


def monitor(
    store: Store, *, calls: int = 200, days: float = 30, cached: bool = False
) -> PerformanceMonitor:
    return PerformanceMonitor(store.conn, window_calls=calls, window_days=days, cached=cached)


@pytest.mark.parametrize("cached", [False, True])
def test_percentiles_use_the_nearest_rank_of_successful_calls(store: Store, cached: bool) -> None:
    for i, latency in enumerate([500, 100, 400, 200, 300, 900, 800, 700, 600, 1000]):
        add_call(store, "a/x", NOW - 100 + i, latency=latency, ttft=latency / 10)
    add_call(store, "a/x", NOW - 1, ok=False, latency=99_999, error_class="unavailable")
    m = monitor(store, cached=cached).get("a/x", now=NOW)
    assert m.measured
    assert (m.calls, m.successes) == (11, 10)
    assert m.success_rate == pytest.approx(10 / 11)
    assert m.latency_p50_ms == 500  # rank ceil(0.5 * 10) = 5
    assert m.latency_p95_ms == 1000  # rank ceil(0.95 * 10) = 10
    assert m.ttft_p50_ms == 50
    assert m.last_at == NOW - 1


def test_window_keeps_only_the_last_n_calls_per_model(store: Store) -> None:
    for i in range(10):
        add_call(store, "a/x", NOW - 100 + i, ok=i >= 5, latency=1000 + i)
    m = monitor(store, calls=5).get("a/x", now=NOW)
    assert (m.calls, m.successes) == (5, 5)
    assert m.latency_p50_ms == 1007


def test_window_drops_calls_older_than_the_window_days(store: Store) -> None:
    add_call(store, "a/x", NOW - 10 * DAY, ok=False, latency=None, error_class="unavailable")
    add_call(store, "a/x", NOW - 1 * DAY)
    add_call(store, "b/old", NOW - 10 * DAY)
    found = monitor(store, days=7).aggregates(now=NOW)
    assert set(found) == {"a/x"}
    assert (found["a/x"].calls, found["a/x"].successes) == (1, 1)


def test_model_without_calls_has_no_measurements(store: Store) -> None:
    m = monitor(store).get("z/none", now=NOW)
    assert not m.measured
    assert m.calls == 0 and m.success_rate is None and m.latency_p50_ms is None


def test_only_failures_give_a_count_but_no_latency(store: Store) -> None:
    add_call(store, "a/x", NOW - 5, ok=False, latency=30_000, error_class="unavailable")
    m = monitor(store).get("a/x", now=NOW)
    assert (m.calls, m.successes, m.latency_p50_ms) == (1, 0, None)


def test_cache_matches_a_full_computation_as_calls_arrive_and_age(store: Store) -> None:
    rng = random.Random(3)
    models = [f"p{i % 3}/m{i}" for i in range(30)]
    for _ in range(400):
        add_call(
            store,
            rng.choice(models),
            NOW - rng.uniform(0, 9 * DAY),
            ok=rng.random() < 0.9,
            latency=rng.uniform(50, 5000),
            error_class=None,
        )
    cached = monitor(store, calls=20, days=7, cached=True)
    exact = monitor(store, calls=20, days=7)
    assert cached.aggregates(now=NOW) == exact.aggregates(now=NOW)
    for step in range(1, 6):
        now = NOW + step * DAY / 2  # calls age out of the window as time passes
        for _ in range(5):
            add_call(
                store, rng.choice(models), now - rng.uniform(0, 60), latency=rng.uniform(50, 900)
            )
        assert cached.aggregates(now=now) == exact.aggregates(now=now)
    subset = models[:4]
    assert cached.aggregates(subset, now=now) == exact.aggregates(subset, now=now)


def test_cache_is_rebuilt_when_the_window_changes(store: Store) -> None:
    for i in range(10):
        add_call(store, "a/x", NOW - i, latency=100 + i)
    assert monitor(store, calls=10, cached=True).get("a/x", now=NOW).calls == 10
    assert monitor(store, calls=3, cached=True).get("a/x", now=NOW).calls == 3


# --- cooldown ---------------------------------------------------------------------

POLICY = CooldownPolicy(failures=3, window_s=60, duration_s=120)


def test_three_retryable_failures_within_the_window_start_a_cooldown(store: Store) -> None:
    for t, cls in (
        (NOW - 50, "rate_limited"),
        (NOW - 30, "unavailable"),
        (NOW - 20, "bad_response"),
    ):
        add_call(store, "a/x", t, ok=False, error_class=cls)
    assert cooldowns(store.conn, POLICY, now=NOW) == {"a/x": NOW - 20 + 120}
    assert cooldown_until(store.conn, "a/x", POLICY, now=NOW) == NOW + 100
    # It lasts duration_s after the latest failure, even once the failures are old.
    assert cooldown_until(store.conn, "a/x", POLICY, now=NOW + 90) == NOW + 100
    assert cooldown_until(store.conn, "a/x", POLICY, now=NOW + 101) is None


def test_failures_spread_wider_than_the_window_do_not_cool_down(store: Store) -> None:
    for t in (NOW - 100, NOW - 30, NOW - 20):
        add_call(store, "a/x", t, ok=False, error_class="unavailable")
    assert cooldowns(store.conn, POLICY, now=NOW) == {}


def test_non_retryable_failures_and_successes_do_not_count(store: Store) -> None:
    for t in (NOW - 30, NOW - 20, NOW - 10):
        add_call(store, "a/x", t, ok=False, error_class="bad_request")
        add_call(store, "b/y", t, ok=True)
    add_call(store, "c/z", NOW - 5, ok=False, error_class="auth")
    assert cooldowns(store.conn, POLICY, now=NOW) == {}
