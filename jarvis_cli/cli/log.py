"""`jarvis log`: recent attempts with what they asked and answered; search, show, prune."""

from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, Any

import typer

from jarvis_cli.cli import render, tables
from jarvis_cli.cli.common import JsonOption, WideOption, get_context

if TYPE_CHECKING:
    from jarvis_cli.core.runs.log_reads import CallRow

app = typer.Typer(
    add_completion=False,
    name="log",
    help="The most recent attempts (one row per provider call, retries and fallbacks included).",
    invoke_without_command=True,
)

PREVIEW = 60  # characters of prompt and answer in the table


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v:,.0f}"


def _preview(text: str | None) -> str:
    if not text:
        return ""
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW else flat[: PREVIEW - 1] + "…"


def _attempt_json(row: "CallRow") -> dict[str, Any]:
    return {**asdict(row), "at": render.iso(row.at)}


@app.callback()
def log(
    ctx: typer.Context,
    n: Annotated[int, typer.Option("-n", "--limit", min=1, help="How many attempts.")] = 20,
    query: Annotated[
        str | None,
        typer.Option("--query", "-q", help="Only requests whose prompt or answer has these words."),
    ] = None,
    cid: Annotated[
        str | None, typer.Option("--cid", help="Only the requests of this conversation.")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Only attempts of this model.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only the last 90s, 30m, 12h, 7d, 2w, …")
    ] = None,
    wide: WideOption = False,
    json_output: JsonOption = False,
) -> None:
    """The most recent attempts (one row per provider call, retries and fallbacks included).

    Newest first, each with its request's prompt and answer when they were logged.
    `log show ID` prints one request in full; `log prune --older-than 90d` deletes old
    entries. -q searches prompts and answers (all words must occur).
    """
    if ctx.invoked_subcommand is not None:
        return
    import time

    from jarvis_cli.core.runs.log_reads import search_log

    since_at = None
    if since is not None:
        from jarvis_cli.core.runs.usage import parse_duration

        since_at = time.time() - parse_duration(since)
    conn = get_context().store.conn
    if cid is not None:
        from jarvis_cli.core.runs.id_prefix import expand_id

        cid = expand_id(conn, "conversation", cid)
    rows = search_log(
        conn,
        query=query,
        conversation_id=cid,
        model_id=model,
        since=since_at,
        limit=n,
    )
    if json_output:
        render.emit_json([_attempt_json(r) for r in rows])
        return
    if not rows:
        filtered = any(v is not None for v in (query, cid, model, since))
        render.message(
            "no matching calls"
            if filtered
            else 'no calls recorded yet: each `jarvis complete "…"` (or chat, embed, batch) '
            "adds its attempts here"
        )
        return
    from jarvis_cli.cli.tables import ID, NUM, TEXT, Column

    tables.table(
        [
            Column("at (UTC)"),
            Column("request", ID),
            Column("#", NUM, priority=5),
            Column("model", ID),
            Column("result"),
            Column("status", NUM, priority=6),
            Column("ms", NUM, priority=1),
            Column("ttft ms", NUM, priority=7),
            Column("cost $", NUM, priority=3),
            Column("prompt", TEXT, priority=2),
            Column("answer", TEXT, priority=4),
        ],
        [
            (
                render.stamp(r.at),
                r.request_id,
                r.attempt,
                r.model_id,
                "ok" if r.ok else (r.error_class or "error"),
                r.status_code or "",
                _ms(r.latency_ms),
                _ms(r.ttft_ms),
                _cost(r.ok, r.cost_usd),
                _preview(r.prompt),
                _preview(r.answer),
            )
            for r in rows
        ],
        wide=wide,
    )


def _cost(ok: bool, cost_usd: float | None) -> str:
    if cost_usd is None:
        return "unknown" if ok else ""
    return f"{cost_usd:.6f}"


