"""Client tokens: `jarvis serve tokens add/list/revoke/rotate`, limits, and the error
statuses a client sees (401, 403, 404, 400, 429 with Retry-After, 502/503, 504)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import openai
import pytest

from tests.conftest import run_jarvis
from tests.fake_provider import Behavior, FakeProvider
from tests.serve.server import ALPHA_KEY, BETA_KEY, JarvisServer, configure, serve_env
from tests.store_access import query
from tests.terminal import terminal

HI = [{"role": "user", "content": "hi"}]


class Gated:
    def __init__(self, home: Path, alpha: FakeProvider, beta: FakeProvider) -> None:
        self.home, self.alpha, self.beta = home, alpha, beta
        self.server: JarvisServer | None = None

    def jarvis(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_jarvis(*args, env=serve_env(self.home))

    def add(self, name: str, *opts: str) -> str:
        done = self.jarvis("serve", "tokens", "add", name, *opts)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def start(self, *args: str) -> JarvisServer:
        self.server = JarvisServer(self.home, *args)
        return self.server

    def client(self, token: str) -> openai.OpenAI:
        assert self.server is not None
        return openai.OpenAI(base_url=self.server.url, api_key=token, max_retries=0)


@pytest.fixture
def gated(tmp_path: Path) -> Iterator[Gated]:
    with (
        FakeProvider(api_key=ALPHA_KEY, models=["fake-chat", "fake-embed"]) as alpha,
        FakeProvider(api_key=BETA_KEY, models=["fake-chat"]) as beta,
    ):
        home = tmp_path / "home"
        configure(home, alpha, beta)
        g = Gated(home, alpha, beta)
        try:
            yield g
        finally:
            if g.server is not None:
                g.server.stop()
                assert "Traceback" not in g.server.stderr, g.server.stderr


def status_of(call: object) -> tuple[int, dict[str, object], object]:
    try:
        call()  # type: ignore[operator]
    except openai.APIStatusError as exc:
        assert isinstance(exc.body, dict), exc.body
        assert set(exc.body) >= {"message", "type", "code"}
        return exc.status_code, exc.body, exc.response.headers
    raise AssertionError("no error")


def _refused_within(call: Callable[[], object], seconds: float) -> bool:
    """Whether `call` is refused with a 401 within `seconds` (polled, not slept: the
    server's 2 s re-read can come late on a loaded machine)."""
    import time

    deadline = time.monotonic() + seconds
    while True:
        try:
            if status_of(call)[0] == 401:
                return True
        except AssertionError:  # still answered
            pass
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


@pytest.mark.slow(14)
def test_tokens_are_shown_once_stored_hashed_and_can_be_revoked_and_rotated(gated: Gated) -> None:
    token = gated.add("laptop", "--model", "alpha/*", "--rpm", "100")
    assert token.startswith("jv-") and len(token) > 40
    rows = query(gated.home, "SELECT * FROM serve_tokens")
    assert len(rows) == 1 and token not in json.dumps(rows, default=str)
    listed = gated.jarvis("serve", "tokens", "list", "--json")
    assert token not in listed.stdout
    data = json.loads(listed.stdout)
    assert data[0]["name"] == "laptop" and data[0]["models"] == ["alpha/*"]
    assert data[0]["rpm"] == 100
    again = gated.jarvis("serve", "tokens", "add", "laptop")
    assert again.returncode == 2 and "already exists" in again.stderr

    gated.start()
    ok = gated.client(token).chat.completions.create(model="alpha/fake-chat", messages=HI)
    assert ok.choices[0].message.content == "Hello from fake"
    assert gated.alpha.requests[-1].headers["authorization"] == f"Bearer {ALPHA_KEY}"
    assert token not in json.dumps([r.headers for r in gated.alpha.requests])

    code, body, _ = status_of(lambda: gated.client("jv-wrong").models.list())
    assert code == 401 and body["code"] == "invalid_api_key"
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as no_auth:
        urllib.request.urlopen(f"{gated.server.url}/models", timeout=10)
    assert no_auth.value.code == 401
    assert json.loads(no_auth.value.read())["error"]["code"] == "invalid_api_key"
    code, body, _ = status_of(
        lambda: gated.client(token).chat.completions.create(model="beta/fake-chat", messages=HI)
    )
    assert code == 403 and body["code"] == "model_not_allowed"
    code, body, _ = status_of(
        lambda: gated.client(token).chat.completions.create(model="nope/none", messages=HI)
    )
    assert code == 404 and body["code"] == "model_not_found"
    models = [m.id for m in gated.client(token).models.list()]
    assert models and all(m.startswith("alpha/") for m in models)

    rotated = gated.jarvis("serve", "tokens", "rotate", "laptop")
    assert rotated.returncode == 0, rotated.stderr
    new = rotated.stdout.strip()
    assert new != token
    # The server re-reads tokens every 2 s: the old one is refused from then on.
    assert _refused_within(lambda: gated.client(token).models.list(), seconds=15)
    assert gated.client(new).models.list().data
    assert gated.jarvis("serve", "tokens", "revoke", "laptop").returncode == 0
    assert _refused_within(lambda: gated.client(new).models.list(), seconds=15)
    missing = gated.jarvis("serve", "tokens", "revoke", "laptop")
    assert missing.returncode == 2 and "no active token" in missing.stderr


def test_rpm_and_budget_refusals_are_429_with_reason(gated: Gated) -> None:
    limited = gated.add("ci", "--rpm", "2")
    # With max_tokens 100 a request bills 10 * $1000/M + 100 * $2000/M = $0.21; its
    # bound is at least as much (the rule's 138 input tokens: $0.338, then the
    # calibrated bound, >= the 10 billed): a $0.40 budget admits one, then refuses.
    budget = gated.add("bot", "--daily-usd", "0.4")
    gated.start()
    c = gated.client(limited)
    for _ in range(2):
        c.chat.completions.create(model="alpha/fake-chat", messages=HI)
    code, body, headers = status_of(
        lambda: c.chat.completions.create(model="alpha/fake-chat", messages=HI)
    )
    assert code == 429 and body["code"] == "rate_limit_exceeded"
    assert "2 per minute" in str(body["message"]) and int(headers["retry-after"]) >= 1
    assert "x-should-retry" not in headers  # after Retry-After it can
    code, body, _ = status_of(lambda: c.embeddings.create(model="alpha/fake-embed", input="x"))
    assert code == 429 and body["code"] == "rate_limit_exceeded"  # embeddings count too

    b = gated.client(budget)
    gated.alpha.always(None, Behavior(completion_tokens=100))
    b.chat.completions.create(model="alpha/fake-chat", messages=HI, max_tokens=100)
    code, body, headers = status_of(
        lambda: b.chat.completions.create(model="alpha/fake-chat", messages=HI, max_tokens=100)
    )
    assert code == 429 and body["code"] == "budget_exceeded"
    assert "daily budget exceeded" in str(body["message"]) and "retry-after" in headers
    assert headers["x-should-retry"] == "false"  # the SDK's own retries cannot help
    spent = query(
        gated.home,
        "SELECT SUM(u.cost_usd) AS s FROM serve_token_usage u JOIN serve_tokens t"
        " ON t.id = u.token_id WHERE t.name = 'bot'",
    )[0]["s"]
    assert spent == pytest.approx(0.21)


def test_every_error_status_is_openai_shaped(gated: Gated) -> None:
    gated.start()
    c = openai.OpenAI(base_url=gated.server.url, api_key="x", max_retries=0)  # type: ignore[union-attr]
    # 400: a request jarvis can tell is wrong
    code, body, _ = status_of(
        lambda: c.chat.completions.create(model="alpha/fake-chat", messages=[])
    )
    assert code == 400 and body["param"] == "messages"
    # 502: every model produced invalid output for response_format
    gated.alpha.always(None, Behavior(text="not json"))
    gated.beta.always(None, Behavior(text="not json"))
    code, body, _ = status_of(
        lambda: c.chat.completions.create(
            model="alpha/fake-chat", messages=HI, response_format={"type": "json_object"}
        )
    )
    assert code == 502 and body["code"] == "bad_output"
    # every provider rate-limited for longer than jarvis waits: all fallbacks failed
    gated.alpha.always(None, Behavior(status=429, headers={"Retry-After": "120"}))
    gated.beta.always(None, Behavior(status=429, headers={"Retry-After": "120"}))
    code, body, _ = status_of(
        lambda: c.chat.completions.create(model="alpha/fake-chat", messages=HI)
    )
    assert code == 503 and body["code"] == "all_providers_failed"
    # 504: the total deadline (x-jarvis-timeout, else [defaults] timeout_s) passes
    gated.alpha.always(None, Behavior(delay_s=3))
    gated.beta.always(None, Behavior(delay_s=3))
    code, body, _ = status_of(
        lambda: c.with_options(timeout=30).chat.completions.create(
            model="alpha/fake-chat", messages=HI, extra_headers={"x-jarvis-timeout": "1"}
        )
    )
    assert code == 504 and body["code"] == "deadline_exceeded"


def test_serving_without_tokens_only_on_loopback(gated: Gated) -> None:
    refused = gated.jarvis("serve", "--host", "0.0.0.0", "--port", "0")
    assert refused.returncode == 2
    assert "refusing to serve on 0.0.0.0 without client tokens" in refused.stderr
    assert "Traceback" not in refused.stderr
    server = gated.start()
    assert "no client tokens exist" in server.stderr


def test_tokens_list_is_a_table_with_headers_that_fits_80_columns(gated: Gated) -> None:
    # It printed tab-separated rows without a header, unlike every other listing.
    gated.add("laptop", "--model", "alpha/*", "--rpm", "100", "--daily-usd", "5")
    gated.add("ci")
    assert gated.jarvis("serve", "tokens", "revoke", "ci").returncode == 0

    listed = gated.jarvis("serve", "tokens", "list", "--all")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["name", "token", "created", "(UTC)", "limits"]
    by_name = {line.split()[0]: line for line in lines[1:]}
    assert "models alpha/*; 100/min; $5/day" in by_name["laptop"]
    assert by_name["ci"].endswith("any model (revoked)")
    assert "\t" not in listed.stdout
    assert "ci" not in gated.jarvis("serve", "tokens", "list").stdout.split()

    with terminal(
        "serve", "tokens", "list", "--all", env={**os.environ, **serve_env(gated.home)}, columns=80
    ) as term:
        shown = term.read_until(b"(revoked)").decode()
        assert term.wait() == 0
    rows = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in shown.splitlines() if line.strip()]
    assert rows[0].startswith("name") and all(len(line) <= 80 for line in rows)
    assert any(line.startswith("laptop") for line in rows)
