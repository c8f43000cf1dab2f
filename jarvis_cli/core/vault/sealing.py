"""The vault: AES-256-GCM sealing of API keys under a master key, and where that key lives.

Each seal uses a fresh random 12-byte nonce; the associated data binds the
format version, provider, label and master-key id, so a ciphertext copied to
another row, or opened with another master key, fails to open instead of
yielding garbage. `cryptography` is imported only inside `seal` and `open_sealed`.

Master-key sources, first that answers wins:
1. `JARVIS_MASTER_KEY` (base64 of 32 bytes; a malformed value is an error);
2. the OS keyring, if its backend is a real one and answers within ~3 s;
3. a key file in the config dir (0600), created only after a warning.

Which stored key is "current" is decided by the rows themselves: every row
records the id of the master key that sealed it, and the vault picks the
candidate (keyring or file, current or pending slot) whose id the rows carry.
That is what makes `rekey` crash-safe (see `KeyManager.rekey`). Every change to
a master-key slot happens inside the store's write transaction, so concurrent
processes never race on creating or promoting a key.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from jarvis_cli.core.errors import VaultError
from jarvis_cli.core.store.connection import Connection
from jarvis_cli.core.store.paths import Paths
from jarvis_cli.core.vault.master_keys import (
    MASTER_KEY_BYTES,
    KeyFileStore,
    KeyringStore,
    MasterKeyStore,
    Slot,
    decode_master_key,
    keyring_account,
    probe_keyring,
)

FORMAT_VERSION = 1
NONCE_BYTES = 12
MASTER_KEY_ENV = "JARVIS_MASTER_KEY"
META_SOURCE = "vault.master_key_source"
META_KEY_ID = "vault.master_key_id"

MasterKeySource = Literal["env", "keyring", "file"]
Warn = Callable[[str], None]


def master_key_id(key: bytes) -> str:
    """A short stable id of a master key (safe to show: it reveals nothing about the key)."""
    return hashlib.sha256(b"jarvis-master-key-id" + key).hexdigest()[:16]


@dataclass(frozen=True)
class MasterKey:
    key: bytes = field(repr=False)
    source: MasterKeySource
    where: str  # human description: "JARVIS_MASTER_KEY", "key file /x/master.key", ...

    @property
    def key_id(self) -> str:
        return master_key_id(self.key)


@dataclass(frozen=True)
class Sealed:
    key_id: str
    nonce: bytes
    ciphertext: bytes  # ciphertext || 16-byte tag


def _aad(provider: str, label: str, key_id: str) -> bytes:
    return b"\x00".join(
        [
            b"jarvis-vault",
            str(FORMAT_VERSION).encode(),
            provider.encode(),
            label.encode(),
            key_id.encode(),
        ]
    )


def seal(master: MasterKey, provider: str, label: str, value: str) -> Sealed:
    """Encrypt `value` for row (provider, label) under `master`."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(master.key).encrypt(
        nonce, value.encode("utf-8"), _aad(provider, label, master.key_id)
    )
    return Sealed(master.key_id, nonce, ciphertext)


def open_sealed(master: MasterKey, provider: str, label: str, sealed: Sealed) -> str:
    """Decrypt row (provider, label); a VaultError (exit 4) naming the key if it does not open."""
    name = f"{provider}/{label}"
    if sealed.key_id != master.key_id:
        raise VaultError(
            f"key {name} was sealed with master key {sealed.key_id}, but the current master key "
            f"is {master.key_id} (from {master.where})",
            hint=f"restore the master key {sealed.key_id} (JARVIS_MASTER_KEY, the OS keyring "
            "or the key file), or delete and re-add the key",
        )
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        if len(sealed.nonce) != NONCE_BYTES:
            raise InvalidTag
        plain = AESGCM(master.key).decrypt(
            sealed.nonce, sealed.ciphertext, _aad(provider, label, master.key_id)
        )
        return plain.decode("utf-8")
    except (InvalidTag, UnicodeDecodeError):
        raise VaultError(
            f"key {name} failed to open: its nonce, ciphertext or tag was altered, or it "
            "was copied from another row",
            hint=f"the stored key is unusable; re-add it with `jarvis keys add "
            f"{provider} --label {label}`",
        ) from None


def _stderr_warn(text: str) -> None:
    sys.stderr.write(f"warning: {text}\n")
    sys.stderr.flush()


