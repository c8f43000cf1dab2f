"""OpenAICompatAdapter: the real openai SDK against the loopback fake provider."""

from __future__ import annotations

import socket

import pytest

from jarvis_cli.core.errors import (
    BadRequestError,
    BadResponseError,
    ContextTooLongError,
    ExitCode,
    ModelNotFoundError,
    ProviderAuthError,
    ProviderError,
    RateLimitedError,
    UnavailableError,
)
from jarvis_cli.core.providers.base import Message, RequestOptions
from jarvis_cli.core.providers.openai_compat import KEYLESS_PLACEHOLDER, OpenAICompatAdapter
from jarvis_cli.core.providers.presets import ProviderSpec
from tests.fake_provider import Behavior, FakeProvider

KEY = "sk-test-SECRETVALUE-0123456789"
OPTS = RequestOptions()
HI = [Message("user", "hi")]


@pytest.fixture
def keyed() -> FakeProvider:
    fake = FakeProvider(api_key=KEY).start()
    yield fake  # type: ignore[misc]
    fake.stop()


def _adapter(fake: FakeProvider, key: str | None = KEY, **kw: object) -> OpenAICompatAdapter:
    return OpenAICompatAdapter(ProviderSpec("fakeprov", fake.base_url, **kw), key)  # type: ignore[arg-type]


def _chat_error(
    fake: FakeProvider, behavior: Behavior, timeout_s: float | None = None
) -> ProviderError:
    fake.script("fake-chat", behavior)
    adapter = OpenAICompatAdapter(ProviderSpec("fakeprov", fake.base_url), KEY, timeout_s=timeout_s)
    with pytest.raises(ProviderError) as info:
        adapter.chat(HI, "fake-chat", OPTS)
    return info.value


def _assert_clean(err: ProviderError) -> None:
    text = f"{err.message} {err.hint or ''} {err.detail or ''}"
    assert KEY not in text
    assert "SECRETVALUE" not in text
    assert err.__cause__ is None and err.__suppress_context__


def test_chat_returns_text_usage_model_and_latency(keyed: FakeProvider) -> None:
    result = _adapter(keyed).chat(HI, "fake-chat", OPTS)
    assert result.text == "Hello from fake"
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (10, 5)
    assert result.usage.total_tokens == 15
    assert result.model == "fake-chat" and result.finish_reason == "stop"
    assert result.latency_ms > 0 and result.ttft_ms is None
    assert keyed.requests[-1].headers["Authorization"] == f"Bearer {KEY}"


def test_complete_and_embed(keyed: FakeProvider) -> None:
    adapter = _adapter(keyed)
    assert adapter.complete("p", "fake-chat", OPTS).text == "Hello from fake"
    emb = adapter.embed(["a", "b", "a"], "fake-embed", OPTS)
    assert len(emb.embeddings) == 3 and emb.embeddings[0] == emb.embeddings[2]
    assert emb.usage.prompt_tokens == 10


def test_request_options_are_sent(keyed: FakeProvider) -> None:
    _adapter(keyed).chat(HI, "fake-chat", RequestOptions(max_tokens=7, temperature=0.5))
    body = keyed.requests[-1].body
    assert body["max_tokens"] == 7 and body["temperature"] == 0.5


def test_streaming_chat_yields_incrementally_and_ttft_below_latency(keyed: FakeProvider) -> None:
    keyed.script("fake-chat", Behavior(chunks=["one ", "two ", "three"], chunk_delay_s=0.05))
    stream = _adapter(keyed).stream_chat(HI, "fake-chat", OPTS)
    seen = []
    for delta in stream:
        seen.append(delta)
        if len(seen) == 1:
            assert stream.result is None  # still streaming
    assert seen == ["one ", "two ", "three"]
    result = stream.result
    assert result is not None and result.text == "one two three"
    assert result.ttft_ms is not None and result.ttft_ms < result.latency_ms
    assert result.latency_ms - result.ttft_ms >= 80  # two 50 ms gaps after the first delta
    assert result.usage.total_tokens == 15
    assert keyed.requests[-1].body["stream_options"] == {"include_usage": True}


def test_stream_without_usage_is_tolerated(keyed: FakeProvider) -> None:
    keyed.script("fake-chat", Behavior(stream_usage=False))
    stream = _adapter(keyed).stream_chat(HI, "fake-chat", OPTS)
    assert "".join(stream) == "Hello from fake"
    assert stream.result is not None and stream.result.usage.total_tokens is None


