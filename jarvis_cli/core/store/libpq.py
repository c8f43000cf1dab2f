"""The team store's PostgreSQL client: libpq through ctypes (issue 28).

`import psycopg` costs 60-90 ms of CPU (asyncio, ssl, importlib.metadata, ~170
modules) before a byte is sent: more than a whole `jarvis select` on SQLite. The
store uses a small part of a driver: one autocommit connection, statements with
parameters, text results of a dozen types, the transaction status, and an
executemany. This module is that part over libpq itself, loaded with ctypes in a
few milliseconds: the libpq bundled in psycopg's binary wheel (the postgres extra
installs it), else the system's (which psycopg's C and pure-Python builds need
too). libpq does the protocol, authentication and TLS as it does for psycopg.

Values are sent and read as psycopg does (`libpq_values.py`). `executemany`
sends its rows in libpq's pipeline mode: one round trip per chunk, not per row.
"""

from __future__ import annotations

import contextlib
import ctypes
import select
from collections.abc import Iterable, Iterator, Sequence
from ctypes import c_char_p, c_int, c_uint
from typing import Any

from jarvis_cli.core.store import libpq_load
from jarvis_cli.core.store.libpq_load import LibpqMissing, library
from jarvis_cli.core.store.libpq_values import LOADERS, param, text

__all__ = ["LibpqMissing", "PqConnection", "PqError", "library"]

# libpq's enum values (libpq-fe.h).
CONNECTION_BAD = 1
PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_FATAL_ERROR = 1, 2, 7
PGRES_PIPELINE_SYNC, PGRES_PIPELINE_ABORTED = 10, 11
PQTRANS_IDLE, PQTRANS_UNKNOWN = 0, 4
_OK = (0, PGRES_COMMAND_OK, PGRES_TUPLES_OK)  # and the empty query
_SQLSTATE, _PRIMARY = ord("C"), ord("M")
PIPELINE_CHUNK = 200  # statements per pipeline sync: their small replies never fill a buffer


def _readable(fd: int) -> None:
    """Block until `fd` can be read; a signal handler (Ctrl-C) may raise meanwhile.
    poll where there is one: select() refuses descriptors past 1023 (a busy server)."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        poller.poll()
    else:  # pragma: no cover - Windows
        select.select([fd], [], [])


class PqError(Exception):
    """A failed statement or connection: the server's message without its severity,
    its SQLSTATE (None when the connection failed), whether the connection is gone."""

    def __init__(self, message: str, sqlstate: str | None = None, lost: bool = False) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate
        self.lost = lost


class Result:
    """A statement's rows (tuples), `description` (name first, as DB-API) and rowcount."""

    def __init__(
        self, rows: list[tuple[Any, ...]], names: Sequence[str] | None, rowcount: int
    ) -> None:
        self._rows = rows
        self._next = 0
        self.description = (
            None if names is None else [(n, None, None, None, None, None, None) for n in names]
        )
        self.rowcount = rowcount

    def fetchone(self) -> Any:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[Any]:
        rest = self._rows[self._next :]
        self._next = len(self._rows)
        return rest

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


def _strip_severity(message: str) -> str:
    head, sep, rest = message.partition(":  ")
    if sep and head.isupper() and head.isalpha():
        message = rest
    return message.strip() or "no error details available"


