"""Budgets: spend against `[budgets]` limits, reserved before sending, settled after.

Periods are UTC calendar periods: "daily" is since 00:00 UTC today, "monthly" since
00:00 UTC on the 1st. Spend is the recorded cost in `calls` plus every unexpired
*reservation*: before a request is sent, `reserve()` checks, in one write
transaction that every other writer waits for, that spend + reservations + this
request's worst-case cost stays within each limit that applies, and inserts the
reservation; the attempt that ends the model's turn is recorded together with the
reservation's deletion (`record_attempt(..., settle=)`), so actual cost replaces
the worst case atomically. Concurrent requests, in one process or many, therefore
cannot overspend. A process killed mid-request leaves its reservation until
`expires_at` (the request's total timeout + `[budgets] reservation_grace_s`,
default 60 s), after which it no longer counts.

A request is refused (exit 7) when a limit would be exceeded, or when its estimate
exceeds `--max-cost`. What the orchestrator passes as the estimate is the request's
cost *bound* (runs/bounds.py, selection/bound.py): what an honest provider can bill
at most, given the output limit it is sent. A model with unknown prices cannot be checked: the check
counts it as $0 and says so in the returned warnings (never silently).
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from jarvis_cli.core.errors import BudgetExceededError
from jarvis_cli.core.money import usd
from jarvis_cli.core.store.config import BudgetLimits, Budgets
from jarvis_cli.core.store.connection import Connection, StoreHandle


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


def spend_since(conn: Connection, since: float, provider: str | None = None) -> float:
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
    spent_usd: float  # recorded in `calls` this period
    reserved_usd: float = 0.0  # held by requests in flight (unexpired reservations)

    @property
    def remaining_usd(self) -> float:
        return max(0.0, self.limit_usd - self.spent_usd - self.reserved_usd)


def _limits(budgets: Budgets) -> list[tuple[str, BudgetLimits | Budgets]]:
    return [("all", budgets), *sorted(budgets.providers.items())]


def budget_status(
    conn: Connection, budgets: Budgets, *, now: float | None = None
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
            held = reserved(conn, now, provider)
            out.append(BudgetStatus(scope, period, limit, spent, held))
    return out


def reserved(conn: Connection, now: float, provider: str | None = None) -> float:
    """USD held by unexpired reservations (all providers, or one)."""
    sql = "SELECT COALESCE(SUM(amount_usd), 0) FROM budget_reservations WHERE expires_at > ?"
    params: tuple[object, ...] = (now,)
    if provider is not None:
        sql += " AND provider = ?"
        params = (now, provider)
    return float(conn.execute(sql, params).fetchone()[0])


def check_budget(
    conn: Connection,
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
            f"{model_id}: cost bound ${estimate:.6f} (the most the provider can bill for "
            f"this request) exceeds --max-cost ${max_cost_usd:.6f}",
            hint="raise --max-cost, lower --max-tokens, or let selection pick a cheaper model",
        )
    for status in budget_status(conn, budgets, now=now):
        if status.scope not in ("all", provider):
            continue
        if status.spent_usd + status.reserved_usd + estimate > status.limit_usd:
            scope = "total" if status.scope == "all" else f"{status.scope}"
            held = (
                f" + {usd(status.reserved_usd)} reserved by requests in flight"
                if status.reserved_usd > 0
                else ""
            )
            raise BudgetExceededError(
                f"{status.period} {scope} budget exceeded: spent {usd(status.spent_usd)}{held} "
                f"+ up to {usd(estimate)} for {model_id} > limit {usd(status.limit_usd)}",
                hint="see `jarvis stats`; limits are [budgets] in config.toml",
            )
    return warnings


@dataclass(frozen=True)
class Reservation:
    """A request's worst-case cost, held against the budgets until settled."""

    id: str
    provider: str
    model_id: str
    amount_usd: float
    expires_at: float


def limits_apply(budgets: Budgets, provider: str) -> bool:
    """Whether any [budgets] limit covers requests to `provider`."""
    scoped = budgets.providers.get(provider)
    return any(
        limit is not None
        for limit in (
            budgets.daily_usd,
            budgets.monthly_usd,
            scoped.daily_usd if scoped else None,
            scoped.monthly_usd if scoped else None,
        )
    )


def reserve(
    store: StoreHandle,
    budgets: Budgets,
    *,
    provider: str,
    model_id: str,
    estimated_cost_usd: float | None,
    max_cost_usd: float | None = None,
    ttl_s: float,
    now: float | None = None,
) -> tuple[Reservation | None, list[str]]:
    """Check the budgets and hold `estimated_cost_usd` against them, atomically.

    Raises BudgetExceededError (exit 7) when a limit would be exceeded. Returns the
    reservation (None when no [budgets] limit covers `provider` or the cost is
    unknown or zero: nothing to hold, nothing written) and the check's warnings.
    The reservation expires `ttl_s` seconds from now.
    """
    import socket  # only here: `stats` and `log` import this module too

    now = time.time() if now is None else now
    if not limits_apply(budgets, provider):
        # Only --max-cost can refuse: no store read, no write.
        warnings = check_budget(
            store.conn,
            Budgets(),
            provider=provider,
            model_id=model_id,
            estimated_cost_usd=estimated_cost_usd,
            max_cost_usd=max_cost_usd,
            now=now,
        )
        return None, warnings
    with store.write(lock="budget") as conn:
        conn.execute("DELETE FROM budget_reservations WHERE expires_at <= ?", (now,))
        warnings = check_budget(
            conn,
            budgets,
            provider=provider,
            model_id=model_id,
            estimated_cost_usd=estimated_cost_usd,
            max_cost_usd=max_cost_usd,
            now=now,
        )
        if not estimated_cost_usd:
            return None, warnings
        held = Reservation(
            id=uuid.uuid4().hex,
            provider=provider,
            model_id=model_id,
            amount_usd=estimated_cost_usd,
            expires_at=now + ttl_s,
        )
        conn.execute(
            "INSERT INTO budget_reservations(id, provider, model_id, amount_usd, created_at,"
            " expires_at, pid, host) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                held.id,
                provider,
                model_id,
                held.amount_usd,
                now,
                held.expires_at,
                os.getpid(),
                socket.gethostname(),
            ),
        )
    return held, warnings


def release(store: StoreHandle, reservation: Reservation | None) -> None:
    """Drop a reservation whose request ended without a settling attempt."""
    if reservation is None:
        return
    with store.write() as conn:
        delete_reservation(conn, reservation)


def delete_reservation(conn: Connection, reservation: Reservation) -> None:
    """Delete a reservation inside the caller's write transaction."""
    conn.execute("DELETE FROM budget_reservations WHERE id = ?", (reservation.id,))
