"""Credentials in HTTP headers are sealed in the vault (issue 27, item 6).

The canary header value must reach the endpoint and appear nowhere else: not in argv
(it is typed on stdin), stdout, stderr, `--json`, logs, config.toml or the store file.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import tomllib
from pathlib import Path

from tests.conftest import JarvisRunner
from tests.fake_provider import Behavior, FakeProvider


def _files_hold(home: Path, canary: str) -> list[str]:
    return [
        str(p.relative_to(home))
        for p in home.rglob("*")
        if p.is_file() and canary.encode() in p.read_bytes()
    ]


def test_secret_header_is_sealed_sent_and_never_shown(jarvis: JarvisRunner, home: Path) -> None:
    key = "sk-hdr-" + secrets.token_hex(16)
    routing = "tenant-" + secrets.token_hex(8)
    outputs: list[str] = []

    def run(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        assert key not in " ".join(args)  # never in argv
        result = jarvis(*args, input=input)
        outputs.append(result.stdout + result.stderr)
        return result

    with FakeProvider(api_key=key) as fake:
        # A hosted-looking endpoint would ask for a key: the sealed header is the credential.
        added = run(
            "providers", "add", "box3", "--base-url", fake.base_url,
            "--secret-header", "Authorization", "--secret-header", "X-Tenant",
            "--header", "X-Team: blue", "--stdin",
            input=f"Bearer {key}\n{routing}\n",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        assert "the Authorization header is in the vault as box3/header.authorization" in (
            added.stderr
        )
        assert "the X-Tenant header is in the vault as box3/header.x-tenant" in added.stderr
        config = tomllib.loads((home / "config.toml").read_text())["providers"]["box3"]
        assert config["secret_headers"] == ["Authorization", "X-Tenant"]
        assert config["headers"] == {"X-Team": "blue"}

        shown = run("providers", "show", "box3")
        assert shown.returncode == 0, shown.stderr
        assert "X-Team, Authorization: ***, X-Tenant: ***" in shown.stdout
        data = json.loads(run("providers", "show", "box3", "--json").stdout)
        assert data["headers"] == ["X-Team"]
        assert data["secret_headers"] == ["Authorization", "X-Tenant"]
        assert run("providers", "list", "--json").returncode == 0
        assert run("doctor", "--json").returncode in (0, 1)
        assert run("keys", "list", "--json").returncode == 0

        answered = run("complete", "hi", "-m", "box3/fake-chat", "--no-stream", "--json")
        assert answered.returncode == 0, answered.stderr
        sent = fake.requests[-1].headers
        assert sent.get("Authorization") == f"Bearer {key}"
        assert sent.get("X-Tenant") == routing and sent.get("X-Team") == "blue"

        # An error body that echoes the header is redacted, in the message and the log.
        fake.always("fake-chat", Behavior(status=500, echo_auth=True))
        failed = run("complete", "hi", "-m", "box3/fake-chat", "--no-stream", "--retries", "0")
        assert failed.returncode == 8, failed.stderr
        assert "received Authorization: [REDACTED]" in failed.stderr
        logged = run("log", "--json")
        assert "received Authorization: [REDACTED]" in logged.stdout
        request_id = json.loads(logged.stdout)[0]["request_id"]
        assert run("log", "show", request_id, "--json").returncode == 0

    for text in outputs:
        assert key not in text and routing not in text
    assert _files_hold(home, key) == []
    assert _files_hold(home, routing) == []


def test_credential_given_with_header_is_sealed_with_a_warning(
    jarvis: JarvisRunner, home: Path
) -> None:
    key = "sk-arg-" + secrets.token_hex(16)
    with FakeProvider(api_key=key) as fake:
        added = jarvis(
            "providers", "add", "box4", "--base-url", fake.base_url,
            "--header", f"x-api-key: {key}", "--header", f"Authorization: Bearer {key}",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        assert "warning: the value of --header Authorization was on the command line" in (
            added.stderr
        )
        assert "--secret-header Authorization" in added.stderr
        assert key not in added.stdout + added.stderr
        answered = jarvis("complete", "hi", "-m", "box4/fake-chat", "--no-stream")
        assert answered.returncode == 0, answered.stderr
        assert fake.requests[-1].headers.get("x-api-key") == key
    assert _files_hold(home, key) == []


def test_plain_credential_header_in_config_keeps_working_with_one_warning(
    jarvis: JarvisRunner, home: Path
) -> None:
    key = "sk-old-" + secrets.token_hex(16)
    with FakeProvider(api_key=key) as fake:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        (home / "config.toml").write_text(
            f'[providers.old]\nbase_url = "{fake.base_url}"\nneeds_key = false\n'
            f'[providers.old.headers]\nAuthorization = "Bearer {key}"\n'
        )
        (home / "config.toml").chmod(0o600)
        fake.always("fake-chat", Behavior(status=500, echo_auth=True))
        failed = jarvis("complete", "hi", "-m", "old/fake-chat", "--no-stream", "--retries", "0")
        assert failed.returncode == 8, failed.stderr
        assert failed.stderr.count("warning: config.toml holds the credential header") == 1
        assert "--secret-header Authorization" in failed.stderr
        assert key not in failed.stdout + failed.stderr
        fake.reset()
        answered = jarvis("complete", "hi", "-m", "old/fake-chat", "--no-stream", "--json")
        assert answered.returncode == 0, answered.stderr
        assert fake.requests[-1].headers.get("Authorization") == f"Bearer {key}"
        assert key not in answered.stdout + answered.stderr
    assert [f for f in _files_hold(home, key) if f != "config.toml"] == []


def test_keys_validate_leaves_sealed_headers_alone(jarvis: JarvisRunner, home: Path) -> None:
    key = "sk-val-" + secrets.token_hex(16)
    with FakeProvider(api_key=key) as fake:
        added = jarvis(
            "providers", "add", "box5", "--base-url", fake.base_url,
            "--secret-header", "x-api-key", "--stdin", input=f"{key}\n",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        validated = jarvis("keys", "validate", "--json")
        assert validated.returncode == 0, validated.stderr
        assert "header." not in validated.stdout
        assert fake.count("/models") == 0
        listed = jarvis("keys", "list", "--json")
        assert "box5" in listed.stdout and key not in listed.stdout
