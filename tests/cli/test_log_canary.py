"""The content log and keys: a key typed into a prompt is the user's data and is logged;
a key from the vault or the environment never reaches the log, even when a provider
echoes it back in an answer."""

from __future__ import annotations

import secrets
from pathlib import Path

from tests.cli.test_complete import write_config
from tests.conftest import JarvisRunner
from tests.fake_provider import Behavior, FakeProvider


def _store_bytes(home: Path) -> bytes:
    return b"".join(p.read_bytes() for p in home.iterdir() if p.name.startswith("jarvis.db"))


def test_vault_and_env_keys_never_reach_the_content_log(home: Path, jarvis: JarvisRunner) -> None:
    vault_key = "sk-vault-" + secrets.token_hex(16)
    env_key = "sk-env-" + secrets.token_hex(16)
    typed = "sk-typed-by-the-user-" + secrets.token_hex(8)
    with (
        FakeProvider(api_key=vault_key) as alpha,
        FakeProvider(api_key=env_key) as beta,
    ):
        write_config(
            home,
            f'[providers.alpha]\nbase_url = "{alpha.base_url}"\n'
            f'[providers.beta]\nbase_url = "{beta.base_url}"\n',
        )
        added = jarvis("keys", "add", "alpha", "--stdin", "--no-validate", input=vault_key + "\n")
        assert added.returncode == 0, added.stderr
        env = {"JARVIS_BETA_API_KEY": env_key}
        # A hostile provider answers with the key it was sent; the first attempt fails with
        # an error body that echoes the Authorization header.
        alpha.script("fake-chat", Behavior(status=503, echo_auth=True))
        alpha.script("fake-chat", Behavior(text=f"your key is {vault_key}"))
        first = jarvis(
            "complete", f"remember {typed}", "-m", "alpha/fake-chat", "--retries", "1",
            "--no-stream", env=env,
        )  # fmt: skip
        assert first.returncode == 0, first.stderr
        beta.script("fake-chat", Behavior(text=f"and mine is {env_key}"))
        second = jarvis("complete", "-c", "go on", "-m", "beta/fake-chat", env=env)
        assert second.returncode == 0, second.stderr
        logged = jarvis("log", "--json", env=env)
        shown = jarvis("log", "-q", "remember", "--json", env=env)
    stored = _store_bytes(home)
    assert typed.encode() in stored  # the user's own text is kept
    assert typed in shown.stdout
    for key in (vault_key, env_key):
        assert key.encode() not in stored
        assert key not in logged.stdout and key not in shown.stdout
    assert "[REDACTED]" in logged.stdout
