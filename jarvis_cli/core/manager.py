"""ProviderManager: provider specs, adapters with their resolved keys, and model sync.

Adapters are built lazily (the `openai` SDK loads on the first real call) and at
most once per manager; jarvis builds one manager per process.

Which providers `sync` reaches when none are named: every provider that is
configured in config.toml or has a key (environment or vault), and that can be
used — it has a key, or needs none. Built-in local presets (ollama, vllm,
lmstudio) are therefore synced only once configured (`jarvis providers add
ollama --base-url ...` or a `[providers.ollama]` table): probing localhost ports
nobody set up would be slow and noisy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from jarvis_cli.core.context import Context
from jarvis_cli.core.errors import JarvisError, NoKeyError
from jarvis_cli.core.providers.base import ModelInfo, ProviderAdapter
from jarvis_cli.core.providers.presets import ProviderSpec, all_providers, get_provider

if TYPE_CHECKING:
    from jarvis_cli.core.keys import KeyManager
    from jarvis_cli.core.listing import ListingResult

SYNC_TIMEOUT_S = 20.0  # per provider; its connect timeout is 5 s (see openai_compat)
SYNC_WORKERS = 8

SyncEvent = Literal["start", "done", "failed"]
ProgressCallback = Callable[[str, SyncEvent], None]


def no_key_error(spec: ProviderSpec) -> NoKeyError:
    """NoKeyError naming where jarvis looked and how to add a key."""
    env = " or ".join(spec.key_env_vars())
    return NoKeyError(
        f"no key for provider {spec.name!r}",
        hint=f"run `jarvis keys add {spec.name}` or set {env}",
    )


@dataclass(frozen=True)
class ProviderSync:
    """The outcome of syncing one provider: a listing result, or an error."""

    provider: str
    result: ListingResult | None = None
    error: str | None = None
    exit_code: int | None = None
    hint: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class SyncReport:
    providers: list[ProviderSync] = field(default_factory=list)

    @property
    def failed(self) -> list[ProviderSync]:
        return [p for p in self.providers if not p.ok]


class ProviderManager:
    """Specs and adapters for the providers of `ctx` (presets + config.toml)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._adapters: dict[str, ProviderAdapter] = {}
        self._keys: KeyManager | None = None

    @property
    def keys(self) -> KeyManager:
        if self._keys is None:
            from jarvis_cli.core.keys import KeyManager

            self._keys = KeyManager(self.ctx)
        return self._keys

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
        if resolved is None and spec.needs_key:
            raise no_key_error(spec)
        from jarvis_cli.core.providers.openai_compat import OpenAICompatAdapter

        adapter = OpenAICompatAdapter(
            spec, resolved.value if resolved else None, timeout_s=timeout_s
        )
        if timeout_s is None:
            self._adapters[name] = adapter
        return adapter

    def usable(self, spec: ProviderSpec) -> bool:
        """Whether a call could be made: a key is available, or none is needed."""
        return not spec.needs_key or self.keys.availability(spec) is not None

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

    def sync(
        self, names: Sequence[str] = (), *, on_progress: ProgressCallback | None = None
    ) -> SyncReport:
        """List each target's models and merge them into the registry; one failing provider
        does not stop the others (see SyncReport.failed)."""
        from jarvis_cli.core.catalog import bundled_catalog
        from jarvis_cli.core.listing import apply_listing
        from jarvis_cli.core.registry import ModelRegistry

        targets = self.sync_targets(names)
        if not targets:
            raise NoKeyError(
                "no provider to sync: none is configured with a key",
                hint="add a key with `jarvis keys add PROVIDER` or a provider with "
                "`jarvis providers add NAME --base-url URL`",
            )
        progress = on_progress or (lambda _name, _event: None)
        outcomes: dict[str, ProviderSync] = {}
        adapters: dict[str, ProviderAdapter] = {}
        # Keys are resolved here, in this thread: the vault and store are not thread-safe.
        for spec in targets:
            try:
                adapters[spec.name] = self.adapter(spec.name, timeout_s=SYNC_TIMEOUT_S)
            except JarvisError as exc:
                outcomes[spec.name] = ProviderSync(
                    spec.name, None, exc.message, int(exc.exit_code), exc.hint
                )
                progress(spec.name, "failed")

        registry = ModelRegistry(self.ctx)
        catalog = {e.model_id: e for e in bundled_catalog().entries()}
        # Listing is network-bound: fetch concurrently, write in this thread.
        with ThreadPoolExecutor(max_workers=min(SYNC_WORKERS, len(adapters) or 1)) as pool:
            futures = {}
            for name, adapter in adapters.items():
                progress(name, "start")
                futures[pool.submit(adapter.list_models)] = name
            for future in as_completed(futures):
                name = futures[future]
                try:
                    infos: list[ModelInfo] = future.result()
                except JarvisError as exc:
                    outcomes[name] = ProviderSync(
                        name, None, exc.message, int(exc.exit_code), exc.hint
                    )
                    progress(name, "failed")
                    continue
                outcomes[name] = ProviderSync(name, apply_listing(registry, name, infos, catalog))
                progress(name, "done")
        return SyncReport([outcomes[s.name] for s in targets])


def describe_providers(ctx: Context) -> list[dict[str, object]]:
    """For `jarvis doctor`: providers configured or with a key, and where the key comes from.

    Never creates the store: without one, only environment keys are seen.
    """
    from jarvis_cli.core.keys import KeyManager

    keys = KeyManager(ctx)
    has_store = ctx.paths.db_file.exists()
    out: list[dict[str, object]] = []
    for name, spec in sorted(all_providers(ctx.config).items()):
        source: str | None
        if has_store:
            try:
                source = keys.availability(spec)
            except JarvisError:
                source = None  # the store's own problem is reported by doctor already
        else:
            source = "env" if any(ctx.env.get(v, "").strip() for v in spec.key_env_vars()) else None
        if name not in ctx.config.providers and source is None:
            continue
        out.append(
            {
                "name": name,
                "base_url": spec.base_url,
                "needs_key": spec.needs_key,
                "key_source": source,
                "configured": name in ctx.config.providers,
            }
        )
    return out
