"""Id prefixes (issue 27): wherever a request or conversation id is taken, a unique
prefix of it will do, as tables show prefixes (`jarvis log show c7f751`).

Ids are 16 lowercase hex digits, so a prefix is a range scan on the indexed column:
`id >= prefix AND id < prefix || 'g'` ('g' sorts after every hex digit).
"""

from __future__ import annotations

import re

from jarvis_cli.core.errors import UsageError
from jarvis_cli.core.store.connection import Connection

FULL_LENGTH = 16
MIN_PREFIX = 4
_HEX = re.compile(r"^[0-9a-f]+$")

# What each kind of id is looked up in: (what it is called, SELECT of matching ids).
_SOURCES = {
    "request": (
        "SELECT request_id FROM calls WHERE request_id >= ? AND request_id < ?"
        " UNION SELECT request_id FROM log_requests WHERE request_id >= ? AND request_id < ?"
    ),
    "conversation": (
        "SELECT DISTINCT conversation_id FROM log_requests"
        " WHERE conversation_id >= ? AND conversation_id < ?"
    ),
}


def expand_id(conn: Connection, kind: str, given: str) -> str:
    """The full id `given` starts with; `given` itself when it is whole or not a hex
    prefix (the caller's not-found error then names it). Ambiguous: UsageError (exit 2)."""
    text = given.strip().lower()
    if len(text) >= FULL_LENGTH or len(text) < MIN_PREFIX or not _HEX.match(text):
        return given
    sql = _SOURCES[kind]
    bounds = (text, text + "g")
    rows = conn.execute(sql + " LIMIT 6", bounds * sql.count("UNION") + bounds).fetchall()
    ids = sorted({str(r[0]) for r in rows if r[0]})
    if len(ids) == 1:
        return ids[0]
    if len(ids) > 1:
        shown = ", ".join(ids[:5]) + (", …" if len(ids) > 5 else "")
        raise UsageError(
            f"{kind} id prefix {given!r} is ambiguous: it starts {shown}",
            hint="type more of the id",
        )
    return given
