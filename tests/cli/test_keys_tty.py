"""The terminal paths of `jarvis keys`: a hidden prompt that never echoes the key, and
the confirmation before a delete."""

from __future__ import annotations

import json

from tests.conftest import run_jarvis
from tests.terminal import terminal

CANARY = "sk-tty-CANARY-0123456789abcdef"


def test_hidden_prompt_stores_the_key_without_echoing_it() -> None:
    with terminal("keys", "add", "openai", "--no-validate") as term:
        shown = term.read_until(b"(input hidden): ")
        term.type(CANARY)
        code = term.wait()
        shown += term.drain()
    assert code == 0, shown
    assert CANARY.encode() not in shown  # the terminal never displayed it
    (key,) = json.loads(run_jarvis("keys", "list", "--json").stdout)
    assert key["provider"] == "openai" and key["fingerprint"] == "sk-…cdef"


def test_delete_asks_on_a_terminal_and_keeps_the_key_on_no() -> None:
    added = run_jarvis("keys", "add", "openai", "--stdin", "--no-validate", input=CANARY + "\n")
    assert added.returncode == 0, added.stderr
    with terminal("keys", "delete", "openai") as term:
        term.read_until(b"delete the openai/default key?")
        term.type("n")
        code = term.wait()
        shown = term.drain()
    assert code == 2  # declined: nothing done, like a usage error
    assert b"nothing deleted" in shown
    assert len(json.loads(run_jarvis("keys", "list", "--json").stdout)) == 1
    with terminal("keys", "delete", "openai") as term:
        term.read_until(b"?")
        term.type("y")
        assert term.wait() == 0
    assert json.loads(run_jarvis("keys", "list", "--json").stdout) == []
