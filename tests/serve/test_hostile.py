"""Hostile clients: each gets its status (or is cut off by a timeout) while a health
check on another connection stays fast; a client that disconnects mid-stream cancels
the upstream request, recorded as interrupted, and the model's reliability is unchanged."""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.fake_provider import Behavior, FakeProvider
from tests.serve.server import ALPHA_KEY, BETA_KEY, JarvisServer, configure
from tests.store_access import query

# One worker runs this module (--dist loadgroup): its module-scoped fixture starts once.
pytestmark = pytest.mark.xdist_group("serve_hostile")

TIMEOUTS = {"JARVIS_SERVE_BODY_TIMEOUT_S": "2", "JARVIS_SERVE_SEND_TIMEOUT_S": "2"}


class Hostile:
    def __init__(self, server: JarvisServer, alpha: FakeProvider, home: Path) -> None:
        self.server, self.alpha, self.home = server, alpha, home
        host, port = server.root.removeprefix("http://").split(":")
        self.addr = (host, int(port))

    def raw(self, head: str, body: bytes = b"", rcvbuf: int | None = None) -> socket.socket:
        sock = socket.socket()
        if rcvbuf is not None:  # before connect, so the TCP window stays small
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.settimeout(20)
        sock.connect(self.addr)
        sock.sendall(head.encode() + b"\r\n" + body)
        return sock

    def health_ms(self) -> float:
        t0 = time.perf_counter()
        with urllib.request.urlopen(self.server.root + "/healthz", timeout=5) as r:
            assert r.status == 200
        return (time.perf_counter() - t0) * 1000

    def post(self, body: bytes) -> httpx.Response:
        return httpx.post(
            self.server.url + "/chat/completions",
            content=body,
            timeout=30,
            headers={"content-type": "application/json"},
        )


def read_status(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(data.split(b" ", 2)[1]), body


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    home = tmp_path_factory.mktemp("hostile") / "home"
    with (
        FakeProvider(api_key=ALPHA_KEY, models=["fake-chat"]) as alpha,
        FakeProvider(api_key=BETA_KEY, models=["fake-chat"]) as beta,
    ):
        configure(home, alpha, beta)
        server = JarvisServer(home, env=TIMEOUTS)
        try:
            yield Hostile(server, alpha, home)
        finally:
            server.stop()
            assert "Traceback" not in server.stderr, server.stderr


def chat(**extra: object) -> bytes:
    return json.dumps(
        {"model": "alpha/fake-chat", "messages": [{"role": "user", "content": "hi"}], **extra}
    ).encode()


def test_bad_bodies_get_400_with_openai_errors(hostile: Hostile) -> None:
    cases = {
        b'{"model": "alpha/fake-chat", "messages": [': "invalid_json",
        b'{"model": "alpha/fake-chat", "messages": "\xff\xfe"}': "invalid_utf8",
        b"[1, 2]": "invalid_json",
        json.dumps(
            {"model": "alpha/fake-chat", "messages": [{"role": "user", "content": "x"}] * 10_000}
        ).encode(): "too_many_messages",
    }
    for body, code in cases.items():
        answer = hostile.post(body)
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["code"] == code
        assert set(answer.json()["error"]) == {"message", "type", "param", "code"}
    unknown = hostile.post(chat(frobnicate={"x": 1}, user="u1", seed=3))
    assert unknown.status_code == 200
    assert "frobnicate" not in json.dumps(hostile.alpha.requests[-1].body)


def test_a_50_mb_body_is_413_and_others_are_served(hostile: Hostile) -> None:
    declared = hostile.raw(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {50 * 1024 * 1024}\r\n",
        b"{" * 65536,
    )
    status, data = read_status(declared)
    assert status == 413 and b"request_too_large" in data
    declared.close()
    # Chunked, no length: cut off once past the limit.
    big = b'{"model": "alpha/fake-chat", "messages": [], "x": "' + b"a" * (50 * 1024 * 1024) + b'"}'
    answer = hostile.post(big)
    assert answer.status_code == 413
    assert hostile.health_ms() < 500


def test_slow_drip_and_a_client_that_never_reads_leave_health_fast(hostile: Hostile) -> None:
    drip = hostile.raw(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n", b"{"
    )
    # A stream of ~16 MB that this client never reads.
    hostile.alpha.always(None, Behavior(chunks=["x" * 16384] * 1000))
    body = chat(stream=True)
    stuck = hostile.raw(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n",
        body,
        rcvbuf=4096,
    )
    worst = max(hostile.health_ms() for _ in range(20))
    assert worst < 500
    drip.settimeout(10)
    status, data = read_status(drip)  # cut off after 2 s (JARVIS_SERVE_BODY_TIMEOUT_S)
    assert status == 408 and b"request_timeout" in data
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # the stalled stream is given up and recorded
        rows = query(
            hostile.home, "SELECT error_class FROM calls WHERE error_class = 'interrupted'"
        )
        if rows:
            break
        time.sleep(0.2)
    assert rows, query(hostile.home, "SELECT model_id, ok, error_class, latency_ms FROM calls")
    stuck.close()
    drip.close()
    hostile.alpha.reset()
    assert hostile.health_ms() < 500


def test_disconnect_mid_stream_cancels_upstream_within_a_second(hostile: Hostile) -> None:
    from jarvis_cli.core.context import Context
    from jarvis_cli.core.selection.metrics import PerformanceMonitor

    def reliability() -> tuple[int, int]:
        """Calls and successes of alpha/fake-chat as selection measures them."""
        ctx = Context(env={"JARVIS_HOME": str(hostile.home), "JARVIS_MASTER_KEY": "x"})
        try:
            found = PerformanceMonitor.for_context(ctx).aggregates(["alpha/fake-chat"])
        finally:
            ctx.close()
        m = found.get("alpha/fake-chat")
        return (m.calls, m.successes) if m else (0, 0)

    before = reliability()
    hostile.alpha.always(None, Behavior(chunks=["tick "] * 200, chunk_delay_s=0.3))
    with httpx.stream(
        "POST",
        hostile.server.url + "/chat/completions",
        content=chat(stream=True),
        timeout=30,
        headers={"content-type": "application/json"},
    ) as response:
        for line in response.iter_lines():
            if "tick" in line:
                break
        closed_at = time.time()
    deadline = time.monotonic() + 10
    rows: list[dict[str, object]] = []
    while time.monotonic() < deadline and not rows:
        rows = query(
            hostile.home,
            "SELECT at, latency_ms FROM calls WHERE error_class = 'interrupted' AND at > ?",
            (closed_at - 5,),
        )
        time.sleep(0.1)
    assert rows, "no interrupted attempt recorded"
    ended = float(rows[-1]["at"]) + float(rows[-1]["latency_ms"] or 0) / 1000  # type: ignore[arg-type]
    assert ended - closed_at < 1.0
    assert reliability() == before
    hostile.alpha.reset()
