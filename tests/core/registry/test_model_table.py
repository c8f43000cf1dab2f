"""ModelTable and MetricColumns: the columnar registry and metrics selection scans,
their stored snapshots, and that a snapshot is never used once its source changed."""

from __future__ import annotations

import json
import math
import struct
import sys
import time

import pytest

from jarvis_cli.core.context import Context
from jarvis_cli.core.providers.base import Capabilities, ModelInfo
from jarvis_cli.core.registry.listing import apply_listing
from jarvis_cli.core.registry.model_registry import ModelRegistry
from jarvis_cli.core.registry.model_table import ModelTable, load_model_table
from jarvis_cli.core.registry.records import ModelRecord
from jarvis_cli.core.registry.rows import read_records
from jarvis_cli.core.selection.metrics import MetricColumns, ModelMetrics, PerformanceMonitor
from jarvis_cli.core.store.snapshots import data_version

RECORDS = [
    ModelRecord(
        "b/chat-1",
        "b",
        "chat-1",
        "chat",
        Capabilities(chat=True, completion=False, vision=None),
        128_000,
        16_384,
        0.15,
        0.6,
        0.8,
        "active",
        "sync",
        1_700_000_000.5,
    ),
    ModelRecord("a/unknown", "a", "unknown"),  # every optional field None
    ModelRecord(
        "openrouter/meta/llama",  # a name containing "/"
        "openrouter",
        "meta/llama",
        "chat",
        Capabilities(chat=True),
        8192,
        None,
        0.0,
        0.0,
        None,
        "unavailable",
        "catalog",
    ),
    ModelRecord("c/odd", "c", "not-the-id-suffix", "embedding", status="active"),
]


def test_records_round_trip_through_the_table_and_its_stored_form() -> None:
    table = ModelTable.from_records(RECORDS)
    assert table.ids == sorted(r.id for r in RECORDS)
    by_id = {r.id: r for r in RECORDS}
    assert [table.record(i) for i in range(len(table))] == [by_id[i] for i in table.ids]
    decoded = ModelTable.decode(table.encode(), "7")
    assert decoded.version == "7"
    assert [decoded.record(i) for i in range(len(decoded))] == [by_id[i] for i in table.ids]
    assert decoded.synced_providers == {"b"}
    assert decoded.providers() == {"a", "b", "c", "openrouter"}
    assert decoded.index("b/chat-1") == table.ids.index("b/chat-1")
    assert decoded.index("b/nope") is None
    # Integers stay integers, unknowns stay None (stored as NaN).
    chat = decoded.record(decoded.index("b/chat-1"))  # type: ignore[arg-type]
    assert isinstance(chat.context_length, int) and chat.quality == 0.8


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b"XXXX" + b[4:],  # not a model table
        lambda b: b[:-3],  # truncated column
        lambda b: b + b"\0" * 8,  # trailing bytes
        lambda b: b[:8] + b"!" + b[9:],  # broken header JSON
        lambda b: b[:6],  # header length cut
    ],
)
def test_a_damaged_stored_table_is_refused(damage: object) -> None:
    data = ModelTable.from_records(RECORDS).encode()
    with pytest.raises(ValueError):
        ModelTable.decode(damage(data))  # type: ignore[operator]


def test_a_table_written_with_another_byte_order_is_refused() -> None:
    data = ModelTable.from_records(RECORDS).encode()
    (size,) = struct.unpack_from("<I", data, 4)
    header = json.loads(data[8 : 8 + size])
    header["byteorder"] = "big" if sys.byteorder == "little" else "little"
    new_header = json.dumps(header).encode()
    foreign = data[:4] + struct.pack("<I", len(new_header)) + new_header + data[8 + size :]
    with pytest.raises(ValueError, match="byte order"):
        ModelTable.decode(foreign)


