"""A token's budget is a bound, as `[budgets]` are (issue 23): a budgeted request the
client sent without max_tokens carries the output limit that was reserved upstream
(max_tokens, or max_completion_tokens where the preset wants it), so a provider
that honours it cannot bill past what was admitted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from jarvis_cli.serve.requests import DEFAULT_MAX_TOKENS
from tests.conftest import run_jarvis
from tests.fake_provider import Behavior, FakeProvider
from tests.serve.server import ALPHA_KEY, BETA_KEY, JarvisServer, configure, serve_env
from tests.serve.test_tokens import status_of
from tests.store_access import query

HI = [{"role": "user", "content": "hi"}]
OPENAI_KEY = "sk-openai-CANARY-serve-0123456789abcdef"
ENV = {"BOUND_OPENAI_KEY": OPENAI_KEY}


class Three:
    def __init__(self, home: Path, alpha: FakeProvider, openai_fake: FakeProvider) -> None:
        self.home, self.alpha, self.openai = home, alpha, openai_fake

    def token(self, name: str, *opts: str) -> str:
        done = run_jarvis("serve", "tokens", "add", name, *opts, env=serve_env(self.home, ENV))
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def spent(self, name: str) -> float:
        rows = query(
            self.home,
            "SELECT SUM(u.cost_usd) AS s FROM serve_token_usage u JOIN serve_tokens t"
            " ON t.id = u.token_id WHERE t.name = ?",
            (name,),
        )
        return float(rows[0]["s"] or 0.0)


@pytest.fixture
def three(tmp_path: Path) -> Iterator[Three]:
    with (
        FakeProvider(api_key=ALPHA_KEY, models=["fake-chat"]) as alpha,
        FakeProvider(api_key=BETA_KEY, models=["fake-chat"]) as beta,
        FakeProvider(api_key=OPENAI_KEY, models=["o4-mini"]) as oa,
    ):
        home = tmp_path / "home"
        extra = (
            f'[providers.openai]\nbase_url = "{oa.base_url}"\napi_key_env = "BOUND_OPENAI_KEY"\n'
        )
        configure(home, alpha, beta, extra, ENV)
        env = serve_env(home, ENV)
        assert run_jarvis("models", "sync", "openai", env=env).returncode == 0
        priced = run_jarvis(
            "models", "set", "openai/o4-mini", "--input-price", "1000", "--output-price", "2000",
            env=env,
        )  # fmt: skip
        assert priced.returncode == 0, priced.stderr
        yield Three(home, alpha, oa)


def _answers_within_budget(three: Three, fake: FakeProvider, model: str, param: str) -> None:
    # $10 a day. The fake would bill 100,000 completion tokens ($200) unless told to stop.
    token = three.token("bot-" + param, "--daily-usd", "10")
    fake.always(None, Behavior(completion_tokens=100_000, honour_max_tokens=True))
    server = JarvisServer(three.home, env=ENV)
    try:
        c = openai.OpenAI(base_url=server.url, api_key=token, max_retries=0)
        answer = c.chat.completions.create(model=model, messages=HI)  # no max_tokens
        assert answer.choices[0].message.content == "Hello from fake"
        (sent,) = [r.body for r in fake.requests if r.path.endswith("/chat/completions")]
        assert sent[param] == DEFAULT_MAX_TOKENS  # the limit the admission reserved
        other = "max_tokens" if param == "max_completion_tokens" else "max_completion_tokens"
        assert other not in sent
        # Billed 10 * $0.001 + 4096 * $0.002 = $8.202: within the $10 budget.
        assert three.spent("bot-" + param) == pytest.approx(0.01 + DEFAULT_MAX_TOKENS * 0.002)
        # The next one's bound (4096 more output tokens) would pass $10: refused up front.
        code, body, _ = status_of(lambda: c.chat.completions.create(model=model, messages=HI))
        assert code == 429 and body["code"] == "budget_exceeded"
        assert three.spent("bot-" + param) <= 10.0
        assert fake.count("/chat/completions") == 1  # the refusal reached no provider
    finally:
        server.stop()
    assert "Traceback" not in server.stderr, server.stderr


def test_budgeted_request_without_max_tokens_sends_the_reserved_limit(three: Three) -> None:
    _answers_within_budget(three, three.alpha, "alpha/fake-chat", "max_tokens")


def test_openai_preset_gets_the_limit_as_max_completion_tokens(three: Three) -> None:
    _answers_within_budget(three, three.openai, "openai/o4-mini", "max_completion_tokens")


def test_unbudgeted_token_sends_no_limit_of_its_own(three: Three) -> None:
    token = three.token("free", "--rpm", "100")
    server = JarvisServer(three.home, env=ENV)
    try:
        c = openai.OpenAI(base_url=server.url, api_key=token, max_retries=0)
        c.chat.completions.create(model="alpha/fake-chat", messages=HI)
        (sent,) = [r.body for r in three.alpha.requests if r.path.endswith("/chat/completions")]
        assert "max_tokens" not in sent  # the client's choice: the provider's default
    finally:
        server.stop()
