"""PerformanceMonitor: per-model aggregates of the `calls` table, computed in SQL.

The window is the last `window_calls` attempts per model that started within the
last `window_days` days (both from `[selection]` in config.toml). Percentiles use
the nearest-rank method (the value at rank ceil(p * n) of the sorted sample), picked
per model with window functions in one query, so no call row is loaded into Python.
Latency and TTFT percentiles come from successful attempts only: a failed attempt's
duration says how long it took to fail, not how fast the model answers.

Priors for models with no measurements are not applied here (they depend on the
candidate set); see `jarvis_cli.core.scoring`. `ModelMetrics.measured` says whether
any attempt is in the window.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from jarvis_cli.core.config import CooldownPolicy

if TYPE_CHECKING:
    from jarvis_cli.core.context import Context

# Error classes after which a model is worth resting, not the request fixing.
RETRYABLE_ERROR_CLASSES = ("rate_limited", "unavailable", "bad_response")

SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class ModelMetrics:
    """Aggregates of one model's attempts in the window (None = nothing to aggregate)."""

    model_id: str
    calls: int = 0
    successes: int = 0
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    ttft_p50_ms: float | None = None
    last_at: float | None = None

    @property
    def measured(self) -> bool:
        """False when the window holds no attempt of this model."""
        return self.calls > 0

    @property
    def success_rate(self) -> float | None:
        """Raw successes / calls (None without calls); selection smooths it with a prior."""
        return self.successes / self.calls if self.calls else None


def no_measurements(model_id: str) -> ModelMetrics:
    """The aggregates of a model with no attempt in the window."""
    return ModelMetrics(model_id=model_id)


# One statement, one GROUP BY, no joins: rank each model's attempts by recency,
# keep the last N since T, then rank the successful ones by latency and by ttft
# (partitioned by "is a usable sample" so failures do not take ranks) and pick the
# nearest-rank p50/p95 rows. The recency scan is served by the calls(model_id, at)
# index.
_AGGREGATES_SQL = """
WITH windowed AS (
    SELECT model_id, at, ok, latency_ms, ttft_ms,
           ok = 1 AND latency_ms IS NOT NULL AS has_lat,
           ok = 1 AND ttft_ms IS NOT NULL AS has_ttft
    FROM (
        SELECT model_id, at, ok, latency_ms, ttft_ms,
               ROW_NUMBER() OVER (PARTITION BY model_id ORDER BY at DESC) AS recency
        FROM calls
        WHERE at >= :since {model_filter}
    )
    WHERE recency <= :max_calls
),
ranked AS (
    SELECT model_id, at, ok, latency_ms, ttft_ms, has_lat, has_ttft,
           ROW_NUMBER() OVER (PARTITION BY model_id, has_lat ORDER BY latency_ms) AS lat_rank,
           SUM(has_lat) OVER (PARTITION BY model_id) AS lat_n,
           ROW_NUMBER() OVER (PARTITION BY model_id, has_ttft ORDER BY ttft_ms) AS ttft_rank,
           SUM(has_ttft) OVER (PARTITION BY model_id) AS ttft_n
    FROM windowed
)
SELECT model_id, COUNT(*), SUM(ok), MAX(at),
       MAX(CASE WHEN has_lat AND lat_rank = (lat_n * 50 + 99) / 100 THEN latency_ms END),
       MAX(CASE WHEN has_lat AND lat_rank = (lat_n * 95 + 99) / 100 THEN latency_ms END),
       MAX(CASE WHEN has_ttft AND ttft_rank = (ttft_n * 50 + 99) / 100 THEN ttft_ms END)
FROM ranked
GROUP BY model_id
"""


