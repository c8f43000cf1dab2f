"""Served requests in the content log, as `jarvis complete` writes it.

An answered chat or completion request gets one `log_requests` row (its system
messages, its last user message or prompt, the answer redacted, the model) under a
conversation id of its own: an OpenAI client resends the whole history with every
turn, so turns cannot be tied together. `[log] content = false` turns this off (the
attempts, numbers only, are always recorded), and `[log] retention_days` prunes as
it does for the CLI. Run on the worker thread that ran the request, on its store.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jarvis_cli.core.context import Context
    from jarvis_cli.core.runs.requests import CompletionRequest, Outcome


def turn_text(req: CompletionRequest) -> tuple[str | None, str]:
    """The system text (None without one) and the prompt `req` logs as."""
    if req.kind != "chat":
        return None, req.prompt_text
    system = "\n\n".join(m.content for m in req.messages if m.role == "system") or None
    users = [m.content for m in req.messages if m.role == "user"]
    return system, users[-1] if users else ""


def log_served(ctx: Context, req: CompletionRequest, outcome: Outcome) -> None:
    """Log one answered request when `[log] content` is on, then prune if due. A store
    error is said on stderr: the client still gets the answer it was billed for."""
    if not ctx.config.log.content:
        return
    from jarvis_cli.core.errors import StoreError
    from jarvis_cli.core.runs.content_log import new_conversation_id, record_request

    system, prompt = turn_text(req)
    try:
        record_request(
            ctx.store,
            outcome,
            conversation_id=new_conversation_id(),
            kind=req.kind,
            system=system,
            prompt=prompt,
        )
        if ctx.config.log.retention_days is not None:
            from jarvis_cli.core.runs.log_prune import maybe_auto_prune

            maybe_auto_prune(ctx.store, ctx.config.budgets, ctx.config.log.retention_days)
    except StoreError as exc:
        print(f"jarvis serve: content log not written: {exc}", file=sys.stderr, flush=True)
