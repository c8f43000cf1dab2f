"""Sampling fields of a request reach the provider as the client sent them (chat,
streamed chat, legacy completions, and every fallback); fields jarvis cannot honour
are 400s naming the param, before any provider call. The official `openai` SDK over
HTTP to a real `jarvis serve`; the fake provider records each body it received."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from tests.fake_provider import Behavior
from tests.serve.conftest import Served

# One worker runs this module (--dist loadgroup): its module-scoped fixture starts once.
pytestmark = pytest.mark.xdist_group("serve_sampling")

HI = [{"role": "user", "content": "hi"}]
MODEL = "alpha/fake-chat"
SAMPLING: dict[str, Any] = {
    "temperature": 0,
    "top_p": 0.5,
    "seed": 7,
    "presence_penalty": 0.25,
    "frequency_penalty": -0.5,
    "logit_bias": {"50256": -100},
}


def client(srv: Served) -> openai.OpenAI:
    return openai.OpenAI(base_url=srv.url, api_key="unused", max_retries=0)


def _sent(body: dict[str, Any]) -> dict[str, Any]:
    return {k: body[k] for k in SAMPLING if k in body}


def test_sampling_fields_reach_the_provider_as_sent(srv: Served) -> None:
    c = client(srv)
    c.chat.completions.create(model=MODEL, messages=HI, user="end-user-1", **SAMPLING)
    body = srv.alpha.requests[-1].body
    assert _sent(body) == SAMPLING
    assert body["temperature"] == 0 and isinstance(body["temperature"], int | float)
    assert "user" not in body  # the client's end-user id stays with jarvis

    chunks = list(c.chat.completions.create(model=MODEL, messages=HI, stream=True, **SAMPLING))
    assert "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert _sent(srv.alpha.requests[-1].body) == SAMPLING

    c.completions.create(model=MODEL, prompt="say hi", **SAMPLING)
    sent = srv.alpha.requests[-1]
    assert sent.path.endswith("/completions") and "prompt" in sent.body
    assert _sent(sent.body) == SAMPLING


def test_a_fallback_is_sent_the_same_sampling(srv: Served) -> None:
    srv.alpha.always(None, Behavior(status=503, error_message="down"))
    answer = client(srv).chat.completions.create(model=MODEL, messages=HI, **SAMPLING)
    assert answer.model == "beta/fake-chat"
    assert _sent(srv.alpha.requests[-1].body) == SAMPLING
    assert _sent(srv.beta.requests[-1].body) == SAMPLING


def test_no_sampling_field_is_sent_when_the_client_sent_none(srv: Served) -> None:
    client(srv).chat.completions.create(model=MODEL, messages=HI)
    assert _sent(srv.alpha.requests[-1].body) == {}


@pytest.mark.parametrize(
    ("extra", "param", "said"),
    [
        ({"n": 2}, "n", "only n=1 is supported"),
        ({"logprobs": True}, "logprobs", "logprobs are not supported"),
        ({"top_logprobs": 2}, "top_logprobs", "logprobs are not supported"),
        ({"top_p": 1.5}, "top_p", "top_p must be from 0 to 1"),
        ({"presence_penalty": -2.5}, "presence_penalty", "presence_penalty must be from -2 to 2"),
        ({"frequency_penalty": 9}, "frequency_penalty", "frequency_penalty must be from -2 to 2"),
        ({"seed": 1.5}, "seed", "'seed' has the wrong type"),
        ({"logit_bias": {"x": 1}}, "logit_bias", "logit_bias maps token ids to -100..100"),
        ({"logit_bias": {"5": 101}}, "logit_bias", "logit_bias maps token ids to -100..100"),
        ({"modalities": ["text", "audio"]}, "modalities", "only text output is supported"),
    ],
)
def test_chat_fields_jarvis_cannot_honour_are_400s_naming_the_param(
    srv: Served, extra: dict[str, Any], param: str, said: str
) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        client(srv).chat.completions.create(model=MODEL, messages=HI, **extra)
    assert err.value.status_code == 400
    assert err.value.body["param"] == param  # type: ignore[index]
    assert said in err.value.body["message"]  # type: ignore[index]
    assert srv.alpha.count() == 0  # refused before any provider call


@pytest.mark.parametrize(
    ("extra", "param", "said"),
    [
        ({"best_of": 3}, "best_of", "only best_of=1 is supported"),
        ({"echo": True}, "echo", "echo is not supported"),
        ({"logprobs": 2}, "logprobs", "logprobs are not supported"),
    ],
)
def test_completion_fields_jarvis_cannot_honour_are_400s_naming_the_param(
    srv: Served, extra: dict[str, Any], param: str, said: str
) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        client(srv).completions.create(model=MODEL, prompt="hi", **extra)
    assert err.value.body["param"] == param  # type: ignore[index]
    assert said in err.value.body["message"]  # type: ignore[index]
    assert srv.alpha.count() == 0
