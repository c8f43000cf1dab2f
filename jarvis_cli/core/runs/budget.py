"""Budgets: spend from the `calls` table against `[budgets]` limits, checked before sending.

Periods are UTC calendar periods: "daily" is since 00:00 UTC today, "monthly" since
00:00 UTC on the 1st. A request is refused (exit 7) when spend so far plus its
estimated cost would exceed a limit, or when its estimate exceeds `--max-cost`.
A model with unknown prices cannot be checked: the check counts it as $0 and says
so in the returned warnings (never silently).
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from jarvis_cli.core.errors import BudgetExceededError
from jarvis_cli.core.store.config import BudgetLimits, Budgets


def period_start(period: str, now: float) -> float:
    """Unix time at which the current UTC day or month began."""
    t = datetime.fromtimestamp(now, tz=UTC)
    if period == "daily":
        start = t.replace(hour=0, minute=0, second=0, microsecond=0)
    elif period == "monthly":
        start = t.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    else:
        raise ValueError(period)
    return start.timestamp()


def spend_since(conn: sqlite3.Connection, since: float, provider: str | None = None) -> float:
    """USD recorded in `calls` since `since` (all providers, or one)."""
    sql = "SELECT COALESCE(SUM(cost_usd), 0) FROM calls WHERE at >= ?"
    params: tuple[object, ...] = (since,)
    if provider is not None:
        sql += " AND provider = ?"
        params = (since, provider)
    return float(conn.execute(sql, params).fetchone()[0])


@dataclass(frozen=True)
class BudgetStatus:
    """One limit and what has been spent against it."""

    scope: str  # "all" or a provider name
    period: str  # daily | monthly
    limit_usd: float
    spent_usd: float

    @property
    def remaining_usd(self) -> float:
        return max(0.0, self.limit_usd - self.spent_usd)


def _limits(budgets: Budgets) -> list[tuple[str, BudgetLimits | Budgets]]:
    return [("all", budgets), *sorted(budgets.providers.items())]


def budget_status(
    conn: sqlite3.Connection, budgets: Budgets, *, now: float | None = None
) -> list[BudgetStatus]:
    """Every configured limit with its current spend."""
    now = time.time() if now is None else now
    out = []
    for scope, limits in _limits(budgets):
        for period in ("daily", "monthly"):
            limit = limits.daily_usd if period == "daily" else limits.monthly_usd
            if limit is None:
                continue
            provider = None if scope == "all" else scope
            spent = spend_since(conn, period_start(period, now), provider)
            out.append(BudgetStatus(scope, period, limit, spent))
    return out


def check_budget(
    conn: sqlite3.Connection,
    budgets: Budgets,
    *,
    provider: str,
    model_id: str,
    estimated_cost_usd: float | None,
    max_cost_usd: float | None = None,
    now: float | None = None,
) -> list[str]:
    """Raise BudgetExceededError if this request would break a limit; return warnings."""
    warnings = []
    estimate = estimated_cost_usd
    if estimate is None:
        if max_cost_usd is not None or budget_status(conn, budgets, now=now):
            warnings.append(
                f"price of {model_id} is unknown; the budget check counts this request as $0"
            )
        estimate = 0.0
    if max_cost_usd is not None and estimate > max_cost_usd:
        raise BudgetExceededError(
            f"{model_id}: estimated cost ${estimate:.6f} exceeds --max-cost ${max_cost_usd:.6f}",
            hint="raise --max-cost, lower --max-tokens, or let selection pick a cheaper model",
        )
    for status in budget_status(conn, budgets, now=now):
        if status.scope not in ("all", provider):
            continue
        if status.spent_usd + estimate > status.limit_usd:
            scope = "total" if status.scope == "all" else f"{status.scope}"
            raise BudgetExceededError(
                f"{status.period} {scope} budget exceeded: spent ${status.spent_usd:.4f} "
                f"+ estimated ${estimate:.4f} for {model_id} > limit ${status.limit_usd:.4f}",
                hint="see `jarvis stats`; limits are [budgets] in config.toml",
            )
    return warnings