def test_stream_dropped_midway_raises_unavailable_after_partial_text(keyed: FakeProvider) -> None:
    keyed.script("fake-chat", Behavior(chunks=["a", "b", "c", "d"], drop_after_chunks=3))
    stream = _adapter(keyed).stream_chat(HI, "fake-chat", OPTS)
    seen: list[str] = []
    with pytest.raises(UnavailableError) as info:
        seen.extend(stream)
    assert seen == ["a", "b"]
    assert info.value.message == "fakeprov: connection failed (connection dropped)"
    assert stream.result is None


def test_stream_malformed_event_is_bad_response(keyed: FakeProvider) -> None:
    keyed.script("fake-chat", Behavior(malformed=True))
    stream = _adapter(keyed).stream_chat(HI, "fake-chat", OPTS)
    with pytest.raises(BadResponseError):
        list(stream)


def test_stream_error_status_raises_before_any_text(keyed: FakeProvider) -> None:
    keyed.script("fake-chat", Behavior(status=503))
    with pytest.raises(UnavailableError):
        _adapter(keyed).stream_chat(HI, "fake-chat", OPTS)


@pytest.mark.parametrize("status", [401, 403])
def test_auth_errors_map_to_provider_auth_exit_5(keyed: FakeProvider, status: int) -> None:
    err = _chat_error(keyed, Behavior(status=status, echo_auth=True))
    assert isinstance(err, ProviderAuthError) and err.exit_code == ExitCode.AUTH
    assert err.message.startswith(f"fakeprov: HTTP {status} ")
    assert err.status_code == status
    _assert_clean(err)


def test_rate_limit_carries_retry_after(keyed: FakeProvider) -> None:
    err = _chat_error(keyed, Behavior(status=429, headers={"Retry-After": "2"}, echo_auth=True))
    assert isinstance(err, RateLimitedError) and err.exit_code == ExitCode.PROVIDER
    assert err.retry_after == 2.0
    assert err.message.startswith("fakeprov: HTTP 429 rate limited (retry after 2 s): fake error")
    _assert_clean(err)


def test_rate_limit_without_retry_after(keyed: FakeProvider) -> None:
    err = _chat_error(keyed, Behavior(status=429))
    assert isinstance(err, RateLimitedError) and err.retry_after is None
    assert err.message == "fakeprov: HTTP 429 rate limited: fake error 429"


def test_context_too_long_400(keyed: FakeProvider) -> None:
    msg = "This model's maximum context length is 8192 tokens. Please reduce the length."
    err = _chat_error(keyed, Behavior(status=400, error_message=msg, echo_auth=True))
    assert isinstance(err, ContextTooLongError) and err.exit_code == ExitCode.REJECTED
    assert "maximum context length is 8192" in err.message
    _assert_clean(err)


@pytest.mark.parametrize("status", [400, 422])
def test_other_400_and_422_are_bad_requests(keyed: FakeProvider, status: int) -> None:
    err = _chat_error(
        keyed, Behavior(status=status, error_message="temperature too high", echo_auth=True)
    )
    assert isinstance(err, BadRequestError) and not isinstance(err, ContextTooLongError)
    assert err.exit_code == ExitCode.REJECTED
    assert err.message.startswith(f"fakeprov: HTTP {status} request rejected: temperature too high")
    _assert_clean(err)


def test_404_is_model_not_found(keyed: FakeProvider) -> None:
    err = _chat_error(keyed, Behavior(status=404, echo_auth=True))
    assert isinstance(err, ModelNotFoundError) and err.exit_code == ExitCode.REJECTED
    _assert_clean(err)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_unavailable(keyed: FakeProvider, status: int) -> None:
    err = _chat_error(keyed, Behavior(status=status, echo_auth=True))
    assert isinstance(err, UnavailableError) and err.exit_code == ExitCode.PROVIDER
    # issue 27: the provider's own reason is shown (redacted), not hidden.
    assert err.message.startswith(f"fakeprov: HTTP {status} provider unavailable: fake error")
    assert "Authorization: [REDACTED]" in (err.detail or "")
    _assert_clean(err)


