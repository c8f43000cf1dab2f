"""Output: JSON and data to stdout, messages to stderr; tables are drawn by tables.py.

rich is imported only when a table is drawn, so `--json` paths never pay for it.
Colour follows NO_COLOR and is off whenever the stream is not a terminal.

Untrusted text (model ids, provider names, error bodies, answers, log rows) is made
safe HERE and nowhere else: `visible()` shows C0/C1 controls, DEL and bidi overrides
as visible stand-ins (ESC as `␛`, U+202E as `\\u202e`), so no escape sequence reaches
a terminal; table cells are rich `Text` (never markup) and cut at `CELL_MAX` chars.
`answer_text()` does the same to answers shown on a terminal (unless `--raw`); a pipe
or file gets the answer byte for byte. `--json` stays exact (JSON escapes controls).
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


CELL_MAX = 200  # characters of one table cell; --json is never cut

# Bidi embeddings/overrides/isolates and marks: they reorder what the reader sees.
_BIDI = frozenset([0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def _stand_in(code: int) -> str | None:
    """The visible form of an unsafe code point, or None if it is safe to show."""
    if code < 0x20:
        return chr(0x2400 + code)  # control pictures: ␛ for ESC, ␊ for LF
    if code == 0x7F:
        return "\u2421"  # ␡
    if 0x80 <= code <= 0x9F or code in _BIDI:
        return f"\\u{code:04x}"
    return None


_TABLE: dict[int, str] = {
    c: v
    for c in [*range(0x20), 0x7F, *range(0x80, 0xA0), *_BIDI]
    if (v := _stand_in(c)) is not None
}
_JSON_ESCAPES = {c: f"\\u{c:04x}" for c in [0x7F, *range(0x80, 0xA0), *_BIDI]}
_TABLE_KEEP_LINES = {c: v for c, v in _TABLE.items() if c not in (0x0A, 0x09)}


def visible(text: object, *, keep_lines: bool = False) -> str:
    """`text` with every control character and bidi override shown, never emitted.

    `keep_lines` keeps newline and tab (for answers and multi-line messages).
    """
    return str(text).translate(_TABLE_KEEP_LINES if keep_lines else _TABLE)


def cut(text: str, limit: int = CELL_MAX) -> str:
    """`text` cut to `limit` characters, marking the cut."""
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}…"


def answer_text(text: str, *, raw: bool = False) -> str:
    """An answer as written to stdout: exact on a pipe/file or with `raw`, made safe on
    a terminal (controls shown visibly; newlines and tabs kept)."""
    if raw or not is_tty(sys.stdout):
        return text
    return visible(text, keep_lines=True)


def line(text: str) -> None:
    """One line of (possibly untrusted) text for humans on stdout; controls, newlines
    included, are shown, so provider data cannot break or fake lines. On a terminal a
    long line is wrapped between words (an id is never split), continuing indented."""
    shown = visible(text)
    if is_tty(sys.stdout):
        import textwrap

        indent = " " * (len(shown) - len(shown.lstrip(" "))) + "  "
        width = max(console().width, len(indent) + 20)
        parts = textwrap.wrap(
            shown,
            width,
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
            drop_whitespace=True,
        )
        shown = "\n".join(parts) if parts else shown
    sys.stdout.write(shown + "\n")
    sys.stdout.flush()


def cell(value: object) -> Any:
    """A table cell: rich `Text` (never parsed as markup), controls shown, cut to CELL_MAX."""
    from rich.text import Text

    return Text("" if value is None else cut(visible(value)))


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

    text = json.dumps(data, indent=2, ensure_ascii=False, default=_json_default)
    # JSON escapes C0 controls itself; C1, DEL and bidi overrides are escaped here too,
    # so that JSON on a terminal is inert. A parser reads back the exact same strings.
    sys.stdout.write(text.translate(_JSON_ESCAPES) + "\n")
    sys.stdout.flush()


def _json_default(obj: Any) -> Any:
    if isinstance(obj, datetime):
        return obj.isoformat()
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def message(text: str) -> None:
    """A line for humans on stderr: redacted (it may quote what was typed), and controls
    in it are shown, never emitted."""
    from jarvis_cli.core.redact import redact

    sys.stderr.write(visible(redact(text), keep_lines=True) + "\n")
    sys.stderr.flush()


def warn(text: str) -> None:
    message(f"warning: {text}")


def iso(ts: float | None) -> str | None:
    """Unix time -> ISO 8601 UTC (seconds), for JSON and tables."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="seconds")


def stamp(ts: float | None) -> str:
    """Unix time -> `2026-12-05 17:43:31` (UTC) for a table cell ("-" for none)."""
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
