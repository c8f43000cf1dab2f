"""The json_object dialect (core/providers/response_format.py): the real openai SDK
against the loopback fake provider playing llama-cpp-python's server."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from jarvis_cli.core.errors import BadRequestError
from jarvis_cli.core.providers.base import Message, RequestOptions
from jarvis_cli.core.providers.openai_compat import OpenAICompatAdapter
from jarvis_cli.core.providers.presets import ProviderSpec
from jarvis_cli.core.providers.response_format import as_json_object
from jarvis_cli.core.runs.structured import response_format
from tests.fake_provider import Behavior, FakeProvider

SCHEMA = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
OPTS = RequestOptions(response_format=response_format(SCHEMA, strict=False))
HI = [Message("user", "a number as JSON")]


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider(models=["llama-ish", "other"]) as server:
        yield server


def _adapter(fake: FakeProvider) -> OpenAICompatAdapter:
    return OpenAICompatAdapter(ProviderSpec("local", fake.base_url), "sk-unused")


def _sent(fake: FakeProvider, model: str) -> list[dict[str, object]]:
    return [r.body["response_format"] for r in fake.requests if r.model == model]


def test_a_refused_json_schema_goes_again_as_json_object_and_the_provider_keeps_it(
    fake: FakeProvider,
) -> None:
    fake.always("llama-ish", Behavior(json_object_only=True, schema_answer="valid"))
    adapter = _adapter(fake)
    first = adapter.chat(HI, "llama-ish", OPTS)
    second = adapter.chat(HI, "llama-ish", OPTS)
    assert isinstance(json.loads(first.text)["n"], int)
    assert isinstance(json.loads(second.text)["n"], int)
    # refused once, then the json_object dialect with the schema, for every later request
    assert _sent(fake, "llama-ish") == [
        OPTS.response_format,
        {"type": "json_object", "schema": SCHEMA},
        {"type": "json_object", "schema": SCHEMA},
    ]


def test_the_dialect_is_used_for_a_stream_too(fake: FakeProvider) -> None:
    fake.always("llama-ish", Behavior(json_object_only=True, schema_answer="valid"))
    stream = _adapter(fake).stream_chat(HI, "llama-ish", OPTS)
    text = "".join(stream)
    assert isinstance(json.loads(text)["n"], int)
    assert [f["type"] for f in _sent(fake, "llama-ish")] == ["json_schema", "json_object"]


def test_a_refusal_that_does_not_name_json_object_is_not_sent_again(fake: FakeProvider) -> None:
    fake.always("other", Behavior(status=400, error_message="json_schema: bad schema"))
    with pytest.raises(BadRequestError) as info:
        _adapter(fake).chat(HI, "other", OPTS)
    assert "bad schema" in info.value.message
    assert [f["type"] for f in _sent(fake, "other")] == ["json_schema"]


def test_as_json_object_keeps_the_schema_and_leaves_other_formats_alone() -> None:
    assert as_json_object(response_format(SCHEMA, strict=True)) == {
        "type": "json_object",
        "schema": SCHEMA,
    }
    assert as_json_object({"type": "text"}) == {"type": "text"}