def test_5xx_saying_the_request_is_unsupported_is_rejected_with_the_reason(
    keyed: FakeProvider,
) -> None:
    # issue 27 item 2: llama-cpp-python answers an unsupported response_format with 500.
    reason = (
        "1 validation error: {'type': 'literal_error', 'loc': ('body', 'response_format', "
        "'type'), 'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema'}"
    )
    err = _chat_error(keyed, Behavior(status=500, error_message=reason, echo_auth=True))
    assert isinstance(err, BadRequestError) and err.exit_code == ExitCode.REJECTED
    assert not err.retryable
    assert err.message.startswith("fakeprov: HTTP 500 request rejected: 1 validation error")
    assert "Input should be 'text' or 'json_object'" in err.message
    assert err.detail is not None and err.detail.endswith("(received Authorization: [REDACTED]")
    _assert_clean(err)


def test_long_reason_is_cut_in_the_message_and_whole_in_detail(keyed: FakeProvider) -> None:
    reason = "overloaded " + "x" * 600 + " END"
    err = _chat_error(keyed, Behavior(status=503, error_message=reason))
    assert len(err.message) < 260 and err.message.endswith("…")
    assert err.detail == reason


def test_timeout_is_unavailable(keyed: FakeProvider) -> None:
    err = _chat_error(keyed, Behavior(delay_s=1.0), timeout_s=0.3)
    assert isinstance(err, UnavailableError)
    assert err.message == "fakeprov: request timed out"


def test_connection_refused_is_unavailable() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    adapter = OpenAICompatAdapter(ProviderSpec("down", f"http://127.0.0.1:{port}/v1"), KEY)
    with pytest.raises(UnavailableError) as info:
        adapter.list_models()
    assert info.value.message == "down: connection failed (connection refused)"


def test_malformed_json_is_bad_response(keyed: FakeProvider) -> None:
    err = _chat_error(keyed, Behavior(malformed=True))
    assert isinstance(err, BadResponseError) and err.exit_code == ExitCode.PROVIDER
    assert err.message == "fakeprov: malformed response"


def test_no_choices_is_bad_response(keyed: FakeProvider) -> None:
    err = _chat_error(keyed, Behavior(no_choices=True))
    assert isinstance(err, BadResponseError)
    assert err.message == "fakeprov: malformed response (no choices)"


def test_validate_key_accepts_right_key_and_rejects_wrong(keyed: FakeProvider) -> None:
    _adapter(keyed).validate_key()
    with pytest.raises(ProviderAuthError) as info:
        _adapter(keyed, key="sk-wrong-key-987654321").validate_key()
    assert info.value.exit_code == ExitCode.AUTH
    assert "sk-wrong-key-987654321" not in info.value.message


def test_validate_key_surfaces_other_failures(keyed: FakeProvider) -> None:
    keyed.script(None, Behavior(status=503))
    with pytest.raises(UnavailableError):
        _adapter(keyed).validate_key()


def test_list_models_returns_provider_ids(fake_provider: FakeProvider) -> None:
    fake_provider.set_models(["a-model", "b-embed"])
    infos = _adapter(fake_provider, key=None).list_models()
    assert [m.id for m in infos] == ["a-model", "b-embed"]
    assert all(m.context_length is None for m in infos)  # unknown stays unknown


def test_keyless_provider_sends_placeholder_and_spec_headers(fake_provider: FakeProvider) -> None:
    adapter = _adapter(fake_provider, key=None, needs_key=False, headers={"X-Title": "jarvis"})
    adapter.chat(HI, "fake-chat", OPTS)
    headers = fake_provider.requests[-1].headers
    assert headers["Authorization"] == f"Bearer {KEYLESS_PLACEHOLDER}"
    assert headers["X-Title"] == "jarvis"


def test_adapter_repr_never_shows_key(keyed: FakeProvider) -> None:
    assert KEY not in repr(_adapter(keyed))


def test_workers_starting_together_share_one_tls_context() -> None:
    # A batch's workers build their clients at the same moment; each building its own
    # context (~25 ms of CPU) cost seconds at --concurrency 128.
    import threading

    from jarvis_cli.core.providers import sdk_client

    sdk_client._new_tls_context.cache_clear()
    start = threading.Barrier(8)
    got: list[object] = []

    def build() -> None:
        start.wait()
        got.append(sdk_client.tls_context())

    threads = [threading.Thread(target=build) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(c) for c in got}) == 1
