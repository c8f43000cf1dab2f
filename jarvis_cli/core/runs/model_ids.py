"""Forgiving model ids: a bare name resolves when it is safe, a close miss gets
"did you mean".

A bare name (`gpt-4o-mini`) becomes `provider/gpt-4o-mini` when exactly one provider
that can be called now (a key, or none needed) has a model of that name; several
are a usage error listing them (exit 2), none with a key is a missing-key error
naming `jarvis keys add` (exit 5). Nothing is guessed silently: the caller is told
which id was used. Suggestions come from the registry and are only computed when
something failed, so a request that works pays nothing for them.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from jarvis_cli.core.errors import JarvisError, ModelNotFoundError, NoKeyError, UsageError

if TYPE_CHECKING:
    from jarvis_cli.core.context import Context

CANDIDATES_SHOWN = 8
E = TypeVar("E", bound=JarvisError)


def resolve_ids(
    ctx: Context,
    model: str | None,
    fallbacks: Sequence[str],
    on_event: Callable[[str], None] | None = None,
) -> tuple[str | None, tuple[str, ...]]:
    """`model` and `fallbacks` with every bare name made a full id (see module doc)."""
    if (model is None or "/" in model) and all("/" in f or f == "auto" for f in fallbacks):
        return model, tuple(fallbacks)
    say = on_event or (lambda _msg: None)
    resolved = None if model is None else resolve_id(ctx, model, say)
    return resolved, tuple(f if f == "auto" else resolve_id(ctx, f, say) for f in fallbacks)


def resolve_id(ctx: Context, model_id: str, say: Callable[[str], None]) -> str:
    """One id: a full id as it is, a bare name as the one usable provider's model."""
    if "/" in model_id:
        return model_id
    from jarvis_cli.core.redact import has_key_prefix

    if not model_id or has_key_prefix(model_id):
        return model_id  # split_model_id refuses it with its own message
    providers = _providers_with(ctx, model_id)
    if not providers:
        close = suggestions(ctx, model_id)
        raise UsageError(
            f"unknown model {model_id!r}: no provider in the registry has a model of that "
            "name (a model id is PROVIDER/NAME)",
            hint=f"did you mean {' or '.join(close)}?"
            if close
            else "see `jarvis models list`, or `jarvis models sync` to fetch provider models",
        )
    usable = [p for p, ok in providers.items() if ok]
    if len(usable) == 1:
        chosen = f"{usable[0]}/{model_id}"
        say(f"{model_id}: using {chosen} (the one provider with a key that has it)")
        return chosen
    if not usable:
        names = sorted(providers)
        shown = ", ".join(f"{p}/{model_id}" for p in names[:CANDIDATES_SHOWN])
        raise NoKeyError(
            f"{model_id} is served by {shown}, and none of these providers has a key",
            hint=f"add a key: `jarvis keys add {names[0]}`, then use -m {names[0]}/{model_id}",
        )
    ids = [f"{p}/{model_id}" for p in sorted(usable)]
    raise UsageError(
        f"{model_id!r} is ambiguous: {len(ids)} providers with a key have it: "
        + ", ".join(ids[:CANDIDATES_SHOWN])
        + (", …" if len(ids) > CANDIDATES_SHOWN else ""),
        hint=f"name one, e.g. -m {ids[0]}",
    )


def _providers_with(ctx: Context, name: str) -> dict[str, bool]:
    """Provider -> usable now, for every active model called `name`."""
    from jarvis_cli.core.providers.manager import ProviderManager
    from jarvis_cli.core.registry.model_registry import ModelRegistry
    from jarvis_cli.core.vault.keys import KeyManager

    ModelRegistry(ctx).ensure_catalog()
    rows = ctx.store.conn.execute(
        "SELECT DISTINCT provider FROM models WHERE name = ? AND status = 'active'", (name,)
    ).fetchall()
    manager = ProviderManager(ctx, KeyManager(ctx))
    specs = manager.specs()
    return {p: manager.usable(specs[p]) for (p,) in rows if p in specs}


def suggestions(ctx: Context, model_id: str, limit: int = 3) -> list[str]:
    """Registry ids close to `model_id` (same provider first), for "did you mean"."""
    from jarvis_cli.core.registry.model_registry import ModelRegistry

    registry = ModelRegistry(ctx)
    provider, sep, _ = model_id.partition("/")
    if sep:
        # Only the provider's own models: another provider's would be a different model.
        ids = [r.id for r in registry.list_models(provider=provider)]
        return difflib.get_close_matches(model_id, ids, n=limit, cutoff=0.75)
    name_only = model_id
    records = registry.list_models()
    by_name: dict[str, list[str]] = {}
    for r in records:
        by_name.setdefault(r.name, []).append(r.id)
    names = difflib.get_close_matches(name_only, list(by_name), n=limit, cutoff=0.75)
    return [i for n in names for i in by_name[n][:2]][:limit]


def note_suggestions(ctx: Context, model_id: str, exc: E) -> E:
    """`exc` (a model not found) with "did you mean …" when the registry has close ids."""
    if not isinstance(exc, ModelNotFoundError):
        return exc
    try:
        close = [c for c in suggestions(ctx, model_id) if c != model_id]
    except JarvisError:
        return exc  # a registry that cannot be read must not hide the provider's answer
    if close:
        exc.message = f"{exc.message} (did you mean {' or '.join(close)}?)"
        exc.args = (exc.message,)
    return exc


def checked_model_id(ctx: Context, model_id: str, say: Callable[[str], None]) -> str:
    """A model id to switch to (chat's /model): a bare name resolved, and a model the
    registry knows; otherwise UsageError with "did you mean" (nothing is sent)."""
    from jarvis_cli.core.providers.manager import ProviderManager
    from jarvis_cli.core.registry.model_registry import ModelRegistry
    from jarvis_cli.core.registry.records import split_model_id
    from jarvis_cli.core.vault.keys import KeyManager

    full = resolve_id(ctx, model_id, say)
    provider, _ = split_model_id(full)
    manager = ProviderManager(ctx, KeyManager(ctx))
    spec = manager.specs().get(provider)
    if spec is None:
        raise UsageError(
            f"unknown provider {provider!r} in {full!r}", hint="see `jarvis providers list`"
        )
    registry = ModelRegistry(ctx)
    if registry.get(full) is None:
        if not registry.list_models(provider=provider):
            # Nothing of this provider is known (never synced): the id cannot be checked.
            say(f"{full} is not in the registry (`jarvis models sync {provider}` lists it)")
            return full
        close = suggestions(ctx, full)
        raise UsageError(
            f"unknown model {full!r}",
            hint=f"did you mean {' or '.join(close)}?"
            if close
            else f"see `jarvis models list --provider {provider}`, or `jarvis models sync "
            f"{provider}` to fetch what it serves",
        )
    if not manager.usable(spec):
        say(f"{provider} has no key: add one with `jarvis keys add {provider}`")
    return full
