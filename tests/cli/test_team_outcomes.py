"""Outcomes through a PostgreSQL team store (issue 25): one machine's rating changes
another machine's next selection. Real subprocesses, a real PostgreSQL server."""

from __future__ import annotations

import json

from tests.cli.test_team_store import (  # noqa: F401 - fixture
    BETA_KEY,
    KEY_OLD,
    Machine,
    Team,
    team,
)
from tests.fake_provider import Behavior


def two_machines(team: Team) -> tuple[Machine, Machine]:  # noqa: F811
    """Machines a and b on the team store, with keys for alpha and beta, models synced."""
    a, b = team.machine("a"), team.machine("b")
    for m in (a, b):
        m.env["JARVIS_ALPHA_API_KEY"] = KEY_OLD
        m.env["JARVIS_BETA_API_KEY"] = BETA_KEY
    assert a.run("models", "sync", "alpha", "beta").returncode == 0
    return a, b


def test_an_outcome_recorded_on_one_machine_changes_the_next_selection_on_another(
    team: Team,  # noqa: F811
) -> None:
    a, b = two_machines(team)

    def chosen() -> dict[str, object]:
        proc = b.run("select", "Say hi", "--strategy", "quality", "--json", "--no-stdin")
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)  # type: ignore[no-any-return]

    assert chosen()["model_id"] == "alpha/fake-chat"  # a tie, broken by id
    answered = a.run("complete", "Say hi", "--model", "alpha/fake-chat", "--json", "--no-stdin")
    assert answered.returncode == 0, answered.stderr
    assert a.run("rate", "bad").returncode == 0
    data = chosen()
    assert data["model_id"] == "beta/fake-chat"
    (alpha,) = [c for c in data["candidates"] if c["model_id"] == "alpha/fake-chat"]  # type: ignore[union-attr]
    assert alpha["learned"]["you"] == {"score": 0.0, "n": 1}
    assert team.rows("SELECT model_id, source, score FROM outcomes") == [
        ("alpha/fake-chat", "rate", 0.0)
    ]
    assert b.run("outcomes", "delete", "--all").returncode == 0  # undone for everyone
    assert chosen()["model_id"] == "alpha/fake-chat"


def test_billed_output_tokens_rated_on_one_machine_price_the_model_on_another(
    team: Team,  # noqa: F811
) -> None:
    a, b = two_machines(team)
    team.alpha.always("fake-chat", Behavior(completion_tokens=700))
    for i in range(5):
        answered = a.run("complete", f"Say hi {i}", "--model", "alpha/fake-chat", "--json",
                         "--no-stdin")  # fmt: skip
        assert answered.returncode == 0, answered.stderr
        assert a.run("rate", "good").returncode == 0
    lines = "".join(
        json.dumps({"prompt": f"q{i}", "model": "beta/fake-chat", "score": 1,
                    "output_tokens": 30}) + "\n"
        for i in range(5)
    )  # fmt: skip
    assert b.run("outcomes", "import", "-", input=lines).returncode == 0

    def estimate(machine: Machine, model: str) -> dict[str, object]:
        proc = machine.run("select", "Say hi", "--model", model, "--json", "--no-stdin")
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)["cost_estimate"]  # type: ignore[no-any-return]

    alpha = estimate(b, "alpha/fake-chat")
    assert (alpha["expected_output_tokens"], alpha["expected_output_source"]) == (700, "outcomes")
    assert alpha["expected_output_samples"] == 5
    beta = estimate(a, "beta/fake-chat")
    assert (beta["expected_output_tokens"], beta["expected_output_samples"]) == (30, 5)
    assert sorted(team.rows("SELECT model_id, output_tokens FROM outcomes")) == [
        *[("alpha/fake-chat", 700)] * 5, *[("beta/fake-chat", 30)] * 5,
    ]  # fmt: skip
    assert a.run("outcomes", "delete", "--model", "alpha/fake-chat").returncode == 0
    assert estimate(b, "alpha/fake-chat")["expected_output_source"] == "default"
