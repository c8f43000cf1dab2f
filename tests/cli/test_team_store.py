"""A PostgreSQL team store shared by several "machines" (issue 16).

Each machine is its own JARVIS_HOME (config.toml, no local store) whose jarvis runs
as real subprocesses against one real PostgreSQL database (tests/pg_server.py) and
loopback fake providers. Nothing here is mocked: the budget, the keys, the cooldowns
and the failures all go through the server.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from jarvis_cli.core.errors import ExitCode
from tests.conftest import run_jarvis
from tests.fake_provider import Behavior, FakeProvider

KEY_OLD = "sk-team-OLD-CANARY-0123456789abcdef"
KEY_NEW = "sk-team-NEW-CANARY-fedcba9876543210"
BETA_KEY = "sk-beta-CANARY-0123456789abcdef"
PASSWORD = "pw-CANARY-9f8e7d6c5b4a"  # trust auth ignores it; it must never be shown


@dataclass
class Machine:
    home: Path
    env: dict[str, str]

    def run(self, *args: str, input: str | None = None, timeout: float = 120) -> Any:
        return run_jarvis(*args, input=input, env=self.env, timeout=timeout)

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "jarvis_cli", *args],
            env={**os.environ, **self.env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@dataclass
class Team:
    url: str  # with the canary password
    alpha: FakeProvider
    beta: FakeProvider
    tmp: Path

    def machine(self, name: str, extra_config: str = "") -> Machine:
        home = self.tmp / name
        home.mkdir(mode=0o700)
        config = home / "config.toml"
        config.write_text(
            f"""
