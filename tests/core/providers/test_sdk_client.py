"""How SDK clients are built (issue 28): no CA bundle for plain HTTP, no `uname` subprocess."""

from __future__ import annotations

import importlib
import ssl
import sys
import threading
from collections.abc import Callable

import pytest

from jarvis_cli.core.providers import openai_compat
from jarvis_cli.core.providers.base import Message, RequestOptions
from jarvis_cli.core.providers.openai_compat import OpenAICompatAdapter
from jarvis_cli.core.providers.presets import ProviderSpec
from jarvis_cli.core.providers.sdk_client import context_for, on_fresh_stack, tls_context
from tests.fake_provider import FakeProvider


def test_plain_http_gets_a_context_that_verifies_but_trusts_no_ca() -> None:
    ctx = context_for("http://127.0.0.1:8000/v1", {})
    assert isinstance(ctx, ssl.SSLContext)
    # A redirect to https would fail verification, never go unverified.
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert ctx.cert_store_stats()["x509_ca"] == 0
    assert ctx is not tls_context()


@pytest.mark.parametrize(
    ("url", "env"),
    [
        ("https://api.openai.com/v1", {}),
        ("HTTPS://box.example/v1", {}),
        ("http://10.0.0.5:8000/v1", {"HTTPS_PROXY": "https://proxy.example:3128"}),
        ("http://10.0.0.5:8000/v1", {"http_proxy": "http://proxy.example:3128"}),
        ("http://10.0.0.5:8000/v1", {"ALL_PROXY": "socks5://proxy.example:1080"}),
    ],
)
def test_https_or_a_proxy_gets_the_ca_verifying_context(url: str, env: dict[str, str]) -> None:
    ctx = context_for(url, env)
    assert ctx is tls_context()
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert ctx.cert_store_stats()["x509_ca"] > 0


@pytest.mark.skipif(sys.platform != "linux", reason="the probe is skipped on Linux only")
def test_client_names_the_os_without_probing(fake_provider: FakeProvider) -> None:
    adapter = OpenAICompatAdapter(ProviderSpec("plain", fake_provider.base_url), None)
    result = adapter.chat([Message("user", "hi")], "fake-chat", RequestOptions())
    assert result.text
    assert fake_provider.requests[-1].headers["X-Stainless-OS"] == "Linux"


def _depth() -> int:
    frame, depth = sys._getframe(1), 0
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    return depth


def _deep(levels: int, fn: Callable[[], object]) -> object:
    return _deep(levels - 1, fn) if levels else fn()


def test_work_runs_on_a_fresh_stack_however_deep_the_caller() -> None:
    # Why: CPython frees a frame-stack chunk whenever the frame at its start returns; an
    # import tree run deep inside a command crossed a chunk's start thousands of times.
    ran = _deep(80, lambda: on_fresh_stack(lambda: (threading.current_thread().name, _depth())))
    assert isinstance(ran, tuple)
    thread, depth = ran
    assert thread != threading.current_thread().name
    assert depth < 10  # the thread's own frames, not the caller's 80


def test_an_error_on_the_fresh_stack_is_raised_to_the_caller() -> None:
    def broken() -> None:
        raise ValueError("broken at import")

    with pytest.raises(ValueError, match="broken at import"):
        on_fresh_stack(broken)
    with pytest.raises(ModuleNotFoundError):
        on_fresh_stack(lambda: importlib.import_module("jarvis_probe_missing"))


def test_the_client_and_its_chat_resource_are_built_on_a_fresh_stack_once(
    fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []

    def recording(fn: Callable[[], object]) -> object:
        def noted() -> object:
            threads.append(threading.current_thread().name)
            return fn()

        return on_fresh_stack(noted)

    monkeypatch.setattr(openai_compat, "on_fresh_stack", recording)
    adapter = OpenAICompatAdapter(ProviderSpec("plain", fake_provider.base_url), None)
    for _ in range(3):
        assert adapter.chat([Message("user", "hi")], "fake-chat", RequestOptions()).text
    # the chat resource, and the client inside it: then nothing more
    assert len(threads) == 2
    assert threading.current_thread().name not in threads
