"""Issue 11: a self-hosted OpenAI-compatible endpoint is usable right after adding and
syncing it: no key asked for a loopback URL, synced models matched to the catalog by
name, `complete` answers and `select` explains its pick (real SDK, loopback server)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import JarvisRunner
from tests.fake_provider import FakeProvider

LISTED = ["gpt-4o-mini", "text-embedding-3-small"]


def _ok(proc: object) -> None:
    assert proc.returncode == 0, (proc.stdout, proc.stderr)  # type: ignore[attr-defined]


def test_added_and_synced_endpoint_answers_and_select_explains(
    jarvis: JarvisRunner, home: Path
) -> None:
    with FakeProvider(models=LISTED) as fake:
        added = jarvis("providers", "add", "box", "--base-url", fake.base_url)
        _ok(added)
        assert "box needs no API key: " in added.stderr
        assert "loopback or private address" in added.stderr
        _ok(jarvis("models", "sync"))  # plain sync reaches the keyless endpoint

        shown = jarvis("models", "show", "box/gpt-4o-mini", "--json")
        _ok(shown)
        mini = json.loads(shown.stdout)
        assert mini["type"] == "chat" and mini["context_length"] == 128000
        assert mini["input_cost_per_mtok"] is None  # openai's price is not box's
        assert mini["matched_from"] == "openai/gpt-4o-mini"
        embed = json.loads(jarvis("models", "show", "box/text-embedding-3-small", "--json").stdout)
        assert embed["type"] == "embedding"

        answer = jarvis("complete", "hi", "--no-stream")
        _ok(answer)
        assert answer.stdout.strip()
        assert "box/gpt-4o-mini" in answer.stderr
        assert fake.count("/chat/completions", model="gpt-4o-mini") == 1

        sel = jarvis("select", "hi", "--json")
        _ok(sel)
        data = json.loads(sel.stdout)
        assert data["model_id"] == "box/gpt-4o-mini"
        assert "box/gpt-4o-mini chosen by the" in data["reasoning"]
        chosen = data["candidates"][0]
        assert chosen["task"] == "general" and chosen["type_assumed"] is False
        assert {c["model_id"] for c in data["candidates"]} == {"box/gpt-4o-mini"}
        excluded = {e["model_id"]: e for e in data["excluded"]}
        assert excluded["box/text-embedding-3-small"]["code"] == "type"

        table = jarvis("select", "hi")
        _ok(table)
        assert "chosen: box/gpt-4o-mini" in table.stdout


def test_unknown_synced_model_is_assumed_chat_and_says_so(jarvis: JarvisRunner, home: Path) -> None:
    with FakeProvider(models=["house-special-7b", "house-reranker"]) as fake:
        _ok(jarvis("providers", "add", "box", "--base-url", fake.base_url))
        _ok(jarvis("models", "sync", "box"))
        sel = jarvis("select", "hi", "--json")
        _ok(sel)
        data = json.loads(sel.stdout)
        assert data["model_id"] == "box/house-special-7b"
        chosen = data["candidates"][0]
        assert chosen["type_assumed"] is True
        assert chosen["quality_source"] == "none"
        assert any(n.startswith("type assumed: chat") for n in chosen["notes"])
        excluded = {e["model_id"]: e for e in data["excluded"]}
        assert "its name says 'rerank'" in excluded["box/house-reranker"]["reason"]
        table = jarvis("select", "hi")
        assert "box/house-special-7b (type assumed)" in table.stdout
        answer = jarvis("complete", "hi", "--no-stream")
        _ok(answer)
        assert "box/house-special-7b" in answer.stderr


def test_private_url_with_api_key_env_still_needs_a_key(jarvis: JarvisRunner, home: Path) -> None:
    proc = jarvis(
        "providers", "add", "lan", "--base-url", "http://192.168.1.5:8000/v1",
        "--api-key-env", "LAN_KEY",
    )  # fmt: skip
    _ok(proc)
    assert "needs no API key" not in proc.stderr
    shown = json.loads(jarvis("providers", "show", "lan", "--json").stdout)
    assert shown["needs_key"] is True
    public = jarvis("providers", "add", "cloud", "--base-url", "https://api.example.com/v1")
    _ok(public)
    assert json.loads(jarvis("providers", "show", "cloud", "--json").stdout)["needs_key"] is True


def test_complete_passes_task_and_min_quality_to_selection(
    jarvis: JarvisRunner, home: Path
) -> None:
    with FakeProvider(models=LISTED) as fake:
        _ok(jarvis("providers", "add", "box", "--base-url", fake.base_url))
        _ok(jarvis("models", "sync", "box"))
        floor = jarvis("complete", "hi", "--no-stream", "--min-quality", "0.99")
        assert floor.returncode == 6
        assert "< --min-quality 0.99 -> lower --min-quality" in floor.stderr
        assert fake.count("/chat/completions") == 0
        bad = jarvis("complete", "hi", "--no-stream", "--task", "poetry")
        assert bad.returncode == 2
        assert "unknown task 'poetry'" in bad.stderr
        coding = jarvis("complete", "hi", "--no-stream", "--task", "coding", "--min-quality", "0.3")
        _ok(coding)
        assert "box/gpt-4o-mini" in coding.stderr
