"""Speed priors, `--strategy performance`, `--max-latency` and `jarvis models probe`
(issue 24), through the real CLI.

Keys for openai, anthropic and gemini are set (fake values: nothing is ever sent to
them); three loopback fake providers answer after different delays.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_complete import write_config
from tests.conftest import JarvisRunner, run_jarvis
from tests.fake_provider import Behavior, FakeProvider

KEYS = {
    "OPENAI_API_KEY": "sk-test-openai-000000000000",
    "ANTHROPIC_API_KEY": "sk-ant-test-000000000000",
    "GEMINI_API_KEY": "test-gemini-000000000000",
}
SMALL_WORDS = re.compile(r"nano|mini|lite|flash|haiku|small|instant|fast|\b\d+b\b")
DELAYS = {"quick": 0.05, "steady": 0.4, "sleepy": 0.9}  # seconds before the first byte


def _select(jarvis: JarvisRunner, *args: str, env: dict[str, str] | None = None) -> Any:
    proc = jarvis("select", *args, "--json", env={**KEYS, **(env or {})})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_performance_picks_a_small_fast_class_when_nothing_is_measured(
    jarvis: JarvisRunner,
) -> None:
    data = _select(
        jarvis, "Summarize this paragraph in one line.", "--strategy", "performance", "--explain"
    )
    pick = data["candidates"][0]
    assert SMALL_WORDS.search(pick["model_name"]), pick["model_id"]
    assert pick["latency_source"] == "prior" and not pick["latency_measured"]
    assert any("prior: small class" in n for n in pick["notes"]), pick["notes"]
    slowest = max(data["candidates"], key=lambda c: c["expected_latency_ms"])
    assert slowest["expected_latency_ms"] > 2 * pick["expected_latency_ms"]
    # the big models are still there, ranked behind
    quality_pick = _select(jarvis, "Summarize this paragraph.", "--strategy", "quality")
    assert quality_pick["model_id"] != data["model_id"]


def test_max_latency_binds_and_names_the_fastest_prior_and_the_fix(jarvis: JarvisRunner) -> None:
    fastest = _select(jarvis, "hi", "--strategy", "performance")["candidates"][0]
    proc = jarvis("select", "hi", "--max-latency", "1", "--json", env=KEYS)
    assert proc.returncode == 6, proc.stderr
    assert proc.stdout == ""
    first = proc.stderr.split("closest to qualifying:\n", 1)[1].splitlines()[0]
    ms = f"{fastest['expected_latency_ms']:,.0f}"
    named = first.split()[0].rstrip(":")  # one of the models tied for fastest
    assert first.startswith(f"  {named}: expected latency {ms} ms (prior: small class"), first
    assert "> max 1 ms" in first
    assert f"raise --max-latency to {fastest['expected_latency_ms']:.0f} or more" in first
    assert f"`jarvis models probe {named}`" in first
    assert "Traceback" not in proc.stderr
    # a limit above the fastest prior keeps exactly the models whose prior fits
    limit = fastest["expected_latency_ms"] + 1
    kept = _select(jarvis, "hi", "--max-latency", str(limit), "--explain")
    assert all(c["expected_latency_ms"] <= limit for c in kept["candidates"])
    assert any(e["code"] == "latency" for e in kept["excluded"])


@dataclass
class Trio:
    servers: dict[str, FakeProvider]
    env: dict[str, str]

    def run(self, *args: str) -> Any:
        return run_jarvis(*args, env=self.env, timeout=120)


@pytest.fixture
def trio(home: Path) -> Iterator[Trio]:
    servers = {
        name: FakeProvider(api_key=f"sk-{name}-key-0123456789", models=["m"]) for name in DELAYS
    }
    for server in servers.values():
        server.__enter__()
    try:
        config = "".join(
            f'[providers.{name}]\nbase_url = "{s.base_url}"\n' for name, s in servers.items()
        )
        write_config(home, config)
        env = {**KEYS}
        env.update({f"JARVIS_{n.upper()}_API_KEY": f"sk-{n}-key-0123456789" for n in servers})
        for name, server in servers.items():
            server.always("m", Behavior(delay_s=DELAYS[name], text="1 2 3 4 5 6 7 8 9 10"))
        trio = Trio(servers, env)
        for name in servers:
            assert trio.run("models", "sync", name).returncode == 0
        yield trio
    finally:
        for server in servers.values():
            server.__exit__(None, None, None)


def test_probe_measures_and_performance_then_picks_the_measured_fastest(trio: Trio) -> None:
    before = json.loads(trio.run("select", "hi", "--strategy", "performance", "--json").stdout)
    assert not before["candidates"][0]["latency_measured"]
    proc = trio.run("models", "probe", "sleepy/m", "steady/m", "quick/m", "--json")
    assert proc.returncode == 0, proc.stderr
    probes = {r["model_id"]: r for r in json.loads(proc.stdout)["models"]}
    assert all(
        set(r) == {
            "model_id", "ok", "sent", "ttft_ms", "tokens_per_s", "latency_ms",
            "completion_tokens", "cost_usd", "error", "exit_code",
        }
        for r in probes.values()
    )  # the --json contract (README)  # fmt: skip
    assert all(r["ok"] and r["sent"] for r in probes.values())
    assert (
        probes["quick/m"]["ttft_ms"] < probes["steady/m"]["ttft_ms"] < probes["sleepy/m"]["ttft_ms"]
    )
    assert probes["sleepy/m"]["ttft_ms"] >= DELAYS["sleepy"] * 1000
    assert all(r["tokens_per_s"] and r["tokens_per_s"] > 0 for r in probes.values())
    for server in trio.servers.values():  # one tiny streamed request each
        (body,) = [r.body for r in server.requests if r.path.endswith("/chat/completions")]
        assert body["stream"] is True and body["max_tokens"] <= 48
    calls = json.loads(trio.run("stats", "--json").stdout)["models"]
    assert {m["model_id"] for m in calls} == set(probes)  # recorded like any attempt
    after = json.loads(trio.run("select", "hi", "--strategy", "performance", "--json").stdout)
    # the probed models ranked on what was measured (a catalog model's prior may fall
    # between them when load stretches the measurements, so only theirs are compared):
    # expected latency = measured time to first token + the expected output at the
    # measured throughput, fastest first. The times to first token keep the delays'
    # order; the throughput of a 10-token stream is what a loaded machine stretches, so
    # which model leads is the one whose measured expected latency is lowest.
    top = [c for c in after["candidates"] if c["model_id"] in probes]
    assert len(top) == 3 and all(c["latency_source"] == "measured" for c in top)
    latencies = [c["expected_latency_ms"] for c in top]
    assert latencies == sorted(latencies)
    by_ttft = sorted(top, key=lambda c: c["ttft_p50_ms"])
    assert [c["model_id"] for c in by_ttft] == ["quick/m", "steady/m", "sleepy/m"]
    assert all(c["expected_latency_ms"] >= c["ttft_p50_ms"] for c in top)
    assert after["model_id"] == top[0]["model_id"]
    human = trio.run("select", "hi", "--strategy", "performance")
    assert re.search(rf"{re.escape(top[0]['model_id'])} .* meas", human.stdout), human.stdout


def test_probe_refuses_over_max_cost_before_sending(trio: Trio) -> None:
    trio.run("models", "set", "quick/m", "--input-price", "100", "--output-price", "400")
    proc = trio.run("models", "probe", "quick/m", "--max-cost", "0.000001", "--json")
    assert proc.returncode == 7, proc.stderr
    (result,) = json.loads(proc.stdout)["models"]
    assert (result["ok"], result["sent"], result["exit_code"]) == (False, False, 7)
    assert "> --max-cost $1e-06; not sent" in result["error"]
    assert trio.servers["quick"].count("/chat/completions") == 0
    unpriced = trio.run("models", "probe", "steady/m", "--max-cost", "1")
    assert unpriced.returncode == 7
    assert "price unknown, so a probe cannot be bounded by --max-cost $1; not sent" in (
        unpriced.stderr
    )
    assert trio.servers["steady"].count("/chat/completions") == 0
    # within the bound it is sent; one failing and one answering is a partial success
    trio.run("models", "set", "sleepy/m", "--input-price", "0.1", "--output-price", "0.4")
    trio.servers["sleepy"].always("m", Behavior(status=503))
    mixed = trio.run("models", "probe", "quick/m", "sleepy/m", "--max-cost", "1", "--timeout", "30")
    assert mixed.returncode == 10, mixed.stderr
    assert "sleepy/m: " in mixed.stderr and "503" in mixed.stderr
