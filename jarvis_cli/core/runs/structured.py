"""Structured output (`--schema`): SCHEMA text -> JSON Schema, and answers checked against it.

SCHEMA is one of:

- JSON Schema text (its first non-blank character is `{`),
- `@FILE` (a file holding JSON Schema),
- a field list, the DSL: `FIELD ("," FIELD)*` where `FIELD = NAME [TYPE] [":" DESCRIPTION]`,
  NAME `[A-Za-z_][A-Za-z0-9_]*`, TYPE one of `str int float bool list list[str] list[int]
  list[float] list[bool]` (default `str`; `list` is `list[str]`), DESCRIPTION any text
  up to the next comma. Every field is required and no other field is allowed, so the
  schema is valid for strict mode.

`jsonschema` is imported here only, when a schema is used: plain `complete` never loads it.
Nothing here knows about typer: `jarvis batch` can call `parse_schema`/`validate_answer`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jarvis_cli.core.errors import BadOutputError, UsageError

SCHEMA_NAME = "answer"  # response_format.json_schema.name
MESSAGE_MAX = 200  # characters of a validation message kept (it may quote the answer)

_DSL_TYPES: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "list": {"type": "array", "items": {"type": "string"}},
    "list[str]": {"type": "array", "items": {"type": "string"}},
    "list[int]": {"type": "array", "items": {"type": "integer"}},
    "list[float]": {"type": "array", "items": {"type": "number"}},
    "list[bool]": {"type": "array", "items": {"type": "boolean"}},
}
_FIELD = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)(?:\s+(\S+))?\s*$")


def read_option_file(path: Path, option: str) -> str:
    """The text of a file an option names; UsageError (exit 2) when it cannot be read."""
    from jarvis_cli.core.store.files import refuse_device

    refuse_device(path, option)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{option}: no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{option}: cannot read {path}: {exc}") from None


def parse_schema(text: str, *, base_dir: Path | None = None) -> dict[str, Any]:
    """The JSON Schema that SCHEMA text stands for; UsageError (exit 2) saying what is wrong."""
    stripped = text.strip()
    if not stripped:
        raise UsageError(
            "--schema is empty: give JSON Schema, @FILE.json or fields like 'name, age int'"
        )
    if stripped.startswith("@"):
        path = Path(stripped[1:]).expanduser()
        if base_dir is not None and not path.is_absolute():
            path = base_dir / path
        return _json_schema(read_option_file(path, "--schema"), f"{path}")
    if stripped.startswith("{"):
        return _json_schema(stripped, "--schema")
    return dsl_schema(stripped)


def _json_schema(source: str, where: str) -> dict[str, Any]:
    try:
        schema = json.loads(source)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{where} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    if not isinstance(schema, dict):
        raise UsageError(f"{where}: a JSON Schema must be an object, not {type(schema).__name__}")
    check_schema(schema, where)
    return schema


def check_schema(schema: Mapping[str, Any], where: str = "--schema") -> None:
    """UsageError unless `schema` is valid against its metaschema (2020-12 by default)."""
    from jsonschema import exceptions, validators

    cls = validators.validator_for(schema, default=validators.Draft202012Validator)
    try:
        cls.check_schema(dict(schema))
    except exceptions.SchemaError as exc:
        path = "/".join(str(p) for p in exc.path) or "(top level)"
        raise UsageError(
            f"{where} is not a valid JSON Schema: at {path}: {_cut(exc.message)}"
        ) from None


def dsl_schema(text: str) -> dict[str, Any]:
    """The strict-compatible object schema of a DSL field list (see the module docstring)."""
    properties: dict[str, Any] = {}
    for number, raw in enumerate(text.split(","), start=1):
        head, colon, description = raw.partition(":")
        match = _FIELD.match(head)
        if not match:
            shown = raw.strip() or "(empty)"
            raise UsageError(
                f"--schema field {number} ({shown!r}) is not `NAME [TYPE] [: description]`",
                hint="e.g. --schema 'name, age int, tags list: a few keywords'",
            )
        name, type_name = match.group(1), match.group(2) or "str"
        if type_name not in _DSL_TYPES:
            raise UsageError(
                f"--schema field {name!r}: unknown type {type_name!r}",
                hint=f"types: {', '.join(_DSL_TYPES)}",
            )
        if name in properties:
            raise UsageError(f"--schema names the field {name!r} twice")
        prop = dict(_DSL_TYPES[type_name])
        if colon and description.strip():
            prop["description"] = description.strip()
        properties[name] = prop
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def strict_compatible(schema: Any) -> bool:
    """Whether strict mode accepts `schema`: each object closed, with every property required."""
    if isinstance(schema, list):
        return all(strict_compatible(s) for s in schema)
    if not isinstance(schema, dict):
        return True
    if schema.get("type") == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        if schema.get("additionalProperties") is not False:
            return False
        if not isinstance(props, dict) or set(schema.get("required") or ()) != set(props):
            return False
    return all(strict_compatible(v) for k, v in schema.items() if k != "enum" and k != "const")


def response_format(schema: Mapping[str, Any], *, strict: bool) -> dict[str, Any]:
    """The `response_format` request field for `schema`."""
    return {
        "type": "json_schema",
        "json_schema": {"name": SCHEMA_NAME, "schema": dict(schema), "strict": strict},
    }


def validate_answer(text: str, schema: Mapping[str, Any], *, model_id: str = "") -> Any:
    """The parsed answer, or BadOutputError naming the first problem (not the whole answer)."""
    from jsonschema import exceptions, validators

    who = f"{model_id}: " if model_id else ""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadOutputError(
            f"{who}the answer is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    cls = validators.validator_for(schema, default=validators.Draft202012Validator)
    error = exceptions.best_match(cls(schema).iter_errors(document))
    if error is not None:
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        raise BadOutputError(
            f"{who}the answer does not match the schema: at ${path}: {_cut(error.message)}"
        )
    return document


def _cut(message: str) -> str:
    return message if len(message) <= MESSAGE_MAX else message[: MESSAGE_MAX - 1] + "…"
