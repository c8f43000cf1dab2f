"""`jarvis models sync`: list every target provider's models and merge them into the registry.

Listing is network-bound and runs concurrently, one thread per provider; keys are
resolved and rows written in the calling thread (the vault and store are not
thread-safe). One failing provider does not stop the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from jarvis_cli.core.errors import JarvisError, NoKeyError
from jarvis_cli.core.providers.base import ModelInfo, ProviderAdapter
from jarvis_cli.core.providers.manager import ProviderManager

if TYPE_CHECKING:
    from jarvis_cli.core.registry.listing import ListingResult

SYNC_TIMEOUT_S = 20.0  # per provider; its connect timeout is 5 s (see openai_compat)
SYNC_WORKERS = 8

SyncEvent = Literal["start", "done", "failed"]
ProgressCallback = Callable[[str, SyncEvent], None]


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


def sync_models(
    manager: ProviderManager,
    names: Sequence[str] = (),
    *,
    on_progress: ProgressCallback | None = None,
) -> SyncReport:
    """List each target's models and merge them into the registry; one failing provider
    does not stop the others (see SyncReport.failed)."""
    from jarvis_cli.core.registry.catalog import bundled_catalog
    from jarvis_cli.core.registry.listing import apply_listing
    from jarvis_cli.core.registry.model_registry import ModelRegistry

    targets = manager.sync_targets(names)
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
            adapters[spec.name] = manager.adapter(spec.name, timeout_s=SYNC_TIMEOUT_S)
        except JarvisError as exc:
            outcomes[spec.name] = ProviderSync(
                spec.name, None, exc.message, int(exc.exit_code), exc.hint
            )
            progress(spec.name, "failed")

    registry = ModelRegistry(manager.ctx)
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
                outcomes[name] = ProviderSync(name, None, exc.message, int(exc.exit_code), exc.hint)
                progress(name, "failed")
                continue
            outcomes[name] = ProviderSync(name, apply_listing(registry, name, infos, catalog))
            progress(name, "done")
    return SyncReport([outcomes[s.name] for s in targets])
