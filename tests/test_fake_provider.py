"""The loopback fake provider itself: routes, scripting, recording, robustness."""

from __future__ import annotations

import http.client
import json
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.fake_provider import Behavior, FakeProvider


def _request(
    fake: FakeProvider,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    url = urlsplit(fake.base_url)
    conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        conn.request(method, url.path + path, body=payload, headers=all_headers)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def test_lists_models_and_follows_set_models(fake_provider: FakeProvider) -> None:
    status, _, body = _request(fake_provider, "GET", "/models")
    assert status == 200
    assert [m["id"] for m in json.loads(body)["data"]] == ["fake-chat", "fake-embed"]
    fake_provider.set_models(["only-one"])
    _, _, body = _request(fake_provider, "GET", "/models")
    assert [m["id"] for m in json.loads(body)["data"]] == ["only-one"]


def test_scripted_behaviors_apply_in_order_then_default(fake_provider: FakeProvider) -> None:
    fake_provider.script(
        "fake-chat",
        Behavior(status=429, headers={"Retry-After": "3"}),
        Behavior(status=500),
    )
    chat = {"model": "fake-chat", "messages": [{"role": "user", "content": "hi"}]}
    first = _request(fake_provider, "POST", "/chat/completions", chat)
    second = _request(fake_provider, "POST", "/chat/completions", chat)
    third = _request(fake_provider, "POST", "/chat/completions", chat)
    assert first[0] == 429 and first[1]["Retry-After"] == "3"
    assert second[0] == 500
    assert third[0] == 200
    assert json.loads(third[2])["choices"][0]["message"]["content"] == "Hello from fake"


def test_script_for_one_model_does_not_affect_another(fake_provider: FakeProvider) -> None:
    fake_provider.script("fake-chat", Behavior(status=503))
    other = {"model": "other", "messages": [{"role": "user", "content": "hi"}]}
    assert _request(fake_provider, "POST", "/chat/completions", other)[0] == 200
    assert fake_provider.count("/chat/completions", model="other") == 1


def test_always_applies_after_scripts(fake_provider: FakeProvider) -> None:
    fake_provider.always(None, Behavior(status=502))
    fake_provider.script(None, Behavior(status=200))
    body = {"model": "x", "prompt": "p"}
    assert _request(fake_provider, "POST", "/completions", body)[0] == 200
    assert _request(fake_provider, "POST", "/completions", body)[0] == 502
    assert _request(fake_provider, "POST", "/completions", body)[0] == 502


def test_wrong_bearer_token_gets_401_and_echo_auth_repeats_it() -> None:
    with FakeProvider(api_key="sk-right-000000") as fake:
        fake.script(None, Behavior(echo_auth=True))
        status, _, body = _request(
            fake, "GET", "/models", headers={"Authorization": "Bearer sk-wrong-111111"}
        )
        assert status == 401
        assert "sk-wrong-111111" in body.decode()
        ok = _request(fake, "GET", "/models", headers={"Authorization": "Bearer sk-right-000000"})
        assert ok[0] == 200


def test_records_path_model_headers_and_body(fake_provider: FakeProvider) -> None:
    body = {"model": "fake-embed", "input": ["a"]}
    _request(fake_provider, "POST", "/embeddings", body, headers={"X-Test": "yes"})
    rec = fake_provider.requests[-1]
    assert rec.path == "/v1/embeddings"
    assert rec.method == "POST"
    assert rec.model == "fake-embed"
    assert rec.headers["X-Test"] == "yes"
    assert rec.body == body


def test_embeddings_are_deterministic_per_text(fake_provider: FakeProvider) -> None:
    body = {"model": "fake-embed", "input": ["alpha", "beta", "alpha"]}
    vectors = [
        d["embedding"]
        for d in json.loads(_request(fake_provider, "POST", "/embeddings", body)[2])["data"]
    ]
    assert vectors[0] == vectors[2] != vectors[1]


def test_malformed_body_is_not_json(fake_provider: FakeProvider) -> None:
    fake_provider.script(None, Behavior(malformed=True))
    _, _, body = _request(fake_provider, "POST", "/completions", {"model": "m", "prompt": "p"})
    with pytest.raises(ValueError):
        json.loads(body)


def test_stream_sends_sse_deltas_then_done(fake_provider: FakeProvider) -> None:
    fake_provider.script(None, Behavior(chunks=["a", "b", "c"]))
    body = {
        "model": "fake-chat",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    status, headers, raw = _request(fake_provider, "POST", "/chat/completions", body)
    assert status == 200 and headers["Content-Type"] == "text/event-stream"
    events = [e[len("data: ") :] for e in raw.decode().split("\n\n") if e]
    assert events[-1] == "[DONE]"
    parsed = [json.loads(e) for e in events[:-1]]
    deltas = [c["delta"].get("content") for p in parsed for c in p["choices"]]
    assert [d for d in deltas if d] == ["a", "b", "c"]
    assert parsed[-1]["usage"]["total_tokens"] == 15


def test_dropped_stream_is_an_incomplete_body(fake_provider: FakeProvider) -> None:
    fake_provider.script(None, Behavior(chunks=["a", "b", "c"], drop_after_chunks=2))
    body = {"model": "m", "messages": [], "stream": True}
    with pytest.raises(http.client.IncompleteRead):
        _request(fake_provider, "POST", "/chat/completions", body)


def test_delay_before_first_byte(fake_provider: FakeProvider) -> None:
    fake_provider.script(None, Behavior(delay_s=0.3))
    started = time.monotonic()
    _request(fake_provider, "GET", "/models")
    assert time.monotonic() - started >= 0.3


def test_serves_sixteen_concurrent_clients(fake_provider: FakeProvider) -> None:
    fake_provider.always(None, Behavior(delay_s=0.2))
    results: list[int] = []
    lock = threading.Lock()

    def one() -> None:
        status = _request(fake_provider, "POST", "/completions", {"model": "m", "prompt": "p"})[0]
        with lock:
            results.append(status)

    threads = [threading.Thread(target=one) for _ in range(16)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert results == [200] * 16
    assert time.monotonic() - started < 2.0  # served in parallel, not 16 x 0.2 s
    assert fake_provider.count("/completions") == 16


def test_unknown_route_is_404(fake_provider: FakeProvider) -> None:
    assert _request(fake_provider, "POST", "/nope", {})[0] == 404


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ({"response_format": {"type": "json_object"}}, "response_format must be"),
        (
            {"response_format": {"type": "json_schema", "json_schema": {"schema": {}}}},
            "json_schema needs a name",
        ),
        ({"tools": [{"function": {"name": "f"}}]}, "each tool needs type function"),
        ({"tools": [{"type": "function", "function": {}}]}, "each tool needs function.name"),
        ({"tool_choice": "auto"}, "tool_choice without tools"),
        (
            {
                "tools": [{"type": "function", "function": {"name": "f"}}],
                "tool_choice": {"type": "function", "function": {"name": "g"}},
            },
            "tool_choice names no tool",
        ),
    ],
)
def test_malformed_structured_fields_get_400(
    fake_provider: FakeProvider, extra: dict[str, Any], problem: str
) -> None:
    body = {"model": "fake-chat", "messages": [{"role": "user", "content": "x"}], **extra}
    status, _, payload = _request(fake_provider, "POST", "/chat/completions", body)
    assert status == 400
    assert json.loads(payload)["error"]["message"].startswith(f"fake: {problem}")


def test_schema_answers_follow_the_sent_schema(fake_provider: FakeProvider) -> None:
    schema = {
        "type": "object",
        "properties": {"n": {"type": "integer"}, "s": {"type": "string"}},
        "required": ["n", "s"],
    }
    fmt = {"type": "json_schema", "json_schema": {"name": "a", "schema": schema, "strict": True}}
    body = {"model": "fake-chat", "messages": [], "response_format": fmt}
    fake_provider.script(None, Behavior(schema_answer="valid"), Behavior(schema_answer="invalid"))
    answers = []
    for _ in range(2):
        status, _, payload = _request(fake_provider, "POST", "/chat/completions", body)
        assert status == 200
        answers.append(json.loads(json.loads(payload)["choices"][0]["message"]["content"]))
    assert answers == [{"n": 7, "s": "text"}, {"n": "not the right type", "s": "text"}]


def _parts_request(fake: FakeProvider, *parts: dict[str, Any]) -> tuple[int, Any]:
    body = {"model": "fake-chat", "messages": [{"role": "user", "content": list(parts)}]}
    status, _, raw = _request(fake, "POST", "/chat/completions", body)
    return status, json.loads(raw)


def test_content_parts_are_checked_and_described(fake_provider: FakeProvider) -> None:
    import base64

    png = base64.b64encode(b"\x89PNG\r\n\x1a\n1234").decode()
    text = {"type": "text", "text": "what?"}
    status, body = _parts_request(
        fake_provider,
        text,
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}},
    )
    assert status == 200
    assert body["choices"][0]["message"]["content"] == "I see an image (image/png, 12 bytes)"
    # A data URL whose bytes are not the type it claims is rejected, as a real API would.
    status, body = _parts_request(
        fake_provider,
        text,
        {"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{png}"}},
    )
    assert status == 400 and "image data URL" in body["error"]["message"]
    status, body = _parts_request(
        fake_provider,
        text,
        {"type": "file", "file": {"file_data": f"data:application/pdf;base64,{png}"}},
    )
    assert status == 400 and "PDF data URL" in body["error"]["message"]
    status, body = _parts_request(fake_provider, text, {"type": "input_audio"})
    assert status == 400 and "unsupported content part 'input_audio'" in body["error"]["message"]
