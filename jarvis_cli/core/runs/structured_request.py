"""What --schema and --tools add to a request: capabilities, request options, the check.

Selection filters on them like on `--capability`; explicitly named models (--model,
--fallback) are not selected, so they are checked here: one known to lack the
capability is refused (exit 6, naming models that have it), one of unknown support
is tried, with a note saying so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from jarvis_cli.core.errors import NoSuitableModelError
from jarvis_cli.core.providers.base import RequestOptions
from jarvis_cli.core.runs.requests import CompletionRequest

if TYPE_CHECKING:
    from jarvis_cli.core.providers.manager import ProviderManager
    from jarvis_cli.core.registry.model_registry import ModelRegistry

SHOWN = 5  # models named in the refusal


def required_capabilities(req: CompletionRequest) -> tuple[str, ...]:
    """`req.capabilities` plus structured_output (schema) and function_calling (tools)."""
    caps = list(req.capabilities)
    if req.schema is not None:
        caps.append("structured_output")
    if req.tools:
        caps.append("function_calling")
    return tuple(dict.fromkeys(caps))


def check_explicit_models(
    registry: ModelRegistry,
    providers: ProviderManager,
    req: CompletionRequest,
    models: Sequence[str],
    on_event: Callable[[str], None],
) -> None:
    """Refuse an explicit model known not to support what --schema/--tools need (naming
    models that do, those of providers with a key first)."""
    needed = [c for c in required_capabilities(req) if c not in req.capabilities]
    for cap in needed:
        for model_id in models:
            record = registry.get(model_id)
            has = None if record is None else getattr(record.capabilities, cap)
            if has is False:
                records = [
                    r
                    for r in registry.list_models(capability=cap)
                    if r.supports("chat") is not False
                ]
                specs = providers.specs()
                with_key = {n for n, spec in specs.items() if providers.usable(spec)}
                able = [r.id for r in sorted(records, key=lambda r: r.provider not in with_key)]
                shown = ", ".join(able[:SHOWN]) + (", …" if len(able) > SHOWN else "")
                raise NoSuitableModelError(
                    f"{model_id} does not support {cap} (needed by "
                    f"{'--schema' if cap == 'structured_output' else '--tools'})",
                    hint=f"models that do: {shown}" if able else f"no known model has {cap}",
                )
            if has is None:
                on_event(f"{model_id}: {cap} support unknown; trying it anyway")


def attempt_options(
    req: CompletionRequest, opts: RequestOptions, *, strict_provider: bool
) -> RequestOptions:
    """`opts` plus response_format (strict when the provider and schema allow) and tools."""
    if req.schema is None and not req.tools:
        return opts
    response_format = None
    if req.schema is not None:
        from jarvis_cli.core.runs.structured import response_format as fmt
        from jarvis_cli.core.runs.structured import strict_compatible

        strict = strict_provider and strict_compatible(req.schema)
        response_format = fmt(req.schema, strict=strict)
    return opts._replace(
        response_format=response_format, tools=req.tools, tool_choice=req.tool_choice
    )


def checked_data(req: CompletionRequest, text: str, model_id: str) -> Any:
    """The parsed answer under --schema (None without); BadOutputError if it does not match."""
    if req.schema is None:
        return None
    from jarvis_cli.core.runs.structured import validate_answer

    return validate_answer(text, req.schema, model_id=model_id)
