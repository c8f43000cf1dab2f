"""`jarvis models` and `jarvis providers` end to end: subprocess CLI, loopback provider."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from tests.conftest import JarvisRunner
from tests.fake_provider import Behavior, FakeProvider

KEY = "sk-fake-CLITESTKEY-123456789"


def _ok(proc: object) -> None:
    assert proc.returncode == 0, (proc.stdout, proc.stderr)  # type: ignore[attr-defined]


def _models(jarvis: JarvisRunner, *args: str) -> dict[str, dict[str, object]]:
    proc = jarvis("models", "list", "--json", *args)
    _ok(proc)
    return {m["id"]: m for m in json.loads(proc.stdout)["models"]}


def _add_keyed_provider(jarvis: JarvisRunner, name: str, fake: FakeProvider) -> None:
    _ok(jarvis("providers", "add", name, "--base-url", fake.base_url))
    _ok(jarvis("keys", "add", name, "--stdin", "--no-validate", input=KEY + "\n"))


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/v1"


def test_fresh_home_lists_catalog_models_offline(jarvis: JarvisRunner) -> None:
    models = _models(jarvis)
    mini = models["openai/gpt-4o-mini"]
    assert mini["input_cost_per_mtok"] == 0.15 and mini["output_cost_per_mtok"] == 0.6
    assert mini["source"] == "catalog" and mini["status"] == "active"
    assert mini["context_length"] == 128000
    assert mini["capabilities"]["chat"] is True


def test_list_table_has_the_documented_columns(jarvis: JarvisRunner) -> None:
    proc = jarvis("models", "list", "--provider", "openai", "--type", "embedding")
    _ok(proc)
    header = proc.stdout.splitlines()[0]  # a pipe gets every default column
    for column in (
        "id",
        "type",
        "context",
        "$/M in",
        "$/M out",
        "capabilities",
        "status",
        "source",
    ):
        assert column in header
    assert "openai/text-embedding-3-small" in proc.stdout
    assert "gpt-4o-mini" not in proc.stdout


def test_list_filters_by_capability(jarvis: JarvisRunner) -> None:
    models = _models(jarvis, "--capability", "vision")
    assert models and all(m["capabilities"]["vision"] for m in models.values())  # type: ignore[index]


def test_list_unknown_capability_and_provider_exit_2(jarvis: JarvisRunner) -> None:
    proc = jarvis("models", "list", "--capability", "telepathy")
    assert proc.returncode == 2 and "unknown capability 'telepathy'" in proc.stderr
    proc = jarvis("models", "list", "--provider", "nope")
    assert proc.returncode == 2 and "unknown provider 'nope'" in proc.stderr


def test_add_key_sync_then_vanished_model_unavailable_and_overrides_survive(
    jarvis: JarvisRunner,
) -> None:
    with FakeProvider(api_key=KEY, models=["fake-chat", "fake-embed", "extra-model"]) as fake:
        _add_keyed_provider(jarvis, "fakeprov", fake)
        proc = jarvis("models", "sync", "--json")
        _ok(proc)
        report = json.loads(proc.stdout)
        assert report["ok"] is True
        assert report["providers"] == [
            {
                "provider": "fakeprov",
                "ok": True,
                "listed": 3,
                "added": 3,
                "reactivated": 0,
                "unavailable": 0,
                "error": None,
                "exit_code": None,
            }
        ]
        models = _models(jarvis, "--provider", "fakeprov")
        assert set(models) == {"fakeprov/fake-chat", "fakeprov/fake-embed", "fakeprov/extra-model"}
        assert models["fakeprov/fake-embed"]["type"] == "embedding"  # inferred from the name
        assert models["fakeprov/extra-model"]["type"] is None  # unknown stays unknown
        assert models["fakeprov/extra-model"]["context_length"] is None

        _ok(
            jarvis(
                "models", "set", "fakeprov/fake-chat", "--input-price", "2.5", "--context", "32000"
            )
        )
        fake.set_models(["fake-chat", "fake-embed"])
        _ok(jarvis("models", "sync", "fakeprov"))
        models = _models(jarvis, "--provider", "fakeprov")
        assert models["fakeprov/extra-model"]["status"] == "unavailable"
        assert models["fakeprov/fake-chat"]["status"] == "active"
        assert models["fakeprov/fake-chat"]["input_cost_per_mtok"] == 2.5
        assert models["fakeprov/fake-chat"]["context_length"] == 32000
        assert "fakeprov/extra-model" not in _models(jarvis, "--provider", "fakeprov", "--active")
        assert fake.requests[-1].headers["Authorization"] == f"Bearer {KEY}"


def test_sync_with_a_preset_override_gets_catalog_prices(jarvis: JarvisRunner) -> None:
    with FakeProvider(models=["gpt-4o-mini", "my-ft-model"]) as fake:
        _ok(jarvis("providers", "add", "openai", "--base-url", fake.base_url))
        _ok(jarvis("models", "sync", "openai", env={"OPENAI_API_KEY": KEY}))
        models = _models(jarvis, "--provider", "openai")
    assert models["openai/gpt-4o-mini"]["source"] == "sync"
    assert models["openai/gpt-4o-mini"]["input_cost_per_mtok"] == 0.15
    assert models["openai/my-ft-model"]["input_cost_per_mtok"] is None
    assert models["openai/gpt-4o"]["status"] == "unavailable"  # not listed for this account


def test_sync_of_three_providers_with_one_down_exits_10(jarvis: JarvisRunner) -> None:
    with FakeProvider(api_key=KEY) as one, FakeProvider(models=["other-chat"]) as two:
        _add_keyed_provider(jarvis, "one", one)
        _ok(jarvis("providers", "add", "two", "--base-url", two.base_url, "--no-key"))
        _ok(jarvis("providers", "add", "down", "--base-url", _dead_url(), "--no-key"))
        proc = jarvis("models", "sync", "--json")
        assert proc.returncode == 10, proc.stderr
        report = {p["provider"]: p for p in json.loads(proc.stdout)["providers"]}
        assert report["one"]["ok"] and report["two"]["ok"]
        assert report["down"]["ok"] is False and report["down"]["exit_code"] == 8
        assert "1 of 3 providers failed to sync" in proc.stderr
        assert "down: connection failed (connection refused)" in proc.stderr
        models = _models(jarvis)
        assert "one/fake-chat" in models and "two/other-chat" in models


def test_sync_rejected_key_exits_5_without_showing_it(jarvis: JarvisRunner) -> None:
    with FakeProvider(api_key="sk-the-right-one-000000") as fake:
        fake.always(None, Behavior(echo_auth=True))
        _add_keyed_provider(jarvis, "fakeprov", fake)
        proc = jarvis("models", "sync", "fakeprov")
    assert proc.returncode == 5
    assert "fakeprov: HTTP 401 authentication failed" in proc.stderr
    assert KEY not in proc.stdout + proc.stderr
    assert "CLITESTKEY" not in proc.stdout + proc.stderr


def test_sync_named_provider_without_key_exits_5(jarvis: JarvisRunner) -> None:
    proc = jarvis("models", "sync", "groq")
    assert proc.returncode == 5
    assert "no key for provider 'groq'" in proc.stderr
    assert "jarvis keys add groq" in proc.stderr and "GROQ_API_KEY" in proc.stderr


def test_sync_with_nothing_configured_exits_5(jarvis: JarvisRunner) -> None:
    proc = jarvis("models", "sync")
    assert proc.returncode == 5
    assert "no provider to sync" in proc.stderr


def test_sync_skips_unconfigured_local_presets(jarvis: JarvisRunner) -> None:
    with FakeProvider() as fake:
        _ok(jarvis("providers", "add", "mine", "--base-url", fake.base_url, "--no-key"))
        proc = jarvis("models", "sync", "--json")
    _ok(proc)
    assert [p["provider"] for p in json.loads(proc.stdout)["providers"]] == ["mine"]


def test_show_and_set_round_trip(jarvis: JarvisRunner) -> None:
    _ok(
        jarvis(
            "models",
            "set",
            "openai/gpt-4o-mini",
            "--quality",
            "0.9",
            "--capability",
            "tools",
            "--no-capability",
            "audio",
        )
    )
    proc = jarvis("models", "show", "openai/gpt-4o-mini", "--json")
    _ok(proc)
    data = json.loads(proc.stdout)
    assert data["quality"] == 0.9
    assert data["capabilities"]["function_calling"] is True
    assert data["capabilities"]["audio"] is False
    assert data["overrides"] == {
        "capabilities": {"audio": False, "function_calling": True},
        "quality": 0.9,
    }


def test_show_unknown_model_exits_2(jarvis: JarvisRunner) -> None:
    proc = jarvis("models", "show", "openai/no-such-model")
    assert proc.returncode == 2 and "unknown model 'openai/no-such-model'" in proc.stderr
    proc = jarvis("models", "show", "no-slash")
    assert proc.returncode == 2 and "expected PROVIDER/NAME" in proc.stderr


def test_set_without_values_or_with_bad_values_exits_2(jarvis: JarvisRunner) -> None:
    proc = jarvis("models", "set", "openai/gpt-4o-mini")
    assert proc.returncode == 2 and "nothing to set" in proc.stderr
    proc = jarvis("models", "set", "openai/gpt-4o-mini", "--quality", "1.5")
    assert proc.returncode == 2
    proc = jarvis("models", "set", "openai/gpt-4o-mini", "--capability", "telepathy")
    assert proc.returncode == 2 and "unknown capability" in proc.stderr


def test_import_prices_updates_and_counts(jarvis: JarvisRunner, tmp_path: Path) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text(
        json.dumps(
            {
                "gpt-4o-mini": {
                    "litellm_provider": "openai",
                    "mode": "chat",
                    "input_cost_per_token": 1e-06,
                    "output_cost_per_token": 2e-06,
                },
                "groq/new-model": {
                    "litellm_provider": "groq",
                    "mode": "chat",
                    "max_input_tokens": 4000,
                },
                "bedrock/x": {"litellm_provider": "bedrock", "mode": "chat"},
                "dall-e-9": {"litellm_provider": "openai", "mode": "image_generation"},
            }
        )
    )
    proc = jarvis("models", "import-prices", str(prices), "--json")
    _ok(proc)
    assert json.loads(proc.stdout) == {
        "updated": 1,
        "added": 1,
        "skipped_unknown_provider": 1,
        "skipped_unsupported_mode": 1,
    }
    models = _models(jarvis)
    assert models["openai/gpt-4o-mini"]["input_cost_per_mtok"] == 1.0
    assert models["openai/gpt-4o-mini"]["source"] == "import"
    assert models["groq/new-model"]["context_length"] == 4000


def test_import_prices_rejects_other_files(jarvis: JarvisRunner, tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"name": "not prices", "items": [1, 2]}))
    proc = jarvis("models", "import-prices", str(other))
    assert proc.returncode == 2
    assert "not a LiteLLM price map" in proc.stderr
    proc = jarvis("models", "import-prices", str(tmp_path / "missing.json"))
    assert proc.returncode == 2 and "no such file" in proc.stderr


def test_sync_progress_shows_on_a_terminal_only(jarvis: JarvisRunner, home: Path) -> None:
    import os
    import pty
    import subprocess
    import sys

    with FakeProvider() as a, FakeProvider() as b:
        for name, fake in (("a", a), ("b", b)):
            _ok(jarvis("providers", "add", name, "--base-url", fake.base_url, "--no-key"))
        piped = jarvis("models", "sync")
        _ok(piped)
        assert "syncing" not in piped.stderr
        master, slave = pty.openpty()
        proc = subprocess.run(
            [sys.executable, "-m", "jarvis_cli", "models", "sync", "--json"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=slave,
            timeout=60,
        )
        os.close(slave)
        seen = b""
        try:
            while chunk := os.read(master, 65536):
                seen += chunk
        except OSError:
            pass  # EIO once the child's side is closed
        os.close(master)
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["ok"] is True  # stdout stays clean JSON
    assert b"syncing models" in seen


def test_list_table_groups_dated_versions_and_all_versions_lists_them(
    jarvis: JarvisRunner,
) -> None:
    grouped = jarvis("models", "list", "--provider", "openai", "--type", "chat")
    _ok(grouped)
    assert "openai/gpt-4o-mini (+1 version)" in grouped.stdout
    assert "openai/gpt-4o-mini-2024-07-18" not in grouped.stdout
    assert "dated versions shown in their model's row (--all-versions)" in grouped.stderr
    every = jarvis("models", "list", "--provider", "openai", "--type", "chat", "--all-versions")
    _ok(every)
    assert "openai/gpt-4o-mini-2024-07-18" in every.stdout
    assert "(+1 version)" not in every.stdout
    models = _models(jarvis, "--provider", "openai")
    assert models["openai/gpt-4o-mini-2024-07-18"]["version_of"] == "openai/gpt-4o-mini"
    assert models["openai/gpt-4o-mini"]["version_of"] is None


def test_show_gives_the_quality_selection_starts_from_per_task(jarvis: JarvisRunner) -> None:
    # It printed `quality ?` (the --quality override column) while select used 0.32
    # from Aider: show says what selection uses, by task, with its source.
    data = json.loads(jarvis("models", "show", "openai/gpt-4o-mini", "--json").stdout)
    assert data["quality"] is None  # the override column, unchanged
    by_task = data["quality_by_task"]
    assert by_task["general"]["source"].startswith("aider polyglot")
    assert by_task["coding"]["value"] > by_task["general"]["value"]
    picked = json.loads(
        jarvis("select", "--model", "openai/gpt-4o-mini", "--task", "coding", "--json").stdout
    )
    row = next(c for c in picked["candidates"] if c["model_id"] == "openai/gpt-4o-mini")
    assert row["quality"] == pytest.approx(by_task["coding"]["value"], abs=1e-4)

    shown = jarvis("models", "show", "openai/gpt-4o-mini")
    assert shown.returncode == 0, shown.stderr
    lines = {line.split("  ")[0]: line for line in shown.stdout.splitlines()}
    assert "(aider polyglot" in lines["quality"] and "±.05" in lines["quality"]
    assert f"coding {by_task['coding']['value']:.2f}" in lines["quality by task"]

    assert jarvis("models", "set", "openai/gpt-4o-mini", "--quality", "0.9").returncode == 0
    mine = json.loads(jarvis("models", "show", "openai/gpt-4o-mini", "--json").stdout)
    assert {q["value"] for q in mine["quality_by_task"].values()} == {0.9}
    assert "0.90 (user)" in jarvis("models", "show", "openai/gpt-4o-mini").stdout