class PerformanceMonitor:
    """Reads per-model aggregates over a window of recent attempts."""

    def __init__(self, conn: sqlite3.Connection, *, window_calls: int, window_days: float) -> None:
        self.conn = conn
        self.window_calls = window_calls
        self.window_days = window_days

    @classmethod
    def for_context(cls, ctx: Context) -> PerformanceMonitor:
        """A monitor over `ctx.store` with the window from `ctx.config.selection`."""
        sel = ctx.config.selection
        return cls(ctx.store.conn, window_calls=sel.window_calls, window_days=sel.window_days)

    def aggregates(
        self, model_ids: Iterable[str] | None = None, *, now: float | None = None
    ) -> dict[str, ModelMetrics]:
        """Aggregates of every model with attempts in the window (or only `model_ids`).

        Models without attempts are absent; use `get(...)` or `no_measurements`.
        """
        now = time.time() if now is None else now
        params: dict[str, object] = {
            "since": now - self.window_days * SECONDS_PER_DAY,
            "max_calls": self.window_calls,
        }
        model_filter = ""
        if model_ids is not None:
            ids = sorted(set(model_ids))
            if not ids:
                return {}
            # A temp table beats thousands of bound parameters (SQLite caps them).
            self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS _metrics_ids(id TEXT PRIMARY KEY)")
            self.conn.execute("DELETE FROM _metrics_ids")
            self.conn.executemany("INSERT INTO _metrics_ids(id) VALUES (?)", ((i,) for i in ids))
            model_filter = "AND model_id IN (SELECT id FROM _metrics_ids)"
        rows = self.conn.execute(_AGGREGATES_SQL.format(model_filter=model_filter), params)
        return {
            r[0]: ModelMetrics(
                model_id=r[0],
                calls=int(r[1]),
                successes=int(r[2] or 0),
                last_at=r[3],
                latency_p50_ms=r[4],
                latency_p95_ms=r[5],
                ttft_p50_ms=r[6],
            )
            for r in rows
        }

    def get(self, model_id: str, *, now: float | None = None) -> ModelMetrics:
        """Aggregates of one model (`measured` is False when it has no attempt in the window)."""
        found = self.aggregates([model_id], now=now)
        return found.get(model_id, no_measurements(model_id))


# --- cooldown (shared with the orchestrator) -----------------------------------

_COOLDOWN_SQL = """
WITH latest AS (
    SELECT model_id, MAX(at) AS last_at
    FROM calls
    WHERE at > :recent_since AND ok = 0 AND error_class IN ({classes})
    GROUP BY model_id
)
SELECT l.model_id, l.last_at,
       (SELECT COUNT(*) FROM calls c
        WHERE c.model_id = l.model_id AND c.at >= l.last_at - :window_s AND c.at <= l.last_at
          AND c.ok = 0 AND c.error_class IN ({classes})) AS failures
FROM latest l
"""


def cooldowns(
    conn: sqlite3.Connection, policy: CooldownPolicy, *, now: float | None = None
) -> dict[str, float]:
    """Models cooling down now, mapped to the unix time their cooldown ends.

    A model cools down when it has >= `policy.failures` retryable failures (ok=0 and
    error_class rate_limited/unavailable/bad_response) within `policy.window_s`
    seconds of each other, the latest of them less than `policy.duration_s` ago; the
    cooldown ends `duration_s` after that latest failure.
    """
    now = time.time() if now is None else now
    if policy.duration_s <= 0:
        return {}
    classes = ", ".join(f"'{c}'" for c in RETRYABLE_ERROR_CLASSES)
    rows = conn.execute(
        _COOLDOWN_SQL.format(classes=classes),
        {"recent_since": now - policy.duration_s, "window_s": policy.window_s},
    )
    return {
        model_id: last_at + policy.duration_s
        for model_id, last_at, failures in rows
        if failures >= policy.failures
    }


def cooldown_until(
    conn: sqlite3.Connection,
    model_id: str,
    policy: CooldownPolicy,
    *,
    now: float | None = None,
) -> float | None:
    """When `model_id`'s cooldown ends, or None if it is not cooling down."""
    return cooldowns(conn, policy, now=now).get(model_id)


def metrics_or_empty(found: Mapping[str, ModelMetrics], model_id: str) -> ModelMetrics:
    """`found[model_id]`, or the no-measurement aggregates."""
    return found.get(model_id) or no_measurements(model_id)
