"""ProviderManager: provider specs, and adapters built with their resolved keys.

Adapters are built lazily (the `openai` SDK loads on the first real call) and at
most once per manager; jarvis builds one manager per process. Keys come from a
`KeyResolver` the caller passes (the vault's KeyManager), so this package never
imports the vault that sits above it.

Which providers `sync` reaches when none are named: every provider that is
configured in config.toml or has a key (environment or vault), and that can be
used — it has a key, or needs none. Built-in local presets (ollama, vllm,
lmstudio) are therefore synced only once configured (`jarvis providers add
ollama --base-url ...` or a `[providers.ollama]` table): probing localhost ports
nobody set up would be slow and noisy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from jarvis_cli.core.context import Context
from jarvis_cli.core.errors import NoKeyError
from jarvis_cli.core.providers.base import ProviderAdapter
from jarvis_cli.core.providers.presets import ProviderSpec, all_providers, get_provider


class KeyValue(Protocol):
    @property
    def value(self) -> str: ...


class KeyResolver(Protocol):
    """Where keys come from (the vault's KeyManager): a value to call with, or only
    whether one exists and where (`env`, `vault`), without decrypting anything."""

    def resolve(self, spec: ProviderSpec, label: str = ...) -> KeyValue | None: ...

    def availability(self, spec: ProviderSpec) -> str | None: ...


def no_key_error(spec: ProviderSpec) -> NoKeyError:
    """NoKeyError naming where jarvis looked and how to add a key."""
    env = " or ".join(spec.key_env_vars())
    return NoKeyError(
        f"no key for provider {spec.name!r}",
        hint=f"run `jarvis keys add {spec.name}` or set {env}",
    )


class ProviderManager:
    """Specs and adapters for the providers of `ctx` (presets + config.toml)."""

    def __init__(self, ctx: Context, keys: KeyResolver) -> None:
        self.ctx = ctx
        self.keys = keys
        self._adapters: dict[str, ProviderAdapter] = {}

    def specs(self) -> dict[str, ProviderSpec]:
        """Every provider by name: presets merged with config.toml."""
        return all_providers(self.ctx.config)

    def spec(self, name: str) -> ProviderSpec:
        """The provider's spec; UsageError (exit 2) for an unknown provider."""
        return get_provider(self.ctx.config, name)

    def adapter(self, name: str, *, timeout_s: float | None = None) -> ProviderAdapter:
        """The adapter for `name` with its key (NoKeyError, exit 5, when one is needed and
        missing); built on first use, then reused."""
        cached = self._adapters.get(name)
        if cached is not None and timeout_s is None:
            return cached
        spec = self.spec(name)
        resolved = self.keys.resolve(spec)
        if resolved is None and spec.needs_key and spec.url_password is None:
            raise no_key_error(spec)
        from jarvis_cli.core.providers.openai_compat import OpenAICompatAdapter

        env = self.ctx.env if spec.send_openai_org else {}
        adapter = OpenAICompatAdapter(
            spec,
            resolved.value if resolved else None,
            timeout_s=timeout_s,
            organization=env.get("OPENAI_ORG_ID"),
            project=env.get("OPENAI_PROJECT_ID"),
            sealed_headers=self._sealed_headers(spec),
        )
        if timeout_s is None:
            self._adapters[name] = adapter
        return adapter

    def _sealed_headers(self, spec: ProviderSpec) -> dict[str, str]:
        """The values of the provider's sealed headers, from the vault (NoKeyError when
        one is missing: sending the request without it would only be refused)."""
        from jarvis_cli.core.providers.header_secrets import header_label, register_value

        out: dict[str, str] = {}
        for name in spec.secret_headers:
            found = self.keys.resolve(spec, header_label(name))
            if found is None:
                raise NoKeyError(
                    f"the sealed header {name} of provider {spec.name!r} is not in the vault",
                    hint=f"seal it again: `jarvis providers add {spec.name} --base-url URL "
                    f"--secret-header {name}`",
                )
            out[name] = found.value
            register_value(found.value)
        return out

    def usable(self, spec: ProviderSpec) -> bool:
        """Whether a call could be made: a key is available, or none is needed."""
        return (
            not spec.needs_key
            or spec.url_password is not None
            or self.keys.availability(spec) is not None
        )

    def sync_targets(self, names: Sequence[str] = ()) -> list[ProviderSpec]:
        """The providers `sync` reaches: those named, else the default rule (module doc)."""
        if names:
            return [self.spec(n) for n in dict.fromkeys(names)]
        configured = set(self.ctx.config.providers)
        return [
            spec
            for name, spec in sorted(self.specs().items())
            if (name in configured or self.keys.availability(spec) is not None)
            and self.usable(spec)
        ]
