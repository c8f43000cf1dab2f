"""A stored key that does not open fails closed: exit 4, a message naming the key, and
nothing in the store changes."""

from __future__ import annotations

import base64
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from jarvis_cli.core.context import Context
from jarvis_cli.core.errors import ExitCode
from jarvis_cli.core.vault.keys import KeyManager
from tests.conftest import JarvisRunner

KEY_A = "sk-test-AAAAAAAAAAAAAAAA1111"
KEY_B = "gsk_test_BBBBBBBBBBBBBBBB2222"
OTHER_MASTER = base64.b64encode(b"\x42" * 32).decode()


def store(provider: str, key: str, label: str = "default") -> None:
    """Set-up shortcut: store a key in-process (the CLI path itself is tested separately)."""
    ctx = Context()
    try:
        KeyManager(ctx).add(provider, key, label, validate=False)
    finally:
        ctx.close()


def snapshot(home: Path) -> tuple[list[Any], list[Any], list[Any]]:
    conn = sqlite3.connect(home / "jarvis.db")
    try:
        return (
            conn.execute("SELECT * FROM api_keys ORDER BY provider, label").fetchall(),
            conn.execute("SELECT * FROM key_events ORDER BY id").fetchall(),
            conn.execute("SELECT * FROM meta ORDER BY key").fetchall(),
        )
    finally:
        conn.close()


def flip_bit(home: Path, column: str, index: int) -> None:
    conn = sqlite3.connect(home / "jarvis.db")
    (blob,) = conn.execute(f"SELECT {column} FROM api_keys").fetchone()
    data = bytearray(blob)
    data[index] ^= 0x01
    conn.execute(f"UPDATE api_keys SET {column} = ?", (bytes(data),))
    conn.commit()
    conn.close()


def assert_fails_closed(jarvis: JarvisRunner, home: Path, message: str, **kw: Any) -> None:
    before = snapshot(home)
    for args in (("keys", "validate", "openai"), ("keys", "rekey", "--new-key-stdin")):
        result = jarvis(*args, input=OTHER_MASTER + "\n", **kw)
        assert result.returncode == ExitCode.VAULT, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
        assert snapshot(home) == before, args


@pytest.mark.parametrize(
    ("column", "index"),
    [("nonce", 0), ("nonce", 11), ("ciphertext", 0), ("ciphertext", -1), ("ciphertext", -16)],
    ids=["nonce-first", "nonce-last", "ciphertext", "tag-last", "tag-first"],
)
def test_flipped_bit_fails_closed(
    jarvis: JarvisRunner, home: Path, column: str, index: int
) -> None:
    store("openai", KEY_A)
    flip_bit(home, column, index)
    assert_fails_closed(
        jarvis, home, "error: key openai/default failed to open: its nonce, ciphertext or tag"
    )


def test_wrong_master_key_names_both_key_ids(jarvis: JarvisRunner, home: Path) -> None:
    store("openai", KEY_A)
    wrong = {"JARVIS_MASTER_KEY": OTHER_MASTER}
    before = snapshot(home)
    result = jarvis("keys", "validate", "openai", env=wrong)
    assert result.returncode == ExitCode.VAULT
    assert "error: key openai/default was sealed with master key " in result.stderr
    assert "but the current master key is " in result.stderr
    assert "(from JARVIS_MASTER_KEY)" in result.stderr
    # Sealing a new key under a different master key would mix them: refused too.
    result = jarvis(
        "keys", "add", "groq", "--stdin", "--no-validate", input=KEY_B + "\n", env=wrong
    )
    assert result.returncode == ExitCode.VAULT
    assert "refusing to mix master keys" in result.stderr
    assert snapshot(home) == before


def test_ciphertext_copied_to_another_row_fails_closed(jarvis: JarvisRunner, home: Path) -> None:
    store("openai", KEY_A)
    store("groq", KEY_B)
    conn = sqlite3.connect(home / "jarvis.db")
    nonce, ciphertext = conn.execute(
        "SELECT nonce, ciphertext FROM api_keys WHERE provider = 'openai'"
    ).fetchone()
    conn.execute(
        "UPDATE api_keys SET nonce = ?, ciphertext = ? WHERE provider = 'groq'", (nonce, ciphertext)
    )
    conn.commit()
    conn.close()
    before = snapshot(home)
    result = jarvis("keys", "validate", "groq")
    assert result.returncode == ExitCode.VAULT
    assert "error: key groq/default failed to open" in result.stderr
    assert "copied from another row" in result.stderr
    assert snapshot(home) == before


def test_malformed_master_key_env_is_exit_4(jarvis: JarvisRunner) -> None:
    for bad in ("not base64!!", base64.b64encode(b"short").decode()):
        result = jarvis(
            "keys", "add", "openai", "--stdin", "--no-validate", input=KEY_A + "\n",
            env={"JARVIS_MASTER_KEY": bad},
        )  # fmt: skip
        assert result.returncode == ExitCode.VAULT
        assert (
            "error: JARVIS_MASTER_KEY is not a valid master key: expected base64 of 32 bytes"
            in (result.stderr)
        )
        assert bad not in result.stderr


def test_missing_master_key_with_stored_keys_is_exit_4(jarvis: JarvisRunner, home: Path) -> None:
    no_env = {"JARVIS_MASTER_KEY": None}
    store("openai", KEY_A)  # sealed with the env key; no key file, no keyring
    result = jarvis("keys", "validate", "openai", env=no_env)
    assert result.returncode == ExitCode.VAULT
    assert "error: no master key found, but 1 stored key(s) were sealed with master key" in (
        result.stderr
    )
    assert "(first: openai/default)" in result.stderr
    assert not (home / "master.key").exists()  # never silently replaced by a new one
