"""A non-streamed request whose client goes away: the attempt in flight still ends and
is recorded (and billed, when the provider answered: that call cost money), but no new
attempt - no retry, no fallback - is started for a client that is no longer there, and
`/metrics` counts the request as `client_gone` or `interrupted`, not `ok`. The official
`openai` SDK over HTTP gives up (its timeout) while the fake provider is still answering."""

from __future__ import annotations

import time
import urllib.request
from typing import Any

import openai
import pytest

from tests.fake_provider import Behavior
from tests.serve.conftest import Served
from tests.store_access import query

pytestmark = pytest.mark.xdist_group("serve_disconnect")

HI = [{"role": "user", "content": "hi"}]
MODEL = "alpha/fake-chat"


GIVE_UP_S = 1.5  # far more than a warm request takes to reach the provider, loaded
SLOW_S = GIVE_UP_S + 2.5  # the provider answers after the client has gone


@pytest.fixture(scope="module", autouse=True)
def warm(served: Served) -> None:
    """One answered request first: the server's SDK import and planning are done, so the
    client below gives up while its request is at the provider, not before."""
    c = openai.OpenAI(base_url=served.url, api_key="unused", max_retries=0)
    c.chat.completions.create(model=MODEL, messages=HI)


def _give_up(srv: Served) -> None:
    """A client that stops waiting (and closes its connection) after GIVE_UP_S."""
    c = openai.OpenAI(base_url=srv.url, api_key="unused", max_retries=0, timeout=GIVE_UP_S)
    with pytest.raises(openai.APITimeoutError):
        c.chat.completions.create(model=MODEL, messages=HI)
    assert srv.alpha.count("/chat/completions") == 1  # it had reached the provider


def _calls(srv: Served, since: int) -> list[Any]:
    return query(
        srv.home,
        "SELECT id, model_id, ok, error_class, cost_usd FROM calls WHERE id > ? ORDER BY id",
        (since,),
    )


def _last_id(srv: Served) -> int:
    rows = query(srv.home, "SELECT COALESCE(MAX(id), 0) AS last FROM calls")
    return int(rows[0]["last"])


def _wait_for_calls(srv: Served, since: int, n: int, timeout: float = 20) -> list[Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = _calls(srv, since)
        if len(rows) >= n:
            return rows
        time.sleep(0.1)
    raise AssertionError(f"no {n} attempt(s) recorded: {_calls(srv, since)}")


def _count(srv: Served, outcome: str, model: str = MODEL) -> int:
    """Chat requests of `model` ("-": failed) with `outcome` in /metrics (0 if none)."""
    with urllib.request.urlopen(srv.server.root + "/metrics", timeout=10) as r:
        text = r.read().decode()
    line = f'jarvis_serve_requests_total{{endpoint="chat",model="{model}",outcome="{outcome}"}} '
    found = [ln for ln in text.splitlines() if ln.startswith(line)]
    return int(found[0].rsplit(" ", 1)[1]) if found else 0


def test_an_answer_the_client_left_is_recorded_paid_and_counted_client_gone(srv: Served) -> None:
    since, ok = _last_id(srv), _count(srv, "ok")
    srv.alpha.always(None, Behavior(delay_s=SLOW_S, text="nobody reads this"))
    _give_up(srv)
    [row] = _wait_for_calls(srv, since, 1)
    assert (row["model_id"], row["ok"]) == (MODEL, 1)  # the provider answered: it is paid
    assert row["cost_usd"] == pytest.approx(0.02)
    time.sleep(0.5)
    assert _count(srv, "client_gone") == 1 and _count(srv, "ok") == ok
    assert "the client went away before its answer" in srv.server.stderr
    assert "Traceback" not in srv.server.stderr


def test_no_fallback_is_started_after_the_client_left(srv: Served) -> None:
    since, interrupted = _last_id(srv), _count(srv, "interrupted", "-")
    srv.alpha.always(None, Behavior(delay_s=SLOW_S, status=503, error_message="down"))
    _give_up(srv)
    [row] = _wait_for_calls(srv, since, 1)
    assert (row["model_id"], row["ok"], row["error_class"]) == (MODEL, 0, "unavailable")
    time.sleep(1.5)  # a fallback would start at once
    assert _calls(srv, since) == [row]
    assert srv.beta.count() == 0  # beta/fake-chat was never called (nor paid)
    assert _count(srv, "interrupted", "-") == interrupted + 1
    assert _count(srv, "internal_error", "-") == 0
    assert "no retry or fallback was started" in srv.server.stderr
    assert "Traceback" not in srv.server.stderr


def test_a_client_that_waits_still_gets_the_fallback(srv: Served) -> None:
    srv.alpha.always(None, Behavior(delay_s=0.5, status=503, error_message="down"))
    c = openai.OpenAI(base_url=srv.url, api_key="unused", max_retries=0, timeout=20)
    answer = c.chat.completions.create(model=MODEL, messages=HI)
    assert answer.model == "beta/fake-chat"
