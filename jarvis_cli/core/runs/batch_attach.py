"""A batch line's "attachments" (issue 27): files or image URLs sent with its prompt.

`"attachments": ["diagram.png", "https://host/photo.jpg"]` — paths are relative to
IN's directory, as a line's `"schema": "@file"` is. They are loaded with `-a`'s code
(runs/attachments.py: sniffed type, size limits, capabilities), go with the line's
last user message as content parts, and add their capabilities (vision, pdf_input)
to the plan key, so a plan made for a text line is never reused for an image line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jarvis_cli.core.errors import JarvisError
from jarvis_cli.core.providers.base import Message

if TYPE_CHECKING:
    from jarvis_cli.core.runs.attachments import Attachment

MAX_PER_LINE = 16


def line_attachments(obj: Mapping[str, Any], base_dir: Path | None) -> tuple[Attachment, ...]:
    """The line's attachments, loaded; ValueError (a bad line) when one cannot be."""
    sources = obj.get("attachments")
    if sources is None:
        return ()
    if (
        not isinstance(sources, list)
        or not sources
        or not all(isinstance(s, str) and s for s in sources)
    ):
        raise ValueError('"attachments" must be a non-empty list of paths or URLs')
    if len(sources) > MAX_PER_LINE:
        raise ValueError(f'"attachments" has {len(sources)} entries (at most {MAX_PER_LINE})')
    if "-" in sources:
        raise ValueError('"attachments" cannot read stdin ("-"): name a file')
    from jarvis_cli.core.runs.attachments import load_attachment

    loaded = []
    for source in sources:
        local = "://" not in source and base_dir is not None and not Path(source).is_absolute()
        try:
            loaded.append(load_attachment(str(base_dir / source) if local else source))
        except JarvisError as exc:
            raise ValueError(exc.message) from None
    return tuple(loaded)


def line_messages(
    messages: Sequence[tuple[str, str]], attachments: Sequence[Attachment]
) -> tuple[Message, ...]:
    """The request's messages; the attachments ride on the last user message."""
    out = [Message(role, content) for role, content in messages]  # type: ignore[arg-type]
    if attachments:
        from jarvis_cli.core.runs.attachments import content_parts

        last = max(i for i, m in enumerate(out) if m.role == "user")
        text = out[last].content
        out[last] = Message("user", text, content_parts(text, attachments))
    return tuple(out)
