"""`jarvis chat` with the content log: turns are logged, -c resumes, -t applies a template."""

from __future__ import annotations

import os
import sqlite3

from tests.cli.test_complete import Pair, pair  # noqa: F401 - fixture
from tests.fake_provider import Behavior
from tests.terminal import terminal


def _prompts(pair: Pair) -> list[tuple[str, str, str]]:  # noqa: F811
    conn = sqlite3.connect(pair.home / "jarvis.db")
    try:
        rows = conn.execute(
            "SELECT conversation_id, prompt, answer FROM log_requests ORDER BY id"
        ).fetchall()
    finally:
        conn.close()
    return [(str(c), str(p), str(a)) for c, p, a in rows]


def test_chat_logs_its_turns_and_resumes_with_c(pair: Pair) -> None:  # noqa: F811
    pair.alpha.always("fake-chat", Behavior(text="noted"))
    env = {**os.environ, **pair.env}
    with terminal("chat", "--model", "alpha/fake-chat", "-s", "be brief", env=env) as term:
        term.read_until(b"you> ")
        term.type("remember 42")
        assert b"noted" in term.read_until(b"you> ")
        term.type("/exit")
        assert term.wait() == 0
    done = pair.run("complete", "-c", "what number?", "-m", "beta/fake-chat")
    assert done.returncode == 0, done.stderr
    with terminal("chat", "-c", "--model", "alpha/fake-chat", env=env) as term:
        assert b"resuming conversation" in term.read_until(b"you> ")
        term.type("and again?")
        assert b"noted" in term.read_until(b"you> ")
        term.type("/exit")
        assert term.wait() == 0
    last = [r for r in pair.alpha.requests if r.path.endswith("/chat/completions")][-1]
    assert last.body["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "remember 42"},
        {"role": "assistant", "content": "noted"},
        {"role": "user", "content": "what number?"},
        {"role": "assistant", "content": "Hello from fake"},
        {"role": "user", "content": "and again?"},
    ]
    rows = _prompts(pair)
    assert [p for _, p, _ in rows] == ["remember 42", "what number?", "and again?"]
    assert len({c for c, _, _ in rows}) == 1


def test_chat_with_a_template_and_no_log(pair: Pair) -> None:  # noqa: F811
    saved = pair.run(
        "templates", "save", "pirate", "-s", "Talk like a pirate.", "--prompt", "Say: $input",
        "--model", "alpha/fake-chat",
    )  # fmt: skip
    assert saved.returncode == 0, saved.stderr
    env = {**os.environ, **pair.env}
    with terminal("chat", "-t", "pirate", "--no-log", env=env) as term:
        assert b"chatting with alpha/fake-chat" in term.read_until(b"you> ")
        term.type("hello")
        term.read_until(b"you> ")
        term.type("/exit")
        assert term.wait() == 0
    (request,) = [r for r in pair.alpha.requests if r.path.endswith("/chat/completions")]
    assert request.body["messages"] == [
        {"role": "system", "content": "Talk like a pirate."},
        {"role": "user", "content": "Say: hello"},
    ]
    assert _prompts(pair) == []
    assert len(pair.calls()) == 1
