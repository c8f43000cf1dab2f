"""Tools (`--tools FILE.json`, `--tool-choice`): definitions checked, calls returned as data.

jarvis never runs a tool: the calls a model asks for are returned (stdout, --json).
A call's `arguments` is the parsed JSON object when the model sent valid JSON, else
the string exactly as sent. Nothing here knows about typer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jarvis_cli.core.errors import UsageError
from jarvis_cli.core.providers.base import ToolCall
from jarvis_cli.core.runs.structured import read_option_file

CHOICES = ("auto", "none", "required")


def load_tools(path: Path) -> tuple[dict[str, Any], ...]:
    """The tool definitions in `path`: a JSON list of them, or {"tools": [...]}."""
    source = read_option_file(path, "--tools")
    try:
        data = json.loads(source)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"--tools: {path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    return check_tools(data, str(path))


def check_tools(data: Any, where: str = "--tools") -> tuple[dict[str, Any], ...]:
    """The tools of `data` (a list, or {"tools": list}), each checked for the OpenAI shape."""
    if isinstance(data, dict) and "tools" in data:
        data = data["tools"]
    if not isinstance(data, list) or not data:
        raise UsageError(
            f"--tools: {where} must hold a non-empty list of tool definitions "
            '(or {"tools": [...]})'
        )
    names: set[str] = set()
    for number, tool in enumerate(data, start=1):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or tool.get("type") != "function":
            raise UsageError(f'--tools: tool {number} in {where} needs "type": "function"')
        name = function.get("name") if isinstance(function, dict) else None
        if not isinstance(name, str) or not name:
            raise UsageError(f"--tools: tool {number} in {where} needs function.name (a string)")
        params = function.get("parameters") if isinstance(function, dict) else None
        if params is not None and not isinstance(params, dict):
            raise UsageError(f"--tools: {name}: function.parameters must be a JSON object")
        if name in names:
            raise UsageError(f"--tools: two tools are named {name!r} in {where}")
        names.add(name)
    return tuple(data)


def tool_names(tools: Sequence[dict[str, Any]]) -> list[str]:
    return [str(t["function"]["name"]) for t in tools]


def tool_choice_value(choice: str, tools: Sequence[dict[str, Any]]) -> str | dict[str, Any]:
    """The request's `tool_choice`: auto|none|required, or a named function."""
    if choice in CHOICES:
        return choice
    names = tool_names(tools)
    if choice not in names:
        raise UsageError(
            f"--tool-choice {choice!r} is not auto, none, required or a tool of --tools",
            hint=f"tools: {', '.join(names)}",
        )
    return {"type": "function", "function": {"name": choice}}


def call_json(call: ToolCall) -> dict[str, Any]:
    """`{"name", "arguments"}`: arguments parsed when they are valid JSON, else the string."""
    try:
        arguments: Any = json.loads(call.arguments) if call.arguments else {}
    except json.JSONDecodeError:
        arguments = call.arguments
    return {"name": call.name, "arguments": arguments}
