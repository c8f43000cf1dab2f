"""ModelTable: the registry as columns, which is what selection scans.

Selection looks at every model in the registry at every request. Reading 10,000
rows from SQLite and building a ModelRecord for each costs more here than the whole
selection may (~90 ms against a 50 ms target; see benchmarks/select.py), so
selection works on columns instead:

- `ids`, sorted (position = rank in id order, the last tie-break of selection);
- `shape_of[i]`, an index into `shapes`: the few distinct combinations of provider,
  type, capabilities, status and source, so checks that depend only on those run
  once per shape instead of once per model;
- float columns (context length, max output tokens, prices, quality, synced_at)
  with NaN for unknown, so comparisons with an unknown value are simply false.

The table is persisted in the store (`snapshots`, one binary row) together with
the `models` data version it was built from; every insert, update or delete on
`models` bumps that version (triggers, migration 3), so a stale table is never used. A
selection then reads one blob and decodes it with `array.frombytes` instead of
reading 10,000 rows. The format is JSON (ids, shapes) plus native arrays; anything
that does not decode cleanly is rebuilt from the `models` table.

`record(i)` rebuilds the full ModelRecord of one model, overrides applied, for the
few candidates selection shows.
"""

# No `from __future__ import annotations`: typing.NamedTuple compiles each string
# annotation at import (a ForwardRef per field); the few forward references are quoted.

import json
import math
import struct
import sys
from array import array
from bisect import bisect_left
from collections.abc import Sequence
from typing import Any, NamedTuple

from jarvis_cli.core.providers.capabilities import Capabilities, RequestKind
from jarvis_cli.core.registry.records import ModelRecord
from jarvis_cli.core.registry.rows import read_records
from jarvis_cli.core.store.connection import Connection
from jarvis_cli.core.store.database import consistent_reads
from jarvis_cli.core.store.snapshots import current_snapshot, data_version, save_snapshot

NAN = math.nan
# The format version: a snapshot of another version (JMT1 had six capability flags
# and no family/release facts) is rebuilt from `models`, never misread.
_MAGIC = b"JMT2"
_HEADER_LEN = struct.Struct("<I")
# ModelRecord fields stored as float columns (NaN = None).
FLOAT_COLUMNS = (
    "context_length",
    "max_output_tokens",
    "input_cost_per_mtok",
    "output_cost_per_mtok",
    "quality",
    "synced_at",
)


# (family, release_date, open_weights) of one model; kept sparse (most synced models
# have none).
Facts = tuple[str | None, str | None, bool | None]
_NO_FACTS: Facts = (None, None, None)


class Shape(NamedTuple):
    """What many models share: everything of a ModelRecord but its id and numbers."""

    provider: str
    type: RequestKind | None
    capabilities: Capabilities
    status: str
    source: str

    def probe(self) -> ModelRecord:
        """A record with this shape (no id), for checks such as `supports(kind)`."""
        return ModelRecord("", self.provider, "", self.type, self.capabilities, status=self.status)


def _opt(value: float) -> float | None:
    return None if value != value else value


def _opt_int(value: float) -> int | None:
    return None if value != value else int(value)


