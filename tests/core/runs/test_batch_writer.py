"""The batch writer: attempts stored before their lines are written, many at a time."""

from __future__ import annotations

import io
import json
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from jarvis_cli.core.context import Context
from jarvis_cli.core.runs.attempts import Attempt
from jarvis_cli.core.runs.batch_io import OutputWriter
from jarvis_cli.core.runs.batch_writer import BatchWriter
from jarvis_cli.core.store.database import Store


def attempt(ok: bool = True, n: int = 1) -> Attempt:
    return Attempt(
        model_id="p/m",
        provider="p",
        kind="chat",
        attempt=n,
        ok=ok,
        at=time.time(),
        latency_ms=50.0,
        error_class=None if ok else "unavailable",
        prompt_tokens=3,
        completion_tokens=5,
        cost_usd=0.001,
    )


def calls(home: Path) -> list[tuple[str, int]]:
    conn = sqlite3.connect(home / "jarvis.db")
    try:
        return conn.execute("SELECT request_id, ok FROM calls ORDER BY id").fetchall()
    finally:
        conn.close()


@pytest.fixture
def out() -> io.BytesIO:
    return io.BytesIO()


@pytest.fixture
def writer(home: Path, out: io.BytesIO) -> BatchWriter:
    Store.open(home / "jarvis.db").close()  # migrated, as a batch finds it
    return BatchWriter(Context(), OutputWriter(out))


def test_a_line_is_written_after_the_row_queued_before_it_is_committed(
    home: Path, writer: BatchWriter, out: io.BytesIO
) -> None:
    writer.record("req-1", attempt(), None)  # a success: not waited for
    writer.write(0, {"id": "q0", "ok": True})
    assert calls(home) == [("req-1", 1)]
    assert [json.loads(line) for line in out.getvalue().splitlines()] == [{"id": "q0", "ok": True}]
    writer.close()


def test_a_failed_attempt_is_committed_before_record_returns(
    home: Path, writer: BatchWriter
) -> None:
    writer.record("req-1", attempt(ok=False), None)
    assert calls(home) == [("req-1", 0)]  # the next plan reads the store and sees it
    writer.close()


def test_many_workers_every_row_stored_and_every_line_written_once(
    home: Path, writer: BatchWriter, out: io.BytesIO
) -> None:
    def work(worker: int) -> None:
        for i in range(50):
            seq = worker * 50 + i
            if i % 10 == 0:
                writer.record(f"r{seq}", attempt(ok=False), None)
            writer.record(f"r{seq}", attempt(n=2), None)
            writer.write(seq, {"id": f"q{seq}"})

    threads = [threading.Thread(target=work, args=(w,)) for w in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.close()
    ids = [json.loads(line)["id"] for line in out.getvalue().splitlines()]
    assert sorted(ids) == sorted(f"q{seq}" for seq in range(800))
    rows = calls(home)
    assert len(rows) == 800 + 80
    assert sum(1 for _, ok in rows if not ok) == 80


def test_a_row_that_cannot_be_stored_fails_its_line_not_the_others(
    home: Path, writer: BatchWriter, out: io.BytesIO
) -> None:
    bad = attempt()
    object.__setattr__(bad, "kind", object())  # SQLite cannot bind it
    failed: list[BaseException] = []

    def worker_with_bad_row() -> None:
        writer.record("bad", bad, None)
        try:
            writer.write(0, {"id": "q0"})
        except Exception as exc:
            failed.append(exc)

    t = threading.Thread(target=worker_with_bad_row)
    t.start()
    t.join()
    writer.record("good", attempt(), None)
    writer.write(1, {"id": "q1"})
    writer.close()
    assert len(failed) == 1 and isinstance(failed[0], sqlite3.Error)
    assert [json.loads(line)["id"] for line in out.getvalue().splitlines()] == ["q1"]
    assert calls(home) == [("good", 1)]
