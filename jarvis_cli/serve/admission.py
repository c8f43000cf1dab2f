"""A limited token's request admitted or refused, atomically, across server processes.

For a token with a counted limit (rpm, concurrency, daily/monthly USD) `admit` runs
one `store.write(lock="budget")` transaction - the lock `[budgets]` reservations
take, serialized across processes and machines on a team store - that drops expired
in-flight rows, checks every limit (requests in the last 60 s; requests in flight;
spend this UTC day/month + the worst case held by requests in flight + this
request's worst case), then inserts this request's usage and in-flight rows.
`settle` deletes the in-flight row and writes the actual cost in one transaction,
so spend moves from worst case to actual with no window in which neither counts.
Tokens without such limits cost no write at all.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from typing import NamedTuple

from jarvis_cli.core.money import usd
from jarvis_cli.core.runs.budget import period_start
from jarvis_cli.core.store.connection import StoreHandle
from jarvis_cli.serve.errors import NO_RETRY, ApiError
from jarvis_cli.serve.tokens import ClientToken

_HOST = socket.gethostname()


class Admission(NamedTuple):
    id: str
    token_id: str
    amount_usd: float


def _refuse(message: str, code: str, retry_after: float) -> ApiError:
    return ApiError(
        429,
        message,
        type="rate_limit_error" if code != "budget_exceeded" else "insufficient_quota",
        code=code,
        headers={
            "retry-after": str(max(1, int(retry_after + 0.999))),
            **(NO_RETRY if code == "budget_exceeded" else {}),  # not before the period ends
        },
    )


def admit(
    store: StoreHandle, token: ClientToken, worst_usd: float, ttl_s: float
) -> Admission | None:
    """Admit one request of `token` or raise a 429 ApiError saying which limit."""
    limits = token.limits
    if not limits.admission:
        return None
    now = time.time()
    with store.write(lock="budget") as conn:
        conn.execute("DELETE FROM serve_inflight WHERE expires_at <= ?", (now,))
        if limits.concurrency is not None:
            (running,) = conn.execute(
                "SELECT COUNT(*) FROM serve_inflight WHERE token_id = ?", (token.id,)
            ).fetchone()
            if running >= limits.concurrency:
                raise _refuse(
                    f"token {token.name!r}: {running} requests in flight, its "
                    f"concurrency limit is {limits.concurrency}",
                    "concurrency_limit",
                    1,
                )
        if limits.rpm is not None:
            count, oldest = conn.execute(
                "SELECT COUNT(*), MIN(at) FROM serve_token_usage WHERE token_id = ? AND at > ?",
                (token.id, now - 60),
            ).fetchone()
            if count >= limits.rpm:
                raise _refuse(
                    f"token {token.name!r}: {count} requests in the last minute, its "
                    f"limit is {limits.rpm} per minute",
                    "rate_limit_exceeded",
                    float(oldest) + 60 - now,
                )
        for period, limit in (("daily", limits.daily_usd), ("monthly", limits.monthly_usd)):
            if limit is None:
                continue
            start = period_start(period, now)
            (spent,) = conn.execute(
                "SELECT COALESCE(SUM(cost_usd), 0) FROM serve_token_usage"
                " WHERE token_id = ? AND at >= ?",
                (token.id, start),
            ).fetchone()
            (held,) = conn.execute(
                "SELECT COALESCE(SUM(amount_usd), 0) FROM serve_inflight WHERE token_id = ?",
                (token.id,),
            ).fetchone()
            if float(spent) + float(held) + worst_usd > limit:
                ends = period_start(period, now + (86400 if period == "daily" else 32 * 86400))
                raise _refuse(
                    f"token {token.name!r}: {period} budget exceeded: spent {usd(float(spent))}"
                    f" + {usd(float(held))} held by requests in flight + up to {usd(worst_usd)}"
                    f" for this request > limit {usd(limit)}",
                    "budget_exceeded",
                    ends - now,
                )
        held_id = uuid.uuid4().hex
        conn.execute(
            "INSERT INTO serve_token_usage(id, token_id, at, cost_usd) VALUES (?, ?, ?, 0)",
            (held_id, token.id, now),
        )
        conn.execute(
            "INSERT INTO serve_inflight(id, token_id, amount_usd, created_at, expires_at, pid,"
            " host) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (held_id, token.id, worst_usd, now, now + ttl_s, os.getpid(), _HOST),
        )
    return Admission(held_id, token.id, worst_usd)


def settle(store: StoreHandle, admission: Admission | None, cost_usd: float) -> None:
    """The request ended: its actual cost replaces its worst case, atomically."""
    if admission is None:
        return
    with store.write() as conn:
        conn.execute("DELETE FROM serve_inflight WHERE id = ?", (admission.id,))
        conn.execute(
            "UPDATE serve_token_usage SET cost_usd = ? WHERE id = ?", (cost_usd, admission.id)
        )
