"""Budgets that hold (issue 23): the reservation bounds the bill, end to end.

Loopback fakes (tests/fake_provider.py) that bill like a real chat template
(`template_tokens`) and honour, or ignore, the output limit they receive; real
`jarvis` subprocesses; a real PostgreSQL team store for the two-machine scenario.
The same properties on a real llama.cpp server are in tests/test_budget_llama.py.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from jarvis_cli.core.errors import ExitCode
from tests.cli.test_team_store import BETA_KEY, KEY_OLD, Team
from tests.conftest import run_jarvis
from tests.fake_provider import Behavior, FakeProvider
from tests.store_access import query

KEY = "sk-bound-CANARY-0123456789abcdef"


@dataclass
class One:
    fake: FakeProvider
    home: Path
    env: dict[str, str]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_jarvis(*args, env=self.env)

    def configure(self, extra: str = "", provider: str = "alpha") -> None:
        config = self.home / "config.toml"
        config.write_text(
            f'[providers.{provider}]\nbase_url = "{self.fake.base_url}"\n'
            f'api_key_env = "BOUND_KEY"\n{extra}'
        )
        config.chmod(0o600)

    def price(self, model: str, usd_per_mtok: float) -> None:
        p = str(usd_per_mtok)
        done = self.run("models", "set", model, "--input-price", p, "--output-price", p)
        assert done.returncode == 0, done.stderr

    def sent(self) -> list[dict[str, Any]]:
        return [r.body for r in self.fake.requests if r.path.endswith("/chat/completions")]


@pytest.fixture
def one(home: Path) -> Iterator[One]:
    with FakeProvider(api_key=KEY, models=["fake-chat"]) as fake:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        yield One(fake, home, {"BOUND_KEY": KEY})


def test_a_budgeted_request_without_max_tokens_carries_the_reserved_output_limit(
    one: One,
) -> None:
    one.configure("[budgets]\ndaily_usd = 100.0\n")
    one.price("alpha/fake-chat", 1.0)
    done = one.run("complete", "hi", "--model", "alpha/fake-chat", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    (body,) = one.sent()
    assert body["max_tokens"] == 1024 == data["cost_estimate"]["output_tokens_limit"]
    # The bound reserved: the rule's input bound (2 bytes + 8 + 128) + the output limit.
    assert data["cost_estimate"]["input_tokens_bound"] == 138
    assert data["max_cost_usd"] == pytest.approx((138 + 1024 + 16) / 1e6)
    assert data["attempts"][0]["reserved_usd"] == pytest.approx(data["max_cost_usd"])
    assert data["expected_cost_usd"] < data["max_cost_usd"]


def test_the_output_limit_is_configurable_and_beaten_by_max_tokens(
    one: One,
) -> None:
    one.configure("[budgets]\ndaily_usd = 100.0\nmax_output_tokens = 300\n")
    one.price("alpha/fake-chat", 1.0)
    assert one.run("complete", "hi", "--model", "alpha/fake-chat").returncode == 0
    explicit = one.run("complete", "hi", "--model", "alpha/fake-chat", "--max-tokens", "500")
    assert explicit.returncode == 0, explicit.stderr
    assert [b["max_tokens"] for b in one.sent()] == [300, 500]  # (the model cap: test_bound.py)


def test_max_cost_alone_sends_the_limit_and_an_unbudgeted_request_sends_none(one: One) -> None:
    one.configure()
    one.price("alpha/fake-chat", 1.0)
    assert one.run("complete", "hi", "--model", "alpha/fake-chat").returncode == 0
    limited = one.run("complete", "hi", "--model", "alpha/fake-chat", "--max-cost", "1")
    assert limited.returncode == 0, limited.stderr
    first, second = one.sent()
    assert "max_tokens" not in first  # nothing to bound: behaviour as before
    assert second["max_tokens"] == 1024


def test_max_cost_compares_the_bound_not_the_typical_cost(one: One) -> None:
    one.configure()
    one.price("alpha/fake-chat", 1000.0)  # $0.001 a token
    # Typical: ~1 + 500 tokens = $0.50; bound: 138 + 1024 + 16 tokens = $1.18.
    refused = one.run("complete", "hi", "--model", "alpha/fake-chat", "--max-cost", "0.8")
    assert refused.returncode == ExitCode.BUDGET, refused.stderr
    assert "alpha/fake-chat: cost bound $1.178000 (the most the provider can bill" in refused.stderr
    assert "exceeds --max-cost $0.800000" in refused.stderr
    assert one.sent() == []
    fits = one.run(
        "complete", "hi", "--model", "alpha/fake-chat", "--max-cost", "0.8", "--max-tokens", "100"
    )
    assert fits.returncode == 0, fits.stderr
    assert one.sent()[0]["max_tokens"] == 100


def test_openai_gets_max_completion_tokens(one: One) -> None:
    one.fake.set_models(["o4-mini"])
    one.configure("[budgets]\ndaily_usd = 100.0\n", provider="openai")
    one.env["OPENAI_API_KEY"] = KEY
    done = one.run("complete", "hi", "--model", "openai/o4-mini", "--json")
    assert done.returncode == 0, done.stderr
    (body,) = one.sent()
    assert "max_tokens" not in body and body["max_completion_tokens"] >= 1


@pytest.mark.slow(36)
def test_calibration_tightens_the_bound_and_stays_above_every_bill(one: One) -> None:
    one.configure("[budgets]\ndaily_usd = 100.0\n")
    one.price("alpha/fake-chat", 1.0)
    one.fake.always("fake-chat", Behavior(template_tokens=True, honour_max_tokens=True))
    chinese = "你好\uff0c请介绍一下你自己\u3002"
    prompts = ["hi", "Summarise the plot of Hamlet in two sentences.", chinese]
    bounds: dict[str, list[int]] = {p: [] for p in prompts}
    for _ in range(3):
        for prompt in prompts:
            done = one.run("complete", prompt, "--model", "alpha/fake-chat", "--json")
            assert done.returncode == 0, done.stderr
            data = json.loads(done.stdout)
            billed = data["usage"]["prompt_tokens"]
            assert billed <= data["cost_estimate"]["input_tokens_bound"]
            assert data["cost_usd"] <= data["max_cost_usd"]
            assert data["attempts"][0]["overrun_usd"] is None
            bounds[prompt].append(data["cost_estimate"]["input_tokens_bound"])
    assert all(b[-1] < b[0] for b in bounds.values()), bounds  # tighter than the rule
    last = json.loads(one.run("complete", "hi", "--model", "alpha/fake-chat", "--json").stdout)
    assert last["cost_estimate"]["source"] == "calibration"
    assert last["cost_estimate"]["samples"] == 9
    ((n,),) = query(one.home, "SELECT n FROM token_calibration WHERE model_id = 'alpha/fake-chat'")
    assert n == 10


def test_an_overrun_is_recorded_said_shown_by_stats_and_widens_calibration(one: One) -> None:
    one.configure("[budgets]\ndaily_usd = 100.0\n")
    one.price("alpha/fake-chat", 1.0)
    # A server that ignores max_tokens and a tokenizer far outside the byte bound.
    one.fake.always("fake-chat", Behavior(prompt_tokens=400, completion_tokens=2000))
    done = one.run("complete", "hi", "--model", "alpha/fake-chat", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    reserved = data["max_cost_usd"]
    overrun = data["attempts"][0]["overrun_usd"]
    assert overrun == pytest.approx(data["cost_usd"] - reserved)
    assert "over the $" in done.stderr and "reserved (overrun $" in done.stderr
    ((stored,),) = query(one.home, "SELECT overrun_usd FROM calls")
    assert stored == pytest.approx(overrun)
    stats = one.run("stats", "--json")
    (model,) = json.loads(stats.stdout)["models"]
    assert model["model_id"] == "alpha/fake-chat" and model["overruns"] == 1
    assert model["overrun_usd"] == pytest.approx(overrun)
    human = one.run("stats")
    assert "overruns: alpha/fake-chat billed $" in human.stderr
    again = json.loads(one.run("complete", "hi", "--model", "alpha/fake-chat", "--json").stdout)
    assert again["cost_estimate"]["input_tokens_bound"] >= 400  # the bound widened


# --- Two machines, one PostgreSQL team store (the second scenario) ------------


@pytest.fixture
def team(pg_url: str, tmp_path: Path) -> Iterator[Team]:
    """Machines sharing a fresh PostgreSQL database (as in test_team_store.py)."""
    with (
        FakeProvider(api_key=KEY_OLD, models=["fake-chat"]) as alpha,
        FakeProvider(api_key=BETA_KEY, models=["fake-chat"]) as beta,
    ):
        yield Team(pg_url, alpha, beta, tmp_path)


def _two_machines_race(team: Team, behavior: Behavior) -> tuple[list[Any], float, int]:
    budget = "[budgets]\ndaily_usd = 1.0\n"
    machines = [team.machine(name, budget) for name in ("m1", "m2")]
    for m in machines:
        m.env["JARVIS_ALPHA_API_KEY"] = KEY_OLD
    priced = machines[0].run(
        "models", "set", "alpha/fake-chat", "--input-price", "1000", "--output-price", "1000"
    )
    assert priced.returncode == 0, priced.stderr
    team.alpha.always("fake-chat", behavior)
    argv = ["complete", "hi", "--model", "alpha/fake-chat", "--no-fallback"]
    argv += ["--max-tokens", "20", "--no-stream", "--json"]
    procs = [m.popen(*argv) for m in machines for _ in range(8)]
    results = [(p.wait(timeout=240), *p.communicate()) for p in procs]
    for code, _, err in results:
        assert code in (0, ExitCode.BUDGET), err
        if code == ExitCode.BUDGET:
            assert "daily total budget exceeded" in err
    ((spent, overruns),) = team.rows(
        "SELECT COALESCE(SUM(cost_usd), 0), COALESCE(SUM(overrun_usd), 0) FROM calls"
    )
    answered = [json.loads(out) for code, out, _ in results if code == 0]
    assert answered and len(answered) < 16  # the limit allows some, not all
    assert team.rows("SELECT COUNT(*) FROM budget_reservations") == [(0,)]
    for body in (r.body for r in team.alpha.requests if r.path.endswith("/chat/completions")):
        assert body["max_tokens"] == 20  # the output limit reserved is the one sent
    return answered, float(spent), float(overruns)


@pytest.mark.slow(15)
def test_two_machines_with_an_honest_template_billing_provider_stay_within_the_limit(
    team: Team,
) -> None:
    honest = Behavior(template_tokens=True, honour_max_tokens=True, completion_tokens=60)
    answered, spent, overruns = _two_machines_race(team, honest)
    assert spent <= 1.0 + 1e-9
    assert overruns == 0
    assert all(a["usage"]["prompt_tokens"] == 11 for a in answered)  # "hi" in the template


@pytest.mark.slow(16)
def test_two_machines_with_a_provider_ignoring_max_tokens_overshoot_by_no_more_than_overruns(
    team: Team,
) -> None:
    rogue = Behavior(template_tokens=True, completion_tokens=300)  # ignores max_tokens
    answered, spent, overruns = _two_machines_race(team, rogue)
    assert overruns > 0
    assert spent <= 1.0 + overruns + 1e-9
    # A request granted after an overrun was settled reserves the overshoot learned from
    # it (+ margin), so it bills within its bound; every other one is a recorded overrun.
    over = [a for a in answered if a["attempts"][0]["overrun_usd"]]
    assert over
    for a in answered:
        assert a["attempts"][0]["overrun_usd"] or a["cost_usd"] <= a["max_cost_usd"] + 1e-9
    stats = team.machine("ops").run("stats", "--json")
    (model,) = json.loads(stats.stdout)["models"]
    assert model["overruns"] == len(over)
    assert model["overrun_usd"] == pytest.approx(overruns)


def test_select_gives_the_expected_cost_and_the_bound_with_their_source(one: One) -> None:
    one.configure()
    one.price("alpha/fake-chat", 1.0)
    before = one.run("select", "hi", "--provider", "alpha", "--json")
    assert before.returncode == 0, before.stderr
    data = json.loads(before.stdout)
    assert data["model_id"] == "alpha/fake-chat"
    assert data["cost_estimate"]["source"] == "rule"
    assert data["max_cost_usd"] == pytest.approx((138 + 1024 + 16) / 1e6)
    assert 0 < data["expected_cost_usd"] < data["max_cost_usd"]
    (cand,) = data["candidates"]
    assert cand["max_cost_usd"] == data["max_cost_usd"]
    one.fake.always("fake-chat", Behavior(template_tokens=True))
    for _ in range(2):
        assert one.run("complete", "hi", "--model", "alpha/fake-chat").returncode == 0
    after = json.loads(one.run("select", "hi", "--provider", "alpha", "--json").stdout)
    assert after["cost_estimate"]["source"] == "calibration"
    assert after["cost_estimate"]["samples"] == 2
    assert after["max_cost_usd"] < data["max_cost_usd"]  # the bound tightened
    # Ranking prices a calibrated model at its own typical tokens, as the display does.
    assert data["estimated_cost_usd"] == pytest.approx(data["expected_cost_usd"])
    assert after["estimated_cost_usd"] == pytest.approx(after["expected_cost_usd"])
    assert after["expected_cost_usd"] != data["expected_cost_usd"]
    explained = one.run("select", "hi", "--provider", "alpha", "--explain")
    assert explained.returncode == 0, explained.stderr
    assert "cost: expected $" in explained.stdout and ", at most $" in explained.stdout
    assert "calibration from 2 billed requests" in explained.stdout
    table = one.run("select", "hi", "--provider", "alpha")
    expected = f"${after['expected_cost_usd']:.6f}".rstrip("0")
    assert expected in table.stdout  # the table shows the expected cost
