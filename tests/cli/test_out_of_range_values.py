"""Values at the edge of what a machine holds: a timeout past time_t, a row limit past
SQLite's INTEGER, a duration longer than the epoch, non-finite or huge numbers in an
import. Each either means "no limit" and works, or is a usage error naming the field;
never an internal error, a store error or a provider failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jarvis_cli.core.errors import ExitCode
from tests.cli.test_complete import Pair, pair  # noqa: F401 - fixture
from tests.conftest import JarvisRunner
from tests.store_access import query

HUGE = "99999999999999999999"  # > 2**63


@pytest.mark.parametrize("timeout", ["1e10", "1e300"])
def test_a_huge_timeout_means_no_timeout_not_a_provider_failure(
    pair: Pair,  # noqa: F811
    timeout: str,
) -> None:
    for stream in ("--stream", "--no-stream"):
        result = pair.run(
            "complete", "hi", "--model", "alpha/fake-chat", stream, "--timeout", timeout
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout == "Hello from fake\n"
        assert "OverflowError" not in result.stderr
    assert pair.alpha.count("/chat/completions") == 2


def test_a_huge_timeout_in_config_toml_is_honoured_too(pair: Pair) -> None:  # noqa: F811
    config = pair.home / "config.toml"
    config.write_text(config.read_text() + "[defaults]\ntimeout_s = 1e300\n")
    result = pair.run("complete", "hi", "--model", "alpha/fake-chat")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Hello from fake\n"


def test_a_row_limit_past_the_largest_integer_lists_every_row(
    pair: Pair,  # noqa: F811
) -> None:
    assert pair.run("complete", "hello there", "--model", "alpha/fake-chat").returncode == 0
    assert pair.run("rate", "good").returncode == 0
    for args in (
        ["log", "-n", HUGE, "--json"],
        ["log", "-n", HUGE, "--json", "--model", "alpha/fake-chat"],
        ["log", "-n", HUGE, "--json", "-q", "hello"],
        ["outcomes", "list", "-n", HUGE, "--json"],
    ):
        result = pair.run(*args)
        assert result.returncode == 0, (args, result.stderr)
        assert len(json.loads(result.stdout)) == 1, args


@pytest.mark.parametrize(
    "args",
    [
        ["stats", "--since", "99999999999d", "--json"],
        ["log", "--since", "99999999999d", "--json"],
        ["log", "prune", "--older-than", "99999999999d"],
        ["stats", "--since", "9" * 400 + "w", "--json"],  # a float that overflows to inf
    ],
)
def test_a_duration_longer_than_the_epoch_means_since_1970(
    jarvis: JarvisRunner, args: list[str]
) -> None:
    result = jarvis(*args)
    assert result.returncode == 0, result.stderr
    assert "internal error" not in result.stderr
    if args[0] == "stats":
        assert json.loads(result.stdout)["since"].startswith("1970-01-01")
    if args[1] == "prune":
        assert "older than 1970-01-01" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("field", "why"),
    [
        ('"output_tokens": 99999999999999999999999999', '"output_tokens" is too large'),
        ('"cost_usd": NaN', '"cost_usd" must be a number >= 0'),
        ('"cost_usd": Infinity', '"cost_usd" must be a number >= 0'),
    ],
)
def test_outcomes_import_refuses_non_finite_costs_and_huge_token_counts(
    jarvis: JarvisRunner, home: Path, tmp_path: Path, field: str, why: str
) -> None:
    evals = tmp_path / "evals.jsonl"
    good = '{"prompt": "p", "model": "alpha/m", "score": 0.5}'
    evals.write_text(
        good + "\n" + '{"prompt": "p", "model": "alpha/m", "score": 0.5, ' + field + "}\n"
    )
    result = jarvis("outcomes", "import", str(evals))
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert f"error: {evals}: line 2: {why}" in result.stderr
    assert "hint: nothing was imported" in result.stderr
    listed = jarvis("outcomes", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []


def test_outcomes_import_takes_a_cost_too_large_for_an_integer_column(
    jarvis: JarvisRunner, home: Path, tmp_path: Path
) -> None:
    evals = tmp_path / "evals.jsonl"
    evals.write_text(
        '{"prompt": "p", "model": "alpha/m", "score": 0.5, "cost_usd": 1' + "0" * 30 + "}\n"
    )
    result = jarvis("outcomes", "import", str(evals))
    assert result.returncode == 0, result.stderr
    assert query(home, "SELECT cost_usd FROM outcomes")[0]["cost_usd"] == 1e30
