"""--schema's core: SCHEMA text -> JSON Schema (DSL, JSON, @file), answers validated; tools."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from jarvis_cli.core.errors import BadOutputError, ExitCode, UsageError
from jarvis_cli.core.providers.base import ToolCall
from jarvis_cli.core.runs.structured import (
    dsl_schema,
    parse_schema,
    response_format,
    strict_compatible,
    validate_answer,
)
from jarvis_cli.core.runs.tools import call_json, check_tools, load_tools, tool_choice_value


def test_dsl_makes_a_strict_object_schema_with_every_field_required() -> None:
    schema = parse_schema("name, age int, score float: 0 to 1, ok bool, tags list, ns list[int]")
    assert schema == {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer"},
            "score": {"type": "number", "description": "0 to 1"},
            "ok": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "ns": {"type": "array", "items": {"type": "integer"}},
        },
        "required": ["name", "age", "score", "ok", "tags", "ns"],
        "additionalProperties": False,
    }
    jsonschema.Draft202012Validator.check_schema(schema)
    assert strict_compatible(schema)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name, age integer", "--schema field 'age': unknown type 'integer'"),
        ("name, , age int", "--schema field 2 ('(empty)') is not `NAME [TYPE] [: description]`"),
        ("1name", "--schema field 1 ('1name') is not `NAME [TYPE] [: description]`"),
        ("a int extra", "--schema field 1 ('a int extra') is not"),
        ("a, a int", "--schema names the field 'a' twice"),
        ("   ", "--schema is empty"),
    ],
)
def test_bad_dsl_is_a_usage_error_naming_the_field(text: str, message: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_schema(text)
    assert err.value.message.startswith(message)
    assert err.value.exit_code == ExitCode.USAGE


def test_json_schema_text_and_file_are_accepted(tmp_path: Path) -> None:
    schema = {"type": "object", "properties": {"x": {"type": "integer"}}}
    assert parse_schema(json.dumps(schema)) == schema
    (tmp_path / "s.json").write_text(json.dumps(schema))
    assert parse_schema(f"@{tmp_path / 's.json'}") == schema
    assert parse_schema("@s.json", base_dir=tmp_path) == schema


def test_unparseable_json_schema_names_line_and_column() -> None:
    with pytest.raises(UsageError) as err:
        parse_schema('{"type": "object",\n "properties": }')
    assert err.value.message == ("--schema is not valid JSON: Expecting value at line 2 column 16")


def test_schema_that_breaks_the_metaschema_is_refused_with_its_path() -> None:
    with pytest.raises(UsageError) as err:
        parse_schema('{"type": "object", "properties": {"x": {"type": "integr"}}}')
    assert err.value.message.startswith(
        "--schema is not a valid JSON Schema: at properties/x/type: 'integr' is not valid"
    )


def test_missing_schema_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as err:
        parse_schema(f"@{tmp_path / 'nope.json'}")
    assert err.value.message == f"--schema: no such file: {tmp_path / 'nope.json'}"


def test_a_schema_must_be_an_object(tmp_path: Path) -> None:
    (tmp_path / "s.json").write_text("[1]")
    with pytest.raises(UsageError) as err:
        parse_schema(f"@{tmp_path / 's.json'}")
    assert err.value.message == f"{tmp_path / 's.json'}: a JSON Schema must be an object, not list"


def test_validate_answer_returns_the_parsed_document() -> None:
    schema = dsl_schema("name, age int")
    assert validate_answer('{"name": "Ada", "age": 36}', schema) == {"name": "Ada", "age": 36}


def test_invalid_answer_says_where_not_the_whole_answer() -> None:
    schema = dsl_schema("name, age int")
    with pytest.raises(BadOutputError) as err:
        validate_answer('{"name": "Ada", "age": "old"}', schema, model_id="p/m")
    assert err.value.message == (
        "p/m: the answer does not match the schema: at $.age: 'old' is not of type 'integer'"
    )
    assert err.value.error_class == "bad_output" and err.value.exit_code == ExitCode.PROVIDER
    with pytest.raises(BadOutputError) as err:
        validate_answer("Sure! " + "x" * 5000, schema)
    assert err.value.message == "the answer is not JSON (Expecting value at line 1 column 1)"
    with pytest.raises(BadOutputError) as err:
        validate_answer(json.dumps({"name": "y" * 5000}), schema)
    assert "'age' is a required property" in err.value.message
    assert len(err.value.message) < 400


def test_strict_only_for_closed_fully_required_schemas() -> None:
    assert not strict_compatible({"type": "object", "properties": {"x": {"type": "string"}}})
    assert response_format({"type": "object"}, strict=False) == {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": {"type": "object"}, "strict": False},
    }


def test_tools_shape_is_checked() -> None:
    tool = {"type": "function", "function": {"name": "f", "parameters": {}}}
    assert check_tools({"tools": [tool]}) == (tool,)
    with pytest.raises(UsageError, match=r'tool 1 in --tools needs "type": "function"'):
        check_tools([{"function": {"name": "f"}}])
    with pytest.raises(UsageError, match=r"tool 2 in --tools needs function.name"):
        check_tools([tool, {"type": "function", "function": {}}])
    with pytest.raises(UsageError, match="non-empty list"):
        check_tools({"tools": []})
    with pytest.raises(UsageError, match="two tools are named 'f'"):
        check_tools([tool, tool])


def test_malformed_tools_file_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "tools.json"
    path.write_text('[\n  {"type": "function",\n   "function": {"name": "f",}}\n]')
    with pytest.raises(UsageError) as err:
        load_tools(path)
    assert err.value.message == (
        f"--tools: {path} is not valid JSON: Expecting property name enclosed in double "
        "quotes at line 3 column 29"
    )


def test_tool_choice_must_be_a_keyword_or_a_tool() -> None:
    tools = check_tools([{"type": "function", "function": {"name": "get_weather"}}])
    assert tool_choice_value("required", tools) == "required"
    assert tool_choice_value("get_weather", tools) == {
        "type": "function",
        "function": {"name": "get_weather"},
    }
    with pytest.raises(UsageError) as err:
        tool_choice_value("get_time", tools)
    assert err.value.hint == "tools: get_weather"


def test_call_arguments_parsed_when_json_else_kept_as_sent() -> None:
    assert call_json(ToolCall("c", "f", '{"a": 1}')) == {"name": "f", "arguments": {"a": 1}}
    assert call_json(ToolCall("c", "f", '{"a": 1')) == {"name": "f", "arguments": '{"a": 1'}
    assert call_json(ToolCall("c", "f", "")) == {"name": "f", "arguments": {}}
