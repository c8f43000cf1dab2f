"""`jarvis select` end to end: a real CLI subprocess on a real store."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from jarvis_cli.core.context import Context
from jarvis_cli.core.registry.model_registry import ModelRegistry
from tests.conftest import JarvisRunner

FAKE_ENV = {"FAKE_KEY": "fake-test-key-123456", "OTHER_KEY": "other-test-key-123456"}


def write_config(home: Path, text: str) -> None:
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = home / "config.toml"
    path.write_text(text)
    path.chmod(0o600)


def setup_fake_providers(home: Path, extra_config: str = "") -> Context:
    """Two keyed providers `fake` and `other` with hand-made models (prices in USD/Mtok)."""
    write_config(
        home,
        '[providers.fake]\nbase_url = "http://127.0.0.1:9/v1"\napi_key_env = "FAKE_KEY"\n'
        '[providers.other]\nbase_url = "http://127.0.0.1:9/v1"\napi_key_env = "OTHER_KEY"\n'
        + extra_config,
    )
    ctx = Context()
    ModelRegistry(ctx).ensure_catalog()
    models = [
        ("fake/cheap-slow", 0.1, 0.2, 128_000),
        ("fake/pricey-fast", 10.0, 30.0, 128_000),
        ("other/middle", 1.0, 2.0, 128_000),
        ("other/tiny-context", 0.01, 0.01, 1_000),
    ]
    with ctx.store.write() as conn:
        conn.executemany(
            "INSERT INTO models(id, provider, name, type, cap_chat, cap_completion, "
            "cap_embeddings, context_length, input_cost_per_mtok, output_cost_per_mtok, "
            "status, source) VALUES (?, ?, ?, 'chat', 1, 0, 0, ?, ?, ?, 'active', 'user')",
            [(m, m.split("/")[0], m.split("/")[1], c, i, o) for m, i, o, c in models],
        )
    return ctx


def add_calls(
    ctx: Context,
    model_id: str,
    n: int,
    latency: float,
    *,
    ok: bool = True,
    error_class: str | None = None,
) -> None:
    now = time.time()
    with ctx.store.write() as conn:
        conn.executemany(
            "INSERT INTO calls(request_id, at, model_id, provider, kind, attempt, ok, "
            "error_class, latency_ms) VALUES ('r', ?, ?, ?, 'chat', 1, ?, ?, ?)",
            [
                (
                    now - 60 + i * 0.01,
                    model_id,
                    model_id.split("/")[0],
                    int(ok),
                    error_class,
                    latency,
                )
                for i in range(n)
            ],
        )


def select_json(jarvis: JarvisRunner, *args: str, env: dict[str, str | None] | None = None) -> dict:  # type: ignore[type-arg]
    proc = jarvis("select", "--json", *args, env=env if env is not None else FAKE_ENV)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def test_select_json_on_a_fresh_home_works_offline_from_the_bundled_catalog(
    jarvis: JarvisRunner,
) -> None:
    proc = jarvis("select", "--json", "Explain CRDTs in two sentences")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert "no provider has a key yet" in proc.stderr
    assert data["model_id"].count("/") >= 1 and data["usable"] is False
    assert data["input_tokens"] == 8 and data["input_tokens_source"] == "prompt"
    assert data["output_tokens"] == 500
    assert data["candidate_count"] >= 100 and len(data["candidates"]) == 10
    first = data["candidates"][0]
    assert set(first["scores"]) == {"performance", "cost", "reliability", "quality"}
    assert first["model_id"] == data["model_id"] and first["usable"] is False
    for key in (
        "fallbacks",
        "confidence",
        "reasoning",
        "estimated_cost_usd",
        "estimated_latency_ms",
        "excluded",
        "strategy",
        "weights",
    ):
        assert key in data
    assert all(set(e) == {"model_id", "code", "reason"} for e in data["excluded"])


def test_only_providers_with_a_key_are_candidates_and_the_rest_have_a_reason(
    jarvis: JarvisRunner, home: Path
) -> None:
    setup_fake_providers(home)
    data = select_json(jarvis, "--explain")
    assert data["notes"] == []
    assert {c["provider"] for c in data["candidates"]} == {"fake", "other"}
    reasons = {e["model_id"]: e for e in data["excluded"]}
    assert reasons["openai/gpt-4o-mini"]["code"] == "no_key"
    assert "OPENAI_API_KEY" in reasons["openai/gpt-4o-mini"]["reason"]
    assert reasons["ollama/codegeex4"]["code"] == "not_set_up"
    everything = select_json(jarvis, "--all", "--explain")
    usable = {c["model_id"]: c["usable"] for c in everything["candidates"]}
    assert usable["fake/cheap-slow"] is True
    assert usable["openai/gpt-4o-mini"] is False
    assert "openai/gpt-4o-mini" not in {e["model_id"] for e in everything["excluded"]}


def test_cost_strategy_picks_the_cheapest_qualifying_model(
    jarvis: JarvisRunner, home: Path
) -> None:
    setup_fake_providers(home)
    data = select_json(jarvis, "--strategy", "cost", "--min-quality", "0", "--explain")
    assert data["model_id"] == "fake/cheap-slow"
    assert data["estimated_cost_usd"] == (1000 * 0.1 + 500 * 0.2) / 1e6
    assert {
        "model_id": "other/tiny-context",
        "code": "context",
        "reason": "needs 1500 tokens (input + output), context is 1000",
    } in data["excluded"]
    small = select_json(jarvis, "--strategy", "cost", "--min-quality", "0", "--input-tokens", "100")
    assert small["model_id"] == "other/tiny-context"


def test_a_change_to_a_model_is_seen_by_the_next_selection(
    jarvis: JarvisRunner, home: Path
) -> None:
    # The first select stores the columnar model table and metrics (core/registry/model_table.py);
    # a change made by another process must never be answered from the stale copies.
    ctx = setup_fake_providers(home)
    assert (
        select_json(jarvis, "--strategy", "cost", "--min-quality", "0")["model_id"]
        == "fake/cheap-slow"
    )
    proc = jarvis(
        "models", "set", "other/middle", "--input-price", "0.001", "--output-price", "0.001"
    )
    assert proc.returncode == 0, proc.stderr
    assert (
        select_json(jarvis, "--strategy", "cost", "--min-quality", "0")["model_id"]
        == "other/middle"
    )
    fast = select_json(jarvis, "--strategy", "performance", "--explain")
    assert all(c["calls"] == 0 for c in fast["candidates"])
    add_calls(ctx, "fake/pricey-fast", 5, 80.0)
    add_calls(ctx, "other/middle", 5, 900.0)
    again = select_json(jarvis, "--strategy", "performance")
    assert again["model_id"] == "fake/pricey-fast"
    assert again["candidates"][0]["calls"] == 5


def test_performance_strategy_picks_the_lowest_measured_latency(
    jarvis: JarvisRunner, home: Path
) -> None:
    ctx = setup_fake_providers(home)
    add_calls(ctx, "fake/cheap-slow", 20, 4000)
    add_calls(ctx, "fake/pricey-fast", 20, 300)
    add_calls(ctx, "other/middle", 20, 900)
    data = select_json(jarvis, "--strategy", "performance")
    assert data["model_id"] == "fake/pricey-fast"
    assert data["estimated_latency_ms"] == 300
    assert data["fallbacks"][0] == "other/middle"  # another provider first
    assert "faster" in data["reasoning"]
    slow = select_json(jarvis, "--max-latency", "1000", "--explain")
    assert {
        "model_id": "fake/cheap-slow",
        "code": "latency",
        "reason": "expected latency 4,000 ms (measured) > max 1000 ms",
    } in slow["excluded"]


@pytest.mark.usefixtures("store_backend")  # SQLite and PostgreSQL
def test_reliability_strategy_and_cooldown_use_recorded_failures(
    jarvis: JarvisRunner, home: Path
) -> None:
    ctx = setup_fake_providers(home)
    add_calls(ctx, "fake/cheap-slow", 50, 500)
    add_calls(ctx, "other/middle", 40, 500)
    add_calls(ctx, "other/middle", 10, 500, ok=False, error_class="bad_request")
    assert select_json(jarvis, "--strategy", "reliability")["model_id"] == "fake/cheap-slow"
    add_calls(ctx, "fake/cheap-slow", 3, 500, ok=False, error_class="rate_limited")
    data = select_json(jarvis, "--strategy", "reliability", "--explain")
    cooling = next(e for e in data["excluded"] if e["model_id"] == "fake/cheap-slow")
    assert cooling["code"] == "cooldown" and cooling["reason"].startswith("cooling down until ")


@pytest.mark.usefixtures("store_backend")  # SQLite and PostgreSQL
def test_budget_excludes_with_reason_and_no_model_exits_6_with_counts(
    jarvis: JarvisRunner, home: Path
) -> None:
    setup_fake_providers(home)
    data = select_json(jarvis, "--max-cost", "0.001", "--explain")
    assert {
        "model_id": "fake/pricey-fast",
        "code": "budget",
        "reason": "estimated $0.025000 > max $0.001",
    } in data["excluded"]
    proc = jarvis("select", "--max-cost", "0.00000001", "--provider", "fake", env=FAKE_ENV)
    assert proc.returncode == 6
    assert proc.stdout == ""
    assert "error: no suitable model for this chat request" in proc.stderr
    assert "2 budget (e.g. fake/cheap-slow: estimated $" in proc.stderr


def test_custom_strategy_from_config_is_used(jarvis: JarvisRunner, home: Path) -> None:
    setup_fake_providers(home, "[selection.weights.thrifty]\ncost = 3\nquality = 1\n")
    data = select_json(jarvis, "--strategy", "thrifty")
    assert data["weights"] == {
        "performance": 0.0,
        "cost": 0.75,
        "reliability": 0.0,
        "quality": 0.25,
    }
    assert data["model_id"] == "fake/cheap-slow"


def test_preferred_model_is_used_or_the_output_says_why_not(
    jarvis: JarvisRunner, home: Path
) -> None:
    setup_fake_providers(home)
    used = select_json(jarvis, "--model", "other/middle")
    assert used["model_id"] == "other/middle"
    assert used["preferred_model"] == {"model_id": "other/middle", "used": True, "reason": None}
    proc = jarvis(
        "select", "--json", "--model", "fake/pricey-fast", "--max-cost", "0.001", env=FAKE_ENV
    )
    assert proc.returncode == 0
    data = json.loads(proc.stdout)
    assert data["model_id"] != "fake/pricey-fast"
    assert data["preferred_model"]["reason"] == "estimated $0.025000 > max $0.001"
    assert "warning: preferred model fake/pricey-fast not used: estimated $0.025000" in proc.stderr
    unknown = jarvis("select", "--json", "--model", "fake/nope", env=FAKE_ENV)
    assert unknown.returncode == 0
    assert "preferred model fake/nope not used: not in the registry" in unknown.stderr


def test_human_output_shows_the_table_fallbacks_reasoning_and_explain(
    jarvis: JarvisRunner, home: Path
) -> None:
    setup_fake_providers(home)
    proc = jarvis("select", "--strategy", "cost", "--min-quality", "0", "--explain", env=FAKE_ENV)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "cost strategy, task general: top 3 of 3 candidates" in out
    assert "task general: no prompt given (--task sets one)" in out
    assert "fake/cheap-slow" in out and "total" in out
    assert "0.30±.15 ?" in out and "? = unscored (default)" in out  # quality with its source
    assert "score = 1.00 x cost;" in out
    assert "chosen: fake/cheap-slow (confidence" in out
    assert "fallbacks: other/middle (#2), fake/pricey-fast (#3)\n" in out
    assert "reasoning: fake/cheap-slow chosen by the cost strategy: cheaper" in out
    assert "excluded (" in out and "no key (" in out


def test_bad_options_exit_2_with_a_message(jarvis: JarvisRunner, home: Path) -> None:
    setup_fake_providers(home)
    cases = [
        (("--strategy", "fastest"), "unknown strategy 'fastest'"),
        (("--capability", "telepathy"), "unknown capability 'telepathy'"),
        (("--provider", "nope"), "unknown provider 'nope'"),
        (("--model", "no-slash"), "bad model id 'no-slash'"),
        (("--type", "image"), "'image' is not one of"),
        (("--max-cost", "-1"), "--max-cost"),
        (("--task", "poetry"), "unknown task 'poetry'"),
        (("--min-quality", "1.5"), "--min-quality"),
    ]
    for args, message in cases:
        proc = jarvis("select", *args, env=FAKE_ENV)
        assert proc.returncode == 2, (args, proc.stderr)
        assert message in proc.stderr, (args, proc.stderr)
        assert proc.stdout == ""


def test_select_json_does_not_import_heavy_modules(jarvis: JarvisRunner) -> None:
    import subprocess
    import sys

    code = (
        "import sys\nfrom jarvis_cli.cli import run\nrc = run(['select', '--json'])\n"
        "heavy = [m for m in ('openai', 'cryptography', 'keyring', 'httpx2') if m in sys.modules]\n"
        "sys.stderr.write('HEAVY=' + ','.join(heavy) + '\\n')\nsys.exit(rc)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY=\n" in proc.stderr
