"""ProviderManager: adapters with resolved keys, sync targets, and the doctor overview."""

from __future__ import annotations

import pytest

from jarvis_cli.core.context import Context
from jarvis_cli.core.doctor import describe_providers
from jarvis_cli.core.errors import ExitCode, NoKeyError, UsageError
from jarvis_cli.core.providers.base import Message, RequestOptions
from jarvis_cli.core.providers.manager import ProviderManager
from jarvis_cli.core.registry.sync import sync_models
from jarvis_cli.core.store.config import save_raw
from jarvis_cli.core.vault.keys import KeyManager
from tests.fake_provider import FakeProvider

KEY = "sk-manager-test-0123456789"


def _manager(ctx: Context) -> ProviderManager:
    return ProviderManager(ctx, KeyManager(ctx))


def _configure(ctx: Context, providers: dict[str, dict[str, object]]) -> Context:
    save_raw(ctx.paths.config_file, {"providers": providers})
    return Context()


def test_adapter_uses_env_key_and_is_built_once(
    fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JARVIS_FAKEPROV_API_KEY", KEY)
    ctx = _configure(Context(), {"fakeprov": {"base_url": fake_provider.base_url}})
    manager = _manager(ctx)
    adapter = manager.adapter("fakeprov")
    assert manager.adapter("fakeprov") is adapter
    adapter.chat([Message("user", "hi")], "fake-chat", RequestOptions())
    assert fake_provider.requests[-1].headers["Authorization"] == f"Bearer {KEY}"


def test_missing_key_is_no_key_error_naming_env_vars_and_command() -> None:
    with pytest.raises(NoKeyError) as info:
        _manager(Context()).adapter("groq")
    err = info.value
    assert err.exit_code == ExitCode.AUTH
    assert err.message == "no key for provider 'groq'"
    assert err.hint is not None
    assert "jarvis keys add groq" in err.hint
    assert "JARVIS_GROQ_API_KEY" in err.hint and "GROQ_API_KEY" in err.hint


def test_keyless_provider_gets_an_adapter_without_key() -> None:
    adapter = _manager(Context()).adapter("ollama")
    assert adapter.name == "ollama"


def test_unknown_provider_is_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown provider 'nope'"):
        _manager(Context()).spec("nope")


def test_sync_targets_default_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MISTRAL_API_KEY", "mistral-key-123456")
    ctx = _configure(
        Context(),
        {
            "mine": {"base_url": "http://127.0.0.1:9/v1", "needs_key": False},
            "keyed": {"base_url": "http://127.0.0.1:9/v1"},  # configured but no key
        },
    )
    names = [s.name for s in _manager(ctx).sync_targets()]
    # ollama/vllm/lmstudio need no key but nobody configured them: not reached.
    assert names == ["mine", "mistral"]


def test_sync_targets_named_keep_order_and_reject_unknown() -> None:
    manager = _manager(Context())
    assert [s.name for s in manager.sync_targets(["groq", "openai", "groq"])] == ["groq", "openai"]
    with pytest.raises(UsageError):
        manager.sync_targets(["ghost"])


def test_sync_reports_progress_events(fake_provider: FakeProvider) -> None:
    ctx = _configure(
        Context(), {"fakeprov": {"base_url": fake_provider.base_url, "needs_key": False}}
    )
    events: list[tuple[str, str]] = []
    report = sync_models(_manager(ctx), on_progress=lambda n, e: events.append((n, e)))
    assert not report.failed
    assert events == [("fakeprov", "start"), ("fakeprov", "done")]


def test_describe_providers_never_creates_the_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROQ_API_KEY", "gsk-describe-123456")
    ctx = _configure(Context(), {"mine": {"base_url": "http://127.0.0.1:9/v1", "needs_key": False}})
    overview = describe_providers(ctx)
    assert [(p["name"], p["key_source"]) for p in overview] == [("groq", "env"), ("mine", None)]
    assert not ctx.paths.db_file.exists()
