"""PerformanceMonitor: per-model aggregates of the `calls` table, computed in SQL.

The window is the last `window_calls` attempts per model that started within the
last `window_days` days (both from `[selection]` in config.toml). Percentiles use
the nearest-rank method (the value at rank ceil(p * n) of the sorted sample), picked
per model with window functions in one query, so no call row is loaded into Python.
Latency and TTFT percentiles come from successful attempts only: a failed attempt's
duration says how long it took to fail, not how fast the model answers.

Throughput (`tps_p50`) is the median of completion tokens / (latency - TTFT) over
successful streamed attempts: with TTFT it predicts a request's latency for its
expected output (selection/speed.py). Selection's monitor (`judged=True`) counts only
attempts that say something about the model (selection/faults.py): a Ctrl-C, a bad
key or a request the provider rejected is not the model's failure; `jarvis stats`
counts every attempt.

Priors for models with no measurements are not applied here (they depend on the
candidate set); see `jarvis_cli.core.selection.scoring`. `ModelMetrics.measured` says whether
any attempt is in the window.
"""

# No `from __future__ import annotations`: typing.NamedTuple compiles each string
# annotation at import (a ForwardRef per field); the few forward references are quoted.

import math
import time
from array import array
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from jarvis_cli.core.selection.faults import JUDGED_SQL
from jarvis_cli.core.store.connection import Connection
from jarvis_cli.core.store.database import consistent_reads, write_transaction
from jarvis_cli.core.store.snapshots import current_snapshot, data_version, save_snapshot

if TYPE_CHECKING:
    from jarvis_cli.core.context import Context
    from jarvis_cli.core.registry.model_table import ModelTable

SECONDS_PER_DAY = 86_400.0


class ModelMetrics(NamedTuple):
    """Aggregates of one model's attempts in the window (None = nothing to aggregate).

    Immutable like a frozen dataclass, but a NamedTuple: selection builds one per
    measured model (10,000 in the benchmark) and tuples are several times cheaper.
    """

    model_id: str
    calls: int = 0
    successes: int = 0
    last_at: float | None = None
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    ttft_p50_ms: float | None = None
    tps_p50: float | None = None  # output tokens per second after the first token

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


