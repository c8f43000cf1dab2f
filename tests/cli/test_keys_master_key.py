"""Master-key sources: a real keyring is used; fail / plaintext / keyrings.alt / hung
keyrings fall back to a 0600 key file with a warning, quickly; rekey per source."""

from __future__ import annotations

import base64
import json
import stat
import time
from pathlib import Path

import pytest

from jarvis_cli.core.errors import ExitCode
from tests.conftest import JarvisRunner

ROOT = Path(__file__).resolve().parents[2]
KEY_A = "sk-test-AAAAAAAAAAAAAAAA1111"
BACKENDS = "tests.crash.keyring_backends"


def no_env_master(**extra: str) -> dict[str, str | None]:
    return {"JARVIS_MASTER_KEY": None, "PYTHONPATH": str(ROOT), **extra}


def add(jarvis: JarvisRunner, env: dict[str, str | None], label: str = "default") -> str:
    result = jarvis(
        "keys", "add", "openai", "-l", label, "--stdin", "--no-validate", input=KEY_A + "\n",
        env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stderr


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(
    ("backend", "reason"),
    [
        ("keyring.backends.fail.Keyring", "keyring.backends.fail.Keyring cannot store secrets"),
        ("keyring.backends.null.Keyring", "keyring.backends.null.Keyring cannot store secrets"),
        (f"{BACKENDS}.PlaintextKeyring", "is not recommended by keyring (priority 0.5)"),
        (f"{BACKENDS}.AltLookalikeKeyring", "stores secrets in a file (keyrings.alt)"),
        (f"{BACKENDS}.HangingKeyring", "the OS keyring did not answer within 3 s"),
    ],
    ids=["fail", "null", "plaintext", "keyrings.alt", "hung"],
)
def test_untrusted_keyring_falls_back_to_key_file_with_warning(
    jarvis: JarvisRunner, home: Path, tmp_path: Path, backend: str, reason: str
) -> None:
    env = no_env_master(
        PYTHON_KEYRING_BACKEND=backend, JARVIS_TEST_KEYRING_FILE=str(tmp_path / "kr.json")
    )
    started = time.monotonic()
    stderr = add(jarvis, env)
    assert time.monotonic() - started < 5
    key_file = home / "master.key"
    assert "warning: no secure OS keyring is available (" in stderr
    assert reason in stderr
    assert f"storing a new master key in {key_file} (mode 0600)" in stderr
    assert not (tmp_path / "kr.json").exists()  # nothing was written to that keyring
    assert mode(key_file) == 0o600 and mode(home) == 0o700
    assert mode(home / "jarvis.db") == 0o600
    # The second command finds the file: no new warning, and the key opens.
    second = add(jarvis, env, "second")
    assert "warning" not in second
    result = jarvis("keys", "list", "--json", env=env)
    assert len(json.loads(result.stdout)) == 2


def test_real_keyring_holds_the_master_key_and_no_file_is_written(
    jarvis: JarvisRunner, home: Path, tmp_path: Path
) -> None:
    ring = tmp_path / "kr.json"
    env = no_env_master(
        PYTHON_KEYRING_BACKEND=f"{BACKENDS}.SecureFileKeyring", JARVIS_TEST_KEYRING_FILE=str(ring)
    )
    stderr = add(jarvis, env)
    assert "warning" not in stderr
    assert not (home / "master.key").exists()
    entries = json.loads(ring.read_text())
    [name] = entries
    assert name == f"jarvis/master-key:{home}"
    assert len(base64.b64decode(entries[name])) == 32
    doctor = json.loads(jarvis("doctor", "--json", env=env).stdout)["master_key"]
    assert doctor["source"] == "keyring" and doctor["problem"] is None

    result = jarvis("keys", "rekey", "--json", env=env)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["rekeyed"] == 1 and out["source"] == "keyring"
    after = json.loads(ring.read_text())
    assert list(after) == [name]  # the pending entry was promoted and removed
    assert after[name] != entries[name]
    assert jarvis("keys", "rotate", "openai", "--stdin", "--no-validate",
                  input=KEY_A + "\n", env=env).returncode == 0  # fmt: skip


def test_world_readable_key_file_is_refused(jarvis: JarvisRunner, home: Path) -> None:
    env = no_env_master()
    add(jarvis, env)
    (home / "master.key").chmod(0o644)
    result = jarvis("keys", "rotate", "openai", "--stdin", "--no-validate",
                    input=KEY_A + "\n", env=env)  # fmt: skip
    assert result.returncode == ExitCode.CONFIG
    assert f"error: master key file {home / 'master.key'} is accessible by group or others" in (
        result.stderr
    )
    assert f"chmod 600 {home / 'master.key'}" in result.stderr


def test_malformed_key_file_is_exit_4(jarvis: JarvisRunner, home: Path) -> None:
    env = no_env_master()
    add(jarvis, env)
    (home / "master.key").write_text("garbage\n")
    result = jarvis("keys", "validate", "openai", env=env)
    assert result.returncode == ExitCode.VAULT
    assert f"error: master key file {home / 'master.key'} is not a valid master key" in (
        result.stderr
    )


def test_rekey_with_key_file_replaces_it_after_commit(jarvis: JarvisRunner, home: Path) -> None:
    env = no_env_master()
    add(jarvis, env)
    old = (home / "master.key").read_text()
    result = jarvis("keys", "rekey", env=env)
    assert result.returncode == 0, result.stderr
    assert "re-sealed 1 key(s) under master key " in result.stderr
    assert f"it is in key file {home / 'master.key'}" in result.stderr
    assert (home / "master.key").read_text() != old
    assert mode(home / "master.key") == 0o600
    assert not (home / "master.key.pending").exists()
    history = json.loads(jarvis("keys", "history", "--json", env=env).stdout)
    assert history[-1]["event"] == "rekeyed"
    # Still opens: a rotation re-seals under the same (new) key without complaint.
    ok = jarvis("keys", "rotate", "openai", "--stdin", "--no-validate", input=KEY_A + "\n", env=env)
    assert ok.returncode == 0, ok.stderr


def test_rekey_under_env_master_key_needs_the_new_key_on_stdin(
    jarvis: JarvisRunner, home: Path
) -> None:
    add(jarvis, {})
    result = jarvis("keys", "rekey")
    assert result.returncode == ExitCode.VAULT
    assert "error: the master key comes from JARVIS_MASTER_KEY, which jarvis cannot change" in (
        result.stderr
    )
    assert "--new-key-stdin" in result.stderr
    new = base64.b64encode(b"\x07" * 32).decode()
    result = jarvis("keys", "rekey", "--new-key-stdin", input=new + "\n")
    assert result.returncode == 0, result.stderr
    assert "set JARVIS_MASTER_KEY to the new key now" in result.stderr
    assert new not in result.stderr + result.stdout
    assert not (home / "master.key").exists()
    # The old env key no longer opens the keys; the new one does.
    assert jarvis("keys", "validate", "openai").returncode == ExitCode.VAULT
    rotate = jarvis("keys", "rotate", "openai", "--stdin", "--no-validate",
                    input=KEY_A + "\n", env={"JARVIS_MASTER_KEY": new})  # fmt: skip
    assert rotate.returncode == 0, rotate.stderr


def test_rekey_of_empty_vault_is_usage_error(jarvis: JarvisRunner) -> None:
    result = jarvis("keys", "rekey")
    assert result.returncode == ExitCode.USAGE
    assert "error: the vault is empty: there is nothing to re-seal" in result.stderr


def test_doctor_reports_env_source_and_mismatch(jarvis: JarvisRunner) -> None:
    add(jarvis, {})
    data = json.loads(jarvis("doctor", "--json").stdout)["master_key"]
    assert data["source"] == "env" and data["key_id"] == data["sealed_with"]
    other = base64.b64encode(b"\x09" * 32).decode()
    data = json.loads(jarvis("doctor", "--json", env={"JARVIS_MASTER_KEY": other}).stdout)
    problem = data["master_key"]["problem"]
    assert problem["exit_code"] == 4
    assert "stored keys were sealed with master key" in problem["message"]