class PqConnection:
    """One autocommit libpq connection (see the module doc). Not shared between threads."""

    def __init__(self, url: str, connect_timeout: int, application_name: str) -> None:
        self._lib = lib = library()
        settings = {
            "dbname": url,  # expanded: the URL's own parameters apply, these add to them
            "connect_timeout": str(connect_timeout),
            "application_name": application_name,
            "client_encoding": "UTF8",
        }
        keys = (c_char_p * (len(settings) + 1))(*(k.encode() for k in settings), None)
        values = (c_char_p * (len(settings) + 1))(*(v.encode() for v in settings.values()), None)
        self._conn: int | None = lib.PQconnectdbParams(keys, values, 1)
        if self._conn is None:
            raise PqError("out of memory", lost=True)
        if lib.PQstatus(self._conn) == CONNECTION_BAD:
            message = self._connection_error()
            self.close()
            raise PqError(message, lost=True)
        lib.PQsetNoticeProcessor(self._conn, libpq_load.DROP_NOTICE, None)

    @property
    def broken(self) -> bool:
        return self._conn is None or self._lib.PQstatus(self._conn) == CONNECTION_BAD

    @property
    def transaction_status(self) -> int:
        if self._conn is None:
            return PQTRANS_UNKNOWN
        return int(self._lib.PQtransactionStatus(self._conn))

    @property
    def idle(self) -> bool:
        return self.transaction_status == PQTRANS_IDLE

    def close(self) -> None:
        if self._conn is not None:
            self._lib.PQfinish(self._conn)
            self._conn = None

    def __del__(self) -> None:
        # A connection dropped without close() (one replaced after it broke) frees
        # libpq's memory and socket, as psycopg's did.
        with contextlib.suppress(Exception):  # a failed __init__, interpreter shutdown
            self.close()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        """Run `sql` ($1, $2, ... placeholders); without parameters it may hold several
        statements (the result is the last one's, or the first error)."""
        conn, lib = self._live(), self._lib
        if params:
            args = self._encode(params)
            sent = lib.PQsendQueryParams(conn, sql.encode(), len(params), *args, 0)
        else:
            sent = lib.PQsendQuery(conn, sql.encode())
        if sent != 1:
            raise self._lost_or(PqError(self._connection_error()))
        last, error = None, None
        while True:
            self._wait(conn)
            res = lib.PQgetResult(conn)
            if res is None:
                break
            if error is None and lib.PQresultStatus(res) not in _OK:
                error = self._result_error(res)
            if last is not None:
                lib.PQclear(last)
            last = res
        if error is not None:
            lib.PQclear(last)
            raise self._lost_or(error)
        return self._consume(last)

    def _wait(self, conn: int) -> None:
        """Wait for the server's reply on the socket, so that Ctrl-C (a signal handler)
        interrupts a long wait (for the writers' lock, say); the statement is then
        cancelled on the server before the interrupt goes on."""
        try:
            self._wait_readable(conn)
        except BaseException:
            self._cancel(conn)
            raise

    def _wait_readable(self, conn: int) -> None:
        lib = self._lib
        while lib.PQisBusy(conn):
            _readable(lib.PQsocket(conn))
            if lib.PQconsumeInput(conn) != 1:
                return  # the connection failed: PQgetResult reports it

    def _cancel(self, conn: int) -> None:
        lib = self._lib
        cancel = lib.PQgetCancel(conn)
        if cancel:
            message = ctypes.create_string_buffer(256)
            lib.PQcancel(cancel, message, 256)
            lib.PQfreeCancel(cancel)
        try:  # the server answers with an error; the connection stays usable
            while True:
                self._wait_readable(conn)
                res = lib.PQgetResult(conn)
                if res is None:
                    return
                lib.PQclear(res)
        except BaseException:
            self.close()  # interrupted again: drop the connection (the server rolls back)
            raise

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Result:
        """`sql` once per row (no result rows), pipelined where libpq can; the total rowcount."""
        lib = self._lib
        if not libpq_load.has_pipeline():
            return self._executemany_one_by_one(sql, rows)  # pragma: no cover - libpq < 14
        conn, command, total = self._live(), sql.encode(), 0
        pending = list(rows)
        for start in range(0, len(pending), PIPELINE_CHUNK):
            chunk = pending[start : start + PIPELINE_CHUNK]
            if lib.PQenterPipelineMode(conn) != 1:
                raise self._lost_or(PqError(self._connection_error()))
            try:
                for params in chunk:
                    args = self._encode(params)
                    if lib.PQsendQueryParams(conn, command, len(params), *args, 0) != 1:
                        raise self._lost_or(PqError(self._connection_error()))
                if lib.PQpipelineSync(conn) != 1:
                    raise self._lost_or(PqError(self._connection_error()))
                total += self._pipeline_results(conn)
            finally:
                if not self.broken:
                    lib.PQexitPipelineMode(conn)
        return Result([], None, total)

    def _pipeline_results(self, conn: int) -> int:
        """Read every reply up to the sync; raise the first error once all are read."""
        lib, total = self._lib, 0
        error: PqError | None = None
        while True:
            try:
                self._wait_readable(conn)
            except BaseException:
                self.close()  # interrupted mid-pipeline: drop it (the server rolls back)
                raise
            res = lib.PQgetResult(conn)
            if res is None:
                if self.broken:
                    raise self._lost_or(error or PqError(self._connection_error()))
                continue  # the end of one statement's results
            status = lib.PQresultStatus(res)
            try:
                if status == PGRES_PIPELINE_SYNC:
                    break
                if status == PGRES_FATAL_ERROR and error is None:
                    error = self._result_error(res)
                elif status == PGRES_COMMAND_OK:
                    total += int(lib.PQcmdTuples(res) or 0)
            finally:
                lib.PQclear(res)
        if error is not None:
            raise error
        return total

    def _executemany_one_by_one(self, sql: str, rows: Iterable[Sequence[Any]]) -> Result:
        total = sum(max(self.execute(sql, params).rowcount, 0) for params in rows)
        return Result([], None, total)

    def _live(self) -> int:
        if self._conn is None:
            raise PqError("the connection is closed", lost=True)
        return self._conn

    @staticmethod
    def _encode(params: Sequence[Any]) -> tuple[Any, Any, Any, Any]:
        encoded = [param(p) for p in params]
        n = len(encoded)
        types = (c_uint * n)(*(e[0] for e in encoded))
        values = (c_char_p * n)(*(e[1] for e in encoded))
        lengths = (c_int * n)(*(len(e[1]) if e[1] is not None else 0 for e in encoded))
        formats = (c_int * n)(*(e[2] for e in encoded))
        return types, values, lengths, formats

    def _consume(self, res: int | None) -> Result:
        lib = self._lib
        if res is None:
            raise self._lost_or(PqError(self._connection_error()))
        try:
            status = lib.PQresultStatus(res)
            if status == PGRES_TUPLES_OK:
                return self._rows(res)
            if status == PGRES_COMMAND_OK:
                count = lib.PQcmdTuples(res)
                return Result([], None, int(count) if count else -1)
            if status in (0,):  # an empty query
                return Result([], None, -1)
            raise self._lost_or(self._result_error(res))
        finally:
            lib.PQclear(res)

    def _rows(self, res: int) -> Result:
        lib = self._lib
        nrows, ncols = lib.PQntuples(res), lib.PQnfields(res)
        names = [lib.PQfname(res, c).decode() for c in range(ncols)]
        loaders = [LOADERS.get(lib.PQftype(res, c), text) for c in range(ncols)]
        getvalue, isnull = lib.PQgetvalue, lib.PQgetisnull
        rows = []
        for r in range(nrows):
            row: list[Any] = []
            for c in range(ncols):
                raw = getvalue(res, r, c)
                if not raw and isnull(res, r, c):
                    row.append(None)
                else:
                    row.append(loaders[c](raw))
            rows.append(tuple(row))
        return Result(rows, names, nrows)

    def _result_error(self, res: int) -> PqError:
        lib = self._lib
        state = lib.PQresultErrorField(res, _SQLSTATE)
        message = (lib.PQresultErrorMessage(res) or b"").decode(errors="replace")
        return PqError(_strip_severity(message), state.decode() if state else None)

    def _connection_error(self) -> str:
        raw = self._lib.PQerrorMessage(self._conn) if self._conn is not None else None
        return _strip_severity((raw or b"").decode(errors="replace"))

    def _lost_or(self, error: PqError) -> PqError:
        if self.broken:
            error.lost = True
        return error
