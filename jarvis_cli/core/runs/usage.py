"""What `jarvis stats` and `jarvis log` report: per-model usage and recent attempts."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from jarvis_cli.core.errors import UsageError
from jarvis_cli.core.runs.budget import BudgetStatus, budget_status
from jarvis_cli.core.runs.log_reads import CALL_COLUMNS, CallRow, call_row
from jarvis_cli.core.selection.faults import NOT_MODEL_FAULTS
from jarvis_cli.core.selection.metrics import PerformanceMonitor
from jarvis_cli.core.store.config import Budgets
from jarvis_cli.core.store.connection import Connection

_DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def parse_duration(text: str) -> float:
    """'90s', '30m', '12h', '7d', '2w' -> seconds, at most the time since 1970: a longer
    one (`99999999999d`) means "everything" and stays a date that can be shown."""
    m = _DURATION_RE.match(text.strip())
    if not m:
        raise UsageError(
            f"bad duration {text!r}: expected a number and a unit s, m, h, d or w (e.g. 7d)"
        )
    return min(float(m.group(1)) * _UNIT_S[m.group(2)], time.time())


@dataclass(frozen=True)
class ModelUsage:
    model_id: str
    calls: int
    successes: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    ttft_p50_ms: float | None
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float  # of the priced calls only
    unpriced_calls: int = 0  # successful calls whose model has no price: cost unknown
    estimated_token_calls: int = 0  # calls whose token counts jarvis estimated
    # every attempt by outcome: "answered" or its error class (interrupted, auth, ...)
    outcomes: dict[str, int] = field(default_factory=dict)
    # failed attempts that were not the model's fault (selection/faults.py): selection's
    # reliability and cooldowns leave them out
    not_model_faults: int = 0
    overruns: int = 0  # answered attempts billed over their reservation (issue 23)
    overrun_usd: float = 0.0  # by how much, in total

    @property
    def success_rate(self) -> float:
        return self.successes / self.calls if self.calls else 0.0


@dataclass(frozen=True)
class UsageReport:
    since: float
    models: list[ModelUsage]
    budgets: list[BudgetStatus]

    @property
    def total_calls(self) -> int:
        return sum(m.calls for m in self.models)

    @property
    def total_cost_usd(self) -> float:
        return sum(m.cost_usd for m in self.models)

    @property
    def unpriced_calls(self) -> int:
        return sum(m.unpriced_calls for m in self.models)

    @property
    def overruns(self) -> int:
        return sum(m.overruns for m in self.models)

    @property
    def overrun_usd(self) -> float:
        return sum(m.overrun_usd for m in self.models)

    @property
    def total_tokens(self) -> int:
        return sum(m.prompt_tokens + m.completion_tokens for m in self.models)


_NONE = (0, 0, 0, 0, 0, 0, 0)


def usage_report(
    conn: Connection,
    budgets: Budgets,
    *,
    since_s: float,
    model_id: str | None = None,
    now: float | None = None,
) -> UsageReport:
    """Per-model usage over the last `since_s` seconds (every attempt, not a sample)."""
    now = time.time() if now is None else now
    since = now - since_s
    monitor = PerformanceMonitor(conn, window_calls=2**62, window_days=since_s / 86_400)
    perf = monitor.aggregates(None if model_id is None else [model_id], now=now)
    sql = (
        "SELECT model_id, COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0),"
        " COALESCE(SUM(cost_usd), 0),"
        " COALESCE(SUM(CASE WHEN ok = 1 AND cost_usd IS NULL THEN 1 ELSE 0 END), 0),"
        " COALESCE(SUM(tokens_estimated), 0),"
        " COALESCE(SUM(CASE WHEN overrun_usd > 0 THEN 1 ELSE 0 END), 0),"
        " COALESCE(SUM(overrun_usd), 0) FROM calls WHERE at >= ?"
    )
    params: tuple[object, ...] = (since,)
    if model_id is not None:
        sql += " AND model_id = ?"
        params = (since, model_id)
    totals = {r[0]: r[1:] for r in conn.execute(sql + " GROUP BY model_id", params)}
    outcomes: dict[str, dict[str, int]] = {}
    for mid, ok, error_class, count in conn.execute(
        "SELECT model_id, ok, error_class, COUNT(*) FROM calls WHERE at >= ?"
        + (" AND model_id = ?" if model_id is not None else "")
        + " GROUP BY model_id, ok, error_class",
        params,
    ):
        name = "answered" if ok else (error_class or "failed")
        by_model = outcomes.setdefault(mid, {})
        by_model[name] = by_model.get(name, 0) + int(count)
    models = [
        ModelUsage(
            model_id=mid,
            calls=m.calls,
            successes=m.successes,
            latency_p50_ms=m.latency_p50_ms,
            latency_p95_ms=m.latency_p95_ms,
            ttft_p50_ms=m.ttft_p50_ms,
            prompt_tokens=int(totals.get(mid, _NONE)[0]),
            completion_tokens=int(totals.get(mid, _NONE)[1]),
            cost_usd=float(totals.get(mid, _NONE)[2]),
            unpriced_calls=int(totals.get(mid, _NONE)[3]),
            estimated_token_calls=int(totals.get(mid, _NONE)[4]),
            outcomes=dict(sorted(outcomes.get(mid, {}).items())),
            not_model_faults=sum(
                n for name, n in outcomes.get(mid, {}).items() if name in NOT_MODEL_FAULTS
            ),
            overruns=int(totals.get(mid, _NONE)[5]),
            overrun_usd=float(totals.get(mid, _NONE)[6]),
        )
        for mid, m in perf.items()
    ]
    models.sort(key=lambda u: (-u.calls, u.model_id))
    return UsageReport(since=since, models=models, budgets=budget_status(conn, budgets, now=now))


def recent_calls(conn: Connection, limit: int) -> list[CallRow]:
    """The last `limit` attempts, newest first."""
    cursor = conn.execute(
        f"SELECT {', '.join(CALL_COLUMNS)} FROM calls ORDER BY at DESC, id DESC LIMIT ?",
        (limit,),
    )
    return [call_row(r) for r in cursor]
