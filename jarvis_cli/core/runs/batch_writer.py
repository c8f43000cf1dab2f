"""Stores a batch's attempts and writes its output lines, many at a time.

Why together: when each worker wrote its own `calls` row (a transaction) and then
its own output line, it did so holding a lock (the store's writer lock, OUT's) and
gave up the GIL inside (every SQLite statement, every write() and flush()), then
waited to get it back while the other workers queued on the lock. At
--concurrency 128 a row took 176 ms to record and a line 55 ms to write, longer
than the request. Here the workers queue their rows and lines, and one of them at
a time, the leader, takes everything queued, stores the rows in one transaction (a
few statements) and writes the lines with one write() and one flush(). Then it
hands the lead to a worker still waiting for its item, which it had to wake
anyway: leading costs no thread of its own and no extra wake-up.

What a worker waits for, as before: its line until it is written, so at any moment
at most one line per worker has been sent and not written (what a kill -9 makes a
resume send again); a failed attempt's row until it is committed, so the next plan,
read from the store, sees it. It does not wait for a successful attempt's row: the
queue is first in, first out, so the line that follows is written only once that
row is committed, and OUT never holds a line whose attempts a crash could lose.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jarvis_cli.core.runs.attempts import Attempt, insert_attempts
from jarvis_cli.core.runs.batch_io import OutputWriter
from jarvis_cli.core.runs.budget import Reservation

if TYPE_CHECKING:
    from jarvis_cli.core.context import Context


@dataclass(eq=False)
class _Item:
    """A queued row or line; `done` is held until a leader has dealt with it."""

    owner: int  # the worker's thread id: a failed row fails that worker's next line
    row: tuple[str, Attempt, Reservation | None] | None = None
    line: tuple[int, Mapping[str, Any]] | None = None
    done: threading.Lock | None = None  # None: nobody waits (a successful attempt's row)
    lead: bool = False  # woken to lead, not done
    error: BaseException | None = field(default=None)


class BatchWriter:
    """Stores attempts in `ctx`'s store (a Context of its own) and writes lines to `out`."""

    def __init__(self, ctx: Context, out: OutputWriter) -> None:
        self._ctx = ctx
        self._out = out
        self._lock = threading.Lock()  # the queue and who leads
        self._queue: list[_Item] = []
        self._leading = False
        self._failed: dict[int, BaseException] = {}  # by owner, until its next line

    # --- workers --------------------------------------------------------------------

    def record(self, request_id: str, attempt: Attempt, settle: Reservation | None) -> None:
        """Queue an attempt's row; wait until it is committed if the attempt failed."""
        item = _Item(threading.get_ident(), row=(request_id, attempt, settle))
        if attempt.ok:
            with self._lock:
                self._queue.append(item)  # the worker's line, next, waits for it
        else:
            self._wait(item)

    def write(self, seq: int, record: Mapping[str, Any]) -> None:
        """Queue an output line and wait until it is written (after the rows before it)."""
        self._wait(_Item(threading.get_ident(), line=(seq, record)))

    def _wait(self, item: _Item) -> None:
        done = item.done = threading.Lock()
        done.acquire()
        with self._lock:
            self._queue.append(item)
            lead = not self._leading
            self._leading = True
        if lead:
            self._lead()  # deals with `item` first
        done.acquire()
        if item.lead:  # handed the lead: `item` is still queued
            self._lead()
            done.acquire()
        if item.error is not None:
            raise item.error

    def close(self) -> None:
        """Store and write what is still queued (every worker has stopped), close the store."""
        try:
            with self._lock:
                items, self._queue = self._queue, []
            if items:
                self._deal(items)
        finally:
            self._ctx.close()

    # --- the leader -----------------------------------------------------------------

    def _lead(self) -> None:
        while True:
            with self._lock:
                items, self._queue = self._queue, []
                if not items:
                    self._leading = False
                    return
            self._deal(items)
            with self._lock:
                successor = next((i for i in self._queue if i.done is not None), None)
                if successor is None:
                    continue  # nobody queued waits yet: lead on (or stop, if nothing is queued)
                successor.lead = True
            assert successor.done is not None
            successor.done.release()
            return

    def _deal(self, items: list[_Item]) -> None:
        try:
            self._store([i for i in items if i.row is not None])
            self._write([i for i in items if i.line is not None])
        except BaseException as exc:  # no worker may wait forever
            for item in items:
                item.error = item.error or exc
        finally:
            for item in items:
                if item.done is not None:
                    item.done.release()

    def _store(self, rows: list[_Item]) -> None:
        if not rows:
            return
        try:
            self._insert(rows)
            return
        except Exception:  # rolled back: alone, each row says whether it fails
            pass
        for item in rows:
            try:
                self._insert([item])
            except Exception as exc:
                item.error = exc
                if item.done is None:
                    self._failed[item.owner] = exc

    def _insert(self, rows: list[_Item]) -> None:
        with self._ctx.store.write() as conn:
            insert_attempts(conn, [item.row for item in rows if item.row is not None])

    def _write(self, lines: list[_Item]) -> None:
        ready = []
        for item in lines:
            failed = self._failed.pop(item.owner, None)
            if failed is not None:
                item.error = failed  # its attempt was not stored: the line is not written
            else:
                ready.append(item)
        if ready:
            self._out.write_many([item.line for item in ready if item.line is not None])
