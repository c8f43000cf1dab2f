"""How SDK clients are built (issue 28): no CA bundle for plain HTTP, no `uname` subprocess."""

from __future__ import annotations

import ssl
import sys

import pytest

from jarvis_cli.core.providers.base import Message, RequestOptions
from jarvis_cli.core.providers.openai_compat import OpenAICompatAdapter
from jarvis_cli.core.providers.presets import ProviderSpec
from jarvis_cli.core.providers.sdk_client import context_for, tls_context
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
