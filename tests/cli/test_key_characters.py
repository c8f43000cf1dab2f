"""A key an HTTP header cannot carry (non-ASCII letters, control characters): refused
when it is stored (exit 2), and named as the key's fault when it comes from the
environment (exit 5, no retries); it used to fail every request as a 'malformed
response' (exit 8, 'retry later'), or pass `keys add` and fail later."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jarvis_cli.core.errors import ExitCode
from tests.conftest import JarvisRunner, run_jarvis
from tests.fake_provider import FakeProvider


@pytest.mark.parametrize(
    "key",
    ["ключ-0123456789abcdef", "sk-0123456789\x01abcdef", "sk-0123\t456789abcdef"],
    ids=["cyrillic", "control", "tab"],
)
@pytest.mark.parametrize("command", ["add", "rotate"])
def test_a_key_with_characters_a_header_cannot_carry_is_refused_on_input(
    jarvis: JarvisRunner, key: str, command: str
) -> None:
    if command == "rotate":
        stored = jarvis("keys", "add", "openai", "--stdin", "--no-validate", input="sk-" + "a" * 30)
        assert stored.returncode == 0, stored.stderr
    result = jarvis("keys", command, "openai", "--stdin", "--no-validate", input=key + "\n")
    assert result.returncode == ExitCode.USAGE, result.stderr
    what = "openai API key" if command == "add" else "new openai API key"
    assert (
        f"error: the {what} given on stdin holds characters an HTTP header cannot "
        "carry (non-ASCII letters or control characters); nothing was changed"
    ) in result.stderr
    assert "hint: check what was copied" in result.stderr
    assert key not in result.stdout + result.stderr
    listed = jarvis("keys", "list", "--json")
    fingerprints = [k["fingerprint"] for k in json.loads(listed.stdout) if k["source"] == "vault"]
    assert fingerprints == ([] if command == "add" else ["sk-…aaaa"])


def test_a_non_ascii_key_from_the_environment_is_an_auth_error_not_a_retry(
    home: Path,
) -> None:
    with FakeProvider() as fake:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        (home / "config.toml").write_text(f'[providers.local]\nbase_url = "{fake.base_url}"\n')
        (home / "config.toml").chmod(0o600)
        result = run_jarvis(
            "complete", "hi", "--model", "local/fake-chat",
            env={"JARVIS_LOCAL_API_KEY": "ключ-0123456789abcdef"},
        )  # fmt: skip
        assert fake.count("/chat/completions") == 0
    assert result.returncode == ExitCode.AUTH, result.stderr
    assert (
        "error: local: the key (or a header) holds characters an HTTP header cannot carry"
    ) in result.stderr
    assert "hint: store the key as plain ASCII: `jarvis keys rotate local`" in result.stderr
    assert "retrying" not in result.stderr
    assert "ключ-0123456789abcdef" not in result.stderr
