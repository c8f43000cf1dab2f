"""Outcomes (issue 25): `rate`, automatic signals and `outcomes import` change the next
selection, shown by `select --explain`; `outcomes delete` undoes it. Real CLI
subprocesses, a real store, the loopback fake provider."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from jarvis_cli.core.context import Context
from jarvis_cli.core.registry.model_registry import ModelRegistry
from tests.cli.test_complete import Pair, pair  # noqa: F401 - fixture
from tests.fake_provider import Behavior

TOOLS = (
    '[{"type": "function", "function": {"name": "lookup", "description": "look up",'
    ' "parameters": {"type": "object", "properties": {}}}}]'
)


def add_models(home: Path, ids: list[str]) -> None:
    """Chat models with the same price and no bundled score: they tie on everything."""
    ctx = Context()
    ModelRegistry(ctx).ensure_catalog()
    with ctx.store.write() as conn:
        conn.executemany(
            "INSERT INTO models(id, provider, name, type, cap_chat, cap_completion, "
            "cap_embeddings, cap_function_calling, cap_structured_output, context_length, "
            "input_cost_per_mtok, output_cost_per_mtok, status, source) "
            "VALUES (?, ?, ?, 'chat', 1, 0, 0, 1, 1, 128000, 1.0, 2.0, 'active', 'user') "
            "ON CONFLICT(id) DO NOTHING",
            [(m, m.split("/")[0], m.split("/")[1]) for m in ids],
        )
    ctx.close()


def set_prices(model: str, input_usd: float, output_usd: float) -> None:
    """USD per million input/output tokens of a model added by `add_models`."""
    ctx = Context()
    with ctx.store.write() as conn:
        conn.execute(
            "UPDATE models SET input_cost_per_mtok = ?, output_cost_per_mtok = ? WHERE id = ?",
            (input_usd, output_usd, model),
        )
    ctx.close()


@pytest.fixture
def two(pair: Pair) -> Pair:  # noqa: F811
    add_models(pair.home, ["alpha/fake-chat", "beta/fake-chat"])
    return pair


def choose(p: Pair, *args: str) -> dict[str, Any]:
    proc = p.run("select", "--json", "--strategy", "quality", "--no-stdin", *args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def learned_of(data: dict[str, Any], model: str) -> Any:
    return next(c["learned"] for c in data["candidates"] if c["model_id"] == model)


def explain(p: Pair, prompt: str = "Say hi") -> str:
    proc = p.run("select", prompt, "--strategy", "quality", "--explain", "--no-stdin")
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def complete(p: Pair, *args: str) -> dict[str, Any]:
    proc = p.run("complete", *args, "--json", "--no-stdin")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def test_without_outcomes_the_tie_goes_to_the_first_id_and_nothing_is_learned(two: Pair) -> None:
    data = choose(two, "Say hi")
    assert data["model_id"] == "alpha/fake-chat"
    assert all(c["learned"] is None for c in data["candidates"])
    assert "learned:" not in explain(two)


def test_rating_the_last_answer_bad_changes_the_next_selection_and_delete_undoes_it(
    two: Pair,
) -> None:
    answer = complete(two, "Say hi", "--model", "alpha/fake-chat")
    rated = two.run("rate", "bad", "--note", "rude", "--json")
    assert rated.returncode == 0, rated.stderr
    assert json.loads(rated.stdout) == {
        "request_id": answer["request_id"], "model": "alpha/fake-chat", "score": 0.0,
    }  # fmt: skip
    data = choose(two, "Say hi")
    assert data["model_id"] == "beta/fake-chat"
    learned = learned_of(data, "alpha/fake-chat")
    assert learned["you"] == {"score": 0.0, "n": 1} and learned["prior_source"] == "none"
    assert learned["value"] < learned["prior"]
    assert re.search(
        r"learned: alpha/fake-chat 0\.\d\d: prior 0\.30 \(unscored default\); your general "
        r"outcomes 0\.00 \(n=1\)\n",
        explain(two),
    )
    listed = json.loads(two.run("outcomes", "list", "--json").stdout)
    assert [(o["model"], o["score"], o["source"], o["note"]) for o in listed] == [
        ("alpha/fake-chat", 0.0, "rate", "rude")
    ]
    assert listed[0]["prompt"] == "Say hi"  # the content log is on by default
    deleted = two.run("outcomes", "delete", "--request", answer["request_id"][:8])
    assert deleted.returncode == 0 and "deleted 1 outcome" in deleted.stderr
    assert choose(two, "Say hi")["model_id"] == "alpha/fake-chat"


def test_rating_twice_keeps_the_last_rating_and_takes_an_id_prefix(two: Pair) -> None:
    answer = complete(two, "Say hi", "--model", "beta/fake-chat")
    prefix = answer["request_id"][:6]
    assert two.run("rate", prefix, "bad").returncode == 0
    assert choose(two, "Say hi")["model_id"] == "alpha/fake-chat"
    assert two.run("rate", prefix, "1").returncode == 0
    data = choose(two, "Say hi")
    assert data["model_id"] == "beta/fake-chat"
    assert learned_of(data, "beta/fake-chat")["you"] == {"score": 1.0, "n": 1}


def test_rating_without_the_content_log_keeps_no_prompt(two: Pair) -> None:
    config = two.home / "config.toml"
    config.write_text(config.read_text() + "[log]\ncontent = false\n")
    complete(two, "Say hi", "--model", "alpha/fake-chat")
    assert two.run("rate", "0.25").returncode == 0
    (row,) = json.loads(two.run("outcomes", "list", "--json").stdout)
    assert row["prompt"] is None and row["score"] == 0.25


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["rate", "0123abcd", "good"], "no answered request '0123abcd'"),
        (["rate", "meh"], "a rating is good, bad or a number from 0 to 1, got 'meh'"),
        (["rate", "1.5"], "a score must be between 0 and 1, got '1.5'"),
    ],
)
def test_rate_errors_exit_2_with_a_message(two: Pair, args: list[str], message: str) -> None:
    complete(two, "Say hi", "--model", "alpha/fake-chat")
    proc = two.run(*args)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert json.loads(two.run("outcomes", "list", "--json").stdout) == []


def test_rate_with_nothing_answered_exits_2(two: Pair) -> None:
    proc = two.run("rate", "good")
    assert proc.returncode == 2 and "no answered request to rate yet" in proc.stderr


def test_a_truncated_answer_is_a_signal_against_its_model(two: Pair) -> None:
    two.alpha.always("fake-chat", Behavior(finish_reason="length"))
    complete(two, "Say hi", "--model", "alpha/fake-chat")
    (row,) = json.loads(two.run("outcomes", "list", "--json").stdout)
    assert (row["model"], row["source"], row["score"], row["weight"]) == (
        "alpha/fake-chat", "truncated", 0.0, 0.25,
    )  # fmt: skip
    assert choose(two, "Say hi")["model_id"] == "beta/fake-chat"
    assert re.search(  # a truncated answer weighs a quarter of a rating
        r"learned: alpha/fake-chat 0\.\d\d: prior 0\.30 \(unscored default\); your general "
        r"outcomes 0\.00 \(n=1\)\n",
        explain(two),
    )
    assert two.run("outcomes", "delete", "--source", "truncated").returncode == 0
    assert choose(two, "Say hi")["model_id"] == "alpha/fake-chat"


def test_a_schema_answer_that_fails_is_a_signal_against_its_model(two: Pair) -> None:
    two.alpha.script("fake-chat", Behavior(schema_answer="invalid"))
    two.beta.script("fake-chat", Behavior(schema_answer="valid"))
    proc = two.run(
        "complete", "who?", "--schema", "name", "--model", "alpha/fake-chat",
        "--fallback", "beta/fake-chat", "--no-stdin",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(two.run("outcomes", "list", "--json").stdout)
    assert sorted((r["model"], r["source"], r["score"]) for r in rows) == [
        ("alpha/fake-chat", "schema", 0.0), ("beta/fake-chat", "schema", 1.0),
    ]  # fmt: skip
    assert choose(two, "who?")["model_id"] == "beta/fake-chat"


def test_tool_call_arguments_that_do_not_parse_are_a_signal(two: Pair) -> None:
    tools = two.home / "tools.json"
    tools.write_text(TOOLS)
    two.alpha.always("fake-chat", Behavior(tool_calls=[{"name": "lookup", "arguments": "{oops"}]))
    complete(two, "Look it up", "--model", "alpha/fake-chat", "--tools", str(tools))
    (row,) = json.loads(two.run("outcomes", "list", "--json").stdout)
    assert (row["model"], row["source"], row["score"]) == ("alpha/fake-chat", "tools", 0.0)
    assert choose(two, "Look it up")["model_id"] == "beta/fake-chat"


def _lines(*records: dict[str, Any]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def test_import_changes_the_next_selection_per_prompt_and_delete_all_undoes_it(
    two: Pair,
) -> None:
    records = []
    for i in range(8):  # alpha is good at sums, beta at poems
        records.append(
            {
                "prompt": f"Add {i} and {i + 7} then double it",
                "model": "alpha/fake-chat",
                "score": 1,
            }
        )
        records.append(
            {"prompt": f"Add {i} and {i + 7} then double it", "model": "beta/fake-chat", "score": 0}
        )
        records.append(
            {
                "prompt": f"Write a short poem about the sea number {i}",
                "model": "alpha/fake-chat",
                "score": 0,
            }
        )
        records.append(
            {
                "prompt": f"Write a short poem about the sea number {i}",
                "model": "beta/fake-chat",
                "score": 1,
            }
        )
    path = two.home / "evals.jsonl"
    path.write_text(_lines(*records))
    proc = two.run("outcomes", "import", str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"imported": 32, "unknown_models": []}
    sums = choose(two, "Add 3 and 4 then double it")
    poem = choose(two, "Write a short poem about the sea at night")
    assert sums["model_id"] == "alpha/fake-chat" and poem["model_id"] == "beta/fake-chat"
    similar = learned_of(poem, "beta/fake-chat")["similar_prompts"]
    assert similar["k"] >= 3 and similar["score"] == 1.0
    assert "; similar prompts 1.00 (k=" in explain(two, "Write a short poem about the sea at night")
    assert two.run("outcomes", "delete", "--all").returncode == 0
    assert choose(two, "Write a short poem about the sea at night")["model_id"] == "alpha/fake-chat"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"prompt": "a", "model": "alpha/fake-chat", "score": 1}\n{"prompt": "b", "model"\n',
         "line 2: not valid JSON"),
        ('{"prompt": "a", "model": "alpha/fake-chat", "score": 1.5}\n',
         'line 1: "score" must be between 0 and 1, got 1.5'),
        ('\n{"prompt": "a", "model": "fake-chat", "score": 1}\n',
         'line 2: "model" must be a model id (PROVIDER/NAME)'),
        ('{"prompt": "a", "model": "alpha/fake-chat", "score": 1, "task": "cooking"}\n',
         "line 1: unknown \"task\" 'cooking'"),
        ('[1, 2]\n', "line 1: expected a JSON object"),
    ],
)  # fmt: skip
def test_a_bad_import_line_is_named_and_nothing_is_imported(
    two: Pair, content: str, message: str
) -> None:
    path = two.home / "bad.jsonl"
    path.write_text(content)
    proc = two.run("outcomes", "import", str(path))
    assert proc.returncode == 2, proc.stderr
    assert f"{path}: {message}" in proc.stderr and "nothing was imported" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert json.loads(two.run("outcomes", "list", "--json").stdout) == []


def test_an_unknown_model_is_imported_with_a_warning(two: Pair) -> None:
    path = two.home / "later.jsonl"
    path.write_text(
        _lines({"prompt": "hi", "model": "gamma/not-yet", "score": 0.5, "cost_usd": 0.01})
    )
    proc = two.run("outcomes", "import", str(path))
    assert proc.returncode == 0, proc.stderr
    assert "warning: gamma/not-yet is not in the registry (imported anyway" in proc.stderr
    exported = [json.loads(x) for x in two.run("outcomes", "export").stdout.splitlines()]
    assert [(e["model"], e["score"], e["cost_usd"], e["source"]) for e in exported] == [
        ("gamma/not-yet", 0.5, 0.01, "import")
    ]


def test_an_unreadable_import_file_exits_2(two: Pair) -> None:
    proc = two.run("outcomes", "import", str(two.home / "missing.jsonl"))
    assert proc.returncode == 2 and "cannot read" in proc.stderr


def test_delete_without_a_filter_exits_2(two: Pair) -> None:
    proc = two.run("outcomes", "delete")
    assert proc.returncode == 2 and "say which outcomes to delete" in proc.stderr


def test_prefer_sweeps_from_cheapest_to_most_accurate(two: Pair) -> None:
    add_models(two.home, ["alpha/small"])
    set_prices("alpha/small", 0.01, 0.02)
    path = two.home / "evals.jsonl"
    path.write_text(
        _lines(
            *[{"prompt": f"q{i}", "model": "alpha/small", "score": 0.5} for i in range(20)],
            *[{"prompt": f"q{i}", "model": "beta/fake-chat", "score": 1} for i in range(20)],
        )
    )
    assert two.run("outcomes", "import", str(path)).returncode == 0
    chosen = [choose(two, "q", "--prefer", p)["model_id"] for p in ("0", "0.5", "1")]
    assert chosen == ["alpha/small", "alpha/small", "beta/fake-chat"]
    data = choose(two, "q", "--prefer", "0.9")
    assert data["strategy"] == "prefer 0.9" and data["model_id"] == "beta/fake-chat"
    bad = two.run("select", "--prefer", "2")
    assert bad.returncode == 2 and "--prefer" in bad.stderr


def test_good_and_bad_in_chat_rate_the_last_answer(two: Pair) -> None:
    import os

    from tests.terminal import terminal

    with terminal("chat", "--model", "alpha/fake-chat", env={**os.environ, **two.env}) as term:
        term.read_until(b"you> ")
        term.type("/good")
        assert b"nothing answered yet to rate" in term.read_until(b"you> ")
        term.type("Say hi")
        term.read_until(b"you> ")
        term.type("/good")
        term.read_until(b"you> ")
        term.type("/bad")
        assert b"rated alpha/fake-chat's last answer bad" in term.read_until(b"you> ")
        term.type("/exit")
        assert term.wait() == 0
    (row,) = json.loads(two.run("outcomes", "list", "--json").stdout)  # the last one counts
    assert (row["model"], row["score"], row["source"]) == ("alpha/fake-chat", 0.0, "rate")
    assert row["output_tokens"] == 5  # the completion tokens billed for the answer
    assert choose(two, "Say hi")["model_id"] == "beta/fake-chat"


def test_outcomes_rate_a_model_for_the_cost_strategys_quality_floor(two: Pair) -> None:
    before = two.run("select", "Say hi", "--strategy", "cost", "--json", "--no-stdin")
    assert before.returncode == 6  # both unrated: the cost strategy picks among rated models
    path = two.home / "evals.jsonl"
    path.write_text(
        _lines(*[{"prompt": f"q{i}", "model": "beta/fake-chat", "score": 1} for i in range(10)])
    )
    assert two.run("outcomes", "import", str(path)).returncode == 0
    data = json.loads(two.run("select", "Say hi", "--strategy", "cost", "--json").stdout)
    assert (
        data["model_id"] == "beta/fake-chat"
        and data["candidates"][0]["quality_source"] == "outcomes"
    )
