"""core/runs/attachments.py without the CLI: sniffing, URLs, parts, limits, estimates."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from jarvis_cli.core.errors import UsageError
from jarvis_cli.core.providers.presets import MB, attachment_limit, largest_attachment_limit
from jarvis_cli.core.runs.attachments import (
    IMAGE_TOKENS,
    PDF_TOKENS_PER_PAGE,
    attachment_tokens,
    check_size_limits,
    content_parts,
    display_url,
    from_bytes,
    load_attachment,
    load_attachments,
    required_capabilities,
    sniff,
)

PNG = b"\x89PNG\r\n\x1a\n" + bytes(8)


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xdb" + bytes(4), "image/jpeg"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8L", "image/webp"),
        (b"GIF87a..", "image/gif"),
        (b"GIF89a..", "image/gif"),
        (b"%PDF-1.4\n", "application/pdf"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", None),  # RIFF, but audio
        (b"\x89PNX", None),
        (b"", None),
    ],
)
def test_sniff_recognises_only_the_supported_magic_numbers(data: bytes, mime: str | None) -> None:
    assert sniff(data) == mime


def test_a_file_becomes_a_data_url_with_size_digest_and_estimate() -> None:
    a = from_bytes("x.bin", PNG)
    assert (a.kind, a.mime, a.size) == ("image", "image/png", len(PNG))
    assert a.sha256 == hashlib.sha256(PNG).hexdigest()
    assert a.part() == {
        "type": "image_url",
        "image_url": {"url": "data:image/png;base64," + base64.b64encode(PNG).decode()},
    }
    assert a.tokens == IMAGE_TOKENS
    assert "base64" not in repr(a)  # the bytes never reach a repr (logs, tracebacks)


def test_pdf_estimate_counts_pages_and_never_less_than_one() -> None:
    three = b"%PDF-1.7 /Type /Pages /Type /Page /Type/Page /Type /Page"
    assert from_bytes("a.pdf", three).tokens == 3 * PDF_TOKENS_PER_PAGE
    assert from_bytes("b.pdf", b"%PDF-1.7 no page objects").tokens == PDF_TOKENS_PER_PAGE
    part = from_bytes("b.pdf", b"%PDF-1.7").part()
    assert part["type"] == "file" and part["file"]["filename"] == "b.pdf"
    assert part["file"]["file_data"].startswith("data:application/pdf;base64,")


def test_required_capabilities_and_tokens_add_up() -> None:
    image, pdf = from_bytes("a", PNG), from_bytes("b", b"%PDF-1.7 /Type /Page")
    assert required_capabilities([image, pdf, image]) == ("vision", "pdf_input")
    assert required_capabilities([]) == ()
    assert attachment_tokens([image, pdf]) == IMAGE_TOKENS + PDF_TOKENS_PER_PAGE


def test_content_parts_put_the_text_first() -> None:
    parts = content_parts("hi", [from_bytes("a", PNG)])
    assert parts[0] == {"type": "text", "text": "hi"} and parts[1]["type"] == "image_url"


def test_display_url_hides_password_and_query() -> None:
    shown = display_url("https://me:hunter2@host.example/a.png?key=SECRET#frag")
    assert "hunter2" not in shown and "SECRET" not in shown and "frag" not in shown
    assert shown.startswith("https://me:") and shown.endswith("host.example/a.png?***")
    assert display_url("https://host/a.png") == "https://host/a.png"


def test_url_attachment_keeps_the_real_url_for_sending_only() -> None:
    a = load_attachment("https://host/cat.png?key=SECRET")
    assert a.part() == {
        "type": "image_url",
        "image_url": {"url": "https://host/cat.png?key=SECRET"},
    }
    assert "SECRET" not in a.name and "SECRET" not in repr(a)
    assert (a.size, a.sha256, a.capability) == (None, None, "vision")


def test_stdin_is_read_through_the_callback_once() -> None:
    assert load_attachments(["-"], lambda: PNG)[0].name == "-"
    with pytest.raises(UsageError, match="only once"):
        load_attachments(["-", "-"], lambda: PNG)
    with pytest.raises(UsageError, match="stdin is not available"):
        load_attachment("-")


def test_a_file_over_every_limit_is_refused_without_reading_it(tmp_path: Path) -> None:
    big = tmp_path / "huge.png"
    with big.open("wb") as f:  # sparse: no memory or disk for the test
        f.truncate(largest_attachment_limit() + 1)
    with pytest.raises(UsageError, match=r"over the 33,554,432-byte limit of every provider"):
        load_attachment(str(big))


def test_size_limits_drop_providers_that_cannot_take_the_file() -> None:
    image = from_bytes("a.png", PNG + bytes(6 * MB))
    assert attachment_limit("openai", "image") == 20 * MB
    assert attachment_limit("somewhere", "pdf") == 5 * MB  # the default
    chain = ["anthropic/claude", "openai/gpt", "custom/model"]
    assert check_size_limits(chain, [image], attachment_limit) == ["openai/gpt"]
    with pytest.raises(UsageError, match=r"over the 5,242,880-byte limit of anthropic for images"):
        check_size_limits(["anthropic/claude", "custom/model"], [image], attachment_limit)
    url = load_attachment("https://host/a.png")  # no size known: never refused here
    assert check_size_limits(["custom/model"], [url], attachment_limit) == ["custom/model"]
