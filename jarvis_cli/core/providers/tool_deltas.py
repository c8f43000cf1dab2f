"""Tool calls of a streamed answer, assembled from their deltas.

Each delta carries the call's `index`; the first one for an index usually brings the
id and function name, later ones pieces of the arguments. Calls may be interleaved.
A name sent again whole (some servers repeat it) is not doubled.
"""

from __future__ import annotations

from typing import Any

from jarvis_cli.core.providers.base import ToolCall
from jarvis_cli.core.redact import scrub_secrets


class ToolCallAssembler:
    """Collects `choice.delta.tool_calls` items; `calls()` gives them in index order."""

    def __init__(self) -> None:
        self._calls: dict[int, tuple[str | None, str, list[str]]] = {}

    def add(self, item: Any) -> bool:
        """Take one delta item; False when it is malformed (no integer index)."""
        index = getattr(item, "index", None)
        if not isinstance(index, int) or isinstance(index, bool):
            return False
        call_id, name, parts = self._calls.get(index, (None, "", []))
        new_id = getattr(item, "id", None)
        if isinstance(new_id, str) and new_id:
            call_id = call_id or new_id
        function = getattr(item, "function", None)
        piece = getattr(function, "name", None)
        if isinstance(piece, str) and piece and piece != name:
            name = piece if not name else name + piece
        arguments = getattr(function, "arguments", None)
        if isinstance(arguments, str) and arguments:
            parts.append(arguments)
        self._calls[index] = (call_id, name, parts)
        return True

    def calls(self) -> tuple[ToolCall, ...] | None:
        """The calls by index; None if one of them never got a name (malformed)."""
        out: list[ToolCall] = []
        for index in sorted(self._calls):
            call_id, name, parts = self._calls[index]
            if not name:
                return None
            out.append(ToolCall(call_id, name, scrub_secrets("".join(parts))))
        return tuple(out)
