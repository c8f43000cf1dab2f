"""ModelRegistry: the `models` table — what jarvis knows about every model it can pick.

Rows come from four sources (column `source`): `catalog` (the bundled catalog,
registered on first use so selection works offline before any sync), `sync`
(listed by the provider's /models; facts from the catalog when it knows the
model), `import` (`models import-prices`), `user` (created by `models set`).

User overrides (`models set`) live in the `overrides` JSON column and are applied
when a row is read, so catalog refreshes, syncs and imports may rewrite the
columns freely without ever losing what the user set.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from jarvis_cli.core.context import Context
from jarvis_cli.core.errors import UsageError
from jarvis_cli.core.providers.capabilities import Capabilities, RequestKind
from jarvis_cli.core.registry.catalog_stamp import (
    CATALOG_DIGEST_META,
    CATALOG_STAMP_META,
    catalog_registered,
    file_stamp,
)
from jarvis_cli.core.registry.records import ModelRecord, split_model_id
from jarvis_cli.core.registry.rows import CAP_COLUMNS, OVERRIDABLE, read_record, read_records
from jarvis_cli.core.store.connection import Connection, is_postgres

if TYPE_CHECKING:
    from jarvis_cli.core.registry.catalog import CatalogEntry
    from jarvis_cli.core.registry.model_table import ModelTable

KINDS: tuple[RequestKind, ...] = ("chat", "completion", "embedding")
CAPABILITY_ALIASES = {
    "embedding": "embeddings",
    "tools": "function_calling",
    "functions": "function_calling",
}
FACT_COLUMNS = (
    "type",
    *CAP_COLUMNS,
    "context_length",
    "max_output_tokens",
    "input_cost_per_mtok",
    "output_cost_per_mtok",
)
# Facts only the bundled catalog carries (models.dev): an import of a LiteLLM file
# leaves them as they are.
CATALOG_ONLY_COLUMNS = ("family", "release_date", "open_weights")
CATALOG_COLUMNS = (*FACT_COLUMNS, *CATALOG_ONLY_COLUMNS)


def normalize_capability(name: str) -> str:
    """A capability name as in Capabilities._fields (accepts embedding, tools, functions)."""
    name = CAPABILITY_ALIASES.get(name.strip().lower(), name.strip().lower())
    if name not in Capabilities._fields:
        raise UsageError(
            f"unknown capability {name!r}",
            hint=f"capabilities: {', '.join(Capabilities._fields)}",
        )
    return name


def infer_unknown(name: str) -> tuple[RequestKind | None, Capabilities]:
    """Conservative facts for a model the catalog does not know, from its name alone.

    Only two rules: a name containing "embed" is an embedding model, and a name
    with a "chat" word is a chat model. Everything else stays unknown (no
    context length is ever guessed).
    """
    lowered = name.lower()
    if "embed" in lowered:
        return "embedding", Capabilities(completion=False, chat=False, embeddings=True)
    words = lowered.replace("/", "-").replace("_", "-").replace(":", "-").replace(".", "-")
    if "chat" in words.split("-"):
        return "chat", Capabilities(chat=True, embeddings=False)
    return None, Capabilities()


def flag_value(value: bool | None) -> int | None:
    return None if value is None else int(value)


def entry_facts(entry: CatalogEntry) -> tuple[Any, ...]:
    caps = entry.capabilities()
    return (
        entry.type,
        *(flag_value(getattr(caps, n)) for n in Capabilities._fields),
        entry.context_length,
        entry.max_output_tokens,
        entry.input_cost_per_mtok,
        entry.output_cost_per_mtok,
    )


def catalog_facts(entry: CatalogEntry) -> tuple[Any, ...]:
    """`entry_facts` and the catalog-only facts, in CATALOG_COLUMNS order."""
    return (*entry_facts(entry), entry.family, entry.release_date, flag_value(entry.open_weights))


class ModelRegistry:
    """Read and write the `models` table of `ctx.store`."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # --- catalog ----------------------------------------------------------------

    def ensure_catalog(self) -> None:
        """Register the bundled catalog (source=catalog) if it changed; a cheap no-op otherwise."""
        store = self.ctx.store
        quick = file_stamp()
        if catalog_registered(store, quick):
            return
        from jarvis_cli.core.registry.catalog import bundled_catalog

        catalog = bundled_catalog()
        with store.write() as conn:
            # Another process may have done it while we waited for the write lock.
            if store.get_meta(CATALOG_DIGEST_META) != catalog.digest:
                self._upsert_catalog(conn, catalog.entries())
                store.set_meta(conn, CATALOG_DIGEST_META, catalog.digest)
            store.set_meta(conn, CATALOG_STAMP_META, f"{quick}:{catalog.digest}")

    def _upsert_catalog(self, conn: Connection, entries: list[CatalogEntry]) -> None:
        columns = ("id", "provider", "name", *CATALOG_COLUMNS)
        # Only rows whose facts come from the catalog are refreshed; imported and
        # user-created rows keep theirs (and overrides are applied on read anyway),
        # except the catalog-only facts (family, release date, ...), which no other
        # source has.
        conn.executemany(
            f"INSERT INTO models({', '.join(columns)}, status, source) "
            f"VALUES ({', '.join('?' * len(columns))}, 'active', 'catalog') "
            "ON CONFLICT(id) DO UPDATE SET "
            + ", ".join(
                f"{c} = CASE WHEN models.source IN ('catalog', 'sync') "
                f"THEN excluded.{c} ELSE models.{c} END"
                for c in FACT_COLUMNS
            )
            + ", "
            + ", ".join(f"{c} = excluded.{c}" for c in CATALOG_ONLY_COLUMNS),
            [(e.model_id, e.provider, e.name, *catalog_facts(e)) for e in entries],
        )
        # Catalog-only rows the new catalog no longer has, and nobody touched, go.
        # (The kept ids go as one JSON list, read back by each dialect's JSON function.)
        kept_ids = (
            "SELECT jsonb_array_elements_text(CAST(? AS jsonb))"
            if is_postgres(conn)
            else "SELECT value FROM json_each(?)"
        )
        conn.execute(
            "DELETE FROM models WHERE source = 'catalog' AND overrides IS NULL "
            f"AND synced_at IS NULL AND id NOT IN ({kept_ids})",
            (json.dumps([e.model_id for e in entries]),),
        )

    # --- reads ------------------------------------------------------------------

    def list_models(
        self,
        *,
        provider: str | None = None,
        kind: RequestKind | None = None,
        capability: str | None = None,
        include_unavailable: bool = False,
    ) -> list[ModelRecord]:
        """Models by provider and name; `kind`/`capability` keep only models known to have them."""
        self.ensure_catalog()
        records = read_records(self.ctx.store.conn, provider=provider)
        if not include_unavailable:
            records = [r for r in records if r.status == "active"]
        if kind is not None:
            records = [r for r in records if r.supports(kind) is True]
        if capability is not None:
            cap = normalize_capability(capability)
            records = [r for r in records if getattr(r.capabilities, cap) is True]
        return records

    def table(self) -> ModelTable:
        """Every model as a ModelTable (what selection scans), from the store's snapshot."""
        from jarvis_cli.core.registry.model_table import load_model_table

        self.ensure_catalog()
        return load_model_table(self.ctx.store.conn)

    def get(self, model_id: str) -> ModelRecord | None:
        """The model `provider/name`, or None."""
        self.ensure_catalog()
        return read_record(self.ctx.store.conn, model_id)

    def require(self, model_id: str) -> ModelRecord:
        """The model, or UsageError (exit 2) saying how to find one."""
        split_model_id(model_id)
        record = self.get(model_id)
        if record is None:
            raise UsageError(
                f"unknown model {model_id!r}",
                hint="see `jarvis models list`, or `jarvis models sync` to fetch provider models",
            )
        return record

    # --- writes -----------------------------------------------------------------

    def set_overrides(
        self,
        model_id: str,
        values: Mapping[str, Any],
        capabilities: Mapping[str, bool] | None = None,
    ) -> ModelRecord:
        """Record user-set facts for a model (creating it, source=user, if unknown)."""
        provider, name = split_model_id(model_id)
        from jarvis_cli.core.providers.presets import get_provider

        get_provider(self.ctx.config, provider)  # UsageError for an unknown provider
        for key in values:
            if key not in OVERRIDABLE:
                raise UsageError(f"cannot set {key!r} (settable: {', '.join(OVERRIDABLE)})")
        self.ensure_catalog()
        with self.ctx.store.write() as conn:
            row = conn.execute("SELECT overrides FROM models WHERE id = ?", (model_id,)).fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO models(id, provider, name, status, source) "
                    "VALUES (?, ?, ?, 'active', 'user')",
                    (model_id, provider, name),
                )
                current: dict[str, Any] = {}
            else:
                current = json.loads(row[0]) if row[0] else {}
            current.update(values)
            if capabilities:
                caps = dict(current.get("capabilities", {}))
                caps.update({normalize_capability(k): v for k, v in capabilities.items()})
                current["capabilities"] = caps
            conn.execute(
                "UPDATE models SET overrides = ? WHERE id = ?",
                (json.dumps(current, sort_keys=True), model_id),
            )
        record = self.get(model_id)
        assert record is not None
        return record

    def import_entries(self, entries: Iterable[CatalogEntry]) -> tuple[int, int]:
        """Write imported facts (source=import); returns (updated, added)."""
        self.ensure_catalog()
        updated = added = 0
        columns = ("id", "provider", "name", *FACT_COLUMNS)
        with self.ctx.store.write() as conn:
            for entry in entries:
                exists = conn.execute(
                    "SELECT 1 FROM models WHERE id = ?", (entry.model_id,)
                ).fetchone()
                if exists:
                    updated += 1
                    conn.execute(
                        f"UPDATE models SET {', '.join(f'{c} = ?' for c in FACT_COLUMNS)}, "
                        "source = 'import' WHERE id = ?",
                        (*entry_facts(entry), entry.model_id),
                    )
                else:
                    added += 1
                    conn.execute(
                        f"INSERT INTO models({', '.join(columns)}, status, source) "
                        f"VALUES ({', '.join('?' * len(columns))}, 'active', 'import')",
                        (entry.model_id, entry.provider, entry.name, *entry_facts(entry)),
                    )
        return updated, added


def overrides_of(ctx: Context, model_id: str) -> dict[str, Any]:
    """The user-set fields of a model (for `models show`)."""
    row = ctx.store.conn.execute(
        "SELECT overrides FROM models WHERE id = ?", (model_id,)
    ).fetchone()
    return dict(json.loads(row[0])) if row and row[0] else {}
