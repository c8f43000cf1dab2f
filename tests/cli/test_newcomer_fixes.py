"""Issue 27's smaller items, each reproduced end to end with the real CLI.

Two loopback providers (`alpha`, `beta`; tests/cli/test_complete.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_complete import Pair, pair  # noqa: F401 - fixture
from tests.fake_provider import Behavior
from tests.store_access import execute


def _request_ids(p: Pair) -> list[str]:
    rows = json.loads(p.run("log", "--json").stdout)
    return [r["request_id"] for r in rows]


@pytest.mark.slow(11)
def test_log_show_and_cid_take_an_id_prefix(pair: Pair) -> None:  # noqa: F811
    for _ in range(2):
        done = pair.run("complete", "hi", "-m", "alpha/fake-chat", "--no-stream")
        assert done.returncode == 0, done.stderr
    first = _request_ids(pair)[0]
    shown = pair.run("log", "show", first[:6])
    assert shown.returncode == 0, shown.stderr
    assert first in shown.stdout
    assert json.loads(pair.run("log", "show", first[:6], "--json").stdout)["request_id"] == first

    conversation = json.loads(pair.run("log", "show", first, "--json").stdout)["conversation_id"]
    follow = pair.run(
        "complete", "again", "--cid", conversation[:6], "-m", "alpha/fake-chat", "--no-stream"
    )
    assert follow.returncode == 0, follow.stderr
    listed = json.loads(pair.run("log", "--cid", conversation[:5], "--json").stdout)
    assert {r["conversation_id"] for r in listed} == {conversation} and len(listed) == 2

    unknown = pair.run("log", "show", "ffff0000")
    assert unknown.returncode == 2
    assert "no request 'ffff0000' in the log" in unknown.stderr


def test_ambiguous_id_prefix_is_a_usage_error(pair: Pair) -> None:  # noqa: F811
    assert pair.run("complete", "hi", "-m", "alpha/fake-chat", "--no-stream").returncode == 0
    execute(
        pair.home,
        "UPDATE calls SET request_id = ? WHERE id = ?",
        [("abcd000000000001", 1)],
    )
    assert pair.run("complete", "hi", "-m", "alpha/fake-chat", "--no-stream").returncode == 0
    execute(pair.home, "UPDATE calls SET request_id = ? WHERE id = ?", [("abcd000000000002", 2)])
    result = pair.run("log", "show", "abcd")
    assert result.returncode == 2
    assert (
        "error: request id prefix 'abcd' is ambiguous: it starts abcd000000000001, "
        "abcd000000000002" in result.stderr
    )
    assert "hint: type more of the id" in result.stderr
    assert pair.run("log", "show", "abcd0000000000").returncode == 2
    one = pair.run("log", "show", "abcd000000000002", "--json")
    assert one.returncode == 0 and json.loads(one.stdout)["request_id"] == "abcd000000000002"


def test_answer_cut_by_max_tokens_gets_a_note_in_text_mode(pair: Pair) -> None:  # noqa: F811
    pair.alpha.always("fake-chat", Behavior(text="a long answer", finish_reason="length"))
    result = pair.run("complete", "hi", "-m", "alpha/fake-chat", "--max-tokens", "3", "--no-stream")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "a long answer\n"
    assert (
        "jarvis: stopped at --max-tokens 3: the answer above is cut short (raise --max-tokens "
        "for more)" in result.stderr
    )
    as_json = pair.run("complete", "hi", "-m", "alpha/fake-chat", "--max-tokens", "3", "--json")
    assert json.loads(as_json.stdout)["finish_reason"] == "length"
    assert "stopped at" not in as_json.stderr


@pytest.mark.slow(11)
def test_log_prune_vacuum_shrinks_the_file(pair: Pair) -> None:  # noqa: F811
    big = "x" * 200_000
    for _ in range(5):
        done = pair.run("complete", "count", "-m", "alpha/fake-chat", "--no-stream", input=big)
        assert done.returncode == 0, done.stderr
    db = pair.home / "jarvis.db"
    pruned = pair.run("log", "prune", "--older-than", "0s", "--json")
    assert pruned.returncode == 0, pruned.stderr
    assert json.loads(pruned.stdout)["requests_deleted"] == 5
    size_after_prune = db.stat().st_size
    assert size_after_prune > 1_000_000  # SQLite keeps the freed pages

    vacuumed = pair.run("log", "prune", "--older-than", "0s", "--vacuum", "--json")
    assert vacuumed.returncode == 0, vacuumed.stderr
    data = json.loads(vacuumed.stdout)
    # 5 prompts of 200 kB were freed; the registry (~0.5 MB) stays.
    assert data["file_bytes_before"] - data["file_bytes_after"] > 800_000
    assert db.stat().st_size == data["file_bytes_after"] < size_after_prune - 800_000
    text = pair.run("log", "prune", "--older-than", "0s", "--vacuum")
    assert text.returncode == 0, text.stderr
    assert "vacuumed the store: " in text.stderr and " -> " in text.stderr


def test_select_takes_a_for_all(pair: Pair) -> None:  # noqa: F811
    short = pair.run("select", "hi", "-a", "--json")
    assert short.returncode == 0, short.stderr
    long = pair.run("select", "hi", "--all", "--json")
    assert json.loads(short.stdout)["model_id"] == json.loads(long.stdout)["model_id"]
    assert {c["model_id"] for c in json.loads(short.stdout)["candidates"]} == {
        c["model_id"] for c in json.loads(long.stdout)["candidates"]
    }


def test_failed_request_keeps_its_prompt_but_is_no_conversation_turn(
    pair: Pair,  # noqa: F811
) -> None:
    ok = pair.run("complete", "remember 42", "-m", "alpha/fake-chat", "--no-stream")
    assert ok.returncode == 0, ok.stderr
    pair.alpha.always("fake-chat", Behavior(status=503, error_message="overloaded"))
    failed = pair.run(
        "complete", "-c", "what number?", "-m", "alpha/fake-chat", "--no-stream",
        "--retries", "0",
    )  # fmt: skip
    assert failed.returncode == 8, failed.stderr
    rows = json.loads(pair.run("log", "--json").stdout)
    assert rows[0]["ok"] is False and rows[0]["prompt"] == "what number?"
    shown = pair.run("log", "show", rows[0]["request_id"])
    assert "--- prompt\nwhat number?" in shown.stdout
    assert "failed: overloaded" in shown.stdout
    assert (
        json.loads(pair.run("log", "show", rows[0]["request_id"], "--json").stdout)["finish_reason"]
        == "error"
    )

    pair.alpha.reset()
    again = pair.run("complete", "-c", "and now?", "-m", "alpha/fake-chat", "--no-stream")
    assert again.returncode == 0, again.stderr
    sent = [r for r in pair.alpha.requests if r.path.endswith("/chat/completions")][-1]
    assert [m["content"] for m in sent.body["messages"]] == [
        "remember 42", "Hello from fake", "and now?",
    ]  # fmt: skip


def test_stalled_stream_is_stopped_at_the_total_deadline(pair: Pair) -> None:  # noqa: F811
    # Each read returns within the SDK's read timeout (set from the time left when the
    # request started), so only a watchdog holds the total deadline: before it, the
    # second chunk (at ~3.8 s) was awaited although the deadline was 2 s.
    pair.alpha.always("fake-chat", Behavior(chunks=["one ", "two ", "three"], chunk_delay_s=1.9))
    result = pair.run(
        "complete", "hi", "-m", "alpha/fake-chat", "--stream", "--timeout", "2",
        "--retries", "0",
    )  # fmt: skip
    assert result.returncode == 8, result.stderr
    assert "the total deadline passed while streaming" in result.stderr
    (call,) = pair.calls()
    assert call["error_class"] in ("unavailable", "stream_interrupted")
    assert 1500 < call["latency_ms"] < 3000


def test_chat_reads_piped_input_one_message_a_line(pair: Pair) -> None:  # noqa: F811
    assert pair.run("models", "sync", "alpha").returncode == 0  # /model checks the id
    pair.alpha.always("fake-chat", Behavior(text="noted"))
    result = pair.run(
        "chat", "-m", "alpha/fake-chat", "--max-tokens", "7",
        input="remember 42\n/model alpha/tiny\nwhat number?\n",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == "noted\nHello from fake\n"  # no "you> " prompts on a pipe
    assert "model is alpha/tiny" in result.stderr
    chats = [r for r in pair.alpha.requests if r.path.endswith("/chat/completions")]
    assert [r.body["model"] for r in chats] == ["fake-chat", "tiny"]
    assert all(r.body["max_tokens"] == 7 for r in chats)
    assert [m["content"] for m in chats[1].body["messages"]] == [
        "remember 42", "noted", "what number?",
    ]  # fmt: skip


def test_chat_on_a_pipe_exits_with_a_failed_turn_code(pair: Pair) -> None:  # noqa: F811
    pair.alpha.always("fake-chat", Behavior(status=400, error_message="bad temperature"))
    result = pair.run("chat", "-m", "alpha/fake-chat", input="hi\n")
    assert result.returncode == 9, result.stderr
    assert "error: alpha: HTTP 400 request rejected: bad temperature" in result.stderr


def test_chat_takes_schema_and_tools(pair: Pair, tmp_path: Path) -> None:  # noqa: F811
    pair.alpha.always("fake-chat", Behavior(schema_answer="valid"))
    shaped = pair.run("chat", "-m", "alpha/fake-chat", "--schema", "name, age int", input="who?\n")
    assert shaped.returncode == 0, shaped.stderr
    document = json.loads(shaped.stdout)
    assert set(document) == {"name", "age"} and isinstance(document["age"], int)
    (sent,) = [r for r in pair.alpha.requests if r.path.endswith("/chat/completions")]
    assert sent.body["response_format"]["type"] == "json_schema"
    assert not sent.body.get("stream")

    pair.alpha.always(
        "fake-chat", Behavior(tool_calls=[{"name": "get_weather", "arguments": '{"city": "Oslo"}'}])
    )
    tools = tmp_path / "tools.json"
    tools.write_text(
        json.dumps([{"type": "function", "function": {"name": "get_weather", "parameters": {}}}])
    )
    called = pair.run("chat", "-m", "alpha/fake-chat", "--tools", str(tools), input="weather?\n")
    assert called.returncode == 0, called.stderr
    assert called.stdout.strip().splitlines()[-1] == (
        '{"name": "get_weather", "arguments": {"city": "Oslo"}}'
    )
    bad = pair.run("chat", "--tool-choice", "auto", input="x\n")
    assert bad.returncode == 2 and "--tool-choice needs --tools FILE" in bad.stderr
