"""KeyManager: provider API keys, sealed in the store's `api_keys` table (the seed's
APIKeyManager, done properly).

A key is identified by (provider, label); the label defaults to `default`. Every
change is one write transaction that also appends to the `key_events` audit
table (never the key). `list`, `history` and `availability` never decrypt and
never import `cryptography`. For a process, `JARVIS_<PROVIDER>_API_KEY` and then
the provider's conventional variable (OPENAI_API_KEY, ...) beat the vault for the
default label; `resolve` reports where a key came from.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from jarvis_cli.core.context import Context
from jarvis_cli.core.errors import (
    NoKeyError,
    UsageError,
    VaultError,
)
from jarvis_cli.core.providers.presets import ProviderSpec, all_providers, get_provider
from jarvis_cli.core.redact import fingerprint, register_secret
from jarvis_cli.core.store.connection import Connection
from jarvis_cli.core.vault.availability import env_has_key, key_source, vault_providers
from jarvis_cli.core.vault.records import (
    DEFAULT_LABEL,
    KeyEvent,
    KeyInfo,
    KeySource,
    KeyStatus,
    RekeyResult,
    ResolvedKey,
    check_label,
)
from jarvis_cli.core.vault.row_check import ROW_COLUMNS, checked_row

if TYPE_CHECKING:
    # The vault (and through it hashlib, the key stores) loads only when a key is
    # sealed or opened: `select` and `keys list` need to know where keys are, not
    # what they are.
    from jarvis_cli.core.vault.sealing import Vault, Warn


class KeyManager:
    """Add, read, list, rotate, delete, validate and re-seal provider keys."""

    def __init__(self, ctx: Context, *, warn: Warn | None = None) -> None:
        self.ctx = ctx
        self._warn = warn

    @cached_property
    def vault(self) -> Vault:
        from jarvis_cli.core.vault.sealing import Vault

        return Vault(self.ctx.paths, self.ctx.env, warn=self._warn)

    @property
    def env(self) -> Mapping[str, str]:
        return self.ctx.env

    def spec(self, provider: str) -> ProviderSpec:
        """The provider's spec; UsageError (exit 2) for an unknown provider."""
        return get_provider(self.ctx.config, provider)

    # --- writes ----------------------------------------------------------------

    def add(
        self, provider: str, value: str, label: str = DEFAULT_LABEL, *, validate: bool = True
    ) -> KeyInfo:
        """Store or replace the key (provider, label), checking it first unless told not to."""
        from jarvis_cli.core.vault.sealing import record_master, seal

        spec, value = self._prepare(provider, value, label)
        if validate:
            self.check_key(spec, value)
        status: KeyStatus = "valid" if validate else "unverified"
        now = time.time()
        with self.ctx.store.write() as conn:
            master = self.vault.master(conn, create=True)
            self._refuse_mixed_masters(conn, master.key_id)
            sealed = seal(master, provider, label, value)
            existed = _row_exists(conn, provider, label)
            conn.execute(
                "INSERT INTO api_keys(provider, label, key_id, nonce, ciphertext, fingerprint, "
                "created, updated, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(provider, label) DO UPDATE SET key_id = excluded.key_id, "
                "nonce = excluded.nonce, ciphertext = excluded.ciphertext, "
                "fingerprint = excluded.fingerprint, updated = excluded.updated, "
                "status = excluded.status",
                (
                    provider,
                    label,
                    sealed.key_id,
                    sealed.nonce,
                    sealed.ciphertext,
                    fingerprint(value),
                    now,
                    now,
                    status,
                ),
            )
            _log(
                conn,
                provider,
                label,
                "replaced" if existed else "added",
                f"{fingerprint(value)}, {status}",
                now,
            )
            record_master(conn, master)
        return self._info(provider, label)

    def rotate(
        self, provider: str, value: str, label: str = DEFAULT_LABEL, *, validate: bool = True
    ) -> KeyInfo:
        """Replace an existing key: the new one is checked first; the swap is one transaction."""
        from jarvis_cli.core.vault.sealing import seal

        spec, value = self._prepare(provider, value, label)
        self._require_row(provider, label)  # fail fast, before talking to the provider
        if validate:
            self.check_key(spec, value)
        status: KeyStatus = "valid" if validate else "unverified"
        now = time.time()
        with self.ctx.store.write() as conn:
            self._require_row(provider, label, conn)
            self._checked_row(conn, provider, label)  # a damaged row is not silently replaced
            master = self.vault.master(conn, create=False)
            self._refuse_mixed_masters(conn, master.key_id)
            sealed = seal(master, provider, label, value)
            old_fp = conn.execute(
                "SELECT fingerprint FROM api_keys WHERE provider = ? AND label = ?",
                (provider, label),
            ).fetchone()[0]
            conn.execute(
                "UPDATE api_keys SET key_id = ?, nonce = ?, ciphertext = ?, fingerprint = ?, "
                "updated = ?, status = ?, rotation_count = rotation_count + 1 "
                "WHERE provider = ? AND label = ?",
                (
                    sealed.key_id,
                    sealed.nonce,
                    sealed.ciphertext,
                    fingerprint(value),
                    now,
                    status,
                    provider,
                    label,
                ),
            )
            _log(
                conn, provider, label, "rotated", f"{old_fp} -> {fingerprint(value)}, {status}", now
            )
        return self._info(provider, label)

    def delete(self, provider: str, label: str = DEFAULT_LABEL) -> None:
        """Remove the key (provider, label); NoKeyError (exit 5) if there is none."""
        check_label(label)
        with self.ctx.store.write() as conn:
            self._require_row(provider, label, conn)
            conn.execute("DELETE FROM api_keys WHERE provider = ? AND label = ?", (provider, label))
            _log(conn, provider, label, "deleted", None, time.time())

    # --- reads -----------------------------------------------------------------

    def get(self, provider: str, label: str = DEFAULT_LABEL) -> str:
        """Decrypt a vault key, counting the use (last_used, usage_count) in the same
        transaction; NoKeyError if absent, VaultError (exit 4) if it does not open."""
        from jarvis_cli.core.vault.sealing import Sealed, open_sealed

        check_label(label)
        with self.ctx.store.write() as conn:
            self._require_row(provider, label, conn)
            row = self._checked_row(conn, provider, label)
            master = self.vault.master(conn, create=False)
            sealed = Sealed(row["key_id"], row["nonce"], row["ciphertext"])
            value = open_sealed(master, provider, label, sealed)
            register_secret(value)
            conn.execute(
                "UPDATE api_keys SET last_used = ?, usage_count = usage_count + 1 "
                "WHERE provider = ? AND label = ?",
                (time.time(), provider, label),
            )
        return value

    def env_key(self, spec: ProviderSpec) -> tuple[str, str] | None:
        """(variable, value) of the first key variable set for this provider."""
        for var in spec.key_env_vars():
            value = self.env.get(var, "").strip()
            if value:
                register_secret(value)
                return var, value
        return None

    def resolve(self, spec: ProviderSpec, label: str = DEFAULT_LABEL) -> ResolvedKey | None:
        """JARVIS_<NAME>_API_KEY, then spec.api_key_env (default label only), then the vault.
        None when there is no key anywhere."""
        if label == DEFAULT_LABEL:
            found = self.env_key(spec)
            if found is not None:
                var, value = found
                return ResolvedKey(spec.name, value, "env", var, None, fingerprint(value))
        if not self.has_key(spec.name, label):
            return None
        value = self.get(spec.name, label)
        return ResolvedKey(spec.name, value, "vault", None, label, fingerprint(value))

    def availability(
        self, spec: ProviderSpec, vault: frozenset[str] | None = None
    ) -> KeySource | None:
        """Where a key would come from, never decrypting (`vault`: vault_providers())."""
        if vault is not None:
            return key_source(spec, self.env, vault)
        if env_has_key(spec, self.env):
            return "env"
        return "vault" if self.has_key(spec.name, DEFAULT_LABEL) else None

    def vault_providers(self) -> frozenset[str]:
        """The providers with a default-label vault key, in one statement; never decrypts."""
        return vault_providers(self.ctx)

    def list_keys(self, provider: str | None = None) -> list[KeyInfo]:
        """Vault rows and environment keys, sorted by provider and label (never decrypts)."""
        providers = all_providers(self.ctx.config)
        if provider is not None:
            providers = {provider: self.spec(provider)}
        env_vars: dict[str, str] = {}
        out: list[KeyInfo] = []
        for name, spec in sorted(providers.items()):
            found = self.env_key(spec)
            if found is not None:
                env_vars[name] = found[0]
                out.append(
                    KeyInfo(
                        name,
                        DEFAULT_LABEL,
                        "env",
                        found[0],
                        fingerprint(found[1]),
                        None,
                        None,
                        None,
                        0,
                        0,
                        "env",
                        True,
                    )
                )
        for row in self._rows(provider):
            shadowed = row["label"] == DEFAULT_LABEL and row["provider"] in env_vars
            out.append(
                KeyInfo(
                    row["provider"],
                    row["label"],
                    "vault",
                    None,
                    row["fingerprint"],
                    row["created"],
                    row["updated"],
                    row["last_used"],
                    row["usage_count"],
                    row["rotation_count"],
                    row["status"],
                    not shadowed,
                    row["key_id"],
                )
            )
        return sorted(out, key=lambda k: (k.provider, k.label, k.source))

    def history(self, provider: str | None = None) -> list[KeyEvent]:
        """The audit trail, oldest first."""
        if not self.ctx.store_exists():
            return []
        sql = "SELECT provider, label, event, at, detail FROM key_events"
        args: tuple[str, ...] = ()
        if provider is not None:
            sql, args = sql + " WHERE provider = ?", (provider,)
        rows = self.ctx.store.conn.execute(sql + " ORDER BY at, id", args).fetchall()
        return [KeyEvent(str(r[0]), str(r[1]), str(r[2]), float(r[3]), r[4]) for r in rows]

    # --- validation -------------------------------------------------------------

    def check_key(self, spec: ProviderSpec, value: str) -> None:
        """Ask the provider whether it accepts `value` (see `vault.check.check_key`)."""
        from jarvis_cli.core.vault.check import check_key

        check_key(spec, value)

    def record_validation(self, provider: str, label: str, result: str) -> None:
        """Log a validation of a vault key and set its status (valid/rejected)."""
        with self.ctx.store.write() as conn:
            if result in ("valid", "rejected"):
                conn.execute(
                    "UPDATE api_keys SET status = ? WHERE provider = ? AND label = ?",
                    (result, provider, label),
                )
            _log(conn, provider, label, "validated", result, time.time())

    # --- rekey -------------------------------------------------------------------

    def rekey(self, new_key: bytes | None = None) -> RekeyResult:
        """Re-seal every key under a new master key (see `jarvis_cli.core.vault.rekey`)."""
        from jarvis_cli.core.vault.rekey import rekey

        return rekey(self.ctx.store, self.vault, new_key)

    # --- helpers -----------------------------------------------------------------

    def _prepare(self, provider: str, value: str, label: str) -> tuple[ProviderSpec, str]:
        check_label(label)
        spec = self.spec(provider)
        value = value.strip()
        if not value:
            raise UsageError("the key is empty")
        register_secret(value)
        return spec, value

    def has_key(self, provider: str, label: str = DEFAULT_LABEL) -> bool:
        """Whether the vault holds (provider, label); never decrypts."""
        if not self.ctx.store_exists():
            return False
        return _row_exists(self.ctx.store.conn, provider, label)

    def _require_row(self, provider: str, label: str, conn: Connection | None = None) -> None:
        exists = (
            _row_exists(conn, provider, label)
            if conn is not None
            else self.has_key(provider, label)
        )
        if not exists:
            raise NoKeyError(
                f"no key {provider}/{label} in the vault",
                hint=f"add it with `jarvis keys add {provider}"
                + ("" if label == DEFAULT_LABEL else f" --label {label}")
                + "`",
            )

    @staticmethod
    def _refuse_mixed_masters(conn: Connection, key_id: str) -> None:
        others = {
            str(r[0])
            for r in conn.execute(
                "SELECT DISTINCT key_id FROM api_keys WHERE key_id != ?", (key_id,)
            )
        }
        if others:
            raise VaultError(
                f"the stored keys were sealed with master key {', '.join(sorted(others))}, but "
                f"the current master key is {key_id}; refusing to mix master keys",
                hint="restore the master key that sealed them (JARVIS_MASTER_KEY, the OS "
                "keyring or the key file)",
            )

    def _rows(self, provider: str | None) -> list[dict[str, Any]]:
        if not self.ctx.store_exists():
            return []
        conn = self.ctx.store.conn
        sql = f"SELECT {_COLUMNS} FROM api_keys"
        args: tuple[str, ...] = ()
        if provider is not None:
            sql, args = sql + " WHERE provider = ?", (provider,)
        cursor = conn.execute(sql + " ORDER BY provider, label", args)
        names = [d[0] for d in cursor.description]
        return [checked_row(dict(zip(names, r, strict=True))) for r in cursor.fetchall()]

    @staticmethod
    def _checked_row(conn: Connection, provider: str, label: str) -> dict[str, Any]:
        cursor = conn.execute(
            f"SELECT {_COLUMNS} FROM api_keys WHERE provider = ? AND label = ?", (provider, label)
        )
        names = [d[0] for d in cursor.description]
        return checked_row(dict(zip(names, cursor.fetchone(), strict=True)))

    def _info(self, provider: str, label: str) -> KeyInfo:
        return next(k for k in self.list_keys(provider) if k.source == "vault" and k.label == label)


# Every column, so that listing checks the sealed parts too (vault/row_check.py).
_COLUMNS = ", ".join(ROW_COLUMNS)


def _row_exists(conn: Connection, provider: str, label: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM api_keys WHERE provider = ? AND label = ?", (provider, label)
    ).fetchone()
    return row is not None


def _log(
    conn: Connection, provider: str, label: str, event: str, detail: str | None, at: float
) -> None:
    conn.execute(
        "INSERT INTO key_events(provider, label, event, at, detail) VALUES (?, ?, ?, ?, ?)",
        (provider, label, event, at, detail),
    )
