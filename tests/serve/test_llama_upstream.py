"""`jarvis serve` in front of a real llama.cpp server (tests/llama_server.py): what the
client gets through jarvis is what it gets from the server itself, byte for byte,
plain and streamed (greedy decoding, so both runs produce the same text); usage
that the server does not report is null, not 0."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from tests.llama_server import LlamaServer
from tests.serve.server import JarvisServer

PROMPT = [{"role": "user", "content": "Name three colours of the rainbow."}]
MAX_TOKENS = 12


@pytest.fixture
def jarvis_over_llama(llama_server: LlamaServer, tmp_path: Path) -> Iterator[JarvisServer]:
    home = tmp_path / "home"
    llama_server.configure(home, "[defaults]\nretries = 0\n")
    server = JarvisServer(home)
    try:
        yield server
    finally:
        server.stop()
        assert "Traceback" not in server.stderr, server.stderr


def test_llama_answers_pass_through_unchanged(
    llama_server: LlamaServer, jarvis_over_llama: JarvisServer
) -> None:
    direct = openai.OpenAI(base_url=llama_server.base_url, api_key="none", max_retries=0)
    served = openai.OpenAI(base_url=jarvis_over_llama.url, api_key="none", max_retries=0)
    ask = {"messages": PROMPT, "max_tokens": MAX_TOKENS, "temperature": 0.0}

    expected = direct.chat.completions.create(model="smollm2", **ask)  # type: ignore[call-overload]
    raw = served.chat.completions.with_raw_response.create(model="llama/smollm2", **ask)
    answer = raw.parse()
    text = expected.choices[0].message.content
    assert text and answer.choices[0].message.content == text
    assert answer.choices[0].finish_reason == expected.choices[0].finish_reason
    assert answer.usage is not None and expected.usage is not None
    assert answer.usage.completion_tokens == expected.usage.completion_tokens
    assert answer.model == "llama/smollm2" and raw.headers["x-jarvis-model"] == "llama/smollm2"

    chunks = list(
        served.chat.completions.create(
            model="llama/smollm2",
            stream=True,
            stream_options={"include_usage": True},
            **ask,
        )
    )
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == text
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == expected.choices[0].finish_reason and set(finishes[:-1]) == {None}
    # llama-cpp-python's streams report no usage: null then, never a made-up 0.
    assert chunks[-1].choices == []
    usage = chunks[-1].usage
    assert usage is None or usage.completion_tokens == expected.usage.completion_tokens


ANSWER_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "boolean"}},
    "required": ["answer"],
}


def test_a_json_schema_through_serve_is_answered_by_llama_in_its_own_dialect(
    jarvis_over_llama: JarvisServer,
) -> None:
    # llama.cpp refuses json_schema; jarvis sends the schema as json_object + schema
    # (core/providers/response_format.py) and the grammar keeps the answer to it.
    served = openai.OpenAI(base_url=jarvis_over_llama.url, api_key="none", max_retries=0)
    answer = served.chat.completions.create(
        model="llama/smollm2",
        messages=[{"role": "user", "content": "Is Paris the capital of France?"}],
        max_tokens=40,
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "verdict", "schema": ANSWER_SCHEMA},
        },
    )
    assert answer.choices[0].finish_reason == "stop"
    assert isinstance(json.loads(answer.choices[0].message.content or "")["answer"], bool)


def test_sampling_fields_reach_llama_through_serve(
    llama_server: LlamaServer, jarvis_over_llama: JarvisServer
) -> None:
    # greedy, so each answer is determined: the penalties change it, and through serve
    # it changes the same way only if they reach the server (serve/params.py forwards
    # them as the client sent them)
    direct = openai.OpenAI(base_url=llama_server.base_url, api_key="none", max_retries=0)
    served = openai.OpenAI(base_url=jarvis_over_llama.url, api_key="none", max_retries=0)
    ask = {
        "messages": [{"role": "user", "content": "List the numbers from one to twenty."}],
        "max_tokens": 40,
        "temperature": 0.0,
    }
    penalised = {**ask, "presence_penalty": 1.5, "frequency_penalty": 1.5, "seed": 3}

    def text(client: openai.OpenAI, model: str, fields: dict[str, object]) -> str:
        got = client.chat.completions.create(model=model, **fields)  # type: ignore[call-overload]
        return str(got.choices[0].message.content)

    plain, changed = text(direct, "smollm2", ask), text(direct, "smollm2", penalised)
    assert plain != changed, plain  # the penalties decide the answer
    assert text(served, "llama/smollm2", penalised) == changed
    assert text(served, "llama/smollm2", ask) == plain
