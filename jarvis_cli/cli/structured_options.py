"""`complete --schema/--tools/--tool-choice`: the options, their checks, and the output.

The core does the work (core/runs/structured.py, tools.py); this module turns option
text into request fields and an Outcome into stdout.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from jarvis_cli.cli import render

if TYPE_CHECKING:
    from jarvis_cli.core.runs.requests import Outcome

SchemaOption = Annotated[
    str | None,
    typer.Option(
        "--schema",
        metavar="SCHEMA",
        help="Answer with JSON matching SCHEMA: JSON Schema text, @FILE.json, or fields "
        "'NAME [TYPE] [: description], …' (TYPE: str int float bool list list\\[str] "
        "list\\[int] list\\[float] list\\[bool]; default str; all required). Not streamed: "
        "validated first; an invalid answer falls back to the next model.",
    ),
]
ToolsOption = Annotated[
    str | None,
    typer.Option(
        "--tools",
        metavar="FILE",
        help="Offer the tools in FILE (JSON: a list of OpenAI tool definitions, or "
        '{"tools": [...]}). Calls are printed, one JSON line each, not run.',
    ),
]
ToolChoiceOption = Annotated[
    str | None,
    typer.Option(
        "--tool-choice",
        metavar="auto|none|required|NAME",
        help="Whether the model must call a tool, or which one (with --tools).",
    ),
]


def structured_fields(
    schema: str | None, tools: str | None, tool_choice: str | None, *, kind: str
) -> dict[str, Any]:
    """CompletionRequest fields for the options (exit 2 with a precise message when bad)."""
    from jarvis_cli.core.errors import UsageError

    if schema is None and tools is None:
        if tool_choice is not None:
            raise UsageError("--tool-choice needs --tools FILE")
        return {}
    if kind != "chat":
        raise UsageError("--schema and --tools work with chat only (not --type completion)")
    if schema is not None and tools is not None:
        raise UsageError(
            "--schema and --tools cannot be combined: a tool call is not a JSON answer",
            hint="use --schema for a JSON answer, or --tools for tool calls",
        )
    if schema is not None:
        from jarvis_cli.core.runs.structured import parse_schema

        return {"schema": parse_schema(schema)}
    from jarvis_cli.core.runs.tools import load_tools, tool_choice_value

    assert tools is not None
    loaded = load_tools(Path(tools).expanduser())
    choice = None if tool_choice is None else tool_choice_value(tool_choice, loaded)
    return {"tools": loaded, "tool_choice": choice}


def capabilities(fields: dict[str, Any]) -> tuple[str, ...]:
    """What models need for these fields (selection asks for them)."""
    return ("structured_output",) * ("schema" in fields) + ("function_calling",) * (
        "tools" in fields
    )


def add_json(data: dict[str, Any], outcome: Outcome, fields: dict[str, Any]) -> None:
    """--json: the parsed document under `data`, the calls under `tool_calls`."""
    if "schema" in fields:
        data["data"] = outcome.data
    if "tools" in fields:
        from jarvis_cli.core.runs.tools import call_json

        data["tool_calls"] = [call_json(c) for c in outcome.tool_calls]


def print_document(outcome: Outcome, *, raw: bool) -> None:
    """--schema: stdout is the validated JSON document, on one line."""
    line = json.dumps(outcome.data, ensure_ascii=False)
    sys.stdout.write(render.answer_text(line, raw=raw) + "\n")
    sys.stdout.flush()


def print_tool_calls(outcome: Outcome, *, raw: bool) -> None:
    """--tools: one `{"name", "arguments"}` JSON line per call (made safe on a terminal)."""
    from jarvis_cli.core.runs.tools import call_json

    for call in outcome.tool_calls:
        line = json.dumps(call_json(call), ensure_ascii=False)
        sys.stdout.write(render.answer_text(line, raw=raw) + "\n")
    sys.stdout.flush()
