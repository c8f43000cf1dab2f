"""`jarvis models sync`: list every target provider's models and merge them into the registry.

Listing is network-bound and runs concurrently, one thread per provider; keys are
resolved and rows written in the calling thread (the vault and store are not
thread-safe). One failing provider does not stop the others.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
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
    for name, listed in _listings(adapters, progress):
        if isinstance(listed, JarvisError):
            outcomes[name] = ProviderSync(
                name, None, listed.message, int(listed.exit_code), listed.hint
            )
            progress(name, "failed")
            continue
        outcomes[name] = ProviderSync(name, apply_listing(registry, name, listed, catalog))
        progress(name, "done")
    return SyncReport([outcomes[s.name] for s in targets])


def _listings(
    adapters: dict[str, ProviderAdapter], progress: ProgressCallback
) -> Iterator[tuple[str, list[ModelInfo] | JarvisError]]:
    """Each adapter's /models listing (or its error) as it arrives, at most SYNC_WORKERS
    at once, on daemon threads: a Ctrl-C ends the command at once, where a thread pool
    held the exit until every request in flight had timed out (up to SYNC_TIMEOUT_S)."""
    arrived: queue.Queue[tuple[str, list[ModelInfo] | BaseException]] = queue.Queue()
    slots = threading.Semaphore(SYNC_WORKERS)

    def fetch(name: str, adapter: ProviderAdapter) -> None:
        with slots:
            try:
                arrived.put((name, adapter.list_models()))
            except BaseException as exc:  # handed to the caller's thread
                arrived.put((name, exc))

    for name, adapter in adapters.items():
        progress(name, "start")
        threading.Thread(target=fetch, args=(name, adapter), daemon=True).start()
    for _ in adapters:
        name, listed = arrived.get()
        if isinstance(listed, BaseException) and not isinstance(listed, JarvisError):
            raise listed
        yield name, listed
