"""Merging a provider's /models listing into the registry (`jarvis models sync`).

Listed models become (or stay) active, with catalog facts when the catalog knows
them and conservative inference otherwise; models this provider no longer lists
become `unavailable` — kept, not deleted. User overrides live in their own column
and are never touched here.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from jarvis_cli.core.providers.base import Capabilities, ModelInfo
from jarvis_cli.core.registry.model_registry import (
    FACT_COLUMNS,
    ModelRegistry,
    entry_facts,
    flag_value,
    infer_unknown,
)

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
        if name:
            listing.setdefault(name, info)
    names = list(listing)
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
            model_id = f"{provider}/{name}"
            if name not in existing:
                added += 1
                _insert_synced(conn, model_id, provider, name, entry, listing.get(name))
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
    conn: sqlite3.Connection,
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
        context = info.context_length if info is not None else None
        facts = (kind, *(flag_value(getattr(caps, n)) for n in Capabilities._fields), context)
        facts += (None, None, None)
    columns = ("id", "provider", "name", *FACT_COLUMNS)
    conn.execute(
        f"INSERT INTO models({', '.join(columns)}, status, source) "
        f"VALUES ({', '.join('?' * len(columns))}, 'active', 'sync')",
        (model_id, provider, name, *facts),
    )


def _update_synced(
    conn: sqlite3.Connection,
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
