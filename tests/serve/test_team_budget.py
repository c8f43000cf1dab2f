"""4 `jarvis serve` processes on one PostgreSQL team store, 64 concurrent clients
against one token's daily budget: recorded spend stays within it, refusals are 429s
that say which budget."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openai
import pytest

from tests.conftest import run_jarvis
from tests.fake_provider import FakeProvider
from tests.serve.server import ALPHA_KEY, BETA_KEY, JarvisServer, configure, serve_env

BUDGET_USD = 0.5
CLIENTS = 64
HI = [{"role": "user", "content": "hi"}]


@pytest.mark.slow(16)
def test_four_servers_share_a_tokens_daily_budget(tmp_path: Path, pg_url: str) -> None:
    import psycopg

    home = tmp_path / "home"
    store = {"JARVIS_STORE_URL": pg_url}
    with (
        FakeProvider(api_key=ALPHA_KEY, models=["fake-chat"]) as alpha,
        FakeProvider(api_key=BETA_KEY, models=["fake-chat"]) as beta,
    ):
        configure(home, alpha, beta, env_extra=store)
        added = run_jarvis(
            "serve",
            "tokens",
            "add",
            "fleet",
            "--daily-usd",
            str(BUDGET_USD),
            env=serve_env(home, store),
        )
        assert added.returncode == 0, added.stderr
        token = added.stdout.strip()
        servers = [JarvisServer(home, env=store) for _ in range(4)]
        try:

            def one(i: int) -> tuple[int, str]:
                url = servers[i % len(servers)].url
                c = openai.OpenAI(base_url=url, api_key=token, max_retries=0, timeout=60)
                try:
                    c.chat.completions.create(model="alpha/fake-chat", messages=HI, max_tokens=5)
                    return 200, ""
                except openai.APIStatusError as exc:
                    return exc.status_code, json.dumps(exc.body)

            with ThreadPoolExecutor(CLIENTS) as pool:
                results = list(pool.map(one, range(CLIENTS * 2)))
        finally:
            for server in servers:
                server.stop()
                assert "Traceback" not in server.stderr, server.stderr
    answered = [r for r in results if r[0] == 200]
    refused = [r for r in results if r[0] != 200]
    assert answered and refused
    assert all(code == 429 and "budget_exceeded" in body for code, body in refused), refused[:3]
    assert all("daily budget exceeded" in body for _, body in refused)
    with psycopg.connect(pg_url) as conn:
        (token_spend,) = conn.execute("SELECT SUM(cost_usd) FROM serve_token_usage").fetchone()
        (calls_spend,) = conn.execute("SELECT SUM(cost_usd) FROM calls").fetchone()
        (held,) = conn.execute("SELECT COUNT(*) FROM serve_inflight").fetchone()
    assert token_spend <= BUDGET_USD + 1e-9
    assert calls_spend <= BUDGET_USD + 1e-9
    assert abs(calls_spend - 0.02 * len(answered)) < 1e-9
    assert held == 0
    print(f"answered {len(answered)}, refused {len(refused)}, spend ${calls_spend:.4f}")