class MetricColumns(NamedTuple):
    """ModelMetrics of a list of models as columns, aligned with those models' positions
    (selection scans them for 10,000 models: see core/registry/model_table.py). A model without
    attempts in the window has 0 calls and NaN figures."""

    calls: list[int]
    successes: list[int]
    last_at: list[float]
    latency_p50_ms: list[float]
    latency_p95_ms: list[float]
    ttft_p50_ms: list[float]
    tps_p50: list[float]

    @classmethod
    def from_rows(cls, ids: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> "MetricColumns":
        """Columns for `ids` from rows in ModelMetrics field order (model_id first)."""
        by_id = {r[0]: r for r in rows}
        aligned = [by_id.get(i) for i in ids]
        nan = math.nan
        columns: list[list[Any]] = [[0 if r is None else r[k] for r in aligned] for k in (1, 2)]
        columns += [
            [nan if r is None or r[k] is None else r[k] for r in aligned] for k in (3, 4, 5, 6, 7)
        ]
        return cls(*columns)

    @classmethod
    def from_mapping(cls, ids: Sequence[str], found: Mapping[str, ModelMetrics]) -> "MetricColumns":
        return cls.from_rows(ids, found.values())

    def metrics(self, i: int, model_id: str) -> ModelMetrics:
        """The ModelMetrics of the model at position `i`."""
        calls = self.calls[i]
        if not calls:
            return no_measurements(model_id)
        last_at, p50, p95, ttft, tps = (
            self.last_at[i],
            self.latency_p50_ms[i],
            self.latency_p95_ms[i],
            self.ttft_p50_ms[i],
            self.tps_p50[i],
        )
        return ModelMetrics(
            model_id,
            calls,
            self.successes[i],
            None if last_at != last_at else last_at,
            None if p50 != p50 else p50,
            None if p95 != p95 else p95,
            None if ttft != ttft else ttft,
            None if tps != tps else tps,
        )

    def encode(self) -> bytes:
        head = [array("q", self.calls).tobytes(), array("q", self.successes).tobytes()]
        return b"".join(head + [array("d", column).tobytes() for column in self[2:]])

    @classmethod
    def decode(cls, data: bytes, n: int) -> "MetricColumns":
        """What `encode` wrote for `n` models; ValueError if `data` is not that."""
        columns: list[list[Any]] = []
        pos = 0
        for code in "qqddddd":
            column = array(code)
            end = pos + n * column.itemsize
            column.frombytes(data[pos:end])
            if len(column) != n:
                raise ValueError("truncated metric columns")
            columns.append(column.tolist())
            pos = end
        if pos != len(data):
            raise ValueError("oversized metric columns")
        return cls(*columns)


# One statement, one GROUP BY, no joins: rank each model's attempts by recency,
# keep the last N since T, then rank the successful ones by latency and by ttft
# (partitioned by "is a usable sample" so failures do not take ranks) and pick the
# nearest-rank p50/p95 rows. The recency scan is served by the calls(model_id, at)
# index.
_AGGREGATES_SQL = """
WITH windowed AS (
    SELECT model_id, at, ok, latency_ms, ttft_ms, tps,
           CASE WHEN ok = 1 AND latency_ms IS NOT NULL THEN 1 ELSE 0 END AS has_lat,
           CASE WHEN ok = 1 AND ttft_ms IS NOT NULL THEN 1 ELSE 0 END AS has_ttft,
           CASE WHEN tps IS NOT NULL THEN 1 ELSE 0 END AS has_tps
    FROM (
        SELECT model_id, at, ok, latency_ms, ttft_ms,
               CASE WHEN ok = 1 AND ttft_ms IS NOT NULL AND latency_ms > ttft_ms
                         AND completion_tokens > 1
                    THEN completion_tokens * 1000.0 / (latency_ms - ttft_ms) END AS tps,
               ROW_NUMBER() OVER (PARTITION BY model_id ORDER BY at DESC) AS recency
        FROM calls
        WHERE at >= :since {model_filter} {judged}
    ) AS recent
    WHERE recency <= :max_calls
),
ranked AS (
    SELECT model_id, at, ok, latency_ms, ttft_ms, tps, has_lat, has_ttft, has_tps,
           ROW_NUMBER() OVER (PARTITION BY model_id, has_lat ORDER BY latency_ms) AS lat_rank,
           SUM(has_lat) OVER (PARTITION BY model_id) AS lat_n,
           ROW_NUMBER() OVER (PARTITION BY model_id, has_ttft ORDER BY ttft_ms) AS ttft_rank,
           SUM(has_ttft) OVER (PARTITION BY model_id) AS ttft_n,
           ROW_NUMBER() OVER (PARTITION BY model_id, has_tps ORDER BY tps) AS tps_rank,
           SUM(has_tps) OVER (PARTITION BY model_id) AS tps_n
    FROM windowed
)
SELECT model_id, COUNT(*), SUM(ok), MAX(at),
       MAX(CASE WHEN has_lat = 1 AND lat_rank = (lat_n * 50 + 99) / 100 THEN latency_ms END),
       MAX(CASE WHEN has_lat = 1 AND lat_rank = (lat_n * 95 + 99) / 100 THEN latency_ms END),
       MAX(CASE WHEN has_ttft = 1 AND ttft_rank = (ttft_n * 50 + 99) / 100 THEN ttft_ms END),
       MAX(CASE WHEN has_tps = 1 AND tps_rank = (tps_n * 50 + 99) / 100 THEN tps END),
       MIN(at)
FROM ranked
GROUP BY model_id
"""


# ModelMetrics' fields in order, then the cache bookkeeping column.
_METRICS_COLUMNS = (
    "model_id, calls, successes, last_at, latency_p50_ms, latency_p95_ms, ttft_p50_ms, tps_p50"
)
_STATS_COLUMNS = _METRICS_COLUMNS + ", oldest_at"
_META_WATERMARK = "model_stats.watermark"  # highest calls.id the cache has seen
_META_WINDOW = "model_stats.window"  # the window the cache was computed for
_SNAPSHOT = "metric_columns"  # MetricColumns of the model table, in `snapshots`

AggregateRow = tuple[
    str, int, int, float, float | None, float | None, float | None, float | None, float
]


class PerformanceMonitor:
    """Reads per-model aggregates over a window of recent attempts.

    With `cached=True` (what selection uses) the aggregates live in the
    `model_stats` table and each read first refreshes only what changed: models with
    attempts newer than the cache's watermark, and models whose oldest sampled
    attempt has left the time window. The result is the same as computing from
    scratch; a change of window (config) or a shrunken calls table rebuilds it.
    """

    def __init__(
        self,
        conn: Connection,
        *,
        window_calls: int,
        window_days: float,
        cached: bool = False,
        judged: bool = False,
    ) -> None:
        self.conn = conn
        self.window_calls = window_calls
        self.window_days = window_days
        self.cached = cached
        self.judged = judged  # only attempts that were the model's own doing (faults.py)

    @classmethod
    def for_context(cls, ctx: "Context") -> "PerformanceMonitor":
        """The cached monitor over `ctx.store` with the window from `[selection]`."""
        sel = ctx.config.selection
        return cls(
            ctx.store.conn,
            window_calls=sel.window_calls,
            window_days=sel.window_days,
            cached=True,
            judged=True,
        )

    def aggregates(
        self, model_ids: Iterable[str] | None = None, *, now: float | None = None
    ) -> dict[str, ModelMetrics]:
        """Aggregates of every model with attempts in the window (or only `model_ids`).

        Models without attempts are absent; use `get(...)` or `no_measurements`.
        """
        now = time.time() if now is None else now
        ids = None if model_ids is None else sorted(set(model_ids))
        if ids is not None and not ids:
            return {}
        if self.cached and not self.conn.in_transaction:
            self._refresh(now)
            sql = f"SELECT {_METRICS_COLUMNS} FROM model_stats"
            if ids is not None:
                self._load_ids(ids)
                sql += " WHERE model_id IN (SELECT id FROM _metrics_ids)"
            make = ModelMetrics._make
            return {r[0]: make(r) for r in self.conn.execute(sql)}
        return {r[0]: ModelMetrics._make(r[:8]) for r in self._compute(now, ids)}

    def columns(self, table: "ModelTable", *, now: float | None = None) -> MetricColumns:
        """The aggregates of the models of `table` as MetricColumns.

        A cached monitor refreshes model_stats, then reads the columns from their
        snapshot when neither the models nor model_stats changed since it was stored.
        """
        now = time.time() if now is None else now
        conn = self.conn
        if not self.cached or conn.in_transaction:
            return MetricColumns.from_rows(table.ids, (r[:8] for r in self._compute(now, None)))
        self._refresh(now)
        if table.version is None:
            return MetricColumns.from_rows(
                table.ids, conn.execute(f"SELECT {_METRICS_COLUMNS} FROM model_stats")
            )
        version, data = current_snapshot(conn, _SNAPSHOT, "model_stats", prefix=table.version)
        if data is not None:
            try:
                return MetricColumns.decode(data, len(table.ids))
            except ValueError:
                pass  # rebuilt below
        with consistent_reads(conn):
            version = f"{table.version}:{data_version(conn, 'model_stats')}"
            rows = conn.execute(f"SELECT {_METRICS_COLUMNS} FROM model_stats").fetchall()
        columns = MetricColumns.from_rows(table.ids, rows)
        save_snapshot(conn, _SNAPSHOT, version, columns.encode())
        return columns

    def get(self, model_id: str, *, now: float | None = None) -> ModelMetrics:
        """Aggregates of one model (`measured` is False when it has no attempt in the window)."""
        found = self.aggregates([model_id], now=now)
        return found.get(model_id, no_measurements(model_id))

    def _since(self, now: float) -> float:
        return now - self.window_days * SECONDS_PER_DAY

    def _load_ids(self, ids: list[str]) -> None:
        # A temp table beats thousands of bound parameters (SQLite caps them).
        self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS _metrics_ids(id TEXT PRIMARY KEY)")
        self.conn.execute("DELETE FROM _metrics_ids")
        self.conn.executemany("INSERT INTO _metrics_ids(id) VALUES (?)", ((i,) for i in ids))

    def _compute(self, now: float, ids: list[str] | None) -> list[AggregateRow]:
        model_filter = ""
        if ids is not None:
            self._load_ids(ids)
            model_filter = "AND model_id IN (SELECT id FROM _metrics_ids)"
        params = {"since": self._since(now), "max_calls": self.window_calls}
        judged = f"AND {JUDGED_SQL}" if self.judged else ""
        sql = _AGGREGATES_SQL.format(model_filter=model_filter, judged=judged)
        return list(self.conn.execute(sql, params))

    def _cache_state(self, since: float) -> tuple[int, int | None, str | None, bool]:
        # One round trip (a team store pays one per statement): the newest attempt's id
        # and whether a cached model has samples older than `since` come back under keys
        # no meta row has.
        meta = dict(
            self.conn.execute(
                "SELECT '', CAST(COALESCE(MAX(id), 0) AS TEXT) FROM calls "
                "UNION ALL SELECT ' aged', CASE WHEN EXISTS "
                "(SELECT 1 FROM model_stats WHERE oldest_at < ?) THEN '1' ELSE '0' END "
                "UNION ALL SELECT key, value FROM meta WHERE key IN (?, ?)",
                (since, _META_WATERMARK, _META_WINDOW),
            ).fetchall()
        )
        watermark = meta.get(_META_WATERMARK)
        return (
            int(meta[""]),
            None if watermark is None else int(watermark),
            meta.get(_META_WINDOW),
            meta[" aged"] == "1",
        )

    def _refresh(self, now: float) -> None:
        window = f"{self.window_calls}:{self.window_days!r}:{'judged' if self.judged else 'all'}"
        since = self._since(now)
        max_id, watermark, cached_window, aged = self._cache_state(since)
        if cached_window == window and watermark == max_id and not aged:
            return  # the common case: nothing to write
        with write_transaction(self.conn) as conn:
            # Another process may have refreshed it meanwhile.
            max_id, watermark, cached_window, _ = self._cache_state(since)
            if cached_window != window or watermark is None or watermark > max_id:
                conn.execute("DELETE FROM model_stats")
                rows = self._compute(now, None)
            else:
                stale = sorted(
                    {
                        r[0]
                        for r in conn.execute(
                            "SELECT DISTINCT model_id FROM calls WHERE id > ?", (watermark,)
                        )
                    }
                    | {
                        r[0]
                        for r in conn.execute(
                            "SELECT model_id FROM model_stats WHERE oldest_at < ?", (since,)
                        )
                    }
                )
                rows = self._compute(now, stale) if stale else []
                conn.executemany(
                    "DELETE FROM model_stats WHERE model_id = ?", ((m,) for m in stale)
                )
            conn.executemany(
                f"INSERT INTO model_stats({_STATS_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)", rows
            )
            for key, value in ((_META_WATERMARK, str(max_id)), (_META_WINDOW, window)):
                conn.execute(
                    "INSERT INTO meta(key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (key, value),
                )
