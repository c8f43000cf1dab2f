"""The content log: what each request asked and what it answered, searchable.

One `log_requests` row per successful chat/completion request (system prompt, this
turn's user message with piped input, the answer, finish reason, the model that
answered), tied to its attempts in `calls` by request_id and to its conversation by
conversation_id. Prompts are the user's own data and are stored as given; answers
come from providers and pass through `redact` so that a provider echoing a key
from the vault or the environment never puts it in the log. `[log] content = false`
or `--no-log` skip this table; attempts (numbers only) are always recorded.
Reading it back (`jarvis log`) is runs/log_reads.py.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

from jarvis_cli.core.redact import redact

if TYPE_CHECKING:
    # Types only: recording a request's content imports none of these modules.
    from jarvis_cli.core.runs.attachments import Attachment
    from jarvis_cli.core.runs.requests import Outcome
    from jarvis_cli.core.store.connection import StoreHandle


def new_conversation_id() -> str:
    return uuid.uuid4().hex[:16]


def record_request(
    store: StoreHandle,
    outcome: Outcome,
    *,
    conversation_id: str,
    kind: str,
    system: str | None,
    prompt: str,
    at: float | None = None,
    attachments: Sequence[Attachment] = (),
) -> None:
    """Store what `outcome`'s request asked and answered (its own short transaction).

    Attachments are stored as facts (name, type, size, sha256), never their bytes.
    """
    with store.write() as conn:
        conn.execute(
            "INSERT INTO log_requests(request_id, conversation_id, at, kind, model_id,"
            " provider, system, prompt, answer, finish_reason) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                outcome.request_id,
                conversation_id,
                time.time() if at is None else at,
                kind,
                outcome.model_id,
                outcome.provider,
                system,
                prompt,
                redact(outcome.text),
                outcome.finish_reason,
            ),
        )
        conn.executemany(
            "INSERT INTO content_attachments(request_id, position, name, kind, mime, size,"
            " sha256) VALUES (?,?,?,?,?,?,?)",
            [
                (outcome.request_id, i, a.name, a.kind, a.mime, a.size, a.sha256)
                for i, a in enumerate(attachments)
            ],
        )


def record_failed_request(
    store: StoreHandle,
    request_id: str,
    *,
    conversation_id: str,
    kind: str,
    system: str | None,
    prompt: str,
) -> bool:
    """Keep the prompt of a request that failed after trying a model (finish_reason
    `error`, empty answer, the last model tried), so `log show` says what was asked.
    Nothing is stored when no attempt was made; returns whether a row was written."""
    with store.write() as conn:
        last = conn.execute(
            "SELECT model_id, provider FROM calls WHERE request_id = ? ORDER BY attempt DESC,"
            " id DESC LIMIT 1",
            (request_id,),
        ).fetchone()
        if last is None:
            return False
        conn.execute(
            "INSERT INTO log_requests(request_id, conversation_id, at, kind, model_id,"
            " provider, system, prompt, answer, finish_reason) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (request_id, conversation_id, time.time(), kind, last[0], last[1], system, prompt,
             "", "error"),
        )  # fmt: skip
    return True
