"""`jarvis outcomes`: import, list, export and delete what selection learns from."""

from pathlib import Path
from typing import Annotated

import typer

from jarvis_cli.cli import render, tables
from jarvis_cli.cli.common import JsonOption, WideOption, get_context

app = typer.Typer(
    add_completion=False,
    name="outcomes",
    help="Outcomes selection learns from: ratings, automatic signals and imported evaluations.",
    no_args_is_help=True,
)

ModelOption = Annotated[
    str | None, typer.Option("--model", "-m", help="Only this model.", show_default=False)
]
SourceOption = Annotated[
    str | None,
    typer.Option(
        "--source",
        help="Only this source: rate, import, schema, tools, truncated.",
        show_default=False,
    ),
]


@app.command("import")
def import_(
    file: Annotated[
        Path,
        typer.Argument(
            help='JSON Lines: {"prompt", "model", "score" (0..1), optional "task", "cost_usd", '
            '"output_tokens"}; - reads stdin.',
            show_default=False,
        ),
    ],
    json_output: JsonOption = False,
) -> None:
    """Import evaluation results: every line or, if any line is bad, none.

    A model not in the registry is imported anyway, with a warning (it may be synced
    later). Prompts are kept only while the content log is on ([log] content).
    "output_tokens" (the answer's billed output tokens) teaches selection each model's
    expected output; without it, a line with "cost_usd" gets an estimate from the
    model's prices: (cost_usd - ceil(len(prompt) / 4) x input price) / output price.
    """
    import sys

    from jarvis_cli.core.errors import UsageError
    from jarvis_cli.core.runs.outcomes import import_lines, parse_import

    if str(file) == "-":
        lines = sys.stdin.read().splitlines()
        name = "stdin"
    else:
        from jarvis_cli.core.store.files import refuse_device

        refuse_device(file, "outcomes import")
        try:
            lines = file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(
                f"cannot read {file}: {getattr(exc, 'strerror', None) or exc}"
            ) from None
        name = str(file)
    parsed = parse_import(lines, name)
    from jarvis_cli.core.registry.model_registry import ModelRegistry

    ctx = get_context()
    table = ModelRegistry(ctx).table()
    models = {ln.model_id for ln in parsed}
    known = {m for m in models if table.index(m) is not None}
    price_in = table.columns["input_cost_per_mtok"]
    price_out = table.columns["output_cost_per_mtok"]
    prices = {m: (price_in[i], price_out[i]) for m in known if (i := table.index(m)) is not None}
    unknown = sorted(models - known)
    for model in unknown[:5]:
        render.warn(f"{model} is not in the registry (imported anyway; sync or add it)")
    if len(unknown) > 5:
        render.warn(f"... and {len(unknown) - 5} more models not in the registry")
    import_lines(ctx.store, parsed, keep_prompt=ctx.config.log.content, prices=prices)
    if json_output:
        render.emit_json({"imported": len(parsed), "unknown_models": unknown})
    else:
        render.message(f"imported {len(parsed)} outcomes from {name}")


@app.command("list")
def list_(
    model: ModelOption = None,
    source: SourceOption = None,
    limit: Annotated[int, typer.Option("-n", "--limit", min=1, help="Most rows shown.")] = 20,
    wide: WideOption = False,
    json_output: JsonOption = False,
) -> None:
    """Outcomes, newest first (`jarvis select --explain` shows what they teach)."""
    from jarvis_cli.core.runs.outcomes import list_outcomes

    rows = list_outcomes(get_context().store.conn, model_id=model, source=source, limit=limit)
    if json_output:
        # `at` as every other --json and `outcomes export` give it (ISO 8601 UTC),
        # not the stored epoch seconds.
        render.emit_json([{**r.as_dict(), "at": render.iso(r.at)} for r in rows])
        return
    if not rows:
        render.message(
            "no outcomes yet: rate an answer with `jarvis rate good` (or bad, or 0..1), "
            "or import evaluations with `jarvis outcomes import FILE`"
            if model is None and source is None
            else "no outcomes match"
        )
        return
    from jarvis_cli.cli.tables import ID, NUM, TEXT, Column

    tables.table(
        [
            Column("id", NUM),
            Column("at", priority=2),
            Column("model", ID),
            Column("task", priority=1),
            Column("score", NUM),
            Column("source"),
            Column("out tok", NUM, priority=2),
            Column("request", priority=1),
            Column("note", TEXT, priority=3),
        ],
        [
            [
                r.id,
                render.iso(r.at),
                r.model_id,
                r.task,
                f"{r.score:g}",
                r.source,
                "-" if r.output_tokens is None else r.output_tokens,
                (r.request_id or "")[:12],
                r.note or "",
            ]
            for r in rows
        ],
        title="outcomes",
        wide=wide,
    )


@app.command("export")
def export(model: ModelOption = None, source: SourceOption = None) -> None:
    """Every outcome as JSON Lines on stdout, oldest first.

    The fields `outcomes import` reads (output_tokens included, so it round-trips),
    plus id, source, weight and request_id; prompt is null when it was not kept
    (content log off).
    """
    import json
    import sys

    from jarvis_cli.core.runs.outcomes import list_outcomes

    for r in reversed(
        list_outcomes(get_context().store.conn, model_id=model, source=source, limit=None)
    ):
        d = r.as_dict()
        d["at"] = render.iso(r.at)
        sys.stdout.write(json.dumps(d, ensure_ascii=False) + "\n")


@app.command("delete")
def delete(
    ids: Annotated[
        list[int] | None,
        typer.Argument(help="Outcome ids (from `outcomes list`).", show_default=False),
    ] = None,
    request: Annotated[
        str | None,
        typer.Option(
            "--request", help="The outcomes of this request (id or prefix).", show_default=False
        ),
    ] = None,
    model: ModelOption = None,
    source: SourceOption = None,
    all_: Annotated[bool, typer.Option("--all", help="Every outcome.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Delete outcomes (what selection learnt from them goes with them)."""
    from jarvis_cli.core.runs.outcomes import delete_outcomes

    n = delete_outcomes(
        get_context().store,
        ids=ids or (),
        request_id=request,
        model_id=model,
        source=source,
        everything=all_,
    )
    if json_output:
        render.emit_json({"deleted": n})
    else:
        render.message(f"deleted {n} outcome{'s' if n != 1 else ''}")
