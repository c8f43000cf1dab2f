"""Conversations: -c/--cid continue a logged conversation on any model, end to end.

Two loopback providers (the `pair` fixture of test_complete.py); every step is the
real CLI in a subprocess, and the assertions read what each server received.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.cli.test_complete import Pair, pair, write_config  # noqa: F401 - fixture
from tests.fake_provider import Behavior, FakeProvider
from tests.store_access import Row, query


def _sent_messages(fake: FakeProvider) -> list[list[dict[str, Any]]]:
    return [r.body["messages"] for r in fake.requests if r.path.endswith("/chat/completions")]


def _content_rows(pair: Pair) -> list[Row]:  # noqa: F811
    return query(pair.home, "SELECT * FROM log_requests ORDER BY id")


# The content log is shared through a team store too: every test runs on both stores.
pytestmark = pytest.mark.usefixtures("store_backend")


def test_three_turns_with_a_fallback_to_another_provider_keep_the_history(
    pair: Pair,  # noqa: F811
) -> None:
    chain = ("--model", "alpha/fake-chat", "--fallback", "beta/fake-chat", "--retries", "0")
    pair.alpha.script("fake-chat", Behavior(text="Paris."))
    first = pair.run("complete", "Capital of France?", "-s", "Answer tersely.", *chain, "--json")
    assert first.returncode == 0, first.stderr
    cid = json.loads(first.stdout)["conversation_id"]
    assert cid

    pair.alpha.script("fake-chat", Behavior(status=503, error_message="overloaded"))
    pair.beta.script("fake-chat", Behavior(text="About 2.1 million."))
    second = pair.run("complete", "-c", "Its population?", *chain, "--json")
    assert second.returncode == 0, second.stderr
    data = json.loads(second.stdout)
    assert data["model_id"] == "beta/fake-chat" and data["conversation_id"] == cid

    pair.alpha.script("fake-chat", Behavior(text="The Seine."))
    third = pair.run("complete", "--cid", cid, "And its river?", *chain, "--json")
    assert third.returncode == 0, third.stderr
    assert json.loads(third.stdout)["conversation_id"] == cid

    system = {"role": "system", "content": "Answer tersely."}
    turn1 = [system, {"role": "user", "content": "Capital of France?"}]
    turn2 = [
        *turn1,
        {"role": "assistant", "content": "Paris."},
        {"role": "user", "content": "Its population?"},
    ]
    turn3 = [
        *turn2,
        {"role": "assistant", "content": "About 2.1 million."},
        {"role": "user", "content": "And its river?"},
    ]
    assert _sent_messages(pair.alpha) == [turn1, turn2, turn3]  # turn 2 failed on alpha
    assert _sent_messages(pair.beta) == [turn2]  # the fallback got the whole history
    rows = _content_rows(pair)
    assert [(r["prompt"], r["answer"], r["model_id"]) for r in rows] == [
        ("Capital of France?", "Paris.", "alpha/fake-chat"),
        ("Its population?", "About 2.1 million.", "beta/fake-chat"),
        ("And its river?", "The Seine.", "alpha/fake-chat"),
    ]
    assert {r["conversation_id"] for r in rows} == {cid}
    assert all(r["system"] == "Answer tersely." for r in rows)


def test_continue_with_a_new_system_prompt_replaces_the_old_one(pair: Pair) -> None:  # noqa: F811
    assert pair.run("complete", "one", "-s", "old", "-m", "alpha/fake-chat").returncode == 0
    result = pair.run("complete", "-c", "two", "-s", "new", "-m", "alpha/fake-chat")
    assert result.returncode == 0, result.stderr
    assert _sent_messages(pair.alpha)[-1] == [
        {"role": "system", "content": "new"},
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "Hello from fake"},
        {"role": "user", "content": "two"},
    ]


def test_piped_stdin_is_part_of_the_logged_prompt(pair: Pair) -> None:  # noqa: F811
    result = pair.run("complete", "summarize", "-m", "alpha/fake-chat", input="line one\n")
    assert result.returncode == 0, result.stderr
    (row,) = _content_rows(pair)
    assert row["prompt"] == "line one\n\nsummarize"


def test_unknown_cid_is_a_usage_error_with_a_hint(pair: Pair) -> None:  # noqa: F811
    result = pair.run("complete", "--cid", "nosuchconversation", "hi", "-m", "alpha/fake-chat")
    assert result.returncode == 2
    assert "no conversation 'nosuchconversation' in the log" in result.stderr
    assert "hint:" in result.stderr and "jarvis log --json" in result.stderr
    assert pair.alpha.count("/chat/completions") == 0


def test_continue_with_an_empty_log_is_a_usage_error(pair: Pair) -> None:  # noqa: F811
    result = pair.run("complete", "-c", "hi", "-m", "alpha/fake-chat")
    assert result.returncode == 2
    assert "no conversation to continue" in result.stderr and "hint:" in result.stderr


def test_history_too_long_for_every_model_exits_6_naming_the_sizes(
    pair: Pair,  # noqa: F811
) -> None:
    pair.alpha.script("fake-chat", Behavior(text="word " * 2000))
    assert pair.run("complete", "tell me a lot", "-m", "alpha/fake-chat").returncode == 0
    for model_id in ("alpha/fake-chat", "beta/fake-chat"):
        assert pair.run("models", "set", model_id, "--context", "800").returncode == 0
    result = pair.run(
        "complete", "-c", "more", "-m", "alpha/fake-chat", "--fallback", "beta/fake-chat"
    )
    assert result.returncode == 6, result.stderr
    assert "the conversation needs about" in result.stderr
    assert "alpha/fake-chat 800" in result.stderr and "beta/fake-chat 800" in result.stderr
    assert pair.alpha.count("/chat/completions") == 1 and pair.beta.count() == 0


def test_history_fits_when_one_model_is_large_enough(pair: Pair) -> None:  # noqa: F811
    pair.alpha.script("fake-chat", Behavior(text="word " * 2000))
    assert pair.run("complete", "tell me a lot", "-m", "alpha/fake-chat").returncode == 0
    assert pair.run("models", "set", "alpha/fake-chat", "--context", "800").returncode == 0
    assert pair.run("models", "set", "beta/fake-chat", "--context", "100000").returncode == 0
    result = pair.run(
        "complete", "-c", "more", "-m", "alpha/fake-chat", "--fallback", "beta/fake-chat"
    )
    assert result.returncode == 0, result.stderr


def test_no_log_leaves_no_content_rows_but_records_the_attempt(pair: Pair) -> None:  # noqa: F811
    result = pair.run("complete", "secret plans", "-m", "alpha/fake-chat", "--no-log", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["conversation_id"] is None
    assert _content_rows(pair) == []
    assert len(pair.calls()) == 1


def test_content_false_in_config_leaves_no_content_rows(pair: Pair) -> None:  # noqa: F811
    config = (pair.home / "config.toml").read_text()
    write_config(pair.home, config + "\n[log]\ncontent = false\n")
    result = pair.run("complete", "secret plans", "-m", "alpha/fake-chat")
    assert result.returncode == 0, result.stderr
    assert _content_rows(pair) == []
    assert len(pair.calls()) == 1
    cont = pair.run("complete", "-c", "more", "-m", "alpha/fake-chat")
    assert cont.returncode == 2 and "no conversation to continue" in cont.stderr


def test_bad_log_config_is_exit_3_naming_the_key(pair: Pair) -> None:  # noqa: F811
    config = (pair.home / "config.toml").read_text()
    write_config(pair.home, config + '\n[log]\ncontent = "no"\n')
    result = pair.run("complete", "hi", "-m", "alpha/fake-chat")
    assert result.returncode == 3
    assert "log.content: expected true or false" in result.stderr


def test_continue_with_type_completion_is_a_usage_error(pair: Pair) -> None:  # noqa: F811
    result = pair.run("complete", "-c", "hi", "--type", "completion", "-m", "alpha/fake-chat")
    assert result.returncode == 2 and "--type completion has no history" in result.stderr


def test_selection_counts_the_history_against_each_context(pair: Pair) -> None:  # noqa: F811
    pair.alpha.script("fake-chat", Behavior(text="word " * 2000))
    assert pair.run("complete", "tell me a lot", "-m", "alpha/fake-chat").returncode == 0
    for model_id in ("alpha/fake-chat", "alpha/small", "alpha/tiny", "beta/fake-chat", "beta/big"):
        assert pair.run("models", "set", model_id, "--context", "800").returncode == 0
    result = pair.run("complete", "-c", "more")
    assert result.returncode == 6, result.stderr
    assert "the conversation needs about" in result.stderr
    assert "history of 1 turn(s)" in result.stderr and "-c/--cid" in result.stderr
    assert pair.alpha.count("/chat/completions") == 1 and pair.beta.count() == 0
