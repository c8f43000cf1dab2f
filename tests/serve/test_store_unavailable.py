"""A team store out of connections: each request `jarvis serve` cannot get a store
connection for is a 503 the client may retry (Retry-After, and no x-should-retry:
false), whose message does not name the store; the reason is in the server's log.

Measured before: two servers on a default PostgreSQL (max_connections 100) with 120
slow requests in flight answered 22 of them with a 500 that named the store's host,
port and database ("sorry, too many clients already"): every worker thread holds a
store connection of its own.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openai
import pytest

from tests.fake_provider import Behavior, FakeProvider
from tests.pg_server import PgServer
from tests.serve.server import ALPHA_KEY, BETA_KEY, JarvisServer, configure

HI = [{"role": "user", "content": "hi"}]
CLIENTS = 8
ROLE_CONNECTIONS = 4  # the server's planner and three worker threads


@pytest.mark.slow(8)
def test_store_out_of_connections_is_a_retryable_503_that_names_no_store(
    tmp_path: Path, pg_server: PgServer, pg_url: str
) -> None:
    database = pg_url.rsplit("/", 1)[1]
    role = f"few_{database}"
    pg_server._admin(f'CREATE ROLE "{role}" LOGIN')
    pg_server._admin(f'ALTER DATABASE "{database}" OWNER TO "{role}"')
    store = {"JARVIS_STORE_URL": pg_url.replace("postgresql://postgres@", f"postgresql://{role}@")}
    home = tmp_path / "home"
    with (
        FakeProvider(api_key=ALPHA_KEY, models=["fake-chat"]) as alpha,
        FakeProvider(api_key=BETA_KEY, models=["fake-chat"]) as beta,
    ):
        configure(home, alpha, beta, env_extra=store)
        pg_server._admin(f'ALTER ROLE "{role}" CONNECTION LIMIT {ROLE_CONNECTIONS}')
        server = JarvisServer(home, env=store)
        alpha.always(None, Behavior(delay_s=2))

        def one(_: int) -> tuple[int, object, object]:
            c = openai.OpenAI(base_url=server.url, api_key="x", max_retries=0, timeout=60)
            try:
                c.chat.completions.create(model="alpha/fake-chat", messages=HI)
                return 200, None, None
            except openai.APIStatusError as exc:
                return exc.status_code, exc.body, exc.response.headers

        try:
            with ThreadPoolExecutor(CLIENTS) as pool:
                results = list(pool.map(one, range(CLIENTS)))
        finally:
            server.stop()
    refused = [r for r in results if r[0] != 200]
    assert refused and len(refused) < CLIENTS, results
    for status, body, headers in refused:
        assert status == 503 and body["code"] == "store_unavailable", body  # type: ignore[index]
        assert "retry shortly" in body["message"]  # type: ignore[index]
        assert database not in str(body) and str(pg_server.port) not in str(body)
        assert headers["retry-after"] == "1" and "x-should-retry" not in headers  # type: ignore[index]
    assert "jarvis serve: store unavailable: cannot connect to the PostgreSQL store" in (
        server.stderr
    )
    assert "too many connections for role" in server.stderr
    assert "Traceback" not in server.stderr
