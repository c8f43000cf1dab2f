"""Outcomes through a PostgreSQL team store (issue 25): one machine's rating changes
another machine's next selection. Real subprocesses, a real PostgreSQL server."""

from __future__ import annotations

import json

from tests.cli.test_team_store import BETA_KEY, KEY_OLD, Team, team  # noqa: F401 - fixture


def test_an_outcome_recorded_on_one_machine_changes_the_next_selection_on_another(
    team: Team,  # noqa: F811
) -> None:
    a, b = team.machine("a"), team.machine("b")
    for m in (a, b):
        m.env["JARVIS_ALPHA_API_KEY"] = KEY_OLD
        m.env["JARVIS_BETA_API_KEY"] = BETA_KEY
    assert a.run("models", "sync", "alpha", "beta").returncode == 0

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
