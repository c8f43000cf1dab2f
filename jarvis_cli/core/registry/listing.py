"""Merging a provider's /models listing into the registry (`jarvis models sync`).

Listed models become (or stay) active, with catalog facts when the catalog knows
them under this provider; otherwise with the facts of the same model under another
provider, matched by name (registry/matching.py; never its price), plus what the
provider's /models said (context window, prices, input modalities); otherwise
conservative inference from the name. Models this provider no longer lists become
`unavailable` — kept, not deleted. User overrides live in their own column and are
never touched here.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from jarvis_cli.core.providers.base import Capabilities, ModelInfo
from jarvis_cli.core.redact import holds_registered_secret
from jarvis_cli.core.registry.matching import NameIndex
from jarvis_cli.core.registry.model_registry import (
    FACT_COLUMNS,
    ModelRegistry,
    entry_facts,
    flag_value,
    infer_unknown,
)
from jarvis_cli.core.store.connection import Connection

if TYPE_CHECKING:
    from jarvis_cli.core.registry.catalog import CatalogEntry


@dataclass(frozen=True)
class ListingResult:
    """What one provider's /models listing changed in the registry."""

    provider: str
    listed: int
    added: int
    reactivated: int
    unavailable: int


def apply_listing(
    registry: ModelRegistry,
    provider: str,
    infos: Iterable[ModelInfo],
    catalog: Mapping[str, CatalogEntry],
    *,
    now: float | None = None,
) -> ListingResult:
    """Merge a provider's /models listing: new models added, listed ones active, the rest
    of this provider's models marked unavailable (kept, not deleted)."""
    now = time.time() if now is None else now
    registry.ensure_catalog()  # so catalog models this provider no longer lists are marked too
    listing: dict[str, ModelInfo] = {}
    for info in infos:
        name = info.id.removeprefix("models/")  # Gemini lists "models/<id>"
        # A listing that echoes the key it was asked with (a hostile or broken endpoint)
        # must not put that key in the store, `models list` and every table: skipped.
        if name and not holds_registered_secret(name):
            listing.setdefault(name, info)
    names = list(listing)
    index = NameIndex(catalog)
    added = reactivated = 0
    with registry.ctx.store.write() as conn:
        existing = {
            str(r[0]): (str(r[1]), str(r[2]))
            for r in conn.execute(
                "SELECT name, status, source FROM models WHERE provider = ?", (provider,)
            )
        }
        for name in names:
            entry = _catalog_lookup(catalog, provider, name)
            info = listing[name]
            if entry is None:
                entry = _matched_entry(catalog, index, provider, name, info)
            model_id = f"{provider}/{name}"
            if name not in existing:
                added += 1
                _insert_synced(conn, model_id, provider, name, entry, info)
            else:
                status, source = existing[name]
                reactivated += status != "active"
                _update_synced(conn, model_id, source, entry, now)
            conn.execute(
                "UPDATE models SET status = 'active', synced_at = ? WHERE id = ?",
                (now, model_id),
            )
        gone = [n for n, (status, _) in existing.items() if n not in names]
        conn.executemany(
            "UPDATE models SET status = 'unavailable' WHERE id = ?",
            [(f"{provider}/{n}",) for n in gone],
        )
        unavailable = sum(1 for n in gone if existing[n][0] != "unavailable")
    return ListingResult(provider, len(names), added, reactivated, unavailable)


def _insert_synced(
    conn: Connection,
    model_id: str,
    provider: str,
    name: str,
    entry: CatalogEntry | None,
    info: ModelInfo | None,
) -> None:
    if entry is not None:
        facts = entry_facts(entry)
    else:
        kind, caps = infer_unknown(name)
        if info is not None:
            caps = _merge_caps(caps, info.capabilities)
        facts = (kind, *(flag_value(getattr(caps, n)) for n in Capabilities._fields))
        if info is None:
            facts += (None, None, None, None)
        else:
            facts += (
                info.context_length,
                info.max_output_tokens,
                info.input_cost_per_mtok,
                info.output_cost_per_mtok,
            )
    columns = ("id", "provider", "name", *FACT_COLUMNS)
    conn.execute(
        f"INSERT INTO models({', '.join(columns)}, status, source) "
        f"VALUES ({', '.join('?' * len(columns))}, 'active', 'sync')",
        (model_id, provider, name, *facts),
    )


def _update_synced(
    conn: Connection,
    model_id: str,
    source: str,
    entry: CatalogEntry | None,
    now: float,
) -> None:
    if source == "catalog":
        conn.execute("UPDATE models SET source = 'sync' WHERE id = ?", (model_id,))
    if entry is not None and source in ("catalog", "sync"):
        conn.execute(
            f"UPDATE models SET {', '.join(f'{c} = ?' for c in FACT_COLUMNS)} WHERE id = ?",
            (*entry_facts(entry), model_id),
        )


def _merge_caps(inferred: Capabilities, listed: Capabilities) -> Capabilities:
    """Capabilities from /models metadata where it says something, else the inferred ones."""
    return Capabilities._make(
        lst if lst is not None else inf for inf, lst in zip(inferred, listed, strict=True)
    )


def _matched_entry(
    catalog: Mapping[str, CatalogEntry],
    index: NameIndex,
    provider: str,
    name: str,
    info: ModelInfo,
) -> CatalogEntry | None:
    """The catalog entry of the same model under another provider (matching.py), as this
    provider's: its facts, but the prices (and context window, if any) /models gave."""
    found = index.find(provider, name)
    if found is None:
        return None
    entry = catalog[found]
    return replace(
        entry,
        provider=provider,
        name=name,
        context_length=info.context_length or entry.context_length,
        input_cost_per_mtok=info.input_cost_per_mtok,
        output_cost_per_mtok=info.output_cost_per_mtok,
    )


def matched_catalog_id(catalog: Mapping[str, CatalogEntry], provider: str, name: str) -> str | None:
    """For `models show`: the catalog id a synced model's facts came from, when it is not
    the model's own (None when the catalog knows it under its provider, or not at all)."""
    if _catalog_lookup(catalog, provider, name) is not None:
        return None
    return NameIndex(catalog).find(provider, name)


def _catalog_lookup(
    catalog: Mapping[str, CatalogEntry], provider: str, name: str
) -> CatalogEntry | None:
    """The catalog entry for a listed model; Ollama-style `name:tag` falls back to `name`."""
    entry = catalog.get(f"{provider}/{name}")
    if entry is None and ":" in name:
        base, _, tag = name.partition(":")
        if tag == "latest" or f"{provider}/{base}" in catalog:
            entry = catalog.get(f"{provider}/{base}")
    if entry is None:
        return None
    return replace(entry, provider=provider, name=name)
