"""Whether a provider has a key, never decrypting and without `KeyManager`.

Selection asks this for every provider on every `select`; it needs neither the
vault's records nor the key manager's writes, so this small module is all a
`select` loads of the vault. `KeyManager.availability` and `vault_providers` are
these functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from jarvis_cli.core.context import Context
from jarvis_cli.core.providers.presets import ProviderSpec

DEFAULT_LABEL = "default"
KeySource = Literal["env", "vault"]


def env_has_key(spec: ProviderSpec, env: Mapping[str, str]) -> bool:
    """Whether one of the provider's key variables is set (to something not blank)."""
    return any(env.get(var, "").strip() for var in spec.key_env_vars())


def vault_providers(ctx: Context) -> frozenset[str]:
    """The providers with a default-label vault key, in one statement; never decrypts."""
    if not ctx.store_exists():
        return frozenset()
    sql = "SELECT provider FROM api_keys WHERE label = ?"
    return frozenset(str(r[0]) for r in ctx.store.conn.execute(sql, (DEFAULT_LABEL,)))


def key_source(
    spec: ProviderSpec, env: Mapping[str, str], vault: frozenset[str]
) -> KeySource | None:
    """Where a key for `spec` would come from (`vault`: vault_providers()), or None."""
    if env_has_key(spec, env):
        return "env"
    return "vault" if spec.name in vault else None
