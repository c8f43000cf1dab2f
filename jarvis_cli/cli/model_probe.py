"""`jarvis models probe`: measure time to first token and tokens per second."""

from typing import Annotated, Any

import typer

from jarvis_cli.cli import render, tables
from jarvis_cli.cli.common import JsonOption, WideOption, get_context


def _figure(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def probe(
    models: Annotated[
        list[str] | None,
        typer.Argument(
            help="Models to probe (PROVIDER/NAME). Default: the model `select --strategy "
            "performance` picks for a short prompt, and its fallbacks.",
            show_default=False,
        ),
    ] = None,
    max_cost: Annotated[
        float | None,
        typer.Option(
            "--max-cost",
            min=0,
            help="Refuse, before sending, a probe whose worst-case cost (USD) is higher "
            "or whose price is unknown.",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout", min=0.1, help="Seconds per probe (default: [defaults] timeout_s)."
        ),
    ] = None,
    wide: WideOption = False,
    json_output: JsonOption = False,
) -> None:
    """Measure models' speed with one tiny streamed request each (48 tokens at most).

    Each probe is recorded like any request (`jarvis stats`, `jarvis log`), so
    `select --strategy performance` and `--max-latency` rank on the measurement
    (time to first token + expected output tokens / tokens per second) instead of
    the size-class prior. Exits 0 when every probe answered, 10 when some did, and
    the failure's own code (7 for --max-cost) when none did.
    """
    from jarvis_cli.core.runs.probe import default_models, exit_code, probe_models

    ctx = get_context()
    chosen = list(models or ()) or default_models(ctx)
    results = probe_models(
        ctx,
        chosen,
        max_cost_usd=max_cost,
        timeout_s=timeout,
        on_event=None if json_output else render.message,
    )
    if json_output:
        render.emit_json({"models": [_result_json(r) for r in results]})
    else:
        from jarvis_cli.cli.tables import ID, NUM, Column

        tables.table(
            [
                Column("model", ID),
                Column("outcome"),
                Column("ttft ms", NUM),
                Column("tok/s", NUM),
                Column("total ms", NUM, priority=2),
                Column("tokens", NUM, priority=1),
                Column("cost", NUM, priority=3),
            ],
            [
                (
                    r.model_id,
                    "ok" if r.ok else ("refused" if not r.sent else "failed"),
                    _figure(r.ttft_ms, ",.0f"),
                    _figure(r.tokens_per_s, ",.0f"),
                    _figure(r.latency_ms, ",.0f"),
                    "-" if r.completion_tokens is None else r.completion_tokens,
                    "-" if r.cost_usd is None else f"${r.cost_usd:.6f}",
                )
                for r in results
            ],
            title="probe: one streamed request each",
            wide=wide,
        )
        hints = []
        for r in results:
            if r.error:
                render.message(f"{r.model_id}: {r.error}")
            if r.hint and r.hint not in hints:
                hints.append(r.hint)
        for hint in hints:
            render.message(f"hint: {hint}")
    code = exit_code(results)
    if code:
        raise typer.Exit(code)


def _result_json(r: Any) -> dict[str, Any]:
    return {
        "model_id": r.model_id,
        "ok": r.ok,
        "sent": r.sent,
        "ttft_ms": r.ttft_ms,
        "tokens_per_s": None if r.tokens_per_s is None else round(r.tokens_per_s, 2),
        "latency_ms": r.latency_ms,
        "completion_tokens": r.completion_tokens,
        "cost_usd": r.cost_usd,
        "error": r.error,
        "exit_code": r.exit_code,
    }
