"""`jarvis keys`: add, list, rotate, delete, validate, history, through the real CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from jarvis_cli.core.context import Context
from jarvis_cli.core.errors import ExitCode
from jarvis_cli.core.vault.keys import KeyManager
from tests.conftest import JarvisRunner
from tests.fake_provider import Behavior, FakeProvider
from tests.store_access import query

# Every test runs on the local SQLite store and on a PostgreSQL team store (issue 16).
pytestmark = pytest.mark.usefixtures("store_backend")

KEY_A = "sk-test-AAAAAAAAAAAAAAAA1111"
KEY_B = "sk-test-BBBBBBBBBBBBBBBB2222"


def write_config(home: Path, text: str) -> None:
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = home / "config.toml"
    path.write_text(text)
    path.chmod(0o600)


def point_openai_at(home: Path, fake: FakeProvider) -> None:
    write_config(home, f'[providers.openai]\nbase_url = "{fake.base_url}"\n')


@pytest.fixture
def openai_fake(home: Path) -> Iterator[FakeProvider]:
    """A loopback 'openai' that accepts only KEY_A."""
    with FakeProvider(api_key=KEY_A) as fake:
        point_openai_at(home, fake)
        yield fake


def store(provider: str, key: str, label: str = "default") -> None:
    """Set-up shortcut: store a key in-process (the CLI path itself is tested separately)."""
    ctx = Context()
    try:
        KeyManager(ctx).add(provider, key, label, validate=False)
    finally:
        ctx.close()


def add(jarvis: JarvisRunner, provider: str, key: str, *extra: str) -> None:
    result = jarvis("keys", "add", provider, "--stdin", "--no-validate", *extra, input=key + "\n")
    assert result.returncode == 0, result.stderr


def list_json(jarvis: JarvisRunner, *args: str) -> list[dict[str, object]]:
    result = jarvis("keys", "list", "--json", *args)
    assert result.returncode == 0, result.stderr
    data: list[dict[str, object]] = json.loads(result.stdout)
    return data


def test_add_then_list_shows_fingerprint_and_counters(jarvis: JarvisRunner) -> None:
    result = jarvis("keys", "add", "openai", "--stdin", "--no-validate", input=KEY_A + "\n")
    assert result.returncode == 0
    assert result.stdout == ""
    assert "stored openai/default (sk-…1111), not checked (--no-validate)" in result.stderr
    [key] = list_json(jarvis)
    assert key["provider"] == "openai"
    assert key["label"] == "default"
    assert key["fingerprint"] == "sk-…1111"
    assert key["source"] == "vault"
    assert key["status"] == "unverified"
    assert key["usage_count"] == 0
    assert key["rotation_count"] == 0
    assert key["last_used"] is None
    assert isinstance(key["created"], str) and key["created"] == key["updated"]
    assert set(key) == {
        "provider", "label", "source", "env_var", "fingerprint", "created", "updated",
        "last_used", "usage_count", "rotation_count", "status", "in_use", "key_id",
    }  # fmt: skip


def test_add_with_same_label_replaces_and_keeps_created(jarvis: JarvisRunner) -> None:
    store("openai", KEY_A)
    [before] = list_json(jarvis)
    store("openai", KEY_B)
    [after] = list_json(jarvis)
    assert after["fingerprint"] == "sk-…2222"
    assert after["created"] == before["created"]
    events = json.loads(jarvis("keys", "history", "--json").stdout)
    assert [e["event"] for e in events] == ["added", "replaced"]


def test_labels_keep_several_keys_per_provider(jarvis: JarvisRunner) -> None:
    store("openai", KEY_A)
    store("openai", KEY_B, "work")
    store("groq", "gsk_" + "x" * 30)
    keys = list_json(jarvis)
    assert [(k["provider"], k["label"]) for k in keys] == [
        ("groq", "default"),
        ("openai", "default"),
        ("openai", "work"),
    ]
    assert [k["label"] for k in list_json(jarvis, "openai")] == ["default", "work"]


def test_list_table_for_humans(jarvis: JarvisRunner) -> None:
    store("openai", KEY_A)
    result = jarvis("keys", "list")
    assert result.returncode == 0
    assert "openai" in result.stdout and "sk-…1111" in result.stdout
    assert "unverified" in result.stdout


def test_list_empty_says_how_to_add(jarvis: JarvisRunner) -> None:
    result = jarvis("keys", "list")
    assert result.returncode == 0
    assert result.stdout == ""
    assert "jarvis keys add PROVIDER" in result.stderr
    assert list_json(jarvis) == []


def test_env_key_is_listed_with_source_env_and_overrides_vault(
    jarvis: JarvisRunner,
) -> None:
    store("openai", KEY_A)
    env = {"OPENAI_API_KEY": KEY_B}
    result = jarvis("keys", "list", "--json", env=env)
    keys = json.loads(result.stdout)
    by_source = {k["source"]: k for k in keys}
    assert by_source["env"]["env_var"] == "OPENAI_API_KEY"
    assert by_source["env"]["fingerprint"] == "sk-…2222"
    assert by_source["env"]["in_use"] is True
    assert by_source["vault"]["in_use"] is False
    # JARVIS_<PROVIDER>_API_KEY beats the conventional variable.
    env["JARVIS_OPENAI_API_KEY"] = KEY_A
    [env_key] = [
        k for k in json.loads(jarvis("keys", "list", "--json", env=env).stdout)
        if k["source"] == "env"
    ]  # fmt: skip
    assert env_key["env_var"] == "JARVIS_OPENAI_API_KEY"


def test_add_without_terminal_or_stdin_fails_clearly(jarvis: JarvisRunner, home: Path) -> None:
    result = jarvis("keys", "add", "openai")
    assert result.returncode == ExitCode.USAGE
    assert "error: no terminal to prompt for the openai API key" in result.stderr
    assert "--stdin" in result.stderr
    assert not (home / "jarvis.db").exists()


def test_add_with_empty_stdin_is_usage_error(jarvis: JarvisRunner) -> None:
    result = jarvis("keys", "add", "openai", "--stdin", input="\n")
    assert result.returncode == ExitCode.USAGE
    assert "error: no openai API key was given on stdin (empty input)" in result.stderr


def test_add_reads_only_the_first_line_of_stdin(jarvis: JarvisRunner) -> None:
    add(jarvis, "openai", KEY_A + "\nsecond line that is not the key")
    assert list_json(jarvis)[0]["fingerprint"] == "sk-…1111"


def test_add_unknown_provider_is_usage_error(jarvis: JarvisRunner) -> None:
    result = jarvis("keys", "add", "nosuch", "--stdin", input=KEY_A + "\n")
    assert result.returncode == ExitCode.USAGE
    assert "error: unknown provider 'nosuch'" in result.stderr


def test_add_bad_label_is_usage_error(jarvis: JarvisRunner) -> None:
    result = jarvis(
        "keys", "add", "openai", "--label", "no spaces", "--stdin", "--no-validate",
        input=KEY_A + "\n",
    )  # fmt: skip
    assert result.returncode == ExitCode.USAGE
    assert "error: bad label 'no spaces'" in result.stderr


def test_there_is_no_option_taking_the_key_in_argv(jarvis: JarvisRunner) -> None:
    for command in ("add", "rotate"):
        help_text = jarvis("keys", command, "--help").stdout
        assert "--key" not in help_text and "--value" not in help_text
        result = jarvis("keys", command, "openai", KEY_A)
        assert result.returncode == ExitCode.USAGE
        assert KEY_A not in result.stderr + result.stdout


def test_rotate_increments_count_and_keeps_created(jarvis: JarvisRunner) -> None:
    store("openai", KEY_A)
    [before] = list_json(jarvis)
    result = jarvis("keys", "rotate", "openai", "--stdin", "--no-validate", input=KEY_B + "\n")
    assert result.returncode == 0, result.stderr
    assert "rotated openai/default to sk-…2222 (rotation 1)" in result.stderr
    [after] = list_json(jarvis)
    assert after["rotation_count"] == 1
    assert after["created"] == before["created"]
    assert after["fingerprint"] == "sk-…2222"
    events = json.loads(jarvis("keys", "history", "openai", "--json").stdout)
    assert events[-1]["event"] == "rotated"
    assert events[-1]["detail"] == "sk-…1111 -> sk-…2222, unverified"


def test_rotate_missing_key_exits_5(jarvis: JarvisRunner) -> None:
    result = jarvis("keys", "rotate", "openai", "--stdin", "--no-validate", input=KEY_B + "\n")
    assert result.returncode == ExitCode.AUTH
    assert "error: no key openai/default in the vault" in result.stderr
    assert "jarvis keys add openai" in result.stderr


def test_delete_needs_yes_without_terminal(jarvis: JarvisRunner) -> None:
    store("openai", KEY_A)
    result = jarvis("keys", "delete", "openai")
    assert result.returncode == ExitCode.USAGE
    assert "error: refusing to delete openai/default without confirmation" in result.stderr
    assert len(list_json(jarvis)) == 1
    result = jarvis("keys", "delete", "openai", "--yes")
    assert result.returncode == 0
    assert "deleted openai/default" in result.stderr
    assert list_json(jarvis) == []
    events = json.loads(jarvis("keys", "history", "--json").stdout)
    assert [e["event"] for e in events] == ["added", "deleted"]
    assert all(e["at"] for e in events)


def test_delete_missing_key_exits_5(jarvis: JarvisRunner) -> None:
    result = jarvis("keys", "delete", "openai", "--label", "gone", "--yes")
    assert result.returncode == ExitCode.AUTH
    assert "error: no key openai/gone in the vault" in result.stderr


def test_history_table_and_empty(jarvis: JarvisRunner) -> None:
    result = jarvis("keys", "history")
    assert result.returncode == 0
    assert "no key events yet" in result.stderr
    store("openai", KEY_A)
    result = jarvis("keys", "history")
    assert "added" in result.stdout and "openai" in result.stdout


# --- validation against a loopback provider -------------------------------------------


def test_add_validates_with_the_provider(jarvis: JarvisRunner, openai_fake: FakeProvider) -> None:
    result = jarvis("keys", "add", "openai", "--stdin", input=KEY_A + "\n")
    assert result.returncode == 0, result.stderr
    assert "checked with the provider" in result.stderr
    assert openai_fake.count("/models") == 1
    assert list_json(jarvis)[0]["status"] == "valid"


def test_add_rejected_key_exits_5_and_stores_nothing(
    jarvis: JarvisRunner, openai_fake: FakeProvider
) -> None:
    result = jarvis("keys", "add", "openai", "--stdin", input=KEY_B + "\n")
    assert result.returncode == ExitCode.AUTH
    assert "error: openai rejected the key sk-…2222 (HTTP 401)" in result.stderr
    assert "nothing was changed" in result.stderr
    assert list_json(jarvis) == []


def test_rotate_rejected_key_keeps_old_key_working(
    jarvis: JarvisRunner, openai_fake: FakeProvider
) -> None:
    store("openai", KEY_A)
    result = jarvis("keys", "rotate", "openai", "--stdin", input=KEY_B + "\n")
    assert result.returncode == ExitCode.AUTH
    assert "error: openai rejected the key sk-…2222 (HTTP 401)" in result.stderr
    [key] = list_json(jarvis)
    assert key["rotation_count"] == 0
    assert key["fingerprint"] == "sk-…1111"
    # The old key still opens and still works with the provider.
    result = jarvis("keys", "validate", "openai", "--json")
    assert result.returncode == 0, result.stderr
    [check] = json.loads(result.stdout)
    assert check["result"] == "valid" and check["fingerprint"] == "sk-…1111"


def test_rotate_with_provider_down_exits_8_and_changes_nothing(
    jarvis: JarvisRunner, home: Path
) -> None:
    store("openai", KEY_A)
    with FakeProvider() as fake:
        point_openai_at(home, fake)
        fake.always(None, Behavior(status=503))
        result = jarvis("keys", "rotate", "openai", "--stdin", input=KEY_B + "\n")
    assert result.returncode == ExitCode.PROVIDER
    assert "error: could not check the key sk-…2222 with openai" in result.stderr
    assert "--no-validate" in result.stderr
    assert list_json(jarvis)[0]["fingerprint"] == "sk-…1111"


def test_validate_rejected_exits_5_and_marks_status(
    jarvis: JarvisRunner, openai_fake: FakeProvider
) -> None:
    store("openai", KEY_B)
    result = jarvis("keys", "validate", "openai", "--json")
    assert result.returncode == ExitCode.AUTH
    [check] = json.loads(result.stdout)
    assert check == {
        "provider": "openai",
        "label": "default",
        "source": "vault",
        "fingerprint": "sk-…2222",
        "ok": False,
        "result": "rejected",
        "message": "openai rejected the key sk-…2222 (HTTP 401)",
        "exit_code": 5,
    }
    assert "error: openai/default: openai rejected the key" in result.stderr
    [key] = list_json(jarvis)
    assert key["status"] == "rejected"
    assert key["usage_count"] == 1 and key["last_used"] is not None
    events = json.loads(jarvis("keys", "history", "--json").stdout)
    assert (events[-1]["event"], events[-1]["detail"]) == ("validated", "rejected")


def test_validate_env_key_reports_source_env(
    jarvis: JarvisRunner, openai_fake: FakeProvider
) -> None:
    result = jarvis("keys", "validate", "openai", "--json", env={"OPENAI_API_KEY": KEY_A})
    assert result.returncode == 0, result.stderr
    [check] = json.loads(result.stdout)
    assert (check["source"], check["label"], check["result"]) == ("env", None, "valid")


def test_validate_all_checks_every_key_in_use(
    jarvis: JarvisRunner, openai_fake: FakeProvider, home: Path
) -> None:
    store("openai", KEY_A)
    store("openai", KEY_B, "old")
    result = jarvis("keys", "validate")
    assert result.returncode == ExitCode.AUTH
    assert "valid" in result.stdout and "rejected" in result.stdout


def test_validate_without_key_exits_5_naming_env_vars(jarvis: JarvisRunner) -> None:
    result = jarvis("keys", "validate", "groq")
    assert result.returncode == ExitCode.AUTH
    assert "error: no key for groq" in result.stderr
    assert "JARVIS_GROQ_API_KEY or GROQ_API_KEY" in result.stderr


def test_list_does_not_import_cryptography(home: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from jarvis_cli.cli import run\n"
        "assert run(['keys', 'list', '--json']) == 0\n"
        "bad = [m for m in ('cryptography', 'keyring', 'openai') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", "from jarvis_cli.cli import run; "
                    "import sys; sys.exit(run(['keys','add','openai','--stdin','--no-validate']))"],
                   input=KEY_A + "\n", text=True, check=True, capture_output=True)  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_store_rows_hold_no_plaintext(jarvis: JarvisRunner, home: Path) -> None:
    store("openai", KEY_A)
    (row,) = query(home, "SELECT nonce, ciphertext, fingerprint FROM api_keys")
    assert len(row[0]) == 12
    assert KEY_A.encode() not in row[1]
    assert len(row[1]) == len(KEY_A) + 16  # GCM tag
