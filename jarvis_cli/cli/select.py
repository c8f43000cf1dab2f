"""`jarvis select`: which model jarvis would use for a request, and why."""

from enum import StrEnum
from typing import Annotated

import typer

from jarvis_cli.cli import render
from jarvis_cli.cli.common import (
    JsonOption,
    MinQualityOption,
    PreferOption,
    TaskOption,
    WideOption,
    get_context,
)

DEFAULT_MODEL_NOTE = (
    "[defaults] model {0} is in force: complete and chat use it when --model is not given "
    "(like --model: no other fallbacks unless --fallback auto); shown here as the "
    "preferred model (`jarvis config unset defaults.model` removes it)"
)
TOP_ROWS = 10  # candidates shown in the table (--json has them all)


class Kind(StrEnum):
    chat = "chat"
    completion = "completion"
    embedding = "embedding"


def select(
    prompt: Annotated[
        str | None,
        typer.Argument(
            help="The prompt: estimates input tokens (ceil(chars/4)) and the task; piped "
            "stdin is added to it.",
            show_default=False,
        ),
    ] = None,
    kind: Annotated[Kind, typer.Option("--type", help="Request type.")] = Kind.chat,
    strategy: Annotated[
        str | None,
        typer.Option(
            "--strategy",
            help="quality, balanced, cost, performance, reliability, or a "
            "\\[selection.weights.NAME] of config.toml (default: defaults.strategy).",
            show_default=False,
        ),
    ] = None,
    capability: Annotated[
        list[str] | None,
        typer.Option(
            "--capability",
            help="Required capability (repeatable): function_calling, vision, audio, ...",
            show_default=False,
        ),
    ] = None,
    provider: Annotated[
        str | None,
        typer.Option("--provider", help="Only this provider's models.", show_default=False),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="Preferred model (PROVIDER/NAME): used if it meets every constraint, "
            "otherwise the output says why not.",
            show_default=False,
        ),
    ] = None,
    include_all: Annotated[
        bool,
        typer.Option("--all", "-a", help="Include providers without a key, marked usable or not."),
    ] = False,
    input_tokens: Annotated[
        int | None,
        typer.Option(
            "--input-tokens",
            min=0,
            help="Input tokens (beats the prompt estimate).",
            show_default=False,
        ),
    ] = None,
    output_tokens: Annotated[
        int | None,
        typer.Option(
            "--output-tokens",
            min=0,
            help="Expected output tokens \\[default: each model's mean from outcomes, else "
            "500; 0 for embedding].",
            show_default=False,
        ),
    ] = None,
    max_cost: Annotated[
        float | None,
        typer.Option(
            "--max-cost",
            min=0,
            help="Exclude models whose estimated cost (USD) is higher, or whose price is unknown.",
            show_default=False,
        ),
    ] = None,
    max_latency: Annotated[
        float | None,
        typer.Option(
            "--max-latency",
            min=0,
            help="Exclude models whose expected latency (ms) for this request is higher: "
            "measured (time to first token + output tokens / tokens per second), else the "
            "model's size-class prior (`jarvis models probe` measures).",
            show_default=False,
        ),
    ] = None,
    task: TaskOption = None,
    min_quality: MinQualityOption = None,
    all_versions: Annotated[
        bool,
        typer.Option(
            "--all-versions",
            help="List dated snapshots and -latest aliases as candidates of their own.",
        ),
    ] = False,
    prefer: PreferOption = None,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            help="Also show the scoring formula and list the excluded models, grouped by "
            "reason (on failure too).",
        ),
    ] = False,
    no_stdin: Annotated[
        bool, typer.Option("--no-stdin", help="Never read stdin, even when it is a pipe.")
    ] = False,
    wide: WideOption = False,
    json_output: JsonOption = False,
) -> None:
    """Show the model jarvis would pick for a request, its fallbacks and the reasoning.

    Exits 6 when no model qualifies, listing the most common exclusion reasons.

    Examples:
      jarvis select "Refactor this function to be pure" --explain
      jarvis select "Summarize this report" --prefer 0.3 --all
      git diff | jarvis select "Review this diff" --json | jq -r .model_id
    """
    from jarvis_cli.cli.prompt_input import build_prompt
    from jarvis_cli.cli.select_json import result_json, shown_costs
    from jarvis_cli.core.selection.engine import SelectionEngine
    from jarvis_cli.core.selection.qualify import NoModelFound
    from jarvis_cli.core.selection.types import SelectionRequest

    text = build_prompt(prompt, no_stdin=no_stdin, required=False)
    ctx = get_context()
    default_model = None
    if model is None and ctx.config.defaults.model:
        default_model = model = ctx.config.defaults.model
    request = SelectionRequest(
        kind=kind.value,
        prompt=text,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        capabilities=tuple(capability or ()),
        preferred_model=model,
        preferred_provider=provider,
        strategy=strategy,
        max_cost_usd=max_cost,
        max_latency_ms=max_latency,
        include_unusable=include_all,
        task=task,
        min_quality=min_quality,
        all_versions=all_versions,
        prefer=prefer,
    )
    try:
        result = SelectionEngine(ctx).select(request)
    except NoModelFound as exc:
        if explain and not json_output:
            from jarvis_cli.cli.select_render import render_excluded

            render_excluded(exc.excluded, stderr=True)
        raise
    if default_model is not None:
        result = result._replace(notes=(*result.notes, DEFAULT_MODEL_NOTE.format(default_model)))
    if prefer is not None and strategy is not None:
        render.warn(f"--prefer {prefer:g} replaces the strategy: --strategy {strategy} is ignored")
    for note in result.notes:
        render.message(f"note: {note}")
    pref = result.preferred_model
    if pref is not None and not pref.used:
        fix = ""
        if pref.reason == "not in the registry":
            p = pref.model_id.partition("/")[0]
            fix = (
                f" (see `jarvis models list --provider {p}`; `jarvis models sync {p}` "
                "fetches new ones)"
            )
        render.warn(f"preferred model {pref.model_id} not used: {pref.reason}{fix}")
    shown = result.candidates if explain else result.candidates[:TOP_ROWS]
    costs = shown_costs(result, text, [c.model for c in shown], output_tokens)
    if json_output:
        render.emit_json(result_json(result, all_candidates=explain, costs=costs))
        return
    # The tables (select_render, tables) load for a human only: --json never needs them.
    from jarvis_cli.cli.select_render import render_human

    render_human(
        result,
        show_usable=include_all or bool(result.notes),
        explain=explain,
        wide=wide,
        costs=costs,
    )
