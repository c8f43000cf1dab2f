"""The content-log migration: its tables, its full-text index kept in step by triggers."""

from __future__ import annotations

from pathlib import Path

from jarvis_cli.core.store.database import Store
from jarvis_cli.core.store.migrations import MIGRATIONS, SCHEMA_VERSION


def test_migration_creates_log_tables_and_fts_index(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "jarvis.db")
    try:
        assert store.schema_version() == SCHEMA_VERSION
        names = [name for name, _ in MIGRATIONS]
        assert any("content log" in n for n in names)
        tables = {
            r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        assert {"log_requests", "log_fts"} <= tables
        with store.write() as conn:
            conn.execute(
                "INSERT INTO log_requests(request_id, conversation_id, at, kind, model_id,"
                " provider, prompt, answer) VALUES ('r1', 'c1', 1, 'chat', 'a/m', 'a',"
                " 'what is a zebra', 'a striped horse')"
            )
        hits = store.conn.execute(
            "SELECT rowid FROM log_fts WHERE log_fts MATCH 'striped'"
        ).fetchall()
        assert len(hits) == 1
        with store.write() as conn:
            conn.execute("DELETE FROM log_requests WHERE request_id = 'r1'")
        assert (
            store.conn.execute(
                "SELECT count(*) FROM log_fts WHERE log_fts MATCH 'striped'"
            ).fetchone()[0]
            == 0
        )
    finally:
        store.close()


def test_log_rows_keep_the_shape_of_usage_call_rows() -> None:
    from dataclasses import fields

    from jarvis_cli.core.runs import log_reads

    # `log` rows are the attempt rows `log` always showed, with the content after them.
    call = [f.name for f in fields(log_reads.CallRow)]
    assert [f.name for f in fields(log_reads.LogRow)][: len(call)] == call
    assert "tokens_estimated" in call
