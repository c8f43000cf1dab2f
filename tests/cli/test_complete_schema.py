"""`jarvis complete --schema`: what reaches the server, validation, fallback, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from tests.cli.test_complete import Pair, pair  # noqa: F401 - fixture
from tests.conftest import JarvisRunner
from tests.fake_provider import Behavior

DSL = "name, age int, tags list: a few keywords"
EXPECTED_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}, "description": "a few keywords"},
    },
    "required": ["name", "age", "tags"],
    "additionalProperties": False,
}


def _sent(pair: Pair, which: str = "alpha") -> dict[str, Any]:  # noqa: F811
    fake = pair.alpha if which == "alpha" else pair.beta
    (request,) = [r for r in fake.requests if r.path.endswith("/chat/completions")]
    assert isinstance(request.body, dict)
    return request.body


def test_invalid_answer_falls_back_and_stdout_is_the_valid_document(pair: Pair) -> None:  # noqa: F811
    pair.alpha.script("fake-chat", Behavior(schema_answer="invalid"))
    pair.beta.script("fake-chat", Behavior(schema_answer="valid"))
    result = pair.run(
        "complete", "who?", "--schema", DSL, "--model", "alpha/fake-chat",
        "--fallback", "beta/fake-chat",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    jsonschema.validate(document, EXPECTED_SCHEMA)
    assert result.stdout == json.dumps(document, ensure_ascii=False) + "\n"  # one line
    assert "alpha/fake-chat: structured_output support unknown; trying it anyway" in result.stderr
    assert "falling back to beta/fake-chat" in result.stderr
    for which in ("alpha", "beta"):
        body = _sent(pair, which)
        # A custom provider gets strict false: only presets known to honour it get true.
        assert body["response_format"] == {
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": EXPECTED_SCHEMA, "strict": False},
        }
        assert "stream" not in body  # validated before printing: never streamed
    first, second = pair.calls()
    assert (first["model_id"], first["ok"], first["error_class"]) == (
        "alpha/fake-chat", 0, "bad_output",
    )  # fmt: skip
    assert first["completion_tokens"] == 5  # the failed answer's usage is still recorded
    assert (second["model_id"], second["ok"]) == ("beta/fake-chat", 1)


def test_no_valid_output_from_any_model_exits_8_with_the_problem(pair: Pair) -> None:  # noqa: F811
    pair.alpha.always("fake-chat", Behavior(schema_answer="invalid"))
    pair.beta.always("fake-chat", Behavior(text="Sure! Here is the JSON you asked for"))
    result = pair.run(
        "complete", "who?", "--schema", DSL, "--model", "alpha/fake-chat",
        "--fallback", "beta/fake-chat", "--retries", "2",
    )  # fmt: skip
    assert result.returncode == 8, result.stderr
    assert result.stdout == ""
    assert "error: no model produced valid output (2 attempt(s) on 2 model(s)): " in result.stderr
    assert (
        "alpha/fake-chat: the answer does not match the schema: at $.name: 12345 is not of "
        "type 'string'" in result.stderr
    )
    assert "beta/fake-chat: the answer is not JSON (Expecting value at line 1 column 1)" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
    assert [r["error_class"] for r in pair.calls()] == ["bad_output", "bad_output"]
    assert pair.alpha.count("/chat/completions") == 1  # a bad answer is not asked for again


def test_json_puts_the_parsed_document_under_data(pair: Pair) -> None:  # noqa: F811
    pair.alpha.script("fake-chat", Behavior(schema_answer="valid"))
    result = pair.run("complete", "who?", "--schema", DSL, "-m", "alpha/fake-chat", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["data"] == {"name": "text", "age": 7, "tags": ["text"]}
    assert data["text"] == json.dumps(data["data"])
    assert "tool_calls" not in data


def test_schema_from_a_file_is_sent_as_written(pair: Pair, tmp_path: Path) -> None:  # noqa: F811
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    (tmp_path / "s.json").write_text(json.dumps(schema))
    pair.alpha.script("fake-chat", Behavior(schema_answer="valid"))
    result = pair.run(
        "complete", "ok?", "--schema", f"@{tmp_path / 's.json'}", "-m", "alpha/fake-chat"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == '{"ok": true}\n'
    assert _sent(pair)["response_format"]["json_schema"]["schema"] == schema


def test_selection_requires_structured_output(pair: Pair) -> None:  # noqa: F811
    assert pair.run("models", "sync").returncode == 0
    marked = pair.run("models", "set", "beta/big", "--capability", "structured_output")
    assert marked.returncode == 0, marked.stderr
    pair.beta.script("big", Behavior(schema_answer="valid"))
    result = pair.run("complete", "who?", "--schema", DSL, "--no-fallback")
    assert result.returncode == 0, result.stderr
    assert "answered by beta/big" in result.stderr
    assert pair.alpha.count("/chat/completions") == 0


def test_explicit_model_known_without_support_exits_6_naming_those_with_it(pair: Pair) -> None:  # noqa: F811
    assert pair.run("models", "sync").returncode == 0
    pair.run("models", "set", "alpha/small", "--no-capability", "structured_output")
    pair.run("models", "set", "beta/big", "--capability", "structured_output")
    result = pair.run("complete", "who?", "--schema", DSL, "--model", "alpha/small")
    assert result.returncode == 6, result.stderr
    assert "error: alpha/small does not support structured_output (needed by --schema)" in (
        result.stderr
    )
    assert "models that do: beta/big" in result.stderr
    assert pair.alpha.count("/chat/completions") == 0


def test_bad_schema_options_exit_2_with_the_reason(pair: Pair, tmp_path: Path) -> None:  # noqa: F811
    cases = [
        (("--schema", "name, age integer"), "error: --schema field 'age': unknown type 'integer'"),
        (("--schema", '{"type": 3'), "error: --schema is not valid JSON: Expecting ',' delimiter"),
        (
            ("--schema", '{"type": "objekt"}'),
            "error: --schema is not a valid JSON Schema: at type: 'objekt' is not valid",
        ),
        (
            ("--schema", f"@{tmp_path}/none.json"),
            f"error: --schema: no such file: {tmp_path}/none.json",
        ),
        (
            ("--schema", "a", "--type", "completion"),
            "error: --schema and --tools work with chat only",
        ),
        (("--tool-choice", "auto"), "error: --tool-choice needs --tools FILE"),
    ]
    for args, message in cases:
        result = pair.run("complete", "hi", "-m", "alpha/fake-chat", *args)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    assert pair.alpha.count() == 0


def test_openai_preset_gets_strict_only_for_a_strict_compatible_schema(home: Path) -> None:
    from tests.cli.test_complete import write_config
    from tests.conftest import run_jarvis
    from tests.fake_provider import FakeProvider

    with FakeProvider(api_key="sk-openai-test-0123456789") as fake:
        write_config(home, f'[providers.openai]\nbase_url = "{fake.base_url}"\n')
        env = {"JARVIS_OPENAI_API_KEY": "sk-openai-test-0123456789"}
        fake.always(None, Behavior(schema_answer="valid"))
        loose = '{"type": "object", "properties": {"a": {"type": "string"}}}'
        for schema, strict in ((DSL, True), (loose, False)):
            result = run_jarvis(
                "complete", "x", "--schema", schema, "-m", "openai/fake-chat", env=env
            )
            assert result.returncode == 0, result.stderr
            body = fake.requests[-1].body
            assert body["response_format"]["json_schema"]["strict"] is strict


def test_help_documents_the_field_list_types(jarvis: JarvisRunner) -> None:
    shown = jarvis("complete", "--help", env={"COLUMNS": "300"})
    assert shown.returncode == 0
    assert "list[str] list[int] list[float] list[bool]" in shown.stdout  # not eaten as markup
