"""The output side of the bound learns (issue 23): an overshoot widens the next reservation.

A loopback fake that bills more completion tokens than the limit it was sent (as
llama.cpp does when it finishes a split UTF-8 character, or as a server that ignores
`max_tokens` does); real `jarvis` subprocesses; a real SQLite store, and a real
PostgreSQL team store that `store copy` fills and that learns on its own.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from jarvis_cli.core.selection.bound import MARGIN, MARGIN_TOKENS, OUTPUT_RULE_TOKENS
from tests.cli.test_budget_bounds import KEY, One
from tests.conftest import run_jarvis
from tests.fake_provider import Behavior, FakeProvider
from tests.store_access import query

LIMIT = 12
BILLED = 40  # completion tokens the fake bills whatever it was sent
OVER = BILLED - LIMIT
LEARNED = math.ceil(OVER * MARGIN) + MARGIN_TOKENS  # 35: the allowance once learned


@pytest.fixture
def one(home: Path) -> Iterator[One]:
    with FakeProvider(api_key=KEY, models=["fake-chat"]) as fake:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        yield One(fake, home, {"BOUND_KEY": KEY})


def _complete(one: One, *extra: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    done = run_jarvis(
        "complete", "hi", "--model", "alpha/fake-chat", "--max-tokens", str(LIMIT), "--json",
        *extra, env={**one.env, **(env or {})},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    assert ("overrun" in done.stderr) == (data["attempts"][0]["overrun_usd"] is not None)
    return data


def _price_output_only(one: One) -> None:
    """Output tokens alone cost (so the input bound's slack cannot hide an overshoot)."""
    done = one.run("models", "set", "alpha/fake-chat", "--input-price", "0", "--output-price", "1")
    assert done.returncode == 0, done.stderr


def test_an_overshoot_widens_the_next_reservation_to_cover_it(one: One) -> None:
    one.configure("[budgets]\ndaily_usd = 100.0\n")
    _price_output_only(one)
    one.fake.always("fake-chat", Behavior(template_tokens=True, completion_tokens=BILLED))
    first = _complete(one)
    est = first["cost_estimate"]
    assert (est["output_source"], est["output_samples"]) == ("rule", 0)
    assert est["output_tokens_bound"] == LIMIT + OUTPUT_RULE_TOKENS < BILLED
    assert first["attempts"][0]["overrun_usd"] > 0  # past the rule's allowance: an overrun
    assert query(one.home, "SELECT output_n, output_overshoot FROM token_calibration") == [
        (1, OVER)
    ]

    second = _complete(one)
    est = second["cost_estimate"]
    assert (est["output_source"], est["output_samples"]) == ("calibration", 1)
    assert est["output_tokens_limit"] == LIMIT  # the limit sent does not change
    assert est["output_tokens_bound"] == LIMIT + LEARNED >= BILLED
    assert second["usage"]["completion_tokens"] == BILLED
    assert second["attempts"][0]["overrun_usd"] is None  # covered now
    assert second["cost_usd"] <= second["max_cost_usd"]
    assert [b["max_tokens"] for b in one.sent()] == [LIMIT, LIMIT]

    # A request whose answer stays under its limit does not shrink what was learned.
    roomy = _complete(one, "--max-tokens", "100")
    assert roomy["cost_estimate"]["output_tokens_bound"] == 100 + LEARNED
    assert query(one.home, "SELECT output_n, output_overshoot FROM token_calibration") == [
        (3, OVER)
    ]
    explained = one.run("select", "hi", "--provider", "alpha", "--explain")
    assert explained.returncode == 0, explained.stderr
    assert f"output: limit sent 1024 + {LEARNED} by calibration" in explained.stdout
    assert "over 3 requests" in explained.stdout


def test_an_honest_provider_keeps_the_rule_allowance(one: One) -> None:
    one.configure("[budgets]\ndaily_usd = 100.0\n")
    one.price("alpha/fake-chat", 1.0)
    one.fake.always("fake-chat", Behavior(honour_max_tokens=True, completion_tokens=BILLED))
    for _ in range(2):
        data = _complete(one)
        assert data["usage"]["completion_tokens"] == LIMIT
        assert data["cost_estimate"]["output_source"] == "rule"
        assert data["cost_estimate"]["output_tokens_bound"] == LIMIT + OUTPUT_RULE_TOKENS
    assert query(one.home, "SELECT output_n, output_overshoot FROM token_calibration") == [(2, 0)]
    explained = one.run("select", "hi", "--provider", "alpha", "--explain")
    assert explained.returncode == 0, explained.stderr
    assert f"output: limit sent 1024 + {OUTPUT_RULE_TOKENS} by rule" in explained.stdout


def test_store_copy_carries_the_learned_overshoot_and_postgresql_learns_it_too(
    one: One, pg_url: str
) -> None:
    one.configure("[budgets]\ndaily_usd = 100.0\n")
    _price_output_only(one)
    one.fake.always("fake-chat", Behavior(template_tokens=True, completion_tokens=BILLED))
    _complete(one)  # learned in the local SQLite store
    copied = one.run("store", "copy", "--to", pg_url, "--json")
    assert copied.returncode == 0, copied.stderr
    assert json.loads(copied.stdout)["copied"]["token_calibration"] == 1
    assert _pg_row(pg_url) == [(1, OVER)]

    # On the team store the next reservation covers the overshoot learned elsewhere,
    # and a larger one billed there widens it again, for every machine.
    team = {"JARVIS_STORE_URL": pg_url}
    covered = _complete(one, env=team)
    assert covered["cost_estimate"]["output_source"] == "calibration"
    assert covered["cost_estimate"]["output_tokens_bound"] == LIMIT + LEARNED
    assert covered["attempts"][0]["overrun_usd"] is None
    one.fake.always("fake-chat", Behavior(template_tokens=True, completion_tokens=90))
    past = _complete(one, env=team)
    assert past["attempts"][0]["overrun_usd"] > 0
    wider = _complete(one, env=team)
    assert wider["cost_estimate"]["output_tokens_bound"] == LIMIT + math.ceil(78 * MARGIN) + 4
    assert wider["attempts"][0]["overrun_usd"] is None
    assert _pg_row(pg_url) == [(4, 78)]

    # Copying again keeps the team's fit; the overshoot takes the larger of the two.
    assert one.run("store", "copy", "--to", pg_url).returncode == 0  # local 28: stays 78
    assert _pg_row(pg_url) == [(4, 78)]
    one.fake.always("fake-chat", Behavior(template_tokens=True, completion_tokens=150))
    _complete(one)  # local now 138
    assert one.run("store", "copy", "--to", pg_url).returncode == 0
    assert _pg_row(pg_url) == [(4, 138)]


def _pg_row(url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return list(
            conn.execute("SELECT output_n, output_overshoot FROM token_calibration").fetchall()
        )
