"""Expected output tokens learned from outcomes: `outcomes import` (given or derived from
`cost_usd`), `jarvis rate` and the automatic signals keep the billed output tokens,
which price each model's expected output in the next selection (`--json`'s
`cost_estimate`, `--explain`); `outcomes delete` undoes it. Real CLI subprocesses, a
real store, the loopback fake provider."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from tests.cli.test_complete import Pair, pair  # noqa: F401 - fixture
from tests.cli.test_outcomes import _lines, add_models, complete
from tests.fake_provider import Behavior


@pytest.fixture
def two(pair: Pair) -> Pair:  # noqa: F811
    add_models(pair.home, ["alpha/fake-chat", "beta/fake-chat"])  # $1 in, $2 out per MTok
    return pair


def cheapest(p: Pair, *args: str) -> dict[str, Any]:
    """`select --prefer 0` (the cheapest candidate by expected cost) as --json."""
    proc = p.run("select", "Say hi", "--prefer", "0", "--json", "--no-stdin", *args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def explain(p: Pair, *args: str) -> str:
    proc = p.run("select", "Say hi", "--prefer", "0", "--explain", "--no-stdin", *args)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def candidate(data: dict[str, Any], model: str) -> dict[str, Any]:
    return next(c for c in data["candidates"] if c["model_id"] == model)  # type: ignore[no-any-return]


def listed(p: Pair) -> list[dict[str, Any]]:
    proc = p.run("outcomes", "list", "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def import_file(p: Pair, *records: dict[str, Any]) -> None:
    path = p.home / "evals.jsonl"
    path.write_text(_lines(*records))
    proc = p.run("outcomes", "import", str(path))
    assert proc.returncode == 0, proc.stderr


def test_imported_output_tokens_price_the_next_selection_and_delete_undoes_it(two: Pair) -> None:
    before = cheapest(two)
    assert before["model_id"] == "alpha/fake-chat"  # a tie on everything, broken by id
    estimate = before["cost_estimate"]
    assert (estimate["expected_output_tokens"], estimate["expected_output_source"]) == (
        500, "default",
    )  # fmt: skip
    assert (estimate["expected_output_samples"], estimate["expected_output_task"]) == (0, None)
    assert "expected output: 500 tokens (default)" in explain(two)
    # alpha writes long answers (past the 1024-token limit), beta short ones
    import_file(
        two,
        *[{"prompt": f"q{i}", "model": "alpha/fake-chat", "score": 1, "output_tokens": 3000}
          for i in range(6)],
        *[{"prompt": f"q{i}", "model": "beta/fake-chat", "score": 1, "output_tokens": 40 + i}
          for i in range(6)],
    )  # fmt: skip
    after = cheapest(two)
    assert after["model_id"] == "beta/fake-chat"
    beta = after["cost_estimate"]
    assert beta["expected_output_tokens"] == 43  # mean of 40..45, rounded
    assert beta["expected_output_source"] == "outcomes"
    assert (beta["expected_output_samples"], beta["expected_output_task"]) == (6, "general")
    tokens_in = beta["expected_input_tokens"]
    assert after["expected_cost_usd"] == pytest.approx((tokens_in * 1.0 + 43 * 2.0) / 1e6)
    assert candidate(after, "beta/fake-chat")["estimated_cost_usd"] == pytest.approx(
        after["expected_cost_usd"]
    )
    # the latency prior takes the same figure
    assert any("class, 43 output tokens" in n for n in candidate(after, "beta/fake-chat")["notes"])
    # alpha's mean is capped by the output limit ([budgets] max_output_tokens = 1024)
    alpha = candidate(after, "alpha/fake-chat")
    assert alpha["estimated_cost_usd"] == pytest.approx((tokens_in * 1.0 + 1024 * 2.0) / 1e6)
    # the bound does not move: it takes the whole output limit either way
    assert after["max_cost_usd"] == before["max_cost_usd"]
    assert beta["output_tokens_bound"] == estimate["output_tokens_bound"]
    text = explain(two)
    assert "expected output: 43 tokens (outcomes for general, n=6)" in text
    assert all(len(line) <= 80 for line in text.splitlines() if "expected output" in line)
    assert "expected output: 1024 tokens (outcomes for general, n=6, mean 3000 capped)" in (
        explain(two, "--model", "alpha/fake-chat")
    )
    deleted = two.run("outcomes", "delete", "--model", "beta/fake-chat")
    assert deleted.returncode == 0 and "deleted 6 outcomes" in deleted.stderr
    undone = cheapest(two)  # beta back at the default 500, still below alpha's 1024
    assert undone["model_id"] == "beta/fake-chat"
    assert undone["cost_estimate"]["expected_output_source"] == "default"
    assert candidate(undone, "alpha/fake-chat")["estimated_cost_usd"] == pytest.approx(
        alpha["estimated_cost_usd"]
    )
    assert two.run("outcomes", "delete", "--all").returncode == 0
    assert cheapest(two) == before


def test_max_cost_filters_on_the_learned_expected_cost(two: Pair) -> None:
    # "Say hi": 2 input tokens; 500 default output tokens cost ~$0.001, 40 ~$0.00008
    args = ("select", "Say hi", "--max-cost", "0.0005", "--json", "--no-stdin")
    before = two.run(*args)
    assert before.returncode == 6 and "budget" in before.stderr
    import_file(
        two,
        *[{"prompt": f"q{i}", "model": "beta/fake-chat", "score": 1, "output_tokens": 40}
          for i in range(5)],
    )  # fmt: skip
    after = two.run(*args)
    assert after.returncode == 0, after.stderr
    data = json.loads(after.stdout)
    assert data["model_id"] == "beta/fake-chat"
    (alpha,) = [e for e in data["excluded"] if e["model_id"] == "alpha/fake-chat"]
    assert alpha["code"] == "budget" and "> max $0.0005" in alpha["reason"]


def test_too_few_figures_for_the_task_fall_back_to_the_model_then_the_default(
    two: Pair,
) -> None:
    import_file(
        two,
        *[{"prompt": f"q{i}", "model": "beta/fake-chat", "score": 1, "output_tokens": 100,
           "task": "coding"} for i in range(3)],
        *[{"prompt": f"p{i}", "model": "beta/fake-chat", "score": 1, "output_tokens": 200,
           "task": "general"} for i in range(4)],
        {"prompt": "no figure", "model": "beta/fake-chat", "score": 1},
    )  # fmt: skip
    # 4 figures for general (fewer than 5): the model's 7 over all tasks, mean 157
    beta = candidate(cheapest(two), "beta/fake-chat")
    data = cheapest(two, "--model", "beta/fake-chat")
    assert data["model_id"] == "beta/fake-chat"
    estimate = data["cost_estimate"]
    assert estimate["expected_output_tokens"] == 157
    assert (estimate["expected_output_samples"], estimate["expected_output_task"]) == (7, None)
    assert beta["estimated_cost_usd"] == pytest.approx(data["expected_cost_usd"])
    text = two.run(
        "select", "Say hi", "--model", "beta/fake-chat", "--explain", "--no-stdin"
    ).stdout
    assert "expected output: 157 tokens (outcomes over all tasks, n=7)" in text
    # an explicit --output-tokens is the request's own expectation: used as given
    given = cheapest(two, "--output-tokens", "300")
    assert candidate(given, "beta/fake-chat")["estimated_cost_usd"] == pytest.approx(
        candidate(given, "alpha/fake-chat")["estimated_cost_usd"]
    )
    # under five figures in all: the default
    assert two.run("outcomes", "delete", "--all").returncode == 0
    import_file(
        two,
        *[{"prompt": f"q{i}", "model": "beta/fake-chat", "score": 1, "output_tokens": 10}
          for i in range(4)],
    )  # fmt: skip
    estimate = cheapest(two, "--model", "beta/fake-chat")["cost_estimate"]
    assert (estimate["expected_output_tokens"], estimate["expected_output_source"]) == (
        500, "default",
    )  # fmt: skip


def test_import_derives_output_tokens_from_cost_usd_and_the_prices(two: Pair) -> None:
    # "abcdefgh": ceil(8 / 4) = 2 input tokens at $1/MTok; 300 output tokens at $2/MTok
    cost = (2 * 1.0 + 300 * 2.0) / 1e6
    import_file(
        two,
        {"prompt": "abcdefgh", "model": "alpha/fake-chat", "score": 1, "cost_usd": cost},
        {"prompt": "abcdefgh", "model": "beta/fake-chat", "score": 1, "cost_usd": cost,
         "output_tokens": 7},
        {"prompt": "abcdefgh", "model": "gamma/not-yet", "score": 1, "cost_usd": cost},
        {"prompt": "cheap", "model": "alpha/fake-chat", "score": 1, "cost_usd": 0.0},
        {"prompt": "abcdefgh", "model": "alpha/fake-chat", "score": 0},
    )  # fmt: skip
    rows = {(r["model"], r["prompt"], r["score"]): r["output_tokens"] for r in listed(two)}
    assert rows == {
        ("alpha/fake-chat", "abcdefgh", 1.0): 300,  # derived from the price
        ("beta/fake-chat", "abcdefgh", 1.0): 7,  # given: kept as it is
        ("gamma/not-yet", "abcdefgh", 1.0): None,  # prices unknown at import
        ("alpha/fake-chat", "cheap", 1.0): 0,  # never negative
        ("alpha/fake-chat", "abcdefgh", 0.0): None,  # no cost, no figure
    }
    # export round-trips the field through import
    exported = two.run("outcomes", "export").stdout
    assert two.run("outcomes", "delete", "--all").returncode == 0
    path = two.home / "exported.jsonl"
    path.write_text(exported)
    assert two.run("outcomes", "import", str(path)).returncode == 0
    again = {(r["model"], r["prompt"], r["score"]): r["output_tokens"] for r in listed(two)}
    assert again == rows


@pytest.mark.parametrize("value", ["-1", "1.5", '"12"', "true", "[3]"])
def test_a_malformed_output_tokens_is_named_with_its_line_and_nothing_is_imported(
    two: Pair, value: str
) -> None:
    path = two.home / "bad.jsonl"
    path.write_text(
        '{"prompt": "a", "model": "alpha/fake-chat", "score": 1, "output_tokens": 12}\n'
        f'{{"prompt": "b", "model": "alpha/fake-chat", "score": 1, "output_tokens": {value}}}\n'
    )
    proc = two.run("outcomes", "import", str(path))
    assert proc.returncode == 2, proc.stderr
    assert f'{path}: line 2: "output_tokens" must be an integer >= 0, got {value}' in proc.stderr
    assert "nothing was imported" in proc.stderr and "Traceback" not in proc.stderr
    assert listed(two) == []


def test_rate_records_the_billed_completion_tokens_and_they_price_the_model(two: Pair) -> None:
    two.alpha.always("fake-chat", Behavior(completion_tokens=900))
    for i in range(5):
        answer = complete(two, f"Say hi {i}", "--model", "alpha/fake-chat")
        assert answer["usage"]["completion_tokens"] == 900
        assert two.run("rate", "good").returncode == 0
    assert [r["output_tokens"] for r in listed(two)] == [900] * 5
    data = cheapest(two)
    assert data["model_id"] == "beta/fake-chat"  # alpha now expects 900 tokens, beta 500
    alpha = cheapest(two, "--model", "alpha/fake-chat")
    estimate = alpha["cost_estimate"]
    assert (estimate["expected_output_tokens"], estimate["expected_output_samples"]) == (900, 5)
    tokens_in = estimate["expected_input_tokens"]  # alpha's own (calibrated from its bills)
    assert alpha["expected_cost_usd"] == pytest.approx((tokens_in * 1.0 + 900 * 2.0) / 1e6)
    assert candidate(data, "alpha/fake-chat")["estimated_cost_usd"] == pytest.approx(
        alpha["expected_cost_usd"]
    )
    assert two.run("outcomes", "delete", "--model", "alpha/fake-chat").returncode == 0
    estimate = cheapest(two, "--model", "alpha/fake-chat")["cost_estimate"]
    assert (estimate["expected_output_tokens"], estimate["expected_output_source"]) == (
        500, "default",
    )  # fmt: skip


def test_a_rating_of_an_answer_without_reported_usage_keeps_no_figure(two: Pair) -> None:
    two.alpha.always("fake-chat", Behavior(stream_usage=False))
    streamed = two.run("complete", "Say hi", "--model", "alpha/fake-chat", "--stream", "--no-stdin")
    assert streamed.returncode == 0, streamed.stderr
    assert [c["tokens_estimated"] for c in two.calls()] == [1]  # jarvis's estimate, not a bill
    assert two.run("rate", "bad").returncode == 0
    (row,) = listed(two)
    assert row["score"] == 0.0 and row["output_tokens"] is None


def test_a_truncated_answer_keeps_its_billed_tokens(two: Pair) -> None:
    two.alpha.always("fake-chat", Behavior(finish_reason="length", completion_tokens=64))
    complete(two, "Say hi", "--model", "alpha/fake-chat")
    (row,) = listed(two)
    assert (row["source"], row["output_tokens"]) == ("truncated", 64)


def test_complete_reports_the_expected_output_selection_priced_it_at(two: Pair) -> None:
    import_file(
        two,
        *[{"prompt": f"q{i}", "model": "beta/fake-chat", "score": 1, "output_tokens": 40 + i}
          for i in range(6)],
    )  # fmt: skip
    chosen = complete(two, "Say hi")  # balanced: equal but for the cost learnt
    assert chosen["model_id"] == "beta/fake-chat"
    estimate = chosen["cost_estimate"]
    assert (estimate["expected_output_tokens"], estimate["expected_output_source"]) == (
        43, "outcomes",
    )  # fmt: skip
    assert estimate["expected_output_samples"] == 6
    # priced at it: $1 in, $2 out per MTok
    tokens_in = estimate["expected_input_tokens"]
    assert chosen["expected_cost_usd"] == pytest.approx((tokens_in * 1.0 + 43 * 2.0) / 1e6)
    # an explicit --model skips selection, and with it what selection learnt
    given = complete(two, "Say hi", "--model", "beta/fake-chat")
    assert given["cost_estimate"]["expected_output_source"] == "default"
    assert given["cost_estimate"]["expected_output_tokens"] == 500


def test_outcomes_list_fits_80_columns_and_wide_shows_every_column(two: Pair) -> None:
    from tests.cli.test_tables_fit import on_terminal

    import_file(
        two,
        {"prompt": "q", "model": "beta/fake-chat", "score": 1, "output_tokens": 40},
    )
    env = {**os.environ, **two.env}  # the test's home (run_jarvis merges them the same way)
    shown = on_terminal(env, 80, "outcomes", "list")
    assert all(len(line) <= 80 for line in shown)
    hint = next(line for line in shown if line.startswith("--wide shows"))
    assert "out tok" in hint
    wide = on_terminal(env, 80, "outcomes", "list", "--wide")
    assert not any(line.startswith("--wide shows") for line in wide)
    header = next(line for line in wide if line.strip().startswith("id"))
    assert "out tok" in header and "note" in header


def test_a_calibrated_embedding_model_without_an_output_price_keeps_its_cost(
    pair: Pair,  # noqa: F811
) -> None:
    # embedding models have no output price; a calibration (from a billed call) reprices
    # the model at its own typical input, and 0 output tokens must not make it unknown
    assert pair.run("models", "sync", "beta").returncode == 0
    priced = pair.run("models", "set", "beta/fake-embed", "--input-price", "0.02")
    assert priced.returncode == 0, priced.stderr
    args = ("select", "some text to embed", "--type", "embedding", "--provider", "beta")
    before = pair.run(*args, "--json", "--no-stdin")
    assert before.returncode == 0, before.stderr
    assert json.loads(before.stdout)["model_id"] == "beta/fake-embed"
    for i in range(3):
        done = pair.run("embed", f"some text to embed {i}", "--model", "beta/fake-embed")
        assert done.returncode == 0, done.stderr
    after = pair.run(*args, "--json", "--no-stdin")
    assert after.returncode == 0, after.stderr
    data = json.loads(after.stdout)
    assert data["model_id"] == "beta/fake-embed"
    assert data["cost_estimate"]["source"] == "calibration"
    (embed,) = [c for c in data["candidates"] if c["model_id"] == "beta/fake-embed"]
    assert embed["estimated_cost_usd"] is not None and embed["estimated_cost_usd"] > 0