class ModelTable:
    """Immutable columns of every model, sorted by id."""

    __slots__ = (
        "columns",
        "facts",
        "ids",
        "odd_names",
        "shape_of",
        "shapes",
        "synced_providers",
        "version",
    )

    def __init__(
        self,
        ids: list[str],
        shapes: list[Shape],
        shape_of: list[int],
        columns: dict[str, list[float]],
        odd_names: dict[int, str],
        synced_providers: frozenset[str],
        version: str | None = None,
        facts: dict[int, Facts] | None = None,
    ) -> None:
        self.ids = ids
        self.shapes = shapes
        self.shape_of = shape_of
        self.columns = columns  # FLOAT_COLUMNS name -> values (NaN = unknown)
        self.odd_names = odd_names  # position -> name, where name != id minus "provider/"
        self.synced_providers = synced_providers  # providers with a synced model
        # position -> (family, release_date, open_weights), only for models with any.
        self.facts: dict[int, Facts] = facts or {}
        # The `models` data version it was read at; None for a table made from records
        # in memory (metrics snapshots are only kept for versioned tables).
        self.version = version

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_records(
        cls, records: Sequence[ModelRecord], version: str | None = None
    ) -> "ModelTable":
        ordered = sorted(records, key=lambda r: r.id)
        shapes: list[Shape] = []
        index: dict[Shape, int] = {}
        shape_of: list[int] = []
        odd_names: dict[int, str] = {}
        facts: dict[int, Facts] = {}
        columns: dict[str, list[float]] = {name: [] for name in FLOAT_COLUMNS}
        for i, r in enumerate(ordered):
            shape = Shape(r.provider, r.type, r.capabilities, r.status, r.source)
            k = index.get(shape)
            if k is None:
                k = index[shape] = len(shapes)
                shapes.append(shape)
            shape_of.append(k)
            if r.id != f"{r.provider}/{r.name}":
                odd_names[i] = r.name
            if r.family is not None or r.release_date is not None or r.open_weights is not None:
                facts[i] = (r.family, r.release_date, r.open_weights)
            for name, values in columns.items():
                value = getattr(r, name)
                values.append(NAN if value is None else float(value))
        synced = frozenset(r.provider for r in ordered if r.synced_at is not None)
        ids = [r.id for r in ordered]
        return cls(ids, shapes, shape_of, columns, odd_names, synced, version, facts)

    # --- reading ----------------------------------------------------------------

    def provider(self, i: int) -> str:
        return self.shapes[self.shape_of[i]].provider

    def providers(self) -> set[str]:
        return {s.provider for s in self.shapes}

    def index(self, model_id: str) -> int | None:
        """The position of `model_id`, or None."""
        i = bisect_left(self.ids, model_id)
        return i if i < len(self.ids) and self.ids[i] == model_id else None

    def record(self, i: int) -> ModelRecord:
        """The full registry record of the model at position `i`."""
        s = self.shapes[self.shape_of[i]]
        model_id = self.ids[i]
        c = self.columns
        name = self.odd_names.get(i)
        if name is None:
            name = model_id[len(s.provider) + 1 :]
        family, release_date, open_weights = self.facts.get(i, _NO_FACTS)
        return ModelRecord(
            model_id,
            s.provider,
            name,
            s.type,
            s.capabilities,
            _opt_int(c["context_length"][i]),
            _opt_int(c["max_output_tokens"][i]),
            _opt(c["input_cost_per_mtok"][i]),
            _opt(c["output_cost_per_mtok"][i]),
            _opt(c["quality"][i]),
            s.status,
            s.source,
            _opt(c["synced_at"][i]),
            family,
            release_date,
            open_weights,
        )

    def family(self, i: int) -> str | None:
        """The models.dev family of the model at position `i` (None = unknown)."""
        return self.facts.get(i, _NO_FACTS)[0]

    # --- the stored form ----------------------------------------------------------

    def encode(self) -> bytes:
        header = json.dumps(
            {
                "byteorder": sys.byteorder,
                "ids": self.ids,
                "shapes": [
                    [s.provider, s.type, list(s.capabilities), s.status, s.source]
                    for s in self.shapes
                ],
                "odd_names": [[i, n] for i, n in sorted(self.odd_names.items())],
                "synced_providers": sorted(self.synced_providers),
                "facts": [[i, *f] for i, f in sorted(self.facts.items())],
            },
            separators=(",", ":"),
        ).encode()
        body = [array("I", self.shape_of).tobytes()]
        body += [array("d", self.columns[name]).tobytes() for name in FLOAT_COLUMNS]
        return b"".join([_MAGIC, _HEADER_LEN.pack(len(header)), header, *body])

    @classmethod
    def decode(cls, data: bytes, version: str | None = None) -> "ModelTable":
        """The table `encode` wrote; ValueError if `data` is not exactly that."""
        try:
            if data[:4] != _MAGIC:
                raise ValueError("not a model table")
            (size,) = _HEADER_LEN.unpack_from(data, 4)
            start = 4 + _HEADER_LEN.size
            header: dict[str, Any] = json.loads(data[start : start + size])
            if header["byteorder"] != sys.byteorder:
                raise ValueError("written on a machine of another byte order")
            ids: list[str] = header["ids"]
            n = len(ids)
            shapes = [
                Shape(p, t, Capabilities._make(caps), status, source)
                for p, t, caps, status, source in header["shapes"]
            ]
            pos = start + size
            shape_idx = array("I")
            end = pos + n * shape_idx.itemsize
            shape_idx.frombytes(data[pos:end])
            columns: dict[str, list[float]] = {}
            for name in FLOAT_COLUMNS:
                pos, end = end, end + n * 8
                column = array("d")
                column.frombytes(data[pos:end])
                columns[name] = column.tolist()
            shape_of = shape_idx.tolist()
            if end != len(data) or len(shape_of) != n or any(len(c) != n for c in columns.values()):
                raise ValueError("truncated or oversized model table")
            if shape_of and max(shape_of) >= len(shapes):
                raise ValueError("shape index out of range")
            odd_names = {int(i): str(name) for i, name in header["odd_names"]}
            synced = frozenset(header["synced_providers"])
            facts: dict[int, Facts] = {
                int(i): (family, release, weights)
                for i, family, release, weights in header["facts"]
            }
            if any(not 0 <= i < n for i in facts):
                raise ValueError("facts index out of range")
        except (KeyError, TypeError, struct.error, UnicodeDecodeError) as exc:
            raise ValueError(f"corrupt model table: {exc}") from None
        return cls(ids, shapes, shape_of, columns, odd_names, synced, version, facts)


SNAPSHOT = "model_table"


def load_model_table(conn: Connection) -> ModelTable:
    """The registry as a ModelTable: the stored snapshot when it is current, else rebuilt
    from `models` (and stored for the next selection)."""
    version, data = current_snapshot(conn, SNAPSHOT, "models")
    if data is not None:
        try:
            return ModelTable.decode(data, version)
        except ValueError:
            pass  # rebuilt below
    with consistent_reads(conn):
        version = data_version(conn, "models")
        table = ModelTable.from_records(read_records(conn), version)
    save_snapshot(conn, SNAPSHOT, version, table.encode())
    return table
