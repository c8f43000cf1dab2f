"""`jarvis serve` chat, completions and embeddings through the official `openai` SDK."""

from __future__ import annotations

import asyncio
import base64
import json

import openai
import pytest

from tests.fake_provider import Behavior
from tests.serve.conftest import Served
from tests.serve.server import ALPHA_KEY, BETA_KEY

# One worker runs this module (--dist loadgroup): its module-scoped fixture starts once.
pytestmark = pytest.mark.xdist_group("serve_chat")

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000005000157a8e1b60000000049454e44ae426082"
)
HI = [{"role": "user", "content": "hi"}]


def client(srv: Served) -> openai.OpenAI:
    return openai.OpenAI(base_url=srv.url, api_key="unused", max_retries=0)


def test_models_lists_usable_models_and_routed_names(srv: Served) -> None:
    ids = [m.id for m in client(srv).models.list()]
    assert ids[0] == "jarvis/auto"
    for name in (
        "jarvis/quality",
        "jarvis/balanced",
        "jarvis/cost",
        "jarvis/performance",
        "jarvis/reliability",
        "alpha/fake-chat",
        "beta/fake-chat",
        "alpha/fake-embed",
    ):
        assert name in ids


def test_plain_chat_answers_with_headers(srv: Served) -> None:
    raw = client(srv).chat.completions.with_raw_response.create(
        model="alpha/fake-chat", messages=HI
    )
    answer = raw.parse()
    assert answer.choices[0].message.content == "Hello from fake"
    assert answer.choices[0].finish_reason == "stop"
    assert answer.model == "alpha/fake-chat"
    assert answer.usage is not None and answer.usage.total_tokens == 15
    assert raw.headers["x-jarvis-model"] == "alpha/fake-chat"
    assert raw.headers["x-jarvis-attempts"] == "1"
    # 10 input tokens at $1000/M + 5 output at $2000/M
    assert float(raw.headers["x-jarvis-cost-usd"]) == pytest.approx(0.02)
    assert float(raw.headers["x-jarvis-overhead-ms"]) >= 0
    sent = srv.alpha.requests[-1]
    assert sent.headers["authorization"] == f"Bearer {ALPHA_KEY}"  # the vault's key, not ours


def test_routed_name_selects_and_developer_role_is_mapped(srv: Served) -> None:
    answer = client(srv).chat.completions.create(
        model="jarvis/cost",
        messages=[{"role": "developer", "content": "be brief"}, *HI],
        max_completion_tokens=7,
    )
    assert answer.choices[0].message.content == "Hello from fake"
    assert answer.model in ("alpha/fake-chat", "beta/fake-chat")
    sent = (srv.alpha.requests + srv.beta.requests)[-1].body
    assert sent["messages"][0] == {"role": "system", "content": "be brief"}
    assert sent["max_tokens"] == 7


def test_stream_with_include_usage(srv: Served) -> None:
    chunks = list(
        client(srv).chat.completions.create(
            model="alpha/fake-chat",
            messages=HI,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello from fake"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 5
    assert all(c.usage is None for c in chunks[:-1])


def test_async_client_plain_and_streamed(srv: Served) -> None:
    async def main() -> tuple[str, str]:
        c = openai.AsyncOpenAI(base_url=srv.url, api_key="unused", max_retries=0)
        plain = await c.chat.completions.create(model="alpha/fake-chat", messages=HI)
        parts = []
        async for chunk in await c.chat.completions.create(
            model="alpha/fake-chat", messages=HI, stream=True
        ):
            parts.append(chunk.choices[0].delta.content or "" if chunk.choices else "")
        await c.close()
        return plain.choices[0].message.content or "", "".join(parts)

    assert asyncio.run(main()) == ("Hello from fake", "Hello from fake")


TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


def test_tool_calls_plain_and_streamed(srv: Served) -> None:
    calls = [{"name": "get_weather", "arguments": '{"city": "Oslo"}'}]
    srv.alpha.always(None, Behavior(tool_calls=calls, finish_reason="tool_calls", text=""))
    plain = client(srv).chat.completions.create(
        model="alpha/fake-chat", messages=HI, tools=TOOLS, tool_choice="auto"
    )
    call = plain.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {
        "city": "Oslo"
    }
    assert plain.choices[0].finish_reason == "tool_calls"
    with client(srv).chat.completions.stream(
        model="alpha/fake-chat", messages=HI, tools=TOOLS
    ) as stream:
        final = stream.get_final_completion()
    streamed = final.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert streamed.function.name == "get_weather"
    assert json.loads(streamed.function.arguments) == {"city": "Oslo"}
    # The tool result goes back upstream with its tool_call_id.
    srv.alpha.reset()
    client(srv).chat.completions.create(
        model="alpha/fake-chat",
        tools=TOOLS,
        messages=[
            *HI,
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": "{}"},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        ],
    )
    sent = srv.alpha.requests[-1].body["messages"]
    assert sent[1]["tool_calls"][0]["id"] == "call_1" and sent[1]["content"] == ""
    assert sent[2] == {"role": "tool", "content": "sunny", "tool_call_id": "call_1"}


def test_image_parts_reach_the_provider(srv: Served) -> None:
    url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    answer = client(srv).chat.completions.create(
        model="jarvis/auto",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is this?"},
                    {"type": "image_url", "image_url": {"url": url}},
                ],
            }
        ],
    )
    assert "image/png" in (answer.choices[0].message.content or "")


