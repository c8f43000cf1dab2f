"""Planning a request: the ordered model ids to try.

`--model` first, then each `--fallback`. An explicit `--model` is honoured: it
answers or fails with its own error, and only the `--fallback` models it names
follow it. `--fallback auto` opts in to selection's choice and fallbacks after
them. Without `--model`, selection plans the whole chain (other providers first).
`--no-fallback` keeps one model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from jarvis_cli.core.errors import AuthError, NoSuitableModelError
from jarvis_cli.core.providers.capabilities import RequestKind
from jarvis_cli.core.providers.presets import attachment_limit
from jarvis_cli.core.registry.records import split_model_id
from jarvis_cli.core.runs.attachments import (
    attachment_tokens,
    check_models_accept,
    check_size_limits,
)
from jarvis_cli.core.runs.attachments import (
    required_capabilities as attachment_capabilities,
)
from jarvis_cli.core.runs.model_ids import resolve_ids
from jarvis_cli.core.runs.requests import CompletionRequest
from jarvis_cli.core.runs.structured_request import required_capabilities
from jarvis_cli.core.selection.cost import ExpectedOutput, estimate_tokens

AUTO_FALLBACK = "auto"  # `--fallback auto`: selection's models after the explicit ones

if TYPE_CHECKING:
    from jarvis_cli.core.context import Context
    from jarvis_cli.core.registry.model_registry import ModelRegistry
    from jarvis_cli.core.selection.types import SelectionResult


def plan_models(
    ctx: Context,
    kind: RequestKind,
    *,
    model: str | None,
    fallbacks: Sequence[str],
    no_fallback: bool,
    prompt: str,
    strategy: str | None = None,
    provider: str | None = None,
    capabilities: Sequence[str] = (),
    max_tokens: int | None = None,
    max_cost_usd: float | None = None,
    task: str | None = None,
    min_quality: float | None = None,
    input_tokens: int | None = None,
    on_event: Callable[[str], None] | None = None,
    learned: dict[str, ExpectedOutput] | None = None,
) -> list[str]:
    """The ordered model ids to try: --model, --fallback…, then selection's choice.

    With an explicit model (or explicit fallbacks) selection adds nothing unless
    `fallbacks` contains "auto"; --no-fallback keeps only the first model. A bare
    model name becomes the id of the one usable provider that has it (`on_event`
    says which). `learned` receives the expected output selection learned for the
    models it priced (selection/learned_output.py), for the turns' expected cost.
    """
    model, fallbacks = resolve_ids(ctx, model, fallbacks, on_event)
    auto = AUTO_FALLBACK in fallbacks
    chain: list[str] = []
    for model_id in (model, *(f for f in fallbacks if f != AUTO_FALLBACK)):
        if model_id:
            split_model_id(model_id)  # a usage error for a malformed id
            if model_id not in chain:
                chain.append(model_id)
    if chain and (no_fallback or not auto):
        return chain[:1] if no_fallback else chain
    selection = _select(
        ctx,
        kind,
        prompt=prompt,
        preferred_model=model,
        strategy=strategy,
        provider=provider,
        capabilities=capabilities,
        max_tokens=max_tokens,
        max_cost_usd=max_cost_usd,
        task=task,
        min_quality=min_quality,
        input_tokens=input_tokens,
        required=not chain,
    )
    if selection is not None:
        if learned is not None:
            learned.update(selection.learned_outputs)
        for model_id in (selection.model_id, *selection.fallbacks):
            if model_id not in chain:
                chain.append(model_id)
    return chain[:1] if no_fallback else chain


def plan_request(
    ctx: Context,
    registry: ModelRegistry,
    req: CompletionRequest,
    on_event: Callable[[str], None] | None = None,
    learned: dict[str, ExpectedOutput] | None = None,
) -> list[str]:
    """`plan_models` for a chat/completion request, with what its content implies.

    --schema / --tools and attachments add required capabilities, attachments add
    input tokens; before anything is sent, an explicit model that cannot take an
    attachment is exit 6, and models whose provider would refuse a file's size drop
    out (none left: exit 2).
    """
    extra = attachment_tokens(req.attachments)
    chain = plan_models(
        ctx,
        req.kind,
        model=req.model,
        fallbacks=req.fallbacks,
        no_fallback=req.no_fallback,
        prompt=req.prompt_text,
        strategy=req.strategy,
        provider=req.provider,
        capabilities=(*required_capabilities(req), *attachment_capabilities(req.attachments)),
        max_tokens=req.max_tokens,
        max_cost_usd=req.max_cost_usd,
        task=req.task,
        min_quality=req.min_quality,
        input_tokens=estimate_tokens(req.prompt_text) + extra if extra else None,
        on_event=on_event,
        learned=learned,
    )
    if req.attachments:
        check_models_accept(registry, chain, req.attachments)
        chain = check_size_limits(chain, req.attachments, attachment_limit)
    return chain


def _select(
    ctx: Context,
    kind: RequestKind,
    *,
    prompt: str,
    preferred_model: str | None,
    strategy: str | None,
    provider: str | None,
    capabilities: Sequence[str],
    max_tokens: int | None,
    max_cost_usd: float | None,
    task: str | None,
    min_quality: float | None,
    required: bool,
    input_tokens: int | None = None,
) -> SelectionResult | None:
    from jarvis_cli.core.selection.engine import SelectionEngine
    from jarvis_cli.core.selection.types import SelectionRequest

    if provider is not None and required:
        _require_key(ctx, provider)
    request = SelectionRequest(
        kind=kind,
        prompt=prompt,
        input_tokens=input_tokens,
        output_tokens=max_tokens,
        capabilities=tuple(capabilities),
        preferred_model=preferred_model,
        preferred_provider=provider,
        strategy=strategy,
        max_cost_usd=max_cost_usd,
        task=task,
        min_quality=min_quality,
    )
    try:
        result = SelectionEngine(ctx).select(request)
    except NoSuitableModelError:
        if required:
            raise
        return None
    if not result.usable:
        if required:
            raise AuthError(
                f"no provider has a key: the best model would be {result.model_id}",
                hint=first_key_hint(ctx, result.provider),
            )
        return None
    return result


def first_key_hint(ctx: Context, provider: str) -> str:
    """The next step when no provider can be called: sync a keyless provider that was
    added but has no models yet, else a key for the best one (or any)."""
    from jarvis_cli.core.providers.presets import all_providers
    from jarvis_cli.core.registry.model_registry import ModelRegistry

    specs, registry = all_providers(ctx.config), ModelRegistry(ctx)
    for name in sorted(ctx.config.providers):
        if not specs[name].needs_key and not registry.list_models(provider=name):
            return f"{name} has no models yet: jarvis models sync {name}"
    return (
        f"add a key: jarvis keys add {provider} (or another provider's: jarvis providers "
        "list), or a local server: jarvis providers add NAME --base-url URL"
    )


def _require_key(ctx: Context, provider: str) -> None:
    """--provider P where P has no key: say so first (it was the last of 973 exclusions)."""
    from jarvis_cli.core.providers.manager import ProviderManager, no_key_error
    from jarvis_cli.core.vault.keys import KeyManager

    manager = ProviderManager(ctx, KeyManager(ctx))
    spec = manager.specs().get(provider)
    if spec is not None and not manager.usable(spec):
        raise no_key_error(spec)
