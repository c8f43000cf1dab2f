"""`-a/--attach`: images and PDFs reach the provider as content parts, end to end.

One loopback provider `alpha` (tests/fake_provider.py) serves three chat models:
`seer` (vision), `reader` (vision + PDF input) and `blind` (neither, and the best
quality, so selection would pick it if it ignored the attachment). The fake checks
every content part (a data URL's bytes must match its mime type) and answers with
a description of what it was sent.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import run_jarvis
from tests.fake_provider import FakeProvider

KEY = "sk-alpha-CANARY-0123456789abcdef"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(40)
JPEG = b"\xff\xd8\xff\xe0" + bytes(40)
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(40)
GIF = b"GIF89a" + bytes(40)
PDF = (
    b"%PDF-1.7\n1 0 obj << /Type /Pages >>\n2 0 obj << /Type /Page >>\n3 0 obj << /Type /Page >>\n"
)


@dataclass
class Setup:
    fake: FakeProvider
    home: Path
    env: dict[str, str]

    def run(self, *args: str, input_bytes: bytes | None = None) -> subprocess.CompletedProcess[str]:
        if input_bytes is None:
            return run_jarvis(*args, env=self.env)
        proc = subprocess.run(
            [sys.executable, "-m", "jarvis_cli", *args],
            input=input_bytes,
            capture_output=True,
            env={**os.environ, **self.env},
            timeout=60,
        )
        return subprocess.CompletedProcess(
            proc.args, proc.returncode, proc.stdout.decode(), proc.stderr.decode()
        )

    def chat_bodies(self) -> list[dict[str, object]]:
        return [r.body for r in self.fake.requests if r.path.endswith("/chat/completions")]


@pytest.fixture
def setup(home: Path) -> Iterator[Setup]:
    with FakeProvider(api_key=KEY, models=["seer", "reader", "blind"]) as fake:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        (home / "config.toml").write_text(
            f'[providers.alpha]\nbase_url = "{fake.base_url}"\n'
            "[retry]\nbackoff_base_s = 0.05\nbackoff_max_s = 0.1\n"
        )
        (home / "config.toml").chmod(0o600)
        s = Setup(fake, home, {"JARVIS_ALPHA_API_KEY": KEY})
        for model, caps, quality in (
            ("seer", ["--capability", "vision", "--no-capability", "pdf_input"], "0.5"),
            ("reader", ["--capability", "vision", "--capability", "pdf_input"], "0.4"),
            ("blind", ["--no-capability", "vision", "--no-capability", "pdf_input"], "0.9"),
        ):
            done = s.run("models", "set", f"alpha/{model}", "--type", "chat", "--input-price",
                         "1", "--output-price", "2", "--quality", quality, *caps)  # fmt: skip
            assert done.returncode == 0, done.stderr
        yield s


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _last_user_content(body: dict[str, object]) -> object:
    messages = body["messages"]
    assert isinstance(messages, list)
    return messages[-1]["content"]


def test_image_reaches_the_server_as_a_png_data_url_and_routes_to_a_vision_model(
    setup: Setup, tmp_path: Path
) -> None:
    # Named .jpg on purpose: the type comes from the bytes.
    image = _write(tmp_path, "photo.jpg", PNG)
    done = setup.run("complete", "--no-stream", "-a", str(image), "what is this?")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"I see an image (image/png, {len(PNG)} bytes)\n"
    [body] = setup.chat_bodies()
    assert body["model"] in ("seer", "reader")  # never `blind`, the best without vision
    assert _last_user_content(body) == [
        {"type": "text", "text": "what is this?"},
        {
            "type": "image_url",
            "image_url": {"url": "data:image/png;base64," + base64.b64encode(PNG).decode()},
        },
    ]


@pytest.mark.parametrize(
    ("data", "mime"),
    [(JPEG, "image/jpeg"), (WEBP, "image/webp"), (GIF, "image/gif")],
)
def test_each_image_type_is_sniffed_from_its_bytes(
    setup: Setup, tmp_path: Path, data: bytes, mime: str
) -> None:
    image = _write(tmp_path, "noext", data)
    done = setup.run("complete", "--no-stream", "--json", "-a", str(image), "describe")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["text"] == f"I see an image ({mime}, {len(data)} bytes)"


def test_plain_prompt_stays_a_plain_string(setup: Setup) -> None:
    done = setup.run("complete", "--no-stream", "hello")
    assert done.returncode == 0, done.stderr
    [body] = setup.chat_bodies()
    assert _last_user_content(body) == "hello"
    assert body["model"] == "blind"  # without an attachment, quality wins


def test_pdf_goes_as_a_file_part_to_a_pdf_capable_model(setup: Setup, tmp_path: Path) -> None:
    pdf = _write(tmp_path, "report.pdf", PDF)
    done = setup.run("complete", "--no-stream", "-a", str(pdf), "summarize")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"I see a PDF named report.pdf ({len(PDF)} bytes)\n"
    [body] = setup.chat_bodies()
    assert body["model"] == "reader"
    part = _last_user_content(body)[1]  # type: ignore[index]
    assert part == {
        "type": "file",
        "file": {
            "filename": "report.pdf",  # not the local path
            "file_data": "data:application/pdf;base64," + base64.b64encode(PDF).decode(),
        },
    }


def test_attachment_from_stdin_with_the_prompt_as_argument(setup: Setup) -> None:
    done = setup.run("complete", "--no-stream", "-a", "-", "describe", input_bytes=GIF)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"I see an image (image/gif, {len(GIF)} bytes)\n"


def test_image_url_is_passed_unfetched_and_shown_masked(setup: Setup) -> None:
    url = "https://images.example/cat.png?key=SECRET-QUERY-TOKEN"
    done = setup.run("complete", "--no-stream", "--json", "-a", url, "describe")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["text"] == "I see an image at https://images.example/cat.png"
    shown = setup.run("log", "show", json.loads(done.stdout)["request_id"])
    assert "https://images.example/cat.png?***" in shown.stdout
    conn = sqlite3.connect(setup.home / "jarvis.db")
    try:
        dump = "\n".join(conn.iterdump())
    finally:
        conn.close()
    for text in (done.stdout, done.stderr, shown.stdout, shown.stderr, dump):
        assert "SECRET-QUERY-TOKEN" not in text
    [body] = setup.chat_bodies()
    assert _last_user_content(body)[1] == {"type": "image_url", "image_url": {"url": url}}  # type: ignore[index]


def test_streamed_answer_about_an_image(setup: Setup, tmp_path: Path) -> None:
    image = _write(tmp_path, "a.png", PNG)
    done = setup.run("complete", "--stream", "-a", str(image), "describe")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"I see an image (image/png, {len(PNG)} bytes)\n"


def test_attachments_count_toward_the_input_token_estimate(setup: Setup, tmp_path: Path) -> None:
    # 2 pages x 1,500 tokens + 1 for "sum" at $1/Mtok, plus 500 output tokens at
    # $2/Mtok = $0.004001: over a --max-cost of $0.0035; the prompt alone is not.
    pdf = _write(tmp_path, "two-pages.pdf", PDF)
    done = setup.run("complete", "--no-stream", "--max-cost", "0.0035", "-a", str(pdf), "sum")
    _refused(done, 6, "alpha/reader: estimated $0.004001 > max $0.0035")
    assert setup.chat_bodies() == []
    plain = setup.run("complete", "--no-stream", "--max-cost", "0.0035", "sum")
    assert plain.returncode == 0, plain.stderr


# --- bad input: message and exit code ------------------------------------------


def _refused(done: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert done.returncode == code, (done.returncode, done.stderr)
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    for needle in needles:
        assert needle in done.stderr, done.stderr


def test_missing_file_is_exit_2(setup: Setup, tmp_path: Path) -> None:
    done = setup.run("complete", "-a", str(tmp_path / "nope.png"), "describe")
    _refused(done, 2, "cannot attach", "nope.png: no such file")
    assert setup.chat_bodies() == []


def test_directory_is_exit_2(setup: Setup, tmp_path: Path) -> None:
    _refused(setup.run("complete", "-a", str(tmp_path), "x"), 2, "it is a directory")


def test_unreadable_file_is_exit_2(setup: Setup, tmp_path: Path) -> None:
    path = _write(tmp_path, "secret.png", PNG)
    path.chmod(0)
    if os.access(path, os.R_OK):  # root reads anything: nothing to test then
        pytest.skip("running as root: mode 000 is readable")
    _refused(setup.run("complete", "-a", str(path), "x"), 2, "secret.png: permission denied")


@pytest.mark.parametrize(
    ("data", "detected"),
    [
        (b"PK\x03\x04rest", "ZIP archive"),
        (b"just some notes\n", "text"),
        (b"", "empty file"),
        (b"\x00\x01\x02\x03\xfe\xff", "unknown binary data"),
        (b"BM\x00\x00", "BMP image"),
    ],
)
def test_unsupported_type_is_exit_2_naming_what_was_detected(
    setup: Setup, tmp_path: Path, data: bytes, detected: str
) -> None:
    path = _write(tmp_path, "looks.png", data)  # the name says png: it does not matter
    done = setup.run("complete", "-a", str(path), "describe")
    _refused(done, 2, f"unsupported type ({detected})", "PNG, JPEG, WebP or GIF")
    assert setup.chat_bodies() == []


def test_non_http_url_is_exit_2(setup: Setup) -> None:
    done = setup.run("complete", "-a", "ftp://host/cat.png", "x")
    _refused(done, 2, "only http and https URLs can be attached")


def test_pdf_url_is_exit_2(setup: Setup) -> None:
    done = setup.run("complete", "-a", "https://u:pw-SECRET@docs.example/a.pdf?token=T0K", "x")
    _refused(done, 2, "a PDF is sent as its bytes, not as a URL", "download it")
    assert "pw-SECRET" not in done.stderr and "T0K" not in done.stderr


def test_stdin_attachment_without_a_prompt_argument_is_exit_2(setup: Setup) -> None:
    done = setup.run("complete", "-a", "-", input_bytes=PNG)
    _refused(done, 2, "the prompt cannot come from stdin too")


def test_stdin_attachment_given_twice_is_exit_2(setup: Setup) -> None:
    done = setup.run("complete", "-a", "-", "-a", "-", "x", input_bytes=PNG)
    _refused(done, 2, "give it only once")


def test_stdin_attachment_with_no_stdin_is_exit_2(setup: Setup) -> None:
    done = setup.run("complete", "--no-stdin", "-a", "-", "x", input_bytes=PNG)
    _refused(done, 2, "--no-stdin")


def test_attachment_with_the_completion_endpoint_is_exit_2(setup: Setup, tmp_path: Path) -> None:
    image = _write(tmp_path, "a.png", PNG)
    done = setup.run("complete", "--type", "completion", "-a", str(image), "x")
    _refused(done, 2, "-a/--attach works with chat only")


def test_explicit_model_without_vision_is_exit_6_naming_vision_models(
    setup: Setup, tmp_path: Path
) -> None:
    image = _write(tmp_path, "a.png", PNG)
    done = setup.run("complete", "-m", "alpha/blind", "-a", str(image), "describe")
    _refused(done, 6, "alpha/blind does not accept images (vision)", "alpha/seer", "alpha/reader")
    assert setup.chat_bodies() == []


def test_explicit_model_without_pdf_input_is_exit_6_naming_pdf_models(
    setup: Setup, tmp_path: Path
) -> None:
    pdf = _write(tmp_path, "a.pdf", PDF)
    done = setup.run("complete", "-m", "alpha/seer", "-a", str(pdf), "sum")
    _refused(done, 6, "alpha/seer does not accept PDF input (pdf_input)", "alpha/reader")
    assert "alpha/blind" not in done.stderr


def test_no_pdf_capable_model_at_all_is_exit_6(setup: Setup, tmp_path: Path) -> None:
    assert (
        setup.run("models", "set", "alpha/reader", "--no-capability", "pdf_input").returncode == 0
    )
    pdf = _write(tmp_path, "a.pdf", PDF)
    done = setup.run("complete", "--provider", "alpha", "-a", str(pdf), "sum")
    _refused(done, 6, "pdf_input")
    assert setup.chat_bodies() == []


def test_file_over_the_provider_limit_is_exit_2_with_size_and_limit(
    setup: Setup, tmp_path: Path
) -> None:
    # alpha is a custom endpoint: the conservative default limit, 5 MiB, applies.
    big = _write(tmp_path, "big.png", PNG + bytes(5 * 1024 * 1024))
    done = setup.run("complete", "-m", "alpha/seer", "-a", str(big), "describe")
    size = big.stat().st_size
    _refused(done, 2, f"is {size:,} bytes", "over the 5,242,880-byte limit of alpha for images")
    assert setup.chat_bodies() == []


def test_log_records_attachment_facts_not_bytes(setup: Setup, tmp_path: Path) -> None:
    import hashlib

    image = _write(tmp_path, "a.png", PNG)
    done = setup.run("complete", "--no-stream", "--json", "-a", str(image), "describe")
    assert done.returncode == 0, done.stderr
    request_id = json.loads(done.stdout)["request_id"]
    conn = sqlite3.connect(setup.home / "jarvis.db")
    try:
        rows = conn.execute(
            "SELECT name, mime, size, sha256 FROM content_attachments WHERE request_id = ?",
            (request_id,),
        ).fetchall()
        dump = "\n".join(conn.iterdump())
    finally:
        conn.close()
    assert rows == [(str(image), "image/png", len(PNG), hashlib.sha256(PNG).hexdigest())]
    assert base64.b64encode(PNG).decode() not in dump
    shown = setup.run("log", "show", request_id)
    assert shown.returncode == 0, shown.stderr
    assert "image/png" in shown.stdout and hashlib.sha256(PNG).hexdigest() in shown.stdout


def test_pruning_a_request_drops_its_attachment_rows(setup: Setup, tmp_path: Path) -> None:
    image = _write(tmp_path, "a.png", PNG)
    done = setup.run("complete", "--no-stream", "-a", str(image), "describe")
    assert done.returncode == 0, done.stderr
    time.sleep(0.05)  # the row is now strictly older than the cutoff below
    pruned = setup.run("log", "prune", "--older-than", "0s")
    assert pruned.returncode == 0, pruned.stderr
    conn = sqlite3.connect(setup.home / "jarvis.db")
    try:
        left = conn.execute("SELECT count(*) FROM content_attachments").fetchone()[0]
        logged = conn.execute("SELECT count(*) FROM log_requests").fetchone()[0]
    finally:
        conn.close()
    assert (logged, left) == (0, 0)


def test_no_log_records_no_attachment(setup: Setup, tmp_path: Path) -> None:
    image = _write(tmp_path, "a.png", PNG)
    done = setup.run("complete", "--no-stream", "--no-log", "-a", str(image), "describe")
    assert done.returncode == 0, done.stderr
    conn = sqlite3.connect(setup.home / "jarvis.db")
    try:
        assert conn.execute("SELECT count(*) FROM content_attachments").fetchone()[0] == 0
    finally:
        conn.close()


# --- chat ------------------------------------------------------------------------


def test_chat_attach_goes_with_the_next_message_and_stays_in_history(
    setup: Setup, tmp_path: Path
) -> None:
    from tests.terminal import terminal

    image = _write(tmp_path, "cat.webp", PNG)
    env = {**os.environ, **setup.env}
    with terminal("chat", "--model", "alpha/blind", env=env) as term:
        assert b"/attach PATH" in term.read_until(b"you> ")  # the help line says so
        term.type(f"/attach {tmp_path / 'missing.png'}")
        assert b"missing.png: no such file" in term.read_until(b"you> ")
        term.type(f"/attach {image}")
        assert f"attached {image} (image/png, {len(PNG)} bytes)".encode() in term.read_until(
            b"you> "
        )
        term.type("what is it?")
        refused = term.read_until(b"you> ")
        assert b"alpha/blind does not accept images" in refused
        assert b"attachments kept" in refused
        term.type("/model alpha/seer")
        term.read_until(b"you> ")
        term.type("what is it?")
        assert f"I see an image (image/png, {len(PNG)} bytes)".encode() in term.read_until(b"you> ")
        term.type("and now?")  # no new file: the first one is still in the history
        term.read_until(b"you> ")
        term.type("/exit")
        assert term.wait() == 0
    bodies = setup.chat_bodies()
    assert [b["model"] for b in bodies] == ["seer", "seer"]  # blind was never sent anything
    first, second = (b["messages"] for b in bodies)
    image_part = {
        "type": "image_url",
        "image_url": {"url": "data:image/png;base64," + base64.b64encode(PNG).decode()},
    }
    assert first == [
        {"role": "user", "content": [{"type": "text", "text": "what is it?"}, image_part]}
    ]
    assert second[0] == first[0] and second[-1] == {"role": "user", "content": "and now?"}


def test_chat_with_a_attaches_to_the_first_message_and_picks_a_vision_model(
    setup: Setup, tmp_path: Path
) -> None:
    from tests.terminal import terminal

    image = _write(tmp_path, "a.png", PNG)
    env = {**os.environ, **setup.env}
    with terminal("chat", "-a", str(image), env=env) as term:
        started = term.read_until(b"you> ")
        assert b"chatting with alpha/seer" in started or b"chatting with alpha/reader" in started
        term.type("describe")
        assert b"I see an image (image/png" in term.read_until(b"you> ")
        term.type("/exit")
        assert term.wait() == 0


def test_chat_refuses_attach_from_stdin(setup: Setup) -> None:
    from tests.terminal import terminal

    env = {**os.environ, **setup.env}
    with terminal("chat", "-a", "-", env=env) as term:
        out = term.read_until(b"attach a file")  # drain() gave up before a slow start-up
        assert term.wait() == 2
    assert b"-a - reads stdin, which is chat's terminal" in out


def test_fallbacks_after_a_failing_vision_model_are_vision_models_only(
    setup: Setup, tmp_path: Path
) -> None:
    from tests.fake_provider import Behavior

    setup.fake.always("seer", Behavior(status=503))
    setup.fake.always("reader", Behavior(status=503))
    image = _write(tmp_path, "a.png", PNG)
    done = setup.run("complete", "--no-stream", "--retries", "0", "-a", str(image), "describe")
    assert done.returncode == 8, done.stderr  # every vision model unavailable
    assert "Traceback" not in done.stderr
    tried = {b["model"] for b in setup.chat_bodies()}
    assert tried == {"seer", "reader"}  # both vision models tried, `blind` never


def test_path_through_a_file_is_exit_2(setup: Setup, tmp_path: Path) -> None:
    image = _write(tmp_path, "a.png", PNG)
    done = setup.run("complete", "-a", str(image / "child.png"), "x")
    _refused(done, 2, "child.png: Not a directory")
