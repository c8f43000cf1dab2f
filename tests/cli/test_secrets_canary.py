"""Secrets never echo: a key typed where a name goes, a password in a base URL, and the
developer's OpenAI org/project ids. Every output, the store and config files, and the
request headers a loopback provider receives are searched for the canary."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from tests.conftest import JarvisRunner

HINT = "that looks like an API key: keys are read from a prompt or `--stdin`, never from arguments"


def _files_hold(home: Path, canary: str) -> list[str]:
    if not home.exists():
        return []
    return [
        str(p.relative_to(home))
        for p in home.rglob("*")
        if p.is_file() and canary.encode() in p.read_bytes()
    ]


# --- 1. a key typed as an argument -----------------------------------------------------

# {K} is the canary key. Each command quotes it back in some error path today or did.
KEY_AS_ARGUMENT = [
    "{K}",
    "keys {K}",
    "--{K}",
    "keys add {K} --stdin",
    "keys rotate {K} --stdin",
    "keys validate {K}",
    "keys validate {K} --json",
    "keys delete {K}",
    "keys delete {K} --yes",
    "keys history {K}",
    "keys history {K} --json",
    "keys list {K}",
    "keys list {K} --json",
    "keys add openai --label {K} --stdin --no-validate",
    "providers show {K}",
    "providers show {K} --json",
    "providers show openai {K}",
    "providers remove {K}",
    "providers add {K} --base-url http://127.0.0.1:9/v1",
    "models sync {K}",
    "models sync {K} --json",
    "models show {K}",
    "models show openai/{K} --json",
    "models set openai/{K} --context 5",
    "select --model openai/{K} --json",
    "select --provider {K} --json",
    "select --strategy {K}",
    "complete --model {K} hi --no-stdin",
    "complete --fallback openai/{K} hi --no-stdin --json",
]


@pytest.mark.parametrize("command", KEY_AS_ARGUMENT)
def test_key_typed_as_an_argument_is_redacted_with_a_hint_and_exit_2(
    jarvis: JarvisRunner, home: Path, command: str
) -> None:
    canary = "sk-CANARY-" + secrets.token_hex(16)
    args = command.replace("{K}", canary).split()
    result = jarvis(*args, input="")
    assert result.returncode == 2, result.stderr
    assert canary not in result.stdout
    assert canary not in result.stderr
    assert "REDACTED" in result.stderr
    # Typer's own errors draw a box that may wrap the hint: compare without layout.
    flat = " ".join(result.stderr.replace("│", " ").split())
    assert HINT in flat
    assert _files_hold(home, canary) == []


@pytest.mark.parametrize(
    "key",
    [
        "sk-ant-api03-" + secrets.token_urlsafe(40),
        "sk-proj-" + secrets.token_urlsafe(60),
        "gsk_" + secrets.token_urlsafe(39),
        "AIzaSy" + secrets.token_urlsafe(25),
        "xai-" + secrets.token_urlsafe(60),
        "q8Zr4TtW2mLp0XvY7nB3kD9s",  # no known prefix: long and high-entropy
    ],
    ids=["anthropic", "openai-project", "groq", "gemini", "xai", "high-entropy"],
)
def test_each_key_shape_pasted_as_provider_is_not_echoed(jarvis: JarvisRunner, key: str) -> None:
    result = jarvis("keys", "add", key, "--stdin", input="")
    assert result.returncode == 2
    assert key not in result.stdout + result.stderr
    assert "error: unknown provider '[REDACTED]'" in result.stderr
    assert f"hint: {HINT}" in result.stderr


def test_ordinary_unknown_provider_is_still_named_and_gets_no_key_hint(
    jarvis: JarvisRunner,
) -> None:
    result = jarvis("keys", "add", "opneai", "--stdin", input="")
    assert result.returncode == 2
    assert "error: unknown provider 'opneai'" in result.stderr
    assert "looks like an API key" not in result.stderr
