"""Secrets never echo: a key typed where a name goes, a password in a base URL, and the
developer's OpenAI org/project ids. Every output, the store and config files, and the
request headers a loopback provider receives are searched for the canary."""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
from pathlib import Path

import pytest

from tests.conftest import JarvisRunner
from tests.fake_provider import FakeProvider

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


# --- 2. a password in a base URL -------------------------------------------------------


def _write_config(home: Path, text: str) -> None:
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    (home / "config.toml").write_text(text)
    (home / "config.toml").chmod(0o600)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_base_url_password_goes_to_the_vault_and_is_never_displayed(
    jarvis: JarvisRunner, home: Path
) -> None:
    password = "pw-" + secrets.token_hex(12)
    outputs: list[str] = []

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        result = jarvis(*args)
        outputs.append(result.stdout + result.stderr)
        return result

    with FakeProvider() as fake:
        host = fake.base_url.removeprefix("http://")
        masked = f"http://bob:***@{host}"
        added = run("providers", "add", "box", "--base-url", f"http://bob:{password}@{host}")
        assert added.returncode == 0, added.stderr
        assert f"added provider box ({masked})" in added.stderr
        assert "in the vault as the key box/default" in added.stderr

        listed = run("providers", "list")
        assert listed.returncode == 0 and masked in listed.stdout
        listed_json = run("providers", "list", "--json")
        box = next(p for p in json.loads(listed_json.stdout)["providers"] if p["name"] == "box")
        assert box["base_url"] == masked
        assert box["url_credential"] == "vault" and box["key_source"] == "vault"
        shown = run("providers", "show", "box")
        assert masked in shown.stdout and "in the vault (as the key box/default)" in shown.stdout
        shown_json = json.loads(run("providers", "show", "box", "--json").stdout)
        assert shown_json["base_url"] == masked

        doctor = run("doctor")
        assert f"box {masked} (key: vault; URL password in the vault)" in doctor.stdout
        doctor_json = json.loads(run("doctor", "--json").stdout)
        box = next(p for p in doctor_json["providers"] if p["name"] == "box")
        assert box["base_url"] == masked and box["url_credential"] == "vault"

        # The password reaches the endpoint, as HTTP Basic auth, and nowhere else.
        synced = run("models", "sync", "box", "--json")
        assert synced.returncode == 0, synced.stderr
        assert fake.requests, "the provider was never called"
        for request in fake.requests:
            assert request.headers.get("Authorization") == _basic("bob", password)
            assert "bob" not in request.headers.get("Host", "")
        completed = run("complete", "hi", "--model", "box/fake-chat", "--no-stdin", "--json")
        assert completed.returncode == 0, completed.stderr
        assert fake.requests[-1].headers.get("Authorization") == _basic("bob", password)
        assert run("keys", "list", "--json").returncode == 0

        # An error that quotes the URL masks it too.
        bad = run("providers", "add", "box2", "--base-url", f"http://bob:{password}@ {host}")
        assert bad.returncode == 2
        assert "bad --base-url 'http://bob:***@" in bad.stderr

    config = (home / "config.toml").read_text()
    assert f'base_url = "http://bob@{host}"' in config
    token = _basic("bob", password).removeprefix("Basic ")
    for text in outputs:
        assert password not in text and token not in text
    assert _files_hold(home, password) == []
    assert _files_hold(home, token) == []


def test_password_left_in_config_toml_keeps_working_with_one_warning(
    jarvis: JarvisRunner, home: Path
) -> None:
    password = "pw-" + secrets.token_hex(12)
    with FakeProvider() as fake:
        host = fake.base_url.removeprefix("http://")
        _write_config(home, f'[providers.old]\nbase_url = "http://al:{password}@{host}"\n')
        masked = f"http://al:***@{host}"

        synced = jarvis("models", "sync", "old", "--json")
        assert synced.returncode == 0, synced.stderr
        assert synced.stderr.count("warning: config.toml holds the password") == 1
        assert "`jarvis keys add old`" in synced.stderr
        assert fake.requests[-1].headers.get("Authorization") == _basic("al", password)

        listed = json.loads(jarvis("providers", "list", "--json").stdout)
        old = next(p for p in listed["providers"] if p["name"] == "old")
        assert old["base_url"] == masked and old["url_credential"] == "config.toml"
        doctor = jarvis("doctor")
        assert f"old {masked} (key: the URL's password; URL password in config.toml" in (
            doctor.stdout
        )
        doctor_json = jarvis("doctor", "--json")
        for out in (synced, doctor, doctor_json):
            assert password not in out.stdout + out.stderr
        old = next(p for p in json.loads(doctor_json.stdout)["providers"] if p["name"] == "old")
        assert old["url_credential"] == "config.toml"
    # jarvis never rewrote the file behind the user's back, and stored nothing else.
    assert password in (home / "config.toml").read_text()
    assert [f for f in _files_hold(home, password) if f != "config.toml"] == []


# --- 3. OpenAI organisation and project ids --------------------------------------------


@pytest.mark.slow(25)
def test_openai_org_project_and_headers_go_only_to_openai_or_providers_that_opt_in(
    jarvis: JarvisRunner, home: Path
) -> None:
    org = "org-" + secrets.token_hex(12)
    project = "proj_" + secrets.token_hex(12)
    key = "sk-test-" + secrets.token_hex(16)
    with FakeProvider() as openai, FakeProvider() as box, FakeProvider() as optin:
        _write_config(
            home,
            f'[providers.openai]\nbase_url = "{openai.base_url}"\n'
            f'[providers.box]\nbase_url = "{box.base_url}"\n'
            f'[providers.optin]\nbase_url = "{optin.base_url}"\nsend_openai_org = true\n',
        )
        env = {
            "OPENAI_ORG_ID": org,
            "OPENAI_PROJECT_ID": project,
            "OPENAI_CUSTOM_HEADERS": f"X-Openai-Canary: {org}",
            "OPENAI_API_KEY": key,
            "JARVIS_BOX_API_KEY": key,
            "JARVIS_OPTIN_API_KEY": key,
        }
        outputs = []
        for name in ("openai", "box", "optin"):
            synced = jarvis("models", "sync", name, "--json", env=env)
            done = jarvis(
                "complete", "hi", "--model", f"{name}/fake-chat", "--no-stdin", "--json", env=env
            )
            streamed = jarvis("complete", "hi", "--model", f"{name}/fake-chat", "--no-stdin",
                              env=env)  # fmt: skip
            for result in (synced, done, streamed):
                assert result.returncode == 0, result.stderr
                outputs.append(result.stdout + result.stderr)
        shown = jarvis("providers", "show", "optin", "--json", env=env)
        assert json.loads(shown.stdout)["send_openai_org"] is True
        assert (
            json.loads(jarvis("providers", "show", "box", "--json").stdout)["send_openai_org"]
            is False
        )

        assert box.requests and openai.requests and optin.requests
        for request in box.requests:
            assert "OpenAI-Organization" not in request.headers
            assert "OpenAI-Project" not in request.headers
            assert "X-Openai-Canary" not in request.headers
            assert org not in str(dict(request.headers)) and project not in str(request.body)
        for request in openai.requests + optin.requests:
            assert request.headers.get("OpenAI-Organization") == org
            assert request.headers.get("OpenAI-Project") == project
            assert request.headers.get("X-Openai-Canary") == org
    for text in outputs:
        assert org not in text and project not in text
    assert _files_hold(home, org) == [] and _files_hold(home, project) == []