@app.command("show")
def show(
    request_id: Annotated[str, typer.Argument(help="A request id, as `jarvis log` lists it.")],
    wide: WideOption = False,
    json_output: JsonOption = False,
) -> None:
    """One request in full: system prompt, prompt, answer and every attempt."""
    import sys

    from jarvis_cli.cli.tables import ID, NUM, Column
    from jarvis_cli.core.runs.log_reads import show_request

    detail = show_request(get_context().store.conn, request_id)
    if json_output:
        data = asdict(detail)
        data["at"] = render.iso(detail.at)
        data["attempts"] = [_attempt_json(a) for a in detail.attempts]
        render.emit_json(data)
        return
    tables.table(
        ["", ""],
        [
            ("request", detail.request_id),
            ("conversation", detail.conversation_id or "-"),
            ("at", render.iso(detail.at)),
            ("model", detail.model_id or "-"),
            ("finish", detail.finish_reason or "-"),
        ],
    )
    if detail.prompt is None:
        render.message("(its prompt and answer were not logged)")
    else:
        for title, text in (
            ("system", detail.system),
            ("prompt", detail.prompt),
            ("answer", detail.answer),
        ):
            if text is not None:
                sys.stdout.write(f"--- {title}\n{text.rstrip()}\n")
    if detail.attachments:
        tables.table(
            [
                Column("#", NUM),
                Column("name", ID),
                Column("type"),
                Column("bytes", NUM),
                Column("sha256", ID, priority=1),
            ],
            [
                (i + 1, a.name, a.mime, "-" if a.size is None else f"{a.size:,}", a.sha256 or "-")
                for i, a in enumerate(detail.attachments)
            ],
            title="attachments",
            wide=wide,
        )
    tables.table(
        [
            Column("#", NUM),
            Column("at (UTC)"),
            Column("model", ID),
            Column("result"),
            Column("status", NUM, priority=2),
            Column("ms", NUM, priority=1),
            Column("tokens in/out", NUM, priority=3),
            Column("cost $", NUM),
        ],
        [
            (
                a.attempt,
                render.stamp(a.at),
                a.model_id,
                "ok" if a.ok else (a.error_class or "error"),
                a.status_code or "",
                _ms(a.latency_ms),
                f"{a.prompt_tokens or 0}/{a.completion_tokens or 0}",
                _cost(a.ok, a.cost_usd),
            )
            for a in detail.attempts
        ],
        title="attempts",
        wide=wide,
    )
    _print_errors(detail.attempts)


def _print_errors(attempts: "list[CallRow]") -> None:
    """Each failed attempt's reason, whole (messages cut it short), made safe to show."""
    for a in attempts:
        if not a.ok and a.error_message:
            render.line(f"--- attempt {a.attempt} ({a.model_id}) failed: {a.error_message}")


@app.command("prune")
def prune(
    older_than: Annotated[
        str,
        typer.Option(
            "--older-than", help="Delete content and attempts older than this (e.g. 90d)."
        ),
    ],
    vacuum_file: Annotated[
        bool,
        typer.Option(
            "--vacuum",
            help="Then VACUUM the SQLite store so the file shrinks (rewrites the file; "
            "other jarvis processes wait meanwhile).",
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Delete logged content and attempts older than a duration; budgets stay right.

    Attempts inside a budget period still in force (today, this month) are kept.
    SQLite reuses the freed pages but the file keeps its size until --vacuum.
    """
    from jarvis_cli.core.runs.log_prune import prune_log, vacuum
    from jarvis_cli.core.runs.usage import parse_duration

    ctx = get_context()
    report = prune_log(ctx.store, ctx.config.budgets, older_than_s=parse_duration(older_than))
    sizes = vacuum(ctx.store) if vacuum_file else None
    if json_output:
        data: dict[str, Any] = {
            "cutoff": render.iso(report.cutoff),
            "attempts_kept_from": render.iso(report.attempts_kept_from),
            "requests_deleted": report.requests_deleted,
            "content_bytes": report.content_bytes,
            "attempts_deleted": report.attempts_deleted,
        }
        if vacuum_file:
            data["file_bytes_before"], data["file_bytes_after"] = sizes or (None, None)
        render.emit_json(data)
        return
    if vacuum_file:
        render.message(
            "vacuumed the store: "
            + (
                f"{sizes[0]:,} -> {sizes[1]:,} bytes"
                if sizes
                else "PostgreSQL's autovacuum reclaims the space of a team store; nothing to do"
            )
        )
    kept = ""
    if report.attempts_kept_from < report.cutoff:
        kept = f"; attempts since {render.iso(report.attempts_kept_from)} kept for budgets"
    render.message(
        f"pruned {report.requests_deleted} logged request(s) ({report.content_bytes:,} bytes "
        f"of text) and {report.attempts_deleted} attempt(s) older than "
        f"{render.iso(report.cutoff)}{kept}"
    )
