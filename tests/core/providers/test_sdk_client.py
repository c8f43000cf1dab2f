"""How SDK clients are built (issue 28): no CA bundle for plain HTTP, no `uname` subprocess."""

from __future__ import annotations

import ssl
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from jarvis_cli.core.providers import sdk_client
from jarvis_cli.core.providers.base import Message, RequestOptions
from jarvis_cli.core.providers.openai_compat import OpenAICompatAdapter
from jarvis_cli.core.providers.presets import ProviderSpec
from jarvis_cli.core.providers.sdk_client import context_for, import_on_fresh_stack, tls_context
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


# A module that notes, when imported, which thread imports it and how deep its stack is.
PROBE_MODULE = """
import sys, threading
frame, depth = sys._getframe(), 0
while frame is not None:
    depth, frame = depth + 1, frame.f_back
IMPORTED_BY = (threading.current_thread().name, depth)
"""


@pytest.fixture
def probe_dir(tmp_path: Path) -> Iterator[Path]:
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in [n for n in sys.modules if n.startswith("jarvis_probe_")]:
        del sys.modules[name]


def _deep(levels: int, fn: Callable[[], object]) -> None:
    if levels:
        _deep(levels - 1, fn)
    else:
        fn()


def test_a_module_is_imported_on_a_fresh_stack_however_deep_the_caller(probe_dir: Path) -> None:
    # Why: CPython frees a frame-stack chunk whenever the frame at its start returns; an
    # import tree run deep inside a command crossed a chunk's start thousands of times.
    (probe_dir / "jarvis_probe_a.py").write_text(PROBE_MODULE)
    (probe_dir / "jarvis_probe_b.py").write_text(PROBE_MODULE)
    _deep(80, lambda: import_on_fresh_stack("jarvis_probe_a", "jarvis_probe_b"))
    for name in ("jarvis_probe_a", "jarvis_probe_b"):
        thread, depth = sys.modules[name].IMPORTED_BY
        assert thread != threading.current_thread().name
        assert depth < 30  # the import machinery's frames, not the caller's 80


def test_an_imported_module_starts_no_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_thread(*args: object, **kwargs: object) -> None:
        raise AssertionError("a thread was started for a module already imported")

    monkeypatch.setattr(sdk_client.threading, "Thread", no_thread)
    import_on_fresh_stack("json", "ssl")


def test_an_import_error_is_raised_to_the_caller(probe_dir: Path) -> None:
    (probe_dir / "jarvis_probe_broken.py").write_text("raise ValueError('broken at import')\n")
    with pytest.raises(ValueError, match="broken at import"):
        import_on_fresh_stack("jarvis_probe_broken")
    assert "jarvis_probe_broken" not in sys.modules
    with pytest.raises(ModuleNotFoundError):
        import_on_fresh_stack("jarvis_probe_missing")
