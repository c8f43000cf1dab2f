"""Cooldown: rest a model after a burst of retryable failures (from the calls table).

Selection leaves a cooling model out (exclusion code `cooldown`) until the cooldown
ends; the policy is `[cooldown]` in config.toml. Cooldowns are per (model, request
kind): failures of a model's embeddings endpoint never rest its chat endpoint.
"""

from __future__ import annotations

import time

from jarvis_cli.core.selection.faults import COOLDOWN_FAULTS, sql_list
from jarvis_cli.core.store.config import CooldownPolicy
from jarvis_cli.core.store.connection import Connection

# Error classes after which a model is worth resting, not the request fixing: only the
# model's own faults (selection/faults.py), never Ctrl-C, a bad key or a bad request.
RETRYABLE_ERROR_CLASSES = COOLDOWN_FAULTS

# `recent` is materialized so that it is a range scan of the calls(at) index: grouped
# directly, SQLite prefers walking calls(model_id, at), i.e. every call row (~15 ms
# at 100,000 rows, at every selection).
_COOLDOWN_SQL = """
WITH recent AS MATERIALIZED (
    SELECT model_id, at
    FROM calls
    WHERE at > :recent_since AND ok = 0 AND error_class IN ({classes}) {same_kind}
),
latest AS (
    SELECT model_id, MAX(at) AS last_at FROM recent GROUP BY model_id
)
SELECT l.model_id, l.last_at,
       (SELECT COUNT(*) FROM calls c
        WHERE c.model_id = l.model_id AND c.at >= l.last_at - :window_s AND c.at <= l.last_at
          AND c.ok = 0 AND c.error_class IN ({classes}) {same_kind_c}) AS failures
FROM latest l
"""


def cooldowns(
    conn: Connection,
    policy: CooldownPolicy,
    *,
    now: float | None = None,
    kind: str | None = None,
) -> dict[str, float]:
    """Models cooling down now, mapped to the unix time their cooldown ends.

    A model cools down when it has >= `policy.failures` retryable failures (ok=0 and
    error_class rate_limited/unavailable/bad_response) within `policy.window_s`
    seconds of each other, the latest of them less than `policy.duration_s` ago; the
    cooldown ends `duration_s` after that latest failure. With `kind`, only calls of
    that request kind (chat, completion, embedding) count.
    """
    now = time.time() if now is None else now
    if policy.duration_s <= 0:
        return {}
    classes = sql_list(RETRYABLE_ERROR_CLASSES)
    sql = _COOLDOWN_SQL.format(
        classes=classes,
        same_kind="" if kind is None else "AND kind = :kind",
        same_kind_c="" if kind is None else "AND c.kind = :kind",
    )
    rows = conn.execute(
        sql, {"recent_since": now - policy.duration_s, "window_s": policy.window_s, "kind": kind}
    )
    return {
        model_id: last_at + policy.duration_s
        for model_id, last_at, failures in rows
        if failures >= policy.failures
    }


def cooldown_until(
    conn: Connection,
    model_id: str,
    policy: CooldownPolicy,
    *,
    now: float | None = None,
    kind: str | None = None,
) -> float | None:
    """When `model_id`'s cooldown (for `kind`, if given) ends, or None if it is not cooling."""
    return cooldowns(conn, policy, now=now, kind=kind).get(model_id)
