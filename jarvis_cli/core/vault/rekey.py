"""`keys rekey`: re-seal every stored key under a new master key, crash-safely.

The order of steps is what makes a SIGKILL at any moment harmless:

1. One write transaction: open every row with the old key (any failure aborts
   before anything is written), write the new key to the *pending* slot of the
   old key's store, re-seal every row, read the rows back and open each with the
   new key, commit.  A crash before COMMIT leaves the rows under the old key,
   which is still the current one; the stray pending key is ignored.
2. A second write transaction promotes pending -> current and drops the pending
   slot.  A crash between 1 and 2 leaves rows under the new key, still in the
   pending slot: `Vault.master` picks a candidate by the key id the rows carry,
   finds it there, and promotes it on the next write.

The old master key is therefore only overwritten after the rows no longer need
it. A master key from JARVIS_MASTER_KEY cannot be replaced by jarvis (it cannot
change its caller's environment), so rekey then requires the new key on stdin
and tells the user to switch the variable after the commit.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from jarvis_cli.core.errors import JarvisError, UsageError, VaultError
from jarvis_cli.core.redact import register_secret
from jarvis_cli.core.store.connection import Connection, StoreHandle
from jarvis_cli.core.vault.master_keys import MASTER_KEY_BYTES, MasterKeyStore
from jarvis_cli.core.vault.sealing import (
    MASTER_KEY_ENV,
    MasterKey,
    Sealed,
    Vault,
    open_sealed,
    record_master,
    seal,
)

if TYPE_CHECKING:
    from jarvis_cli.core.vault.records import RekeyResult

Row = tuple[str, str, str, bytes, bytes]


def _rows(conn: Connection) -> list[Row]:
    """Every sealed row; a malformed one is a VaultError before anything is written."""
    from jarvis_cli.core.vault.row_check import ROW_COLUMNS, checked_row

    names = ROW_COLUMNS
    cursor = conn.execute(f"SELECT {', '.join(names)} FROM api_keys ORDER BY provider, label")
    rows = [checked_row(dict(zip(names, r, strict=True))) for r in cursor]
    return [(r["provider"], r["label"], r["key_id"], r["nonce"], r["ciphertext"]) for r in rows]


def rekey(store: StoreHandle, vault: Vault, new_key: bytes | None) -> RekeyResult:
    """Re-seal every row under `new_key` (random if None) and retire the old master key."""
    import time

    from jarvis_cli.core.vault.records import RekeyResult

    if new_key is not None and len(new_key) != MASTER_KEY_BYTES:
        raise UsageError(f"the new master key must be {MASTER_KEY_BYTES} bytes")
    slot_store: MasterKeyStore | None = None
    with store.write() as conn:
        rows = _rows(conn)
        if not rows:
            raise UsageError("the vault is empty: there is nothing to re-seal")
        old = vault.master(conn, create=False)
        if old.source == "env" and new_key is None:
            raise VaultError(
                f"the master key comes from {MASTER_KEY_ENV}, which jarvis cannot change",
                hint="pipe a new base64 key in: `jarvis keys rekey --new-key-stdin`, then set "
                f"{MASTER_KEY_ENV} to that key",
            )
        # Open everything first: a row that does not open aborts before any write.
        plain = {(p, lbl): open_sealed(old, p, lbl, Sealed(k, n, c)) for p, lbl, k, n, c in rows}
        for value in plain.values():
            register_secret(value)
        new = MasterKey(new_key or os.urandom(MASTER_KEY_BYTES), old.source, old.where)
        if new.key_id == old.key_id:
            raise UsageError("the new master key is the current one")
        if old.source != "env":
            slot_store = vault.store_named(old.source)
            slot_store.write("pending", new.key)
        now = time.time()
        for (provider, label), value in plain.items():
            sealed = seal(new, provider, label, value)
            conn.execute(
                "UPDATE api_keys SET key_id = ?, nonce = ?, ciphertext = ? "
                "WHERE provider = ? AND label = ?",
                (sealed.key_id, sealed.nonce, sealed.ciphertext, provider, label),
            )
            conn.execute(
                "INSERT INTO key_events(provider, label, event, at, detail) "
                "VALUES (?, ?, 'rekeyed', ?, ?)",
                (provider, label, now, f"master key {old.key_id} -> {new.key_id}"),
            )
        # Verify what is about to be committed, as stored, before committing it.
        for provider, label, key_id, nonce, ciphertext in _rows(conn):
            reopened = open_sealed(new, provider, label, Sealed(key_id, nonce, ciphertext))
            if reopened != plain.get((provider, label)):
                raise VaultError(f"re-sealed key {provider}/{label} did not verify; rolled back")
        record_master(conn, new)
    where = new.where
    if slot_store is not None:
        where = slot_store.describe("current")
        try:
            with store.write() as conn:
                vault.master(conn)  # promotes the pending key the rows now use
        except JarvisError as exc:
            # The rows are committed under the new key, which is safe in the pending
            # slot; the next write promotes it.
            vault.warn(f"the new master key is in place but not yet promoted: {exc.message}")
            where = slot_store.describe("pending")
    return RekeyResult(len(rows), old.key_id, new.key_id, new.source, where)
