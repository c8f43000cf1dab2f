"""Untrusted text never drives the terminal: every command, on a real pty, against the
hostile server of tests/hostile.py (markup ids, OSC 52/OSC 8/CSI answers, escapes in
error bodies). Pipes and --json stay exact."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_jarvis
from tests.fake_provider import Behavior, FakeProvider
from tests.hostile import (
    CHAT_ID,
    HOSTILE_ANSWER,
    HOSTILE_ERROR,
    HOSTILE_IDS,
    MARKUP,
    OSC52,
    TITLE,
    assert_no_provider_escapes,
    hostile_provider,
)
from tests.terminal import terminal

MODEL = f"evil/{CHAT_ID}"
TITLE_MODEL = f"evil/evil-title{TITLE}"


@pytest.fixture
def evil(home: Path) -> Iterator[FakeProvider]:
    with hostile_provider(home) as fake:
        synced = run_jarvis("models", "sync", "evil")
        assert synced.returncode == 0, synced.stderr
        for model_id in (MODEL, TITLE_MODEL):
            marked = run_jarvis("models", "set", model_id, "--type", "chat")
            assert marked.returncode == 0, marked.stderr
        yield fake


def shown_on_terminal(*args: str) -> tuple[bytes, int]:
    """Everything the command shows on a pty until it exits, and its exit code."""
    with terminal(*args) as term:
        shown = term.read_until(b"\0never shown\0", timeout=60)  # returns at exit
        return shown, term.wait()


def test_models_list_on_a_terminal_shows_markup_literally_and_no_escapes(
    evil: FakeProvider,
) -> None:
    shown, code = shown_on_terminal("models", "list", "--provider", "evil")
    assert code == 0
    assert_no_provider_escapes(shown)
    assert MARKUP.encode() in shown  # literal brackets, not bold red
    assert b"[link=file:///etc/passwd]click[/link]" in shown
    assert "evil-title␛]0;pwned␇".encode() in shown  # visible stand-ins
    assert b"\\u202e" in shown and b"\\u009b" in shown


def test_a_100kb_id_is_cut_in_the_table_and_whole_in_json(evil: FakeProvider) -> None:
    table = run_jarvis("models", "list", "--provider", "evil")
    assert table.returncode == 0
    assert max(len(line) for line in table.stdout.splitlines()) < 1000
    assert "evil-xxxx" in table.stdout and "…" in table.stdout
    as_json = run_jarvis("models", "list", "--provider", "evil", "--json")
    names = [m["name"] for m in json.loads(as_json.stdout)["models"]]
    assert sorted(names) == sorted(HOSTILE_IDS)  # every hostile id round-trips exactly


def test_json_on_a_terminal_is_inert_and_exact(evil: FakeProvider) -> None:
    shown, code = shown_on_terminal("models", "list", "--provider", "evil", "--json")
    assert code == 0
    assert_no_provider_escapes(shown)
    ids = {m["name"] for m in json.loads(shown.decode().replace("\r\n", "\n"))["models"]}
    assert ids == set(HOSTILE_IDS)


@pytest.mark.parametrize("explain", [False, True])
def test_select_on_a_terminal_shows_ids_literally(evil: FakeProvider, explain: bool) -> None:
    args = ["select", "hi", "--provider", "evil", "--all"] + (["--explain"] if explain else [])
    shown, code = shown_on_terminal(*args)
    assert code == 0, shown
    assert_no_provider_escapes(shown)
    assert MARKUP.encode() in shown
    assert "␛]0;pwned␇".encode() in shown
    if explain:
        assert b"excluded (" in shown and b"evil-new\xe2\x90\x8aline" in shown


@pytest.mark.parametrize("stream", ["--stream", "--no-stream"])
def test_complete_on_a_terminal_makes_answer_escapes_visible(
    evil: FakeProvider, stream: str
) -> None:
    shown, code = shown_on_terminal("complete", "hi", "--model", MODEL, stream)
    assert code == 0, shown
    assert_no_provider_escapes(shown)
    assert "␛]52;c;aGFja2Vk␇".encode() in shown
    assert MARKUP.encode() in shown
    assert b"answered by evil/" + CHAT_ID.encode() in shown


def test_complete_raw_passes_escapes_to_the_terminal(evil: FakeProvider) -> None:
    shown, code = shown_on_terminal("complete", "hi", "--model", MODEL, "--no-stream", "--raw")
    assert code == 0
    assert OSC52.encode() in shown


@pytest.mark.parametrize("stream", ["--stream", "--no-stream"])
def test_piped_complete_output_is_exactly_the_servers_text(evil: FakeProvider, stream: str) -> None:
    proc = run_jarvis("complete", "hi", "--model", MODEL, stream)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == HOSTILE_ANSWER
    assert "\x1b" not in proc.stderr  # the summary quotes the id, made safe


def test_an_error_body_with_escapes_is_shown_safely(evil: FakeProvider) -> None:
    evil.always(CHAT_ID, Behavior(status=400, error_message=HOSTILE_ERROR))
    shown, code = shown_on_terminal("complete", "hi", "--model", MODEL, "--no-stream")
    assert code == 9
    assert_no_provider_escapes(shown)
    assert b"error: " in shown and MARKUP.encode() in shown and "␛[31m".encode() in shown
    piped = run_jarvis("complete", "hi", "--model", MODEL)
    assert piped.returncode == 9 and "\x1b" not in piped.stderr
    assert "␛]52;c;aGFja2Vk␇" in piped.stderr


def test_chat_on_a_terminal_makes_answer_escapes_visible(evil: FakeProvider) -> None:
    with terminal("chat", "--model", MODEL) as term:
        term.read_until(b"you> ")
        term.type("hi")
        shown = term.read_until(b"end")
        shown += term.read_until(b"you> ")
        term.type("/exit")
        assert term.wait() == 0
    assert_no_provider_escapes(shown)
    assert "␛]52;c;aGFja2Vk␇".encode() in shown and MARKUP.encode() in shown


def test_log_stats_doctor_and_providers_list_on_a_terminal(evil: FakeProvider) -> None:
    evil.script(CHAT_ID, Behavior(status=500, error_message=HOSTILE_ERROR))
    assert run_jarvis("complete", "hi", "--model", MODEL, "--retries", "0").returncode == 8
    assert run_jarvis("complete", "hi", "--model", TITLE_MODEL).returncode == 0
    for args in (["log"], ["stats"], ["doctor"], ["providers", "list"]):
        shown, code = shown_on_terminal(*args)
        assert code in (0, 3, 4, 10), (args, shown)
        assert_no_provider_escapes(shown)
        if args[0] in ("log", "stats"):
            assert MARKUP.encode() in shown and "evil-title␛]0;pwned␇".encode() in shown
