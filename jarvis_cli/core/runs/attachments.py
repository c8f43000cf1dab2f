"""Attachments (`-a PATH|URL|-`): images and PDFs sent with a prompt as content parts.

- The type comes from the bytes (magic numbers), never from the name: PNG, JPEG,
  WebP, GIF are images, `%PDF-` is a PDF; anything else is a usage error (exit 2)
  naming what was detected.
- A file becomes a data URL (`data:image/png;base64,…`); an http(s) URL is passed
  as is and never fetched by jarvis. A URL's kind comes from its path: `.pdf` is a
  PDF, which is refused (PDF parts carry the bytes, there is no PDF URL part:
  download it and attach the file); anything else is taken as an image.
- Images need the `vision` capability, PDFs `pdf_input`; selection requires them,
  and an explicit model known to lack one is refused (exit 6) before anything is sent.
- Input token estimate: an image counts IMAGE_TOKENS flat; a PDF counts
  PDF_TOKENS_PER_PAGE for each page (`/Type /Page` objects, at least one).
- Size limits per provider (`providers.presets.attachment_limits`) are checked
  before anything is sent: models of providers that cannot take a file are dropped,
  and if none is left the request is refused (exit 2) with the size and the limit.
- A URL is shown only masked (user-info password and query string hidden).

This module is independent of the CLI, so any command (e.g. batch) can reuse it.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from jarvis_cli.core.errors import NoSuitableModelError, UsageError
from jarvis_cli.core.redact import MASK, mask_url

if TYPE_CHECKING:
    from jarvis_cli.core.registry.model_registry import ModelRegistry

AttachmentKind = Literal["image", "pdf"]

# A 1024x1024 image costs ~765 tokens at OpenAI's high detail and ~1,400 at
# Anthropic's (width*height/750): 1,000 is the middle, rounded.
IMAGE_TOKENS = 1000
# A PDF page is sent as its text plus a page image: 1,500-3,000 tokens (Anthropic's
# PDF guide); the low end, since dense pages are the exception.
PDF_TOKENS_PER_PAGE = 1500
STDIN_NAME = "-"

_IMAGE_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
# Known but unsupported, so that the error can say what the file is.
_OTHER_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "ZIP archive"),
    (b"\x1f\x8b", "gzip data"),
    (b"BM", "BMP image"),
    (b"II*\x00", "TIFF image"),
    (b"MM\x00*", "TIFF image"),
    (b"\x7fELF", "ELF executable"),
    (b"ID3", "MP3 audio"),
    (b"OggS", "Ogg media"),
    (b"\x00\x00\x01\x00", "ICO image"),
)
_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


@dataclass(frozen=True)
class Attachment:
    """One attachment, ready to send. `data_url` holds the bytes (never logged)."""

    name: str  # file name as given, "-" for stdin, or the masked URL
    kind: AttachmentKind
    mime: str
    size: int | None  # bytes; None for a URL (not fetched)
    sha256: str | None
    tokens: int  # input token estimate (see the module docstring)
    data_url: str = field(repr=False)  # data: URL, or the http(s) URL itself

    @property
    def capability(self) -> str:
        return "vision" if self.kind == "image" else "pdf_input"

    def part(self) -> dict[str, Any]:
        """The OpenAI chat content part for this attachment."""
        if self.kind == "image":
            return {"type": "image_url", "image_url": {"url": self.data_url}}
        # The base name only: a local path says nothing the model needs to know.
        filename = "attachment.pdf" if self.name == STDIN_NAME else Path(self.name).name
        return {"type": "file", "file": {"filename": filename, "file_data": self.data_url}}


def sniff(data: bytes) -> str | None:
    """The supported mime type of `data` from its first bytes, or None."""
    for magic, mime in _IMAGE_SIGNATURES:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def describe_unsupported(data: bytes) -> str:
    """What `data` looks like, for the error message of an unsupported attachment."""
    if not data:
        return "empty file"
    for magic, what in _OTHER_SIGNATURES:
        if data.startswith(magic):
            return what
    if data[:4] == b"RIFF":
        return "RIFF media (not WebP)"
    try:
        data[:4096].decode("utf-8")
    except UnicodeDecodeError:
        return "unknown binary data"
    return "text"


def display_url(url: str) -> str:
    """`url` safe to show: no user-info password, no query string (it may hold `?key=`)."""
    parts = urlsplit(mask_url(url))
    return urlunsplit(parts._replace(query=MASK if parts.query else "", fragment=""))


def from_bytes(name: str, data: bytes) -> Attachment:
    """An attachment from its bytes; UsageError (exit 2) for an unsupported type."""
    mime = sniff(data)
    if mime is None:
        raise UsageError(
            f"cannot attach {name}: unsupported type ({describe_unsupported(data)})",
            hint="attach PNG, JPEG, WebP or GIF images, or PDF files",
        )
    kind: AttachmentKind = "pdf" if mime == "application/pdf" else "image"
    pages = max(1, len(_PAGE.findall(data))) if kind == "pdf" else 0
    return Attachment(
        name=name,
        kind=kind,
        mime=mime,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        tokens=pages * PDF_TOKENS_PER_PAGE if kind == "pdf" else IMAGE_TOKENS,
        data_url=f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}",
    )


def from_url(url: str) -> Attachment:
    """An image URL, passed on unfetched; a `.pdf` URL is refused (exit 2)."""
    shown = display_url(url)
    parts = urlsplit(url)
    if not parts.netloc:
        raise UsageError(f"cannot attach {shown}: the URL has no host")
    if parts.path.lower().endswith(".pdf"):
        raise UsageError(
            f"cannot attach {shown}: a PDF is sent as its bytes, not as a URL",
            hint="download it and attach the file: -a FILE.pdf",
        )
    return Attachment(
        name=shown, kind="image", mime="image/*", size=None, sha256=None,
        tokens=IMAGE_TOKENS, data_url=url,
    )  # fmt: skip


def _read_file(source: str) -> bytes:
    from jarvis_cli.core.providers.presets import largest_attachment_limit

    path = Path(source)
    try:
        size = path.stat().st_size
        if path.is_file() and size > largest_attachment_limit():  # not read into memory
            raise UsageError(
                f"cannot attach {source}: it is {size:,} bytes, over the "
                f"{largest_attachment_limit():,}-byte limit of every provider"
            )
        with path.open("rb") as f:  # a pipe or device (/dev/zero) is read up to the limit
            data = f.read(largest_attachment_limit() + 1)
        if len(data) > largest_attachment_limit():
            raise UsageError(
                f"cannot attach {source}: it holds more than the "
                f"{largest_attachment_limit():,}-byte limit of every provider"
            )
        return data
    except FileNotFoundError:
        raise UsageError(f"cannot attach {source}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"cannot attach {source}: it is a directory") from None
    except PermissionError:
        raise UsageError(f"cannot attach {source}: permission denied") from None
    except OSError as exc:
        raise UsageError(f"cannot attach {source}: {exc.strerror or 'unreadable'}") from None


def load_attachment(source: str, read_stdin: Callable[[], bytes] | None = None) -> Attachment:
    """PATH, http(s) URL, or "-" (bytes from `read_stdin`) -> Attachment."""
    scheme = source.split(":", 1)[0].lower() if "://" in source else ""
    if scheme in ("http", "https"):
        try:
            return from_url(source)
        except ValueError as exc:  # urlsplit: "Invalid IPv6 URL", a bad port
            raise UsageError(f"cannot attach {mask_url(source)}: not a valid URL ({exc})") from None
    if scheme:
        raise UsageError(
            f"cannot attach {display_url(source)}: only http and https URLs can be attached"
        )
    if source == STDIN_NAME:
        if read_stdin is None:
            raise UsageError("cannot attach -: stdin is not available here")
        return from_bytes(STDIN_NAME, read_stdin())
    return from_bytes(source, _read_file(source))


def load_attachments(
    sources: Sequence[str], read_stdin: Callable[[], bytes] | None = None
) -> tuple[Attachment, ...]:
    """Load every `-a` source in order; "-" may appear at most once."""
    if sum(1 for s in sources if s == STDIN_NAME) > 1:
        raise UsageError("-a - reads stdin once: give it only once")
    return tuple(load_attachment(s, read_stdin) for s in sources)


def required_capabilities(attachments: Sequence[Attachment]) -> tuple[str, ...]:
    """The capabilities a model needs for these attachments, in a stable order."""
    return tuple(sorted({a.capability for a in attachments}, reverse=True))


def attachment_tokens(attachments: Sequence[Attachment]) -> int:
    """The input token estimate of the attachments (see the module docstring)."""
    return sum(a.tokens for a in attachments)


def content_parts(text: str, attachments: Sequence[Attachment]) -> tuple[dict[str, Any], ...]:
    """A user message's content parts: its text first, then each attachment."""
    return ({"type": "text", "text": text}, *(a.part() for a in attachments))


