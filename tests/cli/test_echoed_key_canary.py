"""A provider that echoes the key it was sent, where no error path looks: in its /models
listing and in its answers (plain, base64, percent-encoded; streamed in pieces that
split it). The canary is all hex, so no shape rule catches it: only jarvis knowing the
key in use does. Every byte jarvis writes (stdout, stderr, --json, the store and its
WAL, a batch output file) is searched for the key and its encodings."""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import run_jarvis
from tests.fake_provider import Behavior, FakeProvider


def _encodings(key: str) -> list[str]:
    raw = key.encode()
    return [
        key,
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        quote(key, safe=""),
    ]


def _answer(key: str) -> str:
    b64, _, url = _encodings(key)[1:]
    return f"key {key} then b64 {b64} then url {url} done"


class Hostile:
    def __init__(self, fake: FakeProvider, home: Path, key: str) -> None:
        self.fake, self.home, self.key = fake, home, key

    def run(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        result = run_jarvis(*args, input=input)
        self.assert_clean(result.stdout + result.stderr, f"output of {args}")
        return result

    def assert_clean(self, text: str, where: str) -> None:
        for form in _encodings(self.key):
            assert form not in text, f"{form!r} in {where}"

    def assert_files_clean(self, *extra: Path) -> None:
        files = [p for p in self.home.rglob("*") if p.is_file()] + list(extra)
        assert any(p.name.startswith("jarvis.db") for p in files)
        for path in files:
            self.assert_clean(path.read_bytes().decode("latin-1"), str(path))


@pytest.fixture
def hostile(home: Path) -> Iterator[Hostile]:
    key = secrets.token_hex(24)  # hex: redaction by shape does not catch it
    answer = _answer(key)
    models = ["echo", f"m-{key}", f"{base64.b64encode(key.encode()).decode()}"]
    with FakeProvider(api_key=key, models=models) as fake:
        # 5-character pieces: every encoding of the key is split across several
        fake.always(
            None,
            Behavior(text=answer, chunks=[answer[i : i + 5] for i in range(0, len(answer), 5)]),
        )
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        (home / "config.toml").write_text(f'[providers.hostile]\nbase_url = "{fake.base_url}"\n')
        (home / "config.toml").chmod(0o600)
        h = Hostile(fake, home, key)
        added = h.run("keys", "add", "hostile", "--stdin", input=key)
        assert added.returncode == 0, added.stderr
        yield h


def test_model_ids_holding_the_key_are_not_stored_or_listed(hostile: Hostile) -> None:
    synced = hostile.run("models", "sync", "hostile", "--json")
    assert synced.returncode == 0, synced.stderr
    listed = hostile.run("models", "list", "--provider", "hostile", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [m["id"] for m in json.loads(listed.stdout)["models"]] == ["hostile/echo"]
    hostile.assert_files_clean()


@pytest.mark.parametrize("stream", ["--stream", "--no-stream"])
def test_an_answer_echoing_the_key_is_redacted_everywhere_it_goes(
    hostile: Hostile, stream: str
) -> None:
    shown = hostile.run("complete", "hi", "--model", "hostile/echo", stream)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == "key [REDACTED] then b64 [REDACTED] then url [REDACTED] done\n"
    as_json = hostile.run("complete", "hi", "--model", "hostile/echo", "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)["text"] == shown.stdout.rstrip("\n")
    logged = hostile.run("log", "--json")
    assert logged.returncode == 0, logged.stderr
    assert "[REDACTED]" in logged.stdout
    hostile.assert_files_clean()


def test_chat_and_batch_answers_echoing_the_key_are_redacted(
    hostile: Hostile, tmp_path: Path
) -> None:
    chat = hostile.run("chat", "--model", "hostile/echo", input="hi\n/exit\n")
    assert chat.returncode == 0, chat.stderr
    assert "key [REDACTED] then b64" in chat.stdout
    lines = tmp_path / "in.jsonl"
    lines.write_text('{"id": "a", "prompt": "hi", "model": "hostile/echo"}\n')
    out = tmp_path / "out.jsonl"
    batch = hostile.run("batch", str(lines), "-o", str(out))
    assert batch.returncode == 0, batch.stderr
    assert json.loads(out.read_text())["answer"].startswith("key [REDACTED] then b64")
    hostile.assert_files_clean(out)