def test_json_schema_falls_back_on_invalid_output(srv: Served) -> None:
    srv.alpha.always(None, Behavior(schema_answer="invalid"))
    srv.beta.always(None, Behavior(schema_answer="valid"))
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "required": ["name"],
        "additionalProperties": False,
    }
    raw = client(srv).chat.completions.with_raw_response.create(
        model="alpha/fake-chat",
        messages=HI,
        response_format={"type": "json_schema", "json_schema": {"name": "p", "schema": schema}},
    )
    answer = raw.parse()
    assert answer.model == "beta/fake-chat"
    assert isinstance(json.loads(answer.choices[0].message.content or "")["name"], str)
    assert raw.headers["x-jarvis-attempts"] == "2"


def test_json_object_is_checked(srv: Served) -> None:
    srv.alpha.always(None, Behavior(text='{"ok": true}'))
    answer = client(srv).chat.completions.create(
        model="alpha/fake-chat", messages=HI, response_format={"type": "json_object"}
    )
    assert json.loads(answer.choices[0].message.content or "") == {"ok": True}


def test_fallback_after_503_gives_one_clean_answer(srv: Served) -> None:
    srv.alpha.always(None, Behavior(status=503, error_message="down"))
    srv.beta.always(None, Behavior(text="from beta"))
    for stream in (False, True):
        if stream:
            chunks = client(srv).chat.completions.create(
                model="alpha/fake-chat", messages=HI, stream=True
            )
            text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        else:
            answer = client(srv).chat.completions.create(model="alpha/fake-chat", messages=HI)
            text = answer.choices[0].message.content or ""
        assert text == "from beta"


def test_stream_broken_after_text_ends_with_an_error_event(srv: Served) -> None:
    srv.alpha.always(None, Behavior(text="one two three four", drop_after_chunks=2))
    srv.beta.always(None, Behavior(text="BETA TEXT"))
    seen: list[str] = []
    with pytest.raises(openai.APIError) as err:
        for c in client(srv).chat.completions.create(
            model="alpha/fake-chat", messages=HI, stream=True
        ):
            seen.append(c.choices[0].delta.content or "" if c.choices else "")
    shown = "".join(seen)
    assert shown and "one two three four".startswith(shown) and shown != "one two three four"
    assert "BETA" not in "".join(seen) and srv.beta.count("/chat/completions") == 0
    assert "stream broke after text" in str(err.value)


def test_legacy_completions_and_embeddings(srv: Served) -> None:
    done = client(srv).completions.create(model="alpha/fake-chat", prompt="say hi")
    assert done.choices[0].text == "Hello from fake"
    streamed = client(srv).completions.create(model="alpha/fake-chat", prompt="hi", stream=True)
    assert "".join(c.choices[0].text for c in streamed) == "Hello from fake"
    vectors = client(srv).embeddings.create(model="alpha/fake-embed", input=["a", "b"])
    assert len(vectors.data) == 2 and len(vectors.data[0].embedding) == 8  # base64 decoded
    floats = client(srv).embeddings.create(
        model="alpha/fake-embed", input="a", encoding_format="float"
    )
    assert floats.data[0].embedding == pytest.approx(vectors.data[0].embedding, rel=1e-6)


def test_provider_keys_never_reach_the_client(srv: Served) -> None:
    srv.alpha.always(None, Behavior(status=500, echo_auth=True))
    srv.beta.always(None, Behavior(status=503, echo_auth=True))
    with pytest.raises(openai.APIStatusError) as err:
        client(srv).chat.completions.create(model="alpha/fake-chat", messages=HI)
    text = json.dumps(err.value.body) + str(err.value.response.headers) + srv.server.stderr
    assert err.value.status_code == 503
    assert ALPHA_KEY not in text and BETA_KEY not in text
    assert err.value.body["code"] == "all_providers_failed"  # type: ignore[index]
