"""Recording attempts: every provider call is one row in `calls`.

The PerformanceMonitor, cooldowns, budgets and `jarvis stats/log` all read these
rows, so selection learns across processes from what was measured.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from jarvis_cli.core.errors import ProviderError, StoreError
from jarvis_cli.core.providers.base import CompletionResult, EmbeddingResult, RequestKind, Usage
from jarvis_cli.core.registry.records import ModelRecord
from jarvis_cli.core.runs.budget import Reservation, delete_reservation
from jarvis_cli.core.selection.bound import Sample
from jarvis_cli.core.selection.calibration import learn
from jarvis_cli.core.selection.cost import cost_usd, estimate_tokens
from jarvis_cli.core.store.connection import Connection, StoreHandle


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


@dataclass(frozen=True)
class Attempt:
    """One call to one model, successful or not."""

    model_id: str
    provider: str
    kind: RequestKind
    attempt: int  # 1-based sequence number within the request
    ok: bool
    at: float  # unix time the attempt started
    latency_ms: float | None = None
    ttft_ms: float | None = None
    error_class: str | None = None
    status_code: int | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    message: str | None = None  # error message shown to the user (not stored)
    tokens_estimated: bool = False  # token counts are jarvis's estimate, not the provider's
    # Issue 23: the bound reserved for this attempt (budgeted requests), what the bill
    # exceeded it by, and the calibration sample it teaches (not a `calls` column).
    reserved_usd: float | None = None
    overrun_usd: float | None = None
    sample: Sample | None = None
    overshoot: int | None = None  # completion tokens - the output limit sent (learned too)
    error_message: str | None = None  # the provider's reason, whole and redacted (stored)

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        del out["sample"], out["overshoot"]
        return out


def measured_attempt(
    record: ModelRecord,
    kind: RequestKind,
    number: int,
    started_at: float,
    t0: float,
    prompt: str,
    *,
    result: CompletionResult | EmbeddingResult | None = None,
    error: ProviderError | None = None,
    cls: str | None = None,
) -> Attempt:
    """The Attempt for one call that started at `started_at` (`t0` monotonic).

    A provider that reported no usage (a stream without a usage chunk) gets jarvis's
    estimate from `prompt` and the answer, marked `tokens_estimated`. An answer that
    arrived is priced even when it failed a check (bad_output): its tokens were paid.
    """
    usage = result.usage if result is not None else Usage()
    estimated = False
    if isinstance(result, CompletionResult) and usage.completion_tokens is None:
        estimated = True
        sent = usage.prompt_tokens
        sent = estimate_tokens(prompt) if sent is None else sent
        answer = estimate_tokens(result.text)
        usage = Usage(sent, answer, sent + answer)
    cost = None
    if result is not None:
        cost = cost_usd(record, usage.prompt_tokens or 0, usage.completion_tokens or 0)
    return Attempt(
        model_id=record.id,
        provider=record.provider,
        kind=kind,
        attempt=number,
        ok=error is None,
        at=started_at,
        latency_ms=result.latency_ms if result else (time.monotonic() - t0) * 1000,
        ttft_ms=result.ttft_ms if isinstance(result, CompletionResult) else None,
        error_class=cls or (None if error is None else error.error_class),
        status_code=None if error is None else error.status_code,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        cost_usd=cost,
        message=None if error is None else error.message,
        tokens_estimated=estimated,
        error_message=None if error is None else (error.detail or error.message),
    )


def record_attempt(
    store: StoreHandle, request_id: str, a: Attempt, *, settle: Reservation | None = None
) -> None:
    """Insert one attempt in its own short write transaction (see `insert_attempts`).

    A store that refuses the write (a lost team database, a revoked grant) is a
    StoreError (exit 3) that names the attempt; the transaction is rolled back, and
    what was recorded before stays.
    """
    try:
        with store.write() as conn:
            insert_attempts(conn, [(request_id, a, settle)])
    except sqlite3.DatabaseError as exc:  # PostgreSQL's errors arrive as sqlite3's too
        outcome = "answered" if a.ok else (a.error_class or "failed")
        raise StoreError(
            f"could not record the attempt of {a.model_id} ({outcome}) in the store "
            f"{store.location}: {exc}",
            hint="attempts recorded before are kept; see `jarvis doctor`",
        ) from None


CALL_INSERT_COLUMNS = (
    "request_id, at, model_id, provider, kind, attempt, ok, error_class, status_code,"
    " latency_ms, ttft_ms, prompt_tokens, completion_tokens, cost_usd, tokens_estimated,"
    " reserved_usd, overrun_usd, error_message"
)
_CALL_PARAMS = "(" + ",".join(["?"] * 18) + ")"
# Rows per INSERT statement: 18 columns each stays under SQLite's oldest default
# limit of 999 bound parameters.
ROWS_PER_INSERT = 48


def insert_attempts(
    conn: Connection, items: Sequence[tuple[str, Attempt, Reservation | None]]
) -> None:
    """Insert attempts (request id, attempt, reservation to settle) inside the caller's
    write transaction, a few statements for many rows.

    A reservation given is deleted in the same transaction, so the attempt's actual
    cost replaces the reserved worst case without a moment in which both, or
    neither, count. Attempts carrying a calibration sample teach their model's
    calibration in the same transaction (selection/calibration.py).
    """
    for reservation in (settle for _, _, settle in items if settle is not None):
        delete_reservation(conn, reservation)
    for start in range(0, len(items), ROWS_PER_INSERT):
        chunk = items[start : start + ROWS_PER_INSERT]
        values = ",".join([_CALL_PARAMS] * len(chunk))
        params = [v for request_id, a, _ in chunk for v in _call_row(request_id, a)]
        conn.execute(f"INSERT INTO calls({CALL_INSERT_COLUMNS}) VALUES {values}", params)
    learn(
        conn,
        [(a.model_id, (a.sample, a.overshoot)) for _, a, _ in items if a.sample is not None],
    )


def _call_row(request_id: str, a: Attempt) -> tuple[Any, ...]:
    return (
        request_id,
        a.at,
        a.model_id,
        a.provider,
        a.kind,
        a.attempt,
        int(a.ok),
        a.error_class,
        a.status_code,
        a.latency_ms,
        a.ttft_ms,
        a.prompt_tokens,
        a.completion_tokens,
        a.cost_usd,
        int(a.tokens_estimated),
        a.reserved_usd,
        a.overrun_usd,
        a.error_message,
    )


def now() -> float:
    return time.time()
