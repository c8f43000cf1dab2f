"""Output: JSON and data to stdout, messages to stderr, rich tables for humans.

rich is imported only when a table is drawn, so `--json` paths never pay for it.
Colour follows NO_COLOR and is off whenever the stream is not a terminal.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


def is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def color_enabled(stream: Any) -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return is_tty(stream)


def console(*, stderr: bool = False) -> Console:
    """A rich Console for the current stdout/stderr (created per call: tests swap streams)."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    tty = is_tty(stream)
    return Console(
        file=stream,
        no_color=not color_enabled(stream),
        force_terminal=False if not tty else None,
        highlight=False,
        soft_wrap=not tty,
        width=None if tty else 200,
    )


def emit_json(data: Any) -> None:
    """Write one JSON document to stdout."""
    import json

    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=_json_default) + "\n")
    sys.stdout.flush()


def _json_default(obj: Any) -> Any:
    if isinstance(obj, datetime):
        return obj.isoformat()
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def message(text: str) -> None:
    """A line for humans on stderr (redacted: it may quote what was typed)."""
    from jarvis_cli.core.redact import redact

    sys.stderr.write(redact(text) + "\n")
    sys.stderr.flush()


def warn(text: str) -> None:
    message(f"warning: {text}")


def iso(ts: float | None) -> str | None:
    """Unix time -> ISO 8601 UTC (seconds), for JSON and tables."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="seconds")


def table(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    title: str | None = None,
    highlight_row: int | None = None,
) -> None:
    """Draw a rich table on stdout."""
    from rich.table import Table

    # Key/value tables pass blank column names: no empty header row for them.
    t = Table(title=title, show_header=any(columns), header_style="bold")
    for col in columns:
        t.add_column(col)
    for i, row in enumerate(rows):
        t.add_row(
            *("" if v is None else str(v) for v in row),
            style="bold green" if i == highlight_row else None,
        )
    console().print(t)
