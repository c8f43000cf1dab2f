"""`-a/--attach PATH|URL|-` for `complete` and `chat` (the work is in core/runs/attachments.py).

`-a -` reads the attachment's bytes from stdin, so the prompt must then be an
argument: stdin cannot be both.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from jarvis_cli.core.runs.attachments import Attachment

AttachOption = Annotated[
    list[str] | None,
    typer.Option(
        "--attach",
        "-a",
        metavar="PATH|URL|-",
        help="Attach an image (PNG, JPEG, WebP, GIF) or PDF; a URL is passed on unfetched; "
        "- reads it from stdin (repeatable). Selection then needs vision / pdf_input.",
    ),
]


def reads_stdin(sources: Sequence[str] | None) -> bool:
    return "-" in (sources or ())


def _read_stdin_bytes() -> bytes:
    from jarvis_cli.core.errors import UsageError

    stream = sys.stdin
    try:
        if stream is None or stream.closed or stream.isatty():
            raise UsageError("-a - reads the attachment from stdin: pipe the file to it")
        return stream.buffer.read()
    except (ValueError, OSError):
        raise UsageError("-a - reads the attachment from stdin, but stdin is closed") from None


def check_prompt_source(
    sources: Sequence[str] | None, prompt: str | None, *, no_stdin: bool, required: bool = True
) -> None:
    """Exit 2 when `-a -` leaves no way to give the prompt (stdin holds the file)."""
    from jarvis_cli.core.errors import UsageError

    if not reads_stdin(sources):
        return
    if no_stdin:
        raise UsageError("-a - reads stdin, which --no-stdin forbids")
    if prompt is None and required:
        raise UsageError(
            "-a - reads the attachment from stdin, so the prompt cannot come from stdin too",
            hint='give the prompt as an argument: cat photo.png | jarvis complete -a - "describe"',
        )


def load(sources: Sequence[str] | None) -> tuple[Attachment, ...]:
    """Load the `-a` sources (exit 2 for a missing, unreadable or unsupported one)."""
    if not sources:
        return ()
    from jarvis_cli.core.runs.attachments import load_attachments

    return load_attachments(sources, _read_stdin_bytes)
