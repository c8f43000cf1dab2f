"""`jarvis complete` and `jarvis embed`: one request, with selection, retries and fallback."""

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from jarvis_cli.cli import attach as attach_files
from jarvis_cli.cli import render
from jarvis_cli.cli.attach import AttachOption
from jarvis_cli.cli.common import JsonOption, MinQualityOption, TaskOption, get_context
from jarvis_cli.cli.prompt_input import build_prompt, read_piped_stdin
from jarvis_cli.cli.request_content import (
    CidOption,
    ContinueOption,
    NoLogOption,
    ParamOption,
    TemplateOption,
)
from jarvis_cli.cli.structured_options import SchemaOption, ToolChoiceOption, ToolsOption

if TYPE_CHECKING:
    from jarvis_cli.core.runs.orchestrator import Outcome

ModelOption = Annotated[
    str | None,
    typer.Option("--model", "-m", help="Use this model first (PROVIDER/NAME); else selection."),
]


def _event(message: str) -> None:
    render.message(f"jarvis: {message}")


def outcome_json(outcome: "Outcome", conversation_id: str | None = None) -> dict[str, Any]:
    """The documented --json shape of complete/embed (see README)."""
    from jarvis_cli.core.selection.cost import cost_json

    usage = outcome.usage
    data: dict[str, Any] = {
        "request_id": outcome.request_id,
        "conversation_id": conversation_id,
        "model_id": outcome.model_id,
        "provider": outcome.provider,
        "text": outcome.text,
        "usage": {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
        },
        "cost_usd": outcome.cost_usd,
        "latency_ms": round(outcome.latency_ms, 1),
        "ttft_ms": None if outcome.ttft_ms is None else round(outcome.ttft_ms, 1),
        "finish_reason": outcome.finish_reason,
        "attempts": [{**a.as_json(), "at": render.iso(a.at)} for a in outcome.attempts],
        **cost_json(outcome.cost),  # issue 23: expected cost and the bound
    }
    if outcome.embeddings is not None:
        del data["text"], data["finish_reason"], data["ttft_ms"], data["conversation_id"]
        data["embeddings"] = outcome.embeddings
        data["dimensions"] = len(outcome.embeddings[0]) if outcome.embeddings else 0
    return data


def _summary(outcome: "Outcome") -> str:
    cost = "price unknown" if outcome.cost_usd is None else f"${outcome.cost_usd:.6f}"
    tries = len(outcome.attempts)
    extra = f", after {tries - 1} failed attempt(s)" if tries > 1 else ""
    return f"answered by {outcome.model_id} in {outcome.latency_ms:,.0f} ms, {cost}{extra}"


