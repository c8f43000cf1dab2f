"""Pruning the log: content and attempts older than a cut-off, budgets kept whole.

Attempts are what budgets sum, so an attempt inside a budget period still in force
(today for a daily limit, this month for a monthly one) is kept even when older
than the cut-off. `[log] retention_days` prunes automatically, at most once a day
(the last run is recorded in `meta`), so no ordinary command pays for it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from jarvis_cli.core.runs.budget import period_start
from jarvis_cli.core.store.config import Budgets
from jarvis_cli.core.store.connection import StoreHandle, is_postgres

META_LAST_PRUNE = "log.last_prune"
AUTO_PRUNE_EVERY_S = 86_400.0
# The metrics cache (core/selection/metrics.py) trusts its watermark only while calls
# never shrink below it; deleting attempts must make it rebuild.
_META_METRICS_WATERMARK = "model_stats.watermark"


@dataclass(frozen=True)
class PruneReport:
    """What a prune removed, and from when attempts were kept for budgets."""

    cutoff: float  # content and attempts older than this were candidates
    attempts_kept_from: float  # attempts from here on were kept (<= cutoff with budgets)
    requests_deleted: int  # content rows
    content_bytes: int  # UTF-8 bytes of prompts, system prompts and answers removed
    attempts_deleted: int


def budget_keep_from(budgets: Budgets, now: float) -> float | None:
    """The start of the earliest budget period still in force, or None without budgets."""
    starts = []
    pairs = [(budgets.daily_usd, budgets.monthly_usd)]
    pairs += [(p.daily_usd, p.monthly_usd) for p in budgets.providers.values()]
    for daily, monthly in pairs:
        if daily is not None:
            starts.append(period_start("daily", now))
        if monthly is not None:
            starts.append(period_start("monthly", now))
    return min(starts) if starts else None


def prune_log(
    store: StoreHandle, budgets: Budgets, *, older_than_s: float, now: float | None = None
) -> PruneReport:
    """Delete content and attempts older than `older_than_s` in one transaction."""
    now = time.time() if now is None else now
    cutoff = now - older_than_s
    keep = budget_keep_from(budgets, now)
    attempts_from = cutoff if keep is None else min(cutoff, keep)
    with store.write() as conn:
        size_of = "octet_length({})" if is_postgres(conn) else "length(CAST({} AS BLOB))"
        count, size = conn.execute(
            f"SELECT count(*), COALESCE(SUM({size_of.format('prompt')}"
            f" + {size_of.format('answer')} + COALESCE({size_of.format('system')}, 0)), 0)"
            " FROM log_requests WHERE at < ?",
            (cutoff,),
        ).fetchone()
        conn.execute("DELETE FROM log_requests WHERE at < ?", (cutoff,))
        attempts = conn.execute("DELETE FROM calls WHERE at < ?", (attempts_from,)).rowcount
        conn.execute("DELETE FROM outcomes WHERE at < ?", (cutoff,))  # learned with the log
        if attempts:
            conn.execute("DELETE FROM meta WHERE key = ?", (_META_METRICS_WATERMARK,))
        store.set_meta(conn, META_LAST_PRUNE, repr(now))
    return PruneReport(cutoff, attempts_from, int(count), int(size), int(attempts))


def maybe_auto_prune(
    store: StoreHandle, budgets: Budgets, retention_days: int | None, *, now: float | None = None
) -> PruneReport | None:
    """Prune to `retention_days` if it is set and the last prune is a day old or more."""
    if retention_days is None:
        return None
    now = time.time() if now is None else now
    last = store.get_meta(META_LAST_PRUNE)
    if last is not None and now - float(last) < AUTO_PRUNE_EVERY_S:
        return None
    return prune_log(store, budgets, older_than_s=retention_days * 86_400.0, now=now)


def vacuum(store: StoreHandle) -> tuple[int, int] | None:
    """Give the space freed by a prune back to the file system: the SQLite file's bytes
    (with its WAL) before and after VACUUM; None on PostgreSQL, whose autovacuum
    reclaims space itself (VACUUM FULL would lock the team's tables)."""
    conn = store.conn
    if is_postgres(conn):
        return None
    from pathlib import Path

    path = Path(str(getattr(store, "path", "")))

    def size() -> int:
        wal = path.with_name(path.name + "-wal")
        return sum(p.stat().st_size for p in (path, wal) if p.exists())

    before = size()
    conn.execute("VACUUM")  # outside any transaction: SQLite refuses it inside one
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return before, size()
