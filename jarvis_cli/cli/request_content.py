"""What `complete` and `chat` share for the content log: templates, conversations, logging.

A request's messages are built here from the prompt (argument + piped stdin), a
template (`-t NAME`, `-p KEY VALUE`) and a conversation to continue (`-c`, `--cid`);
after it succeeds, what was asked and answered is logged unless `--no-log` or
`[log] content = false` says not to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from jarvis_cli.core.context import Context
    from jarvis_cli.core.providers.base import Message
    from jarvis_cli.core.runs.attachments import Attachment
    from jarvis_cli.core.runs.conversations import Conversation
    from jarvis_cli.core.runs.requests import CompletionRequest, Outcome
    from jarvis_cli.core.store.templates import Template

ContinueOption = Annotated[
    bool, typer.Option("--continue", "-c", help="Continue the most recent conversation.")
]
CidOption = Annotated[
    str | None, typer.Option("--cid", help="Continue the conversation with this id.")
]
TemplateOption = Annotated[
    str | None, typer.Option("--template", "-t", help="Apply a saved template (command line wins).")
]


def _pair(value: Any) -> Any:
    return value  # click already split it into (KEY, VALUE): see PAIR_METAVAR


# build_command (cli/__init__.py) makes an option with PAIR_METAVAR take two values.
ParamOption = Annotated[
    list[Any] | None,
    typer.Option(
        "--param",
        "-p",
        metavar="KEY VALUE",
        parser=_pair,
        help="A template variable: -p KEY VALUE (repeatable).",
    ),
]
NoLogOption = Annotated[
    bool, typer.Option("--no-log", help="Do not store this prompt and answer in the log.")
]


@dataclass
class Settings:
    """Options after a template filled in what the command line left unset."""

    system: str | None = None
    model: str | None = None
    strategy: str | None = None
    task: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    template: Template | None = None
    params: dict[str, str] = field(default_factory=dict)
    model_is_default: bool = False  # `model` is [defaults] model of config.toml


def load_settings(
    ctx: Context,
    template_name: str | None,
    params: Sequence[Any] | None,
    **given: object,
) -> Settings:
    """The command-line options, with a template's values where an option was not given,
    then `[defaults] model` when neither names a model (treated exactly like --model)."""
    from jarvis_cli.core.errors import UsageError

    settings = Settings(**given)  # type: ignore[arg-type]
    settings.params = {str(k): str(v) for k, v in params or ()}
    if template_name is None:
        if settings.params:
            raise UsageError("-p/--param sets template variables: use it with -t TEMPLATE")
        return _default_model(ctx, settings)
    from jarvis_cli.core.store.templates import load_template

    template = load_template(ctx.paths.config_dir, template_name)
    settings.template = template
    for name in ("model", "strategy", "task", "max_tokens", "temperature"):
        if getattr(settings, name) is None:
            setattr(settings, name, getattr(template, name))
    return _default_model(ctx, settings)


def _default_model(ctx: Context, settings: Settings) -> Settings:
    default = ctx.config.defaults.model
    if settings.model is None and default:
        settings.model = default
        settings.model_is_default = True
    return settings


def fill_prompt(settings: Settings, text: str | None) -> tuple[str | None, str]:
    """(system, prompt) of one turn: through the template if there is one."""
    from jarvis_cli.core.errors import UsageError

    if settings.template is None:
        if text is None:
            raise UsageError("no prompt: give one as an argument or pipe text to stdin")
        return settings.system, text
    from jarvis_cli.core.store.templates import apply_template

    system, prompt = apply_template(settings.template, text, settings.params)
    return (settings.system if settings.system is not None else system), prompt


def open_conversation(ctx: Context, continue_: bool, cid: str | None) -> Conversation | None:
    """The conversation -c or --cid asks for (None for a new one)."""
    if not continue_ and cid is None:
        return None
    from jarvis_cli.core.runs.conversations import load_conversation

    return load_conversation(ctx.store.conn, cid)


def logging_enabled(ctx: Context, no_log: bool) -> bool:
    return not no_log and ctx.config.log.content


def check_fits(
    ctx: Context,
    conversation: Conversation | None,
    messages: Sequence[Message],
    models: Sequence[str],
    max_tokens: int | None,
) -> None:
    """With history and explicit models, refuse early (exit 6) when none can hold it.

    (Without --model, selection itself counts the history against each context.)
    """
    if conversation is None or not models:
        return
    from jarvis_cli.core.registry.model_registry import ModelRegistry
    from jarvis_cli.core.runs.conversations import check_history_fits

    check_history_fits(ModelRegistry(ctx), models, messages, max_tokens=max_tokens)


def after_request(
    ctx: Context,
    outcome: Outcome,
    *,
    log: bool,
    conversation_id: str,
    kind: str,
    system: str | None,
    prompt: str,
    attachments: Sequence[Attachment] = (),
    schema: bool = False,
) -> None:
    """Log one answered request (when `log`), record its automatic outcome signals, then
    prune if `[log] retention_days` is due."""
    from jarvis_cli.core.runs.content_log import record_request
    from jarvis_cli.core.runs.outcome_signals import record_signals

    if log:
        record_request(
            ctx.store,
            outcome,
            conversation_id=conversation_id,
            kind=kind,
            system=system,
            prompt=prompt,
            attachments=attachments,
        )
    record_signals(ctx.store, outcome, schema=schema, prompt=prompt, keep_prompt=log)
    if ctx.config.log.retention_days is not None:
        from jarvis_cli.core.runs.log_prune import maybe_auto_prune

        maybe_auto_prune(ctx.store, ctx.config.budgets, ctx.config.log.retention_days)


def after_failure(
    ctx: Context,
    request: CompletionRequest,
    conversation_id: str,
    *,
    system: str | None,
    prompt: str,
) -> None:
    """Log the prompt of a request that failed after trying a model; a store that cannot
    take it must not hide the request's own error."""
    import contextlib
    import sqlite3

    from jarvis_cli.core.errors import JarvisError
    from jarvis_cli.core.runs.content_log import record_failed_request

    if request.request_id is None:
        return
    with contextlib.suppress(JarvisError, sqlite3.DatabaseError):
        record_failed_request(
            ctx.store,
            request.request_id,
            conversation_id=conversation_id,
            kind=request.kind,
            system=system,
            prompt=prompt,
        )
