"""`jarvis stats`: what was spent, how models performed (`jarvis log` is in log.py)."""

from dataclasses import asdict
from typing import Annotated

import typer

from jarvis_cli.cli import render, tables
from jarvis_cli.cli.common import JsonOption, WideOption, get_context


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v:,.0f}"


def stats(
    since: Annotated[
        str, typer.Option("--since", help="Window: a number and s, m, h, d or w (e.g. 7d).")
    ] = "7d",
    model: Annotated[
        str | None, typer.Option("--model", help="Only this model (PROVIDER/NAME).")
    ] = None,
    wide: WideOption = False,
    json_output: JsonOption = False,
) -> None:
    """Per-model calls, success rate, latency, tokens and spend, and budget status.

    Latency columns are p50/p95 of successful attempts; time to first token is p50
    of streamed ones. Spend is shown against the limits in config.toml's budgets table,
    and overruns (requests billed more than their budget reservation) per model.
    """
    from jarvis_cli.core.runs.usage import parse_duration, usage_report

    ctx = get_context()
    report = usage_report(
        ctx.store.conn, ctx.config.budgets, since_s=parse_duration(since), model_id=model
    )
    if json_output:
        render.emit_json(
            {
                "since": render.iso(report.since),
                "models": [
                    {**asdict(m), "success_rate": round(m.success_rate, 4)} for m in report.models
                ],
                "totals": {
                    "calls": report.total_calls,
                    "tokens": report.total_tokens,
                    "cost_usd": report.total_cost_usd,
                    "unpriced_calls": report.unpriced_calls,
                    "overruns": report.overruns,
                    "overrun_usd": report.overrun_usd,
                },
                "budgets": [
                    {**asdict(b), "remaining_usd": b.remaining_usd} for b in report.budgets
                ],
            }
        )
        return
    if not report.models:
        render.message(
            f'no calls since {render.iso(report.since)}: each `jarvis complete "…"` (or '
            "chat, embed, batch) records its calls; --since sets the window (e.g. 90d)"
        )
    else:
        from jarvis_cli.cli.tables import ID, NUM, Column

        tables.table(
            [
                Column("model", ID),
                Column("calls", NUM),
                Column("success", NUM),
                Column("p50 ms", NUM, priority=1),
                Column("p95 ms", NUM, priority=3),
                Column("p50 ttft ms", NUM, priority=4),
                Column("tokens", NUM, priority=2),
                Column("spend $", NUM),
            ],
            [
                (
                    m.model_id,
                    m.calls,
                    f"{m.success_rate:.0%}",
                    _ms(m.latency_p50_ms),
                    _ms(m.latency_p95_ms),
                    _ms(m.ttft_p50_ms),
                    _tokens(m.prompt_tokens + m.completion_tokens, m.estimated_token_calls),
                    _spend(m.cost_usd, m.unpriced_calls, m.successes),
                )
                for m in report.models
            ],
            title=f"usage since {render.iso(report.since)}",
            wide=wide,
        )
        ok_calls = sum(m.successes for m in report.models)
        render.message(
            f"total: {report.total_calls} calls, {report.total_tokens:,} tokens, "
            f"{_spend(report.total_cost_usd, report.unpriced_calls, ok_calls, '$')}"
        )
        excused = [m for m in report.models if m.not_model_faults]
        for m in excused:
            shown = ", ".join(f"{n} {name}" for name, n in m.outcomes.items())
            render.message(
                f"{m.model_id}: {shown}; {m.not_model_faults} not counted against the model "
                "by selection (Ctrl-C, keys, budgets, requests it rejected)"
            )
        if any(m.estimated_token_calls for m in report.models):
            render.message("~ token counts include jarvis's estimates (no usage reported)")
        for m in report.models:
            if m.overruns:
                render.message(
                    f"overruns: {m.model_id} billed ${m.overrun_usd:.4f} more than reserved "
                    f"in {m.overruns} request(s) (a provider ignoring max_tokens, or a "
                    "tokenizer outside the bound; see README Budgets)"
                )
    for b in report.budgets:
        render.message(
            f"budget {b.period} {b.scope}: ${b.spent_usd:.4f} of ${b.limit_usd:.4f} "
            + (f"+ ${b.reserved_usd:.4f} in flight " if b.reserved_usd else "")
            + f"(${b.remaining_usd:.4f} left)"
        )


def _spend(cost: float, unpriced: int, calls: int, unit: str = "") -> str:
    """Spend, never showing an unknown price as $0: "unknown" when no call was priced,
    "+ unknown" when some were not."""
    if unpriced and unpriced >= calls:
        return "unknown"
    shown = f"{unit}{cost:.6f}"  # 6 places, like `log`: a small model's calls cost < $0.0001
    return f"{shown} + unknown" if unpriced else shown


def _tokens(count: int, estimated_calls: int) -> str:
    return f"~{count:,}" if estimated_calls else f"{count:,}"