def check_models_accept(
    registry: ModelRegistry, chain: Sequence[str], attachments: Sequence[Attachment]
) -> None:
    """Exit 6 when a model of `chain` is known not to take an attachment, naming ones that do."""
    for capability in required_capabilities(attachments):
        what = "images" if capability == "vision" else "PDF input"
        for model_id in chain:
            record = registry.get(model_id)
            if record is None or getattr(record.capabilities, capability) is not False:
                continue  # unknown support: the user chose it, the provider decides
            able = [m.id for m in registry.list_models(kind="chat", capability=capability)]
            same = [m for m in able if m.split("/", 1)[0] == record.provider]
            names = [*same, *(m for m in able if m not in same)][:5]
            raise NoSuitableModelError(
                f"{model_id} does not accept {what} ({capability})"
                + (f"; models that do: {', '.join(names)}" if names else ""),
                hint=(
                    "use one of them with --model, or drop --model to let selection pick"
                    if names
                    else f"no known model accepts {what}: mark one with "
                    f"jarvis models set ID --capability {capability}"
                ),
            )


def check_size_limits(
    chain: Sequence[str],
    attachments: Sequence[Attachment],
    limit_of: Callable[[str, AttachmentKind], int],
) -> list[str]:
    """The models of `chain` whose provider takes every file; exit 2 if none does.

    `limit_of(provider, kind)` is the largest file in bytes that provider accepts.
    """
    kept: list[str] = []
    refusal = ""
    for model_id in chain:
        provider = model_id.split("/", 1)[0]
        too_big = [
            (a, limit_of(provider, a.kind))
            for a in attachments
            if a.size is not None and a.size > limit_of(provider, a.kind)
        ]
        if not too_big:
            kept.append(model_id)
        elif not refusal:
            a, limit = too_big[0]
            refusal = (
                f"{a.name} is {a.size:,} bytes: over the {limit:,}-byte limit of "
                f"{provider} for {'images' if a.kind == 'image' else 'PDFs'}"
            )
    if chain and not kept:
        raise UsageError(f"cannot send the attachment: {refusal}", hint="attach a smaller file")
    return kept
