"""The vault in-process: sealing, master-key ids, keyring backend checks, timeouts."""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest

from jarvis_cli.core.errors import VaultError
from jarvis_cli.core.vault.master_keys import (
    KeyringTimeoutError,
    backend_rejection,
    call_with_timeout,
    decode_master_key,
)
from jarvis_cli.core.vault.sealing import MasterKey, Sealed, master_key_id, open_sealed, seal

MASTER = MasterKey(bytes(range(32)), "env", "JARVIS_MASTER_KEY")
OTHER = MasterKey(b"\x01" * 32, "file", "key file /x/master.key")
VALUE = "sk-test-" + "q" * 30


def test_seal_then_open_round_trips_with_a_fresh_nonce_each_time() -> None:
    first = seal(MASTER, "openai", "default", VALUE)
    second = seal(MASTER, "openai", "default", VALUE)
    assert first.nonce != second.nonce and first.ciphertext != second.ciphertext
    assert len(first.nonce) == 12
    assert first.key_id == MASTER.key_id
    assert open_sealed(MASTER, "openai", "default", first) == VALUE


def test_master_key_id_is_stable_short_and_distinct() -> None:
    assert master_key_id(MASTER.key) == master_key_id(bytes(range(32)))
    assert len(MASTER.key_id) == 16
    assert MASTER.key_id != OTHER.key_id
    assert "key=" not in repr(MASTER)  # the key itself is never in a repr


@pytest.mark.parametrize(("provider", "label"), [("groq", "default"), ("openai", "work")])
def test_a_ciphertext_opens_only_in_its_own_row(provider: str, label: str) -> None:
    sealed = seal(MASTER, "openai", "default", VALUE)
    with pytest.raises(VaultError) as info:
        open_sealed(MASTER, provider, label, sealed)
    assert f"key {provider}/{label} failed to open" in info.value.message
    assert info.value.exit_code == 4


def test_wrong_master_key_is_reported_by_id_before_decrypting() -> None:
    sealed = seal(MASTER, "openai", "default", VALUE)
    with pytest.raises(VaultError) as info:
        open_sealed(OTHER, "openai", "default", sealed)
    assert info.value.message == (
        f"key openai/default was sealed with master key {MASTER.key_id}, but the current "
        f"master key is {OTHER.key_id} (from key file /x/master.key)"
    )


def test_a_forged_key_id_does_not_help_a_wrong_master_key() -> None:
    sealed = seal(MASTER, "openai", "default", VALUE)
    forged = Sealed(OTHER.key_id, sealed.nonce, sealed.ciphertext)
    with pytest.raises(VaultError, match="failed to open"):
        open_sealed(OTHER, "openai", "default", forged)


def test_truncated_nonce_fails_closed() -> None:
    sealed = seal(MASTER, "openai", "default", VALUE)
    with pytest.raises(VaultError, match="failed to open"):
        open_sealed(MASTER, "openai", "default", Sealed(sealed.key_id, b"\x00" * 8, b"x" * 20))


@pytest.mark.parametrize(
    "text", ["", "!!!", base64.b64encode(b"x" * 31).decode(), base64.b64encode(b"x" * 33).decode()]
)
def test_decode_master_key_wants_base64_of_32_bytes(text: str) -> None:
    with pytest.raises(VaultError) as info:
        decode_master_key(text, "JARVIS_MASTER_KEY")
    assert "expected base64 of 32 bytes" in info.value.message
    assert info.value.exit_code == 4


def test_decode_master_key_accepts_surrounding_whitespace() -> None:
    assert decode_master_key(" " + base64.b64encode(b"k" * 32).decode() + "\n", "x") == b"k" * 32


class _Backend:
    priority: Any = 5


def _backend(module: str, priority: Any = 5) -> Any:
    cls = type("Keyring", (_Backend,), {"priority": priority})
    cls.__module__ = module
    return cls()


def test_backend_rejection_accepts_only_real_recommended_backends() -> None:
    import keyring.backends.fail
    import keyring.backends.null

    assert "cannot store secrets" in str(backend_rejection(keyring.backends.fail.Keyring()))
    assert "cannot store secrets" in str(backend_rejection(keyring.backends.null.Keyring()))
    assert "keyrings.alt" in str(backend_rejection(_backend("keyrings.alt.file")))
    assert "priority 0.5" in str(backend_rejection(_backend("some.plaintext", 0.5)))
    assert backend_rejection(_backend("keyring.backends.SecretService")) is None


def test_backend_whose_priority_raises_is_rejected() -> None:
    # keyring backends report "not viable here" by raising from `priority`.
    assert "is not usable (RuntimeError)" in str(backend_rejection(_raising_backend()))


def _raising_backend() -> Any:
    class Meta(type):
        @property
        def priority(cls) -> float:
            raise RuntimeError("no D-Bus")

    return Meta("Keyring", (), {})()


def test_call_with_timeout_gives_up_on_a_hung_call() -> None:
    started = time.monotonic()
    with pytest.raises(KeyringTimeoutError):
        call_with_timeout(lambda: time.sleep(5), timeout_s=0.2)
    assert time.monotonic() - started < 1
    assert call_with_timeout(lambda: 42, timeout_s=1) == 42
    with pytest.raises(ZeroDivisionError):
        call_with_timeout(lambda: 1 / 0, timeout_s=1)
