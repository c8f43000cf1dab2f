"""Client tokens of `jarvis serve`: a bearer token per client, only its hash stored.

A token is `jv-` + 43 URL-safe characters (256 random bits); the store keeps its
sha256 and its first 8 characters (to recognise it in `tokens list`). It is printed
once, by `add` and `rotate`. Limits (all optional): allowed model patterns (fnmatch,
matched against the requested name and every model a routed name may use), requests
per minute, requests in flight, daily and monthly USD budgets. Revoked tokens keep
their row (their usage stays counted) and free their name.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Sequence
from typing import Any, NamedTuple

from jarvis_cli.core.errors import UsageError
from jarvis_cli.core.store.connection import StoreHandle

PREFIX = "jv-"
_COLUMNS = (
    "id, name, prefix, created_at, rotated_at, revoked_at, models, rpm, concurrency,"
    " daily_usd, monthly_usd"
)


class TokenLimits(NamedTuple):
    models: tuple[str, ...] = ()  # fnmatch patterns; empty = any model
    rpm: int | None = None
    concurrency: int | None = None
    daily_usd: float | None = None
    monthly_usd: float | None = None

    @property
    def admission(self) -> bool:
        """Whether requests need the store's admission check (a counted limit)."""
        return any(v is not None for v in self[1:])


class ClientToken(NamedTuple):
    id: str
    name: str
    prefix: str
    created_at: float
    rotated_at: float | None
    revoked_at: float | None
    limits: TokenLimits

    def allows(self, model: str) -> bool:
        pats = self.limits.models
        return not pats or any(fnmatch.fnmatchcase(model, p) for p in pats)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "prefix": self.prefix,
            "created_at": self.created_at,
            "rotated_at": self.rotated_at,
            "revoked": self.revoked_at is not None,
            "revoked_at": self.revoked_at,
            **self.limits._asdict(),
            "models": list(self.limits.models),
        }


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def _new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def _row(r: Sequence[Any]) -> ClientToken:
    models = tuple(json.loads(r[6])) if r[6] else ()
    limits = TokenLimits(models, r[7], r[8], r[9], r[10])
    return ClientToken(r[0], r[1], r[2], r[3], r[4], r[5], limits)


def check_name(name: str) -> str:
    if not name or len(name) > 64 or not all(c.isalnum() or c in "-_." for c in name):
        raise UsageError(
            f"invalid token name {name[:70]!r}",
            hint="use 1-64 letters, digits, '-', '_' or '.'",
        )
    return name


def list_tokens(store: StoreHandle, *, include_revoked: bool = False) -> list[ClientToken]:
    sql = f"SELECT {_COLUMNS} FROM serve_tokens"
    if not include_revoked:
        sql += " WHERE revoked_at IS NULL"
    return [_row(r) for r in store.conn.execute(sql + " ORDER BY name, created_at")]


def active_by_hash(store: StoreHandle) -> dict[str, ClientToken]:
    """Every active token by its hash: what the server authenticates against."""
    rows = store.conn.execute(
        f"SELECT token_hash, {_COLUMNS} FROM serve_tokens WHERE revoked_at IS NULL"
    ).fetchall()
    return {r[0]: _row(r[1:]) for r in rows}


def add_token(store: StoreHandle, name: str, limits: TokenLimits) -> tuple[str, ClientToken]:
    """Store a new token; return it in clear (shown once) with its record."""
    check_name(name)
    token = _new_token()
    now = time.time()
    with store.write() as conn:
        taken = conn.execute(
            "SELECT 1 FROM serve_tokens WHERE name = ? AND revoked_at IS NULL", (name,)
        ).fetchone()
        if taken:
            raise UsageError(
                f"a token named {name!r} already exists",
                hint=f"`jarvis serve tokens rotate {name}` gives it a new value",
            )
        conn.execute(
            "INSERT INTO serve_tokens(id, name, token_hash, prefix, created_at, models, rpm,"
            " concurrency, daily_usd, monthly_usd) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                uuid.uuid4().hex,
                name,
                token_hash(token),
                token[:8],
                now,
                json.dumps(list(limits.models)) if limits.models else None,
                limits.rpm,
                limits.concurrency,
                limits.daily_usd,
                limits.monthly_usd,
            ),
        )
    return token, _find(store, name)


def _find(store: StoreHandle, name: str) -> ClientToken:
    row = store.conn.execute(
        f"SELECT {_COLUMNS} FROM serve_tokens WHERE name = ? AND revoked_at IS NULL", (name,)
    ).fetchone()
    if row is None:
        raise UsageError(f"no active token named {name!r}", hint="see `jarvis serve tokens list`")
    return _row(row)


def revoke_token(store: StoreHandle, name: str) -> ClientToken:
    found = _find(store, name)
    with store.write() as conn:
        conn.execute("UPDATE serve_tokens SET revoked_at = ? WHERE id = ?", (time.time(), found.id))
    return found._replace(revoked_at=time.time())


def rotate_token(store: StoreHandle, name: str) -> tuple[str, ClientToken]:
    """A new value for `name` (same limits, same usage); the old one stops working."""
    found = _find(store, name)
    token = _new_token()
    with store.write() as conn:
        conn.execute(
            "UPDATE serve_tokens SET token_hash = ?, prefix = ?, rotated_at = ? WHERE id = ?",
            (token_hash(token), token[:8], time.time(), found.id),
        )
    return token, _find(store, name)
