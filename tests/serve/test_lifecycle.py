"""SIGTERM drains: requests in flight finish and are recorded, then the server exits;
`/metrics` is Prometheus text; `/healthz` needs no token."""

from __future__ import annotations

import signal
import threading
import time
import urllib.request
from pathlib import Path

import openai

from tests.fake_provider import Behavior, FakeProvider
from tests.serve.server import ALPHA_KEY, BETA_KEY, JarvisServer, configure
from tests.store_access import query

HI = [{"role": "user", "content": "hi"}]


def test_sigterm_drains_requests_in_flight_then_exits(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with (
        FakeProvider(api_key=ALPHA_KEY, models=["fake-chat"]) as alpha,
        FakeProvider(api_key=BETA_KEY, models=["fake-chat"]) as beta,
    ):
        configure(home, alpha, beta)
        server = JarvisServer(home)
        c = openai.OpenAI(base_url=server.url, api_key="unused", max_retries=0)
        c.chat.completions.create(model="alpha/fake-chat", messages=HI)
        metrics = urllib.request.urlopen(server.root + "/metrics", timeout=10).read().decode()
        assert "# TYPE jarvis_serve_requests_total counter" in metrics
        assert (
            'jarvis_serve_requests_total{endpoint="chat",model="alpha/fake-chat",outcome="ok"} 1'
            in metrics
        )
        assert (
            "jarvis_serve_latency_seconds_bucket" in metrics
            and "jarvis_serve_in_flight 0" in metrics
        )

        alpha.always(None, Behavior(delay_s=2.0, text="slow answer"))
        answers: list[str] = []
        worker = threading.Thread(
            target=lambda: answers.append(
                c.chat.completions.create(model="alpha/fake-chat", messages=HI)
                .choices[0]
                .message.content
                or ""
            )
        )
        worker.start()
        time.sleep(0.8)
        t0 = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        worker.join(30)
        code = server.stop()
        assert answers == ["slow answer"]
        assert time.monotonic() - t0 < 30
        assert code in (0, -signal.SIGTERM), server.stderr
        assert "Traceback" not in server.stderr
        rows = query(home, "SELECT ok FROM calls ORDER BY id")
        assert [r["ok"] for r in rows] == [1, 1]
