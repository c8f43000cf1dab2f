"""Python values to and from the text libpq sends (`store/libpq.py`), as psycopg does.

Parameters go in text with psycopg's types: int as int2/int4/int8/numeric by size,
float as float8, str as unknown (the server infers it from the statement, as for
a literal), bytes as binary bytea, bool as 0/1 (what SQLite stores). Results are
read by column type: integers and floats as such, bool, bytea, json, and `numeric`
as int when whole, else float (what SQLite gives for a SUM); any other type as text.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Callable
from typing import Any


def _number(text: bytes) -> int | float:
    """`numeric` as int when whole (a SUM of integers), else float: what SQLite returns."""
    try:
        return int(text)
    except ValueError:
        return float(text)


def _bytea(text: bytes) -> bytes:
    return binascii.unhexlify(memoryview(text)[2:])  # hex output: \x0a1b...


def text(value: bytes) -> str:
    """Any other type (text, varchar, name, tsvector, ...): its text, as psycopg gave it."""
    return value.decode()


# Loaders by type oid; each takes the value's bytes as libpq gives them.
LOADERS: dict[int, Callable[[bytes], Any]] = {
    16: lambda v: v == b"t",  # bool
    17: _bytea,
    20: int, 21: int, 23: int, 26: int,  # int8, int2, int4, oid
    700: float, 701: float,  # float4, float8
    1700: _number,
    114: json.loads, 3802: json.loads,  # json, jsonb
}  # fmt: skip
# Parameter types: psycopg's choices, so the server resolves every statement the same.
INT2, INT4, INT8, NUMERIC, FLOAT8, BYTEA = 21, 23, 20, 1700, 701, 17


def param(value: Any) -> tuple[int, bytes | None, int]:
    """(type oid, bytes, format) of one parameter; format 1 (binary) for bytea only."""
    if value is None:
        return 0, None, 0
    if isinstance(value, bool):
        return INT2, b"1" if value else b"0", 0
    if isinstance(value, int):
        if -(2**15) <= value < 2**15:
            oid = INT2
        elif -(2**31) <= value < 2**31:
            oid = INT4
        else:
            oid = INT8 if -(2**63) <= value < 2**63 else NUMERIC
        return oid, str(value).encode(), 0
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            text = "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
        else:
            text = repr(value)
        return FLOAT8, text.encode(), 0
    if isinstance(value, bytes | bytearray | memoryview):
        return BYTEA, bytes(value), 1
    return 0, str(value).encode(), 0