class Vault:
    """Finds (or creates) the master key for this store; all slot writes happen under the
    caller's write transaction."""

    def __init__(self, paths: Paths, env: Mapping[str, str], *, warn: Warn | None = None) -> None:
        self.paths = paths
        self.env = env
        self.warn = warn or _stderr_warn
        self.file_store = KeyFileStore(paths.master_key_file)
        self._keyring: KeyringStore | None = None
        self._keyring_status: str | None = None  # None until probed

    # --- sources -------------------------------------------------------------

    def env_key(self) -> MasterKey | None:
        text = self.env.get(MASTER_KEY_ENV)
        if not text:
            return None
        return MasterKey(decode_master_key(text, MASTER_KEY_ENV), "env", MASTER_KEY_ENV)

    def keyring(self) -> KeyringStore | None:
        """The OS keyring store, probed once per Vault (at most ~3 s)."""
        if self._keyring_status is None:
            self._keyring, self._keyring_status = probe_keyring(
                keyring_account(self.paths.config_dir)
            )
        return self._keyring

    def stores(self) -> list[MasterKeyStore]:
        keyring = self.keyring()
        return [keyring, self.file_store] if keyring is not None else [self.file_store]

    def store_named(self, name: str) -> MasterKeyStore:
        for store in self.stores():
            if store.name == name:
                return store
        raise VaultError(
            f"the master key lives in the OS keyring, which is not available now "
            f"({self._keyring_status})",
            hint="unlock the keyring, or set JARVIS_MASTER_KEY",
        )

    def _candidates(self) -> list[tuple[MasterKeyStore, Slot, bytes]]:
        found: list[tuple[MasterKeyStore, Slot, bytes]] = []
        slots: tuple[Slot, ...] = ("current", "pending")
        for store in self.stores():
            for slot in slots:
                key = store.read(slot)
                if key is not None:
                    found.append((store, slot, key))
        return found

    # --- the master key for a transaction -----------------------------------

    def master(self, conn: Connection, *, create: bool = False) -> MasterKey:
        """The master key that opens this store's rows (call inside a write transaction).

        A pending key the rows already use (a rekey that committed but crashed before
        promoting it) is promoted here. With `create`, a store without rows and
        without any master key gets a new one (keyring if real, else a key file).
        """
        env_key = self.env_key()
        if env_key is not None:
            return env_key  # explicit: a mismatch is reported per row, naming the key
        row_ids = sealed_key_ids(conn)
        # The key file first: when it holds the key the rows were sealed with, the OS
        # keyring is never imported or probed (that costs ~0.1 s, up to 3 s on a
        # machine whose keyring daemon hangs, on every command that decrypts).
        for slot in ("current", "pending"):
            key = self.file_store.read(slot)
            if key is not None and master_key_id(key) in row_ids:
                if slot == "pending":
                    self.promote(conn, self.file_store, key)
                return MasterKey(key, self.file_store.name, self.file_store.describe())
        candidates = self._candidates()
        for store, slot, key in candidates:
            if master_key_id(key) in row_ids:
                if slot == "pending":
                    self.promote(conn, store, key)
                return MasterKey(key, store.name, store.describe())
        currents = [(s, k) for s, slot, k in candidates if slot == "current"]
        if currents:
            # Rows (if any) will fail to open with a message naming both ids.
            store, key = currents[0]
            return MasterKey(key, store.name, store.describe())
        if row_ids:
            raise VaultError(
                f"no master key found, but {sealed_row_count(conn)} stored key(s) were sealed "
                f"with master key {', '.join(sorted(row_ids))} (first: {first_row_name(conn)})",
                hint=f"set {MASTER_KEY_ENV}, or restore the OS keyring entry (keyring: "
                f"{self._keyring_status}) or {self.paths.master_key_file}",
            )
        if not create:
            raise VaultError(
                "there is no master key yet (the vault is empty)",
                hint="add a key with `jarvis keys add PROVIDER`",
            )
        return self._create(conn)

    def _create(self, conn: Connection) -> MasterKey:
        key = os.urandom(MASTER_KEY_BYTES)
        target: MasterKeyStore | None = self.keyring()
        if target is None:
            self.warn(
                f"no secure OS keyring is available ({self._keyring_status}); storing a new "
                f"master key in {self.paths.master_key_file} (mode 0600). Anyone who can read "
                f"that file can decrypt your stored keys; set {MASTER_KEY_ENV} or use a "
                "desktop keyring to avoid it"
            )
            target = self.file_store
        target.write("current", key)
        master = MasterKey(key, target.name, target.describe())
        record_master(conn, master)
        return master

    def promote(self, conn: Connection, store: MasterKeyStore, key: bytes) -> None:
        """Make `key` (already in the pending slot) current, then drop the pending slot."""
        if sealed_key_ids(conn) - {master_key_id(key)}:
            return  # the rows moved on (another rekey); this pending key is stale
        store.write("current", key)
        store.delete("pending")
        record_master(conn, MasterKey(key, store.name, store.describe()))


def sealed_key_ids(conn: Connection) -> set[str]:
    return {str(r[0]) for r in conn.execute("SELECT DISTINCT key_id FROM api_keys")}


def sealed_row_count(conn: Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM api_keys").fetchone()[0])


def first_row_name(conn: Connection) -> str:
    row = conn.execute("SELECT provider, label FROM api_keys ORDER BY provider, label").fetchone()
    return "" if row is None else f"{row[0]}/{row[1]}"


def record_master(conn: Connection, master: MasterKey) -> None:
    """Remember (in meta) the source and id last used, for `jarvis doctor`."""
    for key, value in ((META_SOURCE, master.source), (META_KEY_ID, master.key_id)):
        conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
