"""Malformed vault rows fail closed: every damaged shape of an api_keys row (TEXT
where a BLOB belongs, truncated blobs, NULLs, wrong types) is a vault error (exit 4)
naming the row, for keys list/validate/rotate/rekey and complete, and the store is
left exactly as it was."""

from __future__ import annotations

import base64
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import JarvisRunner
from tests.fake_provider import FakeProvider

KEY = "sk-local-MALFORMED-0123456789abcdef"
NEW_MASTER = base64.b64encode(bytes(range(100, 132))).decode()

# A hand-edited store may drop the NOT NULL constraints; rebuild the table without them.
_UNCONSTRAINED = """
CREATE TABLE api_keys_loose AS SELECT * FROM api_keys;
DROP TABLE api_keys;
ALTER TABLE api_keys_loose RENAME TO api_keys;
"""

CASES = {
    "nonce_text": ("UPDATE api_keys SET nonce = 'abcdefghijkl'", "nonce is TEXT"),
    "ciphertext_text": (
        "UPDATE api_keys SET ciphertext = 'not a blob at all, just text'",
        "ciphertext is TEXT",
    ),
    "nonce_truncated": ("UPDATE api_keys SET nonce = substr(nonce, 1, 5)", "nonce is BLOB of 5"),
    "ciphertext_truncated": (
        "UPDATE api_keys SET ciphertext = substr(ciphertext, 1, 10)",
        "ciphertext is BLOB of 10",
    ),
    "nonce_null": (_UNCONSTRAINED + "UPDATE api_keys SET nonce = NULL", "nonce is NULL"),
    "key_id_null": (_UNCONSTRAINED + "UPDATE api_keys SET key_id = NULL", "key_id is NULL"),
    "key_id_blob": ("UPDATE api_keys SET key_id = X'00ff'", "key_id is BLOB"),
    "created_text": ("UPDATE api_keys SET created = 'yesterday'", "created is TEXT"),
    "usage_count_text": ("UPDATE api_keys SET usage_count = 'many'", "usage_count is TEXT"),
}


def _snapshot(db: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        keys = conn.execute("SELECT * FROM api_keys ORDER BY rowid").fetchall()
        events = conn.execute("SELECT * FROM key_events ORDER BY id").fetchall()
        calls = conn.execute("SELECT count(*) FROM calls").fetchall()
        return [*keys, ("events", *events), ("calls", *calls)]
    finally:
        conn.close()


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_malformed_row_is_a_vault_error_and_changes_nothing(
    case: str, home: Path, jarvis: JarvisRunner, fake_provider: FakeProvider
) -> None:
    assert jarvis("providers", "add", "local", "--base-url", fake_provider.base_url).returncode == 0
    added = jarvis("keys", "add", "local", "--stdin", "--no-validate", input=KEY + "\n")
    assert added.returncode == 0, added.stderr
    sql, expected = CASES[case]
    db = home / "jarvis.db"
    conn = sqlite3.connect(db)
    conn.executescript(sql)
    conn.commit()
    conn.close()
    before = _snapshot(db)
    commands: list[tuple[list[str], str | None]] = [
        (["keys", "list"], None),
        (["keys", "list", "--json"], None),
        (["keys", "validate"], None),
        (["keys", "validate", "local"], None),
        (["keys", "rotate", "local", "--stdin", "--no-validate"], KEY + "-new\n"),
        (["keys", "rekey", "--new-key-stdin"], NEW_MASTER + "\n"),
        (["complete", "hi", "--model", "local/fake-chat"], None),
    ]
    for args, stdin in commands:
        proc = jarvis(*args, input=stdin)
        assert proc.returncode == 4, (args, proc.stdout, proc.stderr)
        assert "error: key local/default is malformed in the store" in proc.stderr, args
        assert expected in proc.stderr, (args, proc.stderr)
        assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
        assert KEY not in proc.stdout + proc.stderr
        assert _snapshot(db) == before, args
    assert fake_provider.count() == 0  # nothing was sent with a key that did not open


def test_a_malformed_row_can_still_be_deleted(
    home: Path, jarvis: JarvisRunner, fake_provider: FakeProvider
) -> None:
    assert jarvis("providers", "add", "local", "--base-url", fake_provider.base_url).returncode == 0
    assert jarvis("keys", "add", "local", "--stdin", "--no-validate", input=KEY).returncode == 0
    conn = sqlite3.connect(home / "jarvis.db")
    conn.execute("UPDATE api_keys SET nonce = 'abcdefghijkl'")
    conn.commit()
    conn.close()
    listed = jarvis("keys", "list")
    assert listed.returncode == 4 and "jarvis keys delete local --label default" in listed.stderr
    assert jarvis("keys", "delete", "local", "--yes").returncode == 0
    assert jarvis("keys", "list").returncode == 0
