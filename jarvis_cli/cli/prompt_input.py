"""The prompt of `complete`, `select` and `embed`: the argument plus piped stdin.

jarvis never waits on a terminal: stdin is read only when it is not a TTY, and
`--no-stdin` never touches it (for CI runners whose stdin is an open pipe that
never closes). Piped text comes first, then a blank line, then the argument, so
`git diff | jarvis complete "write a commit message"` reads naturally.
"""

from __future__ import annotations

import sys

from jarvis_cli.core.errors import UsageError


def read_piped_stdin() -> str | None:
    """All of stdin if it is a pipe or file; None for a terminal or a closed stdin."""
    stream = sys.stdin
    if stream is None or stream.closed:
        return None
    try:
        if stream.isatty():
            return None
    except (ValueError, OSError):
        return None  # detached or invalid descriptor: treat as no input
    try:
        data = stream.buffer.read() if hasattr(stream, "buffer") else stream.read()
    except OSError:
        return None  # descriptor 0 closed (`<&-`) or unreadable: there is no piped input
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    return text if text.strip() else None


def build_prompt(argument: str | None, *, no_stdin: bool, required: bool = True) -> str | None:
    """Combine piped stdin and the argument; a usage error when both are missing."""
    piped = None if no_stdin else read_piped_stdin()
    parts = [p for p in (piped, argument) if p]
    if not parts:
        if required:
            raise UsageError(
                "no prompt: give one as an argument or pipe text to stdin",
                hint='e.g. jarvis complete "Explain CRDTs"  or  cat notes.md | jarvis complete'
                ' "summarize"',
            )
        return None
    return "\n\n".join(p.rstrip("\n") for p in parts)
