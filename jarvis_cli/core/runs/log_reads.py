"""Reading what was recorded: attempts (`calls`) and the content log, for `jarvis log`
and the usage reports.

Kept apart from the writers (runs/attempts.py, runs/content_log.py): a request that
records its attempts and content builds none of these row classes (issue 28).
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from jarvis_cli.core.errors import StoreError, UsageError
from jarvis_cli.core.runs.id_prefix import expand_id
from jarvis_cli.core.store.connection import MAX_ROW_LIMIT, Connection, is_postgres


@dataclass(frozen=True)
class CallRow:
    """One recorded attempt, as `jarvis log` shows it."""

    id: int
    request_id: str
    at: float
    model_id: str
    provider: str
    kind: str
    attempt: int
    ok: bool
    error_class: str | None
    status_code: int | None
    latency_ms: float | None
    ttft_ms: float | None
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: float | None
    tokens_estimated: bool
    error_message: str | None


CALL_COLUMNS = tuple(f.name for f in fields(CallRow))


def call_row(values: tuple[Any, ...]) -> CallRow:
    """A CallRow from the `calls` columns in CALL_COLUMNS order (flags made booleans)."""
    row = dict(zip(CALL_COLUMNS, values, strict=True))
    row["ok"] = bool(row["ok"])
    row["tokens_estimated"] = bool(row["tokens_estimated"])
    return CallRow(**row)


@dataclass(frozen=True)
class LogRow(CallRow):
    """One attempt as `jarvis log` lists it, with its request's content when logged."""

    conversation_id: str | None = None
    prompt: str | None = None
    answer: str | None = None  # on the attempt that answered


_ROW_SQL = (
    "SELECT "
    + ", ".join(f"c.{name}" for name in CALL_COLUMNS)
    + ", l.conversation_id, l.prompt, CASE WHEN c.ok = 1 THEN l.answer END"
    " FROM calls c LEFT JOIN log_requests l ON l.request_id = c.request_id"
)


def fts_query(text: str) -> str:
    """User text as an FTS5 query: every word must occur (no FTS syntax to trip on)."""
    words = text.split()
    if not words:
        raise UsageError("-q needs some text to search for")
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


def require_fts(conn: Connection) -> None:
    """A store error (exit 3) when this store has no full-text index (no FTS5)."""
    if is_postgres(conn):
        return  # PostgreSQL's full-text search is always there
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'log_fts'"
    ).fetchone()
    if found is None:
        raise StoreError(
            f"full-text search needs SQLite's FTS5, which this SQLite "
            f"({sqlite3.sqlite_version}) did not have when the store was created",
            hint="use a Python whose sqlite3 has FTS5; --cid, -m and --since work without it",
        )


def search_log(
    conn: Connection,
    *,
    query: str | None = None,
    conversation_id: str | None = None,
    model_id: str | None = None,
    since: float | None = None,
    limit: int = 20,
) -> list[LogRow]:
    """Attempts, newest first, filtered by full-text match, conversation, model, time."""
    limit = min(limit, MAX_ROW_LIMIT)
    where: list[str] = []
    params: list[object] = []
    if query is not None:
        require_fts(conn)
        # The newest matching requests come from the index in id order, so a common
        # word over 100,000 requests costs `limit` rows, not every match. PostgreSQL:
        # the generated `search` tsvector (pg_schema.py), every word must occur.
        matching = (
            "SELECT id FROM log_requests WHERE search @@ plainto_tsquery('simple', ?)"
            " ORDER BY id DESC LIMIT ?"
            if is_postgres(conn)
            else "SELECT rowid FROM log_fts WHERE log_fts MATCH ? ORDER BY rowid DESC LIMIT ?"
        )
        where.append(
            f"c.request_id IN (SELECT r.request_id FROM log_requests r WHERE r.id IN ({matching}))"
        )
        words = query if is_postgres(conn) else fts_query(query)
        if not words.split():
            raise UsageError("-q needs some text to search for")
        params += [words, _request_window(limit, model_id, since)]
    if conversation_id is not None:
        where.append(
            "c.request_id IN (SELECT request_id FROM log_requests WHERE conversation_id = ?)"
        )
        params.append(conversation_id)
    if model_id is not None:
        where.append("c.model_id = ?")
        params.append(model_id)
    if since is not None:
        where.append("c.at >= ?")
        params.append(since)
    sql = _ROW_SQL + (" WHERE " + " AND ".join(where) if where else "")
    sql += " ORDER BY c.at DESC, c.id DESC LIMIT ?"
    params.append(limit)
    return [_row(r) for r in conn.execute(sql, params)]


def _request_window(limit: int, model_id: str | None, since: float | None) -> int:
    # With a model or time filter the newest matches may be filtered out; look further.
    return (
        limit if model_id is None and since is None else min(max(limit * 50, 10_000), MAX_ROW_LIMIT)
    )


def _row(r: tuple[object, ...]) -> LogRow:
    n = len(CALL_COLUMNS)
    conversation_id, prompt, answer = r[n:]
    return LogRow(
        **asdict(call_row(r[:n])),
        conversation_id=conversation_id,  # type: ignore[arg-type]
        prompt=prompt,  # type: ignore[arg-type]
        answer=answer,  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class RequestDetail:
    """One request in full: its content (None when it was not logged) and its attempts."""

    request_id: str
    conversation_id: str | None
    at: float | None
    kind: str | None
    model_id: str | None
    provider: str | None
    system: str | None
    prompt: str | None
    answer: str | None
    finish_reason: str | None
    attempts: list[CallRow]
    attachments: list[AttachmentRow] = field(default_factory=list)


@dataclass(frozen=True)
class AttachmentRow:
    """An attachment as the log keeps it: facts about the file, not the file."""

    name: str
    kind: str
    mime: str
    size: int | None
    sha256: str | None


def show_request(conn: Connection, request_id: str) -> RequestDetail:
    """The request `request_id` (or a unique prefix of it: content and attempts); a
    usage error if unknown."""
    request_id = expand_id(conn, "request", request_id)
    content = conn.execute(
        "SELECT conversation_id, at, kind, model_id, provider, system, prompt, answer,"
        " finish_reason FROM log_requests WHERE request_id = ?",
        (request_id,),
    ).fetchone()
    attempts = [
        r
        for r in search_log_attempts(conn, request_id)
        if r.request_id == request_id  # exact, never a prefix
    ]
    if content is None and not attempts:
        raise UsageError(
            f"no request {request_id!r} in the log",
            hint="request ids are in `jarvis log` (the request column) and in --json outputs",
        )
    if content is None:
        first = attempts[0]
        content = (None, first.at, first.kind, None, None, None, None, None, None)
    cid, at, kind, model_id, provider, system, prompt, answer, finish = content
    attached = [
        AttachmentRow(*r)
        for r in conn.execute(
            "SELECT name, kind, mime, size, sha256 FROM content_attachments"
            " WHERE request_id = ? ORDER BY position",
            (request_id,),
        )
    ]
    return RequestDetail(
        request_id,
        cid,
        at,
        kind,
        model_id,
        provider,
        system,
        prompt,
        answer,
        finish,
        attempts,
        attached,
    )


def search_log_attempts(conn: Connection, request_id: str) -> list[CallRow]:
    """Every attempt of one request, in order."""
    cursor = conn.execute(
        f"SELECT {', '.join(CALL_COLUMNS)} FROM calls WHERE request_id = ? ORDER BY attempt, id",
        (request_id,),
    )
    return [call_row(r) for r in cursor]
