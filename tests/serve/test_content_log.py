"""Served requests write the content log like `jarvis complete`, unless [log] content
is off (then only the attempts, numbers, are recorded)."""

from __future__ import annotations

import uuid
from pathlib import Path

import openai
import pytest

from tests.fake_provider import FakeProvider
from tests.serve.conftest import Served
from tests.serve.server import ALPHA_KEY, BETA_KEY, JarvisServer, configure
from tests.store_access import query

# One worker runs this module (--dist loadgroup): its module-scoped fixture starts once.
pytestmark = pytest.mark.xdist_group("serve_content_log")


def _ask(url: str, word: str, *, stream: bool = False) -> str:
    c = openai.OpenAI(base_url=url, api_key="x", max_retries=0)
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "earlier turn"},
        {"role": "assistant", "content": "earlier answer"},
        {"role": "user", "content": f"remember {word}"},
    ]
    if not stream:
        answer = c.chat.completions.create(model="alpha/fake-chat", messages=messages)  # type: ignore[arg-type]
        return answer.id
    chunks = list(
        c.chat.completions.create(model="alpha/fake-chat", messages=messages, stream=True)  # type: ignore[arg-type]
    )
    return chunks[0].id


def _logged(home: Path, word: str) -> list[dict[str, object]]:
    rows = query(
        home,
        "SELECT request_id, kind, model_id, system, prompt, answer FROM log_requests"
        " WHERE prompt = ?",
        (f"remember {word}",),
    )
    return [dict(r) for r in rows]


def test_served_requests_are_in_the_content_log(srv: Served) -> None:
    for stream in (False, True):
        word = uuid.uuid4().hex
        _ask(srv.url, word, stream=stream)
        rows = _logged(srv.home, word)  # written before the answer's end is sent
        (row,) = rows
        assert row["kind"] == "chat" and row["model_id"] == "alpha/fake-chat"
        assert row["system"] == "be brief"  # the last user turn is the prompt
        assert row["answer"] == "Hello from fake"
        calls = query(srv.home, "SELECT COUNT(*) AS n FROM calls WHERE request_id = ?",
                      (row["request_id"],))  # fmt: skip
        assert calls[0]["n"] == 1  # tied to its attempt, as `jarvis log show` needs
    shown = srv.jarvis("log", "show", str(row["request_id"]))
    assert shown.returncode == 0 and word in shown.stdout  # type: ignore[attr-defined]


def test_log_content_off_keeps_only_the_attempts(tmp_path: Path) -> None:
    with (
        FakeProvider(api_key=ALPHA_KEY, models=["fake-chat"]) as alpha,
        FakeProvider(api_key=BETA_KEY, models=["fake-chat"]) as beta,
    ):
        home = tmp_path / "home"
        configure(home, alpha, beta, "[log]\ncontent = false\n")
        server = JarvisServer(home)
        try:
            word = uuid.uuid4().hex
            _ask(server.url, word)
            assert _logged(home, word) == []
            assert query(home, "SELECT COUNT(*) AS n FROM log_requests")[0]["n"] == 0
            assert query(home, "SELECT COUNT(*) AS n FROM calls")[0]["n"] >= 1
        finally:
            server.stop()
        assert "Traceback" not in server.stderr, server.stderr
