"""`jarvis chat`: an interactive session with history on one chosen model (plus fallbacks)."""

import sys
from typing import Annotated

import typer

from jarvis_cli.cli import attach as attach_files
from jarvis_cli.cli import render
from jarvis_cli.cli.attach import AttachOption
from jarvis_cli.cli.common import get_context
from jarvis_cli.cli.request_content import (
    CidOption,
    ContinueOption,
    NoLogOption,
    ParamOption,
    TemplateOption,
)
from jarvis_cli.cli.structured_options import SchemaOption, ToolChoiceOption, ToolsOption

HELP = (
    "commands: /model [ID] show or switch the model, /attach PATH|URL attach a file to "
    "your next message, /good /bad rate the last answer, /clear forget the history, /exit quit"
)


def chat(
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Model for the session (PROVIDER/NAME).")
    ] = None,
    strategy: Annotated[
        str | None, typer.Option(help="Selection strategy used to choose the model.")
    ] = None,
    system: Annotated[str | None, typer.Option("--system", "-s", help="System message.")] = None,
    continue_: ContinueOption = False,
    cid: CidOption = None,
    template: TemplateOption = None,
    param: ParamOption = None,
    no_log: NoLogOption = False,
    attach: AttachOption = None,
    max_tokens: Annotated[
        int | None, typer.Option("--max-tokens", min=1, help="Most tokens per answer.")
    ] = None,
    schema: SchemaOption = None,
    tools: ToolsOption = None,
    tool_choice: ToolChoiceOption = None,
) -> None:
    """Chat interactively; the model is chosen once (or given with --model).

    Type /model ID to switch, /attach PATH to send a file with your next message,
    /clear to start over, /exit or Ctrl-D to quit. -a files go with the first message.
    -c or --cid ID resume a logged conversation; -t NAME applies a template (its
    prompt, if any, wraps each message as $input). With --schema every answer is a
    JSON document; with --tools the calls are printed. Piped input is read one
    message a line (commands too), without prompts.
    """
    from jarvis_cli.cli import request_content as rc
    from jarvis_cli.cli import structured_options as so
    from jarvis_cli.core.errors import JarvisError, UsageError
    from jarvis_cli.core.providers.base import Message
    from jarvis_cli.core.runs.content_log import new_conversation_id
    from jarvis_cli.core.runs.model_ids import checked_model_id
    from jarvis_cli.core.runs.orchestrator import CompletionRequest, Orchestrator
    from jarvis_cli.core.runs.outcome_signals import answer_output
    from jarvis_cli.core.runs.plan import plan_models

    interactive = render.is_tty(sys.stdin)
    if attach_files.reads_stdin(attach):
        raise UsageError(
            "-a - reads stdin, which is chat's terminal (or its piped messages): attach a file"
        )
    structured = so.structured_fields(schema, tools, tool_choice, kind="chat")
    from jarvis_cli.core.runs.attachments import (
        Attachment,
        content_parts,
        load_attachment,
        required_capabilities,
    )

    pending = list(attach_files.load(attach))  # go with the next message
    sent: list[Attachment] = []  # carried by the history, so resent every turn
    ctx = get_context()
    settings = rc.load_settings(
        ctx,
        template,
        param,
        system=system,
        model=model,
        strategy=strategy,
        max_tokens=max_tokens,
        temperature=None,
    )
    if settings.template is not None and system is None and settings.template.system:
        system, _ = rc.fill_prompt(settings, "")  # the template's system, variables filled
    conversation = rc.open_conversation(ctx, continue_, cid)
    log = rc.logging_enabled(ctx, no_log)

    def orchestrator_event(text: str) -> None:
        render.message(f"jarvis: {text}")

    orchestrator = Orchestrator(ctx, on_event=orchestrator_event)
    history: list[Message] = []
    if conversation is not None:
        history = list(conversation.messages("", system)[:-1])
        render.message(
            f"jarvis: resuming conversation {conversation.id} "
            f"({len(conversation.history) // 2} turns)"
        )
    elif system:
        history = [Message("system", system)]
    conversation_id = conversation.id if conversation is not None else new_conversation_id()
    chain = plan_models(
        orchestrator.ctx,
        "chat",
        model=settings.model,
        fallbacks=(),
        no_fallback=False,
        prompt="\n".join(m.content for m in history),
        strategy=settings.strategy,
        capabilities=(*required_capabilities(pending), *so.capabilities(structured)),
        on_event=orchestrator_event,
    )
    current, fallbacks = chain[0], tuple(chain[1:])
    render.message(f"jarvis: chatting with {current}; {HELP}")
    parts: list[str] = []  # text shown during the current turn
    # request id, model, prompt and billed output tokens of the last answer
    last: tuple[str, str, str, int | None] | None = None
    failed: JarvisError | None = None  # the last turn that failed (piped input's exit code)

    def on_text(delta: str) -> None:
        parts.append(delta)
        sys.stdout.write(render.answer_text(delta))
        sys.stdout.flush()

    while True:
        try:
            line = input("you> " if interactive else "")
        except EOFError:
            if interactive:
                render.message("")
            if failed is not None and not interactive:
                raise typer.Exit(int(failed.exit_code)) from None  # a script sees it
            return
        text = line.strip()
        if not text:
            continue
        if text in ("/exit", "/quit"):
            return
        if text == "/help":
            render.message(HELP)
            continue
        if text == "/attach" or text.startswith("/attach "):
            source = text.removeprefix("/attach").strip()
            try:
                if not source or source == "-":
                    raise UsageError("usage: /attach PATH|URL (a file or an http(s) image URL)")
                pending.append(load_attachment(source))
            except UsageError as exc:
                render.message(f"error: {exc.message}")
                continue
            a = pending[-1]
            size = "" if a.size is None else f", {a.size:,} bytes"
            render.message(f"jarvis: attached {a.name} ({a.mime}{size}) to your next message")
            continue
        if text == "/clear":
            sent.clear()
            pending.clear()
            history = [m for m in history if m.role == "system"]
            conversation_id = new_conversation_id()
            render.message("jarvis: history cleared")
            continue
        if text in ("/good", "/bad"):
            if last is None:
                render.message("jarvis: nothing answered yet to rate")
                continue
            from jarvis_cli.core.runs.outcomes import RATINGS, record

            record(
                ctx.store,
                request_id=last[0],
                model_id=last[1],
                score=RATINGS[text[1:]],
                source="rate",
                prompt=last[2],
                keep_prompt=log,
                output_tokens=last[3],
            )
            render.message(f"jarvis: rated {last[1]}'s last answer {text[1:]}")
            continue
        if text == "/model" or text.startswith("/model "):
            wanted = text.removeprefix("/model").strip()
            if wanted:
                try:
                    wanted = checked_model_id(ctx, wanted, orchestrator_event)
                except JarvisError as exc:
                    hint = f"\nhint: {exc.hint}" if exc.hint else ""
                    render.message(f"error: {exc.message}{hint}")
                    continue
                current, fallbacks = wanted, ()
            render.message(f"jarvis: model is {current}")
            continue
        if settings.template is not None and settings.template.prompt is not None:
            try:
                _, text = rc.fill_prompt(settings, text)
            except UsageError as exc:
                render.message(f"error: {exc.message}")
                continue
        with_files = content_parts(text, pending) if pending else ()
        history.append(Message("user", text, with_files))
        request = CompletionRequest(
            messages=tuple(history),
            model=current,
            fallbacks=fallbacks,
            stream="schema" not in structured,  # a document is validated before it is shown
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
            attachments=(*sent, *pending),
            **structured,
        )
        parts.clear()
        try:
            outcome = orchestrator.complete(request, on_text=on_text)
        except JarvisError as exc:
            failed = exc
            if parts:
                sys.stdout.write("\n")
            render.message(f"error: {exc.message}")
            history.pop()  # the turn failed; do not send a question without its answer
            if pending:
                render.message("jarvis: attachments kept for your next message (/clear drops)")
            continue
        except KeyboardInterrupt:
            sys.stdout.write("\n")
            render.message("jarvis: interrupted; the unfinished answer was dropped")
            history.pop()
            continue
        if "schema" in structured:
            so.print_document(outcome, raw=False)
        elif outcome.text and not outcome.text.endswith("\n"):
            sys.stdout.write("\n")
        so.print_tool_calls(outcome, raw=False)
        sys.stdout.flush()
        if outcome.model_id != current:
            render.message(f"jarvis: answered by fallback {outcome.model_id}")
        history.append(Message("assistant", outcome.text))
        rc.after_request(
            ctx,
            outcome,
            log=log,
            conversation_id=conversation_id,
            kind="chat",
            system=history[0].content if history[0].role == "system" else None,
            prompt=text,
            attachments=pending,
        )
        last = (outcome.request_id, outcome.model_id, text, answer_output(outcome))
        sent.extend(pending)
        pending.clear()