def test_table_follows_every_change_to_the_models_table() -> None:
    ctx = Context()
    registry = ModelRegistry(ctx)
    conn = ctx.store.conn

    def assert_current() -> ModelTable:
        table = registry.table()
        expected = sorted(read_records(conn), key=lambda r: r.id)
        assert [table.record(i) for i in range(len(table))] == expected
        # ...and what a fresh process reads from the stored snapshot is the same.
        again = load_model_table(Context().store.conn)
        assert again.ids == table.ids and again.version == table.version
        return table

    first = assert_current()
    apply_listing(registry, "groq", [ModelInfo("fake-chat", "fake-chat")], {})
    synced = assert_current()
    assert "groq/fake-chat" in synced.ids and "groq" in synced.synced_providers
    assert synced.version != first.version
    registry.set_overrides("groq/fake-chat", {"quality": 0.9, "input_cost_per_mtok": 2.5})
    overridden = assert_current()
    model = overridden.record(overridden.index("groq/fake-chat"))  # type: ignore[arg-type]
    assert (model.quality, model.input_cost_per_mtok) == (0.9, 2.5)
    with ctx.store.write() as w:
        w.execute("DELETE FROM models WHERE id = 'groq/fake-chat'")
    assert "groq/fake-chat" not in assert_current().ids


def test_a_corrupt_stored_table_is_rebuilt_and_rewritten() -> None:
    ctx = Context()
    table = ModelRegistry(ctx).table()
    with ctx.store.write() as w:
        w.execute("UPDATE snapshots SET data = x'00' WHERE name = 'model_table'")
    rebuilt = ModelRegistry(Context()).table()
    assert rebuilt.ids == table.ids
    data = ctx.store.conn.execute("SELECT data FROM snapshots WHERE name = 'model_table'")
    assert ModelTable.decode(data.fetchone()[0]).ids == table.ids


def test_models_data_version_moves_on_insert_update_and_delete() -> None:
    ctx = Context()
    conn = ctx.store.conn
    seen = [data_version(conn, "models")]
    for sql in (
        "INSERT INTO models(id, provider, name, source) VALUES ('x/y', 'x', 'y', 'user')",
        "UPDATE models SET quality = 0.5 WHERE id = 'x/y'",
        "DELETE FROM models WHERE id = 'x/y'",
    ):
        with ctx.store.write() as w:
            w.execute(sql)
        seen.append(data_version(conn, "models"))
    assert len(set(seen)) == 4


# --- metrics ---------------------------------------------------------------------


def _add_call(ctx: Context, model_id: str, latency: float, ok: bool = True) -> None:
    with ctx.store.write() as w:
        w.execute(
            "INSERT INTO calls(request_id, at, model_id, provider, kind, attempt, ok, "
            "latency_ms, ttft_ms) VALUES ('r', ?, ?, ?, 'chat', 1, ?, ?, ?)",
            (time.time(), model_id, model_id.split("/")[0], int(ok), latency, latency / 2),
        )


def test_metric_columns_match_the_aggregates_as_calls_arrive() -> None:
    ctx = Context()
    table = ModelRegistry(ctx).table()
    ids = table.ids[:3]
    monitor = PerformanceMonitor.for_context(ctx)
    for round_ in range(3):
        for k, model_id in enumerate(ids):
            _add_call(ctx, model_id, 100.0 * (k + 1) + round_, ok=k != 2 or round_ == 0)
        columns = monitor.columns(table)
        found = monitor.aggregates()
        for i, model_id in enumerate(table.ids):
            expected = found.get(model_id, ModelMetrics(model_id))
            assert columns.metrics(i, model_id) == expected
        # A fresh process reads the same columns from the stored snapshot.
        again = PerformanceMonitor.for_context(Context()).columns(table)
        assert again.encode() == columns.encode()
    assert columns.calls[table.index(ids[0])] == 3  # type: ignore[index]


def test_corrupt_stored_metric_columns_are_rebuilt() -> None:
    ctx = Context()
    table = ModelRegistry(ctx).table()
    _add_call(ctx, table.ids[0], 250.0)
    monitor = PerformanceMonitor.for_context(ctx)
    good = monitor.columns(table)
    with ctx.store.write() as w:
        w.execute("UPDATE snapshots SET data = x'0102' WHERE name = 'metric_columns'")
    assert monitor.columns(table).encode() == good.encode()
    assert good.latency_p50_ms[0] == 250.0 and math.isnan(good.latency_p50_ms[1])


def test_metric_columns_decode_refuses_the_wrong_length() -> None:
    columns = MetricColumns.from_mapping(["a/x", "b/y"], {"a/x": ModelMetrics("a/x", 2, 1)})
    data = columns.encode()
    decoded = MetricColumns.decode(data, 2)
    assert [decoded.metrics(i, m) for i, m in enumerate(["a/x", "b/y"])] == [
        ModelMetrics("a/x", 2, 1),
        ModelMetrics("b/y"),
    ]
    for n in (1, 3):
        with pytest.raises(ValueError):
            MetricColumns.decode(data, n)