def complete(
    prompt: Annotated[
        str | None, typer.Argument(help="The prompt; piped stdin is prepended to it.")
    ] = None,
    system: Annotated[str | None, typer.Option("--system", "-s", help="System message.")] = None,
    model: ModelOption = None,
    fallback: Annotated[
        list[str] | None,
        typer.Option(
            "--fallback",
            help="Try these models next, in order (repeatable). An explicit --model gets no "
            "other fallbacks; `--fallback auto` adds selection's models after these.",
        ),
    ] = None,
    strategy: Annotated[
        str | None,
        typer.Option(
            help="Selection strategy: quality, balanced, cost, performance, reliability, …"
        ),
    ] = None,
    task: TaskOption = None,
    min_quality: MinQualityOption = None,
    provider: Annotated[
        str | None, typer.Option(help="Only select models of this provider.")
    ] = None,
    capability: Annotated[
        list[str] | None,
        typer.Option("--capability", help="Required capability, e.g. vision (repeatable)."),
    ] = None,
    kind: Annotated[
        str,
        typer.Option("--type", help="chat (default) or completion (the legacy endpoint)."),
    ] = "chat",
    max_tokens: Annotated[int | None, typer.Option(min=1, help="Most tokens to generate.")] = None,
    temperature: Annotated[
        float | None, typer.Option(min=0.0, max=2.0, help="Sampling temperature.")
    ] = None,
    stream: Annotated[
        bool | None,
        typer.Option(
            "--stream/--no-stream",
            help="Print text as it arrives (default: on a terminal). --no-stream waits for "
            "the whole answer, so a late failure can still fall back.",
        ),
    ] = None,
    no_fallback: Annotated[
        bool, typer.Option("--no-fallback", help="Try only the first model (retries still apply).")
    ] = False,
    max_cost: Annotated[
        float | None,
        typer.Option(
            "--max-cost",
            min=0.0,
            help="Most the request may cost (USD): a --model whose cost bound (the most "
            "the provider can bill for it) is higher is refused (exit 7); selection skips "
            "such models (exit 6 when none is left).",
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            min=0.1,
            help="Total seconds across all attempts, waits and streams, counted from when "
            "the request is ready to send.",
        ),
    ] = None,
    retries: Annotated[
        int | None, typer.Option("--retries", min=0, max=10, help="Retries per model.")
    ] = None,
    no_stdin: Annotated[
        bool, typer.Option("--no-stdin", help="Never read stdin (for runners with an open pipe).")
    ] = False,
    raw: Annotated[
        bool,
        typer.Option(
            "--raw",
            help="Write the answer to a terminal exactly as sent, escape sequences included "
            "(default: shown visibly, e.g. ESC as ␛). Pipes and files always get it exactly.",
        ),
    ] = False,
    continue_: ContinueOption = False,
    cid: CidOption = None,
    template: TemplateOption = None,
    param: ParamOption = None,
    no_log: NoLogOption = False,
    schema: SchemaOption = None,
    tools: ToolsOption = None,
    tool_choice: ToolChoiceOption = None,
    attach: AttachOption = None,
    json_output: JsonOption = False,
) -> None:
    """Complete a prompt with the best model your keys and budget allow.

    The answer goes to stdout; which model answered, fallbacks and cost go to stderr.

    Examples:
      jarvis complete "Explain CRDTs" --strategy cost --max-tokens 300
      git diff | jarvis complete "Write a commit message for this diff"
      jarvis complete "Explain CRDTs" -m openai/gpt-4o-mini --no-stream --json | jq -r .text
    """
    from jarvis_cli.core.errors import JarvisError, NoSuitableModelError, UsageError
    from jarvis_cli.core.providers.base import Message
    from jarvis_cli.core.runs.orchestrator import CompletionRequest, Orchestrator

    if kind not in ("chat", "completion"):
        raise UsageError(
            f"--type must be chat or completion, not {kind!r}", hint="embeddings: jarvis embed"
        )
    from jarvis_cli.cli import request_content as rc
    from jarvis_cli.cli import structured_options as so

    structured = so.structured_fields(schema, tools, tool_choice, kind=kind)
    ctx = get_context()
    settings = rc.load_settings(
        ctx,
        template,
        param,
        system=system,
        model=model,
        strategy=strategy,
        task=task,
        max_tokens=max_tokens,
        temperature=temperature,
    )
    chosen = settings.model or ""
    if settings.model_is_default and provider and chosen.partition("/")[0] != provider:
        settings.model = None  # --provider asks for another provider's models: select them
    required = settings.template is None
    attach_files.check_prompt_source(attach, prompt, no_stdin=no_stdin, required=required)
    if attach and kind == "completion":
        raise UsageError("-a/--attach works with chat only (--type completion takes text)")
    stdin_free = no_stdin or attach_files.reads_stdin(attach)
    text = build_prompt(prompt, no_stdin=stdin_free, required=required)
    attachments = attach_files.load(attach)
    system, text = rc.fill_prompt(settings, text)
    if kind == "completion" and system:
        raise UsageError("--system works with chat only (--type completion has no roles)")
    if stream and json_output:
        raise UsageError(
            "--stream cannot be combined with --json (the JSON document is written once the "
            "answer is complete)",
            hint="drop --stream; --json always waits for the whole answer",
        )
    if kind == "completion" and (continue_ or cid):
        raise UsageError("-c/--cid continue a chat: --type completion has no history")
    conversation = rc.open_conversation(ctx, continue_, cid)
    if conversation is not None:
        messages = list(conversation.messages(text, system))
        system = messages[0].content if messages[0].role == "system" else None
    else:
        messages = ([Message("system", system)] if system else []) + [Message("user", text)]
    if attachments:
        from jarvis_cli.core.runs.attachments import content_parts

        messages[-1] = messages[-1]._replace(parts=content_parts(text, attachments))
    explicit = [m for m in (settings.model, *(fallback or ())) if m]
    rc.check_fits(ctx, conversation, messages, explicit, settings.max_tokens)
    streaming = (
        not json_output
        and kind == "chat"
        and "schema" not in structured  # validated before it is printed
        and (render.is_tty(sys.stdout) if stream is None else stream)
    )
    from jarvis_cli.core.runs.attempts import new_request_id

    request = CompletionRequest(
        request_id=new_request_id(),
        messages=tuple(messages),
        kind="completion" if kind == "completion" else "chat",
        model=settings.model,
        fallbacks=tuple(fallback or ()),
        no_fallback=no_fallback,
        strategy=settings.strategy,
        provider=provider,
        capabilities=tuple(capability or ()),
        max_tokens=settings.max_tokens,
        temperature=settings.temperature,
        stream=streaming,
        max_cost_usd=max_cost,
        timeout_s=timeout,
        retries=retries,
        task=settings.task,
        min_quality=min_quality,
        **structured,
        attachments=attachments,
    )
    printed: list[str] = []

    def on_text(delta: str) -> None:
        printed.append(delta)
        sys.stdout.write(render.answer_text(delta, raw=raw))
        sys.stdout.flush()

    orchestrator = Orchestrator(ctx, on_event=_event)
    log = rc.logging_enabled(ctx, no_log)
    from jarvis_cli.core.runs.content_log import new_conversation_id

    conversation_id = conversation.id if conversation is not None else new_conversation_id()
    try:
        outcome = orchestrator.complete(request, on_text=on_text if streaming else None)
    except NoSuitableModelError as exc:
        if conversation is None:
            raise
        from jarvis_cli.core.runs.conversations import history_too_long

        raise history_too_long(messages, settings.max_tokens, exc) from None
    except JarvisError:
        if log:  # the prompt is kept: `jarvis log show` says what was asked
            rc.after_failure(ctx, request, conversation_id, system=system, prompt=text)
        raise
    finally:
        if printed and not printed[-1].endswith("\n"):
            sys.stdout.write("\n")
            sys.stdout.flush()
    # The answer first (its attempts are already recorded), then the content log.
    for warning in outcome.warnings:
        render.warn(warning)
    if json_output:
        data = outcome_json(outcome, conversation_id if log else None)
        so.add_json(data, outcome, structured)
        render.emit_json(data)
    else:
        if "schema" in structured:
            so.print_document(outcome, raw=raw)
        elif not streaming and (outcome.text or not outcome.tool_calls):
            shown = render.answer_text(outcome.text, raw=raw)
            sys.stdout.write(shown if shown.endswith("\n") else shown + "\n")
            sys.stdout.flush()
        so.print_tool_calls(outcome, raw=raw)
    rc.after_request(
        ctx,
        outcome,
        log=log,
        conversation_id=conversation_id,
        kind=request.kind,
        system=system,
        prompt=text,
        attachments=attachments,
        schema="schema" in structured,
    )
    if not json_output:
        if outcome.finish_reason == "length":
            limit = settings.max_tokens or ctx.config.defaults.max_tokens
            at = f"--max-tokens {limit}" if limit else "the model's output limit"
            _event(f"stopped at {at}: the answer above is cut short (raise --max-tokens for more)")
        _event(_summary(outcome))


def embed(
    texts: Annotated[
        list[str] | None,
        typer.Argument(help="Texts to embed, one vector each; or pipe one text to stdin."),
    ] = None,
    model: ModelOption = None,
    no_stdin: Annotated[bool, typer.Option("--no-stdin", help="Never read stdin.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Embed texts with the selected (or given) embedding model.

    Without --json, prints one JSON array per text, one per line.

    Examples: jarvis embed "first text" "second text" --json;  cat doc.txt | jarvis embed
    """
    import json

    from jarvis_cli.core.errors import UsageError
    from jarvis_cli.core.runs.orchestrator import Orchestrator

    inputs = list(texts or [])
    if not inputs and not no_stdin:
        piped = read_piped_stdin()
        if piped is not None:
            inputs = [piped.rstrip("\n")]
    if not inputs:
        raise UsageError("no text to embed: give texts as arguments or pipe one to stdin")
    outcome = Orchestrator(get_context(), on_event=_event).embed(inputs, model=model)
    for warning in outcome.warnings:
        render.warn(warning)
    if json_output:
        render.emit_json(outcome_json(outcome))
        return
    for vector in outcome.embeddings or []:
        sys.stdout.write(json.dumps(vector) + "\n")
    _event(_summary(outcome))
