"""`jarvis complete --tools/--tool-choice`: calls returned (never run), streamed or not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_complete import Pair, pair  # noqa: F401 - fixture
from tests.fake_provider import Behavior

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
TIME = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}


@pytest.fixture
def tools_file(tmp_path: Path) -> Path:
    path = tmp_path / "tools.json"
    path.write_text(json.dumps({"tools": [WEATHER, TIME]}))
    return path


def _chat_body(pair: Pair) -> dict[str, Any]:  # noqa: F811
    (request,) = [r for r in pair.alpha.requests if r.path.endswith("/chat/completions")]
    assert isinstance(request.body, dict)
    return request.body


def test_streamed_tool_call_deltas_are_assembled_by_index(pair: Pair, tools_file: Path) -> None:  # noqa: F811
    # Two calls interleaved; each name only in its first delta; the arguments split at
    # awkward places (inside a key, inside a multi-byte character's string, an empty piece).
    deltas = [
        [{"index": 0, "id": "call_a", "type": "function", "function": {"name": "get_weather"}}],
        [{"index": 0, "function": {"arguments": '{"ci'}}],
        [{"index": 1, "id": "call_b", "type": "function", "function": {"name": "get_time"}}],
        [{"index": 1, "function": {"arguments": '{"tz": "Europe/'}}],
        [{"index": 0, "function": {"arguments": 'ty": "Zü'}}],
        [{"index": 0, "function": {"arguments": ""}}],
        [{"index": 1, "function": {"arguments": 'Paris"}'}}],
        [{"index": 0, "function": {"arguments": 'rich"}'}}],
    ]
    pair.alpha.script("fake-chat", Behavior(tool_call_deltas=deltas))
    result = pair.run(
        "complete", "weather and time?", "--tools", str(tools_file), "-m", "alpha/fake-chat",
        "--stream",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        '{"name": "get_weather", "arguments": {"city": "Zürich"}}',
        '{"name": "get_time", "arguments": {"tz": "Europe/Paris"}}',
    ]
    body = _chat_body(pair)
    assert body["stream"] is True
    assert body["tools"] == [WEATHER, TIME]
    assert "tool_choice" not in body
    (row,) = pair.calls()
    assert row["ok"] == 1 and row["ttft_ms"] is not None


def test_default_streaming_of_several_calls_round_trips(pair: Pair, tools_file: Path) -> None:  # noqa: F811
    calls = [
        {"name": "get_weather", "arguments": '{"city": "Oslo, Norway"}'},
        {"name": "get_time", "arguments": "{}"},
        {"name": "get_weather", "arguments": '{"city": "Lima"}'},
    ]
    pair.alpha.script("fake-chat", Behavior(tool_calls=calls))
    result = pair.run(
        "complete", "x", "--tools", str(tools_file), "-m", "alpha/fake-chat", "--stream"
    )
    assert result.returncode == 0, result.stderr
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {"name": c["name"], "arguments": json.loads(c["arguments"])} for c in calls
    ]


def test_json_lists_tool_calls_and_tool_choice_is_sent(pair: Pair, tools_file: Path) -> None:  # noqa: F811
    calls = [{"name": "get_weather", "arguments": '{"city": "Oslo"'}]  # not valid JSON
    pair.alpha.script("fake-chat", Behavior(tool_calls=calls))
    result = pair.run(
        "complete", "x", "--tools", str(tools_file), "--tool-choice", "get_weather",
        "-m", "alpha/fake-chat", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    # Arguments that are not valid JSON are kept exactly as the model sent them.
    assert data["tool_calls"] == [{"name": "get_weather", "arguments": '{"city": "Oslo"'}]
    assert data["finish_reason"] == "tool_calls" and data["text"] == ""
    assert "data" not in data
    body = _chat_body(pair)
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert "stream" not in body


def test_non_streamed_calls_print_one_line_each(pair: Pair, tools_file: Path) -> None:  # noqa: F811
    calls = [{"name": "get_time", "arguments": '{"tz":"UTC"}'}]
    pair.alpha.script("fake-chat", Behavior(tool_calls=calls))
    result = pair.run(
        "complete", "x", "--tools", str(tools_file), "--tool-choice", "required",
        "-m", "alpha/fake-chat", "--no-stream",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == '{"name": "get_time", "arguments": {"tz": "UTC"}}\n'
    assert _chat_body(pair)["tool_choice"] == "required"


def test_a_text_answer_with_tools_is_printed_as_text(pair: Pair, tools_file: Path) -> None:  # noqa: F811
    result = pair.run(
        "complete", "x", "--tools", str(tools_file), "-m", "alpha/fake-chat", "--no-stream"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Hello from fake\n"


def test_explicit_model_known_without_function_calling_exits_6(
    pair: Pair,  # noqa: F811
    tools_file: Path,
) -> None:
    assert pair.run("models", "sync").returncode == 0
    pair.run("models", "set", "alpha/small", "--no-capability", "function_calling")
    pair.run("models", "set", "beta/big", "--capability", "function_calling")
    result = pair.run("complete", "x", "--tools", str(tools_file), "-m", "alpha/small")
    assert result.returncode == 6, result.stderr
    assert "error: alpha/small does not support function_calling (needed by --tools)" in (
        result.stderr
    )
    assert "models that do: beta/big" in result.stderr
    assert pair.alpha.count("/chat/completions") == 0


def test_bad_tools_inputs_exit_2_with_the_reason(pair: Pair, tmp_path: Path) -> None:  # noqa: F811
    broken = tmp_path / "broken.json"
    broken.write_text('[\n  {"type": "function", "function": {"name": "f"}},\n  {"type": }\n]')
    no_type = tmp_path / "no_type.json"
    no_type.write_text(json.dumps([{"function": {"name": "f"}}]))
    no_name = tmp_path / "no_name.json"
    no_name.write_text(json.dumps([{"type": "function", "function": {}}]))
    good = tmp_path / "good.json"
    good.write_text(json.dumps([WEATHER]))
    cases = [
        (
            ("--tools", str(broken)),
            f"error: --tools: {broken} is not valid JSON: Expecting value at line 3 column 12",
        ),
        (("--tools", str(no_type)), "error: --tools: tool 1 in " + str(no_type) + ' needs "type"'),
        (("--tools", str(no_name)), f"error: --tools: tool 1 in {no_name} needs function.name"),
        (("--tools", str(tmp_path / "none.json")), "error: --tools: no such file: "),
        (
            ("--tools", str(good), "--tool-choice", "get_time"),
            "error: --tool-choice 'get_time' is not auto, none, required or a tool of --tools",
        ),
        (
            ("--tools", str(good), "--schema", "a"),
            "error: --schema and --tools cannot be combined",
        ),
    ]
    for args, message in cases:
        result = pair.run("complete", "hi", "-m", "alpha/fake-chat", *args)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    assert pair.alpha.count() == 0


def test_hostile_call_names_are_made_safe_on_a_terminal_and_exact_on_a_pipe(
    pair: Pair,  # noqa: F811
    tools_file: Path,
) -> None:
    import os

    from tests.terminal import terminal

    name = "get_weather\x9b31m\u202etxt"  # a C1 CSI and an RTL override
    calls = [{"name": name, "arguments": "{\x9b2J"}]  # not JSON: kept as a string
    pair.alpha.always("fake-chat", Behavior(tool_calls=calls))
    args = ("complete", "x", "--tools", str(tools_file), "-m", "alpha/fake-chat", "--no-stream")
    with terminal(*args, env={**os.environ, **pair.env}) as term:
        shown = term.read_until(b"\0never shown\0", timeout=60)  # returns at exit
        assert term.wait() == 0, shown
    assert b"get_weather" in shown
    assert "\x9b".encode() not in shown and "\u202e".encode() not in shown
    piped = pair.run(*args)
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout) == {"name": name, "arguments": "{\x9b2J"}
    assert "\x9b" in piped.stdout  # exact bytes on a pipe
