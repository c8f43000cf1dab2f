"""Statements per selection (issue 28): on a team store each one is a round trip."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from jarvis_cli.core.context import Context
from jarvis_cli.core.selection.engine import SelectionEngine
from jarvis_cli.core.selection.types import SelectionRequest
from jarvis_cli.core.store.snapshots import current_snapshot, data_version, save_snapshot

pytestmark = pytest.mark.usefixtures("store_backend")


@pytest.fixture
def ctx(monkeypatch: pytest.MonkeyPatch) -> Iterator[Context]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789abcdefghijkl")
    context = Context()
    yield context
    context.close()


def _count_statements(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement the store's connection sends from now on."""
    seen: list[str] = []
    conn = ctx.store.conn
    if getattr(conn, "dialect", "sqlite") == "postgresql":
        raw = conn.raw  # type: ignore[attr-defined]
        original = raw.execute

        def execute(query: Any, *args: Any, **kwargs: Any) -> Any:
            seen.append(str(query))
            return original(query, *args, **kwargs)

        monkeypatch.setattr(raw, "execute", execute)
    else:
        conn.set_trace_callback(seen.append)  # type: ignore[attr-defined]
    return seen


def test_a_warm_selection_makes_few_statements(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = SelectionEngine(ctx)
    first = engine.select(SelectionRequest(strategy="balanced"))  # builds the caches
    seen = _count_statements(ctx, monkeypatch)
    again = SelectionEngine(ctx).select(SelectionRequest(strategy="balanced"))
    assert again.model_id == first.model_id
    key_checks = [s for s in seen if "api_keys" in s]
    assert len(key_checks) <= 1, key_checks  # one for every provider, not one each
    # Was 12 on PostgreSQL before issue 28 (a new store open added 2 more).
    assert len(seen) <= 9, "\n".join(seen)


def test_current_snapshot_is_the_version_and_the_snapshot_built_at_it(ctx: Context) -> None:
    from jarvis_cli.core.registry.model_registry import ModelRegistry

    ModelRegistry(ctx).ensure_catalog()
    conn = ctx.store.conn
    version, data = current_snapshot(conn, "test_snapshot", "models")
    assert version == data_version(conn, "models") and data is None
    save_snapshot(conn, "test_snapshot", version, b"\x00built")
    assert current_snapshot(conn, "test_snapshot", "models") == (version, b"\x00built")
    prefixed, stale = current_snapshot(conn, "test_snapshot", "models", prefix="x")
    assert prefixed == f"x:{version}" and stale is None  # built at another version
    with ctx.store.write() as w:  # any change of `models` bumps its data version
        w.execute("UPDATE models SET quality = quality WHERE id = (SELECT min(id) FROM models)")
    newer, gone = current_snapshot(conn, "test_snapshot", "models")
    assert newer != version and gone is None
