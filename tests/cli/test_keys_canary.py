"""A canary key, added through every path, never shows up anywhere a person or a log
could see it: stdout, stderr, --json, the store's files, exceptions, tracebacks."""

from __future__ import annotations

import secrets
import traceback
from pathlib import Path

import pytest

from jarvis_cli.core.context import Context
from jarvis_cli.core.errors import JarvisError
from jarvis_cli.core.providers.presets import ProviderSpec
from jarvis_cli.core.vault.keys import KeyManager
from tests.conftest import JarvisRunner
from tests.fake_provider import Behavior, FakeProvider


def write_config(home: Path, base_url: str) -> None:
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    (home / "config.toml").write_text(f'[providers.openai]\nbase_url = "{base_url}"\n')
    (home / "config.toml").chmod(0o600)


@pytest.mark.slow(55)
def test_canary_never_leaks_through_any_cli_path(jarvis: JarvisRunner, home: Path) -> None:
    canary = "sk-canary-" + secrets.token_hex(16)
    good = "sk-good-" + secrets.token_hex(16)
    outputs: list[str] = []
    debug = {"JARVIS_DEBUG": "1"}

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> int:
        result = jarvis(*args, input=input, env={**debug, **(env or {})})
        outputs.append(result.stdout + result.stderr)
        return result.returncode

    # The provider accepts only `good` and echoes the Authorization header it got.
    with FakeProvider(api_key=good) as fake:
        fake.always(None, Behavior(echo_auth=True))
        write_config(home, fake.base_url)
        assert run("keys", "add", "openai", "--stdin", input=canary + "\n") == 5
        assert run("keys", "add", "openai", "--stdin", "--no-validate", input=canary + "\n") == 0
        assert run("keys", "add", "openai", "-l", "b", "--stdin", "--no-validate",
                   input=good + "\n") == 0  # fmt: skip
        assert run("keys", "rotate", "openai", "-l", "b", "--stdin", input=canary + "\n") == 5
        assert run("keys", "validate", "openai") == 5
        assert run("keys", "validate", "openai", "--json") == 5
        assert run("keys", "validate") == 5
        assert run("keys", "validate", "--json", env={"OPENAI_API_KEY": canary}) == 5
        assert run("keys", "list", "--json", env={"JARVIS_OPENAI_API_KEY": canary}) == 0
        assert run("keys", "list", env={"OPENAI_API_KEY": canary}) == 0
        # A provider that fails with a 500 echoing the key.
        fake.always(None, Behavior(status=500, echo_auth=True))
        assert run("keys", "rotate", "openai", "-l", "b", "--stdin", input=canary + "\n") == 5
        assert run("keys", "validate", "openai", "-l", "b", "--json") == 8
        # The canary did reach the provider (whose error bodies echoed it back to us).
        sent = [r for r in fake.requests if r.headers.get("Authorization") == f"Bearer {canary}"]
        assert len(sent) >= 5
    assert run("keys", "history", "--json") == 0
    assert run("keys", "add", "openai", "--stdin", "--no-validate", canary) == 2
    assert run("keys", "rekey", "--new-key-stdin", input="sk-canary-not-a-master-key\n") == 4
    assert run("keys", "rekey", "--new-key-stdin", input=canary + "\n") == 4
    assert run("doctor", "--json") in (0, 3, 4, 5)

    assert len(outputs) == 17
    for text in outputs:
        assert canary not in text
    for path in home.iterdir():
        if path.is_file():
            assert canary.encode() not in path.read_bytes(), path.name


@pytest.mark.parametrize(
    "behavior",
    [Behavior(echo_auth=True), Behavior(status=500, echo_auth=True)],
    ids=["401-echo", "500-echo"],
)
def test_check_key_exceptions_and_tracebacks_hold_no_key(home: Path, behavior: Behavior) -> None:
    canary = "sk-canary-" + secrets.token_hex(16)
    with FakeProvider(api_key="sk-the-right-one-0000000000") as fake:
        fake.always(None, behavior)
        spec = ProviderSpec("openai", fake.base_url)
        manager = KeyManager(Context())
        with pytest.raises(JarvisError) as info:
            manager.check_key(spec, canary)
    text = "".join(traceback.format_exception(info.value))
    assert canary not in text
    assert canary not in repr(info.value.args)
    assert info.value.__cause__ is None and info.value.__suppress_context__
