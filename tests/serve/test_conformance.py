"""What an OpenAI client expects of `jarvis serve` where it used to differ: every
failure an OpenAI-shaped JSON error (never uvicorn's plain-text 500), the request's
id on every answer (streamed ones too, as OpenAI's `x-request-id`), and request
fields read as OpenAI reads them. Through the official `openai` SDK over HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2 as httpx
import openai
import pytest

from tests.conftest import run_jarvis
from tests.fake_provider import Behavior, FakeProvider
from tests.serve.conftest import Served
from tests.serve.server import ALPHA_KEY, BETA_KEY, JarvisServer, configure, serve_env
from tests.store_access import query

# One worker runs this module (--dist loadgroup): its module-scoped fixture starts once.
pytestmark = pytest.mark.xdist_group("serve_conformance")

HI = [{"role": "user", "content": "hi"}]
MODEL = "alpha/fake-chat"


def client(srv: Served) -> openai.OpenAI:
    return openai.OpenAI(base_url=srv.url, api_key="unused", max_retries=0)


def refused(call: Any) -> openai.APIStatusError:
    with pytest.raises(openai.APIStatusError) as err:
        call()
    body = err.value.body
    assert isinstance(body, dict) and set(body) == {"message", "type", "param", "code"}, body
    return err.value


@pytest.mark.parametrize(
    ("extra", "param", "said"),
    [
        ({"tools": [5]}, "tools", "each tool needs type 'function'"),
        ({"tools": ["get_weather"]}, "tools", "each tool needs type 'function'"),
        (
            {"messages": [{"role": ["user"], "content": "hi"}]},
            "messages",
            "messages[0]: unknown role",
        ),
        (
            {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "x", "schema": {"type": "bogus"}},
                }
            },
            "response_format",
            "response_format is not a valid JSON Schema",
        ),
        ({"max_completion_tokens": 0, "max_tokens": 5}, "max_completion_tokens", "at least 1"),
    ],
)
def test_malformed_fields_are_400s_naming_the_field(
    srv: Served, extra: dict[str, Any], param: str, said: str
) -> None:
    body = {"model": MODEL, "messages": HI, **extra}
    error = refused(lambda: client(srv).chat.completions.create(**body))
    assert error.status_code == 400 and isinstance(error, openai.BadRequestError)
    assert error.body["param"] == param  # type: ignore[index]
    assert said in error.body["message"]  # type: ignore[index]
    assert error.response.headers["content-type"] == "application/json"
    assert srv.alpha.count("/chat/completions") == 0  # refused before any provider call
    assert "Traceback" not in srv.server.stderr


def test_every_answer_carries_its_request_id(srv: Served) -> None:
    c = client(srv)
    raw = c.chat.completions.with_raw_response.create(model=MODEL, messages=HI)
    plain = raw.parse()
    rid = raw.headers["x-jarvis-request-id"]
    assert raw.headers["x-request-id"] == rid and plain.id == f"chatcmpl-{rid}"
    assert plain._request_id == rid  # what the SDK reads from x-request-id

    # A streamed answer: the headers go out before the answer is known, with the id the
    # attempts are recorded under, and every chunk's id is that id.
    with c.chat.completions.with_streaming_response.create(
        model=MODEL, messages=HI, stream=True
    ) as streamed:
        rid = streamed.headers.get("x-jarvis-request-id")
        assert rid and streamed.headers.get("x-request-id") == rid
        chunks = list(streamed.parse())
    assert "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices) == (
        "Hello from fake"
    )
    assert {ch.id for ch in chunks} == {f"chatcmpl-{rid}"}
    recorded = query(srv.home, "SELECT ok FROM calls WHERE request_id = ?", (rid,))
    assert [r["ok"] for r in recorded] == [1]

    # A failed request: its id names the attempts `jarvis log show` has.
    srv.alpha.always(None, Behavior(status=503, error_message="down"))
    srv.beta.always(None, Behavior(status=503, error_message="down"))
    error = refused(lambda: c.chat.completions.create(model=MODEL, messages=HI))
    assert error.status_code == 503
    rid = error.response.headers["x-jarvis-request-id"]
    assert error.request_id == rid
    recorded = query(srv.home, "SELECT ok FROM calls WHERE request_id = ?", (rid,))
    assert recorded and all(r["ok"] == 0 for r in recorded)


@pytest.mark.parametrize("header", ["x-jarvis-max-cost", "x-jarvis-timeout"])
def test_steering_headers_must_be_finite_numbers(srv: Served, header: str) -> None:
    for value in ("nan", "inf", "cheap"):
        error = refused(
            lambda value=value: client(srv).chat.completions.create(
                model=MODEL, messages=HI, extra_headers={header: value}
            )
        )
        assert error.status_code == 400 and error.body["param"] == header  # type: ignore[index]
        assert f"{header} must be a number" in error.body["message"]  # type: ignore[index]
    assert srv.alpha.count("/chat/completions") == 0


def test_wrong_method_is_405_with_allow_and_unknown_path_404(srv: Served) -> None:
    wrong = httpx.get(srv.url + "/chat/completions", timeout=10)
    assert wrong.status_code == 405 and wrong.headers["allow"] == "POST"
    assert wrong.json()["error"]["code"] == "method_not_allowed"
    missing = httpx.get(srv.url + "/assistants", timeout=10)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert "allow" not in missing.headers


def test_usage_the_provider_did_not_report_is_null_not_zero(srv: Served) -> None:
    srv.alpha.always(None, Behavior(stream_usage=False))
    chunks = list(
        client(srv).chat.completions.create(
            model=MODEL, messages=HI, stream=True, stream_options={"include_usage": True}
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == (
        "Hello from fake"
    )
    assert chunks[-1].choices == [] and chunks[-1].usage is None
    srv.alpha.reset()
    reported = list(
        client(srv).chat.completions.create(
            model=MODEL, messages=HI, stream=True, stream_options={"include_usage": True}
        )
    )
    assert reported[-1].usage is not None and reported[-1].usage.total_tokens == 15


REACT = ["Thought: look it up\nObs", "ervation: made-up result\n", "Final Answer: 42"]


def test_stop_sequences_cut_the_answer_as_openai_does(srv: Served) -> None:
    # A ReAct agent stops the model at "Observation:" to run the tool itself.
    srv.alpha.always(None, Behavior(text="".join(REACT), chunks=REACT, finish_reason="length"))
    c = client(srv)
    stop = ["\nObservation:", "never"]
    plain = c.chat.completions.create(model=MODEL, messages=HI, stop=stop)
    assert plain.choices[0].message.content == "Thought: look it up"
    assert plain.choices[0].finish_reason == "stop"
    chunks = list(c.chat.completions.create(model=MODEL, messages=HI, stop=stop, stream=True))
    shown = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert shown == "Thought: look it up"
    assert [ch.choices[0].finish_reason for ch in chunks if ch.choices][-1] == "stop"
    legacy = c.completions.create(model=MODEL, prompt="q", stop="\n")
    assert legacy.choices[0].text == "Thought: look it up"
    streamed = c.completions.create(model=MODEL, prompt="q", stop="\n", stream=True)
    assert "".join(ch.choices[0].text for ch in streamed) == "Thought: look it up"

    # No stop sequence in the text: all of it, chunked or not, and the model's reason.
    chunks = list(c.chat.completions.create(model=MODEL, messages=HI, stop="##", stream=True))
    assert "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices) == "".join(
        REACT
    )
    assert [ch.choices[0].finish_reason for ch in chunks if ch.choices][-1] == "length"

    error = refused(
        lambda: c.chat.completions.create(model=MODEL, messages=HI, extra_body={"stop": [1]})
    )
    assert error.status_code == 400 and error.body["param"] == "stop"  # type: ignore[index]


def test_models_retrieve_answers_for_listed_models_only(srv: Served) -> None:
    c = client(srv)
    for name in ("alpha/fake-chat", "jarvis/auto"):
        found = c.models.retrieve(name)
        assert (found.id, found.object) == (name, "model")
        assert found.owned_by == ("jarvis" if name == "jarvis/auto" else "alpha")
    listed = {m.id: m.owned_by for m in c.models.list()}
    assert listed["alpha/fake-chat"] == "alpha"
    without_v1 = httpx.get(srv.server.root + "/models/beta/fake-chat", timeout=10)
    assert without_v1.status_code == 200 and without_v1.json()["id"] == "beta/fake-chat"
    error = refused(lambda: c.models.retrieve("alpha/no-such-model"))
    assert error.status_code == 404 and error.body["code"] == "model_not_found"  # type: ignore[index]


def test_sdk_does_not_repeat_what_jarvis_already_retried_and_fell_back_on(srv: Served) -> None:
    sdk = openai.OpenAI(base_url=srv.url, api_key="unused")  # its default: 2 retries
    srv.alpha.always(None, Behavior(status=503, error_message="down"))
    srv.beta.always(None, Behavior(status=503, error_message="down"))
    error = refused(lambda: sdk.chat.completions.create(model=MODEL, messages=HI))
    assert error.status_code == 503 and error.response.headers["x-should-retry"] == "false"
    # One request through the chain (alpha, then beta), not three.
    assert srv.alpha.count("/chat/completions") + srv.beta.count("/chat/completions") == 2
    srv.alpha.reset()
    srv.beta.reset()

    # Invalid output is paid for: the SDK must not buy it twice more.
    srv.alpha.always(None, Behavior(text="not json"))
    srv.beta.always(None, Behavior(text="not json"))
    error = refused(
        lambda: sdk.chat.completions.create(
            model=MODEL, messages=HI, response_format={"type": "json_object"}
        )
    )
    assert error.status_code == 502 and error.body["code"] == "bad_output"  # type: ignore[index]
    assert error.response.headers["x-should-retry"] == "false"
    paid = int(error.response.headers["x-jarvis-attempts"])
    assert srv.alpha.count("/chat/completions") + srv.beta.count("/chat/completions") == paid


def test_embedding_token_ids_are_refused_with_the_way_out(srv: Served) -> None:
    # LangChain's OpenAIEmbeddings sends tiktoken ids unless told not to.
    for ids in ([[9906, 1917]], [9906, 1917]):
        error = refused(
            lambda ids=ids: client(srv).embeddings.create(model="alpha/fake-embed", input=ids)
        )
        assert error.status_code == 400 and error.body["code"] == "token_ids_unsupported"  # type: ignore[index]
        assert "check_embedding_ctx_length=False" in error.body["message"]  # type: ignore[index]
    assert srv.alpha.count("/embeddings") == 0
    texts = client(srv).embeddings.create(model="alpha/fake-embed", input=["a", "b"])
    assert [d.index for d in texts.data] == [0, 1]


def test_metrics_count_a_streamed_completion_under_its_endpoint(srv: Served) -> None:
    import re

    def counts() -> dict[str, int]:
        text = httpx.get(srv.url.removesuffix("/v1") + "/metrics", timeout=10).text
        found = re.findall(
            r'jarvis_serve_requests_total\{endpoint="(\w+)",model="alpha/fake-chat",'
            r'outcome="ok"\} (\d+)',
            text,
        )
        return {endpoint: int(n) for endpoint, n in found}

    before = counts()
    streamed = client(srv).completions.create(model=MODEL, prompt="q", stream=True)
    assert "".join(c.choices[0].text for c in streamed) == "Hello from fake"
    after = counts()
    assert after.get("completion", 0) == before.get("completion", 0) + 1
    assert after.get("chat", 0) == before.get("chat", 0)


def test_client_token_and_provider_keys_are_nowhere_after_any_request(tmp_path: Path) -> None:
    """Canaries: after answers, streams, refusals, upstream errors that echo the key
    and a client that hangs up, neither the client's token nor a provider key is in
    the server's output, any file of its home (store, WAL, content log) or an answer."""
    home = tmp_path / "home"
    with (
        FakeProvider(api_key=ALPHA_KEY, models=["fake-chat"]) as alpha,
        FakeProvider(api_key=BETA_KEY, models=["fake-chat"]) as beta,
    ):
        configure(home, alpha, beta)
        added = run_jarvis("serve", "tokens", "add", "canary", env=serve_env(home))
        assert added.returncode == 0, added.stderr
        token = added.stdout.strip()
        server = JarvisServer(home)
        seen: list[str] = []
        try:
            c = openai.OpenAI(base_url=server.url, api_key=token, max_retries=0)
            seen.append(c.chat.completions.create(model=MODEL, messages=HI).model_dump_json())
            seen += [ch.model_dump_json() for ch in c.chat.completions.create(
                model=MODEL, messages=HI, stream=True
            )]  # fmt: skip
            for call in (
                lambda: openai.OpenAI(
                    base_url=server.url, api_key=token[:-1] + "x", max_retries=0
                ).models.list(),
                lambda: c.chat.completions.create(
                    model=MODEL, messages=HI, extra_body={"tools": [5]}
                ),
                lambda: c.chat.completions.create(model="nope/none", messages=HI),
            ):
                error = refused(call)
                seen.append(str(error.body) + str(error.response.headers))
            alpha.always(None, Behavior(status=500, echo_auth=True))
            beta.always(None, Behavior(status=503, echo_auth=True))
            error = refused(lambda: c.chat.completions.create(model=MODEL, messages=HI))
            seen.append(str(error.body) + str(error.response.headers))
            alpha.always(None, Behavior(chunks=["tick "] * 50, chunk_delay_s=0.1))
            with httpx.stream(
                "POST",
                server.url + "/chat/completions",
                json={"model": MODEL, "messages": HI, "stream": True},
                headers={"authorization": f"Bearer {token}"},
                timeout=30,
            ) as hung_up:
                next(hung_up.iter_lines())
        finally:
            server.stop()
        assert "Traceback" not in server.stderr, server.stderr
        assert all(token not in r.headers.get("authorization", "") for r in alpha.requests)
    files = [f.read_bytes() for f in home.rglob("*") if f.is_file()]
    assert any(b"Hello from fake" in data for data in files)  # the content log was scanned
    for secret in (token, ALPHA_KEY, BETA_KEY):
        assert secret not in server.stderr and secret not in "".join(seen)
        assert not any(secret.encode() in data for data in files), secret[:8]


