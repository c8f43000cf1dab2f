"""Fail closed on malformed vault rows.

A hand-edited or damaged store can hold any SQLite value in any column (TEXT where a
BLOB belongs, a truncated nonce, a number for a label). Every row is checked here
before it is listed, opened, rotated or re-sealed: a bad one is a VaultError (exit 4)
that names the row, raised before anything is written, so the store stays as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from jarvis_cli.core.errors import VaultError

NONCE_BYTES = 12  # AES-GCM nonce (vault/sealing.py seals with this size)
TAG_BYTES = 16  # AES-GCM tag, appended to the ciphertext


def _text(v: Any) -> bool:
    return isinstance(v, str) and v != ""


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


# column -> (check, what it must be)
_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "provider": (_text, "non-empty TEXT"),
    "label": (_text, "non-empty TEXT"),
    "key_id": (_text, "non-empty TEXT"),
    "nonce": (
        lambda v: isinstance(v, bytes) and len(v) == NONCE_BYTES,
        f"a {NONCE_BYTES}-byte BLOB",
    ),
    "ciphertext": (
        lambda v: isinstance(v, bytes) and len(v) > TAG_BYTES,
        f"a BLOB of more than {TAG_BYTES} bytes",
    ),
    "fingerprint": (_text, "non-empty TEXT"),
    "created": (_number, "a REAL unix time"),
    "updated": (_number, "a REAL unix time"),
    "last_used": (lambda v: v is None or _number(v), "NULL or a REAL unix time"),
    "usage_count": (_count, "a non-negative INTEGER"),
    "rotation_count": (_count, "a non-negative INTEGER"),
    "status": (_text, "non-empty TEXT"),
}

# Every column of api_keys: listing and re-sealing check the whole row.
ROW_COLUMNS = tuple(_RULES)

_SQL_TYPES = {type(None): "NULL", bytes: "BLOB", str: "TEXT", int: "INTEGER", float: "REAL"}


def row_name(row: Mapping[str, Any]) -> str:
    """provider/label of a row, even when those columns are themselves damaged."""
    parts = []
    for col in ("provider", "label"):
        v = row.get(col)
        parts.append(v if isinstance(v, str) else repr(v))
    return "/".join(parts)


def checked_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """`row` (any subset of api_keys' columns) if every column holds what it should;
    else a VaultError naming the row and every bad column."""
    bad = []
    for column, value in row.items():
        rule = _RULES.get(column)
        if rule is not None and not rule[0](value):
            got = _SQL_TYPES.get(type(value), type(value).__name__)
            if isinstance(value, bytes | str):
                got += f" of {len(value)} {'bytes' if isinstance(value, bytes) else 'chars'}"
            bad.append(f"{column} is {got}, not {rule[1]}")
    if bad:
        name = row_name(row)
        provider, label = row.get("provider"), row.get("label")
        hint = "delete the row and add the key again"
        if _text(provider) and _text(label):
            hint = f"delete it (`jarvis keys delete {provider} --label {label}`) and add it again"
        raise VaultError(
            f"key {name} is malformed in the store ({'; '.join(bad)}); jarvis will not use it",
            hint=hint,
        )
    return dict(row)
