"""KeyManager in-process: resolution order, availability, usage counting, rekey crash states."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from jarvis_cli.core.context import Context
from jarvis_cli.core.errors import NoKeyError
from jarvis_cli.core.providers.presets import PRESETS
from jarvis_cli.core.redact import redact
from jarvis_cli.core.vault import rekey as rekey_module
from jarvis_cli.core.vault.keys import KeyManager

OPENAI = PRESETS["openai"]
VAULT_KEY = "sk-vault-" + "a" * 24
ENV_KEY = "sk-env-" + "b" * 24


@pytest.fixture
def manager() -> KeyManager:
    return KeyManager(Context(), warn=lambda _: None)


def test_resolve_prefers_jarvis_env_then_conventional_env_then_vault(
    manager: KeyManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert manager.resolve(OPENAI) is None
    assert manager.availability(OPENAI) is None
    manager.add("openai", VAULT_KEY, validate=False)
    resolved = manager.resolve(OPENAI)
    assert resolved is not None
    assert (resolved.source, resolved.label, resolved.env_var) == ("vault", "default", None)
    assert resolved.value == VAULT_KEY and resolved.fingerprint == "sk-…aaaa"
    assert VAULT_KEY not in repr(resolved)
    assert manager.availability(OPENAI) == "vault"

    monkeypatch.setenv("OPENAI_API_KEY", ENV_KEY)
    resolved = manager.resolve(OPENAI)
    assert resolved is not None and (resolved.source, resolved.env_var) == ("env", "OPENAI_API_KEY")
    monkeypatch.setenv("JARVIS_OPENAI_API_KEY", VAULT_KEY + "x")
    resolved = manager.resolve(OPENAI)
    assert resolved is not None and resolved.env_var == "JARVIS_OPENAI_API_KEY"
    assert manager.availability(OPENAI) == "env"
    # A named label is always the vault's.
    manager.add("openai", ENV_KEY, "work", validate=False)
    resolved = manager.resolve(OPENAI, "work")
    assert resolved is not None and (resolved.source, resolved.value) == ("vault", ENV_KEY)


def test_resolved_values_are_registered_for_redaction(manager: KeyManager) -> None:
    manager.add("openai", VAULT_KEY, validate=False)
    KeyManager(Context()).resolve(OPENAI)
    assert redact(f"echo {VAULT_KEY}") == "echo [REDACTED]"


def test_get_counts_each_use(manager: KeyManager) -> None:
    manager.add("openai", VAULT_KEY, validate=False)
    for _ in range(3):
        assert manager.get("openai") == VAULT_KEY
    [info] = manager.list_keys("openai")
    assert info.usage_count == 3 and info.last_used is not None
    assert info.last_used >= info.created  # type: ignore[operator]


def test_get_missing_key_is_no_key_error(manager: KeyManager) -> None:
    with pytest.raises(NoKeyError, match="no key openai/default in the vault"):
        manager.get("openai")


def test_availability_does_not_import_cryptography(tmp_path: Path) -> None:
    import subprocess

    code = (
        "import sys\n"
        "from jarvis_cli.core.context import Context\n"
        "from jarvis_cli.core.vault.keys import KeyManager\n"
        "from jarvis_cli.core.providers.presets import PRESETS\n"
        "m = KeyManager(Context())\n"
        "print(m.availability(PRESETS['openai']), len(m.list_keys()), len(m.history()))\n"
        "assert 'cryptography' not in sys.modules and 'keyring' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["None", "0", "0"]


def _values(manager: KeyManager) -> dict[str, str]:
    return {k.label: manager.get("openai", k.label) for k in manager.list_keys("openai")}


@pytest.fixture
def file_manager(monkeypatch: pytest.MonkeyPatch) -> KeyManager:
    monkeypatch.delenv("JARVIS_MASTER_KEY")
    manager = KeyManager(Context(), warn=lambda _: None)
    for i in range(3):
        manager.add("openai", f"sk-state-{i}-" + "c" * 20, f"k{i}", validate=False)
    return manager


def test_crash_before_commit_leaves_old_master_key_in_charge(
    file_manager: KeyManager, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _values(file_manager)
    old_file = (home / "master.key").read_text()
    calls = {"n": 0}
    real_seal = rekey_module.seal

    def dying_seal(*args: object) -> object:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # stands in for a kill in the middle of re-sealing
        return real_seal(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(rekey_module, "seal", dying_seal)
    with pytest.raises(KeyboardInterrupt):
        file_manager.rekey()
    assert (home / "master.key.pending").exists()
    assert (home / "master.key").read_text() == old_file
    fresh = KeyManager(Context(), warn=lambda _: None)
    assert _values(fresh) == before
    monkeypatch.setattr(rekey_module, "seal", real_seal)
    assert fresh.rekey().rekeyed == 3  # the stale pending key is simply overwritten
    assert _values(KeyManager(Context())) == before


def test_crash_after_commit_before_promotion_is_finished_by_the_next_process(
    file_manager: KeyManager, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _values(file_manager)
    old_file = (home / "master.key").read_text()

    def dying_promote(*args: object) -> None:
        raise KeyboardInterrupt

    vault_class = type(file_manager.vault)
    real_promote = vault_class.promote
    monkeypatch.setattr(vault_class, "promote", dying_promote)
    with pytest.raises(KeyboardInterrupt):
        file_manager.rekey()
    monkeypatch.setattr(vault_class, "promote", real_promote)
    # Committed: rows are under the new key, which is only in the pending slot.
    assert (home / "master.key").read_text() == old_file
    pending = (home / "master.key.pending").read_text()
    fresh = KeyManager(Context(), warn=lambda _: None)
    assert _values(fresh) == before
    assert (home / "master.key").read_text() == pending  # promoted on first use
    assert not (home / "master.key.pending").exists()