def test_a_stream_ends_for_the_client_at_its_stop_sequence(srv: Served) -> None:
    import time

    # Upstream goes on for ~6 s after the stop sequence; the client is done at once,
    # and the attempt is still recorded as the answer it was (not interrupted).
    chunks = ["Thought: look\nObservation:", *(["more "] * 30)]
    srv.alpha.always(None, Behavior(text="".join(chunks), chunks=chunks, chunk_delay_s=0.2))
    t0 = time.monotonic()
    with client(srv).chat.completions.with_streaming_response.create(
        model=MODEL, messages=HI, stop=["\nObservation:"], stream=True
    ) as streamed:
        rid = streamed.headers["x-jarvis-request-id"]
        got = list(streamed.parse())
    took = time.monotonic() - t0
    assert "".join(c.choices[0].delta.content or "" for c in got if c.choices) == "Thought: look"
    assert [c.choices[0].finish_reason for c in got if c.choices][-1] == "stop"
    assert took < 3.0, took
    deadline = time.monotonic() + 20
    rows: list[Any] = []
    while not rows and time.monotonic() < deadline:
        rows = query(srv.home, "SELECT ok, error_class FROM calls WHERE request_id = ?", (rid,))
        time.sleep(0.2)
    assert [(r["ok"], r["error_class"]) for r in rows] == [(1, None)]
