"""The `models` table's rows as ModelRecords: the one SELECT and its decoding.

Shared by ModelRegistry and the ModelTable snapshot, so neither imports the other.
"""

from __future__ import annotations

import json
from typing import Any

from jarvis_cli.core.providers.capabilities import Capabilities
from jarvis_cli.core.registry.records import ModelRecord
from jarvis_cli.core.store.connection import Connection

CAP_COLUMNS = tuple(f"cap_{n}" for n in Capabilities._fields)
_SELECT = (
    "SELECT id, provider, name, type, "
    + ", ".join(CAP_COLUMNS)
    + ", context_length, max_output_tokens, input_cost_per_mtok, output_cost_per_mtok, "
    "quality, status, source, synced_at, family, release_date, open_weights, overrides FROM models"
)
# Fields `models set` may override, with the check each value must pass.
OVERRIDABLE = ("input_cost_per_mtok", "output_cost_per_mtok", "context_length", "quality", "type")


def read_records(conn: Connection, *, provider: str | None = None) -> list[ModelRecord]:
    """Every model (or one provider's) by provider and name, user overrides applied."""
    sql, args = _SELECT, []
    if provider is not None:
        sql += " WHERE provider = ?"
        args.append(provider)
    return [_record(r) for r in conn.execute(sql + " ORDER BY provider, name", args)]


def read_record(conn: Connection, model_id: str) -> ModelRecord | None:
    """One model by id, user overrides applied; None when there is no such row."""
    row = conn.execute(_SELECT + " WHERE id = ?", (model_id,)).fetchone()
    return None if row is None else _record(row)


_FLAG = {None: None, 0: False, 1: True}
# Rows share a handful of capability combinations: build each Capabilities once.
_capabilities_by_flags: dict[tuple[Any, ...], Capabilities] = {}
_N_CAPS = len(CAP_COLUMNS)


def _record(row: tuple[Any, ...]) -> ModelRecord:
    """A ModelRecord from a `_SELECT` row, user overrides applied.

    Built positionally (columns 0-3, capabilities, 4+N.., open_weights as a flag)
    because this runs for every
    model at every selection: 10,000 models must stay in the tens of milliseconds.
    """
    flags = row[4 : 4 + _N_CAPS]
    caps = _capabilities_by_flags.get(flags)
    if caps is None:
        caps = Capabilities._make(_FLAG.get(v, True) for v in flags)
        _capabilities_by_flags[flags] = caps
    record = ModelRecord._make((*row[:4], caps, *row[4 + _N_CAPS : -2], _FLAG.get(row[-2], True)))
    raw = row[-1]
    if not raw:
        return record
    overrides = json.loads(raw)
    cap_overrides = overrides.pop("capabilities", {})
    if cap_overrides:
        record = record._replace(capabilities=record.capabilities._replace(**cap_overrides))
    return record._replace(**{k: v for k, v in overrides.items() if k in OVERRIDABLE})