[providers.alpha]
base_url = "{self.alpha.base_url}"
[providers.beta]
base_url = "{self.beta.base_url}"
[retry]
backoff_base_s = 0.01
backoff_max_s = 0.05
max_retry_after_s = 0
{extra_config}
"""
        )
        config.chmod(0o600)
        env = {
            "JARVIS_HOME": str(home),
            "JARVIS_STORE_URL": self.url,
            "JARVIS_BETA_API_KEY": BETA_KEY,
        }
        return Machine(home, env)

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            return list(conn.execute(sql, params).fetchall())  # type: ignore[arg-type]


@pytest.fixture
def team(pg_url: str, tmp_path: Path) -> Iterator[Team]:
    url = pg_url.replace("postgresql://postgres@", f"postgresql://postgres:{PASSWORD}@")
    with (
        FakeProvider(api_key=KEY_OLD, models=["fake-chat"]) as alpha,
        FakeProvider(api_key=BETA_KEY, models=["fake-chat"]) as beta,
    ):
        yield Team(url, alpha, beta, tmp_path)


def _no_secrets(*texts: str) -> None:
    for text in texts:
        for secret in (PASSWORD, KEY_OLD, KEY_NEW, BETA_KEY):
            assert secret not in text


@pytest.mark.slow(11)
def test_eight_machines_with_eight_requests_each_never_overspend_a_shared_daily_limit(
    team: Team,
) -> None:
    # Worst case of a request: 10 input tokens at $0 + 30 output tokens at $1000/Mtok
    # = $0.03. The fake answers with exactly 30 tokens, so actual = estimate, and 64
    # requests ($1.92) cannot all fit under $1.00: at most 33 can.
    machines = [team.machine(f"m{i}", "[budgets]\ndaily_usd = 1.00\n") for i in range(8)]
    admin = machines[0]
    added = admin.run("keys", "add", "alpha", "--stdin", "--no-validate", input=KEY_OLD + "\n")
    assert added.returncode == 0, added.stderr
    priced = admin.run(
        "models", "set", "alpha/fake-chat", "--input-price", "0", "--output-price", "1000"
    )  # a registry override: in the team store, so every machine sees it
    assert priced.returncode == 0, priced.stderr
    team.alpha.always("fake-chat", Behavior(delay_s=0.5, completion_tokens=30))
    procs = []
    for i, m in enumerate(machines):
        src = m.home / "in.jsonl"
        src.write_text(
            "".join(json.dumps({"id": f"m{i}-{j}", "prompt": "q"}) + "\n" for j in range(8))
        )
        procs.append(
            m.popen(
                "batch",
                str(src),
                "-o",
                str(m.home / "out.jsonl"),
                "--concurrency",
                "8",
                "--model",
                "alpha/fake-chat",
                "--max-tokens",
                "30",
            )
        )
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode in (0, 7), err
        _no_secrets(out, err)
    lines = [
        json.loads(line)
        for m in machines
        for line in (m.home / "out.jsonl").read_text().splitlines()
    ]
    assert len(lines) == 64
    answered = [line for line in lines if line["ok"]]
    refused = [line for line in lines if not line["ok"]]
    assert 1 <= len(answered) <= 33 and refused
    for line in refused:  # every refusal says why
        assert line["error"]["class"] == "budget_exceeded"
        # A line a batch starts after one of its lines was refused is not sent, and
        # says so (under load a thread can start that late).
        message = line["error"]["message"]
        assert "daily total budget exceeded" in message or message == (
            "not sent: the budget was reached by earlier lines"
        ), message
    ((spent, attempts),) = team.rows("SELECT COALESCE(SUM(cost_usd), 0), COUNT(*) FROM calls")
    assert spent <= 1.00 + 1e-9
    assert attempts == len(answered) == team.alpha.count("/chat/completions")
    assert spent == pytest.approx(sum(line["cost_usd"] for line in answered))
    assert team.rows("SELECT COUNT(*) FROM budget_reservations") == [(0,)]


def test_a_key_rotated_on_one_machine_is_used_by_the_next_call_on_another(team: Team) -> None:
    ops, runner = team.machine("ops"), team.machine("runner")
    added = ops.run("keys", "add", "alpha", "--stdin", input=KEY_OLD + "\n")
    assert added.returncode == 0, added.stderr
    first = runner.run("complete", "hi", "--model", "alpha/fake-chat", "--no-fallback")
    assert first.returncode == 0, first.stderr
    team.alpha.api_key = KEY_NEW  # the provider revokes the old key
    rotated = ops.run("keys", "rotate", "alpha", "--stdin", input=KEY_NEW + "\n")
    assert rotated.returncode == 0, rotated.stderr  # validated against the provider first
    second = runner.run("complete", "hi", "--model", "alpha/fake-chat", "--no-fallback")
    assert second.returncode == 0, second.stderr
    assert second.stdout == "Hello from fake\n"
    listed = json.loads(runner.run("keys", "list", "--json").stdout)
    (alpha,) = [k for k in listed if k["provider"] == "alpha"]
    assert alpha["rotation_count"] == 1 and alpha["usage_count"] == 2
    history = json.loads(runner.run("keys", "history", "alpha", "--json").stdout)
    assert any(e["event"] == "rotated" for e in history)
    _no_secrets(added.stderr, first.stderr, rotated.stderr, second.stderr, json.dumps(listed))
    assert not (runner.home / "jarvis.db").exists()  # nothing was kept locally


@pytest.mark.slow(15)
def test_a_model_failing_on_machine_a_is_skipped_by_machine_b(team: Team) -> None:
    a, b = team.machine("a"), team.machine("b")
    a.env["JARVIS_ALPHA_API_KEY"] = b.env["JARVIS_ALPHA_API_KEY"] = KEY_OLD
    assert a.run("models", "sync", "alpha").returncode == 0
    assert b.run("models", "sync", "beta").returncode == 0
    team.alpha.always("fake-chat", Behavior(status=503))
    failed = a.run(
        "complete", "hi", "--model", "alpha/fake-chat", "--no-fallback", "--retries", "2"
    )
    assert failed.returncode == ExitCode.PROVIDER
    assert team.alpha.count("/chat/completions") == 3
    # B has never called alpha; the team store's attempts put it in cooldown for B too.
    chosen = b.run("select", "hi", "--capability", "chat", "--explain", "--json")
    assert chosen.returncode == 0, chosen.stderr
    data = json.loads(chosen.stdout)
    assert data["model_id"] == "beta/fake-chat"
    excluded = {e["model_id"]: e for e in data["excluded"]}
    assert excluded["alpha/fake-chat"]["code"] == "cooldown"
    answered = b.run("complete", "hi", "--capability", "chat", "--json")
    assert answered.returncode == 0, answered.stderr
    assert json.loads(answered.stdout)["model_id"] == "beta/fake-chat"
    assert team.alpha.count("/chat/completions") == 3  # B never sent to the cooled model


@pytest.mark.slow(10)
def test_a_reservation_of_a_killed_process_expires_and_the_budget_recovers(team: Team) -> None:
    budget = "[budgets]\ndaily_usd = 0.06\nreservation_grace_s = 1\n"  # one $0.056 bound
    a, b = team.machine("a", budget), team.machine("b", budget)
    assert (
        a.run("keys", "add", "alpha", "--stdin", "--no-validate", input=KEY_OLD + "\n").returncode
        == 0
    )
    priced = a.run(
        "models", "set", "alpha/fake-chat", "--input-price", "0", "--output-price", "1000"
    )
    assert priced.returncode == 0, priced.stderr
    team.alpha.always("fake-chat", Behavior(delay_s=60))
    hung = a.popen(
        "complete", "hi", "--model", "alpha/fake-chat", "--no-fallback",
        "--max-tokens", "40", "--timeout", "3", "--retries", "0",
    )  # fmt: skip
    deadline = time.monotonic() + 60
    held: list[tuple[Any, ...]] = []
    while not held and time.monotonic() < deadline:
        held = team.rows("SELECT amount_usd, created_at, expires_at FROM budget_reservations")
        time.sleep(0.05)
    assert held, "the request never reserved its budget"
    hung.send_signal(signal.SIGKILL)
    hung.communicate(timeout=30)
    ((amount, created, expires),) = held
    # 40 output tokens + the rule's 16-token output allowance (issue 23) at $0.001 a token
    assert amount == pytest.approx(0.056)
    assert expires - created == pytest.approx(3 + 1, abs=0.01)  # timeout + grace
    team.alpha.always("fake-chat", Behavior(completion_tokens=5))
    if time.time() < expires - 0.5:  # still held: B is refused, and says why
        refused = b.run("complete", "hi", "--model", "alpha/fake-chat", "--no-fallback",
                        "--max-tokens", "40")  # fmt: skip
        assert refused.returncode == ExitCode.BUDGET, refused.stderr
        assert "reserved by requests in flight" in refused.stderr
    time.sleep(max(0.0, expires - time.time()) + 0.2)
    after = b.run(
        "complete", "hi", "--model", "alpha/fake-chat", "--no-fallback", "--max-tokens", "40"
    )
    assert after.returncode == 0, after.stderr
    assert team.rows("SELECT COUNT(*) FROM budget_reservations") == [(0,)]


def test_an_unreachable_store_is_exit_3_before_anything_is_sent(team: Team) -> None:
    m = team.machine("m")
    port = int(team.url.rsplit(":", 1)[1].split("/")[0])
    m.env["JARVIS_STORE_URL"] = team.url.replace(f":{port}/", ":1/")
    m.env["JARVIS_ALPHA_API_KEY"] = KEY_OLD
    result = m.run("complete", "hi", "--model", "alpha/fake-chat")
    assert result.returncode == ExitCode.CONFIG
    assert (
        "error: cannot connect to the PostgreSQL store postgresql://postgres:***@127.0.0.1:1/"
        in result.stderr
    )
    assert team.alpha.count("/chat/completions") == 0
    doctor = m.run("doctor", "--json")
    assert doctor.returncode == ExitCode.CONFIG
    store = json.loads(doctor.stdout)["store"]
    assert store["backend"] == "postgresql" and store["reachable"] is False
    assert store["url"].startswith("postgresql://postgres:***@127.0.0.1:1/")
    _no_secrets(result.stdout, result.stderr, doctor.stdout, doctor.stderr)


def test_a_store_newer_than_this_jarvis_is_exit_3(team: Team) -> None:
    m = team.machine("m")
    assert m.run("store", "migrate").returncode == 0
    with psycopg.connect(team.url, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (99, 'future', 0)")
    m.env["JARVIS_ALPHA_API_KEY"] = KEY_OLD
    result = m.run("complete", "hi", "--model", "alpha/fake-chat")
    assert result.returncode == ExitCode.CONFIG
    assert "has schema version 99, newer than this jarvis understands" in result.stderr
    assert "postgres:***@" in result.stderr
    assert team.alpha.count("/chat/completions") == 0
    _no_secrets(result.stderr)


def test_store_migrate_reports_versions_and_doctor_redacts_the_url(team: Team) -> None:
    m = team.machine("m")
    first = m.run("store", "migrate", "--json")
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    assert data["backend"] == "postgresql" and data["migrated_from"] == 0
    assert data["schema_version"] == data["expected_schema_version"]
    again = m.run("store", "migrate")
    assert "(already up to date)" in again.stderr
    doctor = m.run("doctor")
    assert doctor.returncode == 0, doctor.stderr
    assert "PostgreSQL postgresql://postgres:***@127.0.0.1:" in doctor.stdout
    assert "set by JARVIS_STORE_URL" in doctor.stdout
    _no_secrets(first.stdout, again.stderr, doctor.stdout, doctor.stderr)


def test_a_lost_connection_between_requests_is_reconnected(team: Team) -> None:
    m = team.machine("m")
    assert (
        m.run("keys", "add", "alpha", "--stdin", "--no-validate", input=KEY_OLD + "\n").returncode
        == 0
    )
    team.alpha.always("fake-chat", Behavior(delay_s=1.5))
    proc = m.popen("complete", "hi", "--model", "alpha/fake-chat", "--no-fallback", "--json")
    deadline = time.monotonic() + 30
    while team.alpha.count("/chat/completions") == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    killed = team.rows(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = 'jarvis' AND pid <> pg_backend_pid() "
        "AND datname = current_database()"  # this test's database: the server is shared
    )
    assert killed  # the request's connection was cut while it waited for the provider
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert json.loads(out)["text"] == "Hello from fake"
    assert team.rows("SELECT ok FROM calls") == [(1,)]  # the attempt was still recorded


def test_an_attempt_that_cannot_be_recorded_is_reported_and_earlier_ones_kept(
    team: Team, pg_server: Any
) -> None:
    # A database role that may stop writing attempts mid-request (an admin's REVOKE).
    with psycopg.connect(team.url, autocommit=True) as conn:
        conn.execute("CREATE ROLE runner LOGIN")
    runner_url = team.url.replace("postgresql://postgres:", "postgresql://runner:")
    admin = team.machine("admin")
    assert admin.run("store", "migrate").returncode == 0
    with psycopg.connect(team.url, autocommit=True) as conn:
        conn.execute("GRANT ALL ON ALL TABLES IN SCHEMA public TO runner")
        conn.execute("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO runner")
    m = team.machine("m")
    m.env["JARVIS_STORE_URL"] = runner_url
    m.env["JARVIS_ALPHA_API_KEY"] = KEY_OLD
    first = m.run("complete", "one", "--model", "alpha/fake-chat", "--no-fallback")
    assert first.returncode == 0, first.stderr
    team.alpha.always("fake-chat", Behavior(delay_s=1.5))
    proc = m.popen("complete", "two", "--model", "alpha/fake-chat", "--no-fallback")
    deadline = time.monotonic() + 30
    while team.alpha.count("/chat/completions") < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    with psycopg.connect(team.url, autocommit=True) as conn:
        conn.execute("REVOKE INSERT ON calls FROM runner")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == ExitCode.CONFIG, err
    assert "error: could not record the attempt of alpha/fake-chat (answered) in the store" in err
    assert "permission denied for table calls" in err and "postgres" in err
    assert "Traceback" not in err
    _no_secrets(out, err)
    assert [r[0] for r in team.rows("SELECT request_id IS NOT NULL FROM calls")] == [True]
